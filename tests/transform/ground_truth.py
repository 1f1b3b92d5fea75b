"""Match the simulator's ground-truth manifest against the marts dbt built.

A manifest expectation names a mart and column values (`match`); the rows of the mart that carry
all of them are counted against `min_rows` / `max_rows`. Values are compared by meaning, not by
text: an ISO timestamp equals a timestamptz, "2026-08-14" equals a date, 500000 equals 500000.00.
`pseudonymised` names the planted person or address a pseudonymised column must carry (compared
as its pseudonym under the key the marts were built with), `window` the time the row must
overlap (TIME_COLUMNS), so a matching row elsewhere in the period does not satisfy it.
`period_bounds` bound the findings over the whole period: rows outside every window the
manifest expects that mart's findings in are false positives.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta
from decimal import Decimal
from typing import Any

import psycopg
from psycopg import sql
from psycopg.rows import dict_row

from report.pseudonyms import key_id, pseudonym

MART_SCHEMA = "analytics_nis2"

# The column that places a mart row in time, for clean-period checks: (start, end).
TIME_COLUMNS: dict[str, tuple[str, str]] = {
    "mart_nis2_auth_failure_detections": ("window_start", "window_end"),
    "mart_nis2_access_anomalies": ("event_ts", "event_ts"),
    "mart_nis2_log_ingestion_gaps": ("gap_start", "gap_end"),
    "mart_nis2_privileged_activity": ("event_ts", "event_ts"),
    "mart_nis2_siem_detections": ("window_start", "window_end"),
    "mart_nis2_iam_admin_detections": ("event_ts", "event_ts"),
    "mart_nis2_correlated_findings": ("first_at", "last_at"),
    "mart_nis2_siem_alert_handling": ("first_seen_at", "first_seen_at"),
}
# The keys a test warehouse may have been pseudonymised with: the demo job's (meltano.yml) and
# the dbt tests' own (tests/transform/conftest.py). The one whose id the marts record is used.
CANDIDATE_KEYS = ("demo-pseudonym-key-not-secret", "transform-tests-pseudonym-key")
# How far a detection may reach beyond its scenario's window (look-back windows of the rules)
BOUND_SLACK = timedelta(hours=2)


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
        self._key: bytes | None = None

    @property
    def key(self) -> bytes:
        """The pseudonym key the marts were built with, found by its recorded id."""
        if self._key is None:
            query = sql.SQL("select key_id from {} order by recorded_at desc limit 1").format(
                sql.Identifier(self.schema.replace("_nis2", "_util"), "pseudonym_key")
            )
            with psycopg.connect(self.conninfo) as conn:
                recorded = conn.execute(query).fetchone()[0]
            found = [k.encode() for k in CANDIDATE_KEYS if key_id(k.encode()) == recorded]
            if not found:
                raise AssertionError(f"no candidate pseudonym key has the marts' id {recorded}")
            self._key = found[0]
        return self._key

    def pseudonyms(self, who: dict[str, str] | None) -> dict:
        return {col: pseudonym(self.key, raw) for col, raw in (who or {}).items()}

    def rows(self, mart: str) -> list[dict]:
        if mart not in self._rows:
            query = sql.SQL("select * from {}.{}").format(
                sql.Identifier(self.schema), sql.Identifier(mart)
            )
            with psycopg.connect(self.conninfo, row_factory=dict_row) as conn:
                self._rows[mart] = list(conn.execute(query))
        return self._rows[mart]

    def matching(
        self, mart: str, match: dict, window: tuple[datetime, datetime] | None = None
    ) -> list[dict]:
        rows = self.rows(mart)
        missing = [c for c in match if rows and c not in rows[0]]
        if missing:
            raise AssertionError(f"{mart} has no column(s) {missing} named by the manifest")
        hits = [r for r in rows if all(same(r[c], v) for c, v in match.items())]
        if window is not None:
            hits = [r for r in hits if overlaps(mart, r, window)]
        return hits

    def count(self, mart: str, match: dict, window: tuple[datetime, datetime] | None = None) -> int:
        return len(self.matching(mart, match, window))


def overlaps(mart: str, row: dict, window: tuple[datetime, datetime]) -> bool:
    """The row's time span meets the window; an open end (null) reaches to the period's end."""
    start_col, end_col = TIME_COLUMNS[mart]
    lo, hi = window
    start, end = row[start_col], row[end_col]
    return start <= hi and (end is None or end >= lo)


def _window(period: dict) -> tuple[datetime, datetime]:
    return tuple(datetime.fromisoformat(period[k].replace("Z", "+00:00")) for k in ("start", "end"))


def check_scenarios(manifest: dict, marts: Marts) -> list[Outcome]:
    """Every expectation of every planted scenario, tied to its actor, address and window."""
    outcomes = []
    for scenario in manifest["scenarios"]:
        for exp in scenario["expect"]:
            match = {**exp["match"], **marts.pseudonyms(exp.get("pseudonymised"))}
            window = _window(exp["window"]) if "window" in exp else None
            shown = {
                **exp["match"],
                **{k: f"<{v}>" for k, v in exp.get("pseudonymised", {}).items()},
            }
            outcomes.append(
                Outcome(
                    scenario["id"],
                    exp["mart"],
                    shown if window is None else {**shown, "window": exp["window"]},
                    marts.count(exp["mart"], match, window),
                    exp.get("min_rows"),
                    exp.get("max_rows"),
                )
            )
    return outcomes


def unexplained_findings(manifest: dict, marts: Marts) -> dict[str, list[dict]]:
    """Per bounded mart, its findings outside every window the manifest expects that mart's
    findings in (each widened by BOUND_SLACK): the false positives over the whole period."""
    found = {}
    for bound in manifest.get("period_bounds", []):
        mart = bound["mart"]
        windows = [
            (lo - BOUND_SLACK, hi + BOUND_SLACK)
            for scenario in manifest["scenarios"]
            for exp in scenario["expect"]
            if exp["mart"] == mart and "window" in exp and "min_rows" in exp
            for lo, hi in [_window(exp["window"])]
        ]
        rows = marts.matching(mart, bound["match"])
        found[mart] = [r for r in rows if not any(overlaps(mart, r, w) for w in windows)]
    return found


def check_period_bounds(manifest: dict, marts: Marts) -> list[Outcome]:
    """Findings outside the scenarios, over the whole period, against the manifest's bound."""
    found = unexplained_findings(manifest, marts)
    return [
        Outcome(
            "whole period, outside the scenarios",
            bound["mart"],
            bound["match"],
            len(found[bound["mart"]]),
            None,
            bound["outside_scenarios_max_rows"],
        )
        for bound in manifest.get("period_bounds", [])
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
