"""In-memory mart rows shaped exactly like the NIS2 marts' columns (NIS2-REFERENCE §6),
for unit tests of the renderer. October 2026 is the period under test.

Like the real marts, they hold people and IP addresses only as `*_key` pseudonyms, made here
with the marts' formula (transform/macros/pseudonymise.sql) under TEST_KEY; the identities
behind them sit in the intermediate models the warehouse has (IDENTITIES)."""

from __future__ import annotations

import hashlib
import hmac
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from typing import Any

TEST_KEY = "report-tests-pseudonym-key"


def mart_key(identity: str) -> str:
    """What dbt writes for `identity`: 'p_' + 24 hex digits of HMAC-SHA256(key, lower(value))."""
    digest = hmac.new(TEST_KEY.encode(), identity.lower().encode(), hashlib.sha256)
    return "p_" + digest.hexdigest()[:24]


def ts(day: int, hour: int = 0, month: int = 10) -> datetime:
    return datetime(2026, month, day, hour, tzinfo=UTC)


INCIDENTS = [
    {
        "incident_id": "INC-2026-014",
        "title": "Credential stuffing against the Console from 203.0.113.7",
        "category": "unauthorised_access",
        "severity": "high",
        "status": "resolved",
        "detected_at": ts(3, 8),
        "aware_at": ts(3, 10),
        "contained_at": ts(3, 18),
        "resolved_at": ts(6, 12),
        "suspected_malicious": "yes",
        "cross_border_possible": True,
        "root_cause": "password reuse without MFA",
        "root_cause_key": "weak-auth",
        "iocs_count": 3,
        # typed indicators (mart column iocs): an address only as its pseudonym
        "iocs": [
            {"type": "domain-name", "value": "console-login.example.net", "value_key": None},
            {
                "type": "file:sha256",
                "value": "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08",
                "value_key": None,
            },
            {
                "type": "ipv4-addr",
                "value": None,
                "value_key": mart_key("192.0.2.44"),
                "alert_ids": "1790.1;1790.2",
            },
        ],
        "affected_users": 1250,
        "estimated_direct_loss_eur": Decimal("82000.00"),
        "is_significant": True,
    },
    {
        "incident_id": "INC-2026-015",
        "title": "Webhook deliveries failing",
        "category": "availability",
        "severity": "low",
        "status": "resolved",
        "detected_at": ts(20, 9),
        "aware_at": ts(20, 9),
        "contained_at": None,
        "resolved_at": ts(20, 11),
        "suspected_malicious": "no",
        "cross_border_possible": False,
        "root_cause": None,
        "root_cause_key": "vendor",
        "iocs_count": 0,
        "affected_users": 0,
        "estimated_direct_loss_eur": Decimal("0"),
        "is_significant": False,
    },
    {  # September incident, closed before October: outside the period
        "incident_id": "INC-2026-009",
        "title": "Old incident",
        "category": "availability",
        "severity": "low",
        "status": "resolved",
        "detected_at": ts(2, 9, month=9),
        "aware_at": ts(2, 9, month=9),
        "contained_at": None,
        "resolved_at": ts(3, 9, month=9),
        "suspected_malicious": "no",
        "cross_border_possible": False,
        "root_cause": None,
        "root_cause_key": "vendor",
        "iocs_count": 0,
        "affected_users": 0,
        "estimated_direct_loss_eur": Decimal("0"),
        "is_significant": False,
    },
]

SIGNIFICANCE = [
    {
        "incident_id": "INC-2026-014",
        "assessed_at": ts(3, 11),
        "regime": "IR_2024_2690",
        "is_significant": True,
        "criteria_met": ["3(1)(e)"],
        "fin_threshold_eur": Decimal("500000"),
        "direct_loss_eur_estimate": Decimal("82000.00"),
        "explanation": "successful suspectedly malicious unauthorised access",
    },
    {
        "incident_id": "INC-2026-015",
        "assessed_at": ts(20, 10),
        "regime": "IR_2024_2690",
        "is_significant": False,
        "criteria_met": [],
        "fin_threshold_eur": Decimal("500000"),
        "direct_loss_eur_estimate": Decimal("0"),
        "explanation": "no criterion met",
    },
]

