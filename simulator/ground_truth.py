"""The ground-truth manifest: each planted scenario and what each mart must report.

Mart and column names follow NIS2-REFERENCE.md §6. ``match`` holds column values the mart
row must carry; ``identifiers`` holds the raw ids (emails, user ids, IPs, incident ids) a
test can join on where the mart pseudonymises them. A scenario is listed once it is complete
by ``end`` (its last consequence has happened), so the manifest never promises the future.
"""

from __future__ import annotations

import csv
from datetime import datetime, timedelta
from pathlib import Path

from simulator import didit_scenarios as ds
from simulator import keycloak_gen as kg
from simulator.clock import from_epoch_ms, to_epoch_ms
from simulator.didit_traffic import NOISE_LIMITS
from simulator.incidents_gen import ENTITY_PROFILE, Incident
from simulator.organisation import Organisation
from simulator.schedule import (
    BRUTE_FORCE_IP,
    KEY_MISUSE_COUNTRY,
    KEY_MISUSE_IP,
    SILENT_AGENT,
    SPRAY_IP,
    Schedule,
    Window,
)
from simulator.thresholds import (
    loss_threshold_eur,
    notification_hours,
    recurring_window_months,
)
from simulator.wazuh_gen import NORMAL_MAX_GAP_MINUTES

AUTH = "mart_nis2_auth_failure_detections"
INCIDENTS = "mart_nis2_incident_register"
SIGNIFICANCE = "mart_nis2_significance_assessment"
DEADLINES = "mart_nis2_reporting_deadlines"
RECURRING = "mart_nis2_recurring_incident_check"
GAPS = "mart_nis2_log_ingestion_gaps"
ACCESS = "mart_nis2_access_review_status"
PRIVILEGED = "mart_nis2_privileged_activity"
ANOMALIES = "mart_nis2_access_anomalies"
API_DAILY = "mart_nis2_api_activity_daily"
MFA = "mart_nis2_mfa_coverage"
SIEM = "mart_nis2_siem_alert_handling"
SIEM_DETECTIONS = "mart_nis2_siem_detections"
IAM = "mart_nis2_iam_admin_detections"
CORRELATED = "mart_nis2_correlated_findings"
# The marts whose every finding must belong to a planted scenario: the simulator's background
# stays below every detection threshold (NOISE_LIMITS), so a finding outside the scenarios'
# windows is a false positive (tests/transform/ground_truth.py, check_period_bounds).
FINDING_MARTS = {
    AUTH: {},
    SIEM_DETECTIONS: {},
    IAM: {"is_finding": True},
    CORRELATED: {},
}
# The simulated organisation's documented exceptions are the demo rows of the dbt seed.
EXCEPTIONS_SEED = Path(__file__).resolve().parents[1] / "transform/seeds/policy_exceptions.csv"


def _iso(ts: datetime) -> str:
    return ts.strftime("%Y-%m-%dT%H:%M:%SZ")


def _exp(
    mart: str,
    match: dict,
    min_rows: int = 1,
    *,
    who: dict[str, str] | None = None,
    window: Window | None = None,
) -> dict:
    """Rows of `mart` carrying `match`; `who` maps a pseudonymised column to the raw person or
    address it must be the pseudonym of, `window` is the time the row must overlap (the mart's
    time columns: tests/transform/ground_truth.py TIME_COLUMNS)."""
    exp = {"mart": mart, "match": match, "min_rows": min_rows}
    if who:
        exp["pseudonymised"] = who
    if window is not None:
        exp["window"] = window.as_json()
    return exp


def _forbid(mart: str, match: dict) -> dict:
    """No mart row may match: the negative case of a scenario or a clean period."""
    return {"mart": mart, "match": match, "max_rows": 0}


def _incident_exp(inc: Incident, significant: bool) -> list[dict]:
    return [
        _exp(
            INCIDENTS,
            {
                "incident_id": inc.incident_id,
                "root_cause_key": inc.root_cause_key,
                "root_cause": inc.root_cause,
            },
        ),
        _exp(SIGNIFICANCE, {"incident_id": inc.incident_id, "is_significant": significant}),
    ]


