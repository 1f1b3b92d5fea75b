"""One job at a time on a warehouse (pipeline/job_lease.py): a second job waits, then fails
naming the holder; a job that died without releasing is taken over; the demo's real
`meltano run` jobs take and give back the lease."""

from __future__ import annotations

import re
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import psycopg
import pytest

from pipeline.job_lease import LeaseBusyError, acquire, process_start, release
from pipeline.postgres import ensure_database

DB = "lease_test"


@pytest.fixture
def conninfo(admin_conninfo: str) -> Iterator[str]:
    with psycopg.connect(admin_conninfo, autocommit=True) as conn:
        conn.execute(f'drop database if exists "{DB}" with (force)')
    ensure_database(admin_conninfo, DB)
    yield admin_conninfo.replace("dbname=postgres", f"dbname={DB}")
    with psycopg.connect(admin_conninfo, autocommit=True) as conn:
        conn.execute(f'drop database if exists "{DB}" with (force)')


@pytest.fixture
def live_process() -> Iterator[subprocess.Popen]:
    """A process standing in for a `meltano run` that is still running."""
    proc = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(600)"])
    yield proc
    proc.kill()
    proc.wait()


def holder(conninfo: str) -> tuple:
    with psycopg.connect(conninfo) as conn:
        return conn.execute(
            "select job, holder_pid from nis2_ops.job_lease where lease = 'pipeline'"
        ).fetchone()


def test_a_second_job_fails_naming_the_one_that_holds_the_lease(conninfo, live_process):
    assert acquire(conninfo, "nis2-daily", live_process.pid, 0, 6) is None
    with pytest.raises(LeaseBusyError) as refused:
        acquire(conninfo, "nis2-monitor", live_process.pid + 1, 0, 1, poll_seconds=0.1)
    message = str(refused.value)
    assert message.startswith("nis2-monitor did not start: nis2-daily (meltano process ")
    assert str(live_process.pid) in message
    assert holder(conninfo) == ("nis2-daily", live_process.pid)


def test_release_frees_the_lease_only_for_its_holder(conninfo, live_process):
    acquire(conninfo, "nis2-daily", live_process.pid, 0, 6)
    assert release(conninfo, live_process.pid + 1) is None  # not the holder: nothing changes
    assert holder(conninfo) == ("nis2-daily", live_process.pid)
    assert release(conninfo, live_process.pid) == "nis2-daily"
    assert holder(conninfo) == (None, None)
    assert acquire(conninfo, "nis2-monitor", live_process.pid, 0, 1) is None


def test_a_waiting_job_starts_once_the_holder_releases(conninfo, live_process):
    acquire(conninfo, "nis2-daily", live_process.pid, 0, 6)
    waiting = {}

    def wait_for_it() -> None:
        waiting["note"] = acquire(conninfo, "nis2-monitor", 1, 120, 1, poll_seconds=0.1)

    thread = threading.Thread(target=wait_for_it)
    thread.start()
    time.sleep(0.5)  # the waiter polls meanwhile; the outcome does not depend on this pause
    assert holder(conninfo) == ("nis2-daily", live_process.pid)
    release(conninfo, live_process.pid)
    thread.join(timeout=120)
    assert waiting == {"note": None}
    assert holder(conninfo) == ("nis2-monitor", 1)


def test_the_lease_of_a_job_that_died_is_taken_over(conninfo):
    dead = subprocess.Popen([sys.executable, "-c", "pass"])
    acquire(conninfo, "nis2-daily", dead.pid, 0, 6)
    dead.wait()
    assert process_start(dead.pid) is None
    note = acquire(conninfo, "nis2-monitor", 1, 0, 1)
    assert note is not None
    assert note.startswith("took over the lease left by nis2-daily (meltano process ")
    assert note.endswith("ended without releasing it")
    assert holder(conninfo) == ("nis2-monitor", 1)


def test_an_expired_lease_is_taken_over_even_if_its_process_still_runs(conninfo, live_process):
    acquire(conninfo, "nis2-daily", live_process.pid, 0, 0)  # expires at once
    note = acquire(conninfo, "nis2-monitor", 1, 0, 1)
    assert note is not None
    assert "nis2-daily" in note
    assert holder(conninfo) == ("nis2-monitor", 1)


@pytest.mark.integration
def test_the_demo_jobs_took_and_gave_back_the_lease(pipeline_run):
    """The real `meltano run nis2-daily` and `nis2-verify-logs` of the session's two demo runs
    (their full logs, named in the demo's output): the lease the first task took was released
    by the last task, so both tasks saw the same `meltano run` process as their parent."""
    daily_logs = [
        Path(found)
        for output in (pipeline_run.first_output, pipeline_run.second_output)
        for found in re.findall(r"\(log: (\S+\.log)\)", output)
    ]
    assert len(daily_logs) == 2, "each demo names the log of its nis2-daily run"
    for daily in daily_logs:
        verify = daily.with_name(f"{daily.stem}-verify-logs.log")
        for job, path in (("nis2-daily", daily), ("nis2-verify-logs", verify)):
            text = path.read_text()
            assert f"lease: {job} holds the pipeline lease" in text, path.name
            assert f"lease: {job} released the pipeline lease" in text, path.name
            assert "took over the lease" not in text, path.name
