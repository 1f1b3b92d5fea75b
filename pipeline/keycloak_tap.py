"""`nis2-keycloak-tap`: tap-keycloak's executable, tap-postgres with a lookback window.

tap-postgres (meltanolabs 0.10.0) reads `event_entity` and `admin_event_entity` incrementally:
`where event_time >= <bookmark>`. Keycloak writes an event with the time it happened, so one
committed late (a slow node, a restored backup, an import) lies behind the bookmark and would
never be read. Before each sync this wrapper lowers the incoming bookmarks on Keycloak's event
times (epoch milliseconds) by `lookback_hours` (default 24), then becomes tap-postgres: every run
reads the last day again, and target-postgres upserts on the table's key `id`, so the overlap
adds no duplicate.

Meltano reuses a discovered catalog while the plugin's settings are unchanged (the monitoring
job runs every few minutes; discovery costs seconds), so before a sync the wrapper checks that
every selected table has no column the catalog lacks, and stops naming them otherwise.

An event later than the window is not read. Each run counts, per event table, the Keycloak rows
older than the window's start and the warehouse rows in the same time range; if Keycloak holds
more, it warns with the count (never a row) and how to reach them. The count cannot see a late
event that is offset by a row deleted from Keycloak but kept in the warehouse.
"""

from __future__ import annotations

import copy
import os
import sys
from datetime import UTC, datetime

import psycopg
from psycopg import sql

from pipeline.tap_exec import TapArgs, WrapperError, exec_tap, merged_config, read_json

TAP = "tap-postgres"
LOOKBACK = "lookback_hours"
LOOKBACK_SETTING = f"tap-keycloak's {LOOKBACK} (TAP_KEYCLOAK_LOOKBACK_HOURS)"
DEFAULT_LOOKBACK_HOURS = 24
EVENT_TIME_KEYS = {"event_time", "admin_event_time"}  # Keycloak's epoch-millisecond columns


def _state_id() -> str:
    """The state id `meltano run tap-keycloak target-postgres` keeps the bookmarks under."""
    environment = os.environ.get("MELTANO_ENVIRONMENT")
    return f"{environment + ':' if environment else ''}tap-keycloak-to-target-postgres"


def _say(message: str) -> None:
    print(f"tap-keycloak: {message}", file=sys.stderr, flush=True)


def lookback_ms(value: object) -> int:
    if value is None or value == "":
        return DEFAULT_LOOKBACK_HOURS * 3_600_000
    try:
        hours = float(str(value))
    except ValueError:
        hours = -1.0
    if not hours >= 0:
        raise WrapperError(f"{LOOKBACK_SETTING} must be a number of hours, 0 or more")
    return round(hours * 3_600_000)


def _bookmarks(state: dict) -> list[tuple[str, dict]]:
    """(stream, bookmark) of every stream and partition holding a replication key value."""
    found = []
    for stream, entry in (state.get("bookmarks") or {}).items():
        for bookmark in [entry, *(entry.get("partitions") or [])]:
            if isinstance(bookmark, dict) and "replication_key_value" in bookmark:
                found.append((stream, bookmark))
    return found


def rewound(state: dict, window_ms: int) -> tuple[dict, dict[str, tuple[str, int]]]:
    """The state with each event-time bookmark lowered by the window, and per stream the
    (replication key, window start) it now reads from."""
    state = copy.deepcopy(state)
    starts: dict[str, tuple[str, int]] = {}
    for stream, bookmark in _bookmarks(state):
        key, value = bookmark.get("replication_key"), bookmark["replication_key_value"]
        if key not in EVENT_TIME_KEYS:
            continue
        if not isinstance(value, int) or isinstance(value, bool):
            raise WrapperError(
                f"the bookmark of {stream} ({key}) is not epoch milliseconds; clear it with "
                f"`meltano state clear {_state_id()}` (the next run reads every event again)"
            )
        bookmark["replication_key_value"] = value - window_ms
        starts[stream] = (key, value - window_ms)
    return state, starts


def _when(ms: int) -> str:
    return datetime.fromtimestamp(ms / 1000, UTC).isoformat(timespec="seconds")


def _source_conninfo(config: dict) -> str:
    if url := config.get("sqlalchemy_url"):
        return str(url).replace("postgresql+psycopg2://", "postgresql://", 1)
    keys = {"host": "host", "port": "port", "user": "user", "password": "password"}
    parts = {k: str(config[v]) for k, v in keys.items() if config.get(v) not in (None, "")}
    return psycopg.conninfo.make_conninfo(dbname=str(config.get("database") or ""), **parts)


