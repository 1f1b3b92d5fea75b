"""Management summary for the management body (Dir. Art. 20(1): approve and oversee;
Annex 2.2.1 regular reporting), with trends against the previous period."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from report.formatting import display, label, raw
from report.sections import board
from report.sections.base import Block, Metric, PackContext, Section, no_data
from report.warehouse import MartData, Row

MONTHLY = "mart_nis2_management_monthly_report"
SIGN_OFF = ("prepared_at", "approved_by", "approved_at", "management_comment")
KEYS = ("month", "report_month", "period_start", "legal_entity", "entity_id", "member_state")


def _is_figure(value: Any) -> bool:
    return isinstance(value, int | float | Decimal | bool)


def _matching_previous(row: Row, previous: list[Row]) -> Row | None:
    """The previous period's row for the same legal entity / Member State."""
    same = [p for p in previous if all(p.get(k) == row.get(k) for k in KEYS[3:] if k in row)]
    return same[-1] if same else None


def _monthly_metric(data: MartData, row: Row, column: str, before: Row | None) -> Metric:
    """One figure of the monthly report, named by the export row and column that hold it."""
    id_column = data.spec.id_column
    row_id = raw(row.get(id_column))
    return Metric(
        f"monthly.{column}",
        label(column),
        row[column],
        before.get(column) if before else None,
        source=f"data/{data.spec.name}.csv, row {id_column} = {row_id}, column {column}",
        trace={"export": f"data/{data.spec.name}.csv", "row": row_id, "column": column},
    )


def monthly_blocks(data: MartData) -> list[Block]:
    """One block per management-report row: every figure with a plain label, its previous
    value, the change (so the mart's *_vs_prev_month columns are not repeated) and the export
    row and column it comes from."""
    blocks = []
    for index, row in enumerate(data.rows):
        before = _matching_previous(row, data.previous_rows or [])
        metrics = [
            _monthly_metric(data, row, column, before)
            for column, value in row.items()
            if column not in KEYS
            and column not in SIGN_OFF
            and not column.endswith("_vs_prev_month")
            and _is_figure(value)
        ]
        scope = ", ".join(display(row[k]) for k in KEYS if k in row and row[k] is not None)
        sign_off = [(label(c), display(row.get(c))) for c in SIGN_OFF if c in data.columns]
        blocks.append(
            Block(
                f"monthly-{index}",
                f"Management monthly report ({scope})",
                metrics=metrics,
                tables=[],
                no_data=[],
            )
        )
        blocks[-1].intro = (
            "Sign-off (Art. 20(1)): " + "; ".join(f"{name}: {value}" for name, value in sign_off)
            if sign_off
            else "No sign-off columns in the mart: record approval by hand below."
        )
    return blocks


def board_figures(context: PackContext) -> list[Metric]:
    """The board page's figures [F1..Fn], each with the export file, the rule that counts it
    and the ids of the rows it counts (report/board_rules.py)."""
    return [
        Metric(
            f"board.{value.figure.key}",
            f"[{value.number}] {value.figure.label}",
            value.value,
            value.previous,
            source=value.source,
            trace={
                "export": value.export,
                "kind": value.figure.kind,
                "column": value.figure.column,
                "equals": value.figure.equals,
            },
        )
        for value in board.figure_values(context)
    ]


def build(context: PackContext) -> Section:
    data = context.marts[MONTHLY]
    blocks = [
        Block(
            "key-facts",
            "Board figures and where they come from",
            "Each figure of the board page, counted from one export of this pack by the rule "
            "shown (report/board_rules.py), with the ids of the rows it counts; the previous "
            "period applies the same rule to the previous period's rows. 'No data': the export "
            "could not be filled, which is never read as zero.",
            metrics=board_figures(context),
        ),
    ]
    monthly = monthly_blocks(data)
    blocks += monthly or [Block("monthly", "Management monthly report", no_data=no_data(data))]
    return Section(
        "summary",
        "Management summary",
        "Dir. (EU) 2022/2555 Art. 20(1); IR 2024/2690 Annex 2.2.1, 7",
        f"For the management body of {context.entity}: the figures behind the board page and "
        f"every figure of the monthly management report for {context.period.title}, each "
        "with the export row or rule it comes from and the change against the previous period.",
        blocks=blocks,
    )
