-- Wazuh alerts with a field staging could not type, one row per alert and field (interface:
-- transform/README.md, "Quarantine"). Incremental: reads the alerts loaded since its last build.
{{ rejects_config([['wazuh', 'wazuh_alerts', 'id']]) }}
{%- set raw = source('wazuh', 'wazuh_alerts') %}
{{ quarantine_rejects(
    'wazuh', 'wazuh_alerts', raw, 'id', wazuh_alert_quarantine(wazuh_alert_fields(raw)).checks
) }}
