"""CSV and JSON exports of every mart for the period: what the auditor re-computes from."""

from __future__ import annotations

import csv
from decimal import Decimal
from pathlib import Path
from typing import Any

import orjson

from report.formatting import raw
from report.period import Period
from report.warehouse import MartData


def _json_default(value: Any) -> Any:
    """What orjson does not encode itself: decimals as numbers, anything else as text."""
    if isinstance(value, Decimal):
        return int(value) if value == value.to_integral_value() else float(value)
    return str(value)


def to_json(document: Any) -> bytes:
    """JSON with timestamps in ISO 8601 (RFC 3339), dates as YYYY-MM-DD, decimals as numbers."""
    return orjson.dumps(
        document,
        default=_json_default,
        option=orjson.OPT_INDENT_2 | orjson.OPT_NON_STR_KEYS | orjson.OPT_NAIVE_UTC,
    )


def to_json_line(value: Any) -> str:
    return orjson.dumps(
        value, default=_json_default, option=orjson.OPT_SORT_KEYS | orjson.OPT_NAIVE_UTC
    ).decode()


def csv_value(value: Any) -> str:
    if isinstance(value, list | tuple | dict):
        return to_json_line(value)
    return raw(value)


def write_exports(folder: Path, data: MartData, period: Period) -> list[Path]:
    """`<mart>.csv` (header + rows) and `<mart>.json` (rows plus how they were chosen)."""
    folder.mkdir(parents=True, exist_ok=True)
    csv_path = folder / f"{data.spec.name}.csv"
    with csv_path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle, lineterminator="\n")
        if data.columns:
            writer.writerow(data.columns)
        for row in data.rows:
            writer.writerow([csv_value(row.get(column)) for column in data.columns])
    json_path = folder / f"{data.spec.name}.json"
    document = {
        "mart": data.spec.name,
        "title": data.spec.title,
        "period": {"label": period.label, "start": raw(period.start), "end": raw(period.end)},
        "status": data.status,
        "rows_chosen_by": data.cut_note,
        "problem": data.problem or None,
        "columns": data.columns,
        "row_count": len(data.rows),
        "rows": [{c: row.get(c) for c in data.columns} for row in data.rows],
    }
    json_path.write_bytes(to_json(document) + b"\n")
    return [csv_path, json_path]
