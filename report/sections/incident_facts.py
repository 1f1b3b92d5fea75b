"""Facts about incidents that several sections need: which are significant, and each
incident's Art. 23 stages. One home, so the register and the drafts never disagree."""

from __future__ import annotations

from typing import Any

from report.period import to_moment
from report.warehouse import MartData, Row

REGISTER = "mart_nis2_incident_register"
SIGNIFICANCE = "mart_nis2_significance_assessment"
DEADLINES = "mart_nis2_reporting_deadlines"

STAGES = ("early_warning", "notification", "progress", "final")
STAGE_TITLES = {
    "early_warning": "Early warning",
    "notification": "Incident notification",
    "intermediate": "Intermediate report",
    "progress": "Progress report",
    "final": "Final report",
}
STAGE_BASIS = {
    "early_warning": "Art. 23(4)(a)",
    "notification": "Art. 23(4)(b)",
    "intermediate": "Art. 23(4)(c)",
    "final": "Art. 23(4)(d)",
    "progress": "Art. 23(4)(e)",
}


def latest_assessment(marts: dict[str, MartData]) -> dict[Any, Row]:
    """The newest significance assessment per incident (Annex 3.4.2(e): reclassification)."""
    newest: dict[Any, Row] = {}
    for row in marts[SIGNIFICANCE].rows:
        key = row.get("incident_id")
        moment = to_moment(row.get("assessed_at"))
        held = newest.get(key)
        if held is None or (moment and (to_moment(held.get("assessed_at")) or moment) <= moment):
            newest[key] = row
    return newest


def is_significant(incident: Row, assessment: Row | None, stages: dict[str, Row]) -> bool:
    """The register's flag if it has one, else the latest assessment, else 'has deadlines'."""
    for source in (incident, assessment or {}):
        if isinstance(source.get("is_significant"), bool):
            return source["is_significant"]
    return bool(stages)


def stages_by_incident(marts: dict[str, MartData]) -> dict[Any, dict[str, Row]]:
    """incident_id -> stage -> deadline row, NIS2 regime only (GDPR/DORA rows set aside)."""
    result: dict[Any, dict[str, Row]] = {}
    for row in marts[DEADLINES].rows:
        regime = str(row.get("regime") or "NIS2")
        if not regime.upper().startswith("NIS2"):
            continue
        result.setdefault(row.get("incident_id"), {})[str(row.get("stage"))] = row
    return result


def significant_incidents(
    marts: dict[str, MartData],
) -> list[tuple[Row, Row | None, dict[str, Row]]]:
    """(register row, latest assessment, stages) for every significant incident of the period."""
    assessments = latest_assessment(marts)
    stages = stages_by_incident(marts)
    chosen = []
    for incident in marts[REGISTER].rows:
        key = incident.get("incident_id")
        if is_significant(incident, assessments.get(key), stages.get(key, {})):
            chosen.append((incident, assessments.get(key), stages.get(key, {})))
    return chosen


def pick(row: Row | None, *columns: str) -> Any:
    """The first non-empty value among candidate columns (marts may name a fact differently)."""
    if not row:
        return None
    for column in columns:
        value = row.get(column)
        if value not in (None, "", []):
            return value
    return None
