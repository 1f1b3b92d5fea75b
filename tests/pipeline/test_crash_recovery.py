"""Kill the whole `meltano run tap-didit target-postgres` with SIGKILL, run it again, lose nothing.

No peer tool proves this; we do: the simulator slows its answers so the kill lands mid-sync,
the process group (Meltano, tap and target) is killed, the job is re-run to completion, and the
warehouse must then hold exactly the records the simulator holds, with no duplicates.
"""

from __future__ import annotations

import json
import os
import random
import signal
import sqlite3
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from pathlib import Path

import psycopg
import pytest

from pipeline import meltano
from pipeline.postgres import EmbeddedPostgres, ensure_database
from pipeline.settings import ROOT, PgSettings

pytestmark = pytest.mark.integration

WORLD_END = datetime(2026, 6, 30, 12, 0, tzinfo=UTC)
DB = "crashtest"


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> Path:
    from simulator.world import generate_world

    out = tmp_path_factory.mktemp("crash-org")
    generate_world(out, seed=11, days=30, api_calls_per_day=1000, end=WORLD_END)
    return out


@pytest.fixture(scope="module")
def simulator_url(world: Path) -> Iterator[str]:
    from simulator.didit_api import start_server

    # 15 ms per answer: a few hundred pages take seconds, so a kill lands mid-sync.
    faults = {"latency": {"ms": 15, "probability": 1.0}}
    server = start_server(data_dir=world / "didit", port=0, rate_limit=False, faults=faults)
    yield server.base_url
    server.stop()


@pytest.fixture
def run_env(
    test_postgres: EmbeddedPostgres,
    admin_conninfo: str,
    world: Path,
    simulator_url: str,
    tmp_path: Path,
) -> dict[str, str]:
    with psycopg.connect(admin_conninfo, autocommit=True) as conn:
        conn.execute(f'drop database if exists "{DB}" with (force)')
    ensure_database(admin_conninfo, DB)
    org = json.loads((world / "didit" / "organisation.json").read_text())
    pg = PgSettings(
        host="127.0.0.1",
        port=test_postgres.port,
        user="postgres",
        password="",
        warehouse_db=DB,
        keycloak_db="keycloak",
        embedded=True,
    )
    port = simulator_url.rsplit(":", 1)[1]
    return meltano.pipeline_env(
        pg,
        tmp_path,
        extra={
            "DIDIT_SIM_PORT": port,
            "TAP_DIDIT_ORGANIZATION_ID": org["organization_id"],
            "TAP_DIDIT_APPLICATION_ID": org["application_id"],
            "TARGET_POSTGRES_BATCH_SIZE_ROWS": "3000",
            # The two big newest-first streams; their children only add minutes here.
            "TAP_DIDIT__SELECT": json.dumps(["audit_logs.*", "sessions.*"]),
            "MELTANO_DATABASE_URI": f"sqlite:///{tmp_path / 'meltano.db'}",
        },
    )


def _start(env: dict[str, str], *, after_crash: bool = False) -> subprocess.Popen:
    # After a SIGKILL, Meltano still sees the old run as "running" until its heartbeat goes
    # stale (5 minutes); --force is what an operator uses to re-run at once.
    force = ["--force"] if after_crash else []
    return subprocess.Popen(
        [
            str(Path(sys.executable).parent / "meltano"),
            "run",
            *force,
            "tap-didit",
            "target-postgres",
        ],
        cwd=ROOT,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
        start_new_session=True,
    )


def _loaded(conninfo: str, table: str) -> int:
    with psycopg.connect(conninfo) as conn:
        exists = conn.execute("select to_regclass(%s)", (f"tap_didit.{table}",)).fetchone()[0]
        if exists is None:
            return 0
        return conn.execute(f"select count(*) from tap_didit.{table}").fetchone()[0]  # noqa: S608


def _kill_when(proc: subprocess.Popen, ready: Callable[[], bool], timeout: float = 300) -> bool:
    """SIGKILL the whole process group once `ready()`; False if the run ended first."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            assert proc.returncode == 0, proc.stderr.read()[-3000:]
            return False
        if ready():
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()
            return True
        time.sleep(0.05)
    os.killpg(proc.pid, signal.SIGKILL)
    pytest.fail("the sync neither progressed nor ended in time")


def _source_ids(world: Path, query: str) -> set[str]:
    with sqlite3.connect(world / "didit" / "didit.sqlite") as db:
        return {row[0] for row in db.execute(query)}


def test_sigkill_mid_sync_then_rerun_loses_and_duplicates_nothing(
    run_env: dict[str, str], world: Path
) -> None:
    conninfo = f"host=127.0.0.1 port={run_env['NIS2_PG_PORT']} user=postgres dbname={DB}"
    rng = random.Random(int(time.time()))  # the moment varies per run; the outcome must not
    # 1st kill: as soon as the first batch is committed (data in, state not yet saved).
    first = _start(run_env)
    assert _kill_when(first, lambda: _loaded(conninfo, "audit_logs") > 0)
    # 2nd kill: at a random moment of the re-run.
    delay = rng.uniform(1.0, 6.0)
    second = _start(run_env, after_crash=True)
    started = time.monotonic()
    _kill_when(second, lambda: time.monotonic() - started > delay)
    # Then a run to completion.
    final = _start(run_env, after_crash=True)
    _, stderr = final.communicate(timeout=600)
    assert final.returncode == 0, stderr[-3000:]

    with psycopg.connect(conninfo) as conn:
        for table, key, source_query in (
            ("audit_logs", "uuid", "select uuid from audit_log"),
            ("sessions", "session_id", "select session_id from sessions where deleted = 0"),
        ):
            loaded = [r[0] for r in conn.execute(f"select {key} from tap_didit.{table}")]  # noqa: S608
            assert len(loaded) == len(set(loaded)), f"duplicates in {table}"
            assert set(loaded) == _source_ids(world, source_query), table
