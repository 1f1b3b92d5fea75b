-- Keycloak's user_role_mapping has no id: the key is (user_id, role_id).
{{ latest_version(
    source('keycloak', 'user_role_mapping'), 'user_id, role_id', key_columns=['user_id', 'role_id']
) }}

select
    cast(user_id as text) || ':' || cast(role_id as text) as role_mapping_id,
    cast(user_id as text) as user_id,
    cast(role_id as text) as role_id,
    {{ parse_utc('_sdc_batched_at') }} as loaded_at
from latest
where version_rank = 1 and _sdc_deleted_at is null
