with source as (
    select * from {{ source('keycloak', 'user_attribute') }}
),

latest as (
    select
        *,
        row_number() over (partition by id order by _sdc_batched_at desc) as version_rank
    from source
)

select
    cast(id as text) as user_attribute_id,
    cast(user_id as text) as user_id,
    cast(name as text) as attribute_name,
    cast(value as text) as attribute_value,
    {{ parse_utc('_sdc_batched_at') }} as loaded_at
from latest
where version_rank = 1
