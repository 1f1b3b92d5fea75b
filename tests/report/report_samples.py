"""In-memory mart rows shaped exactly like the NIS2 marts' columns (NIS2-REFERENCE §6),
for unit tests of the renderer. October 2026 is the period under test."""

from __future__ import annotations

from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any


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
        "affected_users": 1250,
        "estimated_direct_loss_eur": Decimal("82000.00"),
        "is_significant": True,
        "reported_by": "alice.admin@example.org",
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
        "reported_by": "bob@example.org",
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
        "reported_by": "bob@example.org",
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
        "incident_id": "INC-2026-014",
        "regime": "NIS2",
        "stage": "early_warning",
        "anchor_at": ts(3, 10),
        "due_at": ts(4, 10),
        "submitted_at": ts(4, 2),
        "submission_ref": "CSIRT-EW-77",
        "status": "met",
        "hours_late": None,
    },
    {
        "incident_id": "INC-2026-014",
        "regime": "NIS2",
        "stage": "notification",
        "anchor_at": ts(3, 10),
        "due_at": ts(6, 10),
        "submitted_at": ts(7, 9),
        "submission_ref": "CSIRT-N-77",
        "status": "breached",
        "hours_late": Decimal("23.0"),
    },
    {
        "incident_id": "INC-2026-014",
        "regime": "NIS2",
        "stage": "final",
        "anchor_at": ts(7, 9),
        "due_at": ts(7, 9, month=11),
        "submitted_at": None,
        "submission_ref": None,
        "status": "open_ok",
        "hours_late": None,
    },
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
        "month": date(2026, 10, 1),
        "legal_entity": "Example Org",
        "incidents_total": 2,
        "significant_incidents": 1,
        "stages_breached": 1,
        "mfa_coverage_pct": Decimal("97.5"),
        "approved_by": "carol.ceo@example.org",
        "approved_at": None,
    },
    {
        "month": date(2026, 9, 1),
        "legal_entity": "Example Org",
        "incidents_total": 4,
        "significant_incidents": 0,
        "stages_breached": 0,
        "mfa_coverage_pct": Decimal("95.0"),
        "approved_by": "carol.ceo@example.org",
        "approved_at": ts(5, 9),
    },
]

AUTH_FAILURES = [
    {
        "detection_type": "password_spray",
        "principal_key": None,
        "src_ip_prefix": "198.51.100.0/24",
        "application": "console",
        "window_start": ts(3, 7),
        "window_end": ts(3, 8),
        "failures": 140,
        "distinct_users": 40,
        "distinct_ips": 1,
        "lockouts": 5,
        "threshold_used": 3,
        "alert_raised_in_siem": False,
        "incident_id": "INC-2026-014",
    },
    {
        "detection_type": "user_bruteforce",
        "principal_key": "dave@example.org",
        "src_ip_prefix": "192.0.2.0/24",
        "application": "api",
        "window_start": ts(12, 1),
        "window_end": ts(12, 2),
        "failures": 12,
        "distinct_users": 1,
        "distinct_ips": 1,
        "lockouts": 3,
        "threshold_used": 3,
        "alert_raised_in_siem": True,
        "incident_id": None,
    },
    {
        "detection_type": "user_bruteforce",
        "principal_key": "dave@example.org",
        "src_ip_prefix": "192.0.2.0/24",
        "application": "api",
        "window_start": ts(12, 1, month=9),
        "window_end": ts(12, 2, month=9),
        "failures": 9,
        "distinct_users": 1,
        "distinct_ips": 1,
        "lockouts": 3,
        "threshold_used": 3,
        "alert_raised_in_siem": True,
        "incident_id": None,
    },
]

PRIVILEGED = [
    {
        "event_id": "p1",
        "event_ts": ts(5, 14),
        "actor_key": "erin@example.org",
        "target_principal_key": "frank@example.org",
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
        "actor_key": "erin@example.org",
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
        "method": "GET",
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
        "identity_key": "grace@example.org",
        "created_at": ts(1, 9),
        "first_verified_at": ts(2, 9),
        "verification_level": "kyc",
        "verified_before_creation": False,
        "privileged_granted_at": None,
        "verified_before_privilege": None,
        "credential_resets": 1,
        "resets_without_verification": 1,
    },
    {
        "identity_key": "heidi@example.org",
        "created_at": ts(5, 9),
        "first_verified_at": ts(4, 9),
        "verification_level": "kyc",
        "verified_before_creation": True,
        "privileged_granted_at": None,
        "verified_before_privilege": None,
        "credential_resets": 0,
        "resets_without_verification": 0,
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


def sample_tables() -> dict[str, list[dict[str, Any]]]:
    """Every mart but two: access reviews are missing and anomalies are empty, on purpose."""
    return {
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
        "nis2_thresholds": THRESHOLDS,
        "nis2_annex_requirements": ANNEX_REQUIREMENTS,
    }
