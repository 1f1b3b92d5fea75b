"""Identity and access evidence: authentication-failure detections, privileged activity,
MFA coverage, access reviews, identity verification from Didit, anomalies and API activity
(Annex 3.2.3(b)-(e), 3.2.4, 10.2, 11; Dir. Art. 21(2)(i)(j))."""

from __future__ import annotations

from collections import defaultdict
from datetime import datetime

from report import charts
from report.period import to_moment
from report.sections import mfa
from report.sections.base import (
    Block,
    Metric,
    PackContext,
    Section,
    applicable,
    count_where,
    first_column,
    no_data,
    row_count,
    status_css,
    table,
    tally,
    total,
)
from report.warehouse import MartData


def _count_chart(key: str, data: MartData, column: str | None, caption: str) -> list[charts.Chart]:
    if column is None or not data.rows:
        return []
    counts = tally(data.rows, column).most_common(15)
    return [charts.bars(key, [c for c, _ in counts], [n for _, n in counts], caption, "count")]


def _auth_failures(context: PackContext) -> Block:
    data = context.marts["mart_nis2_auth_failure_detections"]
    type_column = first_column(data, "detection_type")
    missed = [r for r in data.rows if r.get("alert_raised_in_siem") is False]
    previous = row_count(data.previous_rows, data)
    return Block(
        "auth-failures",
        "Authentication-failure detections (Annex 3.2.3(d), 3.2.4, 11.6.2(d))",
        "Brute force, password spraying, lockout bursts and success after failures, detected "
        "over sliding windows. A detection with no SIEM alert is a monitoring gap "
        "(Annex 3.2.2, false negative).",
        metrics=[
            Metric("auth_detections", "Detections", row_count(data.rows, data), previous),
            Metric(
                "auth_detections_without_siem_alert",
                "Detections the SIEM did not alert on",
                len(missed) if "alert_raised_in_siem" in data.columns else None,
                bad_when_positive=True,
            ),
        ],
        charts=_count_chart(
            "auth-detections-by-type",
            data,
            type_column,
            "Authentication-failure detections by type.",
        ),
        tables=[
            table(
                "auth-detections",
                "Detections",
                data,
                sorted(data.rows, key=lambda r: -(r.get("failures") or 0)),
                (
                    "detection_type",
                    "source_system",
                    "principal_key",
                    "src_ip_key",
                    "src_ip_prefix",
                    "application",
                    "window_start",
                    "window_end",
                    "failures",
                    "distinct_users",
                    "distinct_ips",
                    "lockouts",
                    "threshold_used",
                    "alert_raised_in_siem",
                    "siem_alert_id",
                    "incident_id",
                ),
            )
        ],
        no_data=no_data(data),
    )


def _privileged(context: PackContext) -> Block:
    data = context.marts["mart_nis2_privileged_activity"]
    flagged = [
        r
        for r in data.rows
        if r.get("unapproved_assignment")
        or r.get("behavioural_alarm")
        or r.get("mfa_used") is False
    ]
    return Block(
        "privileged",
        "Privileged activity (Annex 3.2.3(e), 11.2.2(f), 11.3)",
        "Grants, elevations and admin actions. Shown below: unapproved assignments, "
        "behavioural alarms (repeated elevations) and actions recorded without MFA. "
        "Admin log-ins without a second factor enrolled are listed here too; the count of "
        "privileged log-ins without MFA is under MFA coverage (M10, the same rule).",
        metrics=[
            Metric(
                "privileged_events",
                "Privileged events",
                row_count(data.rows, data),
                row_count(data.previous_rows, data),
            ),
            Metric(
                "unapproved_assignments",
                "Unapproved privilege assignments",
                count_where(data, "unapproved_assignment"),
                bad_when_positive=True,
            ),
            Metric(
                "behavioural_alarms",
                "Behavioural alarms (elevations)",
                count_where(data, "behavioural_alarm"),
                bad_when_positive=True,
            ),
        ],
        charts=_count_chart(
            "privileged-by-class",
            data,
            first_column(data, "event_class"),
            "Privileged events by class.",
        ),
        tables=[
            table(
                "privileged-flagged",
                "Flagged privileged events",
                data,
                flagged,
                (
                    "event_ts",
                    "source_system",
                    "event_class",
                    "actor_key",
                    "target_principal_key",
                    "privilege",
                    "application",
                    "method",
                    "path",
                    "mfa_used",
                    "unapproved_assignment",
                    "elevations_24h",
                    "behavioural_alarm",
                ),
                css=status_css,
                empty_text="No flagged privileged event in this period.",
            )
        ],
        no_data=no_data(data),
    )


