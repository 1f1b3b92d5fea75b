"""The off-the-shelf taps for Wazuh and the incident register, really run through Meltano.

A bad Wazuh line is named (file and line) while every valid alert still lands, and a second
run reads only Wazuh's new alert lines (through the spool). A bad register row stops the
register's load, named; a good register is read in full on every run, whatever its mtime.
"""

from __future__ import annotations

import csv
import json
import os
import shutil
import subprocess
from pathlib import Path

import psycopg
import pytest

from nis2_settings import ROOT, PgSettings
from pipeline.meltano import meltano_bin, pipeline_env
from pipeline.postgres import EmbeddedPostgres, ensure_database
from tests.conftest import meltano_run

pytestmark = pytest.mark.integration

DB = "sources"


WAZUH_JOB = ("wazuh-spool:prepare", "tap-wazuh", "target-postgres", "wazuh-spool:commit")
PERSONAL = "jane.doe@example.org"


@pytest.fixture
def sources(didit_world: Path, tmp_path: Path) -> dict[str, Path]:
    """A copy of the world's Wazuh files and register, so the test can damage and extend it.

    The Wazuh folder sits where the demo environment's wazuh-spool looks (NIS2_VAR_DIR/org).
    """
    shutil.copytree(didit_world / "wazuh", tmp_path / "org" / "wazuh")
    wazuh = tmp_path / "org" / "wazuh" / "alerts" / "alerts.json"
    register = tmp_path / "incidents" / "incident_register.csv"
    register.parent.mkdir()
    shutil.copy(didit_world / "incidents" / "incident_register.csv", register)
    return {"wazuh": wazuh, "register": register}


@pytest.fixture
def env(
    test_postgres: EmbeddedPostgres,
    admin_conninfo: str,
    sources: dict[str, Path],
    tmp_path: Path,
) -> dict[str, str]:
    with psycopg.connect(admin_conninfo, autocommit=True) as conn:
        conn.execute(f'drop database if exists "{DB}" with (force)')
    ensure_database(admin_conninfo, DB)
    pg = PgSettings("127.0.0.1", test_postgres.port, "postgres", "", DB, "keycloak", True)
    register_glob = str(sources["register"].parent / "*.csv")
    files = [
        {
            "path": register_glob,
            "format": "csv",
            "table_name": "incident_register",
            "primary_keys": ["incident_id"],
            "sample_rows": 1000,
        }
    ]
    return pipeline_env(
        pg,
        tmp_path,
        extra={
            "MELTANO_DATABASE_URI": f"sqlite:///{tmp_path / 'meltano.db'}",
            "TAP_INCIDENTS_FILES": json.dumps(files),
        },
    )


def _count(env: dict[str, str], table: str, since: str | None = None) -> int:
    conninfo = f"host=127.0.0.1 port={env['NIS2_PG_PORT']} user=postgres dbname={DB}"
    where = "where _sdc_batched_at > %s" if since else ""
    with psycopg.connect(conninfo) as conn:
        query = f"select count(*) from {table} {where}"  # noqa: S608 - fixed table names
        return conn.execute(query, (since,) if since else ()).fetchone()[0]


def _exists(env: dict[str, str], table: str) -> bool:
    conninfo = f"host=127.0.0.1 port={env['NIS2_PG_PORT']} user=postgres dbname={DB}"
    with psycopg.connect(conninfo) as conn:
        return conn.execute("select to_regclass(%s) is not null", (table,)).fetchone()[0]


def _now(env: dict[str, str]) -> str:
    conninfo = f"host=127.0.0.1 port={env['NIS2_PG_PORT']} user=postgres dbname={DB}"
    with psycopg.connect(conninfo) as conn:
        return conn.execute("select now()::text").fetchone()[0]


def _all_alert_lines(live: Path) -> int:
    return sum(len(p.read_bytes().splitlines()) for p in live.parent.rglob("*.json"))


