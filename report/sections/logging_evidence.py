"""Logging-pipeline evidence: source coverage, ingestion gaps, retention and integrity
(Annex 3.2.3, 3.2.5, 3.2.6, 3.2.7), and the reconciliation of what each source offered with
what was loaded (pipeline/reconcile.py)."""

from __future__ import annotations

from collections import defaultdict
from datetime import UTC
from typing import Any

from report import charts
from report.formatting import display, label, raw
from report.period import to_moment
from report.sections.base import (
    Block,
    Cell,
    Metric,
    PackContext,
    Section,
    count_where,
    first_column,
    no_data,
    row_count,
    status_css,
    table,
    total,
)
from report.sections.base import Table as SectionTable
from report.warehouse import Row

RECONCILED = ("offered", "loaded", "rejected", "left_out", "duplicates_collapsed")
#: The worst status of a source's runs wins the summary row.
STATUS_ORDER = ("all_rejected", "mismatch", "no_data", "ok")
#: integrity_status of a log partition not (or no longer) verified against the raw tables.
UNVERIFIED = ("never_verified", "not_verified_since_sealing")


def _coverage(context: PackContext) -> Block:
    data = context.marts["mart_nis2_log_source_coverage"]
    source_column = first_column(data, "asset_id", "source_system", "log_type")
    per_source: dict[str, list[bool]] = defaultdict(list)
    if source_column and "covered" in data.columns:
        for row in data.rows:
            per_source[str(row.get(source_column))].append(bool(row.get("covered")))
    percentages = {s: round(100 * sum(v) / len(v), 1) for s, v in sorted(per_source.items())}
    covered = count_where(data, "covered")
    pct = round(100 * covered / len(data.rows), 1) if covered is not None and data.rows else None
    chart_list = []
    if percentages:
        chart_list.append(
            charts.bars(
                "log-coverage",
                list(percentages),
                list(percentages.values()),
                "Share of days each expected log source was covered.",
                "% of days covered",
            )
        )
    uncovered = [r for r in data.rows if r.get("covered") is False]
    return Block(
        "coverage",
        "Log-source coverage (Annex 3.2.3, 3.2.6)",
        "Each expected log source per day: did it deliver events, within its allowed gap? "
        "A category with no source at all is 'no data', never 'covered'.",
        metrics=[
            Metric("log_coverage_pct", "Source-days covered (%)", pct),
            Metric(
                "log_uncovered_days",
                "Source-days not covered",
                len(uncovered) if "covered" in data.columns else None,
                bad_when_positive=True,
            ),
        ],
        charts=chart_list,
        tables=[
            table(
                "uncovered",
                "Source-days not covered",
                data,
                uncovered,
                (
                    "day",
                    "asset_id",
                    "source_system",
                    "log_type",
                    "events",
                    "max_gap_min",
                    "expected_max_gap_min",
                    "covered",
                    "p95_ingest_latency_s",
                    "future_ts_events",
                ),
                empty_text="Every expected source was covered every day.",
            )
        ],
        no_data=no_data(data),
    )


def _gaps(context: PackContext) -> Block:
    data = context.marts["mart_nis2_log_ingestion_gaps"]
    unexplained = [r for r in data.rows if r.get("explained_by") in (None, "unknown")]
    return Block(
        "gaps",
        "Log-ingestion gaps (Annex 3.2.3(k), 3.2.6)",
        "Periods in which a source sent nothing for longer than it should, and what explains them.",
        metrics=[
            Metric("log_gaps", "Gaps", row_count(data.rows, data)),
            Metric("log_gap_minutes", "Gap minutes", total(data, "gap_minutes")),
            Metric(
                "log_gaps_unexplained",
                "Unexplained gaps",
                len(unexplained) if "explained_by" in data.columns else None,
                bad_when_positive=True,
            ),
        ],
        tables=[
            table(
                "gaps",
                "Gaps",
                data,
                preferred=(
                    "source_system",
                    "asset_id",
                    "gap_start",
                    "gap_end",
                    "gap_minutes",
                    "expected_max_gap_min",
                    "explained_by",
                    "ticket_id",
                ),
            )
        ],
        no_data=no_data(data),
    )


