-- A snapshot stream without a key: every load is kept, newest first.
select
    cast(to_jsonb(s) ->> 'balance' as numeric) as balance_usd,
    cast(to_jsonb(s) ->> 'auto_refill_enabled' as boolean) as is_auto_refill_enabled,
    {{ parse_utc('s._sdc_batched_at') }} as loaded_at
from {{ source('didit', 'billing_balance') }} as s
