-- One row per control metric and month: the metric's value, its target, how many evidence rows
-- it was computed from and the latest evidence time (metric_code as in seed control_metrics).
-- The control-evidence matrix judges each Annex requirement from these rows.
with months as (
    select cast(m as date) as month
    from generate_series(
            (select date_trunc('month', min(event_ts)) from {{ ref('int_security_events_unified') }}),
            date_trunc('month', {{ as_of() }}),
            interval '1 month'
        ) as g (m)
),

coverage_months as (
    select
        cast(date_trunc('month', day) as date) as month,
        count(*) as coverage_rows,
        max(last_event_ts) as last_event_ts
    from {{ ref('mart_nis2_log_source_coverage') }}
    group by 1
),

-- unexplained silences in each month they overlap (an open one, every month up to as_of),
-- unless an exception of the exceptions register covers that asset for Annex 3.2.6
gap_months as (
    select
        m.month,
        count(*) as unknown_gaps
    from months as m
    inner join {{ ref('mart_nis2_log_ingestion_gaps') }} as g
        on
            g.gap_start < m.month + interval '1 month'
            and coalesce(g.gap_end, {{ as_of() }}) > m.month
    where g.explained_by = 'unknown'
        and not exists (
            select 1 from {{ ref('mart_nis2_exceptions_register') }} as e
            where e.scope_value = g.asset_id
                and ('3.2.6' = e.annex_ref or '3.2.6' like e.annex_ref || '.%')
                and e.approved_at <= least(m.month + interval '1 month', {{ as_of() }})
                and e.expires_at > least(m.month + interval '1 month', {{ as_of() }})
                and e.invalid_fields is null
        )
    group by m.month
),

