"""The control-evidence matrix by Annex requirement (IR 2024/2690 Annex; Annex 2.2.2, 7.2).

Every requirement the matrix lists is shown, whatever its status: `no_data` and
`manual_required` are never rolled up as `pass` (NIS2-REFERENCE §6.4, Prowler #4886 lesson).
"""

from __future__ import annotations

from collections import Counter
from typing import Any

from report import charts
from report.period import to_moment
from report.sections import exceptions
from report.sections.base import Block, Metric, PackContext, Section, no_data, status_css, table
from report.warehouse import MartData, Row

MATRIX = "mart_nis2_control_evidence_matrix"
ANNEX = "nis2_annex_requirements"
STATUS_ORDER = ("pass", "fail", "no_data", "manual_required", "not_applicable_documented")
COLUMNS = (
    "ref_id",
    "requirement_text",
    "dir_art21_point",
    "status",
    "status_reason",
    "metric_value",
    "target",
    "evidence_rows",
    "iso27001_controls",
    "last_evidence_at",
    "exception_ids",
    "note",
)
NOT_APPLICABLE = "not_applicable_documented"


def latest_per_requirement(data: MartData) -> list[Row]:
    """One row per ref_id: the newest month in the period (a range may span months)."""
    newest: dict[Any, Row] = {}
    for row in data.rows:
        key = row.get("ref_id")
        month = to_moment(row.get("month"))
        held = newest.get(key)
        if held is None or (month and (to_moment(held.get("month")) or month) <= month):
            newest[key] = row
    return list(newest.values())


def requirements(context: PackContext) -> list[Row]:
    """Every requirement of the matrix, plus any Annex requirement of the seed that the matrix
    lacks, shown as no_data: a requirement is never dropped from the pack."""
    return requirement_rows(context.marts)


def requirement_rows(marts: dict[str, MartData]) -> list[Row]:
    """`requirements` from the marts alone (the GRC export uses it too)."""
    rows = latest_per_requirement(marts[MATRIX])
    listed = {str(row.get("ref_id")) for row in rows}
    for seed in marts[ANNEX].rows:
        if str(seed.get("ref_id")) not in listed:
            rows.append(
                {
                    "ref_id": seed.get("ref_id"),
                    "requirement_text": seed.get("requirement_summary"),
                    "dir_art21_point": seed.get("dir_art21_point"),
                    "status": "no_data",
                    "evidence_models": seed.get("evidence_models"),
                    "iso27001_controls": seed.get("iso27001_controls"),
                    "note": "not assessed in mart_nis2_control_evidence_matrix",
                }
            )
    return sorted(rows, key=lambda r: _ref_sort_key(str(r.get("ref_id"))))


def _ref_sort_key(ref_id: str) -> list[tuple[int, Any]]:
    """Annex order: 3.2.10 after 3.2.9, and 3.2.3(d) after 3.2.3."""
    parts = ref_id.replace("(", ".").replace(")", "").split(".")
    return [(0, int(p)) if p.isdigit() else (1, p) for p in parts]


def annex_chapter(ref_id: str) -> str:
    head = ref_id.split(".", 1)[0]
    return f"Annex {head}" if head.isdigit() else ref_id


def status_metrics(context: PackContext) -> list[Metric]:
    rows = requirements(context)
    if not rows:
        return [Metric("controls_total", "Annex requirements assessed", None)]
    counts = Counter(str(row.get("status")) for row in rows)
    return [
        Metric("controls_total", "Annex requirements assessed", len(rows)),
        Metric("controls_pass", "Requirements passing", counts["pass"]),
        Metric("controls_fail", "Requirements failing", counts["fail"], bad_when_positive=True),
        Metric(
            "controls_no_data",
            "Requirements without data",
            counts["no_data"],
            bad_when_positive=True,
        ),
        Metric(
            "controls_manual", "Requirements needing manual evidence", counts["manual_required"]
        ),
        Metric(
            "controls_not_applicable",
            "Requirements documented as not applicable",
            counts[NOT_APPLICABLE],
        ),
    ]


def _not_applicable(context: PackContext, rows: list[Row]) -> Block:
    """Requirements judged not applicable, each with the exception that documents it: shown
    apart because 'not applicable' is a decision to evidence, never a pass."""
    data = context.marts[MATRIX]
    chosen = [r for r in rows if r.get("status") == NOT_APPLICABLE]
    return Block(
        "not-applicable",
        "Documented as not applicable (IR 2024/2690 Art. 2(2))",
        "Requirements without measured evidence that an entity-wide decision of the exceptions "
        "register, valid at the month's end, declares not applicable. Not counted as pass; "
        "the exception ids lead to the reasoning below.",
        tables=[
            table(
                "not-applicable",
                "Requirements documented as not applicable",
                data,
                chosen,
                ("ref_id", "requirement_text", "status", "exception_ids", "note"),
                limit=max(len(chosen), 1),
                css=status_css,
                empty_text="No requirement is documented as not applicable in this period.",
            )
        ],
    )


def build(context: PackContext) -> Section:
    data = context.marts[MATRIX]
    rows = requirements(context)
    chapters = sorted(
        {annex_chapter(str(r.get("ref_id"))) for r in rows},
        key=lambda c: _ref_sort_key(c.removeprefix("Annex ")),
    )
    statuses = [s for s in STATUS_ORDER if any(r.get("status") == s for r in rows)]
    statuses += sorted({str(r.get("status")) for r in rows} - set(statuses))
    chart_list = []
    if rows:
        counts = {
            status: [
                sum(
                    1
                    for r in rows
                    if annex_chapter(str(r.get("ref_id"))) == chapter
                    and str(r.get("status")) == status
                )
                for chapter in chapters
            ]
            for status in statuses
        }
        chart_list.append(
            charts.stacked_status(
                "control-status",
                chapters,
                counts,
                "Status of each Annex requirement, grouped by Annex chapter.",
            )
        )
    blocks = [
        Block(
            "overview",
            "Overview",
            metrics=status_metrics(context),
            charts=chart_list,
            no_data=no_data(data),
        ),
        _not_applicable(context, rows),
        exceptions.block(context.marts, context.internal_names),
    ]
    for chapter in chapters:
        chapter_rows = [r for r in rows if annex_chapter(str(r.get("ref_id"))) == chapter]
        blocks.append(
            Block(
                chapter.lower().replace(" ", "-"),
                chapter,
                tables=[
                    table(
                        f"matrix-{chapter}",
                        f"{chapter} requirements",
                        data,
                        chapter_rows,
                        COLUMNS,
                        limit=len(chapter_rows),
                        css=status_css,
                    )
                ],
            )
        )
    return Section(
        "controls",
        "Control-evidence matrix",
        "Dir. Art. 21(2); IR 2024/2690 Annex; Annex 2.2.2 and 7.2",
        "Each Annex requirement with the evidence the marts provide and its status: pass, "
        "fail, no data (never counted as pass), manual evidence required, or documented as "
        "not applicable.",
        blocks=blocks,
    )
