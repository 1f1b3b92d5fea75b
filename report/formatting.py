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
    "csirt_reference_id": "CSIRT reference",
    "iocs_count": "IoCs",
    "ip_prefix": "IP prefix",
    "mfa_used": "MFA used",
    "ref_id": "Annex ref.",
    "src_ip_prefix": "Source IP prefix",
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
