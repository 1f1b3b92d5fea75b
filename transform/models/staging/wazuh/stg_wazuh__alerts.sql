{{ event_fact_config('alert_id', 'wazuh', 'wazuh_alerts') }}
-- tap-jsonl infers columns from the files it has seen, so a field (or, before the first alert,
-- every field) may be missing: raw_fields renders a missing column as null. An alert whose id
-- or timestamp cannot be typed is left out, any other untypable field is null; both are
-- listed in stg_wazuh__alerts_rejects (macro wazuh_alert_quarantine).
{%- set f = wazuh_alert_fields(source('wazuh', 'wazuh_alerts')) %}
{%- set q = wazuh_alert_quarantine(f) %}
{#- syscheck (file integrity) is read for the detections only: not part of the row hash -#}
{%- set fim = raw_fields(source('wazuh', 'wazuh_alerts'), text_fields=[], json_fields=['syscheck']) %}
{{ latest_version(
    source('wazuh', 'wazuh_alerts'), f['id'], incremental=true, key_columns=['id']
) }}

select
    {{ f['id'] }} as alert_id,
    {{ q.event_ts }} as event_ts,
    {{ f['rule'] }} ->> 'id' as rule_id,
    {{ q.rule_level }} as rule_level,
    {{ f['rule'] }} ->> 'description' as rule_description,
    {{ q.rule_groups }} as rule_groups,
    {{ q.mitre_ids }} as mitre_ids,
    {{ f['agent'] }} ->> 'id' as agent_id,
    {{ f['agent'] }} ->> 'name' as agent_name,
    {{ f['data'] }} ->> 'srcip' as src_ip,
    {{ f['data'] }} ->> 'srcuser' as src_user,
    {{ f['data'] }} ->> 'dstuser' as dst_user,
    {{ f['data'] }} ->> 'agent_name' as subject_agent_name,
    -- for the detections (int_wazuh_alert_signals): all text, nothing to type, so nothing to
    -- quarantine; a field of another JSON type reads as its JSON text
    {{ f['agent'] }} ->> 'ip' as agent_ip,
    {{ f['data'] }} ->> 'url' as http_url,
    {{ f['data'] }} ->> 'id' as http_status,
    {{ f['data'] }} #>> '{win,system,eventID}' as win_event_id,
    {{ f['data'] }} #>> '{win,eventdata,targetUserName}' as win_target_user,
    {{ f['data'] }} #>> '{win,eventdata,subjectUserName}' as win_subject_user,
    {{ f['data'] }} #>> '{win,eventdata,memberName}' as win_member_name,
    {{ f['data'] }} #>> '{win,eventdata,ipAddress}' as win_ip_address,
    {{ fim['syscheck'] }} ->> 'path' as fim_path,
    {{ fim['syscheck'] }} ->> 'event' as fim_event,
    {{ f['location'] }} as log_location,
    {{ f['decoder'] }} ->> 'name' as decoder_name,
    {{ wazuh_alert_row_hash(f) }} as row_hash,
    {{ column_to_utc(source('wazuh', 'wazuh_alerts'), '_sdc_batched_at') }} as loaded_at,
    _sdc_batched_at
from latest
where version_rank = 1 and {{ quarantine_kept(q.checks) }}
