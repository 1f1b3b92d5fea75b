-- Keycloak admin events. An event whose id or admin_event_time cannot be typed is left out;
-- both cases and unreadable JSON are listed in stg_keycloak__events_rejects.
{{ event_fact_config('admin_event_id', 'keycloak', 'admin_event_entity') }}
{%- set q = keycloak_admin_event_quarantine(source('keycloak', 'admin_event_entity')) %}
{{ latest_version(source('keycloak', 'admin_event_entity'), 'id', incremental=true) }}

select
    cast(id as text) as admin_event_id,
    {{ q.event_ts }} as event_ts,
    upper(cast(operation_type as text)) as operation_type,
    upper(cast(resource_type as text)) as resource_type,
    cast(resource_path as text) as resource_path,
    -- the user an admin event acts on: 'users/<id>' or 'users/<id>/...' (null otherwise)
    substring(cast(resource_path as text) from '^users/([^/]+)') as target_user_id,
    cast(realm_id as text) as realm_id,
    cast(auth_realm_id as text) as auth_realm_id,
    cast(auth_client_id as text) as auth_client_id,
    cast(auth_user_id as text) as auth_user_id,
    cast(ip_address as text) as ip_address,
    cast(error as text) as error,
    -- null (representation) or '{}' (details) when absent or not valid JSON
    {{ q.representation }} as representation,
    {{ q.details }} as details,
    {{ keycloak_admin_event_row_hash() }} as row_hash,
    {{ column_to_utc(source('keycloak', 'admin_event_entity'), '_sdc_batched_at') }} as loaded_at,
    _sdc_batched_at
from latest
where version_rank = 1 and {{ quarantine_kept(q.checks) }}
