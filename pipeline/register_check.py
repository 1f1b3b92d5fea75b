"""Check the incident register before it is loaded, naming the file and line of every bad row.

tap-spreadsheets loads what it finds without a word: a row without `incident_id` is dropped, a
second row with the same id overwrites the first in the warehouse (upsert), a missing column
keeps its old values there, cells past the header vanish, a typo in a timestamp surfaces only
later as a missing deadline. `nis2-incidents-tap` (pipeline/incidents_tap.py) runs these checks
on exactly the files tap-incidents is configured to read, reading them as the tap does (its
delimiter sniffing, header names, skipped rows), and stops the load on any problem. Each is
reported as `file:line: column: problem`; cell values are never echoed (they may be personal).
"""

from __future__ import annotations

import csv
import fnmatch
import glob
import re
import sys
import unicodedata
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
YES_NO_UNKNOWN = _choice("yes", "no", "unknown")
TIMESTAMPS = (
    "detected_at", "aware_at", "started_at", "contained_at", "resolved_at", "outage_start_at",
    "outage_end_at", "significance_assessed_at", "updated_at", "early_warning_submitted_at",
    "notification_submitted_at", "intermediate_requested_at", "intermediate_due_at",
    "intermediate_submitted_at", "final_report_submitted_at", "progress_report_submitted_at",
    "gdpr_notified_at",
)  # fmt: skip
# ENISA's Reference Incident Classification Taxonomy (RSIT, TF-CSIRT/ENISA), top-level classes
THREAT_TYPES = (
    "abusive-content", "malicious-code", "information-gathering", "intrusion-attempts",
    "intrusions", "availability", "information-content-security", "fraud", "vulnerable",
    "other", "test",
)  # fmt: skip
COLUMN_CHECKS: dict[str, Callable[[str], str | None]] = {
    **dict.fromkeys(TIMESTAMPS, _timestamp),
    "suspected_malicious": YES_NO_UNKNOWN,
    "personal_data_breach": YES_NO_UNKNOWN,
    "recipients_informed": YES_NO_UNKNOWN,
    "csirt_assistance_requested": YES_NO_UNKNOWN,
    "law_enforcement_involved": YES_NO_UNKNOWN,
    "significance_decision": _choice("significant", "not_significant"),
    "dns_compromise_cause": _choice("misconfiguration", "other"),
    "threat_type": _choice(*THREAT_TYPES),
    "tlp": _choice("tlp:clear", "tlp:green", "tlp:amber", "tlp:amber+strict", "tlp:red"),
    "cross_border": BOOLEAN,
    "cia_compromised": BOOLEAN,
    "is_planned_maintenance": BOOLEAN,
    "unauthorised_access_successful": BOOLEAN,
    "severe_disruption_capable": BOOLEAN,
    "physical_access_compromised": BOOLEAN,
    "estimated_direct_loss_eur": _number,
    "direct_loss_potential_eur": _number,
    "avg_response_seconds": _number,
    "affected_users": _integer,
    "outage_minutes": _integer,
    "limited_availability_minutes": _integer,
    "slow_response_minutes": _integer,
    "dns_wrong_domains": _integer,
    "dns_managed_domains": _integer,
}
REQUIRED = ("incident_id", "detected_at", "aware_at")
# The register's columns (docs/contracts.md, "Incident register"): each must be in the header,
# or the upsert keeps the warehouse's previous values of a missing one without a word.
COLUMNS = (
    "incident_id", "title", "description", "category", "threat_type", "severity", "status",
    "started_at", "detected_at", "aware_at", "contained_at", "resolved_at",
    "suspected_malicious", "cross_border", "affected_member_states", "affected_services",
    "affected_assets", "root_cause_key", "root_cause", "mitigation_measures",
    "estimated_direct_loss_eur", "direct_loss_potential_eur", "affected_users",
    "outage_start_at", "outage_end_at", "outage_minutes", "limited_availability_minutes",
    "slow_response_minutes", "avg_response_seconds", "dns_wrong_domains",
    "dns_managed_domains", "dns_compromise_cause", "cia_compromised",
    "unauthorised_access_successful", "severe_disruption_capable",
    "physical_access_compromised", "is_planned_maintenance", "significance_decision",
    "significance_assessed_at", "personal_data_breach", "gdpr_notified_at",
    "recipients_informed", "csirt_assistance_requested", "law_enforcement_involved", "tlp",
    "iocs", "linked_alert_ids", "early_warning_submitted_at", "early_warning_ref",
    "notification_submitted_at", "notification_ref", "intermediate_requested_at",
    "intermediate_due_at", "intermediate_submitted_at", "intermediate_ref",
    "final_report_submitted_at", "final_report_ref", "progress_report_submitted_at",
    "progress_report_ref", "updated_at",
)  # fmt: skip
FILES_SETTING = "tap-incidents' files (TAP_INCIDENTS_FILES)"


