-- A report cannot be filed before the entity became aware (NIS2-REFERENCE 1.5 guard rails);
-- such a row means the register's timestamps are wrong and the deadline evidence is unreliable.
{{ config(severity='warn') }}
select
    deadline_id,
    anchor_at,
    submitted_at
from {{ ref('mart_nis2_reporting_deadlines') }}
where submitted_before_anchor
