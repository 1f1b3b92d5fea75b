"""Shared fixtures: one embedded Postgres and one real pipeline run per test session.

The pipeline tests run the same `nis2-pipeline demo` a user runs, into a separate runtime
folder (`var/test`) and port, so a developer's demo warehouse is never touched. The run is
done twice, the second time with the simulated clock one day later, to prove incrementality.
"""

from __future__ import annotations

import json
import os
import shutil
import sqlite3
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

import psycopg
import pytest

from nis2_settings import ROOT
from pipeline.meltano import meltano_bin
from pipeline.postgres import EmbeddedPostgres, ensure_database

TEST_VAR = Path(os.environ.get("NIS2_TEST_VAR_DIR", ROOT / "var" / "test")).resolve()
# Defaults below Linux's ephemeral port range (tests/pipeline/test_postgres.py checks it).
DEFAULT_TEST_PG_PORT = 25460
DEFAULT_TEST_SIM_PORT = 8766
TEST_PG_PORT = int(os.environ.get("NIS2_TEST_PG_PORT", str(DEFAULT_TEST_PG_PORT)))
TEST_SIM_PORT = int(os.environ.get("NIS2_TEST_SIM_PORT", str(DEFAULT_TEST_SIM_PORT)))
# A fixed simulated "now" keeps the run deterministic; the second run moves it one day on.
FIRST_END = datetime(2026, 10, 31, 23, 0, tzinfo=UTC)
SECOND_END = FIRST_END + timedelta(days=1)
TEST_DAYS = 120


@dataclass(frozen=True)
class PipelineRun:
    """What a test needs to check one real run of the pipeline."""

    conninfo: str
    var_dir: Path
    first_started: datetime
    second_started: datetime
    first_counts: dict[str, int]
    second_counts: dict[str, int]
    first_bookmarks: dict[str, object]
    first_output: str
    second_output: str

    @property
    def ground_truth(self) -> dict:
        return json.loads((self.var_dir / "org" / "ground_truth.json").read_text())


@pytest.fixture(scope="session")
def test_postgres() -> Iterator[EmbeddedPostgres]:
    """A real PostgreSQL server for the whole session, stopped at the end."""
    server = EmbeddedPostgres(TEST_VAR / "pg", TEST_PG_PORT)
    server.start()
    yield server
    server.stop()


@pytest.fixture(scope="session")
def admin_conninfo(test_postgres: EmbeddedPostgres) -> str:
    return f"host=127.0.0.1 port={test_postgres.port} user=postgres dbname=postgres"


def raw_counts(conninfo: str) -> dict[str, int]:
    from pipeline.warehouse import RAW_SCHEMAS, table_counts

    counts: dict[str, int] = {}
    for schema in RAW_SCHEMAS:
        counts.update(dict(table_counts(conninfo, schema)))
    return counts


def _demo(end: datetime, env: dict[str, str]) -> str:
    cmd = [
        sys.executable,
        "-m",
        "pipeline",
        "demo",
        "--days",
        str(TEST_DAYS),
        "--end",
        end.isoformat(),
    ]
    result = subprocess.run(cmd, cwd=ROOT, env=env, capture_output=True, text=True, check=False)
    output = result.stdout + result.stderr
    if result.returncode != 0:
        pytest.fail(f"pipeline demo failed (exit {result.returncode}):\n{output[-6000:]}")
    return output


