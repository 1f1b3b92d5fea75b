"""The demo job, really run: simulated organisation -> Meltano taps -> Postgres -> dbt.

The `pipeline_run` fixture (tests/conftest.py) runs `nis2-pipeline demo` twice, the second
time with the simulated clock a day later; these tests read what landed.
"""

from __future__ import annotations

import re
import sqlite3
from datetime import timedelta
from pathlib import Path

import psycopg
import pytest

from nis2_settings import ROOT
from tests.conftest import SECOND_END, PipelineRun, simulator_ids

pytestmark = pytest.mark.integration

DEMO_SECRETS = (
    "sim-console-password",
    "JBSWY3DPEHPK3PXP",
    "sim-readonly-key-0001",
    "demo-pseudonym-key-not-secret",
    "keycloak-reader-demo",
)
AUDIT_LOGS_LOOKBACK_HOURS = 24  # tap-didit's default `audit_logs_lookback_hours`
KEYCLOAK_LOOKBACK_HOURS = 24  # tap-keycloak's `lookback_hours` in meltano.yml


def _scalar(conninfo: str, query: str, *params: object) -> object:
    with psycopg.connect(conninfo) as conn:
        return conn.execute(query, params).fetchone()[0]


def _raw_table(source_stream: str) -> str | None:
    """Ground-truth key (`didit.sessions`) -> raw table (`tap_didit.sessions`)."""
    source, stream = source_stream.split(".", 1)
    if source == "wazuh":
        return "tap_wazuh.wazuh_alerts"
    if stream.startswith("sessions_") or stream in {"billing_balance", "webhook_deliveries"}:
        return None  # a subtotal, a snapshot per run, a 30-day window: checked separately
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


def test_webhook_deliveries_outlive_didits_30_day_window(pipeline_run: PipelineRun) -> None:
    """Didit shows delivery records for ~30 days; the warehouse keeps every one it has seen."""
    window_start = f"{SECOND_END - timedelta(days=30):%Y-%m-%dT%H:%M:%S.%fZ}"  # store's format
    store = pipeline_run.var_dir / "org"
    query = "select uuid from deliveries where created_at >= ?"
    visible = set(simulator_ids(store, query, (window_start,)))
    generated = set(simulator_ids(store, "select uuid from deliveries"))
    with psycopg.connect(pipeline_run.conninfo) as conn:
        rows = conn.execute(
            "select uuid, created_at::timestamptz < %s::timestamptz "
            "from tap_didit.webhook_deliveries",
            (window_start,),
        ).fetchall()
    loaded = {uuid for uuid, _ in rows}
    retained = {uuid for uuid, older in rows if older}
    assert visible <= loaded, "every delivery Didit still shows is in the warehouse"
    assert loaded <= generated, "nothing loaded that Didit never had"
    assert retained, "a day later, older deliveries live on only in the warehouse"


def test_second_run_extracts_only_new_data(pipeline_run: PipelineRun) -> None:
    conninfo = pipeline_run.conninfo
    since = pipeline_run.second_started
    grew = {
        t: pipeline_run.second_counts[t] - pipeline_run.first_counts.get(t, 0)
        for t in pipeline_run.second_counts
    }
    assert grew["tap_didit.audit_logs"] > 0, "a day later there is new audit-log activity"
    # Audit log: re-read only inside the tap's lookback before the first run's bookmark.
    oldest_reread = _scalar(
        conninfo,
        "select min(timestamp::timestamptz) from tap_didit.audit_logs where _sdc_batched_at >= %s",
        since,
    )
    lookback = timedelta(hours=AUDIT_LOGS_LOOKBACK_HOURS)
    assert oldest_reread >= pipeline_run.first_bookmarks["audit_logs"] - lookback
    # Keycloak events: incremental on event_time, from the first run's bookmark less the
    # lookback window (late events, pipeline/keycloak_tap.py), never further back.
    oldest_event_ms = _scalar(
        conninfo,
        "select min(event_time) from tap_keycloak.event_entity where _sdc_batched_at >= %s",
        since,
    )
    window_ms = KEYCLOAK_LOOKBACK_HOURS * 3_600_000
    assert oldest_event_ms >= pipeline_run.first_bookmarks["event_time"] - window_ms