def _access_reviews(context: PackContext) -> Block:
    data = context.marts["mart_nis2_access_review_status"]
    problems = [
        r
        for r in data.rows
        if r.get("review_overdue")
        or r.get("leaver_access_active")
        or (r.get("is_shared_identity") and not r.get("shared_identity_approved"))
    ]
    return Block(
        "access-reviews",
        "Access reviews (Annex 11.2.3, 11.3.3, 11.5.4)",
        "Current state of every entitlement's review, leavers and shared identities.",
        metrics=applicable(
            data,
            [
                Metric("entitlements", "Entitlements under review", row_count(data.rows, data)),
                Metric(
                    "reviews_overdue",
                    "Reviews overdue",
                    count_where(data, "review_overdue"),
                    bad_when_positive=True,
                ),
                Metric(
                    "leavers_with_access",
                    "Leavers with active access",
                    count_where(data, "leaver_access_active"),
                    bad_when_positive=True,
                ),
                Metric(
                    "dormant",
                    "Dormant entitlements",
                    count_where(data, "is_dormant"),
                    column="is_dormant",
                ),
            ],
        ),
        tables=[
            table(
                "access-review-problems",
                "Overdue reviews, leavers and unapproved shared identities",
                data,
                problems,
                (
                    "principal_key",
                    "entitlement",
                    "is_privileged",
                    "last_reviewed_at",
                    "review_due_at",
                    "review_overdue",
                    "hr_status",
                    "leaver_access_active",
                    "days_leaver_to_revoke",
                    "dormant_days",
                    "is_dormant",
                    "is_shared_identity",
                ),
                css=status_css,
                empty_text="No overdue review, leaver or shared identity.",
            )
        ],
        no_data=no_data(data),
    )


def _identity_assurance(context: PackContext) -> Block:
    data = context.marts["mart_nis2_identity_assurance"]
    exceptions = [
        r
        for r in data.rows
        if r.get("verified_before_creation") is False
        or r.get("verified_before_privilege") is False
        or r.get("linked_to_single_person") is False
        or (r.get("resets_without_verification") or 0) > 0
    ]
    return Block(
        "identity-assurance",
        "Identity verification evidence from Didit (Annex 10.2.2(b), 11.5.2, 11.6.2)",
        "Whether each identity was verified with Didit before its account was created, before "
        "privileges were granted and before credentials were reset, and whether it is linked "
        "to a single person.",
        metrics=applicable(
            data,
            [
                Metric("identities", "Identities", row_count(data.rows, data)),
                Metric(
                    "not_verified_before_creation",
                    "Not verified before account creation",
                    count_where(data, "verified_before_creation", False),
                    bad_when_positive=True,
                    column="verified_before_creation",
                ),
                Metric(
                    "not_verified_before_privilege",
                    "Not verified before privilege",
                    count_where(data, "verified_before_privilege", False),
                    bad_when_positive=True,
                    column="verified_before_privilege",
                ),
                Metric(
                    "resets_without_verification",
                    "Credential resets without verification",
                    total(data, "resets_without_verification"),
                    bad_when_positive=True,
                    column="resets_without_verification",
                ),
                Metric(
                    "not_single_person",
                    "Identities linked to more than one person",
                    count_where(data, "linked_to_single_person", False),
                    bad_when_positive=True,
                    column="linked_to_single_person",
                ),
                Metric(
                    "manual_overrides",
                    "Manual verification-status overrides",
                    total(data, "manual_status_overrides"),
                    column="manual_status_overrides",
                ),
            ],
        ),
        tables=[
            table(
                "identity-exceptions",
                "Identities with a verification gap",
                data,
                exceptions,
                (
                    "identity_key",
                    "user_status",
                    "created_at",
                    "first_verified_at",
                    "verification_level",
                    "verified_before_creation",
                    "privileged_granted_at",
                    "verified_before_privilege",
                    "credential_resets",
                    "resets_without_verification",
                    "manual_status_overrides",
                    "linked_to_single_person",
                ),
                empty_text="Every identity was verified in time.",
            )
        ],
        no_data=no_data(data),
    )


