-- Every logged security event across sources, one row each, with the row hash used for
-- integrity evidence (Annex 3.2.3, 3.2.5, 3.2.6). asset_id matches seed expected_log_sources.
{{ config(
    materialized='incremental',
    on_schema_change='append_new_columns',
    unique_key='event_key',
    incremental_strategy='delete+insert',
    indexes=[
        {'columns': ['event_key'], 'unique': True},
        {'columns': ['asset_id', 'event_ts']},
        {'columns': ['loaded_at'], 'type': 'brin'},
    ],
    pre_hook=["{{ reset_watermark_on_full_build() }}"],
    post_hook=[
        "{% for m in ['stg_didit__audit_logs', 'stg_didit__session_reviews', 'stg_wazuh__alerts',
            'stg_keycloak__events', 'stg_keycloak__admin_events'] %}
        {{ save_watermark(ref(m), name=this.identifier ~ ':' ~ m) }};
        {% endfor %}"
    ]
) }}
-- How far each input was read is kept per input (a watermark, see macros/incremental.sql):
-- sources load at different times, and no index on this table is needed to find it.

{% set parts = [
    ('didit', "'didit.audit_logs'", 'stg_didit__audit_logs', 'audit_log_id', 'event_ts',
     "lower(coalesce(actor, api_key_name))", 'ip_address'),
    ('didit', "'didit.session_reviews'", 'stg_didit__session_reviews', 'review_id', 'created_at',
     "coalesce(actor_email, lower(actor_display))", 'cast(null as text)'),
    ('wazuh', "coalesce(agent_name, 'unknown')", 'stg_wazuh__alerts', 'alert_id',
     'event_ts', 'coalesce(src_user, dst_user)', 'src_ip'),
    ('keycloak', "'keycloak.events'", 'stg_keycloak__events', 'event_id', 'event_ts', 'user_id',
     'ip_address'),
    ('keycloak', "'keycloak.admin_events'", 'stg_keycloak__admin_events', 'admin_event_id',
     'event_ts', 'auth_user_id', 'ip_address'),
] %}

{% for source_system, asset_id, model, id_column, ts_column, principal, ip in parts %}
    select
        '{{ model }}:' || {{ id_column }} as event_key,
        '{{ model }}' as source_model,
        '{{ source_system }}' as source_system,
        {{ asset_id }} as asset_id,
        {{ id_column }} as event_id,
        {{ ts_column }} as event_ts,
        cast({{ ts_column }} at time zone 'UTC' as date) as event_date,
        loaded_at,
        row_hash,
        {{ principal }} as principal,
        {{ ip }} as src_ip
    from {{ ref(model) }}
    {% if is_incremental() %}
        where {{ loaded_after_watermark('loaded_at', this.identifier ~ ':' ~ model) }}
    {% endif %}
    {% if not loop.last %}union all{% endif %}
{% endfor %}