DEADLINES = [
    {
        "deadline_id": f"INC-2026-014:NIS2_ART23:{stage}",
        "incident_id": "INC-2026-014",
        "regime": "NIS2_ART23",
        "stage": stage,
        "anchor_at": anchor,
        "due_at": due,
        "submitted_at": filed,
        "status": status,
        "hours_late": late,
        "is_significant": True,
    }
    for stage, anchor, due, filed, status, late in (
        ("early_warning", ts(3, 10), ts(4, 10), ts(4, 2), "met", None),
        ("notification", ts(3, 10), ts(6, 10), ts(7, 9), "breached", Decimal("23.00")),
        ("final", ts(7, 9), ts(7, 9, month=11), None, "open_ok", None),
        ("progress", ts(7, 9, month=11), ts(7, 9, month=11), None, "not_required", None),
    )
] + [
    {
        "deadline_id": f"INC-2026-015:NIS2_ART23:{stage}",
        "incident_id": "INC-2026-015",
        "regime": "NIS2_ART23",
        "stage": stage,
        "anchor_at": ts(20, 9),
        "due_at": ts(21, 9),
        "submitted_at": None,
        "status": "not_required",
        "hours_late": None,
        "is_significant": False,
    }
    for stage in ("early_warning", "notification", "final", "progress")
]

CONTROL_MATRIX = [
    {
        "ref_id": ref,
        "month": date(2026, 10, 1),
        "requirement_text": text,
        "dir_art21_point": p,
        "status": status,
        "metric_value": value,
        "target": target,
        "evidence_models": models,
        "last_evidence_at": ts(31, 12),
    }
    for ref, text, p, status, value, target, models in (
        (
            "3.2.3",
            "Logs kept and reviewed",
            "b",
            "pass",
            Decimal("100"),
            "100",
            "mart_nis2_log_source_coverage",
        ),
        (
            "3.2.5",
            "Logs retained and protected",
            "b",
            "fail",
            Decimal("92.5"),
            "100",
            "mart_nis2_log_retention_integrity",
        ),
        (
            "11.2.3",
            "Access rights reviewed",
            "i",
            "no_data",
            None,
            "100",
            "mart_nis2_access_review_status",
        ),
        ("2.2.1", "Compliance reporting to management", "a", "manual_required", None, None, ""),
    )
]

MONTHLY = [
    {
        "report_id": f"simulated-org:{month}",
        "month": month,
        "entity_id": "simulated-org",
        "incidents_total": total,
        "significant_incidents": significant,
        "stages_breached": breached,
        "mfa_coverage_pct": mfa,
        "approved_by": "carol.ceo@example.org",
        "approved_at": approved,
    }
    for month, total, significant, breached, mfa, approved in (
        (date(2026, 10, 1), 2, 1, 1, Decimal("97.5"), None),
        (date(2026, 9, 1), 4, 0, 0, Decimal("95.0"), ts(5, 9)),
    )
]

AUTH_FAILURES = [
    {
        "detection_id": f"d{n}",
        "detection_type": kind,
        "source_system": system,
        "principal_key": principal and mart_key(principal),
        "src_ip_key": ip and mart_key(ip),
        "application": app,
        "window_start": start,
        "window_end": start + timedelta(hours=1),
        "detected_at": start,
        "failures": failures,
        "distinct_users": users,
        "distinct_ips": 1,
        "lockouts": lockouts,
        "peak_in_window": failures,
        "threshold_used": 3,
        "alert_raised_in_siem": alert is not None,
        "siem_alert_id": alert,
    }
    for n, (kind, system, principal, ip, app, start, failures, users, lockouts, alert) in enumerate(
        (
            (
                "password_spray",
                "keycloak",
                None,
                "198.51.100.23",
                "console",
                ts(3, 7),
                140,
                40,
                5,
                None,
            ),
            (
                "user_bruteforce",
                "didit",
                "dave@example.org",
                "192.0.2.44",
                "api",
                ts(12, 1),
                12,
                1,
                3,
                "1760230000.1",
            ),
            (
                "user_bruteforce",
                "didit",
                "dave@example.org",
                "192.0.2.44",
                "api",
                ts(12, 1, month=9),
                9,
                1,
                3,
                "1757640000.1",
            ),
        )
    )
]