def _older(conninfo: str, table: sql.Composable, key: str, start: int, lowest: int | None):
    query = sql.SQL("select min({k}), count(*) from {t} where {k} < %s").format(
        k=sql.Identifier(key), t=table
    )
    params: tuple = (start,)
    if lowest is not None:
        query = sql.SQL("{} and {} >= %s").format(query, sql.Identifier(key))
        params = (start, lowest)
    with psycopg.connect(conninfo, connect_timeout=30) as conn:
        return conn.execute(query, params).fetchone()


def report_late(config: dict, starts: dict[str, tuple[str, int]], window_ms: int) -> None:
    """Warn about Keycloak events older than the window that the warehouse lacks."""
    from pipeline.wazuh_spool import Warehouse  # target-postgres's connection settings

    warehouse = Warehouse.from_env()
    schema = os.environ.get("MELTANO_EXTRACT__LOAD_SCHEMA") or "tap_keycloak"
    for stream, (key, start) in sorted(starts.items()):
        source_schema, _, table = stream.partition("-")
        try:
            lowest, held = _older(
                _source_conninfo(config), sql.Identifier(source_schema, table), key, start, None
            )
            loaded = _older(warehouse.conninfo, sql.Identifier(schema, table), key, start, lowest)
        except psycopg.Error as exc:
            reason = (str(exc).strip().splitlines() or [type(exc).__name__])[0]
            _say(f"WARNING cannot count late {table} rows older than the window: {reason}")
            continue
        missing = held - loaded[1]
        if missing > 0:
            _say(
                f"WARNING {missing:,} {table} rows with {key} before {_when(start)} (the "
                f"bookmark less {window_ms / 3_600_000:g} h) are in Keycloak but not in "
                f"{schema}.{table}: written later than the window, not loaded by this run. "
                f"To load them, raise {LOOKBACK_SETTING} for one run, or run `meltano state "
                f"clear {_state_id()}` (the next run reads every event again; no duplicates)"
            )


def _catalog_path(rest: list[str]) -> str | None:
    for i, arg in enumerate(rest):
        name, eq, value = arg.partition("=")
        if name in {"--catalog", "--properties"}:
            return value if eq else (rest[i + 1] if i + 1 < len(rest) else None)
    return None


def catalog_drift(conninfo: str, catalog: dict) -> dict[str, list[str]]:
    """Per selected table, the columns Keycloak has that the catalog does not know. Meltano
    reuses a discovered catalog while the plugin's settings are unchanged, so after a Keycloak
    upgrade adds a column (e.g. details_json_long_value) a cached catalog would drop it."""
    drift: dict[str, list[str]] = {}
    with psycopg.connect(conninfo, connect_timeout=30) as conn:
        for stream in catalog.get("streams") or []:
            selected = any(
                not m.get("breadcrumb") and (m.get("metadata") or {}).get("selected")
                for m in stream.get("metadata") or []
            )
            schema, _, table = str(stream.get("tap_stream_id", "")).partition("-")
            if not selected or not table:
                continue
            known = set((stream.get("schema") or {}).get("properties") or {})
            live = conn.execute(
                "select column_name from information_schema.columns "
                "where table_schema = %s and table_name = %s",
                (schema, table),
            ).fetchall()
            missing = sorted({row[0] for row in live} - known)
            if missing:
                drift[stream["tap_stream_id"]] = missing
    return drift


def check_catalog(config: dict, rest: list[str]) -> None:
    path = _catalog_path(rest)
    if path is None:
        return
    try:
        drift = catalog_drift(_source_conninfo(config), read_json(path, "catalog"))
    except psycopg.Error as exc:
        reason = (str(exc).strip().splitlines() or [type(exc).__name__])[0]
        _say(f"WARNING cannot compare the catalog with Keycloak's tables: {reason}")
        return
    if drift:
        named = "; ".join(f"{stream}: {', '.join(cols)}" for stream, cols in sorted(drift.items()))
        raise WrapperError(
            f"Keycloak's tables have columns the (cached) catalog lacks ({named}), which "
            "would not be loaded. Discover again once: `meltano run --refresh-catalog "
            "tap-keycloak target-postgres`"
        )


def main(argv: list[str] | None = None) -> int:
    try:
        args = TapArgs.parse(list(sys.argv[1:] if argv is None else argv))
        config = merged_config(args)
        window_ms = lookback_ms(config.pop(LOOKBACK, None))
        state = read_json(args.state, "tap state") if args.state else None
        if state is not None and args.syncing:
            state, starts = rewound(state, window_ms)
            for stream, (key, start) in sorted(starts.items()):
                _say(f"{stream}: reading {key} from {_when(start)} (bookmark less the window)")
            report_late(config, starts, window_ms)
        if args.syncing:
            check_catalog(config, args.rest)
        exec_tap(TAP, config, args.rest, state)
    except WrapperError as exc:
        _say(f"ERROR {exc}")
        return 2


if __name__ == "__main__":
    sys.exit(main())
