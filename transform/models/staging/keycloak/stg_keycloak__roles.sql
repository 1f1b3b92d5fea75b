with source as (
    select to_jsonb(s) as rec, s._sdc_batched_at
    from {{ source('keycloak', 'keycloak_role') }} as s
),

latest as (
    select
        *,
        row_number() over (partition by rec ->> 'id' order by _sdc_batched_at desc)
            as version_rank
    from source
)

select
    rec ->> 'id' as role_id,
    rec ->> 'name' as role_name,
    rec ->> 'realm_id' as realm_id,
    coalesce(cast(rec ->> 'client_role' as boolean), false) as is_client_role,
    rec ->> 'client' as client_id,
    {{ parse_utc('_sdc_batched_at') }} as loaded_at
from latest
where version_rank = 1
