-- Reporting clocks per reportable incident (int_art23_reportables: register incidents and IR
-- Art. 4 groups), regime and stage. Dir. Art. 23(4): 24 h and 72 h are elapsed hours from
-- awareness; the intermediate report is due when the authority asked for it (Art. 23(4)(c));
-- the final report one calendar month after the notification was actually submitted (before
-- that: after its latest lawful time); if the incident is still being handled then, a
-- progress report is due instead and the final report one month after handling ends.
-- Unknown is never pass: an incident pending its significance assessment has running clocks
-- (significance_status pending_assessment, "potentially significant"). GDPR Art. 33 runs its
-- own 72 h clock for a personal data breach (or while that is unknown). Deadlines are strict:
-- no cited national rule moves them off weekends or holidays (see transform/README.md).
with reportables as (
    select * from {{ ref('int_art23_reportables') }}
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
        make_interval(hours => cast({{ threshold('GDPR_ART33_HOURS') }} as integer)) as gdpr_period,
        make_interval(hours => cast({{ policy('DEADLINE_AT_RISK_HOURS') }} as integer))
            as at_risk_period,
        {{ as_of() }} as as_of_ts
),

zone as (
    select coalesce(max(time_zone), 'UTC') as time_zone from {{ ref('nis2_entity_profile') }}
    where entity_id = '{{ var("entity_id") }}'
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
    from reportables as i
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
        p.incident_id,
        p.reportable_type,
        p.significance_status,
        p.is_planned_maintenance,
        p.as_of_ts,
        p.at_risk_period,
        s.*
    from progress_rule as p
    cross join lateral (
        values
        (
            'NIS2_ART23', 'early_warning', 'aware_at', p.aware_at, p.aware_at + p.early_warning_period,
            p.early_warning_submitted_at, p.early_warning_ref, true
        ),
        (
            'NIS2_ART23', 'notification', 'aware_at', p.aware_at, p.aware_at + p.notification_period,
            p.notification_submitted_at, p.notification_ref, true
        ),
        (
            'NIS2_ART23', 'intermediate', 'authority_request', p.intermediate_requested_at,
            p.intermediate_due_at, p.intermediate_submitted_at, p.intermediate_ref,
            p.intermediate_requested_at is not null
        ),
        (
            'NIS2_ART23', 'final',
            case
                when p.progress_required then 'handling_end'
                when p.notification_submitted_at is not null then 'notification_submitted_at'
                else 'notification_due_placeholder'
            end,
            case when p.progress_required then p.handled_at else p.final_anchor_at end,
            case
                when p.progress_required
                    then (p.handled_at at time zone 'UTC' + p.after_handling_period) at time zone 'UTC'
                else p.final_due_original
            end,
            p.final_report_submitted_at, p.final_report_ref, true
        ),
        (
            'NIS2_ART23', 'progress', 'final_report_due', p.final_due_original, p.final_due_original,
            p.progress_report_submitted_at, p.progress_report_ref, p.progress_required
        ),
        (
            'GDPR_ART33', 'personal_data_breach', 'aware_at', p.aware_at, p.aware_at + p.gdpr_period,
            p.gdpr_notified_at, cast(null as text),
            p.reportable_type = 'incident' and not p.is_planned_maintenance
            and coalesce(p.personal_data_breach, 'unknown') != 'no'
        )
    ) as s (regime, stage, anchor_type, anchor_at, due_at, submitted_at, submission_ref, applies)
),

classified as (
    select
        *,
        case
            when not applies then 'not_required'
            when regime = 'NIS2_ART23' and (significance_status = 'not_significant' or is_planned_maintenance)
                then 'not_required'
            when submitted_at is not null and submitted_at <= due_at then 'met'
            when submitted_at is not null and due_at is not null then 'breached'
            when due_at is null then 'open_ok'
            when as_of_ts > due_at then 'breached'
            when due_at - as_of_ts < at_risk_period then 'open_at_risk'
            else 'open_ok'
        end as status
    from stages
)

select
    c.incident_id || ':' || c.regime || ':' || c.stage as deadline_id,
    c.incident_id,
    c.reportable_type,
    c.regime,
    c.stage,
    c.anchor_type,
    c.anchor_at,
    c.due_at,
    to_char(c.due_at at time zone z.time_zone, 'YYYY-MM-DD HH24:MI') || ' ' || z.time_zone as due_at_local,
    c.submitted_at,
    c.submission_ref,
    c.status,
    c.significance_status,
    case when c.status in ('open_ok', 'open_at_risk') and c.due_at is not null
            then round(cast(extract(epoch from (c.due_at - c.as_of_ts)) / 3600 as numeric), 2)
    end as hours_to_due,
    case when c.status = 'breached'
            then round(cast(extract(epoch from (coalesce(c.submitted_at, c.as_of_ts) - c.due_at)) / 3600 as numeric), 2)
    end as hours_late,
    coalesce(c.submitted_at < c.anchor_at and c.anchor_type = 'aware_at', false) as submitted_before_anchor,
    coalesce(c.submitted_at > c.as_of_ts, false) as submitted_in_future,
    c.status != 'not_required' and c.due_at is null as due_undetermined,
    c.significance_status = 'significant' as is_significant
from classified as c
cross join zone as z
