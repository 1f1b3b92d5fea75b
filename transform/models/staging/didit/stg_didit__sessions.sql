{{ latest_version(
    source('didit', 'sessions'), "rec ->> 'session_id'", as_json=true, key_columns=['session_id']
) }}

select
    rec ->> 'session_id' as session_id,
    rec ->> 'session_kind' as session_kind,
    cast(rec ->> 'session_number' as bigint) as session_number,
    rec ->> 'status' as session_status,
    rec ->> 'vendor_data' as vendor_data,
    rec ->> 'didit_internal_id' as didit_internal_id,
    rec ->> 'workflow_id' as workflow_id,
    rec ->> 'document_type' as document_type,
    rec ->> 'country' as issuing_country,
    {{ parse_utc("rec ->> 'created_at'") }} as created_at,
    {{ parse_utc('_sdc_batched_at') }} as loaded_at
from latest
where version_rank = 1
