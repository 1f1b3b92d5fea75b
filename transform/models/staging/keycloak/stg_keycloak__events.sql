-- Keycloak user events. An event whose id or event_time cannot be typed is left out; both
-- cases and unreadable details are listed in stg_keycloak__events_rejects.
{{ event_fact_config('event_id', 'keycloak', 'event_entity') }}
{%- set q = keycloak_event_quarantine(source('keycloak', 'event_entity')) %}
{{ latest_version(source('keycloak', 'event_entity'), 'id', incremental=true) }}

select
    cast(id as text) as event_id,
    {{ q.event_ts }} as event_ts,
    upper(cast(type as text)) as event_type,
    cast(user_id as text) as user_id,
    cast(realm_id as text) as realm_id,
    cast(client_id as text) as client_id,
    cast(session_id as text) as session_id,
    cast(ip_address as text) as ip_address,
    cast(error as text) as error,
    -- details_json_long_value when Keycloak wrote the details there, else details_json; '{}'
    -- when absent or not valid JSON (then named in stg_keycloak__events_rejects)
    {{ q.details }} as details,
    {{ keycloak_event_row_hash() }} as row_hash,
    {{ column_to_utc(source('keycloak', 'event_entity'), '_sdc_batched_at') }} as loaded_at,
    _sdc_batched_at
from latest
where version_rank = 1 and {{ quarantine_kept(q.checks) }}
