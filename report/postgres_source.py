"""Mart rows from the warehouse (psycopg). Finds the schema dbt wrote the marts to.

dbt may put marts in `analytics` or a custom sub-schema such as `analytics_marts`; rather than
hard-coding that, we look for the schema that holds the `mart_nis2_*` tables, and an explicit
--schema (or NIS2_MARTS_SCHEMA) wins.
"""

from __future__ import annotations

import os
from datetime import datetime
from typing import Any

import psycopg
from psycopg import sql
from psycopg.rows import dict_row

from nis2_settings import PgSettings
from report.marts import REFERENCE_TABLES
from report.period import to_moment
from report.warehouse import (
    RECONCILIATION_SCHEMA,
    RECONCILIATION_TABLE,
    Row,
    WarehouseError,
)

SCHEMA_ENV = "NIS2_MARTS_SCHEMA"
CONNINFO_ENV = "NIS2_PG_CONNINFO"


def conninfo_from_env() -> str:
    """NIS2_PG_CONNINFO if set, else the pipeline's NIS2_PG_* settings."""
    explicit = os.environ.get(CONNINFO_ENV)
    if explicit:
        return explicit
    return PgSettings.from_env().conninfo()


def safe_display(conninfo: str) -> str:
    """The conninfo with any password removed, fit for messages and the appendix."""
    try:
        params = psycopg.conninfo.conninfo_to_dict(conninfo)
    except psycopg.ProgrammingError:
        return "(unparseable connection string)"
    host = params.get("host", "localhost")
    return f"postgresql://{params.get('user', '')}@{host}:{params.get('port', 5432)}/" + str(
        params.get("dbname", "")
    )


