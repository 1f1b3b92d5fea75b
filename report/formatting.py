"""How mart values read in the pack: one place, used by tables, drafts and exports' labels."""

from __future__ import annotations

import json
import re
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from markupsafe import Markup, escape

from report.period import as_utc

MISSING = "—"

_LABELS = {
    "access_anomalies": "Access anomalies",
    "access_reviews_overdue": "Access reviews overdue",
    "admin_actions": "Administrator actions",
    "annex_ref": "Annex ref.",
    "approved_by": "Approved by",
    "approver_role": "Approver (role)",
    "art23_open_at_risk": "Art. 23 reporting stages open and at risk",
    "art23_stages_breached": "Art. 23 reporting stages missed",
    "art23_stages_due": "Art. 23 reporting stages due",
    "art23_stages_met": "Art. 23 reporting stages met",
    "aware_at": "Aware at",
    "bruteforce_detections": "Password-guessing attacks on one account detected",
    "controls_fail": "Annex requirements failing",
    "controls_manual_required": "Annex requirements needing manual evidence",
    "controls_no_data": "Annex requirements without evidence",
    "controls_pass": "Annex requirements met",
    "criteria_triggered": "Significance criteria triggered",
    "days_to_expiry": "Days to expiry",
    "detections_missed_by_siem": "Attacks detected here but not alerted by the SIEM",
    "dir_art21_point": "Dir. Art. 21(2) point",
    "dormant_accounts": "Dormant accounts still enabled",
    "evidence_rows": "Evidence rows",
    "expiring_within_30_days": "Expiring within the warning window",
    "high_or_critical_incidents": "High or critical incidents",
    "incidents_total": "Incidents",
    "ingestion_gap_minutes": "Minutes without log collection",
    "invalid_fields": "Invalid fields",
    "iso27001_controls": "ISO 27001 controls",
    "last_evidence_at": "Last evidence at",
    "leavers_with_access": "Leavers who still have access",
    "log_coverage_pct": "Expected log sources delivering (%)",
    "median_submission_margin_h": "Median margin before the reporting deadline (h)",
    "metric_value": "Measured value",
    "privileged_assignments": "Administrator rights granted",
    "recurring_groups_meeting_art4": "Recurring incidents meeting IR Art. 4",
    "requirement_text": "Requirement",
    "retention_ok": "Log retention as required",
    "scope_type": "Scope",
    "scope_value": "Applies to",
    "significant_incidents": "Significant incidents",
    "spray_detections": "Password-spraying attacks detected",
    "stages_breached": "Art. 23 reporting stages missed",
    "status_reason": "Why",
    "tamper_detections": "Log partitions with signs of tampering",
    "unapproved_assignments": "Administrator rights granted without approval",
    "unexplained_gaps": "Unexplained gaps in log collection",
    "cia_compromised": "CIA compromised",
    "controls_not_applicable": "Controls documented as not applicable",
    "csirt_reference_id": "CSIRT reference",
    "exception_ids": "Exception ids",
    "exceptions_applied": "Log-ins under an exception",
    "exceptions_expiring_30d": "Exceptions expiring within the warning window",
    "iocs_count": "IoCs",
    "ip_prefix": "IP prefix",
    "logins_with_mfa": "Log-ins with MFA",
    "logins_phishing_resistant": "Log-ins phishing-resistant",
    "logins_in_scope": "Log-ins in scope",
    "median_ttt_min": "Median time to triage (min)",
    "mfa_exceptions_applied": "Log-ins without MFA under an exception",
    "mfa_pct": "Log-ins with MFA (%)",
    "mfa_pct_privileged": "Privileged log-ins with MFA (%)",
    "mfa_used": "MFA used",
    "open_exceptions": "Exceptions in force",
    "phishing_resistant_pct": "Phishing-resistant (%)",
    "privileged_logins_without_mfa": "Privileged log-ins without MFA",
    "ref_id": "Annex ref.",
    "siem_alerts": "SIEM alerts",
    "siem_alerts_at_policy_level": "SIEM alerts at the triage policy level",
    "siem_alerts_escalated": "SIEM alerts escalated to an incident",
    "siem_alerts_sla_breached": "SIEM alerts over the triage SLA",
    "siem_alerts_untriaged": "SIEM alerts untriaged (no incident link)",
    "siem_high_alerts": "SIEM high-level alerts",
    "src_ip_prefix": "Source IP prefix",
    "submission_ref": "Submission reference",
    "target_mfa_pct": "Target MFA (%)",
    "tta_min": "TTA (min)",
    "ttt_min": "TTT (min)",
}


def label(column: str) -> str:
    """`auth_fail_401_403` -> `Auth fail 401 403`; a few columns get a hand-written label."""
    if column in _LABELS:
        return _LABELS[column]
    words = column.replace("_", " ").strip()
    return words[:1].upper() + words[1:]


def display(value: Any) -> str:
    """A value as a person reads it; None is an explicit dash, never an empty cell."""
    if value is None or value == "":
        return MISSING
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, datetime):
        return f"{as_utc(value):%Y-%m-%d %H:%M} UTC"
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, Decimal | float):
        return number(value)
    if isinstance(value, int):
        return f"{value:,}"
    if isinstance(value, list | tuple):
        return ", ".join(display(item) for item in value) if value else MISSING
    if isinstance(value, dict):
        return json.dumps(value, sort_keys=True, default=str)
    return str(value)


def number(value: Decimal | float | int) -> str:
    as_float = float(value)
    if as_float.is_integer():
        return f"{int(as_float):,}"
    return f"{as_float:,.2f}".rstrip("0").rstrip(".")


def raw(value: Any) -> str:
    """The exact value, for data attributes and machine checks (no rounding, no separators)."""
    if type(value) is str:
        return value
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, datetime):
        return as_utc(value).isoformat()
    if isinstance(value, Decimal):
        return format(value.normalize(), "f")
    return str(value)


_LONG_TOKEN = 16  # shorter tokens never need a break inside
_SEPARATOR = re.compile(r"(?<=[;,_/:=|.-])(?=.)")
_WBR = Markup("<wbr>")


def breakable(value: object) -> Markup:
    """Escaped text where a long token (an id, a list joined by ';') may wrap after its
    separators and nowhere else, so a narrow column never splits a word mid-word."""
    parts = []
    for token in re.split(r"(\s+)", str(value)):
        if len(token) > _LONG_TOKEN:
            parts.append(_WBR.join(escape(piece) for piece in _SEPARATOR.split(token)))
        else:
            parts.append(escape(token))
    return Markup("").join(parts)


def longest_piece(text: str) -> int:
    """The longest run `breakable` cannot wrap inside (no space, no separator)."""
    return max(
        (len(piece) for piece in _SEPARATOR.split(text) for piece in piece.split()), default=0
    )


def css_string(value: object) -> Markup:
    """Text safe inside a double-quoted CSS string in a <style> element (page headers): no
    HTML escaping there, so quotes, backslashes, '<' and line breaks are CSS-escaped."""
    text = " ".join(str(value).split())
    text = text.replace("\\", "\\\\").replace('"', '\\"').replace("<", "\\3c ")
    return Markup(text)  # noqa: S704 - CSS-escaped above, and "<" cannot close the <style>
