"""The README's production path, really run: `meltano --environment prod run nis2-daily` from a
plain shell (PATH without this repository's venv, no variable of the demo), every setting given
as the README's "Running in production" section names it, against the test server.

Didit is the simulator (the one part that cannot exist here), reached through the tap's
`base_url` settings; Keycloak, Wazuh and the register are the simulated organisation's files
and database that the session's demo run made. The plugins are those the demo run installed
with `meltano install` (pip_url of every plugin, the project's own utilities included).
"""

from __future__ import annotations

import json
import os
import subprocess
from collections.abc import Iterator
from pathlib import Path

import psycopg
import pytest

from nis2_settings import ROOT
from pipeline.demo import KEYCLOAK_READER, KEYCLOAK_READER_PASSWORD
from pipeline.meltano import meltano_bin
from pipeline.postgres import EmbeddedPostgres, ensure_database
from tests.conftest import PipelineRun

pytestmark = pytest.mark.integration

PROD_DB = "warehouse_prod"
PSEUDONYM_KEY = "production-path-test-key"
REPORT_PERIOD = "2026-10"  # the last full month of the session's simulated organisation


@pytest.fixture(scope="module")
def didit_simulator(pipeline_run: PipelineRun) -> Iterator[str]:
    from simulator.didit_api import start_server

    server = start_server(data_dir=pipeline_run.var_dir / "org" / "didit", rate_limit=False)
    try:
        yield server.base_url.rstrip("/")
    finally:
        server.stop()


def _origin(base_url: str) -> str:
    return base_url.split("/v3")[0]


def plain_shell_env(
    run: PipelineRun, test_postgres: EmbeddedPostgres, didit: str, work: Path
) -> dict[str, str]:
    """Only what a user's shell has (PATH, HOME, locale) plus the README's production settings."""
    org = run.var_dir / "org"
    meta = json.loads((org / "didit" / "organisation.json").read_text())
    port = str(test_postgres.port)
    return {
        "PATH": "/usr/local/bin:/usr/bin:/bin",
        "HOME": os.environ.get("HOME", "/root"),
        "LANG": "C.UTF-8",
        "MELTANO_ENVIRONMENT": "prod",
        "MELTANO_DATABASE_URI": f"sqlite:///{work / 'meltano.db'}",
        "MELTANO_SEND_ANONYMOUS_USAGE_STATS": "false",
        "MELTANO_DISABLE_TRACKING": "true",
        "MELTANO_CLI_DISABLE_VERSION_CHECK": "1",
        "DO_NOT_TRACK": "1",
        # Didit (the simulator stands in for https://verification.didit.me)
        "TAP_DIDIT_BASE_URL": f"{_origin(didit)}/v3",
        "TAP_DIDIT_CONSOLE_BASE_URL": f"{_origin(didit)}/v3",
        "TAP_DIDIT_AUTH_BASE_URL": f"{_origin(didit)}/auth/v2",
        "TAP_DIDIT_API_KEY": "sim-readonly-key-0001",
        "TAP_DIDIT_START_DATE": "2025-01-01T00:00:00Z",
        "TAP_DIDIT_CONSOLE_EMAIL": "compliance.officer@example.org",
        "TAP_DIDIT_CONSOLE_PASSWORD": "sim-console-password",
        "TAP_DIDIT_CONSOLE_TOTP_SECRET": "JBSWY3DPEHPK3PXP",
        "TAP_DIDIT_ORGANIZATION_ID": str(meta["organization_id"]),
        "TAP_DIDIT_APPLICATION_ID": str(meta["application_id"]),
        # Wazuh: the manager's live file and daily archives, a state folder of this run
        "WAZUH_SPOOL_SOURCES": json.dumps(
            [
                str(org / "wazuh" / "alerts" / "alerts.json"),
                str(org / "wazuh" / "alerts" / "*" / "*" / "ossec-alerts-*.json"),
            ]
        ),
        "WAZUH_SPOOL_STATE_DIR": str(work / "wazuh-spool"),
        "TAP_WAZUH_PATH": str(work / "wazuh-spool" / "spool" / "*.json"),
        # Keycloak: its database, read-only role
        "TAP_KEYCLOAK_HOST": "127.0.0.1",
        "TAP_KEYCLOAK_PORT": port,
        "TAP_KEYCLOAK_DATABASE": "keycloak",
        "TAP_KEYCLOAK_USER": KEYCLOAK_READER,
        "TAP_KEYCLOAK_PASSWORD": KEYCLOAK_READER_PASSWORD,
        # the incident register
        "TAP_INCIDENTS_FILES": json.dumps(
            [
                {
                    "path": str(org / "incidents" / "*.csv"),
                    "format": "csv",
                    "table_name": "incident_register",
                    "primary_keys": ["incident_id"],
                }
            ]
        ),
        # the warehouse
        "TARGET_POSTGRES_HOST": "127.0.0.1",
        "TARGET_POSTGRES_PORT": port,
        "TARGET_POSTGRES_DATABASE": PROD_DB,
        "TARGET_POSTGRES_USER": "postgres",
        "TARGET_POSTGRES_PASSWORD": "trusted-locally",
        "DBT_POSTGRES_HOST": "127.0.0.1",
        "DBT_POSTGRES_PORT": port,
        "DBT_POSTGRES_DBNAME": PROD_DB,
        "DBT_POSTGRES_USER": "postgres",
        "DBT_POSTGRES_PASSWORD": "trusted-locally",
        "DBT_POSTGRES_PG_OPTIONS": f"-c nis2.pseudonym_key={PSEUDONYM_KEY}",
        "DBT_POSTGRES_TARGET_PATH": str(work / "dbt" / "target"),
        "DBT_POSTGRES_LOG_PATH": str(work / "dbt" / "logs"),
        # the evidence pack
        "NIS2_PG_CONNINFO": f"host=127.0.0.1 port={port} user=postgres dbname={PROD_DB}",
        "NIS2_PSEUDONYM_KEY": PSEUDONYM_KEY,
        "NIS2_REPORT_PERIOD": REPORT_PERIOD,
        "NIS2_VAR_DIR": str(work / "var"),
    }


