{{ event_fact_config('event_id', 'keycloak', 'event_entity') }}
{{ latest_version(source('keycloak', 'event_entity'), 'id', incremental=true) }}

select
    cast(id as text) as event_id,
    {{ epoch_ms_to_utc('event_time') }} as event_ts,
    upper(cast(type as text)) as event_type,
    cast(user_id as text) as user_id,
    cast(realm_id as text) as realm_id,
    cast(client_id as text) as client_id,
    cast(session_id as text) as session_id,
    cast(ip_address as text) as ip_address,
    cast(error as text) as error,
    case
        when details_json is null or trim(cast(details_json as text)) = '' then cast('{}' as jsonb)
        else cast(cast(details_json as text) as jsonb)
    end as details,
    {{ keycloak_event_row_hash() }} as row_hash,
    {{ column_to_utc(source('keycloak', 'event_entity'), '_sdc_batched_at') }} as loaded_at,
    _sdc_batched_at
from latest
where version_rank = 1
