-- Silences longer than a source's expected maximum gap (Annex 3.2.3(k) stopping of logs, 3.2.6
-- availability of logging monitored independently), with what explains them: a logged
-- stop event (Wazuh agent disconnected), planned maintenance, or nothing (unknown).
-- A silence still going on at as_of is a gap too (open: gap_end null, measured to as_of), and
-- so is a source that never delivered anything since the log history began: silence is never
-- read as "no gap". Open gaps are recomputed on every build (as_of moves).
-- Incremental: per source with new events, the gaps from the event before the earliest new
-- one are dropped (pre-hook) and recomputed; every kept gap is explained again, because an
-- incident or a Wazuh stop event that explains it may be loaded later.
{{ config(
    materialized='incremental',
    unique_key='gap_id',
    incremental_strategy='delete+insert',
    on_schema_change='append_new_columns',
    pre_hook=[
        "{{ reset_watermark_on_full_build() }}",
        "{{ local_work_mem() }}",
        "{% if is_incremental() %}
        delete from {{ this }} as g
        using ({{ event_restart_points(ref('int_security_events_unified')) }}) as r
        where g.asset_id = r.asset_id and g.gap_start >= r.restart_ts;
        delete from {{ this }} where gap_end is null
        {% endif %}"
    ],
    post_hook=["{{ save_watermark(ref('int_security_events_unified')) }}"]
) }}

with expected as (
    select
        source_system,
        asset_id,
        cast(nullif(cast(expected_max_gap_min as text), '') as integer) as expected_max_gap_min
    from {{ ref('expected_log_sources') }}
),

{% if is_incremental() %}
    -- computed once: inlined, PostgreSQL re-ran its per-source lookup for every event
    restart as materialized (
        {{ event_restart_points(ref('int_security_events_unified')) }}
    ),
{% else %}
    restart as (
        select
            source_system,
            asset_id,
            cast('-infinity' as timestamptz) as restart_ts
        from expected
    ),
{% endif %}

gaps as (
    select
        x.source_system,
        x.asset_id,
        e.gap_start,
        e.gap_end,
        round(cast(extract(epoch from (e.gap_end - e.gap_start)) / 60 as numeric), 1) as gap_minutes,
        x.expected_max_gap_min
    from restart as r
    inner join expected as x
        on r.asset_id = x.asset_id and x.expected_max_gap_min is not null
    -- one source at a time, from its restart point: the source is a constant in the lateral,
    -- so its events are ordered by event time alone, through its staging table's event_ts index
    cross join
        lateral (
            select
                v.event_ts as gap_start,
                lead(v.event_ts) over (order by v.event_ts) as gap_end
            from {{ ref('int_security_events_unified') }} as v
            where v.source_system = r.source_system
                and v.asset_id = r.asset_id
                and v.event_ts >= r.restart_ts
            -- offset 0 keeps the planner from flattening the lateral into a join
            offset 0  -- noqa: AM09
        ) as e
    where e.gap_end - e.gap_start > make_interval(mins => x.expected_max_gap_min)
    {% if is_incremental() %}
        -- the gaps the pre-hook kept, to be explained again
        union all
        select
            k.source_system,
            k.asset_id,
            k.gap_start,
            k.gap_end,
            k.gap_minutes,
            k.expected_max_gap_min
        from {{ this }} as k
    {% endif %}
),

history as (
    select min(event_ts) as history_start from {{ ref('int_security_events_unified') }}
),

-- silences still going on at as_of: from the source's last event (or, with none, from the
-- start of the log history) to as_of, when longer than the expected maximum
open_gaps as (
    select
        x.source_system,
        x.asset_id,
        coalesce(l.last_event_ts, h.history_start) as gap_start,
        cast(null as timestamptz) as gap_end,
        round(
            cast(
                extract(epoch from ({{ as_of() }} - coalesce(l.last_event_ts, h.history_start)))
                / 60 as numeric
            ),
            1
        ) as gap_minutes,
        x.expected_max_gap_min
    from expected as x
    cross join history as h
    left join lateral (
        select max(v.event_ts) as last_event_ts
        from {{ ref('int_security_events_unified') }} as v
        where v.source_system = x.source_system
            and v.asset_id = x.asset_id
            and v.event_ts <= {{ as_of() }}
    ) as l on true
    where x.expected_max_gap_min is not null
        and {{ as_of() }} - coalesce(l.last_event_ts, h.history_start)
        > make_interval(mins => x.expected_max_gap_min)
),

all_gaps as (
    select * from gaps
    union all
    select * from open_gaps
),

incidents as (
    select
        incident_id,
        is_planned_maintenance,
        category,
        detected_at,
        resolved_at
    from {{ ref('int_incidents') }}
)

select
    g.asset_id || ':' || to_char(g.gap_start at time zone 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US')
        as gap_id,
    g.source_system,
    g.asset_id,
    g.gap_start,
    g.gap_end,
    g.gap_minutes,
    g.expected_max_gap_min,
    case
        when exists (
                select 1 from incidents as i
                where i.is_planned_maintenance
                    and i.detected_at < coalesce(g.gap_end, {{ as_of() }})
                    and coalesce(i.resolved_at, g.gap_end, {{ as_of() }}) > g.gap_start
            ) then 'maintenance'
        when exists (
                select 1 from {{ ref('stg_wazuh__alerts') }} as a
                where a.rule_id in ('504', '506')
                    and a.event_ts between g.gap_start and coalesce(g.gap_end, {{ as_of() }})
                    and a.subject_agent_name = g.asset_id
            ) then 'logging_stopped_event'
        else 'unknown'
    end as explained_by,
    g.gap_end is null as is_open,
    -- closed: when the next event arrived; open: when the silence passed the expected maximum
    coalesce(g.gap_end, g.gap_start + make_interval(mins => g.expected_max_gap_min)) as detected_at,
    (
        select min(i.incident_id) from incidents as i
        where i.category = 'logging_failure'
            and i.detected_at
            between g.gap_start and coalesce(g.gap_end, {{ as_of() }}) + interval '1 day'
    ) as ticket_id
from all_gaps as g