def _retention(context: PackContext) -> Block:
    data = context.marts["mart_nis2_log_retention_integrity"]
    # a mart without integrity_status (built before issue 15): tamper and retention only
    judged = "integrity_status" in data.columns
    failing = [
        r
        for r in data.rows
        if (r.get("integrity_status") != "ok" if judged else r.get("tamper_detected"))
        or r.get("retention_ok") is False
    ]
    return Block(
        "retention",
        "Retention and integrity (Annex 3.2.5, 4.2.3)",
        "Per source and day: a SHA-256 digest chained to the previous day, when it was first "
        "sealed and how long after the day ended, the last verification against the raw tables "
        "(nis2-verify-logs) and what it found, and whether the retention policy is met. A day "
        "never verified since it was sealed is not evidence of integrity.",
        metrics=[
            Metric("log_partitions", "Partitions checked", row_count(data.rows, data)),
            Metric(
                "tamper_detections",
                "Tamper detections",
                count_where(data, "tamper_detected"),
                bad_when_positive=True,
            ),
            Metric(
                "sealed_late",
                "Partitions sealed later than the policy allows",
                count_where(data, "sealed_within_lag", False),
                bad_when_positive=True,
            ),
            Metric(
                "never_verified",
                "Partitions not verified since sealing",
                _count_in(data, "integrity_status", UNVERIFIED),
                bad_when_positive=True,
            ),
            Metric(
                "retention_failures",
                "Partitions failing retention",
                count_where(data, "retention_ok", False),
                bad_when_positive=True,
            ),
        ],
        tables=[
            table(
                "retention-failures",
                "Partitions that are not evidence of integrity, with the reason",
                data,
                failing,
                (
                    "source_system",
                    "asset_id",
                    "partition_date",
                    "integrity_status",
                    "row_count",
                    "first_sealed_at",
                    "seal_latency_hours",
                    "last_verified_at",
                    "verification_result",
                    "rows_edited",
                    "rows_deleted",
                    "rows_inserted_behind_loader",
                    "chain_digest",
                    "tamper_detected",
                    "oldest_retained_date",
                    "policy_retention_days",
                    "retention_ok",
                ),
                css=status_css,
                empty_text="Every partition sealed in time, verified since and kept long enough.",
            )
        ],
        no_data=no_data(data),
    )


def _count_in(data: Any, column: str, wanted: tuple[str, ...]) -> int | None:
    """How many period rows have `column` in `wanted`; None if the mart lacks the column."""
    if column not in data.columns:
        return None
    return sum(1 for row in data.rows if row.get(column) in wanted)


def _sum(values: list[Any]) -> int | None:
    """A figure over several runs; unknown in any run makes the sum unknown, never zero."""
    return None if any(v is None for v in values) else sum(int(v) for v in values)


def _reasons(rows: list[Row]) -> str:
    merged: dict[str, int] = defaultdict(int)
    for row in rows:
        reasons = row.get("reasons") or {}
        for kind in ("rejected", "field_nulled", "left_out"):
            for reason, n in (reasons.get(kind) or {}).items():
                merged[f"{kind.replace('_', ' ')}: {reason}"] += int(n)
        for note in reasons.get("no_data") or ():
            merged[f"no data: {note}"] += 0
    return "; ".join(f"{k} ({v:,})" if v else k for k, v in sorted(merged.items()))


def _summed(groups: dict[tuple[str, str], list[Row]], names: tuple[str, str]) -> list[Row]:
    summary = []
    for keys, runs in sorted(groups.items()):
        statuses = {str(r.get("status")) for r in runs}
        worst = next((s for s in STATUS_ORDER if s in statuses), sorted(statuses)[0])
        figures = {c: _sum([r.get(c) for r in runs]) for c in RECONCILED}
        summary.append(
            dict(zip(names, keys, strict=True))
            | {"runs": len(runs), **figures, "status": worst, "reasons": _reasons(runs)}
        )
    return summary


