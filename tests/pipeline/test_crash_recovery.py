"""Kill the whole `meltano run tap-didit target-postgres` with SIGKILL, run it again, lose nothing.

No peer tool proves this; we do: the simulator slows its answers so the kills land mid-sync,
the process group (Meltano, tap and target) is killed twice at chosen points, the job is
re-run to completion, and the warehouse must then hold exactly the records the simulator
holds, with no duplicates.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import time
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from pathlib import Path

import psycopg
import pytest

from nis2_settings import ROOT
from pipeline.meltano import meltano_bin
from pipeline.postgres import EmbeddedPostgres
from tests.conftest import running_simulator, simulator_ids, tap_run_env

pytestmark = pytest.mark.integration

DB = "crashtest"


@pytest.fixture(scope="module")
def simulator_url(didit_world: Path) -> Iterator[str]:
    # 15 ms per answer: a few hundred pages take seconds, so a kill lands mid-sync.
    with running_simulator(didit_world, {"latency": {"ms": 15, "probability": 1.0}}) as url:
        yield url


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
        [str(meltano_bin()), "run", *force, "tap-didit", "target-postgres"],
        cwd=ROOT,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
        start_new_session=True,
    )


def _batches_since(conninfo: str, since: datetime) -> int:
    """Rows of audit_logs committed by the target since `since` (0 before the table exists)."""
    with psycopg.connect(conninfo) as conn:
        if conn.execute("select to_regclass('tap_didit.audit_logs')").fetchone()[0] is None:
            return 0
        return conn.execute(
            "select count(*) from tap_didit.audit_logs where _sdc_batched_at >= %s", (since,)
        ).fetchone()[0]


def _kill_when(proc: subprocess.Popen, ready: Callable[[], bool], timeout: float = 300) -> None:
    """SIGKILL the whole process group once `ready()`; fail if the run ends or stalls first."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            pytest.fail(f"the run ended before the kill point:\n{proc.stderr.read()[-3000:]}")
        if ready():
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()
            return
        time.sleep(0.05)
    os.killpg(proc.pid, signal.SIGKILL)
    pytest.fail("the sync neither progressed nor ended in time")


def test_sigkill_mid_sync_then_rerun_loses_and_duplicates_nothing(
    run_env: dict[str, str], didit_world: Path
) -> None:
    conninfo = f"host=127.0.0.1 port={run_env['NIS2_PG_PORT']} user=postgres dbname={DB}"
    # Kill 1: right after the first batch is committed (data in, no state saved yet).
    started = datetime.now(UTC)
    _kill_when(_start(run_env), lambda: _batches_since(conninfo, started) > 0)
    # Kill 2: the re-run has committed a batch of its own (re-read rows upserted).
    restarted = datetime.now(UTC)
    second = _start(run_env, after_crash=True)
    _kill_when(second, lambda: _batches_since(conninfo, restarted) > 0)
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
            assert set(loaded) == set(simulator_ids(didit_world, source_query)), table
