"""Small warehouse chores: read-only roles and the end-of-run summary."""

from __future__ import annotations

import psycopg
from psycopg import sql

from pipeline.settings import Paths, PgSettings

RAW_SCHEMAS = ("tap_didit", "tap_wazuh", "tap_keycloak", "tap_incidents")


def grant_read_only(conninfo: str, role: str, schema: str) -> None:
    """A login role that can only read `schema` (what a tap should get in production)."""
    with psycopg.connect(conninfo, autocommit=True) as conn:
        exists = conn.execute("select 1 from pg_roles where rolname = %s", (role,)).fetchone()
        if not exists:
            conn.execute(sql.SQL("create role {} login").format(sql.Identifier(role)))
        ident, schema_ident = sql.Identifier(role), sql.Identifier(schema)
        conn.execute(sql.SQL("grant usage on schema {} to {}").format(schema_ident, ident))
        conn.execute(
            sql.SQL("grant select on all tables in schema {} to {}").format(schema_ident, ident)
        )


def table_counts(conninfo: str, schema_like: str, table_like: str = "%") -> list[tuple[str, int]]:
    """Exact row counts of the tables matching the patterns, as `schema.table`."""
    with psycopg.connect(conninfo) as conn:
        tables = conn.execute(
            """
            select table_schema, table_name from information_schema.tables
            where table_schema like %s and table_name like %s and table_type = 'BASE TABLE'
            order by 1, 2
            """,
            (schema_like, table_like),
        ).fetchall()
        counts = []
        for schema, table in tables:
            query = sql.SQL("select count(*) from {}.{}").format(
                sql.Identifier(schema), sql.Identifier(table)
            )
            counts.append((f"{schema}.{table}", conn.execute(query).fetchone()[0]))
        return counts


def latest_pack(paths: Paths) -> str:
    """The newest evidence pack's HTML, or a hint when none was rendered."""
    packs = sorted(paths.report.glob("*/index.html"), key=lambda p: p.stat().st_mtime)
    return str(packs[-1]) if packs else f"(none yet in {paths.report})"


def summary(pg: PgSettings, paths: Paths) -> str:
    """What a user needs after `make demo`: where things are and how much landed."""
    conninfo = pg.conninfo()
    lines = [
        "Results",
        f"  warehouse:  {pg.display()}   (psql: host={pg.host} port={pg.port} user={pg.user})",
        f"  raw data:   schemas {', '.join(RAW_SCHEMAS)}",
        f"  report:     {latest_pack(paths)}",
        "",
        "Raw tables (rows)",
    ]
    for schema in RAW_SCHEMAS:
        lines += [f"  {name:<48} {n:>10,}" for name, n in table_counts(conninfo, schema)]
    marts = table_counts(conninfo, "analytics%", "mart_%")
    schemas = sorted({name.split(".")[0] for name, _ in marts}) or ["(not built yet)"]
    lines.insert(4, f"  marts:      schema {', '.join(schemas)} (dbt models mart_nis2_*)")
    lines += ["", "NIS2 marts (rows)"]
    lines += [f"  {name:<48} {n:>10,}" for name, n in marts] or ["  (no marts built yet)"]
    return "\n".join(lines)
