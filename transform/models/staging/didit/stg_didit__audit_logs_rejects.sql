-- Didit Console audit-log entries with a field staging could not type, one row per entry and
-- field (interface: transform/README.md, "Quarantine"). Incremental: reads the entries loaded
-- since its last build.
{{ rejects_config([['didit', 'audit_logs', 'uuid']]) }}
{%- set raw = source('didit', 'audit_logs') %}
{{ quarantine_rejects('didit', 'audit_logs', raw, 'uuid', didit_audit_log_quarantine(raw).checks) }}
