-- Integrity and retention evidence for the logs themselves (Annex 3.2.5; 4.2.3): per log source
-- and event day, a SHA-256 digest of the rows' hashes, chained day to day. The table is
-- append-only (full_refresh = false): the digest recorded when a day was first sealed is kept,
-- so a later difference shows as a modification. New rows for a past day (late arrivals) are
-- recorded as rows_added and re-sealed; the singular test assert_log_digests_match_raw
-- recomputes the digests from the raw tables to catch edits that bypass the loader.
{{ config(
    materialized='incremental',
    unique_key='partition_id',
    incremental_strategy='delete+insert',
    full_refresh=false,
    on_schema_change='append_new_columns',
    pre_hook=["{{ local_work_mem() }}"]
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
            d.last_loaded_at
        from assets as a
        cross join
            lateral (
                select
                    v.event_date as partition_date,
                    count(*) as row_count,
                    {{ partition_digest('v.row_hash') }} as digest,
                    max(v.loaded_at) as last_loaded_at
                from unified as v
                where v.source_system = a.source_system and v.asset_id = a.asset_id
                group by v.event_date
            ) as d
    {% endif %}
),

{% if is_incremental() %}
    previous as (
        select * from {{ this }}
    ),
{% endif %}

-- on the first build there is no previous state: an empty relation of the table's shape
no_previous as (  -- noqa: ST03
    select
        cast(null as text) as partition_id,
        cast(null as text) as source_system,
        cast(null as text) as asset_id,
        cast(null as date) as partition_date,
        cast(null as bigint) as row_count,
        cast(null as timestamptz) as last_loaded_at,
        cast(null as text) as recomputed_digest,
        cast(null as text) as digest_sha256,
        cast(null as text) as change_kind,
        cast(null as timestamptz) as first_sealed_at,
        cast(null as boolean) as tamper_detected
    where false
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
            when r.row_count > p.row_count then 'rows_added'
            else 'modified'
        end as change_kind,
        case
            when p.partition_id is null then r.digest
            when r.digest is not null and r.row_count > p.row_count then r.digest
            else p.digest_sha256
        end as digest_sha256,
        coalesce(p.first_sealed_at, {{ as_of() }}) as first_sealed_at,
        coalesce(p.tamper_detected, false)
        or coalesce(r.digest != p.digest_sha256 and r.row_count <= p.row_count, false)
            as tamper_detected
    {% if is_incremental() %}
        from recomputed as r
        full outer join previous as p
            on r.asset_id = p.asset_id and r.partition_date = p.partition_date
    {% else %}
        from recomputed as r
        left join no_previous as p on false
    {% endif %}
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

retention as (
    select
        asset_id,
        cast(retention_days as integer) as policy_retention_days
    from {{ ref('expected_log_sources') }}
)

select
    c.asset_id || ':' || c.partition_date as partition_id,
    c.source_system,
    c.asset_id,
    c.partition_date,
    c.row_count,
    c.digest_sha256,
    c.recomputed_digest,
    c.prev_chain_digest,
    c.chain_digest,
    c.change_kind,
    c.tamper_detected,
    c.first_sealed_at,
    c.last_loaded_at,
    h.oldest_retained_date,
    min(c.partition_date) over (partition by c.asset_id) as first_sealed_date,
    r.policy_retention_days,
    -- kept long enough: the held history reaches back the whole retention period, or nothing
    -- has been purged since the first day was sealed (the source is younger than the period)
    coalesce(
        h.oldest_retained_date <= cast({{ as_of() }} as date) - r.policy_retention_days
        or h.oldest_retained_date <= min(c.partition_date) over (partition by c.asset_id),
        false
    ) as retention_ok,
    coalesce(
        c.row_count > 0 and h.oldest_retained_date > c.partition_date
        and c.partition_date < cast({{ as_of() }} as date) - r.policy_retention_days,
        false
    ) as purged_after_expiry
from chained as c
left join retention as r on c.asset_id = r.asset_id
left join held as h on c.asset_id = h.asset_id
