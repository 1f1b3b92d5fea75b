"""Incident register with each Art. 23 stage and its status, a timeline, significance and the
IR Art. 4 recurring-incident check."""

from __future__ import annotations

from datetime import timedelta

from report import charts
from report.formatting import display, raw
from report.period import to_moment
from report.sections import forensics, siem
from report.sections.base import (
    Block,
    Cell,
    Metric,
    PackContext,
    Section,
    Table,
    no_data,
    status_css,
    table,
)
from report.sections.incident_facts import (
    DEADLINES,
    REGISTER,
    SIGNIFICANCE,
    STAGE_TITLES,
    STAGES,
    is_significant,
    latest_assessment,
    pick,
    stages_by_incident,
)

TIMELINE_LIMIT = 40  # more bars than this no longer read as a chart
REGISTER_COLUMNS = (
    "incident_id",
    "title",
    "category",
    "severity",
    "status",
    "aware_at",
    "root_cause",
)


def _stage_cell(row: dict | None) -> Cell:
    if row is None:
        return Cell("—", "", "")
    status = str(row.get("status") or "unknown")
    if status == "not_required":
        return Cell("not required", status, "status status-not_required")
    detail = f"due {display(row.get('due_at'))}"
    if row.get("submitted_at") is not None:
        detail += f", filed {display(row.get('submitted_at'))}"
    if row.get("submission_ref"):
        detail += f", ref. {display(row.get('submission_ref'))}"
    return Cell(f"{status} ({detail})", status, f"status status-{status}")


def _register_table(context: PackContext) -> Table:
    register = context.marts[REGISTER]
    assessments = latest_assessment(context.marts)
    stages = stages_by_incident(context.marts)
    columns = [c for c in REGISTER_COLUMNS if c in register.columns]
    used_stages = [
        s
        for s in STAGES
        if any(
            str(by.get(s, {}).get("status", "not_required")) != "not_required"
            for by in stages.values()
        )
    ]
    headers = [*(c.replace("_", " ").capitalize() for c in columns), "Significant"]
    headers += [STAGE_TITLES[s] for s in used_stages]
    body = []
    for incident in register.rows:
        key = incident.get("incident_id")
        own = stages.get(key, {})
        significant = is_significant(incident, assessments.get(key), own)
        cells = [Cell(display(incident.get(c)), raw(incident.get(c))) for c in columns]
        cells.append(
            Cell("yes" if significant else "no", raw(significant), "bad" if significant else "")
        )
        cells += [_stage_cell(own.get(stage)) for stage in used_stages]
        body.append(cells)
    return Table(
        "incident-register",
        "Incidents active in the period and their Art. 23 reporting stages",
        headers,
        [*columns, "is_significant", *used_stages],
        body,
        len(body),
        empty_text=register.unavailable_reason or "No incident in this period.",
    )


def _timeline(context: PackContext) -> list[charts.Chart]:
    register = context.marts[REGISTER]
    assessments = latest_assessment(context.marts)
    stages = stages_by_incident(context.marts)
    items = []
    for incident in register.rows[:TIMELINE_LIMIT]:
        start = to_moment(pick(incident, "aware_at", "detected_at"))
        if start is None:
            continue
        end = to_moment(pick(incident, "handled_at", "resolved_at", "recovered_at"))
        end = end or context.period.end
        key = incident.get("incident_id")
        marks = []
        for stage, row in stages.get(key, {}).items():
            if (due := to_moment(row.get("due_at"))) is not None:
                marks.append((due, "due", f"{stage} due"))
            filed = to_moment(row.get("submitted_at"))
            if filed is not None:
                marks.append((filed, str(row.get("status")), f"{stage} filed"))
        significant = is_significant(incident, assessments.get(key), stages.get(key, {}))
        items.append(
            charts.TimelineItem(
                str(key), start, max(end, start + timedelta(hours=1)), significant, tuple(marks)
            )
        )
    if not items:
        return []
    return [
        charts.timeline(
            "incident-timeline",
            items,
            "Incident timeline: from awareness to closure, with each Art. 23 "
            "deadline (triangle) and filing (dot: green on time, red late)."
            + (
                f" The first {TIMELINE_LIMIT} of {len(register.rows)} incidents; all are in "
                "the register below."
                if len(register.rows) > TIMELINE_LIMIT
                else ""
            ),
        )
    ]


