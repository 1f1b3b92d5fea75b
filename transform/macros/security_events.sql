{#- The log sources behind int_security_events_unified, one place for the view and for the
    models that read it one asset at a time. asset_id is a constant for every part but Wazuh,
    whose assets are its agents. -#}

{% macro security_event_parts() %}
    {{ return([
        {'source_system': 'didit', 'asset_id': "'didit.audit_logs'", 'model': 'stg_didit__audit_logs',
         'id': 'audit_log_id', 'ts': 'event_ts', 'principal': 'lower(coalesce(actor, api_key_name))',
         'ip': 'ip_address'},
        {'source_system': 'didit', 'asset_id': "'didit.session_reviews'",
         'model': 'stg_didit__session_reviews', 'id': 'review_id', 'ts': 'created_at',
         'principal': 'coalesce(actor_email, lower(actor_display))', 'ip': 'cast(null as text)'},
        {'source_system': 'wazuh', 'asset_id': "coalesce(agent_name, 'unknown')",
         'model': 'stg_wazuh__alerts', 'id': 'alert_id', 'ts': 'event_ts',
         'principal': 'coalesce(src_user, dst_user)', 'ip': 'src_ip'},
        {'source_system': 'keycloak', 'asset_id': "'keycloak.events'", 'model': 'stg_keycloak__events',
         'id': 'event_id', 'ts': 'event_ts', 'principal': 'user_id', 'ip': 'ip_address'},
        {'source_system': 'keycloak', 'asset_id': "'keycloak.admin_events'",
         'model': 'stg_keycloak__admin_events', 'id': 'admin_event_id', 'ts': 'event_ts',
         'principal': 'auth_user_id', 'ip': 'ip_address'},
    ]) }}
{% endmacro %}

{% macro security_event_assets() %}
    {#- Every (source_system, asset_id) that has events: a constant asset when its model has
        a row, and the distinct Wazuh agents -#}
    {%- for p in security_event_parts() %}
        {%- if p.asset_id.startswith("'") %}
    select
        '{{ p.source_system }}' as source_system,
        {{ p.asset_id }} as asset_id
    where exists (select 1 from {{ ref(p.model) }})
        {%- else %}
    select distinct
        '{{ p.source_system }}' as source_system,
        {{ p.asset_id }} as asset_id
    from {{ ref(p.model) }}
        {%- endif %}
    {% if not loop.last %}union all{% endif %}
    {%- endfor %}
{% endmacro %}
