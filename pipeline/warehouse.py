"""Small warehouse chores: read-only roles and the end-of-run summary."""

from __future__ import annotations

from pathlib import Path

import psycopg
from psycopg import sql

from nis2_settings import Paths, PgSettings

RAW_SCHEMAS = ("tap_didit", "tap_wazuh", "tap_keycloak", "tap_incidents")


def grant_read_only(conninfo: str, role: str, password: str, schema: str) -> None:
    """A login role that can only read `schema` (what a tap should get in production)."""
    with psycopg.connect(conninfo, autocommit=True) as conn:
        exists = conn.execute("select 1 from pg_roles where rolname = %s", (role,)).fetchone()
        verb = "alter" if exists else "create"
        conn.execute(
            sql.SQL(verb + " role {} login password {}").format(
                sql.Identifier(role), sql.Literal(password)
            )
        )
        ident, schema_ident = sql.Identifier(role), sql.Identifier(schema)
        conn.execute(sql.SQL("grant usage on schema {} to {}").format(schema_ident, ident))
        conn.execute(
            sql.SQL("grant select on all tables in schema {} to {}").format(schema_ident, ident)
        )


def table_counts(conninfo: str, schema: str, table_prefix: str = "") -> list[tuple[str, int]]:
    """Exact row counts of the tables in `schema` (names starting with the prefix)."""
    with psycopg.connect(conninfo) as conn:
        tables = conn.execute(
            """
            select table_schema, table_name from information_schema.tables
            where table_schema = %s and starts_with(table_name, %s) and table_type = 'BASE TABLE'
            order by 1, 2
            """,
            (schema, table_prefix),
        ).fetchall()
        counts = []
        for schema, table in tables:
            query = sql.SQL("select count(*) from {}.{}").format(
                sql.Identifier(schema), sql.Identifier(table)
            )
            counts.append((f"{schema}.{table}", conn.execute(query).fetchone()[0]))
        return counts


def latest_pack(paths: Paths) -> Path | None:
    """The newest (pseudonymised) evidence pack's HTML, if one was rendered."""
    # Imported here: the pack's renderer (jinja2, matplotlib, weasyprint) is the `report` extra,
    # not in the venv of Meltano's nis2-checks and wazuh-spool utilities, which import pipeline.
    from report.pack import HTML_NAME

    packs = [
        p for p in paths.report.glob(f"*/{HTML_NAME}") if not p.parent.name.endswith("_internal")
    ]
    return max(packs, key=lambda p: p.stat().st_mtime) if packs else None


def mart_schemas(conninfo: str) -> list[str]:
    """Schemas holding NIS2 marts (dbt's schema naming decides, so we look)."""
    with psycopg.connect(conninfo) as conn:
        rows = conn.execute(
            "select distinct table_schema from information_schema.tables "
            "where starts_with(table_name, 'mart_nis2_') order by 1"
        ).fetchall()
    return [r[0] for r in rows]


def summary(pg: PgSettings, paths: Paths) -> str:
    """What a user needs after `make demo`: where things are and how much landed."""
    conninfo = pg.conninfo()
    lines = [
        "Results",
        f"  warehouse:  {pg.display()}   (psql: host={pg.host} port={pg.port} user={pg.user})",
        f"  raw data:   schemas {', '.join(RAW_SCHEMAS)}",
        f"  report:     {latest_pack(paths) or f'(none yet in {paths.report})'}",
        "",
        "Raw tables (rows)",
    ]
    for schema in RAW_SCHEMAS:
        lines += [f"  {name:<48} {n:>10,}" for name, n in table_counts(conninfo, schema)]
    schemas = mart_schemas(conninfo)
    marts = [m for schema in schemas for m in table_counts(conninfo, schema, "mart_nis2_")]
    schemas = schemas or ["(not built yet)"]
    lines.insert(4, f"  marts:      schema {', '.join(schemas)} (dbt models mart_nis2_*)")
    lines += ["", "NIS2 marts (rows)"]
    lines += [f"  {name:<48} {n:>10,}" for name, n in marts] or ["  (no marts built yet)"]
    return "\n".join(lines)