PRIVILEGED = [
    {
        "event_id": "p1",
        "event_ts": ts(5, 14),
        "actor_key": mart_key("erin@example.org"),
        "target_principal_key": mart_key("frank@example.org"),
        "privilege": "realm-admin",
        "event_class": "assignment",
        "mfa_used": True,
        "unapproved_assignment": True,
        "elevations_24h": 1,
        "behavioural_alarm": False,
    },
    {
        "event_id": "p2",
        "event_ts": ts(6, 14),
        "actor_key": mart_key("erin@example.org"),
        "target_principal_key": None,
        "privilege": "realm-admin",
        "event_class": "admin_action",
        "mfa_used": True,
        "unapproved_assignment": False,
        "elevations_24h": 0,
        "behavioural_alarm": False,
    },
]

API_DAILY = [
    {
        "day": date(2026, 10, d),
        "application": "kyc",
        "http_method": "GET",
        "status_class": "2xx",
        "requests": 100 + d,
        "err_4xx": d % 3,
        "err_5xx": 0,
        "auth_fail_401_403": d % 2,
        "writes": 0,
        "spike_flag": d == 3,
        "baseline_median": 100,
        "pct_vs_baseline": Decimal("5"),
    }
    for d in range(1, 32)
]

COVERAGE = [
    {
        "day": date(2026, 10, d),
        "asset_id": asset,
        "source_system": asset,
        "log_type": "3.2.3(d)",
        "expected": True,
        "events": 0 if (asset == "wazuh" and d == 9) else 50,
        "covered": not (asset == "wazuh" and d == 9),
        "max_gap_min": 10,
        "expected_max_gap_min": 60,
    }
    for d in range(1, 32)
    for asset in ("didit", "wazuh", "keycloak")
]

GAPS = [
    {
        "source_system": "wazuh",
        "asset_id": "wazuh",
        "gap_start": ts(9, 1),
        "gap_end": ts(9, 23),
        "gap_minutes": 1320,
        "expected_max_gap_min": 60,
        "explained_by": "unknown",
        "ticket_id": None,
    },
]

RETENTION = [
    {
        "source_system": "didit",
        "partition_date": date(2026, 10, d),
        "row_count": 500,
        "chain_digest": f"{d:064x}",
        "recomputed_digest": f"{d:064x}",
        "tamper_detected": d == 17,
        "oldest_retained_date": date(2025, 10, 1),
        "policy_retention_days": 365,
        "retention_ok": True,
    }
    for d in range(1, 32)
]

IDENTITY = [
    {
        "identity_key": mart_key("0b7c1f52-8d0e-4d3a-9a61-3f1e2c9d7a10"),
        "user_status": "active",
        "created_at": ts(1, 9),
        "first_verified_at": ts(2, 12),
        "verification_level": "verified",
        "verified_before_creation": False,
        "verification_sessions": 1,
        "approved_sessions": 1,
        "declined_sessions": 0,
        "manual_status_overrides": 2,
        "last_override_at": ts(3, 9),
        "linked_to_single_person": True,
    },
    {
        "identity_key": mart_key("5e2a9c44-1b7f-4c0e-8f3d-6a2b1c0d9e87"),
        "user_status": "active",
        "created_at": ts(5, 9),
        "first_verified_at": ts(4, 9),
        "verification_level": "verified",
        "verified_before_creation": True,
        "verification_sessions": 1,
        "approved_sessions": 1,
        "declined_sessions": 0,
        "manual_status_overrides": 0,
        "last_override_at": None,
        "linked_to_single_person": True,
    },
]

