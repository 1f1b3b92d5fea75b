"""Detections, cross-source correlation and each incident's forensic timeline (issue 17).

Reads mart_nis2_siem_detections, mart_nis2_iam_admin_detections,
mart_nis2_correlated_findings and mart_nis2_forensic_timeline (Annex 3.2.4, 3.4.1, 3.5.4).
Every event of every source about the addresses and people an incident's detections name is
listed per incident in time order; the full timeline of every incident of the period is the
pack's export data/mart_nis2_forensic_timeline.csv and .json (column incident_id). People and
addresses are pseudonyms, named in the internal version like every other personal column.
"""

from __future__ import annotations

from collections import Counter

from report.sections.base import Block, Metric, Table, no_data, row_count, table
from report.warehouse import MartData, Row

SIEM_DETECTIONS = "mart_nis2_siem_detections"
IAM = "mart_nis2_iam_admin_detections"
CORRELATED = "mart_nis2_correlated_findings"
TIMELINE = "mart_nis2_forensic_timeline"
TIMELINE_COLUMNS = (
    "seq",
    "event_ts",
    "source_system",
    "event_type",
    "detail",
    "actor_key",
    "src_ip_key",
    "event_key",
)


def per_type(rows: list[Row]) -> list[Row]:
    """Detections per type with their MITRE technique and Annex points."""
    counts = Counter(r.get("detection_type") for r in rows)
    first = {}
    for row in rows:
        first.setdefault(row.get("detection_type"), row)
    return [
        {
            "detection_type": kind,
            "detections": n,
            "mitre_technique": first[kind].get("mitre_technique"),
            "ir_annex": first[kind].get("ir_annex"),
        }
        for kind, n in sorted(counts.items(), key=lambda kv: str(kv[0]))
    ]


def incident_timelines(data: MartData) -> list[Table]:
    """One table per incident: its timeline in order (the export holds every row)."""
    by_incident: dict[str, list[Row]] = {}
    for row in data.rows:
        if row.get("incident_id"):
            by_incident.setdefault(str(row["incident_id"]), []).append(row)
    tables = []
    for incident, rows in sorted(by_incident.items()):
        rows.sort(key=lambda r: (str(r.get("event_ts")), str(r.get("subject_key")), r.get("seq")))
        tables.append(
            table(
                f"timeline-{incident}",
                f"Forensic timeline of {incident}",
                data,
                rows,
                TIMELINE_COLUMNS,
            )
        )
    return tables


def block(marts: dict[str, MartData]) -> Block:
    siem, iam, correlated, timeline = (
        marts[m] for m in (SIEM_DETECTIONS, IAM, CORRELATED, TIMELINE)
    )
    findings = [r for r in iam.rows if r.get("is_finding") is True]
    own = MartData(siem.spec, siem.status, ["detection_type", "detections"], per_type(siem.rows))
    return Block(
        "forensics",
        "Detections, correlation and forensic timelines (Annex 3.2.4, 3.4.1, 3.5.4)",
        "Detections from the SIEM and the identity provider, each with its MITRE ATT&CK "
        "technique and the Annex point it evidences (seed security_detection_catalog); findings "
        "of two or more sources about one address or person within the correlation window "
        "(seed siem_detection_policy); and for each incident every event of every source about "
        "the addresses and people its detections name, in time order. The complete timelines "
        f"are in data/{TIMELINE}.csv and .json.",
        metrics=[
            Metric("siem_detections", "SIEM detections", row_count(siem.rows, siem)),
            Metric(
                "iam_findings",
                "IAM admin-event findings",
                len(findings) if iam.status in {"ok", "empty"} else None,
                bad_when_positive=True,
            ),
            Metric(
                "correlated_findings",
                "Correlated findings (2+ sources)",
                row_count(correlated.rows, correlated),
                bad_when_positive=True,
            ),
        ],
        tables=[
            table("detections-by-type", "SIEM detections by type", own, own.rows),
            table(
                "correlated",
                "Correlated findings",
                correlated,
                preferred=(
                    "first_at",
                    "last_at",
                    "key_type",
                    "subject_key",
                    "sources",
                    "detection_types",
                    "findings",
                ),
            ),
            *incident_timelines(timeline),
        ],
        no_data=no_data(siem, iam, correlated, timeline),
    )
