{{ event_fact_config('alert_id', 'wazuh', 'wazuh_alerts') }}
-- Read as one jsonb record per row: tap-jsonl infers columns from the files it has seen, so a
-- field (or, before the first alert, every field) may be missing and must become null.
{{ latest_version(
    source('wazuh', 'wazuh_alerts'), "rec ->> 'id'", incremental=true, as_json=true,
    key_columns=['id']
) }}

select
    rec ->> 'id' as alert_id,
    {{ parse_utc("rec ->> 'timestamp'") }} as event_ts,
    (rec -> 'rule') ->> 'id' as rule_id,
    cast((rec -> 'rule') ->> 'level' as integer) as rule_level,
    (rec -> 'rule') ->> 'description' as rule_description,
    coalesce((rec -> 'rule') -> 'groups', cast('[]' as jsonb)) as rule_groups,
    coalesce((rec -> 'rule') -> 'mitre' -> 'id', cast('[]' as jsonb)) as mitre_ids,
    (rec -> 'agent') ->> 'id' as agent_id,
    (rec -> 'agent') ->> 'name' as agent_name,
    (rec -> 'data') ->> 'srcip' as src_ip,
    (rec -> 'data') ->> 'srcuser' as src_user,
    (rec -> 'data') ->> 'dstuser' as dst_user,
    (rec -> 'data') ->> 'agent_name' as subject_agent_name,
    rec ->> 'location' as log_location,
    (rec -> 'decoder') ->> 'name' as decoder_name,
    {{ wazuh_alert_row_hash() }} as row_hash,
    {{ column_to_utc(source('wazuh', 'wazuh_alerts'), '_sdc_batched_at') }} as loaded_at,
    _sdc_batched_at
from latest
where version_rank = 1
