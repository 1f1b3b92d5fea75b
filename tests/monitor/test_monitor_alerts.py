"""Alerts reach a local HTTP receiver and a local SMTP server, once per finding, across failed
deliveries and killed runs. Rows are hand-written in the marts' shapes; expected values come
from these rows, never from the monitor."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import psycopg
import pytest
from conftest import insert, run_monitor

T0 = datetime(2026, 12, 6, 9, 0, 12, tzinfo=UTC)
DETECTION = {
    "detection_id": "det-0001",
    "detection_type": "user_bruteforce",
    "source_system": "didit",
    "principal_key": "pk_7f3a9c",
    "src_ip_key": "ip_11aa22",
    "application": "Customer onboarding",
    "window_start": T0 - timedelta(minutes=15),
    "window_end": T0 + timedelta(minutes=2),
    "detected_at": T0,
    "failures": 8,
    "peak_in_window": 8,
    "threshold_used": 5,
    "alert_raised_in_siem": False,
}


def _baseline(warehouse: str, urls: list[str]) -> None:
    first = run_monitor(warehouse, urls)
    assert first.returncode == 0, first.output


def _outbox(conninfo: str) -> list[tuple]:
    with psycopg.connect(conninfo) as conn:
        return conn.execute(
            "select finding_key, channel, attempts, delivered_at is not null "
            "from nis2_ops.alert_deliveries order by finding_key, channel"
        ).fetchall()


def test_new_detection_alerts_once_at_the_http_receiver(warehouse, receiver) -> None:
    _baseline(warehouse, [receiver.url])
    insert(warehouse, "mart_nis2_auth_failure_detections", **DETECTION)
    assert run_monitor(warehouse, [receiver.url]).returncode == 0
    assert len(receiver.requests) == 1
    alert = receiver.requests[0]
    assert alert.payload["title"] == "[NIS2 HIGH] Authentication attack: user_bruteforce on didit"
    message = alert.payload["message"]
    assert "When: 2026-12-06T09:00:12+00:00" in message
    assert "Severity: high" in message
    assert "NIS2: Annex 3.2.3(d)" in message
    assert "Account (pseudonym): pk_7f3a9c" in message
    assert "Dashboard: https://dash.example.org/superset/nis2/detections" in message
    assert "Application: (internal name hidden)" in message
    assert "Customer onboarding" not in message
    delivery_id = alert.headers["x-nis2-delivery-id"]
    assert f"Delivery id: {delivery_id}" in message
    # a finding already alerted is never alerted again
    again = run_monitor(warehouse, [receiver.url])
    assert again.returncode == 0, again.output
    assert len(receiver.requests) == 1
    assert [row[2:] for row in _outbox(warehouse)] == [(1, True)]


def test_rows_present_at_the_first_run_are_the_baseline_not_alerts(warehouse, receiver) -> None:
    insert(warehouse, "mart_nis2_auth_failure_detections", **DETECTION)
    first = run_monitor(warehouse, [receiver.url])
    assert first.returncode == 0
    assert "1 existing finding(s) recorded as the baseline" in first.output
    assert receiver.requests == []
    with psycopg.connect(warehouse) as conn:
        rows = conn.execute("select finding_key, baseline from nis2_ops.alert_findings").fetchall()
    assert rows == [("auth_failure_detection:det-0001", True)]


def test_internal_names_only_when_the_setting_allows(warehouse, receiver) -> None:
    _baseline(warehouse, [receiver.url])
    insert(warehouse, "mart_nis2_auth_failure_detections", **DETECTION)
    run = run_monitor(warehouse, [receiver.url], NIS2_ALERT_INTERNAL_NAMES="true")
    assert run.returncode == 0, run.output
    assert "Application: Customer onboarding" in receiver.requests[0].payload["message"]


def test_alert_reaches_a_local_smtp_server(warehouse, smtp_server) -> None:
    url = (
        f"mailto://127.0.0.1:{smtp_server.port}?mode=insecure"
        "&from=nis2-monitor@example.org&to=soc@example.org"
    )
    _baseline(warehouse, [url])
    insert(warehouse, "mart_nis2_auth_failure_detections", **DETECTION)
    run = run_monitor(warehouse, [url])
    assert run.returncode == 0, run.output
    assert len(smtp_server.messages) == 1
    mail = smtp_server.messages[0]
    assert "Authentication attack: user_bruteforce on didit" in mail
    assert "soc@example.org" in mail


def test_failed_deliveries_are_retried_until_accepted_without_leaking_the_url(
    warehouse, receiver
) -> None:
    _baseline(warehouse, [receiver.url])
    insert(warehouse, "mart_nis2_auth_failure_detections", **DETECTION)
    receiver.fail_first = 2
    outputs = []
    for expected in (1, 1, 0):
        run = run_monitor(warehouse, [receiver.url])
        outputs.append(run.output)
        assert run.returncode == expected, run.output
    assert receiver.answered == 3
    assert len(receiver.requests) == 1
    assert [row[2:] for row in _outbox(warehouse)] == [(3, True)]
    assert "kept in the outbox" in outputs[0]
    for output in outputs:
        assert "tok-s3cr3t-0451" not in output
        assert "/hooks/" not in output
    assert run_monitor(warehouse, [receiver.url]).returncode == 0
    assert receiver.answered == 3


def test_backoff_holds_a_failed_delivery_until_its_time(warehouse, receiver) -> None:
    _baseline(warehouse, [receiver.url])
    insert(warehouse, "mart_nis2_auth_failure_detections", **DETECTION)
    receiver.fail_first = 1
    slow = {"NIS2_ALERT_RETRY_BASE_SECONDS": "3600"}
    assert run_monitor(warehouse, [receiver.url], **slow).returncode == 1
    assert run_monitor(warehouse, [receiver.url], **slow).returncode == 0  # not due: no attempt
    assert receiver.answered == 1
    with psycopg.connect(warehouse) as conn:
        conn.execute("update nis2_ops.alert_deliveries set next_attempt_at = now()")
    assert run_monitor(warehouse, [receiver.url], **slow).returncode == 0
    assert len(receiver.requests) == 1


@pytest.mark.parametrize(
    ("point", "physical"),
    [("after_collect", 1), ("after_claim", 1), ("after_send", 2)],
)
def test_a_killed_run_neither_loses_nor_repeats_an_alert(
    warehouse, receiver, point: str, physical: int
) -> None:
    """SIGKILL at each point: the next run delivers; the only repeat (killed after the channel
    accepted, before the outbox recorded it) carries the same delivery id."""
    _baseline(warehouse, [receiver.url])
    insert(warehouse, "mart_nis2_auth_failure_detections", **DETECTION)
    killed = run_monitor(warehouse, [receiver.url], NIS2_MONITOR_TEST_KILL_AT=point)
    assert killed.returncode == -9, killed.output
    assert run_monitor(warehouse, [receiver.url]).returncode == 0
    assert run_monitor(warehouse, [receiver.url]).returncode == 0
    assert len(receiver.requests) == physical
    assert len(set(receiver.delivery_ids())) == 1
    assert [row[3] for row in _outbox(warehouse)] == [True]


def test_two_channels_each_get_the_alert_once(warehouse, receiver, smtp_server) -> None:
    mail = (
        f"mailto://127.0.0.1:{smtp_server.port}?mode=insecure&from=a@example.org&to=b@example.org"
    )
    _baseline(warehouse, [receiver.url, mail])
    insert(warehouse, "mart_nis2_auth_failure_detections", **DETECTION)
    assert run_monitor(warehouse, [receiver.url, mail]).returncode == 0
    assert run_monitor(warehouse, [receiver.url, mail]).returncode == 0
    assert (len(receiver.requests), len(smtp_server.messages)) == (1, 1)
    channels = [row[1] for row in _outbox(warehouse)]
    assert sorted(c.split("-")[0] for c in channels) == ["json", "mailto"]