@dataclass(frozen=True)
class Problem:
    path: str
    line: int  # 0: the file (or setting) as a whole
    column: str
    message: str

    def __str__(self) -> str:
        where = f"{self.path}:{self.line}" if self.line else self.path
        return f"{where}: {self.column}: {self.message}"


def column_name(header: object, index: int) -> str:
    """A header cell as tap-spreadsheets 1.1.2 names the column (lower snake case, ASCII)."""
    text = "" if header is None else str(header).strip()
    if not text or text.isnumeric():
        return f"col_{index}"
    text = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()
    text = re.sub(r"[^a-z0-9]+", "_", text.replace("\n", " ").replace("/", " ").lower())
    return re.sub(r"_+", "_", text).strip("_") or f"col_{index}"


@dataclass(frozen=True)
class Sheet:
    """One file (or worksheet) as the tap reads it: column names and numbered rows."""

    path: str
    header: list[str]
    rows: Iterable[tuple[int, list[str]]]
    header_line: int = 1


def check_header(sheet: Sheet) -> list[Problem]:
    problems = [
        Problem(sheet.path, sheet.header_line, c, "column is missing from the header")
        for c in COLUMNS
        if c not in sheet.header
    ]
    seen: set[str] = set()
    for name in sheet.header:
        if name in seen:
            message = "column appears twice in the header"
            problems.append(Problem(sheet.path, sheet.header_line, name, message))
        seen.add(name)
    return problems


def check_rows(sheet: Sheet, seen: dict[str, tuple[str, int]]) -> Iterator[Problem]:
    """Problems of each row; `seen` maps incident ids to their (file, line) across files."""
    width = len(sheet.header)
    for line, cells in sheet.rows:
        if len(cells) > width:
            yield Problem(sheet.path, line, "(row)", "has more cells than the header")
        elif len(cells) < width:
            yield Problem(sheet.path, line, "(row)", "has fewer cells than the header")
        row = {name: (cells[i] if i < len(cells) else "") for i, name in enumerate(sheet.header)}
        for column in REQUIRED:
            if not (row.get(column) or "").strip():
                yield Problem(sheet.path, line, column, "is empty but required")
        incident_id = (row.get("incident_id") or "").strip()
        if incident_id in seen:
            path, first = seen[incident_id]
            where = f"line {first}" if path == sheet.path else f"{path}:{first}"
            yield Problem(sheet.path, line, "incident_id", f"repeats {where}")
        elif incident_id:
            seen[incident_id] = (sheet.path, line)
        for column, check in COLUMN_CHECKS.items():
            value = (row.get(column) or "").strip()
            if message := (check(value) if value else None):
                yield Problem(sheet.path, line, column, message)


def _dialect(path: Path, spec: dict) -> tuple[str, str]:
    """The delimiter and quote character, found as the tap finds them."""
    delimiter, quotechar = spec.get("delimiter") or "", spec.get("quote_char") or ""
    if not delimiter or not quotechar:
        with path.open(encoding="utf-8", newline="") as handle:
            sample = handle.read(4096)
        try:
            sniffed = csv.Sniffer().sniff(sample)
            delimiter, quotechar = delimiter or sniffed.delimiter, quotechar or sniffed.quotechar
        except csv.Error:
            delimiter, quotechar = delimiter or ",", quotechar or '"'
    return delimiter, quotechar


def _header(spec: dict, raw: list) -> list[str]:
    given = spec.get("column_headers")
    names = [column_name(h, i) for i, h in enumerate(given if given else raw)]
    return names[int(spec.get("skip_columns") or 0) :]


def _csv_sheet(path: Path, spec: dict) -> tuple[Sheet, list]:
    """A CSV file as a sheet; returns the open handle to close after the rows were read."""
    delimiter, quotechar = _dialect(path, spec)
    # utf-8-sig: a register saved by Excel starts with a byte-order mark.
    handle = path.open(encoding="utf-8-sig", newline="")
    reader = csv.reader(handle, delimiter=delimiter, quotechar=quotechar)
    for _ in range(int(spec.get("skip_rows") or 0)):
        next(reader, None)
    raw = next(reader, None)
    skip = int(spec.get("skip_columns") or 0)
    rows = ((reader.line_num, cells[skip:]) for cells in reader)
    sheet = Sheet(str(path), _header(spec, raw or []), rows, max(reader.line_num, 1))
    return sheet, [handle]


def _worksheets(book: object, ref: object) -> list:
    names = book.sheetnames  # type: ignore[attr-defined]
    if isinstance(ref, int):
        return [book.worksheets[ref]] if ref < len(names) else []  # type: ignore[attr-defined]
    if isinstance(ref, str):
        if ref in names:
            return [book[ref]]  # type: ignore[index]
        pattern = re.compile(fnmatch.translate(ref) if any(c in ref for c in "*?") else ref)
        return [book[n] for n in names if pattern.match(n)]  # type: ignore[index]
    return []


