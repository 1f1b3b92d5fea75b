"""Reconciliation per run and source: every record a source offered is loaded, rejected with a
reason, left out with a reason, or collapsed into a newer version of itself.

`nis2-pipeline reconcile` (the task `nis2-checks:reconcile`, after `dbt-postgres:build`) counts,
for each source and stream, over the raw rows loaded since the previous reconciliation (the
`_sdc_batched_at` window of this run):

- raw rows: the stream's raw table (`tap_didit.*`, `tap_wazuh.wazuh_alerts`,
  `tap_keycloak.event_entity` / `admin_event_entity`, `tap_incidents.incident_register`);
- rejected: dbt's `int_ingest_rejects` with `action = 'rejected'` (`field_nulled` rows are
  reported apart, in `reasons`); no such relation: 'no_data', never 0;
- left out: the lines wazuh-spool left out (its ledger) and the records tap-didit skipped
  (`tap_didit.skipped_records`);
- duplicates collapsed: raw rows of the window superseded by a newer version of their key
  (staging keeps the latest), and Wazuh lines whose alert id the upsert merged;
- loaded = raw rows - rejected - duplicates; offered = loaded + rejected + left out + duplicates
  (Wazuh: the ledger's own count of lines offered, so a difference shows as 'mismatch').

Each row goes to `nis2_ops.source_reconciliation` (created if missing), the table is printed,
and the command exits 1 naming the source and the setting to check when a source offered
records and none was loaded ('all_rejected'). Counts and reasons only, never a record's content.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import uuid
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

import psycopg
from psycopg import sql

OPS_SCHEMA = "nis2_ops"
TABLE = "source_reconciliation"
SKIPPED_TABLE = "skipped_records"
REJECTS = "int_ingest_rejects"
DBT_SCHEMA_ENV = "DBT_POSTGRES_SCHEMA"
STATE_DIR_ENV = "NIS2_WAZUH_STATE_DIR"
LOCK_KEY = 7_160_016  # pg advisory lock: one reconciliation at a time, windows never overlap

DDL = f"""
create schema if not exists {OPS_SCHEMA};
create table if not exists {OPS_SCHEMA}.{TABLE} (
    run_id text not null,
    reconciled_at timestamptz not null,
    source text not null,
    stream text not null,
    window_start timestamptz,
    window_end timestamptz not null,
    offered bigint,
    loaded bigint,
    rejected bigint,
    left_out bigint,
    duplicates_collapsed bigint,
    reasons jsonb not null default '{{}}'::jsonb,
    status text not null,
    primary key (run_id, source, stream)
)
"""

#: Raw streams outside tap_didit (whose tables are all reconciled): source, schema, table, key.
FIXED_STREAMS = (
    ("wazuh", "tap_wazuh", "wazuh_alerts", ("id",)),
    ("keycloak", "tap_keycloak", "event_entity", ("id",)),
    ("keycloak", "tap_keycloak", "admin_event_entity", ("id",)),
    ("incidents", "tap_incidents", "incident_register", ("incident_id",)),
)
#: tap-didit's primary keys where they are not `uuid` (tap-didit/README.md, "Streams").
DIDIT_KEYS = {
    "sessions": ("session_id",),
    "session_decisions": ("session_id",),
    "users": ("didit_internal_id",),
    "businesses": ("didit_internal_id",),
    "billing_balance": ("snapshot_at",),
}
#: What to check when a source offered records and none was loaded.
SETTINGS_TO_CHECK = {
    "didit": "tap-didit's `audit_logs_field_aliases` (audit_logs) and `base_url`; the "
    "records it skipped are in tap_didit.skipped_records",
    "wazuh": "wazuh-spool's `sources` (WAZUH_SPOOL_SOURCES) and tap-wazuh's `path` "
    "(TAP_WAZUH_PATH); the lines left out are in <state_dir>/ledger.jsonl",
    "keycloak": "tap-keycloak's `filter_schemas` and the staging rejects (int_ingest_rejects)",
    "incidents": "tap-incidents' `files` (TAP_INCIDENTS_FILES); run "
    "`meltano invoke nis2-checks:incident-register` to name the bad rows",
}


@dataclass
class StreamCount:
    """One source and stream of one run; None where a part could not be known."""

    source: str
    stream: str
    raw_rows: int | None = 0
    superseded: int | None = 0
    rejected: int | None = 0
    left_out: int | None = 0
    upsert_collapsed: int = 0
    source_offered: int | None = None  # counted by the source itself (the Wazuh ledger)
    reasons: dict[str, Any] = field(default_factory=dict)

    def note(self, kind: str, text: str) -> None:
        self.reasons.setdefault(kind, []).append(text)

    @property
    def duplicates(self) -> int | None:
        return None if self.superseded is None else self.superseded + self.upsert_collapsed

    @property
    def loaded(self) -> int | None:
        parts = (self.raw_rows, self.rejected, self.superseded)
        if any(p is None for p in parts):
            return None
        return self.raw_rows - self.rejected - self.superseded  # type: ignore[operator]

    @property
    def offered(self) -> int | None:
        if self.source_offered is not None:
            return self.source_offered
        if self.raw_rows is None or self.left_out is None:
            return None
        return self.raw_rows + self.left_out + self.upsert_collapsed

    @property
    def status(self) -> str:
        offered = self.offered
        nothing_loaded = self.loaded == 0 or self.raw_rows == 0
        if offered and nothing_loaded:
            return "all_rejected"
        parts = (self.loaded, self.rejected, self.left_out, self.duplicates)
        if any(p is None for p in parts) or offered is None:
            return "no_data"
        return "ok" if offered == sum(parts) else "mismatch"  # type: ignore[arg-type]


@dataclass(frozen=True)
class Window:
    """Raw rows with start < _sdc_batched_at <= end (start None: from the beginning)."""

    start: datetime | None
    end: datetime

    def clause(self, *column: str) -> sql.Composable:
        col = sql.Identifier(*(column or ("_sdc_batched_at",)))
        if self.start is None:
            return sql.SQL("{} <= %(end)s").format(col)
        return sql.SQL("{c} > %(start)s and {c} <= %(end)s").format(c=col)

    @property
    def params(self) -> dict[str, Any]:
        return {"start": self.start, "end": self.end}


def _table_exists(conn: psycopg.Connection, schema: str, table: str) -> bool:
    found = conn.execute("select to_regclass(%s)", (f'"{schema}"."{table}"',)).fetchone()
    return found is not None and found[0] is not None


def _has_unique_key(conn: psycopg.Connection, schema: str, table: str) -> bool:
    """A primary key or unique index: the loader upserts, so no key has two rows."""
    row = conn.execute(
        "select exists (select from pg_index i join pg_class c on c.oid = i.indrelid "
        "join pg_namespace n on n.oid = c.relnamespace "
        "where n.nspname = %s and c.relname = %s and i.indisunique)",
        (schema, table),
    ).fetchone()
    return bool(row and row[0])


def _columns(conn: psycopg.Connection, schema: str, table: str) -> set[str]:
    rows = conn.execute(
        "select column_name from information_schema.columns "
        "where table_schema = %s and table_name = %s",
        (schema, table),
    ).fetchall()
    return {r[0] for r in rows}


def count_raw(
    conn: psycopg.Connection,
    window: Window,
    count: StreamCount,
    stream: tuple[str, str, str, tuple[str, ...]],
) -> None:
    """Raw rows of the window and those a newer version of their key supersedes."""
    _, schema, table, key = stream
    if not _table_exists(conn, schema, table):
        count.raw_rows = 0
        count.note("notes", f"{schema}.{table} does not exist yet: nothing loaded so far")
        return
    target = sql.Identifier(schema, table)
    query = sql.SQL("select count(*) from {} where {}").format(target, window.clause())
    count.raw_rows = conn.execute(query, window.params).fetchone()[0]
    if _has_unique_key(conn, schema, table):
        count.superseded = 0  # one row per key: the upsert already kept the latest
        return
    if not set(key) <= _columns(conn, schema, table):
        count.superseded = None
        count.note("no_data", f"duplicates: {schema}.{table} has no key column {'/'.join(key)}")
        return
    same_key = sql.SQL(" and ").join(
        sql.SQL("n.{k} = t.{k}").format(k=sql.Identifier(k)) for k in key
    )
    query = sql.SQL(
        "select count(*) from {t} as t where {w} and exists ("
        "select from {t} as n where {same} and n._sdc_batched_at > t._sdc_batched_at)"
    ).format(t=target, w=window.clause("t", "_sdc_batched_at"), same=same_key)
    count.superseded = conn.execute(query, window.params).fetchone()[0]


def raw_streams(conn: psycopg.Connection) -> list[tuple[str, str, str, tuple[str, ...]]]:
    """Every reconciled stream: tap_didit's tables (but the skipped records) and the others."""
    rows = conn.execute(
        "select table_name from information_schema.tables "
        "where table_schema = 'tap_didit' and table_type = 'BASE TABLE' order by 1"
    ).fetchall()
    didit = [
        ("didit", "tap_didit", name, DIDIT_KEYS.get(name, ("uuid",)))
        for (name,) in rows
        if name != SKIPPED_TABLE
    ]
    return [*didit, *FIXED_STREAMS]