metrics as (
    -- metric_code, month, metric_value, target, evidence_rows, passed, last_evidence_at
    select
        'log_source_coverage' as metric_code,
        cast(date_trunc('month', day) as date) as month,
        round(100.0 * count(*) filter (where covered) / nullif(count(*), 0), 1) as metric_value,
        {{ policy('LOG_COVERAGE_TARGET_PCT') }} as target,
        count(*) filter (where events > 0) as evidence_rows,
        100.0 * count(*) filter (where covered) / nullif(count(*), 0)
        >= {{ policy('LOG_COVERAGE_TARGET_PCT') }} as passed,
        max(last_event_ts) as last_evidence_at
    from {{ ref('mart_nis2_log_source_coverage') }}
    group by 2
    union all
    select
        'ingestion_gaps',
        c.month,
        coalesce(g.unknown_gaps, 0),
        0,
        c.coverage_rows,
        null,
        c.last_event_ts
    from coverage_months as c
    left join gap_months as g on c.month = g.month
    union all
    {%- set failed_statuses = "('tampered', 'retention_failed', 'sealed_late')" %}
    -- days tampered, past retention or sealed later than LOG_SEAL_MAX_LAG_HOURS; unknown (no_data)
    -- while any other day of the month was not verified since its last seal; evidence rows: the
    -- days judged (all but those waiting for a verification)
    select
        'log_integrity',
        cast(date_trunc('month', partition_date) as date),
        case
            when bool_and(integrity_status = 'ok') then 0
            else nullif(count(*) filter (where integrity_status in {{ failed_statuses }}), 0)
        end,
        0,
        count(*) filter (where integrity_status = 'ok' or integrity_status in {{ failed_statuses }}),
        null,
        max(last_loaded_at)
    from {{ ref('mart_nis2_log_retention_integrity') }}
    group by 2
    union all
    select
        'detections_without_siem_alert',
        cast(date_trunc('month', window_start) as date),
        count(*) filter (where not alert_raised_in_siem),
        0,
        count(*),
        null,
        max(window_end)
    from {{ ref('mart_nis2_auth_failure_detections') }}
    group by 2
    union all
    select
        'auth_attacks_detected_alerted',
        cast(date_trunc('month', window_start) as date),
        count(*) filter (where detection_type = 'user_bruteforce' and lockouts = 0),
        0,
        count(*) filter (where detection_type = 'user_bruteforce'),
        null,
        max(window_end)
    from {{ ref('mart_nis2_auth_failure_detections') }}
    group by 2
    union all
    select
        'siem_alerts_triaged_within_sla',
        cast(date_trunc('month', first_seen_at) as date),
        count(*) filter (where sla_breached),
        0,
        count(*),
        null,
        max(coalesce(triaged_at, first_seen_at))
    from {{ ref('mart_nis2_siem_alert_handling') }}
    group by 2
    union all
    select
        'incidents_assessed',
        cast(date_trunc('month', coalesce(i.aware_at, i.detected_at)) as date),
        count(*) filter (where s.incident_id is null),
        0,
        count(*),
        null,
        max(s.assessed_at)
    from {{ ref('int_incidents') }} as i
    left join {{ ref('mart_nis2_significance_assessment') }} as s on i.incident_id = s.incident_id
    group by 2
    union all
    select
        'recurring_check_performed',
        m.month,
        count(r.check_id),
        null,
        count(r.check_id),
        true,
        max(r.window_end)
    from months as m
    left join {{ ref('mart_nis2_recurring_incident_check') }} as r
        on r.window_start < m.month + interval '1 month' and m.month < r.window_end
    group by m.month
    union all
    select
        'reporting_deadlines_met',
        cast(date_trunc('month', due_at) as date),
        count(*) filter (where status = 'breached'),
        0,
        count(*),
        null,
        max(submitted_at)
    from {{ ref('mart_nis2_reporting_deadlines') }}
    -- a stage not yet due by as_of is judged in the month it falls due, not before
    where status != 'not_required' and due_at is not null and due_at <= {{ as_of() }}
    group by 2
    union all
    select
        'unapproved_privilege_assignments',
        cast(date_trunc('month', event_ts) as date),
        count(*) filter (where unapproved_assignment),
        0,
        count(*),
        null,
        max(event_ts)
    from {{ ref('mart_nis2_privileged_activity') }}
    where event_class = 'assignment'
    group by 2
    union all
    select
        'privileged_logins_without_mfa',
        cast(date_trunc('month', day) as date),
        sum(privileged_logins_without_mfa),
        0,
        sum(logins),
        null,
        max(cast(day as timestamptz))
    from {{ ref('mart_nis2_mfa_coverage') }}
    where principal_class = 'privileged'
    group by 2
    union all
    select
        'mfa_coverage',
        cast(date_trunc('month', day) as date),
        round(100.0 * sum(logins_with_mfa) / nullif(sum(logins_in_scope), 0), 1),
        null,
        sum(logins_in_scope),
        count(*) filter (where target_status = 'below_target') = 0,
        max(cast(day as timestamptz))
    from {{ ref('mart_nis2_mfa_coverage') }}
    group by 2
    union all
    -- access rights as they stood at each period end (mart_nis2_access_review_period_end)
    select
        'leavers_with_access',
        month,
        count(*) filter (where leaver_access_active),
        0,
        count(*),
        null,
        max(period_end_at)
    from {{ ref('mart_nis2_access_review_period_end') }}
    where is_identity_row
    group by month
    union all
    select
        'dormant_accounts',
        month,
        count(*) filter (where is_dormant),
        0,
        count(*),
        null,
        max(period_end_at)
    from {{ ref('mart_nis2_access_review_period_end') }}
    where is_identity_row
    group by month
    union all
    select
        'access_reviews_current',
        month,
        count(*) filter (where review_overdue),
        0,
        count(*),
        null,
        max(period_end_at)
    from {{ ref('mart_nis2_access_review_period_end') }}
    group by month
    union all
    select
        'management_report_signed_off',
        m.month,
        count(s.month),
        1,
        count(s.month),
        case when count(s.month) > 0 then true end,
        max(cast(s.approved_at as timestamptz))
    from months as m
    left join {{ ref('management_signoffs') }} as s
        on cast(s.month as date) = m.month and s.entity_id = '{{ var("entity_id") }}'
    group by m.month
)

select
    metric_code || ':' || month as metric_month_id,
    metric_code,
    month,
    metric_value,
    target,
    evidence_rows,
    passed,
    last_evidence_at
from metrics
