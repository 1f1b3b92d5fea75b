"""Integrity that means something (issue 15, Annex 3.2.5), on data written for the test.

Hand-written Wazuh alerts (tests/transform/fixtures/integrity/; one agent = one log source per
scenario) are loaded into a database of their own and built with real dbt, then changed behind
the loader's back and verified with the real verification (run-operation verify_logs, what the
Meltano job nis2-verify-logs runs):

- late-01 (August): sealed ~56 days after the day ended, verified ok -> sealed_late, 3.2.5 fails.
- ontime-01 (September): sealed within 48 h and verified ok -> 3.2.5 passes.
- October 9, sealed within the lag and verified ok, then behind the loader (load time kept):
  upd-01 / upd-02 a row edited, del-01 / del-02 a row deleted, ins-01 / ins-02 a row inserted;
  the -02 sources also receive new rows in the next load. loader-edit-02: a row edited with a
  new load time (the build reads it, as a loader upsert) in a day that gains new rows.
  resent-02: a row re-sent unchanged plus a new row; clean-02 new rows only; clean-01 nothing.
- nov-01 (November): sealed, never verified -> no_data.
"""

from __future__ import annotations

import json
import subprocess
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

import psycopg
import pytest
from psycopg import sql

from tests.transform.conftest import TEST_PSEUDONYM_KEY, TRANSFORM, dbt_env, dbt_executable
from tests.transform.test_staging_quarantine import upsert

pytestmark = pytest.mark.integration

FIXTURES = Path(__file__).parent / "fixtures" / "integrity"
RAW_TABLES = Path(__file__).parent / "fixtures" / "bad_input" / "raw_tables.sql"
DB = "nis2_log_integrity"
ALERTS = "tap_wazuh.wazuh_alerts"
LOADS = [
    datetime(2026, 9, 30, 23, 30),
    datetime(2026, 10, 9, 23, 0),
    datetime(2026, 10, 10, 6, 0),
    datetime(2026, 11, 2, 1, 0),
]
AS_OF = [
    "2026-10-01T06:00:00+00:00",
    "2026-10-10T00:30:00+00:00",
    "2026-10-10T07:00:00+00:00",
    "2026-11-02T02:00:00+00:00",
]
BEHIND_LOADER = {  # source -> (edited, deleted, inserted behind the loader)
    "upd-01": (1, 0, 0),
    "upd-02": (1, 0, 0),
    "del-01": (0, 1, 0),
    "del-02": (0, 1, 0),
    "ins-01": (0, 0, 1),
    "ins-02": (0, 0, 1),
}
TAMPERED = {*BEHIND_LOADER, "loader-edit-02"}
GOOD_OCTOBER = {"resent-02", "clean-02", "clean-01"}


@dataclass(frozen=True)
class Run:
    conninfo: str
    verify_clean: list[subprocess.CompletedProcess]
    verify_tampered: subprocess.CompletedProcess
    builds: list[subprocess.CompletedProcess]
    after_tamper_build: dict[str, tuple]  # asset -> (change_kind, tamper_detected)


def tamper(conn: psycopg.Connection) -> None:
    """Changes made in the warehouse behind the loader: the load time stays as it was."""
    conn.execute(
        "update tap_wazuh.wazuh_alerts set location = 'tampered' "
        "where id in ('oct.upd-01.1', 'oct.upd-02.1')"
    )
    conn.execute("delete from tap_wazuh.wazuh_alerts where id in ('oct.del-01.1', 'oct.del-02.1')")
    for agent in ("ins-01", "ins-02"):
        conn.execute(
            'insert into tap_wazuh.wazuh_alerts select %s, "timestamp", rule, agent, '
            "manager, data, decoder, 'forged', full_log, syscheck, _sdc_extracted_at, "
            "_sdc_received_at, _sdc_batched_at, _sdc_deleted_at, _sdc_sequence, "
            "_sdc_table_version from tap_wazuh.wazuh_alerts where id = %s",
            (f"oct.{agent}.forged", f"oct.{agent}.1"),
        )
    # an edit that looks like a loader upsert: the build reads it, in a day gaining new rows
    conn.execute(
        "update tap_wazuh.wazuh_alerts set location = 'tampered', _sdc_batched_at = %s "
        "where id = 'oct.loader-edit-02.1'",
        (LOADS[2],),
    )