def reconciliation_rows(rows: list[Row]) -> list[Row]:
    """One row per source and stream over the period's runs: summed figures, worst status."""
    groups: dict[tuple[str, str], list[Row]] = defaultdict(list)
    for row in rows:
        groups[(str(row.get("source")), str(row.get("stream")))].append(row)
    return _summed(groups, ("source", "stream"))


def reconciliation_days(rows: list[Row]) -> list[Row]:
    """One row per source and day of the runs (UTC): the source-day view beside coverage."""
    groups: dict[tuple[str, str], list[Row]] = defaultdict(list)
    for row in rows:
        moment = to_moment(row.get("reconciled_at"))
        day = moment.astimezone(UTC).date().isoformat() if moment else "unknown"
        groups[(day, str(row.get("source")))].append(row)
    return _summed(groups, ("day", "source"))


def _reconciliation_table(rows: list[Row], keys: tuple[str, ...] = ("source", "stream")):
    columns = [*keys, "runs", *RECONCILED, "status", "reasons"]
    body = [
        [
            Cell(
                display(row.get(c)) if row.get(c) is not None or c == "reasons" else "no data",
                raw(row.get(c)),
                status_css(c, row.get(c)),
            )
            for c in columns
        ]
        for row in rows
    ]
    by_day = keys[0] == "day"
    return SectionTable(
        "reconciliation-days" if by_day else "reconciliation",
        "Per source and day of the runs (UTC)"
        if by_day
        else "Per source and stream, over the runs reconciled in the period",
        [label(c) for c in columns],
        columns,
        body,
        len(rows),
    )


def _reconciliation(context: PackContext) -> Block:
    rows = context.reconciliation
    summary = reconciliation_rows(rows or [])
    missing = []
    if rows is None:
        missing = [
            "no reconciliation recorded: the table nis2_ops.source_reconciliation does not "
            "exist (the job's nis2-checks:reconcile task creates it)"
        ]
    elif not rows:
        missing = ["no reconciliation recorded for this period"]
    known = bool(summary)
    return Block(
        "reconciliation",
        "Reconciliation: offered, loaded, rejected, left out",
        "For each run and source: every record the source offered was loaded, rejected by "
        "staging with a reason, left out before loading with a reason, or collapsed into a "
        "newer version of itself. 'no data' is a part that could not be counted, never zero.",
        metrics=[
            Metric(
                "reconciled_runs",
                "Runs reconciled",
                len({r.get("run_id") for r in rows}) if known and rows else None,
            ),
            Metric(
                "reconciled_offered",
                "Records offered",
                _sum([r["offered"] for r in summary]) if known else None,
            ),
            Metric(
                "reconciled_loaded",
                "Records loaded",
                _sum([r["loaded"] for r in summary]) if known else None,
            ),
            Metric(
                "reconciled_rejected",
                "Records rejected",
                _sum([r["rejected"] for r in summary]) if known else None,
            ),
            Metric(
                "reconciled_left_out",
                "Records left out",
                _sum([r["left_out"] for r in summary]) if known else None,
            ),
            Metric(
                "reconciliation_failures",
                "Streams all rejected or not adding up",
                sum(r["status"] in {"all_rejected", "mismatch"} for r in summary)
                if known
                else None,
                bad_when_positive=True,
            ),
        ],
        tables=[
            _reconciliation_table(summary),
            _reconciliation_table(reconciliation_days(rows or []), ("day", "source")),
        ]
        if known
        else [],
        no_data=missing,
    )


def build(context: PackContext) -> Section:
    return Section(
        "logging",
        "Logging",
        "IR 2024/2690 Annex 3.2.3-3.2.7",
        "Evidence that the logging the other chapters rely on was complete, timely and unaltered.",
        blocks=[
            _coverage(context),
            _gaps(context),
            _retention(context),
            _reconciliation(context),
        ],
    )
