{{ latest_version(
    source('didit', 'users'), "rec ->> 'didit_internal_id'", as_json=true,
    key_columns=['didit_internal_id']
) }}

select
    rec ->> 'didit_internal_id' as didit_internal_id,
    rec ->> 'vendor_data' as vendor_data,
    rec ->> 'status' as user_status,
    cast(rec ->> 'session_count' as integer) as session_count,
    cast(rec ->> 'approved_count' as integer) as approved_count,
    cast(rec ->> 'declined_count' as integer) as declined_count,
    {{ parse_utc("rec ->> 'first_session_at'") }} as first_session_at,
    {{ parse_utc("rec ->> 'last_session_at'") }} as last_session_at,
    {{ parse_utc("rec ->> 'created_at'") }} as created_at,
    {{ parse_utc('_sdc_batched_at') }} as loaded_at
from latest
where version_rank = 1
