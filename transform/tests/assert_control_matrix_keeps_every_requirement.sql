-- The control-evidence matrix never drops a requirement (Prowler #4886 lesson) and never turns
-- a requirement without evidence into a pass (claudesec lesson): NIS2-REFERENCE 6.4 M17.
with months as (select distinct month from {{ ref('mart_nis2_control_evidence_matrix') }})
select
    r.ref_id,
    m.month,
    'missing' as problem
from {{ ref('nis2_annex_requirements') }} as r
cross join months as m
left join {{ ref('mart_nis2_control_evidence_matrix') }} as x
    on r.ref_id = x.ref_id and m.month = x.month
where x.ref_id is null
union all
select
    ref_id,
    month,
    'pass without evidence'
from {{ ref('mart_nis2_control_evidence_matrix') }}
where status = 'pass' and (metric_value is null or evidence_rows = 0)
