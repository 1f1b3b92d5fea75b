"""Each kind of finding the issue names alerts, and rows outside its condition do not."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import psycopg
from conftest import insert, run_monitor

NOW = datetime.now(UTC)


def _titles(receiver) -> list[str]:
    return sorted(r.payload["title"] for r in receiver.requests)


def test_silent_sources_tampering_and_deadlines_alert(warehouse, receiver) -> None:
    assert run_monitor(warehouse, [receiver.url]).returncode == 0  # baseline: empty
    gap = "mart_nis2_log_ingestion_gaps"
    base = {
        "source_system": "wazuh",
        "gap_start": NOW - timedelta(hours=3),
        "gap_minutes": 180,
        "expected_max_gap_min": 60,
        "detected_at": NOW - timedelta(hours=2),
    }
    insert(
        warehouse,
        gap,
        gap_id="g-open",
        asset_id="kc-01",
        explained_by="unknown",
        is_open=True,
        **base,
    )
    insert(
        warehouse,
        gap,
        gap_id="g-closed",
        asset_id="kc-02",
        explained_by="unknown",
        is_open=False,
        **base,
    )
    insert(
        warehouse,
        gap,
        gap_id="g-maint",
        asset_id="kc-03",
        explained_by="maintenance",
        is_open=True,
        **base,
    )
    integrity = "mart_nis2_log_retention_integrity"
    insert(
        warehouse,
        integrity,
        partition_id="keycloak.events|2026-12-01",
        source_system="keycloak",
        asset_id="keycloak.events",
        partition_date="2026-12-01",
        digest_sha256="aa",
        recomputed_digest="bb",
        change_kind="modified",
        tamper_detected=True,
        last_loaded_at=NOW,
    )
    insert(
        warehouse,
        integrity,
        partition_id="keycloak.events|2026-12-02",
        source_system="keycloak",
        asset_id="keycloak.events",
        partition_date="2026-12-02",
        digest_sha256="cc",
        recomputed_digest="cc",
        change_kind="unchanged",
        tamper_detected=False,
        last_loaded_at=NOW,
    )
    deadlines = "mart_nis2_reporting_deadlines"
    for deadline_id, stage, due, submitted, status in [
        ("INC-1|nis2|early_warning", "early_warning", NOW + timedelta(hours=5), None, "open"),
        ("INC-2|nis2|notification", "notification", NOW + timedelta(hours=30), None, "open"),
        ("INC-3|nis2|early_warning", "early_warning", NOW + timedelta(hours=2), NOW, "met"),
        ("INC-4|nis2|final", "final", NOW + timedelta(hours=1), None, "open"),
        # assessed not significant: its clock stopped, nothing to alert
        (
            "INC-5|nis2|early_warning",
            "early_warning",
            NOW + timedelta(hours=3),
            None,
            "not_required",
        ),
    ]:
        insert(
            warehouse,
            deadlines,
            deadline_id=deadline_id,
            incident_id=deadline_id[:5],
            regime="nis2",
            stage=stage,
            anchor_at=NOW - timedelta(hours=19),
            due_at=due,
            submitted_at=submitted,
            status=status,
            is_significant=status != "not_required",
        )
    run = run_monitor(warehouse, [receiver.url])
    assert run.returncode == 0, run.output
    assert _titles(receiver) == [
        "[NIS2 CRITICAL] Art. 23 early_warning for incident INC-1 due at "
        f"{(NOW + timedelta(hours=5)).isoformat()}, not submitted",
        "[NIS2 CRITICAL] Log tampering: sealed day 2026-12-01 of keycloak no longer matches "
        "its digest",
        "[NIS2 HIGH] Log source silent past its expected cadence: wazuh",
    ]
    # a larger horizon brings the 30 h notification in; the others are not alerted again
    wider = run_monitor(warehouse, [receiver.url], NIS2_ALERT_DEADLINE_HOURS="48")
    assert wider.returncode == 0, wider.output
    assert len(receiver.requests) == 4
    assert "notification for incident INC-2" in receiver.requests[-1].payload["title"]


def test_privileged_and_access_findings_follow_their_conditions(warehouse, receiver) -> None:
    assert run_monitor(warehouse, [receiver.url]).returncode == 0
    priv = "mart_nis2_privileged_activity"
    common = {
        "event_ts": NOW,
        "source_system": "keycloak",
        "event_class": "assignment",
        "actor_key": "pk_a",
        "target_principal_key": "pk_b",
        "privilege": "admin",
    }
    insert(
        warehouse,
        priv,
        event_id="p1",
        unapproved_assignment=True,
        behavioural_alarm=False,
        **common,
    )
    insert(
        warehouse,
        priv,
        event_id="p2",
        unapproved_assignment=False,
        behavioural_alarm=False,
        **common,
    )
    access = "mart_nis2_access_anomalies"
    common = {
        "event_ts": NOW,
        "source_system": "didit",
        "principal_key": "pk_c",
        "principal_type": "api_key",
        "ip_key": "ip_x",
        "country": "SG",
    }
    insert(
        warehouse,
        access,
        event_id="a1",
        first_seen_country_for_user=True,
        anomaly_score=2,
        **common,
    )
    insert(
        warehouse,
        access,
        event_id="a2",
        first_seen_country_for_user=False,
        anomaly_score=2,
        **common,
    )
    assert run_monitor(warehouse, [receiver.url]).returncode == 0
    assert _titles(receiver) == [
        "[NIS2 HIGH] Privileged activity: assignment of admin on keycloak",
        "[NIS2 MEDIUM] Access anomaly on didit (score 2)",
    ]


def test_an_unreadable_source_fails_the_run_and_the_others_still_alert(warehouse, receiver) -> None:
    assert run_monitor(warehouse, [receiver.url]).returncode == 0
    with psycopg.connect(warehouse, autocommit=True) as conn:
        conn.execute("drop table analytics_nis2.mart_nis2_access_anomalies")
    insert(
        warehouse,
        "mart_nis2_privileged_activity",
        event_id="p1",
        event_ts=NOW,
        source_system="didit",
        event_class="assignment",
        privilege="Admin",
        unapproved_assignment=True,
        behavioural_alarm=False,
    )
    run = run_monitor(warehouse, [receiver.url])
    assert run.returncode == 1
    assert "access_anomaly (analytics_nis2.mart_nis2_access_anomalies)" in run.output
    assert len(receiver.requests) == 1


def test_no_notification_url_is_an_error_not_a_quiet_pass(warehouse) -> None:
    run = run_monitor(warehouse, [])
    assert run.returncode == 2
    assert "no notification URL configured" in run.output
