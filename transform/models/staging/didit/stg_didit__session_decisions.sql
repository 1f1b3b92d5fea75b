{{ latest_version(
    source('didit', 'session_decisions'), "rec ->> 'session_id'", as_json=true,
    key_columns=['session_id']
) }}

select
    rec ->> 'session_id' as session_id,
    rec ->> 'status' as decision_status,
    rec ->> 'vendor_data' as vendor_data,
    rec ->> 'workflow_id' as workflow_id,
    {{ parse_utc("rec ->> 'created_at'") }} as created_at,
    {{ parse_utc('_sdc_batched_at') }} as loaded_at
from latest
where version_rank = 1
