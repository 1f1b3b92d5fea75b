"""Findings read from the marts and the alert text each one carries.

Only the columns a source lists are read (never `select *`), from the marts, which hold
pseudonyms: no raw table is read for alert text."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Any

import psycopg
from psycopg import sql
from psycopg.rows import dict_row

from monitor.sources import FindingSource

_PLACEHOLDER = re.compile(r"\{([a-z_][a-z0-9_]*)\}")
HIDDEN = "(internal name hidden)"


class SourceReadError(RuntimeError):
    """A finding source could not be read (missing table or column, bad condition)."""


@dataclass(frozen=True)
class Finding:
    key: str
    source: str
    severity: str
    title: str
    body: str
    event_at: datetime | None


@dataclass(frozen=True)
class TextOptions:
    dashboard_url: str
    internal_names: bool


def show(value: Any) -> str:
    if value is None:
        return "-"
    if isinstance(value, datetime):
        moment = value if value.tzinfo else value.replace(tzinfo=UTC)
        return moment.astimezone(UTC).isoformat()
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, bool):
        return "yes" if value else "no"
    return str(value)


def _title(source: FindingSource, row: dict[str, Any], options: TextOptions) -> str:
    def fill(match: re.Match) -> str:
        column = match.group(1)
        if column in source.internal and not options.internal_names:
            return HIDDEN
        return show(row.get(column))

    return _PLACEHOLDER.sub(fill, source.title)


def render(source: FindingSource, row: dict[str, Any], options: TextOptions) -> tuple[str, str]:
    """(title, body): what, where, when, severity, the NIS2 point and the dashboard link."""
    title = f"[NIS2 {source.severity.upper()}] {_title(source, row, options)}"
    lines = [
        f"What: {_title(source, row, options)}",
        f"When: {show(row.get(source.event_at))}",
        f"Severity: {source.severity}",
        f"NIS2: {source.nis2}",
        "Where:",
    ]
    for label, column in source.fields:
        hidden = column in source.internal and not options.internal_names
        lines.append(f"  {label}: {HIDDEN if hidden else show(row.get(column))}")
    lines.append(f"Dashboard: {options.dashboard_url.rstrip('/')}{source.dashboard}")
    return title, "\n".join(lines)


def finding_key(source: FindingSource, row: dict[str, Any]) -> str:
    return source.name + ":" + "|".join(show(row.get(column)) for column in source.key)


def _event_at(value: Any) -> datetime | None:
    if isinstance(value, datetime):
        return value if value.tzinfo else value.replace(tzinfo=UTC)
    if isinstance(value, date):
        return datetime(value.year, value.month, value.day, tzinfo=UTC)
    return None


def query(source: FindingSource, schema: str) -> sql.Composed:
    columns = sql.SQL(", ").join(sql.Identifier(c) for c in source.columns)
    return sql.SQL("select {} from {} where ({})").format(
        columns,
        sql.Identifier(schema, source.relation),
        sql.SQL(source.where),  # the operator's finding sources file, not user input
    )


def read_findings(
    conn: psycopg.Connection,
    source: FindingSource,
    schema: str,
    params: dict[str, Any],
    options: TextOptions,
) -> list[Finding]:
    """Every row of the source that is a finding now (known ones included)."""
    try:
        with conn.transaction(), conn.cursor(row_factory=dict_row) as cur:
            cur.execute(query(source, schema), params)
            rows = cur.fetchall()
    except psycopg.Error as exc:
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise SourceReadError(f"{source.name} ({schema}.{source.relation}): {first}") from None
    found = []
    for row in rows:
        title, body = render(source, row, options)
        found.append(
            Finding(
                key=finding_key(source, row),
                source=source.name,
                severity=source.severity,
                title=title,
                body=body,
                event_at=_event_at(row.get(source.event_at)),
            )
        )
    return found
