"""The off-the-shelf taps for Wazuh and the incident register, really run through Meltano.

Bad input is named (file and line) while every valid row still lands, and a second run reads
only what changed: only Wazuh's new alert lines (through the spool), an unchanged register not.
"""

from __future__ import annotations

import csv
import json
import shutil
from pathlib import Path

import psycopg
import pytest

from nis2_settings import PgSettings
from pipeline.meltano import pipeline_env
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
            "NIS2_CHECKS_INCIDENT_REGISTER_GLOB": register_glob,
            "TAP_INCIDENTS_FILES": json.dumps(files),
        },
    )


def _count(env: dict[str, str], table: str, since: str | None = None) -> int:
    conninfo = f"host=127.0.0.1 port={env['NIS2_PG_PORT']} user=postgres dbname={DB}"
    where = "where _sdc_batched_at > %s" if since else ""
    with psycopg.connect(conninfo) as conn:
        query = f"select count(*) from {table} {where}"  # noqa: S608 - fixed table names
        return conn.execute(query, (since,) if since else ()).fetchone()[0]


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

    assert f"{live}:4: not valid JSON" in output
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


def test_bad_register_row_is_named_and_every_row_still_loads(
    env: dict[str, str], sources: dict[str, Path]
) -> None:
    register = sources["register"]
    with register.open(newline="", encoding="utf-8") as handle:
        rows = list(csv.DictReader(handle))
    rows[1]["aware_at"] = "last Tuesday"
    with register.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.DictWriter(handle, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)

    output = meltano_run(env, "nis2-checks:incident-register", "tap-incidents", "target-postgres")

    assert f"{register}:3: aware_at: is not an ISO 8601 timestamp" in output
    assert _count(env, "tap_incidents.incident_register") == len(rows)


def test_unchanged_register_is_not_read_again(env: dict[str, str]) -> None:
    meltano_run(env, "tap-incidents", "target-postgres")
    before_second = _now(env)
    meltano_run(env, "tap-incidents", "target-postgres")
    assert _count(env, "tap_incidents.incident_register", since=before_second) == 0