def test_second_run_reads_only_the_new_wazuh_alerts(pipeline_run: PipelineRun) -> None:
    """The day between the runs crosses midnight: the live file was rotated into its archive,
    and the spool still handed tap-wazuh only the lines it had not loaded."""
    new_alerts = (
        pipeline_run.second_counts["tap_wazuh.wazuh_alerts"]
        - pipeline_run.first_counts["tap_wazuh.wazuh_alerts"]
    )
    assert new_alerts > 0, "a day later there are new alerts"
    written = _scalar(
        pipeline_run.conninfo,
        "select count(*) from tap_wazuh.wazuh_alerts where _sdc_batched_at >= %s",
        pipeline_run.second_started,
    )
    assert written == new_alerts
    assert "wazuh-spool: spooled" in pipeline_run.second_output
    state = pipeline_run.var_dir / "wazuh-spool"
    assert (state / "manifest.json").is_file(), "the second load was committed"
    assert not (state / "manifest.pending.json").exists()
    assert list((state / "spool").iterdir()) == []


def test_no_duplicates_after_two_runs(pipeline_run: PipelineRun) -> None:
    keys = {
        "tap_didit.audit_logs": "uuid",
        "tap_didit.sessions": "session_id",
        "tap_wazuh.wazuh_alerts": "id",
        "tap_keycloak.event_entity": "id",
        "tap_incidents.incident_register": "incident_id",
    }
    for table, key in keys.items():
        distinct = _scalar(pipeline_run.conninfo, f"select count(distinct {key}) from {table}")  # noqa: S608
        assert distinct == pipeline_run.second_counts[table], table


def test_revoked_role_is_no_longer_current(pipeline_run: PipelineRun) -> None:
    revocations = pipeline_run.ground_truth["role_revocations"]
    assert revocations, "the simulated organisation revokes a role"
    for revoked in revocations:
        current = _scalar(
            pipeline_run.conninfo,
            "select count(*) from tap_keycloak.user_role_mapping "
            "where user_id = %s and role_id = %s and _sdc_deleted_at is null",
            revoked["user_id"],
            revoked["role_id"],
        )
        assert current == 0, revoked["role"]


def test_demo_prints_where_results_are(pipeline_run: PipelineRun) -> None:
    for output in (pipeline_run.first_output, pipeline_run.second_output):
        assert "Results" in output
        assert "postgresql://postgres@127.0.0.1:" in output
        assert "mart_nis2_reporting_deadlines" in output
        pack = re.search(r"report: +(\S+evidence-pack\.html)", output)
        assert pack, "the summary names the evidence pack"
        assert Path(pack.group(1)).is_file()


def test_every_mart_model_is_built(pipeline_run: PipelineRun) -> None:
    models = {p.stem for p in (ROOT / "transform" / "models" / "marts").rglob("mart_nis2_*.sql")}
    with psycopg.connect(pipeline_run.conninfo) as conn:
        built = {
            r[0]
            for r in conn.execute(
                "select table_name from information_schema.tables "
                "where starts_with(table_name, 'mart_nis2_')"
            )
        }
    assert models, "the dbt project has NIS2 marts"
    assert models <= built


def test_no_secret_in_output_logs_or_state(pipeline_run: PipelineRun) -> None:
    with sqlite3.connect(pipeline_run.var_dir / "meltano.db") as db:
        state_rows = [str(row) for row in db.execute("select * from state")]
    assert state_rows, "Meltano kept state for the incremental runs"
    logs = [
        p.read_text(errors="replace")
        for folder in ("log", "dbt/logs")
        for p in (pipeline_run.var_dir / folder).rglob("*.log")
    ]
    assert logs, "the run left its logs"
    haystack = "\n".join(
        [pipeline_run.first_output, pipeline_run.second_output, *state_rows, *logs]
    )
    for secret in DEMO_SECRETS:
        assert secret not in haystack
