-- Keycloak's user_role_mapping has no id: the key is (user_id, role_id).
with source as (
    select * from {{ source('keycloak', 'user_role_mapping') }}
    where _sdc_deleted_at is null
),

latest as (
    select
        *,
        row_number() over (
            partition by user_id, role_id order by _sdc_batched_at desc
        ) as version_rank
    from source
)

select
    cast(user_id as text) || ':' || cast(role_id as text) as role_mapping_id,
    cast(user_id as text) as user_id,
    cast(role_id as text) as role_id,
    {{ parse_utc('_sdc_batched_at') }} as loaded_at
from latest
where version_rank = 1