def incident_metrics(context: PackContext) -> list[Metric]:
    """Headline incident and deadline figures (also used by the management summary)."""
    register = context.marts[REGISTER]
    deadlines = context.marts[DEADLINES]
    assessments = latest_assessment(context.marts)
    stages = stages_by_incident(context.marts)
    statuses = [str(row.get("status")) for by in stages.values() for row in by.values()]
    has_register = register.status in {"ok", "empty"}
    has_deadlines = deadlines.status in {"ok", "empty"}
    significant = sum(
        is_significant(
            i, assessments.get(i.get("incident_id")), stages.get(i.get("incident_id"), {})
        )
        for i in register.rows
    )
    return [
        Metric(
            "incidents", "Incidents in the period", len(register.rows) if has_register else None
        ),
        Metric(
            "significant_incidents",
            "Significant incidents",
            significant if has_register else None,
            bad_when_positive=True,
        ),
        Metric(
            "stages_met", "Reporting stages met", statuses.count("met") if has_deadlines else None
        ),
        Metric(
            "stages_breached",
            "Reporting stages breached",
            statuses.count("breached") if has_deadlines else None,
            bad_when_positive=True,
        ),
        Metric(
            "stages_open",
            "Reporting stages open",
            sum(s.startswith("open") for s in statuses) if has_deadlines else None,
        ),
    ]


def build(context: PackContext) -> Section:
    register = context.marts[REGISTER]
    deadlines = context.marts[DEADLINES]
    register_block = Block(
        "register",
        "Incident register and Art. 23 stages",
        "Status per stage: met = filed by the deadline; breached = filed late or overdue; "
        "open = not yet due. Deadlines come from mart_nis2_reporting_deadlines.",
        metrics=incident_metrics(context),
        charts=_timeline(context),
        tables=[_register_table(context)],
        no_data=no_data(register, deadlines),
    )
    significance = context.marts[SIGNIFICANCE]
    recurring = context.marts["mart_nis2_recurring_incident_check"]
    return Section(
        "incidents",
        "Incident register",
        "Dir. Art. 23(3)-(4); IR 2024/2690 Arts. 3-14; Annex 3.4-3.6",
        "Every incident active during the period, whether it is significant, and how each "
        "reporting stage stands; and how the SIEM's alerts were handled.",
        blocks=[
            register_block,
            Block(
                "significance",
                "Significance assessment",
                "Which criteria of Dir. Art. 23(3) and IR 2024/2690 Arts. 3-14 each incident "
                "meets.",
                tables=[
                    table(
                        "significance",
                        "Significance assessments",
                        significance,
                        preferred=(
                            "incident_id",
                            "assessed_at",
                            "regime",
                            "is_significant",
                            "criteria_met",
                            "fin_threshold_eur",
                            "direct_loss_eur_estimate",
                            "explanation",
                        ),
                        css=status_css,
                    )
                ],
                no_data=no_data(significance),
            ),
            siem.block(context.marts),
            forensics.block(context.marts),
            Block(
                "recurring",
                "Recurring incidents (IR Art. 4, assessed quarterly per Annex 3.4.2(b))",
                tables=[
                    table(
                        "recurring",
                        "Recurring-incident check",
                        recurring,
                        preferred=(
                            "root_cause_key",
                            "window_start",
                            "window_end",
                            "incident_count",
                            "incident_ids",
                            "sum_direct_loss_eur",
                            "fin_threshold_eur",
                            "meets_art4",
                            "already_reported",
                        ),
                    )
                ],
                no_data=no_data(recurring),
            ),
        ],
    )
