"""Load the generated Keycloak tables into PostgreSQL (the pipeline's `keycloak` database).

Idempotent: creates Keycloak's tables if missing, appends events not yet present, and makes
the state tables (users, attributes, roles, role mappings, credentials) equal to the files:
changed rows are updated and rows no longer in the files are deleted, as Keycloak itself
deletes a revoked role mapping or a removed second factor. Re-running after a later
`generate` changes only what changed.
"""

from __future__ import annotations

from pathlib import Path

import orjson
import psycopg
from psycopg import sql

from simulator.keycloak_gen import TABLES

KEYS = {
    "event_entity": ("id",),
    "admin_event_entity": ("id",),
    "user_entity": ("id",),
    "user_attribute": ("id",),
    "keycloak_role": ("id",),
    "user_role_mapping": ("role_id", "user_id"),
    "credential": ("id",),
}
# Events are immutable and only ever appended; every other table is a full snapshot.
EVENT_TABLES = ("event_entity", "admin_event_entity")


def _columns(path: Path) -> tuple[list[str], list[dict]]:
    if not path.exists():
        raise FileNotFoundError(f"{path} not found: run `didit-simulator generate` first")
    rows = [orjson.loads(line) for line in path.read_bytes().splitlines() if line]
    return (list(rows[0]) if rows else []), rows


def _upsert(table: str, cols: list[str]) -> sql.Composed:
    keys = KEYS[table]
    others = [c for c in cols if c not in keys]
    if table in EVENT_TABLES or not others:
        action = sql.SQL("DO NOTHING")
    else:
        sets = sql.SQL(", ").join(
            sql.SQL("{0} = EXCLUDED.{0}").format(sql.Identifier(c)) for c in others
        )
        action = sql.SQL("DO UPDATE SET {} WHERE ({}.*) IS DISTINCT FROM (EXCLUDED.*)").format(
            sets, sql.Identifier(table)
        )
    names = sql.SQL(", ").join(map(sql.Identifier, cols))
    return sql.SQL(
        "INSERT INTO public.{t} ({c}) SELECT {c} FROM pg_temp.{s} ON CONFLICT ({k}) {a}"
    ).format(
        t=sql.Identifier(table),
        c=names,
        s=sql.Identifier(f"_{table}"),
        k=sql.SQL(", ").join(map(sql.Identifier, keys)),
        a=action,
    )


def _delete_missing(table: str) -> sql.Composed:
    """Rows of a snapshot table whose key is no longer in the file."""
    match = sql.SQL(" AND ").join(
        sql.SQL("s.{0} = t.{0}").format(sql.Identifier(k)) for k in KEYS[table]
    )
    return sql.SQL(
        "DELETE FROM public.{t} AS t WHERE NOT EXISTS (SELECT 1 FROM pg_temp.{s} AS s WHERE {m})"
    ).format(t=sql.Identifier(table), s=sql.Identifier(f"_{table}"), m=match)


def load_keycloak(conninfo: str, keycloak_dir: Path) -> dict[str, int]:
    """Create Keycloak's tables if missing and load ``keycloak_dir``; returns, per table, the
    rows inserted, updated or deleted (all in one transaction: a crash leaves the old state)."""
    keycloak_dir = Path(keycloak_dir)
    ddl = keycloak_dir / "schema.sql"
    if not ddl.exists():
        raise FileNotFoundError(f"{ddl} not found: run `didit-simulator generate` first")
    changed: dict[str, int] = {}
    with psycopg.connect(conninfo) as conn, conn.cursor() as cur:
        cur.execute(ddl.read_text(encoding="utf-8"))
        for table in TABLES:
            cols, rows = _columns(keycloak_dir / f"{table}.jsonl")
            temp = sql.Identifier(f"_{table}")
            cur.execute(
                sql.SQL(
                    "CREATE TEMP TABLE {} (LIKE public.{} INCLUDING DEFAULTS) ON COMMIT DROP"
                ).format(temp, sql.Identifier(table))
            )
            changed[table] = 0
            if rows:
                copy_sql = sql.SQL("COPY pg_temp.{} ({}) FROM STDIN").format(
                    temp, sql.SQL(", ").join(map(sql.Identifier, cols))
                )
                with cur.copy(copy_sql) as copy:
                    for r in rows:
                        copy.write_row([r[c] for c in cols])
                cur.execute(_upsert(table, cols))
                changed[table] = cur.rowcount
            if table not in EVENT_TABLES:
                cur.execute(_delete_missing(table))
                changed[table] += cur.rowcount
        conn.commit()
    return changed
