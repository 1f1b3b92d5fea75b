{#- What staging types in each source's records, as quarantine checks (macros/quarantine.sql).
    One place for the staging model, its rejects model and the log-integrity verification, so
    the three agree on which records are left out. The rule: a record is 'rejected' when it
    cannot be placed (its key or its event time is missing or cannot be typed); any other field
    that cannot be typed is 'field_nulled' (null in staging, or '{}' for Keycloak details), and
    the record keeps flowing. A field that is absent is null, as before, and not a reject. -#}

{% macro present_key(expr) -%}
    (nullif(trim({{ expr }}), '') is not null)
{%- endmacro %}

{#- Wazuh alert JSON (f: wazuh_alert_fields): id and timestamp place an alert; rule.level,
    rule.groups, rule.mitre.id and the objects rule, agent, data, decoder are typed. -#}
{% macro wazuh_alert_quarantine(f) %}
    {%- set ts = q_timestamp(f['timestamp'], 'text') -%}
    {%- set level = q_integer(f['rule'] ~ " ->> 'level'", 'text') -%}
    {%- set groups = f['rule'] ~ " -> 'groups'" -%}
    {%- set mitre_ids = f['rule'] ~ " -> 'mitre' -> 'id'" -%}
    {%- set checks = [
        q_check('id', present_key(f['id']), 'missing or empty', 'rejected'),
        q_check('id', 'coalesce(left(trim(' ~ f['id'] ~ "), 1) not in ('{', '['), true)",
                'not a string', 'rejected'),
        q_check('timestamp', ts.present, 'missing', 'rejected'),
        q_check('timestamp', ts.ok, 'not an ISO 8601 timestamp', 'rejected', ts.text),
        q_check('rule', q_json_shape(f['rule'], 'object'), 'not a JSON object', 'field_nulled'),
        q_check('rule.level', level.ok, 'not an integer', 'field_nulled', level.text),
        q_check('rule.groups', q_json_shape(groups, 'array'), 'not a JSON array', 'field_nulled',
                'cast(' ~ groups ~ ' as text)'),
        q_check('rule.mitre.id', q_json_shape(mitre_ids, 'array'), 'not a JSON array',
                'field_nulled', 'cast(' ~ mitre_ids ~ ' as text)'),
        q_check('agent', q_json_shape(f['agent'], 'object'), 'not a JSON object', 'field_nulled'),
        q_check('data', q_json_shape(f['data'], 'object'), 'not a JSON object', 'field_nulled'),
        q_check('decoder', q_json_shape(f['decoder'], 'object'), 'not a JSON object',
                'field_nulled'),
    ] -%}
    {{ return({
        'checks': checks,
        'event_ts': ts.value,
        'rule_level': level.value,
        'rule_groups': 'case when ' ~ q_json_shape(groups, 'array') ~ ' then coalesce(' ~ groups
            ~ ", cast('[]' as jsonb)) end",
        'mitre_ids': 'case when ' ~ q_json_shape(mitre_ids, 'array') ~ ' then coalesce('
            ~ mitre_ids ~ ", cast('[]' as jsonb)) end",
    }) }}
{% endmacro %}

{#- Keycloak event_entity: id and event_time (epoch ms) place an event. Details are
    details_json_long_value when it is there and not blank (Keycloak writes long details
    there), else details_json; not valid JSON gives '{}' and a field_nulled reject. The long
    column may be missing (older Keycloak: tap-postgres copies the columns that exist). -#}
{% macro keycloak_event_quarantine(relation) %}
    {%- set t = q_epoch_ms('event_time', raw_column_type(relation, 'event_time', 'bigint')) -%}
    {%- set raw = raw_fields(relation, text_fields=['details_json', 'details_json_long_value'],
                             json_fields=[]) -%}
    {%- set long = q_json(raw['details_json_long_value'], 'text') -%}
    {%- set short = q_json(raw['details_json'], 'text') -%}
    {{ return({
        'checks': [
            q_check('id', present_key('cast(id as text)'), 'missing or empty', 'rejected'),
            q_check('event_time', t.present, 'missing', 'rejected'),
            q_check('event_time', t.ok, 'not epoch milliseconds between 1970 and 9999',
                    'rejected', t.text),
            q_check('details_json_long_value', long.ok, 'not valid JSON', 'field_nulled'),
            q_check('details_json', '(' ~ long.present ~ ' or ' ~ short.ok ~ ')',
                    'not valid JSON', 'field_nulled'),
        ],
        'event_ts': t.value,
        'details': 'coalesce(case when ' ~ long.present ~ ' then ' ~ long.value ~ ' else '
            ~ short.value ~ " end, cast('{}' as jsonb))",
    }) }}
{% endmacro %}

{#- Keycloak admin_event_entity: id and admin_event_time place an event; representation (null
    when not valid JSON) and details_json ('{}' when not valid JSON, column optional). -#}
{% macro keycloak_admin_event_quarantine(relation) %}
    {%- set t = q_epoch_ms('admin_event_time',
                           raw_column_type(relation, 'admin_event_time', 'bigint')) -%}
    {%- set raw = raw_fields(relation, text_fields=['details_json'], json_fields=[]) -%}
    {%- set rep = q_json('representation', raw_column_type(relation, 'representation', 'text')) -%}
    {%- set details = q_json(raw['details_json'], 'text') -%}
    {{ return({
        'checks': [
            q_check('id', present_key('cast(id as text)'), 'missing or empty', 'rejected'),
            q_check('admin_event_time', t.present, 'missing', 'rejected'),
            q_check('admin_event_time', t.ok, 'not epoch milliseconds between 1970 and 9999',
                    'rejected', t.text),
            q_check('representation', rep.ok, 'not valid JSON', 'field_nulled'),
            q_check('details_json', details.ok, 'not valid JSON', 'field_nulled'),
        ],
        'event_ts': t.value,
        'representation': rep.value,
        'details': 'coalesce(' ~ details.value ~ ", cast('{}' as jsonb))",
    }) }}
{% endmacro %}

{#- Didit Console audit log: uuid and timestamp place an entry; status_code and request_body
    are typed. tap-didit's loader types timestamp, status_code and request_body already
    (timestamp, bigint, jsonb): then only a missing timestamp or a status code beyond an
    integer is checked, two comparisons per row on the largest table. -#}
{% macro didit_audit_log_quarantine(relation) %}
    {%- set ts = q_timestamp('"timestamp"',
                             raw_column_type(relation, 'timestamp', 'timestamp without time zone')) -%}
    {%- set status = q_integer('status_code', raw_column_type(relation, 'status_code', 'bigint')) -%}
    {%- set body = q_json('request_body', raw_column_type(relation, 'request_body', 'jsonb')) -%}
    {{ return({
        'checks': [
            q_check('uuid', "(nullif(cast(uuid as text), '') is not null)", 'missing or empty',
                    'rejected'),
            q_check('timestamp', ts.present, 'missing', 'rejected'),
            q_check('timestamp', ts.ok, 'not an ISO 8601 timestamp', 'rejected', ts.text),
            q_check('status_code', status.ok, 'not an integer', 'field_nulled', status.text),
            q_check('request_body', body.ok, 'not valid JSON', 'field_nulled'),
        ],
        'event_ts': ts.value,
        'status_code': status.value,
        'request_body': body.value,
    }) }}
{% endmacro %}

{#- The incident register (all text, hand-kept): incident_id places a row; every other cell
    that cannot be typed is null and named (invalid_fields in staging). Values are never
    repeated: a hand-typed cell may hold anything, a name included. -#}
{#- The register's typed columns by kind, one list for staging and its quarantine checks
    (docs/contracts.md, "Incident register"). choice: the allowed values; a blank cell reads as
    unknown where that is allowed, else null. tribool: true, false or blank (unknown, kept
    null: unknown is never pass). -#}
{% macro incident_register_fields() %}
    {{ return({
        'ts': ['detected_at', 'aware_at', 'started_at', 'contained_at', 'resolved_at',
               'outage_start_at', 'outage_end_at', 'significance_assessed_at',
               'early_warning_submitted_at', 'notification_submitted_at',
               'intermediate_requested_at', 'intermediate_due_at', 'intermediate_submitted_at',
               'final_report_submitted_at', 'progress_report_submitted_at', 'gdpr_notified_at',
               'updated_at'],
        'num': ['estimated_direct_loss_eur', 'direct_loss_potential_eur', 'affected_users',
                'outage_minutes', 'limited_availability_minutes', 'slow_response_minutes',
                'avg_response_seconds', 'dns_wrong_domains', 'dns_managed_domains'],
        'bool': ['cross_border', 'cia_compromised', 'is_planned_maintenance'],
        'tribool': ['unauthorised_access_successful', 'severe_disruption_capable',
                    'physical_access_compromised'],
        'choice': {
            'suspected_malicious': ['yes', 'no', 'unknown'],
            'personal_data_breach': ['yes', 'no', 'unknown'],
            'recipients_informed': ['yes', 'no', 'unknown'],
            'csirt_assistance_requested': ['yes', 'no', 'unknown'],
            'law_enforcement_involved': ['yes', 'no', 'unknown'],
            'significance_decision': ['significant', 'not_significant'],
            'dns_compromise_cause': ['misconfiguration', 'other'],
            'threat_type': ['abusive-content', 'malicious-code',
                            'information-gathering', 'intrusion-attempts', 'intrusions',
                            'availability', 'information-content-security', 'fraud',
                            'vulnerable', 'other', 'test'],
            'tlp': ['tlp:clear', 'tlp:green', 'tlp:amber', 'tlp:amber+strict',
                    'tlp:red'],
        },
    }) }}
{% endmacro %}

{% macro incident_register_checks(f) %}
    {#- f: incident_register_fields(), read by the calling model (a macro calling it here
        renders to nothing in sqlfluff's jinja templater) -#}
    {%- set checks = [
        q_check('incident_id', present_key('cast(incident_id as text)'), 'missing or empty',
                'rejected'),
    ] -%}
    {%- for name in f.ts -%}
        {%- do checks.append(q_check(name, 'coalesce(' ~ invalid_if('cast(' ~ name ~ ' as text)', 'ts', 'x')
            ~ ' is null, true)', 'not an ISO 8601 timestamp', 'field_nulled')) -%}
    {%- endfor -%}
    {%- for name in f.num -%}
        {%- do checks.append(q_check(name, 'coalesce(' ~ invalid_if('cast(' ~ name ~ ' as text)', 'num', 'x')
            ~ ' is null, true)', 'not a number', 'field_nulled')) -%}
    {%- endfor -%}
    {%- for name in f.bool + f.tribool -%}
        {%- do checks.append(q_check(name, 'coalesce(' ~ invalid_if('cast(' ~ name ~ ' as text)', 'bool', 'x')
            ~ ' is null, true)', 'not true or false', 'field_nulled')) -%}
    {%- endfor -%}
    {%- for name, allowed in f.choice.items() -%}
        {%- set listed = allowed -%}
        {%- do checks.append(q_check(name,
            "coalesce(lower(trim(cast(" ~ name ~ " as text))) in ('" ~ listed | join("', '")
            ~ "', ''), true)",
            'not ' ~ (listed[:-1] | join(', ')) ~ ' or ' ~ listed[-1], 'field_nulled')) -%}
    {%- endfor -%}
    {{ return(checks) }}
{% endmacro %}