ANNEX_REQUIREMENTS = [
    {
        "ref_id": ref,
        "annex_section": ref.split(".")[0],
        "requirement_summary": text,
        "dir_art21_point": point,
        "iso27001_controls": "",
        "evidence_models": "",
        "metric_code": "",
        "source_citation": f"IR (EU) 2024/2690 Annex point {ref}",
    }
    for ref, text, point in (
        ("2.2.1", "Compliance reporting to management", "a"),
        ("3.2.3", "Logs kept and reviewed", "b"),
        ("3.2.5", "Logs retained and protected", "b"),
        ("11.2.3", "Access rights reviewed", "i"),
        ("11.5.4", "Identities reviewed and deactivated", "i"),  # not in the matrix
    )
]

THRESHOLDS = [
    {
        "criterion_code": "3(1)(a)",
        "value": Decimal("500000"),
        "unit": "EUR",
        "source_citation": "IR (EU) 2024/2690 Art. 3(1)(a)",
    },
]


# M5: alerts at or above the policy level; two escalated to INC-2026-014, one in September.
SIEM_ALERTS = [
    {
        "alert_id": alert_id,
        "rule_id": "5712",
        "rule_level": level,
        "rule_description": "sshd: brute force trying to get access to the system",
        "severity_band": band,
        "asset_id": "web-01",
        "first_seen_at": seen,
        "triaged_at": ts(3, 8) if incident else None,
        "escalated_incident_id": incident,
        "disposition": "escalated" if incident else "untriaged",
        "ttt_min": ttt,
        "triage_sla_minutes": sla,
        "sla_breached": breached,
    }
    for alert_id, level, band, seen, incident, ttt, sla, breached in (
        ("1790.1", 12, "critical", ts(3, 7), "INC-2026-014", Decimal("60.0"), 60, False),
        ("1790.2", 10, "high", ts(3, 5), "INC-2026-014", Decimal("180.0"), 240, False),
        ("1790.3", 12, "critical", ts(3, 6), "INC-2026-014", Decimal("120.0"), 60, True),
        ("1790.4", 7, "medium", ts(12, 4), None, None, 1440, True),
        ("1790.5", 8, "medium", ts(30, 4), None, None, 1440, False),
        ("1780.1", 12, "critical", ts(9, 4, month=9), None, None, 60, True),
    )
]

# M10: day x application x principal class x exposure.
MFA_COVERAGE = [
    {
        "mfa_coverage_id": f"{day}:{app}:{cls}:{exposed}",
        "day": day,
        "application": app,
        "principal_class": cls,
        "internet_facing": exposed,
        "logins": logins,
        "logins_with_mfa": with_mfa,
        "logins_phishing_resistant": strong,
        "exceptions_applied": excepted,
        "exception_ids": "EXC-2026-001" if excepted else None,
        "logins_in_scope": logins - excepted,
        "mfa_pct": None,
        "phishing_resistant_pct": None,
        "privileged_logins_without_mfa": logins - with_mfa if cls == "privileged" else 0,
        "target_mfa_pct": 100 if cls != "standard" or exposed else 90,
        "target_status": "met",
    }
    for day, app, cls, exposed, logins, with_mfa, strong, excepted in (
        (date(2026, 10, 5), "security-admin-console", "privileged", False, 4, 3, 3, 0),
        (date(2026, 10, 6), "security-admin-console", "privileged", False, 3, 2, 2, 0),
        (date(2026, 10, 5), "backoffice-portal", "standard", False, 40, 37, 0, 0),
        (date(2026, 10, 5), "hr-sync", "service", False, 1, 0, 0, 1),
        (date(2026, 9, 5), "security-admin-console", "privileged", False, 5, 5, 5, 0),
    )
]