def _source_name(value: Any) -> str:
    """`tap_didit`, `tap-didit` and `didit` are one source."""
    text = str(value or "unknown").strip().lower()
    for prefix in ("tap_", "tap-"):
        if text.startswith(prefix):
            return text[len(prefix) :]
    return text


def rejects_relation(conn: psycopg.Connection, dbt_schema: str) -> tuple[str, str] | None:
    """Where dbt built `int_ingest_rejects`: `<schema>_intermediate` first, then any
    `<schema>_*` (dbt's default schema naming), else None."""
    rows = conn.execute(
        "select table_schema from information_schema.tables where table_name = %s "
        "and (table_schema = %s or starts_with(table_schema, %s)) "
        "order by table_schema <> %s, table_schema",
        (REJECTS, dbt_schema, f"{dbt_schema}_", f"{dbt_schema}_intermediate"),
    ).fetchall()
    return (rows[0][0], REJECTS) if rows else None


def count_rejects(
    conn: psycopg.Connection,
    window: Window,
    counts: dict[tuple[str, str], StreamCount],
    dbt_schema: str,
) -> None:
    """Staging's rejects of the window's raw rows: `rejected` counted, `field_nulled` noted."""
    relation = rejects_relation(conn, dbt_schema)
    if relation is None:
        where = f"{dbt_schema}_intermediate"
        for count in counts.values():
            count.rejected = None
            count.note("no_data", f"rejected: dbt's {REJECTS} not found (schema {where})")
        return
    query = sql.SQL(
        "select source, stream, action, coalesce(field, ''), coalesce(reason, ''), count(*) "
        "from {} where {} group by 1, 2, 3, 4, 5"
    ).format(sql.Identifier(*relation), window.clause("loaded_at"))
    for source, stream, action, column, reason, n in conn.execute(query, window.params):
        count = counts.get((_source_name(source), str(stream)))
        if count is None:
            count = counts.setdefault(
                (_source_name(source), str(stream)),
                StreamCount(_source_name(source), str(stream), raw_rows=None),
            )
            count.note("notes", f"no raw table named {stream}: the rejects are shown apart")
        kind = "rejected" if action == "rejected" else "field_nulled"
        label = f"{column}: {reason}" if column else reason
        bucket = count.reasons.setdefault(kind, {})
        bucket[label] = bucket.get(label, 0) + n
        if kind == "rejected":
            count.rejected = (count.rejected or 0) + n


