{#- Canonical SHA-256 of one raw log row, computed from the loader's columns so that the
    same value can be recomputed from the raw tables later (Annex 3.2.5 integrity). -#}

{% macro sha256_hex(parts) -%}
    encode(sha256(convert_to(concat_ws('|'
    {%- for part in parts %}, coalesce(cast({{ part }} as text), '')
    {%- endfor %}), 'UTF8')), 'hex')
{%- endmacro %}

{% macro didit_audit_row_hash() -%}
    {{ sha256_hex(['uuid', '"timestamp"', 'actor_type', 'actor', 'method', 'path',
                   'status_code', 'ip_address', 'country', 'application_id']) }}
{%- endmacro %}

{% macro didit_review_row_hash() -%}
    {{ sha256_hex(['uuid', 'session_id', 'activity_type', 'actor_email', 'actor_type',
                   'new_status', 'previous_status', 'created_at']) }}
{%- endmacro %}

{% macro wazuh_alert_row_hash(f) -%}
    {#- f: the fields from wazuh_alert_fields(), as tap-jsonl's columns follow the data it has
        seen; the same text as when the row was read as jsonb -#}
    {{ sha256_hex([f['id'], f['timestamp'], f['rule'], f['agent'], f['data'], f['location']]) }}
{%- endmacro %}

{% macro keycloak_event_row_hash() -%}
    {{ sha256_hex(['id', 'event_time', 'type', 'user_id', 'ip_address', 'error',
                   'realm_id', 'client_id', 'session_id']) }}
{%- endmacro %}

{% macro keycloak_admin_event_row_hash() -%}
    {{ sha256_hex(['id', 'admin_event_time', 'operation_type', 'resource_type',
                   'resource_path', 'auth_user_id', 'ip_address', 'representation', 'error']) }}
{%- endmacro %}
