-- Integrity and retention evidence for the logs themselves (Annex 3.2.5; 4.2.3): per log source
-- and event day, a SHA-256 digest of the rows' hashes, chained day to day, and the row hashes
-- sealed (16-byte prefixes). The table is append-only (full_refresh = false): a day is re-sealed
-- only when every row hash sealed before is still there (rows_added: late arrivals), otherwise
-- it is modified and tamper_detected. The verification (run-operation verify_logs, job
-- nis2-verify-logs) re-hashes the raw tables; its findings are read here per day, with the seal
-- latency against LOG_SEAL_MAX_LAG_HOURS (detection_policy): integrity_status says why a day
-- is not ok. transform/README.md "Log integrity".
{{ config(
    materialized='incremental',
    unique_key='partition_id',
    incremental_strategy='delete+insert',
    full_refresh=false,
    on_schema_change='append_new_columns',
    pre_hook=["{{ local_work_mem() }}", "{{ create_log_verification_table() }}"]
) }}

-- not materialized: read three times, PostgreSQL would otherwise copy the whole table first
-- instead of reading only the touched days through the indexes
with unified as not materialized (
    select * from {{ ref('int_security_events_unified') }}
),

{% if is_incremental() %}
    -- the days that received rows since the last build, recomputed whole
    touched as (
        select distinct
            source_system,
            asset_id,
            event_date
        from unified
        where loaded_at > (select max(t.last_loaded_at) from {{ this }} as t)
    ),
{% else %}
    -- every asset with events, each read on its own below
    assets as (
        {{ security_event_assets() }}
    ),
{% endif %}

recomputed as (
    {% if is_incremental() %}
        select
            u.source_system,
            u.asset_id,
            u.event_date as partition_date,
            count(*) as row_count,
            {{ partition_digest('u.row_hash') }} as digest,
            {{ sealed_row_hashes('u.row_hash') }} as row_hashes,
            max(u.loaded_at) as last_loaded_at
        -- lateral, one touched day at a time: each branch of the unified view reads that day
        -- through its staging table's event_ts index (as a join it scanned every branch whole)
        from touched as t
        cross join
            lateral (
                select v.* from unified as v
                where v.source_system = t.source_system
                    and v.asset_id = t.asset_id
                    and v.event_ts >= cast(t.event_date as timestamp) at time zone 'UTC'
                    and v.event_ts < cast(t.event_date + 1 as timestamp) at time zone 'UTC'
                -- offset 0 keeps the planner from flattening the lateral into a join
                offset 0  -- noqa: AM09
            ) as u
        group by u.source_system, u.asset_id, u.event_date
    {% else %}
        -- one asset at a time, grouped inside the lateral: the asset is then a constant there
        -- and the sort for the digests orders 2M rows by day and row hash only
        select
            a.source_system,
            a.asset_id,
            d.partition_date,
            d.row_count,
            d.digest,
            d.row_hashes,
            d.last_loaded_at
        from assets as a
        cross join
            lateral (
                select
                    v.event_date as partition_date,
                    count(*) as row_count,
                    {{ partition_digest('v.row_hash') }} as digest,
                    {{ sealed_row_hashes('v.row_hash') }} as row_hashes,
                    max(v.loaded_at) as last_loaded_at
                from unified as v
                where v.source_system = a.source_system and v.asset_id = a.asset_id
                group by v.event_date
            ) as d
    {% endif %}
),

{% if is_incremental() %}
    previous as (
        {{ previous_seal() }}
    ),
{% endif %}

-- on the first build there is no previous state: an empty relation of the table's shape
no_previous as (  -- noqa: ST03
    {{ no_previous_seal() }}
),