def _excel_sheets(path: Path, spec: dict) -> list[Sheet]:
    from openpyxl import load_workbook  # installed with tap-spreadsheets, in its venv

    book = load_workbook(path, read_only=True, data_only=True)
    skip_rows, skip = int(spec.get("skip_rows") or 0), int(spec.get("skip_columns") or 0)
    sheets = []
    for ws in _worksheets(book, spec.get("worksheet")):
        rows = list(ws.iter_rows(min_row=skip_rows + 1, values_only=True))
        cells = [["" if v is None else str(v) for v in row] for row in rows]
        numbered = [(skip_rows + 2 + i, row[skip:]) for i, row in enumerate(cells[1:])]
        header = _header(spec, list(rows[0]) if rows else [])
        sheets.append(Sheet(f"{path}[{ws.title}]", header, numbered, skip_rows + 1))
    return sheets


def check_spec(spec: dict, index: int, seen: dict[str, tuple[str, int]]) -> list[Problem]:
    """Every file one entry of the tap's `files` setting reads (sorted, as the tap loads)."""
    where = f"{FILES_SETTING}[{index}]"
    pattern, kind = str(spec.get("path") or ""), str(spec.get("format") or "").lower()
    if kind not in {"csv", "excel"}:
        return [Problem(where, 0, "format", "is neither csv nor excel")]
    if "://" in pattern and not pattern.startswith("file://"):
        return [Problem(where, 0, "path", "is remote; only local files can be checked")]
    pattern = pattern.removeprefix("file://")
    files = sorted(Path(p).resolve() for p in glob.glob(pattern) if Path(p).is_file())
    if not files:
        return [Problem(where, 0, "path", f"no file matches {pattern}")]
    problems: list[Problem] = []
    first: Sheet | None = None
    for path in files:
        try:
            found, sheet = _check_path(path, spec, kind, seen, first)
        except (OSError, ValueError, KeyError, csv.Error) as exc:
            reason = exc.reason if isinstance(exc, UnicodeDecodeError) else type(exc).__name__
            problems.append(Problem(str(path), 0, "(file)", f"cannot be read ({reason})"))
            continue
        problems += found
        first = first or sheet
    return problems


def _check_path(
    path: Path, spec: dict, kind: str, seen: dict[str, tuple[str, int]], first: Sheet | None
) -> tuple[list[Problem], Sheet | None]:
    """The problems of one file, and its (first) sheet: the others must have its header."""
    if kind == "csv":
        sheet, handles = _csv_sheet(path, spec)
        sheets = [sheet]
    else:
        sheets, handles = _excel_sheets(path, spec), []
        if not sheets:
            return [Problem(str(path), 0, "worksheet", "no worksheet matches the setting")], None
    problems: list[Problem] = []
    first = first or sheets[0]
    try:
        for sheet in sheets:
            if sheet.header != first.header:
                message = f"differs from the header of {first.path} (the tap reads by position)"
                problems.append(Problem(sheet.path, sheet.header_line, "(header)", message))
            problems += check_header(sheet)
            problems += check_rows(sheet, seen)
    finally:
        for handle in handles:
            handle.close()
    return problems, sheets[0]


def check_files(specs: object) -> list[Problem]:
    """Every problem in the files tap-incidents' `files` setting names."""
    if not isinstance(specs, list) or not specs:
        return [Problem(FILES_SETTING, 0, "files", "is not set (a list of files to read)")]
    problems: list[Problem] = []
    seen: dict[str, dict[str, tuple[str, int]]] = {}
    for index, spec in enumerate(specs):
        if not isinstance(spec, dict):
            problems.append(Problem(f"{FILES_SETTING}[{index}]", 0, "files", "not an object"))
            continue
        table = str(spec.get("table_name") or "")
        problems += check_spec(spec, index, seen.setdefault(table, {}))
    return problems


def check_file(path: Path) -> list[Problem]:
    """The problems of one CSV register file."""
    return check_files([{"path": str(path), "format": "csv"}])


def main(argv: list[str] | None = None) -> int:
    """`nis2-pipeline check-register GLOB...`: exit 1 when a row is bad, 2 when no file matches."""
    patterns = list(sys.argv[1:] if argv is None else argv)
    specs = [{"path": p, "format": "csv", "table_name": "incident_register"} for p in patterns]
    problems = check_files(specs)
    for problem in problems:
        print(f"incident register: {problem}", file=sys.stderr)
    if any(p.column == "path" and p.message.startswith("no file matches") for p in problems):
        return 2
    word = "problem" if len(problems) == 1 else "problems"
    print(f"incident register: {len(problems)} {word}", file=sys.stderr)
    return 1 if problems else 0