@pytest.fixture(scope="module")
def run(admin_conninfo, tmp_path_factory) -> Run:
    with psycopg.connect(admin_conninfo, autocommit=True) as conn:
        conn.execute(sql.SQL("drop database if exists {} with (force)").format(sql.Identifier(DB)))
        conn.execute(sql.SQL("create database {}").format(sql.Identifier(DB)))
    conninfo = admin_conninfo.replace("dbname=postgres", f"dbname={DB}")
    with psycopg.connect(conninfo, autocommit=True) as conn:
        conn.execute(RAW_TABLES.read_text())
    pg_options = f"-c nis2.pseudonym_key={TEST_PSEUDONYM_KEY}"

    def dbt(as_of: str, *command: str) -> subprocess.CompletedProcess:
        work = tmp_path_factory.mktemp("dbt-integrity")
        args = [*command, "--vars", json.dumps({"as_of": as_of})]
        return subprocess.run(
            [str(dbt_executable()), *args, "--project-dir", str(TRANSFORM)],
            cwd=TRANSFORM, env=dbt_env(conninfo, work, pg_options, dbname=DB),
            capture_output=True, text=True, check=False, timeout=900,
        )  # fmt: skip

    def load(number: int, name: str) -> None:
        with psycopg.connect(conninfo, autocommit=True) as conn:
            upsert(conn, ALERTS, jsonl_from(name), LOADS[number])

    def build(number: int) -> subprocess.CompletedProcess:
        return dbt(AS_OF[number], "run", "--exclude", "tag:log_integrity_verification")

    def verify(number: int) -> subprocess.CompletedProcess:
        return dbt(AS_OF[number], "run-operation", "verify_logs")

    builds = []
    seed = dbt(AS_OF[0], "seed")
    assert seed.returncode == 0, seed.stdout[-3000:]
    load(0, "load1_sealed_on_time_and_late")
    builds.append(build(0))
    verify_clean = [verify(0)]
    load(1, "load2_scenario_day")
    builds.append(build(1))
    verify_clean.append(verify(1))
    with psycopg.connect(conninfo, autocommit=True) as conn:
        tamper(conn)
    load(2, "load3_new_rows_same_day")
    builds.append(build(2))
    with psycopg.connect(conninfo) as conn:
        after = {
            r[0]: r[1:]
            for r in conn.execute(
                "select asset_id, change_kind, tamper_detected "
                "from analytics_nis2.mart_nis2_log_retention_integrity "
                "where partition_date = '2026-10-09'"
            )
        }
    verify_tampered = verify(2)
    load(3, "load4_november")
    builds.append(build(3))
    yield Run(conninfo, verify_clean, verify_tampered, builds, after)
    with psycopg.connect(admin_conninfo, autocommit=True) as conn:
        conn.execute(sql.SQL("drop database if exists {} with (force)").format(sql.Identifier(DB)))


def jsonl_from(name: str) -> list[dict]:
    return [json.loads(line) for line in (FIXTURES / f"{name}.jsonl").read_text().splitlines()]


def mart(run: Run) -> dict[str, dict]:
    """The integrity mart after the last build, per source and day (asset:date)."""
    with psycopg.connect(run.conninfo) as conn:
        cur = conn.execute("select * from analytics_nis2.mart_nis2_log_retention_integrity")
        names = [c.name for c in cur.description]
        return {r[0]: dict(zip(names, r, strict=True)) for r in cur.fetchall()}


def test_every_build_succeeds(run):
    for result in run.builds:
        assert result.returncode == 0, result.stdout[-4000:]


def test_verification_passes_on_untouched_logs(run):
    for result in run.verify_clean:
        assert result.returncode == 0, result.stdout[-3000:]
        assert "source-days match their sealed digests" in result.stdout


def test_verification_fails_naming_each_tampered_source_day(run):
    result = run.verify_tampered
    output = result.stdout + result.stderr
    assert result.returncode != 0
    assert f"log verification failed for {len(TAMPERED)} of " in output, output[-3000:]
    for asset in TAMPERED:
        assert f"{asset} 2026-10-09:" in output, asset
    for asset, (edited, deleted, inserted) in BEHIND_LOADER.items():
        line = f"{asset} 2026-10-09: {edited} edited, {deleted} deleted, {inserted} inserted"
        assert line in output, line
    # a sealed row changed through the loader: nothing behind it, and the line says where to look
    line = "loader-edit-02 2026-10-09: 0 edited, 0 deleted, 0 inserted behind the loader"
    assert line in output, output[-3000:]
    assert "a sealed row was changed through the loader" in output.split(line, 1)[1].split("\n")[0]
    for asset in BEHIND_LOADER:
        assert (
            "changed through the loader"
            not in output.split(f"{asset} 2026-10-09:")[1].split("\n")[0]
        ), asset
    for asset in (*GOOD_OCTOBER, "ontime-01", "late-01"):
        assert f"{asset} 20" not in output, asset