def _moment(text: Any) -> datetime | None:
    try:
        moment = datetime.fromisoformat(str(text).replace("Z", "+00:00"))
    except ValueError:
        return None
    return moment if moment.tzinfo else None


def ledger_entries(state_dir: Path, window: Window) -> list[dict[str, Any]] | None:
    """wazuh-spool's committed runs inside the window (None: no ledger to read)."""
    ledger = state_dir / "ledger.jsonl"
    try:
        lines = ledger.read_text(encoding="utf-8").splitlines()
    except OSError:
        return None
    entries = []
    for line in lines:
        try:
            entry = json.loads(line)
        except ValueError:
            continue  # a torn last line of a crashed commit: that run was not committed
        moment = _moment(entry.get("committed_at")) if isinstance(entry, dict) else None
        if moment is None or moment > window.end:
            continue
        if window.start is None or moment > window.start:
            entries.append(entry)
    return entries


def count_wazuh_left_out(count: StreamCount, window: Window, state_dir: Path | None) -> None:
    """Lines the spool offered, spooled and left out (by reason), from its ledger."""
    entries = ledger_entries(state_dir, window) if state_dir else None
    if entries is None:
        count.left_out = None
        where = f"{state_dir}/ledger.jsonl" if state_dir else f"${STATE_DIR_ENV} (not set)"
        count.note("no_data", f"left out: no wazuh-spool ledger at {where}")
        return
    reasons: Counter[str] = Counter()
    for entry in entries:
        reasons.update({str(k): int(v) for k, v in (entry.get("left_out") or {}).items()})
    count.left_out = sum(reasons.values())
    if reasons:
        count.reasons["left_out"] = dict(reasons)
    if not entries:
        return  # no commit in the window: the raw rows alone, offered = loaded + ...
    spooled = sum(int(e.get("spooled") or 0) for e in entries)
    count.source_offered = sum(int(e.get("offered") or 0) for e in entries)
    if count.raw_rows is not None:
        count.upsert_collapsed = max(0, spooled - count.raw_rows)
        if count.raw_rows > spooled:
            count.note("notes", f"{count.raw_rows - spooled} more rows loaded than spooled")


