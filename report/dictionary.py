"""The data dictionary exported with the pack: every column of every export, with a plain
label and the description the dbt project documents for it (models' and seeds' YAML).

The dbt docs are the one place columns are explained; the pack copies them (as of the
render) so an auditor can read `c_3_1_a` or `evidence_rows` without the repository. A column
the docs do not describe says so; it is never left out.
"""

from __future__ import annotations

import csv
import os
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from report.exports import to_json
from report.formatting import label
from report.warehouse import MartData

DICTIONARY = "data-dictionary"
DBT_DIR_ENV = "NIS2_DBT_PROJECT_DIR"
UNDOCUMENTED = "not described in the dbt docs"
COLUMNS = ("file", "column", "label", "description", "documented_in")


@dataclass(frozen=True)
class Doc:
    description: str
    documented_in: str  # the YAML file (relative to the dbt project) that says it


def dbt_project_dir() -> Path:
    """$NIS2_DBT_PROJECT_DIR, else the transform/ folder beside this package."""
    configured = os.environ.get(DBT_DIR_ENV)
    return Path(configured) if configured else Path(__file__).resolve().parents[1] / "transform"


def _flat(text: Any) -> str:
    return " ".join(str(text or "").split())


def dbt_docs(project: Path) -> dict[tuple[str, str], Doc]:
    """(model or seed, column or '') -> its description, from every YAML under models/ and
    seeds/ (dbt's own source of docs)."""
    docs: dict[tuple[str, str], Doc] = {}
    files = sorted((project / "models").rglob("*.yml")) + sorted((project / "seeds").glob("*.yml"))
    for path in files:
        try:
            document = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
        except (OSError, yaml.YAMLError):
            continue
        where = path.relative_to(project).as_posix()
        for kind in ("models", "seeds"):
            for node in document.get(kind) or []:
                if not isinstance(node, Mapping) or not node.get("name"):
                    continue
                name = str(node["name"])
                if node.get("description"):
                    docs[(name, "")] = Doc(_flat(node["description"]), where)
                for column in node.get("columns") or []:
                    if isinstance(column, Mapping) and column.get("description"):
                        docs[(name, str(column["name"]))] = Doc(_flat(column["description"]), where)
    return docs


def dictionary_rows(
    marts: Mapping[str, MartData],
    docs: Mapping[tuple[str, str], Doc],
    extra: Iterable[tuple[str, str, str]] = (),
) -> list[dict[str, str]]:
    """One row per export and column (and one per export for the table itself, column '');
    `extra`: (file, column, description) of the pack's own files (GRC export)."""
    rows = []
    for name, data in marts.items():
        file = f"data/{name}.csv"
        table = docs.get((name, ""))
        rows.append(_row(file, "", data.spec.title, table))
        columns = data.columns or [c for (model, c) in docs if model == name and c]
        for column in columns:
            rows.append(_row(file, column, label(column), docs.get((name, column))))
    for file, column, description in extra:
        rows.append(_row(file, column, label(column) if column else file, Doc(description, "")))
    return rows


def _row(file: str, column: str, shown: str, doc: Doc | None) -> dict[str, str]:
    return {
        "file": file,
        "column": column,
        "label": shown,
        "description": doc.description if doc else UNDOCUMENTED,
        "documented_in": f"transform/{doc.documented_in}" if doc and doc.documented_in else "",
    }


def write_dictionary(
    folder: Path,
    marts: Mapping[str, MartData],
    extra: Iterable[tuple[str, str, str]] = (),
    project: Path | None = None,
) -> list[Path]:
    """data/data-dictionary.csv and .json."""
    root = project or dbt_project_dir()
    rows = dictionary_rows(marts, dbt_docs(root), extra)
    folder.mkdir(parents=True, exist_ok=True)
    csv_path = folder / f"{DICTIONARY}.csv"
    with csv_path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.DictWriter(handle, COLUMNS, lineterminator="\n")
        writer.writeheader()
        writer.writerows(rows)
    json_path = folder / f"{DICTIONARY}.json"
    document = {
        "title": "Data dictionary of the pack's exports",
        "source": "descriptions copied from the dbt project's YAML docs (models/, seeds/)",
        "columns": list(COLUMNS),
        "row_count": len(rows),
        "rows": rows,
    }
    json_path.write_bytes(to_json(document) + b"\n")
    return [csv_path, json_path]
