-- Every expected log source has a coverage row for every day of the period, even days without
-- events, so a silent source can never disappear from the evidence (NIS2-REFERENCE 6.5).
with days as (select distinct day from {{ ref('mart_nis2_log_source_coverage') }})
select
    x.asset_id,
    d.day
from {{ ref('expected_log_sources') }} as x
cross join days as d
left join {{ ref('mart_nis2_log_source_coverage') }} as c
    on x.asset_id = c.asset_id and d.day = c.day
where c.coverage_id is null