def count_didit_left_out(
    conn: psycopg.Connection, window: Window, counts: dict[tuple[str, str], StreamCount]
) -> None:
    """Records tap-didit skipped (tap_didit.skipped_records), per stream and reason."""
    didit = [c for c in counts.values() if c.source == "didit"]
    if not _table_exists(conn, "tap_didit", SKIPPED_TABLE):
        for count in didit:
            count.left_out = None
            count.note("no_data", "left out: tap_didit.skipped_records does not exist yet")
        return
    query = sql.SQL(
        "select stream, coalesce(reason, ''), count(*) from tap_didit.skipped_records "
        "where {} group by 1, 2"
    ).format(window.clause())
    for count in didit:
        count.left_out = 0
    for stream, reason, n in conn.execute(query, window.params):
        count = counts.setdefault(("didit", stream), StreamCount("didit", stream))
        count.left_out = (count.left_out or 0) + n
        count.reasons.setdefault("left_out", {})[reason] = n


@dataclass(frozen=True)
class Run:
    """One reconciliation: its id, window and a row per source and stream."""

    run_id: str
    window: Window
    counts: list[StreamCount]

    @property
    def failures(self) -> list[StreamCount]:
        return [c for c in self.counts if c.status == "all_rejected"]


def _previous_end(conn: psycopg.Connection) -> datetime | None:
    row = conn.execute(
        sql.SQL("select max(window_end) from {}.{}").format(
            sql.Identifier(OPS_SCHEMA), sql.Identifier(TABLE)
        )
    ).fetchone()
    return row[0] if row else None


def _write(conn: psycopg.Connection, run: Run) -> None:
    insert = sql.SQL(
        "insert into {}.{} (run_id, reconciled_at, source, stream, window_start, window_end, "
        "offered, loaded, rejected, left_out, duplicates_collapsed, reasons, status) "
        "values (%s, now(), %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s)"
    ).format(sql.Identifier(OPS_SCHEMA), sql.Identifier(TABLE))
    with conn.cursor() as cur:
        cur.executemany(
            insert,
            [
                (
                    run.run_id,
                    c.source,
                    c.stream,
                    run.window.start,
                    run.window.end,
                    c.offered,
                    c.loaded,
                    c.rejected,
                    c.left_out,
                    c.duplicates,
                    json.dumps(c.reasons, sort_keys=True),
                    c.status,
                )
                for c in run.counts
            ],
        )


