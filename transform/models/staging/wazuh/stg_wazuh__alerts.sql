{{ event_fact_config('alert_id') }}
{{ latest_version(source('wazuh', 'wazuh_alerts'), 'id', incremental=true) }}

select
    cast(id as text) as alert_id,
    {{ parse_utc('"timestamp"') }} as event_ts,
    cast(rule as jsonb) ->> 'id' as rule_id,
    cast(cast(rule as jsonb) ->> 'level' as integer) as rule_level,
    cast(rule as jsonb) ->> 'description' as rule_description,
    coalesce(cast(rule as jsonb) -> 'groups', '[]'::jsonb) as rule_groups,
    coalesce(cast(rule as jsonb) -> 'mitre' -> 'id', '[]'::jsonb) as mitre_ids,
    cast(agent as jsonb) ->> 'id' as agent_id,
    cast(agent as jsonb) ->> 'name' as agent_name,
    cast(data as jsonb) ->> 'srcip' as src_ip,
    cast(data as jsonb) ->> 'srcuser' as src_user,
    cast(data as jsonb) ->> 'dstuser' as dst_user,
    cast(data as jsonb) ->> 'agent_name' as subject_agent_name,
    cast(location as text) as log_location,
    cast(decoder as jsonb) ->> 'name' as decoder_name,
    {{ wazuh_alert_row_hash() }} as row_hash,
    {{ parse_utc('_sdc_batched_at') }} as loaded_at,
    _sdc_batched_at
from latest
where version_rank = 1
