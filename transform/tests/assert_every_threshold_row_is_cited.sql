-- Every regulatory and policy number must carry its legal or policy source (NIS2-REFERENCE 6.5).
select
    'nis2_thresholds' as seed,
    threshold_code as code
from {{ ref('nis2_thresholds') }}
where nullif(trim(source_citation), '') is null
union all
select
    'detection_policy',
    policy_code
from {{ ref('detection_policy') }}
where nullif(trim(source_citation), '') is null or binding != 'internal_policy'
union all
select
    'expected_log_sources',
    asset_id
from {{ ref('expected_log_sources') }}
where nullif(trim(source_citation), '') is null
union all
select
    'nis2_annex_requirements',
    ref_id
from {{ ref('nis2_annex_requirements') }}
where nullif(trim(source_citation), '') is null
union all
select
    'privileged_roles',
    role_name
from {{ ref('privileged_roles') }}
where nullif(trim(source_citation), '') is null
union all
select
    'admin_paths',
    path_pattern
from {{ ref('admin_paths') }}
where nullif(trim(source_citation), '') is null
union all
select
    'public_holidays',
    cast(holiday_date as text)
from {{ ref('public_holidays') }}
where nullif(trim(source_citation), '') is null
union all
select
    'nis2_entity_profile',
    entity_id
from {{ ref('nis2_entity_profile') }}
where nullif(trim(source_citation), '') is null
