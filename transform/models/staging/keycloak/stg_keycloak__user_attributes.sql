{{ latest_version(source('keycloak', 'user_attribute'), 'id') }}

select
    cast(id as text) as user_attribute_id,
    cast(user_id as text) as user_id,
    cast(name as text) as attribute_name,
    cast(value as text) as attribute_value,
    {{ parse_utc('_sdc_batched_at') }} as loaded_at
from latest
where version_rank = 1
