-- Every record a source offered that staging left out or kept with a field nulled, one row per
-- record and field, from the four sources' rejects models (interface: transform/README.md,
-- "Quarantine"). A view: the rejects tables are small and already built.
{{ config(materialized='view') }}

{%- set models = [
    'stg_didit__audit_logs_rejects', 'stg_wazuh__alerts_rejects',
    'stg_keycloak__events_rejects', 'stg_incidents__incident_register_rejects',
] %}
{%- for model in models %}
    select
        source,
        stream,
        record_key,
        field,
        reason,
        raw_value,
        action,
        loaded_at
    from {{ ref(model) }}
    {% if not loop.last %}union all{% endif %}
{%- endfor %}
