"""What every section module gets and gives back, and the table/metric helpers they share."""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from typing import Any

from report.charts import Chart
from report.formatting import MISSING, display, label, longest_piece, raw
from report.period import Period
from report.warehouse import MartData, Row

ROW_LIMIT = 50  # rows shown in a table; the CSV/JSON export always has every row
WIDE_COLUMNS = 7  # a table with this many columns or more is printed landscape


@dataclass(frozen=True)
class PackContext:
    period: Period
    entity: str
    marts: dict[str, MartData]
    internal_names: bool
    generated_at: datetime
    source_description: str
    pseudonym_key_managed: bool
    source_freshness: list[Row] = field(default_factory=list)
    profile: Row = field(default_factory=dict)
    unnamed_pseudonyms: int = 0  # internal version: pseudonyms no identity matched
    previous: PackContext | None = None  # the same marts cut to the previous period
    #: Reconciliation rows of the runs in the period (pipeline/reconcile.py); None: no table.
    reconciliation: list[Row] | None = None


@dataclass
class Cell:
    text: str
    value: str  # exact value for machine checks (data-value)
    css: str = ""


@dataclass
class Table:
    """A titled table; `note` says what was left out and where the rest is."""

    key: str
    caption: str
    headers: list[str]
    columns: list[str]
    rows: list[list[Cell]]
    total: int
    note: str = ""
    empty_text: str = ""


@dataclass
class Metric:
    """A headline figure; `value` is the exact number or None when the mart cannot say."""

    key: str
    name: str
    value: Any
    previous: Any = None
    note: str = ""
    bad_when_positive: bool = False
    column: str | None = None  # the mart column it needs; see `applicable`
    source: str = ""  # where an auditor recomputes it: export file, row or rule
    trace: dict[str, str] = field(default_factory=dict)  # the same, as data attributes

    @property
    def text(self) -> str:
        return display(self.value) if self.value is not None else f"{MISSING} (no data)"

    @property
    def raw(self) -> str:
        return raw(self.value)

    @property
    def change(self) -> str:
        if not _is_number(self.value) or not _is_number(self.previous):
            return ""
        delta = float(self.value) - float(self.previous)
        return "±0" if delta == 0 else f"{delta:+,.2f}".rstrip("0").rstrip(".")

    @property
    def alarm(self) -> bool:
        return self.bad_when_positive and _is_number(self.value) and float(self.value) > 0


@dataclass
class Block:
    """A titled sub-part of a section: a short text, metrics, charts and tables."""

    key: str
    title: str
    intro: str = ""
    metrics: list[Metric] = field(default_factory=list)
    charts: list[Chart] = field(default_factory=list)
    tables: list[Table] = field(default_factory=list)
    no_data: list[str] = field(default_factory=list)

    @property
    def wide(self) -> bool:
        return any(len(t.headers) >= WIDE_COLUMNS for t in self.tables if t.rows)


@dataclass
class Section:
    key: str
    title: str
    legal_basis: str
    intro: str
    blocks: list[Block] = field(default_factory=list)
    template: str = "section.html.j2"
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def wide(self) -> bool:
        """Printed on landscape pages: a table of the section has too many columns for a
        portrait page without splitting words."""
        return any(block.wide for block in self.blocks)


def _is_number(value: Any) -> bool:
    return isinstance(value, int | float | Decimal) and not isinstance(value, bool)


def table(
    key: str,
    caption: str,
    data: MartData,
    rows: Sequence[Row] | None = None,
    preferred: Sequence[str] = (),
    *,
    limit: int = ROW_LIMIT,
    css: Callable[[str, Any], str] | None = None,
    empty_text: str = "",
) -> Table:
    """Rows of a mart as a table: the preferred columns that exist (else all), capped at
    `limit` rows with a note that names the export holding the rest."""
    chosen = list(rows if rows is not None else data.rows)
    known = data.columns or list(dict.fromkeys(k for row in chosen for k in row))
    columns = [c for c in preferred if c in known] or list(known)
    shown = chosen[:limit]
    body = [[_cell(c, row.get(c), css) for c in columns] for row in shown]
    note = ""
    if len(chosen) > len(shown):
        note = (
            f"Showing {len(shown)} of {len(chosen)} rows; all rows are in "
            f"data/{data.spec.name}.csv and .json."
        )
    empty = data.unavailable_reason if data.status != "ok" else (empty_text or "No rows.")
    if chosen and data.status != "ok":
        empty = ""
    return Table(key, caption, [label(c) for c in columns], columns, body, len(chosen), note, empty)


def _cell(column: str, value: Any, css: Callable[[str, Any], str] | None) -> Cell:
    text = display(value)
    classes = css(column, value) if css else ""
    if longest_piece(text) > 30:  # a digest: no separator to wrap at, so it may break anywhere
        classes = f"{classes} wrap".strip()
    return Cell(text, raw(value), classes)


def status_css(column: str, value: Any) -> str:
    """CSS class for status-like cells so met/pass read green and breached/fail red."""
    if column in {"status", "stage_status"} and isinstance(value, str):
        return f"status status-{value}"
    if isinstance(value, bool) and column.startswith(("tamper", "unapproved", "leaver_access")):
        return "bad" if value else ""
    return ""


def no_data(*marts: MartData) -> list[str]:
    """The 'no data' notices of the given marts (missing, unreadable or empty for the period)."""
    notes = [data.unavailable_reason for data in marts] + [data.undated_note for data in marts]
    return [note for note in notes if note]


def available(data: MartData) -> bool:
    """The mart was read (it may still have no rows for the period)."""
    return data.status in {"ok", "empty"}


def row_count(rows: list[Row] | None, data: MartData) -> int | None:
    """len(rows), or None when the mart could not be read: 'no data' is not zero."""
    return len(rows) if rows is not None and available(data) else None


def applicable(data: MartData, metrics: list[Metric]) -> list[Metric]:
    """Drop figures whose column this mart does not have (it measures something else); when
    the mart itself is missing, keep them all so each shows 'no data'."""
    if not data.columns:
        return metrics
    return [m for m in metrics if m.column is None or m.column in data.columns]


def count_where(data: MartData, column: str, wanted: Any = True) -> int | None:
    """How many period rows have `column == wanted`; None if the mart lacks the column."""
    if column not in data.columns:
        return None
    return sum(1 for row in data.rows if row.get(column) == wanted)


def count_positive(data: MartData, column: str) -> int | None:
    if column not in data.columns:
        return None
    return sum(1 for row in data.rows if (row.get(column) or 0) > 0)


def total(data: MartData, column: str, rows: Iterable[Row] | None = None) -> float | int | None:
    """Sum of a column over the period rows (or `rows`): 0 when there are none, None when the
    mart or the column is missing, so 'nothing happened' and 'cannot say' stay apart."""
    if not available(data) or (data.columns and column not in data.columns):
        return None
    values = (row.get(column) for row in (data.rows if rows is None else rows))
    result = sum((float(v) for v in values if v is not None and not isinstance(v, bool | str)), 0.0)
    return int(result) if result.is_integer() else result


def tally(rows: Iterable[Row], column: str) -> Counter[str]:
    return Counter(
        str(row.get(column) if row.get(column) is not None else "unknown") for row in rows
    )


def first_column(data: MartData, *candidates: str) -> str | None:
    return next((c for c in candidates if c in data.columns), None)
