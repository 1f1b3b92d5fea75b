"""One monitor run: collect the findings into the outbox, then deliver what is due.

Guarantees at each point a run can die (README "Monitoring and alerts"; tests/monitor):
- while collecting: a source's findings are one transaction; lost work is redone next run.
- after claiming, before sending: the attempt is counted, nothing was sent; the next run
  sends it (same delivery id).
- after the channel accepted, before `delivered_at` is committed: the next run sends it once
  more with the same delivery id and a higher attempt number: a receiver that keeps the ids
  it has seen drops the repeat. No other point can lose or repeat an alert.
"""

from __future__ import annotations

import os
import signal
import sys
from dataclasses import dataclass, field
from typing import TextIO

import psycopg

from monitor import state
from monitor.deliver import Channel, channels_of, send
from monitor.findings import SourceReadError, TextOptions, read_findings
from monitor.sources import FindingSource
from nis2_settings import AlertSettings

KILL_ENV = "NIS2_MONITOR_TEST_KILL_AT"  # tests only: SIGKILL this process at a named point


def kill_point(name: str) -> None:
    if os.environ.get(KILL_ENV) == name:
        os.kill(os.getpid(), signal.SIGKILL)


@dataclass
class RunResult:
    new: int = 0
    baselined: int = 0
    delivered: int = 0
    failed: int = 0
    errors: list[str] = field(default_factory=list)


def connect(settings: AlertSettings) -> psycopg.Connection:
    return psycopg.connect(
        settings.conninfo,
        autocommit=True,
        options="-c timezone=UTC",
        application_name="nis2-monitor",
    )


def collect(
    conn: psycopg.Connection,
    sources: list[FindingSource],
    settings: AlertSettings,
    channels: list[Channel],
    result: RunResult,
    out: TextIO,
) -> None:
    options = TextOptions(settings.dashboard_url, settings.internal_names)
    params = {"deadline_hours": settings.deadline_hours}
    names = [c.name for c in channels]
    for source in sources:
        try:
            found = read_findings(conn, source, settings.marts_schema, params, options)
        except SourceReadError as exc:
            result.errors.append(str(exc))
            print(f"nis2-monitor: ERROR cannot read finding source {exc}", file=sys.stderr)
            continue
        new, baselined = state.record(conn, source.name, found, names)
        result.new += new
        result.baselined += baselined
        if baselined:
            print(
                f"nis2-monitor: {source.name}: first run, {baselined} existing finding(s) "
                "recorded as the baseline (not sent)",
                file=out,
            )
        elif new:
            print(f"nis2-monitor: {source.name}: {new} new finding(s)", file=out)


def deliver_due(
    conn: psycopg.Connection,
    settings: AlertSettings,
    channels: list[Channel],
    result: RunResult,
    out: TextIO,
) -> None:
    """Every due delivery once per run; a failure waits its backoff, a success is final."""
    by_name = {c.name: c for c in channels}
    tried: list[str] = []
    while (claim := state.claim_next(conn, list(by_name), tried)) is not None:
        tried.append(str(claim.delivery_id))
        kill_point("after_claim")
        error = send(by_name[claim.channel], claim)
        kill_point("after_send")
        if error is None:
            state.mark_delivered(conn, claim)
            result.delivered += 1
            print(
                f"nis2-monitor: sent {claim.finding_key} to {claim.channel} "
                f"(delivery {claim.delivery_id}, attempt {claim.attempt})",
                file=out,
            )
            continue
        delay = state.backoff_seconds(
            claim.attempt, settings.retry_base_seconds, settings.retry_max_seconds
        )
        state.mark_failed(conn, claim, error, delay)
        result.failed += 1
        print(
            f"nis2-monitor: ERROR {error}; attempt {claim.attempt} of {claim.finding_key}, "
            f"next in {delay:.0f}s (kept in the outbox)",
            file=sys.stderr,
        )


def orphans(conn: psycopg.Connection, names: list[str]) -> int:
    """Undelivered alerts of channels no longer configured (they wait, and are named)."""
    return conn.execute(
        "select count(*) from nis2_ops.alert_deliveries "
        "where delivered_at is null and not (channel = any(%s))",
        (names,),
    ).fetchone()[0]


def run_once(settings: AlertSettings, sources: list[FindingSource], out: TextIO) -> RunResult:
    channels = channels_of(settings.urls)
    result = RunResult()
    with connect(settings) as conn:
        state.ensure_schema(conn)
        if not state.try_delivery_lock(conn):
            print(
                "nis2-monitor: another monitor run holds the alert lock; it delivers, "
                "this run stops",
                file=out,
            )
            return result
        collect(conn, sources, settings, channels, result, out)
        kill_point("after_collect")
        deliver_due(conn, settings, channels, result, out)
        left = orphans(conn, [c.name for c in channels])
        if left:
            result.errors.append(f"{left} undelivered alert(s) of channels no longer configured")
    return result