class PostgresSource:
    """Reads marts over one autocommit connection with the session in UTC."""

    def __init__(self, conninfo: str, schema: str | None = None) -> None:
        self._display = safe_display(conninfo)
        self._dbname = _dbname(conninfo)
        try:
            self._conn = psycopg.connect(
                conninfo, autocommit=True, row_factory=dict_row, options="-c timezone=UTC"
            )
        except psycopg.OperationalError as exc:
            raise WarehouseError(
                f"cannot connect to the warehouse at {self._display}: "
                f"{_first_line(exc)} (settings: NIS2_PG_HOST/PORT/USER/PASSWORD/DATABASE "
                f"or {CONNINFO_ENV} or --dsn)"
            ) from None
        self.schema = schema or os.environ.get(SCHEMA_ENV) or self._find_schema()
        self._schemas: dict[str, str] = {}
        self._types: dict[tuple[str, str], str] = {}
        self._columns: dict[str, list[str]] = {}
        self._read_columns(self.schema, None)
        self._read_columns(None, [spec.name for spec in REFERENCE_TABLES])

    def close(self) -> None:
        self._conn.close()

    def describe(self) -> str:
        """Provenance for the pack: database and schema, not the host or the login."""
        return f"PostgreSQL database {self._dbname}, schema {self.schema}"

    @property
    def address(self) -> str:
        """Where the data came from, for progress output (no password)."""
        return self._display

    def columns(self, name: str) -> list[str] | None:
        return self._columns.get(name)

    def fetch(
        self, name: str, at_columns: list[str], since: datetime, until: datetime
    ) -> tuple[list[str], list[Row]] | None:
        columns = self.columns(name)
        if columns is None:
            return None
        query = sql.SQL("select * from {}.{}").format(
            sql.Identifier(self._schemas[name]), sql.Identifier(name)
        )
        params: dict[str, Any] = {}
        if at_columns and all(self._is_temporal(name, c) for c in at_columns):
            moment = sql.SQL("coalesce({})").format(
                sql.SQL(", ").join(sql.Identifier(c) for c in at_columns)
            )
            query += sql.SQL(" where {m} is null or ({m} >= %(since)s and {m} < %(until)s)").format(
                m=moment
            )
            params = {"since": since, "until": until}
        try:
            rows = self._conn.execute(query, params).fetchall()
        except psycopg.Error as exc:
            raise WarehouseError(f"{name}: {_first_line(exc)}") from None
        return columns, rows

    def latest(self, name: str, columns: list[str]) -> datetime | None:
        """max() of each time column over the whole mart: freshness is not cut to the period."""
        if name not in self._schemas or not columns:
            return None
        query = sql.SQL("select {} from {}.{}").format(
            sql.SQL(", ").join(
                sql.SQL("max({}) as {}").format(sql.Identifier(c), sql.Identifier(c))
                for c in columns
            ),
            sql.Identifier(self._schemas[name]),
            sql.Identifier(name),
        )
        try:
            row = self._conn.execute(query).fetchone() or {}
        except psycopg.Error as exc:
            raise WarehouseError(f"{name}: {_first_line(exc)}") from None
        moments = [m for value in row.values() if (m := to_moment(value)) is not None]
        return max(moments, default=None)

    def pseudonym_key_id(self) -> str | None:
        """The id of the key dbt last pseudonymised every mart with (macros/
        pseudonym_key_guard.sql: `<schema>_util.pseudonym_key`); None where none is recorded."""
        found = self._conn.execute(
            "select table_schema as schema from information_schema.tables "
            r"where table_name = 'pseudonym_key' and table_schema like '%%\_util' "
            "order by table_schema = %s desc, table_schema",
            (self.schema.rsplit("_", 1)[0] + "_util",),
        ).fetchone()
        if found is None:
            return None
        row = self._conn.execute(
            sql.SQL("select key_id from {}.pseudonym_key order by recorded_at desc limit 1").format(
                sql.Identifier(found["schema"])
            )
        ).fetchone()
        return row["key_id"] if row else None

    def identities(self, sources: tuple[tuple[str, tuple[str, ...]], ...]) -> list[str]:
        """Distinct values of the models dbt hashed into the marts' pseudonyms (internal pack
        only). A model in several schemas is read where the marts' dbt run wrote it."""
        wanted = {model: set(columns) for model, columns in sources}
        found = self._conn.execute(
            "select table_schema, table_name, column_name from information_schema.columns "
            "where table_name = any(%(names)s) order by table_schema",
            {"names": list(wanted)},
        ).fetchall()
        prefix = self.schema.rsplit("_", 1)[0]
        located: dict[str, tuple[str, list[str]]] = {}
        for row in sorted(found, key=lambda r: not r["table_schema"].startswith(prefix)):
            table, schema = row["table_name"], row["table_schema"]
            held = located.setdefault(table, (schema, []))
            if held[0] == schema and row["column_name"] in wanted[table]:
                held[1].append(row["column_name"])
        values: set[str] = set()
        for table, (schema, columns) in located.items():
            if not columns:
                continue
            query = sql.SQL("select distinct v from {}.{}, unnest(array[{}]) as v").format(
                sql.Identifier(schema),
                sql.Identifier(table),
                sql.SQL(", ").join(
                    sql.SQL("cast({} as text)").format(sql.Identifier(c)) for c in columns
                ),
            )
            try:
                rows = self._conn.execute(query).fetchall()
            except psycopg.Error as exc:
                raise WarehouseError(f"{schema}.{table}: {_first_line(exc)}") from None
            values.update(row["v"] for row in rows if row["v"] is not None)
        return sorted(values)

    def source_freshness(self) -> list[Row]:
        """When each raw source table was last loaded: max(_sdc_batched_at), exact, because the
        load time is the evidence (an index on the column makes it a look-up, else one scan per
        table). Row counts are the planner's estimate (pg_class.reltuples): no count(*)."""
        tables = self._conn.execute(
            "select n.nspname as table_schema, c.relname as table_name, "
            "case when c.reltuples >= 0 then cast(c.reltuples as bigint) end as rows "
            "from pg_class c join pg_namespace n on n.oid = c.relnamespace "
            "join pg_attribute a on a.attrelid = c.oid and a.attname = '_sdc_batched_at' "
            "where c.relkind in ('r', 'p') and n.nspname like 'tap\\_%%' "
            "and not a.attisdropped order by 1, 2"
        ).fetchall()
        if not tables:
            return []
        query = sql.SQL(" union all ").join(
            sql.SQL("select {} as source, max(_sdc_batched_at) as loaded_at from {}.{}").format(
                sql.Literal(f"{t['table_schema']}.{t['table_name']}"),
                sql.Identifier(t["table_schema"]),
                sql.Identifier(t["table_name"]),
            )
            for t in tables
        )
        loaded = {row["source"]: row["loaded_at"] for row in self._conn.execute(query)}
        return [
            {
                "source": (source := f"{t['table_schema']}.{t['table_name']}"),
                "loaded_at": loaded.get(source),
                "rows": t["rows"],
            }
            for t in tables
        ]

    def source_reconciliation(self, since: datetime, until: datetime) -> list[Row] | None:
        """The reconciliation rows of runs in [since, until) (pipeline/reconcile.py); None when
        the table does not exist: 'no reconciliation recorded', never zero."""
        found = self._conn.execute(
            "select to_regclass(%s) as t", (f"{RECONCILIATION_SCHEMA}.{RECONCILIATION_TABLE}",)
        ).fetchone()
        if not found or found["t"] is None:
            return None
        query = sql.SQL(
            "select * from {} where reconciled_at >= %s and reconciled_at < %s "
            "order by reconciled_at, source, stream"
        ).format(sql.Identifier(RECONCILIATION_SCHEMA, RECONCILIATION_TABLE))
        try:
            return self._conn.execute(query, (since, until)).fetchall()
        except psycopg.Error as exc:
            raise WarehouseError(f"{RECONCILIATION_TABLE}: {_first_line(exc)}") from None

    def _find_schema(self) -> str:
        found = self._conn.execute(
            "select table_schema, count(*) as marts from information_schema.tables "
            "where table_name like 'mart\\_nis2\\_%%' group by table_schema order by marts desc"
        ).fetchall()
        if not found:
            raise WarehouseError(
                f"no mart_nis2_* tables in any schema of {self._display}: "
                "has dbt built the marts? (run the pipeline, or pass --schema)"
            )
        if len(found) > 1 and found[0]["marts"] == found[1]["marts"]:
            names = ", ".join(row["table_schema"] for row in found)
            raise WarehouseError(f"marts found in several schemas ({names}): pass --schema")
        return found[0]["table_schema"]

    def _read_columns(self, schema: str | None, names: list[str] | None) -> None:
        """Column names and types of the marts schema, or of named tables in any schema
        (dbt may write seeds to a schema of their own); the first schema found wins."""
        rows = self._conn.execute(
            "select table_schema, table_name, column_name, data_type "
            "from information_schema.columns "
            "where table_schema = %(schema)s or table_name = any(%(names)s) "
            "order by table_schema, table_name, ordinal_position",
            {"schema": schema, "names": names or []},
        ).fetchall()
        for row in rows:
            table, held = row["table_name"], self._schemas.get(row["table_name"])
            if held is not None and held != row["table_schema"]:
                continue
            self._schemas[table] = row["table_schema"]
            self._types[(table, row["column_name"])] = row["data_type"]
            self._columns.setdefault(table, []).append(row["column_name"])

    def _is_temporal(self, table: str, column: str) -> bool:
        data_type = self._types.get((table, column), "")
        return data_type == "date" or data_type.startswith("timestamp")


def _dbname(conninfo: str) -> str:
    try:
        return str(psycopg.conninfo.conninfo_to_dict(conninfo).get("dbname", ""))
    except psycopg.ProgrammingError:
        return ""


def _first_line(exc: Exception) -> str:
    return str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
