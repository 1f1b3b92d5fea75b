"""The alert outbox in the warehouse (schema nis2_ops): what was found, what went out, when.

- `alert_sources`: a source's first collection is its baseline (rows already there are
  recorded, not sent: the daily report covers the past); later rows are new findings.
- `alert_findings`: one row per finding key, inserted idempotently (`on conflict do nothing`).
- `alert_deliveries`: one row per finding and channel with its own delivery id, the attempts,
  the next retry and `delivered_at`. Rows are created with their finding, in one transaction.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from uuid import UUID

import psycopg

from monitor.findings import Finding

SCHEMA = "nis2_ops"
# one deliverer at a time per warehouse: a session lock, released when the process dies
DELIVERY_LOCK = 0x4E495332  # "NIS2"
_DDL_LOCK = 0x4E495333

DDL = """
create schema if not exists nis2_ops;
create table if not exists nis2_ops.alert_sources (
    source text primary key,
    baselined_at timestamptz not null default clock_timestamp(),
    baseline_findings integer not null
);
create table if not exists nis2_ops.alert_findings (
    finding_key text primary key,
    source text not null,
    severity text not null,
    title text not null,
    body text not null,
    event_at timestamptz,
    first_seen_at timestamptz not null default clock_timestamp(),
    baseline boolean not null default false
);
create table if not exists nis2_ops.alert_deliveries (
    finding_key text not null references nis2_ops.alert_findings (finding_key),
    channel text not null,
    delivery_id uuid not null unique default gen_random_uuid(),
    attempts integer not null default 0,
    last_attempt_at timestamptz,
    next_attempt_at timestamptz not null default clock_timestamp(),
    last_error text,
    delivered_at timestamptz,
    primary key (finding_key, channel)
);
create index if not exists alert_deliveries_pending
    on nis2_ops.alert_deliveries (next_attempt_at) where delivered_at is null;
"""


@dataclass(frozen=True)
class Claim:
    finding_key: str
    channel: str
    delivery_id: UUID
    attempt: int
    title: str
    body: str
    severity: str


def ensure_schema(conn: psycopg.Connection) -> None:
    with conn.transaction():
        conn.execute("select pg_advisory_xact_lock(%s)", (_DDL_LOCK,))
        conn.execute(DDL)


def try_delivery_lock(conn: psycopg.Connection) -> bool:
    return bool(conn.execute("select pg_try_advisory_lock(%s)", (DELIVERY_LOCK,)).fetchone()[0])


def record(
    conn: psycopg.Connection, source: str, findings: Iterable[Finding], channels: list[str]
) -> tuple[int, int]:
    """Insert the source's findings in one transaction: (new to alert, baselined)."""
    findings = list(findings)
    with conn.transaction():
        conn.execute("select pg_advisory_xact_lock(hashtext(%s))", (f"nis2-alerts:{source}",))
        known = conn.execute(
            "select 1 from nis2_ops.alert_sources where source = %s", (source,)
        ).fetchone()
        baseline = known is None
        new = _insert_findings(conn, findings, baseline)
        if baseline:
            conn.execute(
                "insert into nis2_ops.alert_sources (source, baseline_findings) values (%s, %s)",
                (source, len(new)),
            )
            return 0, len(new)
        if new and channels:
            with conn.cursor() as cur:
                cur.executemany(
                    "insert into nis2_ops.alert_deliveries (finding_key, channel) "
                    "values (%s, %s) on conflict do nothing",
                    [(key, channel) for key in new for channel in channels],
                )
        return len(new), 0


def _insert_findings(conn: psycopg.Connection, findings: list[Finding], baseline: bool) -> list:
    if not findings:
        return []
    keys = [f.key for f in findings]
    known = {
        row[0]
        for row in conn.execute(
            "select finding_key from nis2_ops.alert_findings where finding_key = any(%s)", (keys,)
        )
    }
    fresh = {f.key: f for f in findings if f.key not in known}  # one per key
    with conn.cursor() as cur:
        cur.executemany(
            "insert into nis2_ops.alert_findings "
            "(finding_key, source, severity, title, body, event_at, baseline) "
            "values (%s, %s, %s, %s, %s, %s, %s) on conflict do nothing",
            [
                (f.key, f.source, f.severity, f.title, f.body, f.event_at, baseline)
                for f in fresh.values()
            ],
        )
    return list(fresh)


def claim_next(conn: psycopg.Connection, channels: list[str], tried: list[str]) -> Claim | None:
    """Lock the oldest due delivery, count the attempt, commit; None when nothing is due.

    The attempt is committed before the message is sent, so after a crash the outbox shows
    a delivery that may have reached the channel (attempts > 0, delivered_at null)."""
    with conn.transaction():
        row = conn.execute(
            "select d.finding_key, d.channel, d.delivery_id, d.attempts + 1, f.title, f.body, "
            "f.severity from nis2_ops.alert_deliveries d "
            "join nis2_ops.alert_findings f using (finding_key) "
            "where d.delivered_at is null and d.next_attempt_at <= clock_timestamp() "
            "and d.channel = any(%s) and not (d.delivery_id::text = any(%s)) "
            "order by d.next_attempt_at, f.first_seen_at, d.finding_key, d.channel "
            "limit 1 for update of d skip locked",
            (channels, tried),
        ).fetchone()
        if row is None:
            return None
        conn.execute(
            "update nis2_ops.alert_deliveries set attempts = attempts + 1, "
            "last_attempt_at = clock_timestamp() where delivery_id = %s",
            (row[2],),
        )
    return Claim(*row)


def mark_delivered(conn: psycopg.Connection, claim: Claim) -> None:
    with conn.transaction():
        conn.execute(
            "update nis2_ops.alert_deliveries set delivered_at = clock_timestamp(), "
            "last_error = null where delivery_id = %s and delivered_at is null",
            (claim.delivery_id,),
        )


def mark_failed(conn: psycopg.Connection, claim: Claim, error: str, delay_s: float) -> None:
    with conn.transaction():
        conn.execute(
            "update nis2_ops.alert_deliveries set last_error = %s, "
            "next_attempt_at = clock_timestamp() + make_interval(secs => %s) "
            "where delivery_id = %s",
            (error[:500], delay_s, claim.delivery_id),
        )


def backoff_seconds(attempt: int, base: int, cap: int) -> float:
    """Delay before the next attempt after `attempt` failed ones: base, 2 base, 4 base, ..."""
    return float(min(cap, base * 2 ** max(0, attempt - 1)))


def status(conn: psycopg.Connection) -> list[tuple]:
    """Per channel: delivered, pending, failing (pending with an error), oldest pending."""
    return conn.execute(
        "select channel, count(*) filter (where delivered_at is not null), "
        "count(*) filter (where delivered_at is null), "
        "count(*) filter (where delivered_at is null and last_error is not null), "
        "min(f.first_seen_at) filter (where delivered_at is null) "
        "from nis2_ops.alert_deliveries d join nis2_ops.alert_findings f using (finding_key) "
        "group by channel order by channel"
    ).fetchall()