def _role_revocations(org: Organisation, s: Schedule, end: datetime) -> list[dict]:
    """Mappings revoked by ``end``: gone from ``user_role_mapping``, so no longer current."""
    users = kg.build_users(org, s)
    revoked = kg.planned_revocation(s, users)
    if revoked.at_ms > to_epoch_ms(end):
        return []
    who = next(u for u in users if u.id == revoked.user_id)
    return [
        {
            "user_id": who.id,
            "username": who.username,
            "email": who.email,
            "role": revoked.role,
            "role_id": org.role_ids[revoked.role],
            "granted_at": _iso(from_epoch_ms(kg.approved_grant_ms(s, kg.REVOKED_GRANT))),
            "revoked_at": _iso(from_epoch_ms(revoked.at_ms)),
            "approval_ticket_id": revoked.ticket,
        }
    ]


def exception_cover(scope_value: str) -> list[tuple[datetime, datetime]]:
    """Approval-to-expiry intervals of the register's exceptions for one scope (seed rows)."""
    if not EXCEPTIONS_SEED.exists():
        return []
    with EXCEPTIONS_SEED.open(encoding="utf-8", newline="") as fh:
        rows = [r for r in csv.DictReader(fh) if r["scope_value"] == scope_value]
    return sorted(
        (
            datetime.fromisoformat(r["approved_at"].replace("Z", "+00:00")),
            datetime.fromisoformat(r["expires_at"].replace("Z", "+00:00")),
        )
        for r in rows
    )


def _covered(cover: list[tuple[datetime, datetime]], start: datetime, end: datetime) -> bool:
    """True when the intervals cover [start, end] without a hole."""
    reach = start
    for lo, hi in cover:
        if lo > reach:
            return False
        reach = max(reach, hi)
        if reach >= end:
            return True
    return False


def _mfa_expectations(s: Schedule, end: datetime) -> list[dict]:
    """The planted privileged gap, and the service account exempted by the register."""
    expect = [_exp(MFA, {"principal_class": "privileged", "target_status": "below_target"})]
    cover = exception_cover(kg.SERVICE_ACCOUNT)
    if any(lo < end and hi > s.period_start for lo, hi in cover):
        expect.append(
            _exp(
                MFA,
                {
                    "principal_class": "service",
                    "application": kg.SERVICE_CLIENT,
                    "target_status": "all_excepted",
                },
            )
        )
    if _covered(cover, s.period_start, end):
        expect.append(_forbid(MFA, {"principal_class": "service", "target_status": "below_target"}))
    first, _, second = kg.factor_removal_logins_ms(s)
    if from_epoch_ms(second) <= end:
        # the remover's Saturday holds only her two log-ins: the first with her app, the one
        # after REMOVE_TOTP without it (the credential row is gone; the event dates the removal)
        day = from_epoch_ms(first).date().isoformat()
        match = {"day": day, "application": kg.ACCOUNT_CLIENT, "principal_class": "standard"}
        expect.append(_exp(MFA, {**match, "logins": 2, "logins_with_mfa": 1}))
    return expect


