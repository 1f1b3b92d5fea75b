{{ latest_version(source('keycloak', 'user_entity'), "rec ->> 'id'", as_json=true, key_columns=['id']) }}

select
    rec ->> 'id' as user_id,
    rec ->> 'realm_id' as realm_id,
    lower(rec ->> 'username') as username,
    lower(rec ->> 'email') as email,
    coalesce(cast(rec ->> 'enabled' as boolean), false) as is_enabled,
    rec ->> 'service_account_client_link' is not null as is_service_account,
    {{ epoch_ms_to_utc("rec ->> 'created_timestamp'") }} as created_at,
    {{ parse_utc('_sdc_batched_at') }} as loaded_at
from latest
where version_rank = 1
