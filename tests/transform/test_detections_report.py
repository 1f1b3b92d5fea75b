"""The evidence pack's forensics block: one timeline table per incident, in time order."""

from __future__ import annotations

from report.marts import MARTS
from report.sections import forensics
from report.warehouse import MartData

SPECS = {spec.name: spec for spec in MARTS}


def mart(name: str, rows: list[dict]) -> MartData:
    columns = list(dict.fromkeys(k for row in rows for k in row))
    return MartData(SPECS[name], "ok" if rows else "empty", columns, rows)


def test_each_incident_gets_its_own_timeline_in_time_order():
    timeline = [
        {"incident_id": "INC-2", "seq": 1, "event_ts": "2026-10-08T08:00:00Z", "event_key": "b1"},
        {"incident_id": "INC-1", "seq": 2, "event_ts": "2026-10-07T09:05:00Z", "event_key": "a2"},
        {"incident_id": "INC-1", "seq": 1, "event_ts": "2026-10-07T09:00:00Z", "event_key": "a1"},
        {"incident_id": None, "seq": 1, "event_ts": "2026-10-07T09:00:00Z", "event_key": "c1"},
    ]
    marts = {
        forensics.SIEM_DETECTIONS: mart(
            forensics.SIEM_DETECTIONS,
            [{"detection_type": "bruteforce", "mitre_technique": "T1110.001", "ir_annex": "3.2.4"}],
        ),
        forensics.IAM: mart(forensics.IAM, [{"is_finding": True}, {"is_finding": False}]),
        forensics.CORRELATED: mart(forensics.CORRELATED, []),
        forensics.TIMELINE: mart(forensics.TIMELINE, timeline),
    }
    block = forensics.block(marts)
    keys = [t.key for t in block.tables]
    assert keys == ["detections-by-type", "correlated", "timeline-INC-1", "timeline-INC-2"]
    inc1 = block.tables[2]
    assert [r[inc1.columns.index("event_key")].value for r in inc1.rows] == ["a1", "a2"]
    metrics = {m.key: m.value for m in block.metrics}
    assert metrics == {"siem_detections": 1, "iam_findings": 1, "correlated_findings": 0}
