-- The monthly report to the management body (Dir. Art. 20(1) approve and oversee; Annex 2.2.1
-- regular reporting, 7.2 KPIs): aggregates only, no personal data, the previous month for
-- trend, and the sign-off recorded as data (seed management_signoffs).
with months as (
    select distinct month from {{ ref('mart_nis2_control_evidence_matrix') }}
),

incidents as (
    select
        cast(date_trunc('month', coalesce(aware_at, detected_at)) as date) as month,
        count(*) as incidents_total,
        count(*) filter (where is_significant) as significant_incidents,
        count(*) filter (where severity in ('high', 'critical')) as high_or_critical_incidents,
        string_agg(distinct nullif(criteria_met, ''), ';') as criteria_triggered
    from {{ ref('mart_nis2_incident_register') }}
    group by 1
),

deadlines as (
    select
        cast(date_trunc('month', due_at) as date) as month,
        count(*) filter (where status != 'not_required') as art23_stages_due,
        count(*) filter (where status = 'met') as art23_stages_met,
        count(*) filter (where status = 'breached') as art23_stages_breached,
        count(*) filter (where status = 'open_at_risk') as art23_open_at_risk,
        percentile_cont(0.5) within group (
            order by extract(epoch from (due_at - submitted_at)) / 3600
        ) filter (where submitted_at is not null and status != 'not_required')
            as median_submission_margin_h
    from {{ ref('mart_nis2_reporting_deadlines') }}
    where regime = 'NIS2_ART23'
    group by 1
),

recurring as (
    select
        cast(date_trunc('month', window_end - interval '1 second') as date) as month,
        count(*) filter (where completes_group) as recurring_groups_meeting_art4
    from {{ ref('mart_nis2_recurring_incident_check') }}
    group by 1
),

alerts as (
    select
        cast(date_trunc('month', event_ts) as date) as month,
        count(*) as siem_alerts,
        count(*) filter (where rule_level >= 10) as siem_high_alerts
    from {{ ref('stg_wazuh__alerts') }}
    group by 1
),

detections as (
    select
        cast(date_trunc('month', window_start) as date) as month,
        count(*) filter (where detection_type = 'user_bruteforce') as bruteforce_detections,
        count(*) filter (where detection_type = 'password_spray') as spray_detections,
        count(*) filter (where not alert_raised_in_siem) as detections_missed_by_siem
    from {{ ref('mart_nis2_auth_failure_detections') }}
    group by 1
),

privileged as (
    select
        cast(date_trunc('month', event_ts) as date) as month,
        count(*) filter (where event_class = 'assignment') as privileged_assignments,
        count(*) filter (where unapproved_assignment) as unapproved_assignments,
        count(*) filter (where event_class = 'admin_action') as admin_actions
    from {{ ref('mart_nis2_privileged_activity') }}
    group by 1
),

mfa as (
    select
        cast(date_trunc('month', day) as date) as month,
        round(100.0 * sum(logins_with_mfa) / nullif(sum(logins_in_scope), 0), 1) as mfa_pct,
        round(
            100.0 * sum(logins_with_mfa) filter (where principal_class = 'privileged')
            / nullif(sum(logins_in_scope) filter (where principal_class = 'privileged'), 0),
            1
        ) as mfa_pct_privileged,
        sum(privileged_logins_without_mfa) as privileged_logins_without_mfa,
        sum(exceptions_applied) as mfa_exceptions_applied
    from {{ ref('mart_nis2_mfa_coverage') }}
    group by 1
),

-- exceptions in force at the month's end (as_of while the month runs), and those among them
-- that lapse within the warning window of governance_policy
exceptions as (
    select
        m.month,
        count(e.exception_id) as open_exceptions,
        count(e.exception_id) filter (
            where e.expires_at <= least(m.month + interval '1 month', {{ as_of() }})
            + make_interval(days => cast((
                select g.value from {{ ref('governance_policy') }} as g
                where g.policy_code = 'EXCEPTION_EXPIRY_WARNING_DAYS'
            ) as integer))
        ) as exceptions_expiring_30d
    from months as m
    inner join {{ ref('mart_nis2_exceptions_register') }} as e
        on
            e.approved_at <= least(m.month + interval '1 month', {{ as_of() }})
            and e.expires_at > least(m.month + interval '1 month', {{ as_of() }})
    group by m.month
),

siem as (
    select
        cast(date_trunc('month', first_seen_at) as date) as month,
        count(*) as siem_alerts_at_policy_level,
        count(*) filter (where disposition = 'escalated') as siem_alerts_escalated,
        count(*) filter (where disposition = 'untriaged') as siem_alerts_untriaged,
        count(*) filter (where sla_breached) as siem_alerts_sla_breached,
        percentile_cont(0.5) within group (order by ttt_min) as median_ttt_min
    from {{ ref('mart_nis2_siem_alert_handling') }}
    group by 1
),

anomalies as (
    select
        cast(date_trunc('month', event_ts) as date) as month,
        count(*) as access_anomalies
    from {{ ref('mart_nis2_access_anomalies') }}
    group by 1
),

-- access rights as they stood at each month's end (as_of while the month runs)
access_now as (
    select
        month,
        count(*) filter (where leaver_access_active and is_identity_row) as leavers_with_access,
        count(*) filter (where is_dormant and is_identity_row) as dormant_accounts,
        count(*) filter (where review_overdue) as access_reviews_overdue
    from {{ ref('mart_nis2_access_review_period_end') }}
    group by month
),