@pytest.fixture(scope="module")
def production_run(
    pipeline_run: PipelineRun,
    test_postgres: EmbeddedPostgres,
    admin_conninfo: str,
    didit_simulator: str,
    tmp_path_factory: pytest.TempPathFactory,
) -> tuple[subprocess.CompletedProcess, dict[str, str]]:
    with psycopg.connect(admin_conninfo, autocommit=True) as conn:
        conn.execute(f'drop database if exists "{PROD_DB}" with (force)')
    ensure_database(admin_conninfo, PROD_DB)
    work = tmp_path_factory.mktemp("prod")
    env = plain_shell_env(pipeline_run, test_postgres, didit_simulator, work)
    result = subprocess.run(
        [str(meltano_bin()), "run", "nis2-daily"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        check=False,
        timeout=1500,
    )
    return result, env


def test_the_plain_shell_cannot_see_the_project_venv() -> None:
    """The premise of the test: nothing of .venv/bin is on the plain shell's PATH."""
    env = {"PATH": "/usr/local/bin:/usr/bin:/bin"}
    for tool in ("nis2-report", "nis2-pipeline", "nis2-wazuh-spool", "dbt", "tap-didit"):
        found = subprocess.run(["sh", "-c", f"command -v {tool}"], env=env, capture_output=True)
        assert found.returncode != 0, f"{tool} is on the plain PATH"


def test_nis2_daily_runs_in_prod_from_a_plain_shell(production_run) -> None:
    result, env = production_run
    output = result.stdout + result.stderr
    assert result.returncode == 0, output[-6000:]
    conninfo = env["NIS2_PG_CONNINFO"]
    with psycopg.connect(conninfo) as conn:
        counts = {
            table: conn.execute(f"select count(*) from {table}").fetchone()[0]  # noqa: S608
            for table in (
                "tap_didit.audit_logs",
                "tap_wazuh.wazuh_alerts",
                "tap_keycloak.event_entity",
                "tap_incidents.incident_register",
                "analytics_nis2.mart_nis2_control_evidence_matrix",
            )
        }
    assert all(n > 0 for n in counts.values()), counts
    packs = list((Path(env["NIS2_VAR_DIR"]) / "report").glob(f"*{REPORT_PERIOD}*/manifest.json"))
    assert packs, "the evidence pack of the period was written where NIS2_VAR_DIR says"


def test_the_production_run_leaks_no_secret(production_run) -> None:
    result, env = production_run
    output = result.stdout + result.stderr
    for name in ("TAP_DIDIT_CONSOLE_PASSWORD", "TAP_KEYCLOAK_PASSWORD", "NIS2_PSEUDONYM_KEY"):
        assert env[name] not in output, f"{name}'s value appears in the job's output"