def build_ground_truth(
    seed: int,
    org: Organisation,
    s: Schedule,
    end: datetime,
    incidents: list[Incident],
    facts: dict,
    counts: dict,
) -> dict:
    inc = {i.key: i for i in incidents}
    user = {u.email: u for u in kg.build_users(org, s)}
    by_name = {u.username: u for u in user.values()}
    misuse = inc["key_misuse"]
    final_at = misuse.stages["final_report"][0]
    nt_at = misuse.stages["notification"][0]
    ew_h = (misuse.stages["early_warning"][0] - misuse.aware) / timedelta(hours=1)
    nt_h = (nt_at - misuse.aware) / timedelta(hours=1)
    loss_limit = loss_threshold_eur(ENTITY_PROFILE["turnover_prev_fy_eur"])
    recurring_ids = [inc[f"recurring_{n}"].incident_id for n in (1, 2, 3)]
    third = inc["recurring_3"]  # completes the IR Art. 4 group (rolling windows)
    group_id = f"ART4:RC-TLS-CERT-EXPIRY:{third.incident_id}"
    takeover = inc["seller_takeover"]
    grant_window = Window(
        s.unapproved_grant - timedelta(minutes=3), s.unapproved_grant + timedelta(minutes=1)
    )
    proper = by_name[kg.PROPER_LEAVER]
    retries_at = s.key_misuse_aware + timedelta(hours=17)  # didit_scenarios.key_misuse
    scenarios = [
        (
            "brute_force",
            "auth_bruteforce",
            "25 failed Console logins and 20 failed Keycloak logins for one administrator from one "
            "address in 11 minutes; both lock the account.",
            s.brute_force,
            ["didit.audit_logs", "keycloak.event_entity", "wazuh.alerts", "incidents"],
            {
                "user_email": ds.BRUTE_FORCE_TARGET,
                "keycloak_user_id": user[ds.BRUTE_FORCE_TARGET].id,
                "username": user[ds.BRUTE_FORCE_TARGET].username,
                "src_ip": BRUTE_FORCE_IP,
                "incident_id": inc["brute_force"].incident_id,
                "wazuh_rule_id": "100211",
            },
            [
                *[
                    _exp(
                        AUTH,
                        {"detection_type": "user_bruteforce", "source_system": system},
                        who={"principal_key": ds.BRUTE_FORCE_TARGET, "src_ip_key": BRUTE_FORCE_IP},
                        window=s.brute_force,
                    )
                    for system in ("didit", "keycloak")
                ],
                # the forwarded Keycloak failures (rule 100210, group authentication_failed)
                _exp(
                    SIEM_DETECTIONS,
                    {"detection_type": "bruteforce"},
                    who={"src_ip_key": BRUTE_FORCE_IP},
                    window=s.brute_force,
                ),
                *[
                    _exp(
                        CORRELATED,
                        {"key_type": kind, "sources": "didit;keycloak;wazuh"},
                        who={"subject_key": subject},
                        window=s.brute_force,
                    )
                    for kind, subject in (
                        ("address", BRUTE_FORCE_IP),
                        ("person", ds.BRUTE_FORCE_TARGET),
                    )
                ],
                *_incident_exp(inc["brute_force"], False),
                _exp(
                    SIEM,
                    {
                        "rule_id": "100211",
                        "disposition": "escalated",
                        "escalated_incident_id": inc["brute_force"].incident_id,
                    },
                ),
            ],
            inc["brute_force"].resolved,
        ),
        (
            "password_spray",
            "auth_password_spray",
            f"One address tries one password against {kg.SPRAY_USERS} Keycloak accounts, "
            f"{len(kg.SPRAY_UNKNOWN)} unknown usernames and {len(ds.SPRAY_EMAILS)} Console "
            "e-mails; "
            f"then signs in as {kg.SPRAY_SUCCESS} after two more failures.",
            s.password_spray,
            ["didit.audit_logs", "keycloak.event_entity", "wazuh.alerts", "incidents"],
            {
                "src_ip": SPRAY_IP,
                "compromised_username": kg.SPRAY_SUCCESS,
                "compromised_email": by_name[kg.SPRAY_SUCCESS].email,
                "compromised_keycloak_user_id": by_name[kg.SPRAY_SUCCESS].id,
                "incident_id": inc["password_spray"].incident_id,
                "wazuh_rule_ids": ["100212", "100213"],
            },
            [
                _exp(
                    AUTH,
                    {"detection_type": "password_spray"},
                    who={"src_ip_key": SPRAY_IP},
                    window=s.password_spray,
                ),
                _exp(
                    AUTH,
                    {"detection_type": "success_after_failures", "source_system": "keycloak"},
                    who={"principal_key": by_name[kg.SPRAY_SUCCESS].email, "src_ip_key": SPRAY_IP},
                    window=s.password_spray,
                ),
                *[
                    _exp(
                        SIEM_DETECTIONS,
                        {"detection_type": kind},
                        who={"src_ip_key": SPRAY_IP},
                        window=s.password_spray,
                    )
                    # the forwarded Keycloak failures, then rule 100213's success
                    for kind in ("password_spray", "bruteforce", "bruteforce_then_success")
                ],
                _exp(
                    CORRELATED,
                    {"key_type": "address", "sources": "didit;keycloak;wazuh"},
                    who={"subject_key": SPRAY_IP},
                    window=s.password_spray,
                ),
                _exp(
                    CORRELATED,
                    {"key_type": "person", "sources": "keycloak;wazuh"},
                    who={"subject_key": by_name[kg.SPRAY_SUCCESS].email},
                    window=s.password_spray,
                ),
                *_incident_exp(inc["password_spray"], False),
            ],
            inc["password_spray"].resolved,
        ),
        (
            "bulk_read",
            "possible_exfiltration",
            f"A Reader opens {facts.get('bulk_read_sessions', 0)} verification decisions in 85 "
            "minutes (DETAIL_VIEWED on each session's activity feed).",
            s.bulk_read,
            ["didit.audit_logs", "didit.session_reviews", "incidents"],
            {
                "user_email": ds.BULK_READER,
                "sessions_viewed": facts.get("bulk_read_sessions", 0),
                "incident_id": inc["bulk_read"].incident_id,
            },
            [
                _exp(API_DAILY, {"spike_flag": True, "day": s.bulk_read.start.date().isoformat()}),
                *_incident_exp(inc["bulk_read"], False),
            ],
            inc["bulk_read"].resolved,
        ),
        (
            "api_key_new_country",
            "access_anomaly",
            f"The production API key is used at night from {KEY_MISUSE_COUNTRY} (never seen for "
            f"this key) to list sessions and download {facts.get('key_misuse_decisions', 0)} "
            "decisions; rotated the next morning, later retries get 403.",
            s.key_misuse,
            ["didit.audit_logs", "incidents"],
            {
                "api_key_name": ds.MISUSED_KEY,
                "src_ip": KEY_MISUSE_IP,
                "country": KEY_MISUSE_COUNTRY,
                "incident_id": misuse.incident_id,
            },
            [
                _exp(
                    ANOMALIES,
                    {
                        "country": KEY_MISUSE_COUNTRY,
                        "first_seen_country_for_user": True,
                        "is_off_hours": True,
                    },
                    who={"ip_key": KEY_MISUSE_IP},
                    window=s.key_misuse,
                ),
                _exp(API_DAILY, {"spike_flag": True, "day": s.key_misuse.start.date().isoformat()}),
                # after the rotation the attacker's six retries with the old key get 403
                _exp(
                    AUTH,
                    {"detection_type": "user_bruteforce", "source_system": "didit"},
                    who={"principal_key": ds.MISUSED_KEY, "src_ip_key": KEY_MISUSE_IP},
                    window=Window(retries_at, retries_at + timedelta(minutes=3)),
                ),
            ],
            s.key_misuse.end + timedelta(days=2),
        ),
        (
            "unapproved_role_grant",
            "privileged_assignment",
            "An Admin grants the realm role didit-console-admin (and Console role Admin) to a "
            "Developer after hours with no approval ticket; every other grant carries one in "
            "admin_event_entity.details_json.approval_ticket_id.",
            grant_window,
            ["keycloak.admin_event_entity", "didit.audit_logs", "wazuh.alerts"],
            {
                "actor_email": ds.GRANT_ACTOR,
                "target_email": ds.GRANT_TARGET,
                "target_keycloak_user_id": user[ds.GRANT_TARGET].id,
                "role": "didit-console-admin",
            },
            [
                _exp(
                    PRIVILEGED,
                    {"event_class": "assignment", "unapproved_assignment": True},
                    who={"actor_key": ds.GRANT_ACTOR, "target_principal_key": ds.GRANT_TARGET},
                    window=grant_window,
                ),
                _exp(PRIVILEGED, {"event_class": "assignment", "unapproved_assignment": False}, 1),
                # after hours, with its target resolved from resource_path and its local time
                _exp(
                    IAM,
                    {
                        "detection_type": "privileged_grant_unusual",
                        "role_name": "didit-console-admin",
                        "is_off_hours": True,
                        "approval_ticket_id": None,
                    },
                    who={"actor_key": ds.GRANT_ACTOR, "target_key": ds.GRANT_TARGET},
                    window=grant_window,
                ),
                # no incident was opened: the grant alarm (rule 100220) was never triaged
                _exp(SIEM, {"rule_id": "100220", "disposition": "untriaged"}),
            ],
            s.unapproved_grant + timedelta(minutes=1),
        ),
        (
            "leaver_access_active",
            "leaver",
            "An employee leaves (user_attribute employment_end_date) but the Keycloak account "
            "stays enabled with its roles and keeps signing in on Mondays, also to the Didit "
            "Console. "
            f"A second leaver ({kg.PROPER_LEAVER}) is disabled on the day: the negative case.",
            Window(s.period_start, end),
            [
                "keycloak.user_entity",
                "keycloak.user_attribute",
                "keycloak.event_entity",
                "didit.audit_logs",
            ],
            {
                "user_email": ds.LEAVER,
                "keycloak_user_id": user[ds.LEAVER].id,
                "employment_end_date": s.leaver_end.isoformat(),
                "proper_leaver_keycloak_user_id": by_name[kg.PROPER_LEAVER].id,
                "proper_leaver_email": proper.email,
            },
            [
                _exp(
                    ACCESS,
                    {"hr_status": "leaver", "leaver_access_active": True},
                    who={"principal_key": ds.LEAVER},
                ),
                _exp(
                    ACCESS,
                    {"hr_status": "leaver", "leaver_access_active": False},
                    who={"principal_key": proper.email},
                ),
                # the proper leaver's disabling is an admin event: recorded, no access after it
                _exp(
                    IAM,
                    {
                        "detection_type": "leaver_access",
                        "is_finding": False,
                        "logins_after_leave": 0,
                    },
                    who={"target_key": proper.email},
                ),
            ],
            datetime.combine(
                s.leaver_end + timedelta(days=8), datetime.min.time(), tzinfo=end.tzinfo
            ),
        ),
        (
            "webhook_outage",
            "availability",
            "The webhook receiver answers 503 or times out for 5.5 hours; Didit retries twice.",
            s.webhook_outage,
            ["didit.webhook_deliveries", "wazuh.alerts", "incidents"],
            {
                "destination_label": "Backend status updates",
                "incident_id": inc["webhook_outage"].incident_id,
                "wazuh_rule_id": "31123",
            },
            _incident_exp(inc["webhook_outage"], False),
            inc["webhook_outage"].resolved,
        ),
        (
            "log_source_silent",
            "log_gap",
            f"The Wazuh agent on {SILENT_AGENT} stops for 7.5 hours (cron alerts normally every "
            "30 minutes); the manager logs rule 504, the agent rule 503 on return. Keycloak keeps "
            "recording events meanwhile.",
            s.log_gap,
            ["wazuh.alerts", "keycloak.event_entity", "incidents"],
            {
                "agent": SILENT_AGENT,
                "last_alert_before": facts.get("gap_last_before"),
                "first_alert_after": facts.get("gap_first_after"),
                "incident_id": inc["log_gap"].incident_id,
                "normal_max_gap_minutes": NORMAL_MAX_GAP_MINUTES,
            },
            [
                _exp(
                    GAPS,
                    {"source_system": "wazuh", "asset_id": SILENT_AGENT},
                    window=s.log_gap,
                ),
                *_incident_exp(inc["log_gap"], False),
            ],
            inc["log_gap"].resolved,
        ),
        (
            "significant_incident_late_notification",
            "late_notification",
            "The API-key compromise is significant: IR 2024/2690 Art. 3(1)(a) (direct loss "
            f"EUR {misuse.loss_eur:,} > EUR {loss_limit:,.0f}, the lower of the fixed amount and "
            "the turnover share), Art. 3(1)(e) and Art. 11(c) (CIA compromised by a suspectedly "
            f"malicious action). Early warning after {ew_h:.0f} h (met), notification after "
            f"{nt_h:.0f} h ({notification_hours()} h allowed: breached), final report "
            f"{(final_at - nt_at).days} days after the notification (met).",
            Window(misuse.aware, final_at),
            ["incidents", "didit.audit_logs"],
            {
                "incident_id": misuse.incident_id,
                "aware_at": _iso(misuse.aware),
                "criteria_met": ["3(1)(a)", "3(1)(e)", "11(c)"],
                "fin_threshold_eur": loss_limit,
                "direct_loss_eur": misuse.loss_eur,
            },
            [
                *_incident_exp(misuse, True),
                _exp(
                    DEADLINES,
                    {
                        "incident_id": misuse.incident_id,
                        "stage": "early_warning",
                        "status": "met",
                        "submission_ref": misuse.stages["early_warning"][1],
                    },
                ),
                _exp(
                    DEADLINES,
                    {
                        "incident_id": misuse.incident_id,
                        "stage": "notification",
                        "status": "breached",
                        "submission_ref": misuse.stages["notification"][1],
                    },
                ),
                _exp(
                    DEADLINES,
                    {
                        "incident_id": misuse.incident_id,
                        "stage": "final",
                        "status": "met",
                        "submission_ref": misuse.stages["final_report"][1],
                    },
                ),
            ],
            final_at,
        ),
        (
            "recurring_incidents",
            "recurring_art4",
            "Three incidents with root cause RC-TLS-CERT-EXPIRY within "
            f"{recurring_window_months()} months, each below "
            "every threshold, together EUR 520 000 direct loss: one significant incident under IR "
            "2024/2690 Art. 4. RC-CREDENTIAL-ATTACK recurs too but stays below the threshold.",
            Window(s.recurring[0], third.resolved),
            ["incidents"],
            {
                "incident_ids": recurring_ids,
                "root_cause_key": "RC-TLS-CERT-EXPIRY",
                "window_end": _iso(third.detected),
                "group_id": group_id,
                "sum_direct_loss_eur": 520_000,
            },
            [
                _exp(
                    RECURRING,
                    {
                        "root_cause_key": "RC-TLS-CERT-EXPIRY",
                        "meets_art4": True,
                        "completes_group": True,
                        "checked_incident_id": third.incident_id,
                        "window_end": _iso(third.detected),
                        "group_id": group_id,
                    },
                ),
                # one significant incident: every Art. 23 stage, anchored on the third's awareness
                *[
                    _exp(
                        DEADLINES,
                        {
                            "incident_id": group_id,
                            "reportable_type": "art4_group",
                            "stage": stage,
                            "anchor_at": _iso(third.aware),
                        },
                    )
                    for stage in ("early_warning", "notification")
                ],
                _exp(DEADLINES, {"incident_id": group_id, "stage": "final"}),
                _forbid(RECURRING, {"root_cause_key": "RC-CREDENTIAL-ATTACK", "meets_art4": True}),
                *[
                    _exp(SIGNIFICANCE, {"incident_id": i, "is_significant": False})
                    for i in recurring_ids
                ],
            ],
            third.resolved,
        ),
        (
            "significant_incident_reported_month",
            "significant_reported_month",
            "Seller accounts taken over in the reported month: significant under IR 2024/2690 "
            "Art. 3(1)(e) (successful, suspectedly malicious unauthorised access capable of "
            "severe operational disruption) and Art. 11(c); early warning, notification, the "
            "intermediate report the CSIRT asked for and the GDPR Art. 33 notification in time.",
            Window(takeover.detected, takeover.stages["intermediate"][0]),
            ["incidents"],
            {"incident_id": takeover.incident_id, "aware_at": _iso(takeover.aware)},
            [
                _exp(
                    SIGNIFICANCE,
                    {
                        "incident_id": takeover.incident_id,
                        "is_significant": True,
                        "significance_status": "significant",
                        "c_3_1_e": True,
                        "c_art11_c": True,
                    },
                ),
                *[
                    _exp(
                        DEADLINES,
                        {"incident_id": takeover.incident_id, "stage": stage, "status": "met"},
                    )
                    for stage in ("early_warning", "notification", "intermediate")
                ],
                _exp(
                    DEADLINES,
                    {
                        "incident_id": takeover.incident_id,
                        "regime": "GDPR_ART33",
                        "stage": "personal_data_breach",
                        "status": "met",
                    },
                ),
            ],
            takeover.stages["intermediate"][0],
        ),
        (
            "privileged_login_without_mfa",
            "mfa_gap",
            f"The Owner ({kg.MFA_MISSING_ADMIN}) has no second factor in Keycloak yet signs in "
            "every weekday; the other administrators use security keys. Staff use OTP, "
            f"{kg.LATE_ENROLLER} only from mid-period. The HR sync's service account "
            f"({kg.SERVICE_ACCOUNT}) signs in nightly with client credentials under a documented "
            "exception (transform/seeds/policy_exceptions.csv), counted but not a finding "
            f"while the exception is valid. {kg.FACTOR_REMOVER} sets up an authenticator app, "
            "then on a Saturday signs in to the account console with it, removes it "
            "(REMOVE_CREDENTIAL, REMOVE_TOTP) and signs in again without a second factor.",
            Window(s.period_start, end),
            ["keycloak.credential", "keycloak.event_entity", "keycloak.user_role_mapping"],
            {
                "user_email": kg.MFA_MISSING_ADMIN,
                "keycloak_user_id": user[kg.MFA_MISSING_ADMIN].id,
                "late_enroller_keycloak_user_id": by_name[kg.LATE_ENROLLER].id,
                "factor_remover_keycloak_user_id": by_name[kg.FACTOR_REMOVER].id,
                "service_account": kg.SERVICE_ACCOUNT,
                "service_client": kg.SERVICE_CLIENT,
            },
            _mfa_expectations(s, end),
            s.period_start + timedelta(days=7),
        ),
        (
            "planned_maintenance",
            "excluded_maintenance",
            "A 45-minute announced maintenance outage: not significant (IR 2024/2690 Art. 3(2)).",
            Window(s.planned_maintenance, s.planned_maintenance + timedelta(minutes=45)),
            ["incidents"],
            {"incident_id": inc["planned_maintenance"].incident_id},
            [
                _exp(
                    SIGNIFICANCE,
                    {
                        "incident_id": inc["planned_maintenance"].incident_id,
                        "is_significant": False,
                    },
                )
            ],
            inc["planned_maintenance"].resolved,
        ),
    ]
    listed = []
    for sid, kind, desc, window, sources, ids, expect, complete_at in scenarios:
        if complete_at <= end:
            listed.append(
                {
                    "id": sid,
                    "kind": kind,
                    "description": desc,
                    "window": window.as_json(),
                    "sources": sources,
                    "identifiers": ids,
                    "expect": expect,
                }
            )
    clean = []
    if s.clean.end <= end:
        clean.append(
            {
                **s.clean.as_json(),
                "marts": [AUTH, ANOMALIES, GAPS, SIEM_DETECTIONS, IAM, CORRELATED],
                "checks": [
                    _forbid(AUTH, {}),
                    _forbid(ANOMALIES, {}),
                    _forbid(GAPS, {}),
                    _forbid(PRIVILEGED, {"unapproved_assignment": True}),
                    _forbid(SIEM_DETECTIONS, {}),
                    _forbid(IAM, {"is_finding": True}),
                    _forbid(CORRELATED, {}),
                ],
            }
        )
    return {
        "seed": seed,
        "period": {"start": _iso(s.period_start), "end": _iso(end)},
        "anchor": {"start": s.start.isoformat(), "days": s.days},
        "organisation": {
            **ENTITY_PROFILE,
            "organization_id": org.organization_id,
            "application_id": org.live_app[0],
        },
        "noise_limits": NOISE_LIMITS,
        # Over the whole period, findings of these marts outside every scenario's window: the
        # noise limits keep the background below every threshold, so none is allowed.
        "period_bounds": [
            {"mart": mart, "match": match, "outside_scenarios_max_rows": 0}
            for mart, match in FINDING_MARTS.items()
        ],
        "scenarios": listed,
        "clean_periods": clean,
        "role_revocations": _role_revocations(org, s, end),
        "counts": dict(sorted(counts.items())),
    }
