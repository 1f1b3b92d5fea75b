-- Art. 23(4) reporting clocks per incident and stage. 24 h and 72 h are elapsed hours from
-- awareness; the final report is due one calendar month after the notification was actually
-- submitted (before that: after its latest lawful time); if the incident is still being handled
-- then, a progress report is due instead and the final report one month after handling ends.
with incidents as (
    select * from {{ ref('mart_nis2_incident_register') }}
),

rules as (
    select
        make_interval(hours => cast({{ threshold('ART23_EARLY_WARNING_HOURS') }} as integer))
            as early_warning_period,
        make_interval(hours => cast({{ threshold('ART23_NOTIFICATION_HOURS') }} as integer))
            as notification_period,
        make_interval(months => cast({{ threshold('ART23_FINAL_REPORT_MONTHS') }} as integer))
            as final_period,
        make_interval(months => cast({{ threshold('ART23_FINAL_AFTER_HANDLING_MONTHS') }} as integer))
            as after_handling_period,
        make_interval(hours => cast({{ policy('DEADLINE_AT_RISK_HOURS') }} as integer))
            as at_risk_period,
        {{ as_of() }} as as_of_ts
),

anchored as (
    select
        i.*,
        r.*,
        coalesce(i.notification_submitted_at, i.aware_at + r.notification_period) as final_anchor_at,
        -- calendar-month arithmetic in UTC, independent of the session time zone
        (
            coalesce(i.notification_submitted_at, i.aware_at + r.notification_period)
            at time zone 'UTC' + r.final_period
        ) at time zone 'UTC' as final_due_original
    from incidents as i
    cross join rules as r
),

progress_rule as (
    select
        *,
        coalesce(
            (handled_at > final_due_original or (handled_at is null and as_of_ts >= final_due_original))
            and not coalesce(final_report_submitted_at <= final_due_original, false),
            false
        ) as progress_required
    from anchored
),

stages as (
    select
        incident_id,
        is_significant,
        is_planned_maintenance,
        as_of_ts,
        at_risk_period,
        'early_warning' as stage,
        'aware_at' as anchor_type,
        aware_at as anchor_at,
        aware_at + early_warning_period as due_at,
        false as is_month_period,
        early_warning_submitted_at as submitted_at,
        early_warning_ref as submission_ref,
        true as applies
    from progress_rule
    union all
    select
        incident_id,
        is_significant,
        is_planned_maintenance,
        as_of_ts,
        at_risk_period,
        'notification',
        'aware_at',
        aware_at,
        aware_at + notification_period,
        false,
        notification_submitted_at,
        notification_ref,
        true
    from progress_rule
    union all
    select
        incident_id,
        is_significant,
        is_planned_maintenance,
        as_of_ts,
        at_risk_period,
        'final',
        case
            when progress_required then 'handling_end'
            when notification_submitted_at is not null then 'notification_submitted_at'
            else 'notification_due_placeholder'
        end,
        case when progress_required then handled_at else final_anchor_at end,
        case
            when progress_required
                then (handled_at at time zone 'UTC' + after_handling_period) at time zone 'UTC'
            else final_due_original
        end,
        true,
        final_report_submitted_at,
        final_report_ref,
        true
    from progress_rule
    union all
    select
        incident_id,
        is_significant,
        is_planned_maintenance,
        as_of_ts,
        at_risk_period,
        'progress',
        'final_report_due',
        final_due_original as anchor_at,
        final_due_original as due_at,
        true,
        progress_report_submitted_at,
        progress_report_ref,
        progress_required
    from progress_rule
),

holidays as (
    select cast(h.holiday_date as date) as holiday_date
    from {{ ref('public_holidays') }} as h
    inner join {{ ref('nis2_entity_profile') }} as p
        on h.member_state = p.member_state and p.entity_id = '{{ var("entity_id") }}'
),

zone as (
    select time_zone from {{ ref('nis2_entity_profile') }}
    where entity_id = '{{ var("entity_id") }}'
),

extended as (
    -- Reg. 1182/71 Art. 3(4) [unverified applicability]: a period not expressed in hours that
    -- ends on a weekend or public holiday ends with the last hour of the next working day.
    select
        s.*,
        z.time_zone,
        cast(s.due_at at time zone z.time_zone as date) as due_local_date,
        (
            select cast(g.d as date)
            from generate_series(
                    cast(s.due_at at time zone z.time_zone as date),
                    cast(s.due_at at time zone z.time_zone as date) + 10,
                    interval '1 day'
                ) as g (d)
            where extract(isodow from g.d) < 6
                and cast(g.d as date) not in (select h.holiday_date from holidays as h)
            order by g.d
            limit 1
        ) as first_working_day
    from stages as s
    cross join zone as z
),

classified as (
    select
        *,
        case
            when not is_significant or is_planned_maintenance or not applies then 'not_required'
            when submitted_at is not null and submitted_at <= due_at then 'met'
            when submitted_at is not null then 'breached'
            when due_at is null then 'open_ok'
            when as_of_ts > due_at then 'breached'
            when due_at - as_of_ts < at_risk_period then 'open_at_risk'
            else 'open_ok'
        end as status
    from extended
)

select
    incident_id || ':NIS2_ART23:' || stage as deadline_id,
    incident_id,
    'NIS2_ART23' as regime,
    stage,
    anchor_type,
    anchor_at,
    due_at,
    case
        when not is_month_period or due_at is null or first_working_day = due_local_date
            then due_at
        else cast(first_working_day + 1 as timestamp) at time zone time_zone
    end as due_at_extended,
    submitted_at,
    submission_ref,
    status,
    case when status in ('open_ok', 'open_at_risk') and due_at is not null
            then round(cast(extract(epoch from (due_at - as_of_ts)) / 3600 as numeric), 2)
    end as hours_to_due,
    case when status = 'breached'
            then round(cast(extract(epoch from (coalesce(submitted_at, as_of_ts) - due_at)) / 3600 as numeric), 2)
    end as hours_late,
    coalesce(submitted_at < anchor_at and anchor_type = 'aware_at', false) as submitted_before_anchor,
    coalesce(submitted_at > as_of_ts, false) as submitted_in_future,
    status != 'not_required' and due_at is null as due_undetermined,
    is_significant
from classified
