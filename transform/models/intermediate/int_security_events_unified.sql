-- Every logged security event across sources, one row each, with the row hash used for
-- integrity evidence (Annex 3.2.3, 3.2.5, 3.2.6). asset_id matches seed expected_log_sources.
{{ config(
    materialized='incremental',
    unique_key='event_key',
    incremental_strategy='delete+insert',
    indexes=[
        {'columns': ['event_key'], 'unique': True},
        {'columns': ['asset_id', 'event_ts']},
    ]
) }}

{% set parts = [
    ('didit.audit_logs', 'stg_didit__audit_logs', 'audit_log_id',
     "lower(coalesce(actor, api_key_name))", 'ip_address'),
    ('didit.session_reviews', 'stg_didit__session_reviews', 'review_id',
     "coalesce(actor_email, lower(actor_display))", 'cast(null as text)'),
    ('wazuh.alerts', 'stg_wazuh__alerts', 'alert_id', 'coalesce(src_user, dst_user)', 'src_ip'),
    ('keycloak.events', 'stg_keycloak__events', 'event_id', 'user_id', 'ip_address'),
    ('keycloak.admin_events', 'stg_keycloak__admin_events', 'admin_event_id', 'auth_user_id',
     'ip_address'),
] %}

{% for asset_id, model, id_column, principal, ip in parts %}
select
    '{{ asset_id }}:' || {{ id_column }} as event_key,
    '{{ asset_id.split(".")[0] }}' as source_system,
    '{{ asset_id }}' as asset_id,
    {{ id_column }} as event_id,
    {% if model == 'stg_didit__session_reviews' %}created_at{% else %}event_ts{% endif %}
        as event_ts,
    loaded_at,
    row_hash,
    {{ principal }} as principal,
    {{ ip }} as src_ip
from {{ ref(model) }}
{% if is_incremental() %}
where loaded_at >= (
    select coalesce(max(loaded_at), '-infinity'::timestamptz) from {{ this }}
    where asset_id = '{{ asset_id }}'
)
{% endif %}
{% if not loop.last %}union all{% endif %}
{% endfor %}
