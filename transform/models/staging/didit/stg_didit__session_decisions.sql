with source as (
    select to_jsonb(s) as rec, s._sdc_batched_at
    from {{ source('didit', 'session_decisions') }} as s
),

latest as (
    select
        *,
        row_number() over (
            partition by rec ->> 'session_id' order by _sdc_batched_at desc
        ) as version_rank
    from source
)

select
    rec ->> 'session_id' as session_id,
    rec ->> 'status' as decision_status,
    rec ->> 'vendor_data' as vendor_data,
    rec ->> 'workflow_id' as workflow_id,
    {{ parse_utc("rec ->> 'created_at'") }} as created_at,
    {{ parse_utc('_sdc_batched_at') }} as loaded_at
from latest
where version_rank = 1
