"""How mart values read in the pack: one place, used by tables, drafts and exports' labels."""

from __future__ import annotations

import json
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from report.period import as_utc

MISSING = "—"

_LABELS = {
    "aware_at": "Aware at",
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
