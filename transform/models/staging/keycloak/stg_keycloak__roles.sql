{{ latest_version(source('keycloak', 'keycloak_role'), "rec ->> 'id'", as_json=true, key_columns=['id']) }}

select
    rec ->> 'id' as role_id,
    rec ->> 'name' as role_name,
    rec ->> 'realm_id' as realm_id,
    coalesce(cast(rec ->> 'client_role' as boolean), false) as is_client_role,
    rec ->> 'client' as client_id,
    {{ parse_utc('_sdc_batched_at') }} as loaded_at
from latest
where version_rank = 1
