"""The marts the pack reads, and how each one is cut to the reporting period.

One table of facts instead of SQL scattered through the sections. Column names follow
NIS2-REFERENCE §6; where the dbt project may name a column differently, the rule lists
candidates and the first one present wins.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import Enum


class Cut(Enum):
    """How a mart's rows are chosen for a period."""

    AT = "at"  # one timestamp column falls inside the period
    OVERLAP = "overlap"  # [start column, end column] touches the period (open end = ongoing)
    BY_INCIDENT = "by_incident"  # rows of the incidents in the period's incident register
    SNAPSHOT = "snapshot"  # a current state: every row, shown as at generation time


@dataclass(frozen=True)
class MartSpec:
    name: str
    title: str
    cut: Cut
    start_columns: tuple[str, ...] = ()
    end_columns: tuple[str, ...] = ()
    id_column: str = ""  # the mart's unique id (never a raw identity): names rows in notes
    # (kind column, kind value, column): the column names a person when kind matches, e.g. a
    # seed's scope_value when scope_type = 'user'; pseudonymised like any personal column
    identity_when: tuple[str, str, str] | None = None
    # a column naming an approving role: a declared role is shown in clear, anything else is
    # pseudonymised like a person (report/approvers.py)
    role_column: str = ""

    @property
    def short(self) -> str:
        return self.name.removeprefix("mart_nis2_")


INCIDENT_REGISTER = "mart_nis2_incident_register"

MARTS: tuple[MartSpec, ...] = (
    MartSpec(
        INCIDENT_REGISTER,
        "Incident register",
        Cut.OVERLAP,
        ("aware_at", "detected_at"),
        ("handled_at", "resolved_at", "recovered_at"),
        id_column="incident_id",
    ),
    MartSpec(
        "mart_nis2_significance_assessment",
        "Significance assessment",
        Cut.BY_INCIDENT,
        id_column="incident_id",
    ),
    MartSpec(
        "mart_nis2_recurring_incident_check",
        "Recurring-incident check (IR Art. 4)",
        Cut.OVERLAP,
        ("window_start",),
        ("window_end",),
        id_column="check_id",
    ),
    MartSpec(
        "mart_nis2_reporting_deadlines",
        "Art. 23 reporting deadlines",
        Cut.BY_INCIDENT,
        id_column="deadline_id",
    ),
    MartSpec(
        "mart_nis2_siem_alert_handling",
        "SIEM alert handling",
        Cut.AT,
        ("first_seen_at",),
        id_column="alert_id",
    ),
    # detections, correlation and the forensic timeline (report/sections/forensics.py)
    MartSpec(
        "mart_nis2_siem_detections",
        "SIEM detections (Wazuh)",
        Cut.OVERLAP,
        ("window_start",),
        ("window_end",),
        id_column="detection_id",
    ),
    MartSpec(
        "mart_nis2_iam_admin_detections",
        "IAM admin-event detections (Keycloak)",
        Cut.AT,
        ("event_ts",),
        id_column="detection_id",
    ),
    MartSpec(
        "mart_nis2_correlated_findings",
        "Correlated findings across sources",
        Cut.OVERLAP,
        ("first_at",),
        ("last_at",),
        id_column="correlation_id",
    ),
    MartSpec(
        "mart_nis2_forensic_timeline",
        "Forensic timeline per incident",
        Cut.BY_INCIDENT,
        id_column="timeline_row_id",
    ),
    MartSpec(
        "mart_nis2_auth_failure_detections",
        "Authentication-failure detections",
        Cut.AT,
        ("window_start", "detected_at", "window_end"),
        id_column="detection_id",
    ),
    MartSpec(
        "mart_nis2_privileged_activity",
        "Privileged activity",
        Cut.AT,
        ("event_ts", "event_at", "occurred_at"),
        id_column="event_id",
    ),
    MartSpec(
        "mart_nis2_mfa_coverage",
        "MFA coverage",
        Cut.AT,
        ("day",),
        id_column="mfa_coverage_id",
    ),
    MartSpec(
        "mart_nis2_access_review_status",
        "Access-review status",
        Cut.SNAPSHOT,
        id_column="access_review_id",
    ),
    MartSpec(
        "mart_nis2_identity_assurance",
        "Identity assurance (Didit)",
        Cut.SNAPSHOT,
        id_column="identity_key",
    ),
    MartSpec(
        "mart_nis2_access_anomalies",
        "Access anomalies",
        Cut.AT,
        ("event_ts", "event_at", "occurred_at"),
        id_column="event_id",
    ),
    MartSpec(
        "mart_nis2_api_activity_daily",
        "API activity per day",
        Cut.AT,
        ("day", "activity_date", "date_day", "bucket_start", "date"),
        id_column="activity_id",
    ),
    MartSpec(
        "mart_nis2_log_source_coverage",
        "Log-source coverage",
        Cut.AT,
        ("day", "coverage_date", "date_day", "date"),
        id_column="coverage_id",
    ),
    MartSpec(
        "mart_nis2_log_ingestion_gaps",
        "Log-ingestion gaps",
        Cut.OVERLAP,
        ("gap_start",),
        ("gap_end",),
        id_column="gap_id",
    ),
    MartSpec(
        "mart_nis2_log_retention_integrity",
        "Log retention and integrity",
        Cut.AT,
        ("partition_date", "day", "date"),
        id_column="partition_id",
    ),
    MartSpec(
        "mart_nis2_control_evidence_matrix",
        "Control-evidence matrix",
        Cut.AT,
        ("month", "report_month", "period_start"),
        id_column="matrix_id",
    ),
    MartSpec(
        "mart_nis2_exceptions_register",
        "Exceptions register",
        Cut.SNAPSHOT,
        id_column="exception_id",
        role_column="approved_by",
    ),
    MartSpec(
        "mart_nis2_management_monthly_report",
        "Management monthly report",
        Cut.AT,
        ("month", "report_month", "period_start"),
        id_column="report_id",
    ),
)