def reconcile(
    conninfo: str,
    dbt_schema: str = "analytics",
    state_dir: Path | None = None,
    run_id: str | None = None,
) -> Run:
    """Count the window since the last reconciliation and record it (one transaction)."""
    with psycopg.connect(conninfo, connect_timeout=30) as conn:
        # target-postgres writes _sdc_batched_at as UTC without a time zone
        conn.execute("set time zone 'UTC'")
        conn.execute("select pg_advisory_xact_lock(%s)", (LOCK_KEY,))
        conn.execute(DDL)
        end = conn.execute("select clock_timestamp()").fetchone()[0]
        window = Window(_previous_end(conn), end)
        counts: dict[tuple[str, str], StreamCount] = {}
        for stream in raw_streams(conn):
            count = counts.setdefault((stream[0], stream[2]), StreamCount(stream[0], stream[2]))
            count_raw(conn, window, count, stream)
        count_rejects(conn, window, counts, dbt_schema)
        count_didit_left_out(conn, window, counts)
        count_wazuh_left_out(counts[("wazuh", "wazuh_alerts")], window, state_dir)
        run = Run(
            run_id or str(uuid.uuid4()),
            window,
            sorted(counts.values(), key=lambda c: (c.source, c.stream)),
        )
        _write(conn, run)
    return run


def _n(value: int | None) -> str:
    return "no data" if value is None else f"{value:,}"


def _reason_text(reasons: dict[str, Any]) -> Iterable[str]:
    for kind in ("rejected", "field_nulled", "left_out"):
        items = reasons.get(kind) or {}
        if items:
            listed = "; ".join(f"{k or 'no reason given'}: {v:,}" for k, v in sorted(items.items()))
            yield f"{kind.replace('_', ' ')}: {listed}"
    for kind in ("no_data", "notes"):
        yield from reasons.get(kind) or ()


def report_lines(run: Run) -> list[str]:
    """The table printed at the end of a job; every line starts with `reconcile:`."""
    start = run.window.start.isoformat(timespec="seconds") if run.window.start else "beginning"
    lines = [
        f"reconcile: run {run.run_id}, loads from {start} to "
        f"{run.window.end.isoformat(timespec='seconds')}",
        f"reconcile: {'source/stream':<30}{'offered':>10}{'loaded':>10}{'rejected':>10}"
        f"{'left out':>10}{'dupes':>8}  status",
    ]
    for c in run.counts:
        lines.append(
            f"reconcile: {c.source + '/' + c.stream:<30}{_n(c.offered):>10}{_n(c.loaded):>10}"
            f"{_n(c.rejected):>10}{_n(c.left_out):>10}{_n(c.duplicates):>8}  {c.status}"
        )
    for c in run.counts:
        lines += [f"reconcile:   {c.source}/{c.stream}: {t}" for t in _reason_text(c.reasons)]
    for c in run.failures:
        lines.append(
            f"reconcile: ERROR {c.source}/{c.stream}: offered {_n(c.offered)} record(s), none "
            f"loaded; check {SETTINGS_TO_CHECK.get(c.source, 'the source settings')}"
        )
    return lines


def _conninfo() -> tuple[str, str]:
    """The warehouse as target-postgres reaches it (wazuh-spool's rule), and where from."""
    from pipeline.wazuh_spool import Warehouse

    warehouse = Warehouse.from_env()
    return warehouse.conninfo, warehouse.display()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="nis2-pipeline reconcile", description=__doc__)
    parser.add_argument(
        "--wazuh-state-dir",
        default=os.environ.get(STATE_DIR_ENV) or None,
        help=f"wazuh-spool's state_dir, holding ledger.jsonl (default ${STATE_DIR_ENV})",
    )
    parser.add_argument(
        "--dbt-schema",
        default=os.environ.get(DBT_SCHEMA_ENV) or "analytics",
        help=f"dbt's target schema; rejects are in <schema>_intermediate (${DBT_SCHEMA_ENV})",
    )
    args = parser.parse_args(argv)
    conninfo, where = _conninfo()
    state_dir = Path(args.wazuh_state_dir) if args.wazuh_state_dir else None
    try:
        run = reconcile(conninfo, args.dbt_schema, state_dir, os.environ.get("NIS2_RUN_ID"))
    except psycopg.Error as exc:
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        print(f"reconcile: ERROR cannot reconcile in the warehouse {where}: {first}")
        return 2
    for line in report_lines(run):
        print(line, flush=True)
    return 1 if run.failures else 0


if __name__ == "__main__":
    sys.exit(main())
