-- Every logged security event across sources, one row each, with the row hash used for
-- integrity evidence (Annex 3.2.3, 3.2.5, 3.2.6). asset_id matches seed expected_log_sources.
-- A view, not a table: copying 2.6M rows and indexing them took about a fifth of a full build
-- at 2M audit-log entries, and the models that read it (coverage, gaps, integrity) either
-- read everything on a full build or, incrementally, only rows loaded after their watermark:
-- PostgreSQL pushes that filter, and event-time ranges, into each branch, where the staging
-- tables' BRIN index on loaded_at and btree index on event_ts answer it.
{{ config(materialized='view') }}

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
    {% if not loop.last %}union all{% endif %}
{% endfor %}
