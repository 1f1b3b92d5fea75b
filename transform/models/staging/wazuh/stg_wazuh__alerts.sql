{{ event_fact_config('alert_id', 'wazuh', 'wazuh_alerts') }}
-- tap-jsonl infers columns from the files it has seen, so a field (or, before the first alert,
-- every field) may be missing: raw_fields renders a missing column as null. An alert whose id
-- or timestamp cannot be typed is left out, any other untypable field is null; both are
-- listed in stg_wazuh__alerts_rejects (macro wazuh_alert_quarantine).
{%- set f = wazuh_alert_fields(source('wazuh', 'wazuh_alerts')) %}
{%- set q = wazuh_alert_quarantine(f) %}
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
    {{ f['location'] }} as log_location,
    {{ f['decoder'] }} ->> 'name' as decoder_name,
    {{ wazuh_alert_row_hash(f) }} as row_hash,
    {{ column_to_utc(source('wazuh', 'wazuh_alerts'), '_sdc_batched_at') }} as loaded_at,
    _sdc_batched_at
from latest
where version_rank = 1 and {{ quarantine_kept(q.checks) }}