_EXCEPTION = {
    "compensating_controls": "allow-list",
    "approved_by": "CISO",
    "approved_at": ts(10, 9, month=1),
    "linked_metric": None,
    "invalid_fields": None,
    "source_citation": "IR 2024/2690 Art. 2(2)",
}
EXCEPTIONS = [
    {
        **_EXCEPTION,
        "exception_id": exception_id,
        "annex_ref": ref,
        "scope_type": scope_type,
        "scope_value": scope,
        "reason": "documented reasoning",
        "expires_at": expires,
        "expired": status == "expired",
        "expiring_within_30_days": status == "expiring",
        "days_to_expiry": days,
        "status": status,
        "is_valid": status in {"valid", "expiring"},
    }
    for exception_id, ref, scope_type, scope, expires, days, status in (
        ("EXC-2025-004", "11.7", "service_account", "svc-hr", ts(31, 23, month=1), -300, "expired"),
        ("EXC-2026-002", "6.6", "asset", "legacy-01", ts(20, 23, month=11), 19, "expiring"),
        ("EXC-2026-003", "13.1", "entity", "simulated-org", ts(15, 23, month=12), 45, "valid"),
        (
            "EXC-2026-005",
            "11.7",
            "user",
            mart_key("mallory.admin"),
            ts(1, 0, month=12),
            30,
            "valid",
        ),
    )
]
# The seed as registered: a user scope in clear, which the pack must pseudonymise.
POLICY_EXCEPTIONS = [
    {key: row[key] for key in ("exception_id", "annex_ref", "scope_type", "scope_value", "reason")}
    | ({"scope_value": "mallory.admin"} if row["scope_type"] == "user" else {})
    for row in EXCEPTIONS
]


# The intermediate and staging models the marts hashed (report/identities.py reads them).
IDENTITIES = {
    "int_auth_events": [
        {"auth_event_id": "didit:1", "principal": "dave@example.org", "src_ip": "192.0.2.44"},
        {"auth_event_id": "keycloak:2", "principal": "ivan@example.org", "src_ip": "198.51.100.23"},
    ],
    "int_privilege_changes": [
        {"actor": "erin@example.org", "target_principal": "frank@example.org"},
    ],
    "stg_didit__users": [
        {"didit_internal_id": "0b7c1f52-8d0e-4d3a-9a61-3f1e2c9d7a10"},
        {"didit_internal_id": "5e2a9c44-1b7f-4c0e-8f3d-6a2b1c0d9e87"},
    ],
    "stg_keycloak__users": [{"username": "mallory.admin"}],  # a user-scoped exception
}


def sample_tables() -> dict[str, list[dict[str, Any]]]:
    """Every mart but two: access reviews are missing and anomalies are empty, on purpose;
    plus the models holding the identities behind the pseudonyms."""
    return {
        **IDENTITIES,
        "mart_nis2_incident_register": INCIDENTS,
        "mart_nis2_significance_assessment": SIGNIFICANCE,
        "mart_nis2_recurring_incident_check": [],
        "mart_nis2_reporting_deadlines": DEADLINES,
        "mart_nis2_auth_failure_detections": AUTH_FAILURES,
        "mart_nis2_privileged_activity": PRIVILEGED,
        "mart_nis2_identity_assurance": IDENTITY,
        "mart_nis2_access_anomalies": [],
        "mart_nis2_api_activity_daily": API_DAILY,
        "mart_nis2_log_source_coverage": COVERAGE,
        "mart_nis2_log_ingestion_gaps": GAPS,
        "mart_nis2_log_retention_integrity": RETENTION,
        "mart_nis2_control_evidence_matrix": CONTROL_MATRIX,
        "mart_nis2_management_monthly_report": MONTHLY,
        "mart_nis2_siem_alert_handling": SIEM_ALERTS,
        "mart_nis2_mfa_coverage": MFA_COVERAGE,
        "mart_nis2_exceptions_register": EXCEPTIONS,
        "policy_exceptions": POLICY_EXCEPTIONS,
        "nis2_thresholds": THRESHOLDS,
        "nis2_annex_requirements": ANNEX_REQUIREMENTS,
    }