merged as (
    select
        coalesce(r.source_system, p.source_system) as source_system,
        coalesce(r.asset_id, p.asset_id) as asset_id,
        coalesce(r.partition_date, p.partition_date) as partition_date,
        coalesce(r.row_count, p.row_count) as row_count,
        coalesce(r.last_loaded_at, p.last_loaded_at) as last_loaded_at,
        coalesce(r.digest, p.recomputed_digest) as recomputed_digest,
        case
            when p.partition_id is null then 'new'
            when r.digest is null or r.digest = p.digest_sha256 then coalesce(p.change_kind, 'unchanged')
            when k.reseal then 'rows_added'
            else 'modified'
        end as change_kind,
        case when k.reseal then r.digest else p.digest_sha256 end as digest_sha256,
        case when k.reseal then r.row_hashes else p.sealed_row_hashes end as sealed_row_hashes,
        coalesce(p.first_sealed_at, {{ as_of() }}) as first_sealed_at,
        case when k.reseal then {{ as_of() }} else coalesce(p.last_sealed_at, p.first_sealed_at) end
            as last_sealed_at,
        coalesce(p.tamper_detected, false)
        or coalesce(not k.reseal and r.digest != p.digest_sha256, false) as tamper_detected
    {% if is_incremental() %}
        from recomputed as r
        full outer join previous as p
            on r.asset_id = p.asset_id and r.partition_date = p.partition_date
    {% else %}
        from recomputed as r
        left join no_previous as p on false
    {% endif %}
    -- may the day be (re-)sealed? New, or its digest changed because it grew and every row hash
    -- sealed before is still there (a day sealed before the hashes were kept: on its row count).
    -- The case compares the hashes only for a day that grew: as an and-chain PostgreSQL ran the
    -- comparison for every sealed day, untouched ones too (30 s at 2k days). Offset 0 (on a
    -- one-row relation) keeps it one subquery, not copied into each of the four places reseal
    -- is read
    cross join lateral (  -- noqa: ST05
        select
            case
                when p.partition_id is null then true
                when r.digest is null or r.digest = p.digest_sha256 or r.row_count <= p.row_count
                    then false
                else coalesce({{ sealed_rows_missing('p.sealed_row_hashes', 'r.row_hashes') }}, 0) = 0
            end as reseal
        from (select) as one_row
        offset 0  -- noqa: AM09
    ) as k
),

chained as (
    {{ hash_chain('merged', 'asset_id', 'partition_date', 'digest_sha256') }}
),

-- the oldest event still held per source, one index lookup each (the source system prunes
-- the other branches of the unified view)
held as (
    select
        a.asset_id,
        cast((
            select min(u.event_ts) from unified as u
            where u.source_system = a.source_system and u.asset_id = a.asset_id
        ) at time zone 'UTC' as date) as oldest_retained_date
    from (
        select distinct
            m.source_system,
            m.asset_id
        from merged as m
    ) as a
),

judged as (
    select
        c.*,
        h.oldest_retained_date,
        cast(r.retention_days as integer) as policy_retention_days,
        v.verified_at as last_verified_at,
        v.result as verification_result,
        v.rows_edited,
        v.rows_deleted,
        v.rows_inserted_behind_loader,
        v.first_failed_at as verification_failed_at,
        -- hours from the end of the day to its first seal (negative: sealed while it was going on)
        {{ hours_after_day_end('c.first_sealed_at', 'c.partition_date') }} as seal_latency_hours,
        -- tampering stays recorded: found by a build (a sealed row changed) or a verification
        c.tamper_detected or v.first_failed_at is not null as tamper_now,
        -- kept long enough: the held history reaches back the whole retention period, or nothing
        -- has been purged since the first day was sealed (the source is younger than the period)
        coalesce(
            h.oldest_retained_date <= cast({{ as_of() }} as date) - cast(r.retention_days as integer)
            or h.oldest_retained_date <= min(c.partition_date) over (partition by c.asset_id),
            false
        ) as retention_ok
    from chained as c
    left join {{ ref('expected_log_sources') }} as r on c.asset_id = r.asset_id
    left join held as h on c.asset_id = h.asset_id
    left join {{ source('log_verification', 'log_verification_findings') }} as v
        on c.asset_id || ':' || c.partition_date = v.partition_id
)

select
    asset_id || ':' || partition_date as partition_id,
    source_system,
    asset_id,
    partition_date,
    row_count,
    digest_sha256,
    recomputed_digest,
    prev_chain_digest,
    chain_digest,
    change_kind,
    tamper_now as tamper_detected,
    first_sealed_at,
    last_loaded_at,
    oldest_retained_date,
    min(partition_date) over (partition by asset_id) as first_sealed_date,
    policy_retention_days,
    retention_ok,
    coalesce(
        row_count > 0 and oldest_retained_date > partition_date
        and partition_date < cast({{ as_of() }} as date) - policy_retention_days,
        false
    ) as purged_after_expiry,
    sealed_row_hashes,
    last_sealed_at,
    seal_latency_hours,
    seal_latency_hours <= {{ policy('LOG_SEAL_MAX_LAG_HOURS') }} as sealed_within_lag,
    last_verified_at,
    verification_result,
    rows_edited,
    rows_deleted,
    rows_inserted_behind_loader,
    verification_failed_at,
    -- why the day is or is not evidence of integrity (Annex 3.2.5), first reason that applies
    case
        when tamper_now then 'tampered'
        when not retention_ok then 'retention_failed'
        when seal_latency_hours > {{ policy('LOG_SEAL_MAX_LAG_HOURS') }} then 'sealed_late'
        when last_verified_at is null then 'never_verified'
        when last_verified_at < last_sealed_at then 'not_verified_since_sealing'
        else 'ok'
    end as integrity_status
from judged
