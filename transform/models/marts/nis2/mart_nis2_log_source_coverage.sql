-- Per expected log source and day (Annex 3.2.3 list of assets subject to logging, 3.2.6 time
-- synchronisation and availability, 3.2.7 sampling): events, the longest silence, ingestion
-- latency and clock skew. A source with no events is not covered; it is never silently passed.
-- Incremental by day: a run recomputes, for every expected source, the days from the one
-- holding the event just before the earliest newly loaded event (its gap to the next changed).
{{ incremental_by_day_config('int_security_events_unified') }}

with expected as (
    select
        source_system,
        asset_id,
        log_type,
        annex_ref,
        cast(nullif(cast(expected_max_gap_min as text), '') as integer) as expected_max_gap_min,
        cast(expected_min_daily_events as integer) as expected_min_daily_events
    from {{ ref('expected_log_sources') }}
),

{% if is_incremental() %}
    restart as materialized (
        select cast(min(r.restart_ts) at time zone 'UTC' as date) as day
        from ({{ event_restart_points(ref('int_security_events_unified')) }}) as r
        where r.asset_id in (select x.asset_id from expected as x)
    ),
{% endif %}

-- one expected source at a time, counted per day inside the lateral: the source is a constant
-- there, so its events are ordered by event time alone (led by the source's name, the sort of
-- every event took twice as long) and the other staging tables are not read
per_day as (
    select
        x.asset_id,
        d.day,
        d.events,
        d.first_event_ts,
        d.last_event_ts,
        d.max_gap_min,
        d.median_ingest_latency_s,
        d.p95_ingest_latency_s,
        d.future_ts_events
    from expected as x
    -- a lateral per source cannot be a CTE: it reads x
    cross join lateral (  -- noqa: ST05
        select
            e.day,
            count(*) as events,
            min(e.event_ts) as first_event_ts,
            max(e.event_ts) as last_event_ts,
            round(cast(max(e.gap_after_min) as numeric), 1) as max_gap_min,
            percentile_cont(0.5) within group (
                order by extract(epoch from (e.loaded_at - e.event_ts))
            ) as median_ingest_latency_s,
            percentile_cont(0.95) within group (
                order by extract(epoch from (e.loaded_at - e.event_ts))
            ) as p95_ingest_latency_s,
            count(*) filter (
                where e.event_ts > e.loaded_at
                + make_interval(mins => cast({{ policy('FUTURE_TS_TOLERANCE_MINUTES') }} as integer))
            ) as future_ts_events
        from (
            select
                v.event_ts,
                v.loaded_at,
                v.event_date as day,
                extract(epoch from (lead(v.event_ts) over (order by v.event_ts) - v.event_ts))
                / 60 as gap_after_min
            from {{ ref('int_security_events_unified') }} as v
            where v.source_system = x.source_system
                and v.asset_id = x.asset_id
                {% if is_incremental() %}
                    and v.event_ts
                    >= (select cast(r.day as timestamp) at time zone 'UTC' from restart as r)
                {% endif %}
        ) as e
        group by e.day
    ) as d
),

-- from the per-day rows, not the events: two more passes over every event otherwise
days as (
    select cast(d as date) as day
    from generate_series(
            (select min(p.day) from per_day as p), (select max(p.day) from per_day as p),
            interval '1 day'
        ) as g (d)
)

select
    x.asset_id || ':' || d.day as coverage_id,
    d.day,
    x.source_system,
    x.asset_id,
    x.log_type,
    x.annex_ref,
    true as expected,
    coalesce(p.events, 0) as events,
    p.first_event_ts,
    p.last_event_ts,
    p.max_gap_min,
    x.expected_max_gap_min,
    x.expected_min_daily_events,
    coalesce(p.events, 0) >= greatest(x.expected_min_daily_events, 1)
    and (x.expected_max_gap_min is null or coalesce(p.max_gap_min, 0) <= x.expected_max_gap_min)
        as covered,
    round(cast(p.median_ingest_latency_s as numeric), 1) as median_ingest_latency_s,
    round(cast(p.p95_ingest_latency_s as numeric), 1) as p95_ingest_latency_s,
    coalesce(p.future_ts_events, 0) as future_ts_events
from expected as x
cross join days as d
left join per_day as p on x.asset_id = p.asset_id and d.day = p.day
