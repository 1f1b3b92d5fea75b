"""Match the simulator's ground-truth manifest against the marts dbt built.

A manifest expectation names a mart and column values (`match`); the rows of the mart that carry
all of them are counted against `min_rows` / `max_rows`. Values are compared by meaning, not by
text: an ISO timestamp equals a timestamptz, "2026-08-14" equals a date, 500000 equals 500000.00.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from typing import Any

import psycopg
from psycopg import sql
from psycopg.rows import dict_row

MART_SCHEMA = "analytics_nis2"

# The column that places a mart row in time, for clean-period checks: (start, end).
TIME_COLUMNS: dict[str, tuple[str, str]] = {
    "mart_nis2_auth_failure_detections": ("window_start", "window_end"),
    "mart_nis2_access_anomalies": ("event_ts", "event_ts"),
    "mart_nis2_log_ingestion_gaps": ("gap_start", "gap_end"),
    "mart_nis2_privileged_activity": ("event_ts", "event_ts"),
}


def same(actual: Any, expected: Any) -> bool:
    """True when a mart value means the expected manifest value."""
    if actual is None or expected is None:
        return actual is None and expected is None
    if isinstance(expected, bool) or isinstance(actual, bool):
        return actual is expected
    if isinstance(actual, datetime):
        return actual == datetime.fromisoformat(str(expected).replace("Z", "+00:00"))
    if isinstance(actual, date):
        return actual == date.fromisoformat(str(expected))
    if isinstance(actual, Decimal | int | float) and isinstance(expected, int | float):
        return Decimal(str(actual)) == Decimal(str(expected))
    return str(actual) == str(expected)


@dataclass(frozen=True)
class Outcome:
    """One expectation checked: what was asked and how many rows matched."""

    scenario: str
    mart: str
    match: dict
    matched: int
    min_rows: int | None
    max_rows: int | None

    @property
    def ok(self) -> bool:
        low = self.min_rows is None or self.matched >= self.min_rows
        high = self.max_rows is None or self.matched <= self.max_rows
        return low and high

    def __str__(self) -> str:
        bounds = f"min {self.min_rows}" if self.min_rows is not None else f"max {self.max_rows}"
        return f"{self.scenario}: {self.mart} {self.match} -> {self.matched} rows ({bounds})"


class Marts:
    """Reads mart rows once per mart and counts the rows matching an expectation."""

    def __init__(self, conninfo: str, schema: str = MART_SCHEMA) -> None:
        self.conninfo = conninfo
        self.schema = schema
        self._rows: dict[str, list[dict]] = {}

    def rows(self, mart: str) -> list[dict]:
        if mart not in self._rows:
            query = sql.SQL("select * from {}.{}").format(
                sql.Identifier(self.schema), sql.Identifier(mart)
            )
            with psycopg.connect(self.conninfo, row_factory=dict_row) as conn:
                self._rows[mart] = list(conn.execute(query))
        return self._rows[mart]

    def count(self, mart: str, match: dict, window: tuple[datetime, datetime] | None = None) -> int:
        rows = self.rows(mart)
        missing = [c for c in match if rows and c not in rows[0]]
        if missing:
            raise AssertionError(f"{mart} has no column(s) {missing} named by the manifest")
        hits = [r for r in rows if all(same(r[c], v) for c, v in match.items())]
        if window is not None:
            start_col, end_col = TIME_COLUMNS[mart]
            lo, hi = window
            hits = [r for r in hits if r[start_col] <= hi and r[end_col] >= lo]
        return len(hits)


def _window(period: dict) -> tuple[datetime, datetime]:
    return tuple(datetime.fromisoformat(period[k].replace("Z", "+00:00")) for k in ("start", "end"))


def check_scenarios(manifest: dict, marts: Marts) -> list[Outcome]:
    """Every expectation of every planted scenario."""
    return [
        Outcome(
            scenario["id"],
            exp["mart"],
            exp["match"],
            marts.count(exp["mart"], exp["match"]),
            exp.get("min_rows"),
            exp.get("max_rows"),
        )
        for scenario in manifest["scenarios"]
        for exp in scenario["expect"]
    ]


def check_clean_periods(manifest: dict, marts: Marts) -> list[Outcome]:
    """Every forbidden finding, restricted to rows inside each clean period."""
    outcomes = []
    for period in manifest["clean_periods"]:
        window = _window(period)
        for check in period.get("checks", []):
            outcomes.append(
                Outcome(
                    f"clean {period['start']}..{period['end']}",
                    check["mart"],
                    check["match"],
                    marts.count(check["mart"], check["match"], window),
                    check.get("min_rows"),
                    check.get("max_rows", 0),
                )
            )
    return outcomes
