"""Check the incident register before it is loaded, naming the file and line of every bad row.

tap-spreadsheets loads every cell as text and silently drops a row without a key, so a typo
in a timestamp would only surface later as a missing deadline. This check runs in the daily
job before the tap: it reports each problem as `file:line: column: problem`, and (unless
`--strict`) lets the load go on, so good rows keep flowing while the bad ones are named.
"""

from __future__ import annotations

import csv
import glob
import sys
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal, InvalidOperation
from pathlib import Path


def _timestamp(value: str) -> str | None:
    try:
        parsed = datetime.fromisoformat(value)
    except ValueError:
        return "is not an ISO 8601 timestamp"
    return None if parsed.tzinfo is not None else "has no UTC offset (write ...Z or +00:00)"


def _number(value: str) -> str | None:
    try:
        ok = Decimal(value) >= 0
    except InvalidOperation:
        return "is not a number"
    return None if ok else "is negative"


def _integer(value: str) -> str | None:
    try:
        number = Decimal(value)
    except InvalidOperation:
        return "is not a whole number"
    if number != number.to_integral_value():
        return "is not a whole number"
    return None if number >= 0 else "is negative"


def _choice(*allowed: str) -> Callable[[str], str | None]:
    def check(value: str) -> str | None:
        return None if value.lower() in allowed else f"is not one of {', '.join(allowed)}"

    return check


BOOLEAN = _choice("true", "false")
COLUMN_CHECKS: dict[str, Callable[[str], str | None]] = {
    "detected_at": _timestamp,
    "aware_at": _timestamp,
    "contained_at": _timestamp,
    "resolved_at": _timestamp,
    "updated_at": _timestamp,
    "early_warning_submitted_at": _timestamp,
    "notification_submitted_at": _timestamp,
    "final_report_submitted_at": _timestamp,
    "progress_report_submitted_at": _timestamp,
    "suspected_malicious": _choice("yes", "no", "unknown"),
    "cross_border": BOOLEAN,
    "cia_compromised": BOOLEAN,
    "is_planned_maintenance": BOOLEAN,
    "estimated_direct_loss_eur": _number,
    "affected_users": _integer,
    "outage_minutes": _integer,
    "limited_availability_minutes": _integer,
}
REQUIRED = ("incident_id", "detected_at", "aware_at")


@dataclass(frozen=True)
class Problem:
    path: str
    line: int
    column: str
    message: str

    def __str__(self) -> str:
        return f"{self.path}:{self.line}: {self.column}: {self.message}"


def check_rows(path: str, rows: Iterable[tuple[int, dict[str, str]]]) -> Iterator[Problem]:
    """Problems in (line number, row) pairs; values are never echoed (they may be personal)."""
    seen: dict[str, int] = {}
    for line, row in rows:
        if None in row:
            yield Problem(path, line, "(row)", "has more cells than the header")
        for column in REQUIRED:
            if not (row.get(column) or "").strip():
                yield Problem(path, line, column, "is empty but required")
        incident_id = (row.get("incident_id") or "").strip()
        if incident_id in seen:
            yield Problem(path, line, "incident_id", f"repeats line {seen[incident_id]}")
        elif incident_id:
            seen[incident_id] = line
        for column, check in COLUMN_CHECKS.items():
            value = (row.get(column) or "").strip()
            message = check(value) if value else None
            if message:
                yield Problem(path, line, column, message)


def check_file(path: Path) -> list[Problem]:
    # utf-8-sig: a register saved by Excel starts with a byte-order mark.
    with path.open(newline="", encoding="utf-8-sig") as handle:
        reader = csv.DictReader(handle)
        missing = [c for c in REQUIRED if c not in (reader.fieldnames or [])]
        if missing:
            return [Problem(str(path), 1, c, "column is missing from the header") for c in missing]
        # DictReader's line_num is the physical line after the row (quoted newlines count).
        rows = ((reader.line_num, row) for row in reader)
        return list(check_rows(str(path), rows))


def main(argv: list[str] | None = None) -> int:
    args = list(sys.argv[1:] if argv is None else argv)
    strict = "--strict" in args
    patterns = [a for a in args if a != "--strict"]
    files = sorted({Path(p) for pattern in patterns for p in glob.glob(pattern)})
    if not files:
        print(f"incident register: no file matches {' '.join(patterns)}", file=sys.stderr)
        return 2
    problems = [problem for path in files for problem in check_file(path)]
    for problem in problems:
        print(f"incident register: {problem}", file=sys.stderr)
    rows_word = "problem" if len(problems) == 1 else "problems"
    print(f"incident register: {len(files)} file(s) checked, {len(problems)} {rows_word}")
    return 1 if strict and problems else 0


if __name__ == "__main__":
    sys.exit(main())
