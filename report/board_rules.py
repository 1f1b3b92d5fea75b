"""The board page's rules, in one place: which figures it shows, where each comes from, and
the red / amber / green rule of each area (printed on the page with the status it sets).

Every figure is a count or a sum over the rows of ONE export of the pack (data/<mart>.csv),
so anyone can recompute it from that file: `count` = rows whose `column` equals `equals`
(the CSV's exact text), `rows` = all rows, `sum` = the sum of `column`, `missing` = rows whose
`column` value no row of the export `equals` has. A figure whose export
could not be read is "no data" and an area that depends on it is never green.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Figure:
    key: str
    label: str
    mart: str
    kind: str  # "rows" | "count" | "sum" | "missing"
    column: str = ""
    # "count": the value as the CSV writes it ("true", "breached"); "missing": the other
    # export whose `column` values are looked up
    equals: str = ""
    finding: str = ""  # plain words when the figure is above 0; {n} and {ids}
    decision: str = ""  # what the management body must decide when it is above 0

    @property
    def rule(self) -> str:
        if self.kind == "rows":
            return "all rows"
        if self.kind == "sum":
            return f"sum of {self.column}"
        if self.kind == "missing":
            return f"rows whose {self.column} is not in data/{self.equals}.csv"
        return f"rows where {self.column} = {self.equals}"


@dataclass(frozen=True)
class Area:
    key: str
    title: str
    figures: tuple[str, ...]  # shown on the board, in this order
    red: tuple[str, ...]  # red when any of these is above 0
    amber: tuple[str, ...]  # else amber when any of these is above 0
    rule: str  # the rule in words, printed beside the status


DEADLINES = "mart_nis2_reporting_deadlines"
MATRIX = "mart_nis2_control_evidence_matrix"
EXCEPTIONS = "mart_nis2_exceptions_register"

FIGURES: tuple[Figure, ...] = (
    Figure("incidents", "Incidents in the period", "mart_nis2_incident_register", "rows"),
    Figure(
        "significant_incidents",
        "Significant incidents",
        "mart_nis2_incident_register",
        "count",
        "is_significant",
        "true",
    ),
    Figure(
        "stages_breached",
        "Art. 23 reporting stages missed",
        DEADLINES,
        "count",
        "status",
        "breached",
        "{n} reporting stage(s) to the CSIRT were filed late or not at all ({ids}).",
        "Accept the explanation for the late report(s) and the measures that prevent a repeat.",
    ),
    Figure(
        "stages_open_at_risk",
        "Art. 23 reporting stages at risk",
        DEADLINES,
        "count",
        "status",
        "open_at_risk",
        "{n} reporting stage(s) are still open and close to their deadline ({ids}).",
        "Make sure the pending report(s) are filed before the deadline.",
    ),
    Figure(
        "controls_fail",
        "Annex requirements failing",
        MATRIX,
        "count",
        "status",
        "fail",
        "{n} Annex requirement(s) fail their target ({ids}).",
        "Approve an owner and a date to fix each failing requirement.",
    ),
    Figure(
        "controls_no_data",
        "Annex requirements without evidence",
        MATRIX,
        "count",
        "status",
        "no_data",
        "{n} Annex requirement(s) have no evidence this period, so they cannot count as met "
        "({ids}).",
        "Decide who provides the missing evidence, or accept the gap in writing.",
    ),
    Figure(
        "controls_not_assessed",
        "Annex requirements missing from the matrix",
        "nis2_annex_requirements",
        "missing",
        "ref_id",
        MATRIX,
        "{n} Annex requirement(s) are not assessed by the control-evidence matrix at all ({ids}).",
        "Decide how the requirements missing from the matrix will be evidenced.",
    ),
    Figure(
        "controls_manual",
        "Annex requirements needing manual evidence",
        MATRIX,
        "count",
        "status",
        "manual_required",
    ),
    Figure(
        "privileged_logins_without_mfa",
        "Privileged log-ins without MFA",
        "mart_nis2_mfa_coverage",
        "sum",
        "privileged_logins_without_mfa",
        finding="{n} administrator log-in(s) happened without multi-factor authentication.",
        decision="Require MFA for every administrator account, or approve a time-limited "
        "exception.",
    ),
    Figure(
        "mfa_below_target",
        "MFA coverage below target (days x applications)",
        "mart_nis2_mfa_coverage",
        "count",
        "target_status",
        "below_target",
        "MFA coverage was below the policy target on {n} day x application count(s).",
        "Confirm the plan to bring MFA coverage up to the policy target.",
    ),
    Figure(
        "unapproved_assignments",
        "Privileged rights granted without approval",
        "mart_nis2_privileged_activity",
        "count",
        "unapproved_assignment",
        "true",
        "{n} administrator right(s) were granted without a recorded approval ({ids}).",
        "Have each unapproved grant reviewed and revoked or approved.",
    ),
    Figure(
        "tamper_detections",
        "Log partitions with signs of tampering",
        "mart_nis2_log_retention_integrity",
        "count",
        "tamper_detected",
        "true",
        "{n} day(s) of logs no longer match their recorded digest: possible tampering ({ids}).",
        "Order an investigation of the altered logs.",
    ),
    Figure(
        "unexplained_gaps",
        "Unexplained gaps in log collection",
        "mart_nis2_log_ingestion_gaps",
        "count",
        "explained_by",
        "unknown",
        "{n} gap(s) in log collection have no explanation ({ids}).",
        "Decide whether the unexplained log gaps need an incident review.",
    ),
    Figure(
        "siem_sla_breached",
        "Security alerts triaged late",
        "mart_nis2_siem_alert_handling",
        "count",
        "sla_breached",
        "true",
        "{n} security alert(s) were not triaged within the agreed time ({ids}).",
        "Confirm the staffing or tuning needed to triage alerts in time.",
    ),
    Figure(
        "exceptions_invalid",
        "Invalid exception records",
        EXCEPTIONS,
        "count",
        "status",
        "invalid",
        "{n} exception record(s) are incomplete and exempt nothing ({ids}).",
        "Have the incomplete exception records corrected.",
    ),
    Figure(
        "exceptions_expiring",
        "Exceptions expiring soon",
        EXCEPTIONS,
        "count",
        "expiring_within_30_days",
        "true",
        "{n} approved exception(s) expire within the warning window ({ids}).",
        "Renew or close each expiring exception.",
    ),
)

AREAS: tuple[Area, ...] = (
    Area(
        "incidents",
        "Incident reporting (Dir. Art. 23)",
        ("incidents", "significant_incidents", "stages_breached", "stages_open_at_risk"),
        red=("stages_breached",),
        amber=("stages_open_at_risk",),
        rule="Red: a reporting stage was missed. Amber: a stage is open and at risk.",
    ),
    Area(
        "controls",
        "Risk-management measures (IR 2024/2690 Annex)",
        ("controls_fail", "controls_no_data", "controls_not_assessed", "controls_manual"),
        red=("controls_fail",),
        amber=("controls_no_data", "controls_not_assessed"),
        rule="Red: a requirement fails. Amber: a requirement has no evidence or is not assessed.",
    ),
    Area(
        "access",
        "Access control and MFA (Annex 11)",
        ("privileged_logins_without_mfa", "unapproved_assignments", "mfa_below_target"),
        red=("privileged_logins_without_mfa", "unapproved_assignments"),
        amber=("mfa_below_target",),
        rule="Red: an admin log-in without MFA or an unapproved admin right. "
        "Amber: MFA below target.",
    ),
    Area(
        "logging",
        "Logging and monitoring (Annex 3.2)",
        ("tamper_detections", "unexplained_gaps", "siem_sla_breached"),
        red=("tamper_detections",),
        amber=("unexplained_gaps", "siem_sla_breached"),
        rule="Red: logs show tampering. Amber: an unexplained log gap or an alert triaged late.",
    ),
    Area(
        "exceptions",
        "Exceptions (IR 2024/2690 Art. 2(2))",
        ("exceptions_invalid", "exceptions_expiring"),
        red=("exceptions_invalid",),
        amber=("exceptions_expiring",),
        rule="Red: an invalid exception record. Amber: an exception expires soon.",
    ),
)

COMMON_RULE = (
    "Green: none of the red or amber conditions. No data: a figure the rule needs could not "
    "be read; an area without data is never green."
)

BY_KEY: dict[str, Figure] = {figure.key: figure for figure in FIGURES}
