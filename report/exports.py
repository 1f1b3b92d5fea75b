"""CSV and JSON exports of every mart for the period: what the auditor re-computes from."""

from __future__ import annotations

import csv
import json
from datetime import date, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

from report.formatting import raw
from report.period import Period
from report.warehouse import MartData


def json_value(value: Any) -> Any:
    """Mart values as JSON: timestamps in ISO 8601 UTC, decimals as numbers, ids as text."""
    if value is None or isinstance(value, bool | int | float | str):
        return value
    if isinstance(value, Decimal):
        return int(value) if value == value.to_integral_value() else float(value)
    if isinstance(value, datetime | date):
        return raw(value)
    if isinstance(value, list | tuple):
        return [json_value(item) for item in value]
    if isinstance(value, dict):
        return {str(key): json_value(item) for key, item in value.items()}
    return str(value)


def csv_value(value: Any) -> str:
    if isinstance(value, list | tuple | dict):
        return json.dumps(json_value(value), sort_keys=True, ensure_ascii=False)
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
        "rows": [{c: json_value(row.get(c)) for c in data.columns} for row in data.rows],
    }
    json_path.write_text(
        json.dumps(document, indent=1, ensure_ascii=False, sort_keys=False) + "\n", encoding="utf-8"
    )
    return [csv_path, json_path]