def _anomalies(context: PackContext) -> Block:
    data = context.marts["mart_nis2_access_anomalies"]
    ranked = sorted(data.rows, key=lambda r: -float(r.get("anomaly_score") or 0))
    return Block(
        "anomalies",
        "Access anomalies (Annex 3.2.3(c), 3.2.4)",
        "Off-hours access, first-seen networks and countries, impossible travel; highest "
        "anomaly score first.",
        metrics=[
            Metric(
                "anomalies",
                "Flagged accesses",
                row_count(data.rows, data),
                row_count(data.previous_rows, data),
            )
        ],
        tables=[
            table(
                "anomalies",
                "Flagged accesses",
                data,
                ranked,
                (
                    "event_ts",
                    "principal_key",
                    "ip_prefix_key",
                    "ip_prefix",
                    "country",
                    "is_off_hours",
                    "first_seen_ip_for_user",
                    "first_seen_country_for_user",
                    "impossible_travel_kmh",
                    "privileged",
                    "application",
                    "anomaly_score",
                    "siem_alert_id",
                ),
            )
        ],
        no_data=no_data(data),
    )


def _api_activity(context: PackContext) -> Block:
    data = context.marts["mart_nis2_api_activity_daily"]
    day_column = first_column(data, "day", "activity_date", "date_day", "bucket_start", "date")
    measures = [
        c
        for c in ("requests", "err_4xx", "err_5xx", "auth_fail_401_403", "writes")
        if c in data.columns
    ]
    chart_list = []
    if day_column and measures and data.rows:
        per_day: dict[datetime, dict[str, float]] = defaultdict(lambda: defaultdict(float))
        for row in data.rows:
            day = to_moment(row.get(day_column))
            if day is None:
                continue
            day = day.replace(hour=0, minute=0, second=0, microsecond=0)
            for measure in measures:
                per_day[day][measure] += float(row.get(measure) or 0)
        days = sorted(per_day)
        chart_list.append(
            charts.daily_lines(
                "api-activity",
                days,
                {m: [per_day[d][m] for d in days] for m in measures},
                "Didit API activity per day: requests, errors and authentication failures.",
            )
        )
    spikes = [r for r in data.rows if r.get("spike_flag")]
    return Block(
        "api-activity",
        "Didit API activity (Annex 3.2.3(a)(c)(h), 3.2.4)",
        "Requests to the Didit API per day; a spike is more than 50 % above the trailing "
        "baseline (threshold from the marts' seed).",
        metrics=[
            Metric(
                "api_requests",
                "API requests",
                total(data, "requests"),
                total(data, "requests", data.previous_rows)
                if data.previous_rows is not None
                else None,
            ),
            Metric(
                "api_auth_failures",
                "Authentication failures (401/403)",
                total(data, "auth_fail_401_403"),
                total(data, "auth_fail_401_403", data.previous_rows)
                if data.previous_rows is not None
                else None,
            ),
            Metric(
                "api_spikes",
                "Spike days/buckets",
                len(spikes) if "spike_flag" in data.columns else None,
                bad_when_positive=True,
            ),
        ],
        charts=chart_list,
        tables=[
            table(
                "api-spikes",
                "Spikes",
                data,
                spikes,
                (
                    day_column or "day",
                    "application",
                    "http_method",
                    "method",
                    "status_class",
                    "requests",
                    "baseline_median",
                    "pct_vs_baseline",
                    "spike_flag",
                ),
                empty_text="No spike in this period.",
            )
        ],
        no_data=no_data(data),
    )


def build(context: PackContext) -> Section:
    return Section(
        "identity",
        "Identity and access",
        "Dir. Art. 21(2)(i)(j); IR 2024/2690 Annex 3.2, 10.2, 11",
        "Evidence that access controls operated during the period, not only that they are "
        "configured.",
        blocks=[
            _auth_failures(context),
            _privileged(context),
            mfa.block(context.marts),
            _access_reviews(context),
            _identity_assurance(context),
            _anomalies(context),
            _api_activity(context),
        ],
    )
