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
from pathlib import Path

import psycopg
import pytest

from pipeline.postgres import EmbeddedPostgres
from pipeline.settings import ROOT
from tests.conftest import tap_run_env

pytestmark = pytest.mark.integration

DB = "crashtest"


@pytest.fixture(scope="module")
def simulator_url(didit_world: Path) -> Iterator[str]:
    from simulator.didit_api import start_server

    # 15 ms per answer: a few hundred pages take seconds, so a kill lands mid-sync.
    faults = {"latency": {"ms": 15, "probability": 1.0}}
    server = start_server(data_dir=didit_world / "didit", port=0, rate_limit=False, faults=faults)
    yield server.base_url
    server.stop()


@pytest.fixture
def run_env(
    test_postgres: EmbeddedPostgres,
    admin_conninfo: str,
    didit_world: Path,
    simulator_url: str,
    tmp_path: Path,
) -> dict[str, str]:
    env = tap_run_env(test_postgres, admin_conninfo, didit_world, simulator_url, DB, tmp_path)
    env["TARGET_POSTGRES_BATCH_SIZE_ROWS"] = "3000"
    # The two big newest-first streams; their children only add minutes here.
    env["TAP_DIDIT__SELECT"] = json.dumps(["audit_logs.*", "sessions.*"])
    return env


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
    run_env: dict[str, str], didit_world: Path
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
            assert set(loaded) == _source_ids(didit_world, source_query), table
