"""Logging-pipeline evidence: source coverage, ingestion gaps, retention and integrity
(Annex 3.2.3, 3.2.5, 3.2.6, 3.2.7)."""

from __future__ import annotations

from collections import defaultdict

from report import charts
from report.sections.base import (
    Block,
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
    failing = [r for r in data.rows if r.get("tamper_detected") or r.get("retention_ok") is False]
    return Block(
        "retention",
        "Retention and integrity (Annex 3.2.5, 4.2.3)",
        "Per source and day: a SHA-256 digest chained to the previous day, recomputed to detect "
        "tampering, and whether the retention policy is met.",
        metrics=[
            Metric("log_partitions", "Partitions checked", row_count(data.rows, data)),
            Metric(
                "tamper_detections",
                "Tamper detections",
                count_where(data, "tamper_detected"),
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
                "Tampered partitions and retention failures",
                data,
                failing,
                (
                    "source_system",
                    "partition_date",
                    "row_count",
                    "chain_digest",
                    "recomputed_digest",
                    "tamper_detected",
                    "oldest_retained_date",
                    "policy_retention_days",
                    "retention_ok",
                ),
                css=status_css,
                empty_text="No tampering and no retention failure.",
            )
        ],
        no_data=no_data(data),
    )


def build(context: PackContext) -> Section:
    return Section(
        "logging",
        "Logging",
        "IR 2024/2690 Annex 3.2.3-3.2.7",
        "Evidence that the logging the other chapters rely on was complete, timely and unaltered.",
        blocks=[_coverage(context), _gaps(context), _retention(context)],
    )