@pytest.fixture(scope="session")
def pipeline_run(test_postgres: EmbeddedPostgres, admin_conninfo: str) -> PipelineRun:
    """Two real runs of the demo job (Meltano, taps, target-postgres, dbt) on a fresh warehouse."""
    for db in ("warehouse", "keycloak"):
        with psycopg.connect(admin_conninfo, autocommit=True) as conn:
            conn.execute(f'drop database if exists "{db}" with (force)')
        ensure_database(admin_conninfo, db)
    (TEST_VAR / "meltano.db").unlink(missing_ok=True)
    shutil.rmtree(TEST_VAR / "org", ignore_errors=True)
    shutil.rmtree(TEST_VAR / "wazuh-spool", ignore_errors=True)  # Wazuh's bookmark, as meltano.db
    env = {
        **os.environ,
        "NIS2_VAR_DIR": str(TEST_VAR),
        "NIS2_PG_PORT": str(TEST_PG_PORT),
        "DIDIT_SIM_PORT": str(TEST_SIM_PORT),
        "MELTANO_DATABASE_URI": f"sqlite:///{TEST_VAR / 'meltano.db'}",
        # the dashboards test starts its own Superset; the demo's would outlive the session
        "NIS2_DEMO_DASHBOARDS": "off",
    }
    conninfo = f"host=127.0.0.1 port={TEST_PG_PORT} user=postgres dbname=warehouse"
    first_started = datetime.now(UTC)
    first_output = _demo(FIRST_END, env)
    first_counts = raw_counts(conninfo)
    with psycopg.connect(conninfo) as conn:
        first_bookmarks = {
            "audit_logs": conn.execute(
                "select max(timestamp::timestamptz) from tap_didit.audit_logs"
            ).fetchone()[0],
            "event_time": conn.execute(
                "select max(event_time) from tap_keycloak.event_entity"
            ).fetchone()[0],
        }
    second_started = datetime.now(UTC)
    second_output = _demo(SECOND_END, env)
    return PipelineRun(
        conninfo=conninfo,
        var_dir=TEST_VAR,
        first_started=first_started,
        second_started=second_started,
        first_counts=first_counts,
        second_counts=raw_counts(conninfo),
        first_bookmarks=first_bookmarks,
        first_output=first_output,
        second_output=second_output,
    )


@pytest.fixture(scope="session")
def didit_world(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A month of a busy organisation (about 25k audit-log entries) for tap-level pipeline tests."""
    from simulator.world import generate_world

    out = tmp_path_factory.mktemp("didit-world")
    end = datetime(2026, 6, 30, 12, 0, tzinfo=UTC)
    generate_world(out, seed=11, days=30, api_calls_per_day=800, end=end)
    return out


@contextmanager
def running_simulator(world: Path, faults: dict | None = None) -> Iterator[str]:
    """The Didit API simulator serving `world` on a free port (rate limits off)."""
    from simulator.didit_api import start_server

    server = start_server(data_dir=world / "didit", port=0, rate_limit=False, faults=faults)
    try:
        yield server.base_url
    finally:
        server.stop()


def simulator_ids(world: Path, query: str, params: tuple = ()) -> list[str]:
    """Ids straight from the simulator's store: the source of truth for what Didit holds."""
    with sqlite3.connect(world / "didit" / "didit.sqlite") as db:
        return [row[0] for row in db.execute(query, params)]


def meltano_run(env: dict[str, str], *blocks: str) -> str:
    """`meltano run <blocks>` in the project; its output, or a failure showing the output's end."""
    result = subprocess.run(
        [str(meltano_bin()), "run", *blocks],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        check=False,
        timeout=600,
    )
    output = result.stdout + result.stderr
    assert result.returncode == 0, output[-3000:]
    return output


def tap_run_env(
    server: EmbeddedPostgres,
    admin_conninfo: str,
    world: Path,
    simulator_url: str,
    database: str | None,
    state_dir: Path,
) -> dict[str, str]:
    """Environment for `meltano run tap-didit <target>` against a simulator (fresh DB if any)."""
    from nis2_settings import PgSettings
    from pipeline import meltano

    if database:
        with psycopg.connect(admin_conninfo, autocommit=True) as conn:
            conn.execute(f'drop database if exists "{database}" with (force)')
        ensure_database(admin_conninfo, database)
    org = json.loads((world / "didit" / "organisation.json").read_text())
    pg = PgSettings(
        host="127.0.0.1",
        port=server.port,
        user="postgres",
        password="",
        warehouse_db=database or "postgres",
        keycloak_db="keycloak",
        embedded=True,
    )
    return meltano.pipeline_env(
        pg,
        state_dir,
        extra={
            "DIDIT_SIM_PORT": simulator_url.rsplit(":", 1)[1],
            "TAP_DIDIT_ORGANIZATION_ID": org["organization_id"],
            "TAP_DIDIT_APPLICATION_ID": org["application_id"],
            "MELTANO_DATABASE_URI": f"sqlite:///{state_dir / 'meltano.db'}",
        },
    )


@pytest.fixture(scope="session")
def warehouse_dsn(pipeline_run: PipelineRun) -> str:
    """A libpq conninfo to a warehouse in which the demo job has run (used by report tests)."""
    return pipeline_run.conninfo
