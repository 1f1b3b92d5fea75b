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

from report.marts import REFERENCE_TABLES
from report.warehouse import Row, WarehouseError

SCHEMA_ENV = "NIS2_MARTS_SCHEMA"
CONNINFO_ENV = "NIS2_PG_CONNINFO"


def conninfo_from_env() -> str:
    """NIS2_PG_CONNINFO if set, else the pipeline's NIS2_PG_* settings."""
    explicit = os.environ.get(CONNINFO_ENV)
    if explicit:
        return explicit
    from pipeline.settings import PgSettings  # one home for the connection settings

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

    def source_freshness(self) -> list[Row]:
        """When each raw source table was last loaded (target-postgres `_sdc_batched_at`)."""
        tables = self._conn.execute(
            "select table_schema, table_name from information_schema.columns "
            "where column_name = '_sdc_batched_at' and table_schema like 'tap\\_%%' "
            "order by 1, 2"
        ).fetchall()
        result = []
        for table in tables:
            query = sql.SQL("select max(_sdc_batched_at) as loaded_at, count(*) as rows from {}.{}")
            row = self._conn.execute(
                query.format(
                    sql.Identifier(table["table_schema"]), sql.Identifier(table["table_name"])
                )
            ).fetchone()
            result.append({"source": f"{table['table_schema']}.{table['table_name']}", **row})
        return result

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
