"""Management summary for the management body (Dir. Art. 20(1): approve and oversee;
Annex 2.2.1 regular reporting), with trends against the previous period."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from report.formatting import display, label
from report.sections.base import Block, Metric, PackContext, Section, no_data
from report.sections.controls import status_metrics
from report.sections.incidents import incident_metrics
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


def monthly_blocks(data: MartData) -> list[Block]:
    """One block per management-report row: every figure, its previous value and the change."""
    blocks = []
    for index, row in enumerate(data.rows):
        before = _matching_previous(row, data.previous_rows or [])
        metrics = [
            Metric(
                f"monthly.{column}", label(column), value, before.get(column) if before else None
            )
            for column, value in row.items()
            if column not in KEYS and column not in SIGN_OFF and _is_figure(value)
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


def key_facts(context: PackContext) -> list[Metric]:
    """Incident, deadline and control figures, each with its value in the previous period."""
    facts = incident_metrics(context) + status_metrics(context)
    if context.previous is not None:
        before = {
            m.key: m.value
            for m in incident_metrics(context.previous) + status_metrics(context.previous)
        }
        for metric in facts:
            metric.previous = before.get(metric.key)
    return facts


def build(context: PackContext) -> Section:
    data = context.marts[MONTHLY]
    blocks = [
        Block(
            "key-facts",
            "Key facts of the period",
            "Counted from the marts of this pack; the previous period is cut from the same marts.",
            metrics=key_facts(context),
        ),
    ]
    monthly = monthly_blocks(data)
    blocks += monthly or [Block("monthly", "Management monthly report", no_data=no_data(data))]
    return Section(
        "summary",
        "Management summary",
        "Dir. (EU) 2022/2555 Art. 20(1); IR 2024/2690 Annex 2.2.1, 7",
        f"For the management body of {context.entity}: the state of incident reporting and of "
        f"the cybersecurity risk-management measures in {context.period.title}, with the change "
        "against the previous period where the mart gives one.",
        blocks=blocks,
        extra={"signature": True},
    )