def test_findings_are_recorded_per_source_day(run):
    with psycopg.connect(run.conninfo) as conn:
        rows = {
            r[0]: r[1:]
            for r in conn.execute(
                "select partition_id, result, rows_edited, rows_deleted, "
                "rows_inserted_behind_loader, first_failed_at is not null "
                "from analytics_util.log_verification_findings"
            )
        }
    for asset, counts in BEHIND_LOADER.items():
        assert rows[f"{asset}:2026-10-09"] == ("mismatch", *counts, True), asset
    assert rows["loader-edit-02:2026-10-09"][0] == "mismatch"
    for asset in GOOD_OCTOBER:
        assert rows[f"{asset}:2026-10-09"] == ("ok", 0, 0, 0, False), asset


def test_an_edit_in_a_day_gaining_rows_is_not_resealed(run):
    """The build itself: a sealed row changed in a day that also gains new rows is modified
    and tamper_detected, while a row re-sent unchanged with new rows is rows_added."""
    after = run.after_tamper_build
    assert after["loader-edit-02"] == ("modified", True)
    assert after["resent-02"] == ("rows_added", False)
    assert after["clean-02"] == ("rows_added", False)
    # edits that did not pass the loader are the verification's to find (and it does, above)
    assert after["upd-02"] == ("rows_added", False)
    assert after["clean-01"][1] is False


def test_integrity_mart_carries_the_findings(run):
    rows = mart(run)
    for asset in TAMPERED:
        row = rows[f"{asset}:2026-10-09"]
        assert row["tamper_detected"] is True, asset
        assert row["integrity_status"] == "tampered", asset
    for asset, (edited, deleted, inserted) in BEHIND_LOADER.items():
        row = rows[f"{asset}:2026-10-09"]
        found = (row["rows_edited"], row["rows_deleted"], row["rows_inserted_behind_loader"])
        assert found == (edited, deleted, inserted), asset
        assert row["verification_result"] == "mismatch"
    for asset in GOOD_OCTOBER:
        row = rows[f"{asset}:2026-10-09"]
        assert (row["tamper_detected"], row["integrity_status"]) == (False, "ok"), asset
        assert row["verification_result"] == "ok"


def test_seal_latency_is_judged_against_the_policy(run):
    rows = mart(run)
    late = rows["late-01:2026-08-05"]
    assert late["integrity_status"] == "sealed_late"
    assert late["sealed_within_lag"] is False
    assert late["seal_latency_hours"] > 48
    for day in ("2026-09-29", "2026-09-30"):
        on_time = rows[f"ontime-01:{day}"]
        assert on_time["sealed_within_lag"] is True
        assert on_time["integrity_status"] == "ok"
        assert on_time["last_verified_at"] >= on_time["last_sealed_at"]
    never = rows["nov-01:2026-11-01"]
    assert never["last_verified_at"] is None
    assert never["integrity_status"] == "never_verified"


def test_annex_3_2_5_status_per_month(run):
    with psycopg.connect(run.conninfo) as conn:
        status = dict(
            conn.execute(
                "select to_char(month, 'YYYY-MM'), status "
                "from analytics_nis2.mart_nis2_control_evidence_matrix where ref_id = '3.2.5'"
            ).fetchall()
        )
        metric = dict(
            conn.execute(
                "select to_char(month, 'YYYY-MM'), metric_value "
                "from analytics_intermediate.int_control_metrics_monthly "
                "where metric_code = 'log_integrity'"
            ).fetchall()
        )
    assert status == {
        "2026-08": "fail",  # sealed late
        "2026-09": "pass",  # sealed within the lag and verified since
        "2026-10": "fail",  # tampered
        "2026-11": "no_data",  # never verified
    }
    assert metric["2026-08"] == 1
    assert metric["2026-10"] == len(TAMPERED)
    assert metric["2026-11"] is None


def test_management_report_counts_the_tampered_days(run):
    with psycopg.connect(run.conninfo) as conn:
        found = dict(
            conn.execute(
                "select to_char(month, 'YYYY-MM'), tamper_detections "
                "from analytics_nis2.mart_nis2_management_monthly_report"
            ).fetchall()
        )
    assert found["2026-10"] == len(TAMPERED)
    assert found["2026-09"] == 0