# dbt seeds the appendix cites (thresholds with their legal source); exported like the marts.
REFERENCE_TABLES: tuple[MartSpec, ...] = (
    MartSpec("nis2_thresholds", "Thresholds and their legal sources", Cut.SNAPSHOT),
    MartSpec("detection_policy", "Detection policy (internal thresholds)", Cut.SNAPSHOT),
    MartSpec("nis2_annex_requirements", "Annex requirements (IR 2024/2690)", Cut.SNAPSHOT),
    MartSpec("nis2_entity_profile", "Entity profile", Cut.SNAPSHOT),
    MartSpec(
        "policy_exceptions",
        "Policy exceptions as registered",
        Cut.SNAPSHOT,
        id_column="exception_id",
        identity_when=("scope_type", "user", "scope_value"),
        role_column="approved_by",
    ),
    MartSpec("mfa_methods", "MFA methods and their tiers", Cut.SNAPSHOT),
    MartSpec("mfa_policy_targets", "MFA targets per principal class", Cut.SNAPSHOT),
    MartSpec("keycloak_clients", "Keycloak clients and their exposure", Cut.SNAPSHOT),
    MartSpec("siem_alert_sla_policy", "SIEM triage SLA per severity band", Cut.SNAPSHOT),
    MartSpec("governance_policy", "Governance policy values", Cut.SNAPSHOT),
    MartSpec(
        "ciso_assistant_nis2_annex_map",
        "Annex requirements mapped to CISO Assistant's IR 2024/2690 library",
        Cut.SNAPSHOT,
    ),
)
ENTITY_PROFILE = "nis2_entity_profile"

BY_NAME: dict[str, MartSpec] = {spec.name: spec for spec in (*MARTS, *REFERENCE_TABLES)}


def first_present(columns: list[str] | tuple[str, ...], candidates: tuple[str, ...]) -> str | None:
    """The first candidate that is among the mart's real columns."""
    return next((name for name in candidates if name in columns), None)