logging as (
    select
        cast(date_trunc('month', day) as date) as month,
        round(100.0 * count(*) filter (where covered) / nullif(count(*), 0), 1)
            as log_coverage_pct
    from {{ ref('mart_nis2_log_source_coverage') }}
    group by 1
),

gaps as (
    select
        cast(date_trunc('month', gap_start) as date) as month,
        sum(gap_minutes) as ingestion_gap_minutes,
        count(*) filter (where explained_by = 'unknown') as unexplained_gaps
    from {{ ref('mart_nis2_log_ingestion_gaps') }}
    group by 1
),

integrity as (
    select
        cast(date_trunc('month', partition_date) as date) as month,
        count(*) filter (where tamper_detected) as tamper_detections,
        bool_and(retention_ok) as retention_ok
    from {{ ref('mart_nis2_log_retention_integrity') }}
    group by 1
),

controls as (
    select
        month,
        count(*) filter (where status = 'pass') as controls_pass,
        count(*) filter (where status = 'fail') as controls_fail,
        count(*) filter (where status = 'no_data') as controls_no_data,
        count(*) filter (where status = 'manual_required') as controls_manual_required,
        count(*) filter (where status = 'not_applicable_documented') as controls_not_applicable
    from {{ ref('mart_nis2_control_evidence_matrix') }}
    group by month
),

profile as (
    select
        entity_id,
        legal_name,
        member_state
    from {{ ref('nis2_entity_profile') }}
    where entity_id = '{{ var("entity_id") }}'
),

report as (
    select
        m.month,
        p.entity_id,
        p.legal_name,
        p.member_state,
        coalesce(i.incidents_total, 0) as incidents_total,
        coalesce(i.significant_incidents, 0) as significant_incidents,
        coalesce(i.high_or_critical_incidents, 0) as high_or_critical_incidents,
        i.criteria_triggered,
        coalesce(d.art23_stages_due, 0) as art23_stages_due,
        coalesce(d.art23_stages_met, 0) as art23_stages_met,
        coalesce(d.art23_stages_breached, 0) as art23_stages_breached,
        coalesce(d.art23_open_at_risk, 0) as art23_open_at_risk,
        round(cast(d.median_submission_margin_h as numeric), 1) as median_submission_margin_h,
        coalesce(r.recurring_groups_meeting_art4, 0) as recurring_groups_meeting_art4,
        coalesce(a.siem_alerts, 0) as siem_alerts,
        coalesce(a.siem_high_alerts, 0) as siem_high_alerts,
        coalesce(x.bruteforce_detections, 0) as bruteforce_detections,
        coalesce(x.spray_detections, 0) as spray_detections,
        coalesce(x.detections_missed_by_siem, 0) as detections_missed_by_siem,
        coalesce(v.privileged_assignments, 0) as privileged_assignments,
        coalesce(v.unapproved_assignments, 0) as unapproved_assignments,
        coalesce(v.admin_actions, 0) as admin_actions,
        coalesce(mf.privileged_logins_without_mfa, 0) as privileged_logins_without_mfa,
        mf.mfa_pct,
        mf.mfa_pct_privileged,
        coalesce(mf.mfa_exceptions_applied, 0) as mfa_exceptions_applied,
        coalesce(ex.open_exceptions, 0) as open_exceptions,
        coalesce(ex.exceptions_expiring_30d, 0) as exceptions_expiring_30d,
        coalesce(si.siem_alerts_at_policy_level, 0) as siem_alerts_at_policy_level,
        coalesce(si.siem_alerts_escalated, 0) as siem_alerts_escalated,
        coalesce(si.siem_alerts_untriaged, 0) as siem_alerts_untriaged,
        coalesce(si.siem_alerts_sla_breached, 0) as siem_alerts_sla_breached,
        round(cast(si.median_ttt_min as numeric), 1) as median_ttt_min,
        coalesce(n.access_anomalies, 0) as access_anomalies,
        an.leavers_with_access,
        an.dormant_accounts,
        an.access_reviews_overdue,
        l.log_coverage_pct,
        coalesce(g.ingestion_gap_minutes, 0) as ingestion_gap_minutes,
        coalesce(g.unexplained_gaps, 0) as unexplained_gaps,
        coalesce(t.tamper_detections, 0) as tamper_detections,
        t.retention_ok,
        c.controls_pass,
        c.controls_fail,
        c.controls_no_data,
        c.controls_manual_required,
        c.controls_not_applicable
    from months as m
    cross join profile as p
    left join incidents as i on m.month = i.month
    left join deadlines as d on m.month = d.month
    left join recurring as r on m.month = r.month
    left join alerts as a on m.month = a.month
    left join detections as x on m.month = x.month
    left join privileged as v on m.month = v.month
    left join mfa as mf on m.month = mf.month
    left join exceptions as ex on m.month = ex.month
    left join siem as si on m.month = si.month
    left join anomalies as n on m.month = n.month
    left join access_now as an on m.month = an.month
    left join logging as l on m.month = l.month
    left join gaps as g on m.month = g.month
    left join integrity as t on m.month = t.month
    left join controls as c on m.month = c.month
)

select
    r.entity_id || ':' || r.month as report_id,
    r.*,
    r.incidents_total - lag(r.incidents_total) over (order by r.month) as incidents_vs_prev_month,
    r.controls_fail - lag(r.controls_fail) over (order by r.month) as controls_fail_vs_prev_month,
    {{ as_of() }} as prepared_at,
    s.approved_by,
    cast(s.approved_at as timestamptz) as approved_at,
    s.management_comment
from report as r
left join {{ ref('management_signoffs') }} as s
    on cast(s.month as date) = r.month and r.entity_id = s.entity_id