def test_malformed_wazuh_line_is_named_and_valid_alerts_load(
    env: dict[str, str], sources: dict[str, Path]
) -> None:
    live = sources["wazuh"]
    lines = live.read_bytes().splitlines()
    lines.insert(3, f'{{"id": "broken", "data": {{"srcuser": "{PERSONAL}", '.encode())
    live.write_bytes(b"\n".join(lines) + b"\n")

    output = meltano_run(env, *WAZUH_JOB)

    assert f"{live}:4: JSON cut short (the line ends inside the alert); line left out" in output
    assert PERSONAL not in output
    assert _count(env, "tap_wazuh.wazuh_alerts") == _all_alert_lines(live) - 1


def test_wazuh_reruns_read_only_new_lines_and_a_load_never_committed_loses_nothing(
    env: dict[str, str], sources: dict[str, Path]
) -> None:
    live = sources["wazuh"]
    lines = live.read_bytes().splitlines(keepends=True)
    assert len(lines) > 20, "the world's live file holds half a day of alerts"
    live.write_bytes(b"".join(lines[:-20]))
    total = _all_alert_lines(live) + 20
    # A job that dies after the load, before wazuh-spool:commit.
    meltano_run(env, *WAZUH_JOB[:-1])
    with live.open("ab") as handle:
        handle.write(b"".join(lines[-20:-10]))
    meltano_run(env, *WAZUH_JOB)  # re-spools the uncommitted batch plus the 10 new lines
    assert _count(env, "tap_wazuh.wazuh_alerts") == total - 10
    with live.open("ab") as handle:
        handle.write(b"".join(lines[-10:]))
    before_third = _now(env)
    meltano_run(env, *WAZUH_JOB)
    assert _count(env, "tap_wazuh.wazuh_alerts", since=before_third) == 10, "only new lines"
    assert _count(env, "tap_wazuh.wazuh_alerts") == total
    conninfo = f"host=127.0.0.1 port={env['NIS2_PG_PORT']} user=postgres dbname={DB}"
    with psycopg.connect(conninfo) as conn:
        distinct = conn.execute("select count(distinct id) from tap_wazuh.wazuh_alerts")
        assert distinct.fetchone()[0] == total


def _write_register(register: Path, rows: list[dict]) -> None:
    with register.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.DictWriter(handle, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)


def test_bad_register_row_stops_the_load_named_and_a_corrected_one_loads_every_row(
    env: dict[str, str], sources: dict[str, Path]
) -> None:
    register = sources["register"]
    with register.open(newline="", encoding="utf-8") as handle:
        rows = list(csv.DictReader(handle))
    good_aware_at = rows[1]["aware_at"]
    rows[1]["aware_at"] = "last Tuesday"
    _write_register(register, rows)

    failed = subprocess.run(
        [str(meltano_bin()), "run", "tap-incidents", "target-postgres"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        check=False,
        timeout=600,
    )
    output = failed.stdout + failed.stderr
    assert failed.returncode != 0
    assert f"{register}:3: aware_at: is not an ISO 8601 timestamp" in output
    assert "last Tuesday" not in output
    assert _exists(env, "tap_incidents.incident_register") is False

    rows[1]["aware_at"] = good_aware_at
    _write_register(register, rows)
    meltano_run(env, "tap-incidents", "target-postgres")
    assert _count(env, "tap_incidents.incident_register") == len(rows)


def test_register_is_read_in_full_on_every_run_even_restored_with_an_older_mtime(
    env: dict[str, str], sources: dict[str, Path]
) -> None:
    register = sources["register"]
    original = register.read_bytes()
    with register.open(newline="", encoding="utf-8") as handle:
        rows = len(list(csv.DictReader(handle)))
    meltano_run(env, "tap-incidents", "target-postgres")
    before_second = _now(env)
    meltano_run(env, "tap-incidents", "target-postgres")
    assert _count(env, "tap_incidents.incident_register", since=before_second) == rows
    # A backup restored over the register keeps the backup's (older) modification time.
    register.write_bytes(original)
    os.utime(register, (1_700_000_000, 1_700_000_000))
    before_third = _now(env)
    meltano_run(env, "tap-incidents", "target-postgres")
    assert _count(env, "tap_incidents.incident_register", since=before_third) == rows
    assert _count(env, "tap_incidents.incident_register") == rows
