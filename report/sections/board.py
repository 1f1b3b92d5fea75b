"""The one-page board summary (Dir. Art. 20(1)): status per area with the rule that sets it,
the top findings in plain words, the decisions needed and the sign-off block.

Every figure comes from one export of the pack by the rule in `report.board_rules`; the
management summary lists each with its file, rule and the ids of the rows it counts.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from report.board_rules import AREAS, COMMON_RULE, FIGURES, Area, Figure
from report.formatting import MISSING, display, raw
from report.sections.base import PackContext, Section, available
from report.warehouse import MartData

STATUS_TEXT = {"red": "RED", "amber": "AMBER", "green": "GREEN", "no_data": "NO DATA"}
TOP_FINDINGS = 5
SHOWN_IDS = 4
SIGN_OFF_DECISION = (
    "Approve this report and the measures it describes, or record comments (Dir. Art. 20(1))."
)


@dataclass
class FigureValue:
    number: str  # F1, F2, ...: how the board and the summary refer to it
    figure: Figure
    value: int | float | None
    ids: list[str] = field(default_factory=list)
    previous: int | float | None = None

    @property
    def export(self) -> str:
        return f"data/{self.figure.mart}.csv"

    @property
    def text(self) -> str:
        return f"{MISSING} (no data)" if self.value is None else display(self.value)

    @property
    def raw(self) -> str:
        return raw(self.value)

    @property
    def rows_text(self) -> str:
        if not self.ids:
            return ""
        more = len(self.ids) - SHOWN_IDS
        return ", ".join(self.ids[:SHOWN_IDS]) + (f" and {more} more" if more > 0 else "")

    @property
    def source(self) -> str:
        rows = f": {self.rows_text}" if self.rows_text else ""
        return f"{self.export}, {self.figure.rule}{rows}"


@dataclass
class AreaStatus:
    area: Area
    status: str  # red | amber | green | no_data
    figures: list[FigureValue]

    @property
    def label(self) -> str:
        return STATUS_TEXT[self.status]


def _number(value: Any) -> float | None:
    if value is None or isinstance(value, bool | str):
        return None
    return float(value) if isinstance(value, Decimal | float | int) else None


def evaluate(figure: Figure, marts: Mapping[str, MartData]) -> tuple[Any, list[str]]:
    """The figure over its mart's rows, and the ids of the rows it counts; None when the mart
    could not be read or lacks the column (never 0)."""
    data = marts[figure.mart]
    rows = data.rows
    if not available(data) or (
        figure.column and data.columns and figure.column not in data.columns
    ):
        return None, []
    id_column = data.spec.id_column
    if figure.kind == "missing":
        other = marts[figure.equals]
        if not available(other):
            return None, []
        known = {raw(r.get(figure.column)) for r in other.rows}
        chosen = [r for r in rows if raw(r.get(figure.column)) not in known]
        return len(chosen), [raw(r.get(figure.column)) for r in chosen]
    if figure.kind == "rows":
        return len(rows), [str(r.get(id_column)) for r in rows if r.get(id_column) is not None]
    if figure.kind == "count":
        chosen = [r for r in rows if raw(r.get(figure.column)) == figure.equals]
        return len(chosen), [str(r.get(id_column)) for r in chosen if id_column in r]
    numbers = [(r, _number(r.get(figure.column))) for r in rows]
    result = sum(n for _, n in numbers if n is not None)
    ids = [str(r.get(id_column)) for r, n in numbers if n and id_column in r]
    return (int(result) if float(result).is_integer() else result), ids


def figure_values(context: PackContext) -> list[FigureValue]:
    """Every board figure (F1..Fn, in the order of `board_rules.FIGURES`) for the period,
    with its value in the previous period."""
    values = []
    for index, figure in enumerate(FIGURES, start=1):
        value, ids = evaluate(figure, context.marts)
        previous = None
        if context.previous is not None:
            previous = evaluate(figure, context.previous.marts)[0]
        values.append(FigureValue(f"F{index}", figure, value, ids, previous))
    return values


def area_status(area: Area, values: dict[str, FigureValue]) -> AreaStatus:
    """Red beats no data (a known failure stays known); no data beats amber and green."""

    def above_zero(keys: tuple[str, ...]) -> bool:
        return any((values[k].value or 0) > 0 for k in keys)

    needed = [values[k] for k in (*area.red, *area.amber)]
    if above_zero(area.red):
        status = "red"
    elif any(v.value is None for v in needed):
        status = "no_data"
    elif above_zero(area.amber):
        status = "amber"
    else:
        status = "green"
    return AreaStatus(area, status, [values[k] for k in area.figures])


def findings(statuses: list[AreaStatus], values: dict[str, FigureValue]) -> list[str]:
    """Plain-words findings, red conditions first, then amber, then areas without data."""
    found = []
    for rank in ("red", "amber"):
        for state in statuses:
            for key in getattr(state.area, rank):
                value = values[key]
                if (value.value or 0) > 0 and value.figure.finding:
                    text = value.figure.finding.format(
                        n=display(value.value), ids=value.rows_text or "see the export"
                    )
                    found.append(f"{text} [{value.number}]")
    for state in statuses:
        if state.status == "no_data":
            found.append(f"{state.area.title}: no data, so its status is unknown.")
    return found


def decisions(statuses: list[AreaStatus], values: dict[str, FigureValue]) -> list[str]:
    needed = []
    for state in statuses:
        for key in (*state.area.red, *state.area.amber):
            value = values[key]
            if (value.value or 0) > 0 and value.figure.decision:
                needed.append(f"{value.figure.decision} [{value.number}]")
        if state.status == "no_data":
            needed.append(f"Decide who restores the missing data for {state.area.title}.")
    return [*dict.fromkeys(needed), SIGN_OFF_DECISION]


def sign_off_record(context: PackContext) -> list[tuple[str, str]]:
    """The sign-off the warehouse already records for this period (seed management_signoffs
    via the monthly report), shown as recorded."""
    rows = context.marts["mart_nis2_management_monthly_report"].rows
    if not rows:
        return []
    row = rows[-1]
    return [
        ("Approved by", display(row.get("approved_by"))),
        ("Approved at", display(row.get("approved_at"))),
    ]


def build(context: PackContext) -> Section:
    values = figure_values(context)
    by_key = {v.figure.key: v for v in values}
    statuses = [area_status(area, by_key) for area in AREAS]
    found = findings(statuses, by_key)
    return Section(
        "board",
        "Board summary",
        "Dir. (EU) 2022/2555 Art. 20(1) (approve and oversee); IR 2024/2690 Annex 2.2.1",
        f"{context.entity}, {context.period.title}: where the entity stands, what went wrong "
        "and what the management body must decide. Each figure [F1, F2, ...] is listed with "
        "its export file and rows in the management summary.",
        template="board.html.j2",
        extra={
            "areas": statuses,
            "findings": found[:TOP_FINDINGS],
            "more_findings": max(len(found) - TOP_FINDINGS, 0),
            "decisions": decisions(statuses, by_key),
            "common_rule": COMMON_RULE,
            "sign_off": sign_off_record(context),
            "figures": values,
            "signature": True,
        },
    )
