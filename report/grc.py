"""The control-evidence matrix as a compliance-assessment import for CISO Assistant.

CISO Assistant's Data Wizard ("Compliance assessment" import; backend data_wizard views,
`_process_compliance_assessment` / `_reconcile_compliance_requirements`) reads a CSV with
`pd.read_csv(..., encoding="utf-8-sig")`, lower-cases the headers, skips rows whose `assessable`
is false, finds each requirement by `ref_id` and else by `urn` within the framework, and writes
only the cells that are filled: `compliance_result` (the requirement assessment's result),
`requirement_progress` (its status) and `observations`. Our requirement ids are mapped to the
library's node URNs by the seed `ciso_assistant_nis2_annex_map` (its source_citation names the
library file, commit and version).

Results: pass -> compliant, fail -> non_compliant, no_data and manual_required ->
not_assessed (unknown is never compliant), not_applicable_documented -> not_applicable.
Progress: in_review where our evidence gives a result, left empty otherwise (nothing is
written over the auditor's own progress).
"""

from __future__ import annotations

import csv
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from report.exports import to_json
from report.formatting import display, raw
from report.period import Period
from report.sections.controls import requirement_rows
from report.warehouse import MartData, Row

GRC_EXPORT = "ciso-assistant-nis2-annex-assessment"
MAPPING = "ciso_assistant_nis2_annex_map"
FRAMEWORK_URN = "urn:intuitem:risk:framework:annex-technical-and-methodological-requirements-nis2"
RESULT = {
    "pass": "compliant",
    "fail": "non_compliant",
    "no_data": "not_assessed",
    "manual_required": "not_assessed",
    "not_applicable_documented": "not_applicable",
}
PROGRESS = {"pass": "in_review", "fail": "in_review", "not_applicable_documented": "in_review"}
COLUMNS = (
    "ref_id",
    "urn",
    "assessable",
    "compliance_result",
    "requirement_progress",
    "observations",
    "nis2_ref_id",
    "nis2_status",
    "relation",
)
DESCRIPTIONS = {
    "ref_id": "CISO Assistant requirement node ref_id (empty for the few nodes without one)",
    "urn": "CISO Assistant requirement node URN (the Data Wizard's fallback when ref_id fails)",
    "assessable": "True: the node is assessable (the Data Wizard skips other rows)",
    "compliance_result": "Result for CISO Assistant: compliant, non_compliant, not_assessed or "
    "not_applicable, from nis2_status",
    "requirement_progress": "in_review where our evidence gives a result; empty otherwise",
    "observations": "Our status, its reason, evidence rows and window, and where it comes from",
    "nis2_ref_id": "Our Annex requirement (nis2_annex_requirements.ref_id) the node maps to",
    "nis2_status": "Our status of that requirement in the control-evidence matrix",
    "relation": "same: the node is our requirement; part_of: a point under it, judged with it",
}


def observations(row: Row, period: Period) -> str:
    """What an auditor reads in CISO Assistant: status and why, the evidence behind it."""
    parts = [
        f"NIS2 evidence pack {period.label}: {row.get('status')} for Annex {row.get('ref_id')}"
    ]
    for column, name in (
        ("status_reason", "why"),
        ("metric_value", "measured"),
        ("target", "target"),
        ("target_rule", "target rule"),
        ("evidence_rows", "evidence rows"),
        ("last_evidence_at", "last evidence"),
        ("exception_ids", "exceptions"),
        ("silent_assets", "silent sources"),
        ("note", "note"),
    ):
        if row.get(column) not in (None, ""):
            parts.append(f"{name}: {display(row.get(column))}")
    start, end = row.get("evidence_window_start"), row.get("evidence_window_end")
    if start is not None or end is not None:
        parts.append(f"evidence window: {display(start)} to {display(end)}")
    source = "data/mart_nis2_control_evidence_matrix.csv"
    if row.get("matrix_id"):
        source += f" row matrix_id = {raw(row.get('matrix_id'))}"
    else:
        source += " (not in the matrix: no data)"
    return "; ".join([*parts, f"source: {source}"])


def grc_rows(marts: Mapping[str, MartData], period: Period) -> list[dict[str, str]]:
    """One row per mapped CISO Assistant node, carrying our requirement's status."""
    ours = {str(r.get("ref_id")): r for r in requirement_rows(dict(marts))}
    rows = []
    for mapped in marts[MAPPING].rows:
        requirement = ours.get(str(mapped.get("ref_id")))
        if requirement is None:
            continue
        status = str(requirement.get("status"))
        rows.append(
            {
                "ref_id": raw(mapped.get("ciso_ref_id")),
                "urn": raw(mapped.get("ciso_urn")),
                "assessable": "True",
                "compliance_result": RESULT.get(status, "not_assessed"),
                "requirement_progress": PROGRESS.get(status, ""),
                "observations": observations(requirement, period),
                "nis2_ref_id": raw(mapped.get("ref_id")),
                "nis2_status": status,
                "relation": raw(mapped.get("relation")),
            }
        )
    return rows


def write_grc_export(folder: Path, marts: Mapping[str, MartData], period: Period) -> list[Path]:
    """data/ciso-assistant-nis2-annex-assessment.csv (the import file) and .json (the same
    rows with what the import needs to know)."""
    mapping = marts[MAPPING]
    rows = grc_rows(marts, period) if mapping.rows else []
    folder.mkdir(parents=True, exist_ok=True)
    csv_path = folder / f"{GRC_EXPORT}.csv"
    with csv_path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.DictWriter(handle, COLUMNS, lineterminator="\n")
        writer.writeheader()
        writer.writerows(rows)
    citations = sorted({raw(r.get("source_citation")) for r in mapping.rows} - {""})
    document: dict[str, Any] = {
        "title": "Control-evidence matrix for CISO Assistant's Data Wizard",
        "framework_urn": FRAMEWORK_URN,
        "import": "CISO Assistant Data Wizard, model 'Compliance assessment', this CSV; pick the "
        "framework above. Import into a new audit per period: results are written over the "
        "target audit's results where a cell is filled.",
        "period": {"label": period.label, "start": raw(period.start), "end": raw(period.end)},
        "mapping": {"seed": MAPPING, "status": mapping.status, "source_citation": citations},
        "problem": mapping.unavailable_reason.replace("mart ", "seed ") or None,
        "result_values": RESULT,
        "columns": list(COLUMNS),
        "row_count": len(rows),
        "rows": rows,
    }
    json_path = folder / f"{GRC_EXPORT}.json"
    json_path.write_bytes(to_json(document) + b"\n")
    return [csv_path, json_path]


def dictionary_entries() -> list[tuple[str, str, str]]:
    """(file, column, description) of the export, for the data dictionary."""
    file = f"data/{GRC_EXPORT}.csv"
    return [
        (file, "", "Control-evidence matrix as a CISO Assistant compliance-assessment import")
    ] + [(file, column, DESCRIPTIONS[column]) for column in COLUMNS]
