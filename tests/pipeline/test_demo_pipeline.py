"""The demo job, really run: simulated organisation -> Meltano taps -> Postgres -> dbt.

The `pipeline_run` fixture (tests/conftest.py) runs `nis2-pipeline demo` twice, the second
time with the simulated clock a day later; these tests read what landed.
"""

from __future__ import annotations

import sqlite3
from datetime import timedelta

import psycopg
import pytest

from tests.conftest import FIRST_END, PipelineRun

pytestmark = pytest.mark.integration

DEMO_SECRETS = ("sim-console-password", "JBSWY3DPEHPK3PXP", "sim-readonly-key-0001")


def _scalar(conninfo: str, query: str, *params: object) -> object:
    with psycopg.connect(conninfo) as conn:
        return conn.execute(query, params).fetchone()[0]


def _raw_table(source_stream: str) -> str | None:
    """Ground-truth key (`didit.sessions`) -> raw table (`tap_didit.sessions`)."""
    source, stream = source_stream.split(".", 1)
    if source == "wazuh":
        return "tap_wazuh.wazuh_alerts"
    if stream.startswith("sessions_") or stream == "billing_balance":
        return None  # a per-kind subtotal, and a snapshot per run: checked separately
    return f"tap_{source}.{stream}"


def test_every_source_lands_exactly_what_was_generated(pipeline_run: PipelineRun) -> None:
    expected = {_raw_table(key): n for key, n in pipeline_run.ground_truth["counts"].items()}
    expected.pop(None, None)
    assert len(expected) >= 20, "the ground truth lists the generated row counts"
    loaded = pipeline_run.second_counts
    mismatches = {
        table: (n, loaded.get(table)) for table, n in expected.items() if loaded.get(table) != n
    }
    assert mismatches == {}, "table: (generated, loaded)"


def test_sessions_of_both_kinds_and_one_balance_snapshot_per_run(
    pipeline_run: PipelineRun,
) -> None:
    counts = pipeline_run.ground_truth["counts"]
    with psycopg.connect(pipeline_run.conninfo) as conn:
        by_kind = dict(
            conn.execute("select session_kind, count(*) from tap_didit.sessions group by 1")
        )
        snapshots = conn.execute("select count(*) from tap_didit.billing_balance").fetchone()[0]
    assert by_kind == {
        "user": counts["didit.sessions_user"],
        "business": counts["didit.sessions_business"],
    }
    assert snapshots == 2


def test_second_run_extracts_only_new_data(pipeline_run: PipelineRun) -> None:
    conninfo = pipeline_run.conninfo
    since = pipeline_run.second_started
    grew = {
        t: pipeline_run.second_counts[t] - pipeline_run.first_counts.get(t, 0)
        for t in pipeline_run.second_counts
    }
    assert grew["tap_didit.audit_logs"] > 0, "a day later there is new audit-log activity"
    # Audit log: re-read only inside the lookback window before the first run's end.
    oldest_reread = _scalar(
        conninfo,
        "select min(timestamp::timestamptz) from tap_didit.audit_logs where _sdc_batched_at >= %s",
        since,
    )
    assert oldest_reread >= FIRST_END - timedelta(days=1)
    # Keycloak events: incremental on event_time, so nothing older than the first bookmark.
    oldest_event_ms = _scalar(
        conninfo,
        "select min(event_time) from tap_keycloak.event_entity where _sdc_batched_at >= %s",
        since,
    )
    assert oldest_event_ms >= int(FIRST_END.timestamp() * 1000) - 3_600_000
    # Wazuh: closed daily files are not read again.
    reread_files = _scalar(
        conninfo,
        "select count(distinct _sdc_filename) from tap_wazuh.wazuh_alerts "
        "where _sdc_batched_at >= %s",
        since,
    )
    assert reread_files <= 2


def test_demo_prints_where_results_are(pipeline_run: PipelineRun) -> None:
    for output in (pipeline_run.first_output, pipeline_run.second_output):
        assert "Results" in output
        assert "postgresql://postgres@127.0.0.1:" in output
        assert "mart_nis2_reporting_deadlines" in output


def test_marts_are_built(pipeline_run: PipelineRun) -> None:
    marts = _scalar(
        pipeline_run.conninfo,
        "select count(*) from information_schema.tables where table_name like 'mart_nis2_%%'",
    )
    assert marts >= 10


def test_no_secret_in_output_or_state(pipeline_run: PipelineRun) -> None:
    with sqlite3.connect(pipeline_run.var_dir / "meltano.db") as db:
        state_rows = [str(row) for row in db.execute("select * from state")]
    assert state_rows, "Meltano kept state for the incremental runs"
    haystack = pipeline_run.first_output + pipeline_run.second_output + " ".join(state_rows)
    for secret in DEMO_SECRETS:
        assert secret not in haystack
