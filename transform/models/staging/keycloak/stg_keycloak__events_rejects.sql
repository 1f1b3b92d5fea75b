-- Keycloak user and admin events with a field staging could not type, one row per event and
-- field (interface: transform/README.md, "Quarantine"); stream tells the two tables apart.
-- Incremental: reads the events loaded since its last build, per table.
{{ rejects_config([
    ['keycloak', 'event_entity', 'id'], ['keycloak', 'admin_event_entity', 'id']
]) }}
{%- set events = source('keycloak', 'event_entity') %}
{%- set admin_events = source('keycloak', 'admin_event_entity') %}
{{ quarantine_rejects(
    'keycloak', 'event_entity', events, 'id', keycloak_event_quarantine(events).checks
) }}
union all
{{ quarantine_rejects(
    'keycloak', 'admin_event_entity', admin_events, 'id',
    keycloak_admin_event_quarantine(admin_events).checks
) }}
