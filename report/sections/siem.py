"""SIEM alert handling from mart_nis2_siem_alert_handling (M5; Annex 3.2.4, 3.4.2(a)).

The sources hold no acknowledgement or triage verdict: the only record of handling is an
incident listing the alert. The pack says so next to the figures, so nobody reads
'untriaged' as 'ignored' or an invented false-positive rate into it.
"""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal
from statistics import median
from typing import Any

from report.sections.base import Block, Metric, Table, count_where, no_data, row_count, table
from report.warehouse import MartData, Row

SIEM = "mart_nis2_siem_alert_handling"
NO_TRIAGE_SOURCE = (
    "No source records alert triage (no acknowledgement or verdict is exported by Wazuh): an "
    "alert counts as escalated when an incident of the register lists it (linked_alert_ids), "
    "triaged at the incident's detection. 'Untriaged' means no incident link, not that the "
    "alert was ignored; an untriaged alert breaches the SLA once it has gone without a link "
    "longer than its band's triage time (seed siem_alert_sla_policy, internal policy)."
)
BAND_ORDER = ("critical", "high", "medium")
ALERT_COLUMNS = (
    "alert_id",
    "first_seen_at",
    "rule_id",
    "rule_level",
    "severity_band",
    "rule_description",
    "asset_id",
    "disposition",
    "escalated_incident_id",
    "triaged_at",
    "ttt_min",
    "triage_sla_minutes",
    "sla_breached",
)


def median_ttt(rows: list[Row] | None) -> Decimal | None:
    """Median minutes to triage of the escalated alerts (interpolated, as percentile_cont),
    rounded half-up to 0.1 like the management report; None when none was triaged."""
    values = [Decimal(str(r["ttt_min"])) for r in rows or [] if r.get("ttt_min") is not None]
    if not values:
        return None
    return Decimal(median(values)).quantize(Decimal("0.1"), rounding=ROUND_HALF_UP)


def _metrics(data: MartData) -> list[Metric]:
    previous = data.previous_rows

    def before(column: str, wanted: Any) -> int | None:
        if previous is None or column not in data.columns:
            return None
        return sum(1 for r in previous if r.get(column) == wanted)

    return [
        Metric(
            "siem_alerts_at_policy_level",
            "Alerts at or above the policy level",
            row_count(data.rows, data),
            row_count(previous, data),
        ),
        Metric(
            "siem_alerts_escalated",
            "Escalated to an incident",
            count_where(data, "disposition", "escalated"),
            before("disposition", "escalated"),
        ),
        Metric(
            "siem_alerts_untriaged",
            "Untriaged (no incident link)",
            count_where(data, "disposition", "untriaged"),
            before("disposition", "untriaged"),
        ),
        Metric(
            "siem_alerts_sla_breached",
            "Triage SLA breached",
            count_where(data, "sla_breached", True),
            before("sla_breached", True),
            bad_when_positive=True,
        ),
        Metric(
            "median_ttt_min",
            "Median time to triage (min)",
            median_ttt(data.rows) if "ttt_min" in data.columns else None,
            median_ttt(previous) if previous is not None else None,
        ),
    ]


def per_band(rows: list[Row]) -> list[Row]:
    """Alerts per severity band: counts, the band's SLA and median time to triage."""
    bands: dict[str, list[Row]] = {}
    for row in rows:
        bands.setdefault(str(row.get("severity_band") or "unknown"), []).append(row)
    order = {band: i for i, band in enumerate(BAND_ORDER)}
    return [
        {
            "severity_band": band,
            "triage_sla_minutes": members[0].get("triage_sla_minutes"),
            "alerts": len(members),
            "escalated": sum(r.get("disposition") == "escalated" for r in members),
            "untriaged": sum(r.get("disposition") == "untriaged" for r in members),
            "sla_breached": sum(r.get("sla_breached") is True for r in members),
            "median_ttt_min": median_ttt(members),
        }
        for band, members in sorted(bands.items(), key=lambda b: order.get(b[0], len(order)))
    ]


def _band_table(data: MartData) -> Table:
    rows = per_band(data.rows)
    columns = list(rows[0]) if rows else ["severity_band"]
    own = MartData(data.spec, data.status, columns, rows)
    return table(
        "siem-bands",
        "Alerts per severity band",
        own,
        rows,
        columns,
        empty_text="No alert at or above the policy level in this period.",
    )


def block(marts: dict[str, MartData]) -> Block:
    data = marts[SIEM]
    escalated = [r for r in data.rows if r.get("disposition") == "escalated"]
    return Block(
        "siem-alerts",
        "SIEM alert handling (Annex 3.2.4, 3.4.2(a))",
        "Every Wazuh alert at or above the lowest level of the triage policy, and whether it "
        "was handled within its band's triage time. " + NO_TRIAGE_SOURCE,
        metrics=_metrics(data),
        tables=[
            _band_table(data),
            table(
                "siem-escalated",
                "Alerts escalated to an incident",
                data,
                sorted(escalated, key=lambda r: str(r.get("first_seen_at"))),
                ALERT_COLUMNS,
                empty_text="No alert of this period is linked to an incident.",
            ),
        ],
        no_data=no_data(data),
    )
