"""Kill the tap with SIGKILL mid-sync, run it again: nothing lost, bounded duplicates."""

from __future__ import annotations

import datetime as dt
import json
import os
import signal
import subprocess
import sys
from collections import Counter
from pathlib import Path

import pytest
from fake_didit_server import make_session, ts
from tap_didit.tap import TapDidit
from tap_runner import run_tap, select_only

T = dt.datetime(2026, 5, 1, 12, tzinfo=dt.UTC)
STREAMS = {"sessions", "session_reviews"}


def add_sessions(didit, start: int, count: int, at: dt.datetime) -> list[dict]:
    rows = [
        make_session(i, at + dt.timedelta(minutes=i - start)) for i in range(start, start + count)
    ]
    didit.sessions.extend(rows)
    for row in rows:
        sid = row["session_id"]
        didit.reviews[sid] = [{"uuid": f"rv-{sid}", "created_at": row["created_at"]}]
    return rows


def killed_run(
    config: dict, state: dict, tmp_path: Path, kill_after: int, streams: set[str] = STREAMS
) -> list[dict]:
    """Run the CLI, SIGKILL it after `kill_after` RECORD lines; return what it wrote."""
    config_file = tmp_path / "config.json"
    config_file.write_text(json.dumps(config))
    catalog_file = tmp_path / "catalog.json"
    catalog = select_only(TapDidit(config=config, parse_env_config=False), streams)
    catalog_file.write_text(json.dumps(catalog))
    state_file = tmp_path / "state.json"
    state_file.write_text(json.dumps(state))
    command = [sys.executable, "-m", "tap_didit", "--config", str(config_file)]
    command += ["--catalog", str(catalog_file), "--state", str(state_file)]
    process = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL)
    messages, records = [], 0
    assert process.stdout is not None
    for line in process.stdout:
        messages.append(json.loads(line))
        records += messages[-1]["type"] == "RECORD"
        if records >= kill_after:
            os.kill(process.pid, signal.SIGKILL)
            break
    process.wait(timeout=30)
    assert process.returncode == -signal.SIGKILL, "the tap finished before it could be killed"
    return messages


def last_state(messages: list[dict], fallback: dict) -> dict:
    states = [m["value"] for m in messages if m["type"] == "STATE"]
    return states[-1] if states else fallback


@pytest.mark.parametrize("kill_after", [1, 23, 61])
def test_sigkill_mid_sync_then_rerun_loses_nothing(didit, tmp_path, kill_after):
    ancient = add_sessions(didit, 0, 10, T - dt.timedelta(days=20))
    add_sessions(didit, 50, 20, T - dt.timedelta(days=10))  # inside the lookback of run 2
    config = didit.config(session_kinds=["user"], page_size=10, lookback_days=1)
    first = run_tap(config, STREAMS)
    state1 = first.final_state

    new = add_sessions(didit, 100, 40, T)
    # Paced, so the kill lands mid-walk rather than after a sub-second run.
    partial = killed_run({**config, "max_requests_per_minute": 3000}, state1, tmp_path, kill_after)
    resumed = run_tap(config, STREAMS, state=last_state(partial, state1))

    delivered = [m["record"] for m in partial if m["type"] == "RECORD"]
    delivered_sessions = [r for r in delivered if "session_number" in r]
    delivered_sessions += resumed.records("sessions")
    delivered_reviews = [r for r in delivered if "uuid" in r] + resumed.records("session_reviews")

    new_ids = {r["session_id"] for r in new}
    assert new_ids <= {r["session_id"] for r in delivered_sessions}
    assert {f"rv-{sid}" for sid in new_ids} <= {r["uuid"] for r in delivered_reviews}
    # Duplicates are bounded: no record is delivered more than twice over the two runs.
    assert max(Counter(r["session_id"] for r in delivered_sessions).values()) <= 2
    # Sessions older than the lookback window are not re-read.
    resumed_ids = {r["session_id"] for r in resumed.records("sessions")}
    assert not resumed_ids & {r["session_id"] for r in ancient}

    final = resumed.final_state["bookmarks"]["sessions"]
    assert "progress_markers" not in json.dumps(resumed.final_state)
    assert final["partitions"][0]["replication_key_value"] == ts(T + dt.timedelta(minutes=39))


def test_sigkill_against_the_simulator_then_rerun_loses_nothing(sim, tmp_path):
    streams = {"sessions", "session_decisions"}
    config = sim.config(session_kinds=["user"], page_size=10)
    state1 = run_tap(config, streams).final_state
    new_ids = set(
        sim.server.set_faults({"equal_timestamps": {"stream": "sessions", "count": 40}})[
            "equal_timestamps"
        ]
    )
    paced = {**config, "max_requests_per_minute": 3000}
    partial = killed_run(paced, state1, tmp_path, kill_after=25, streams=streams)
    resumed = run_tap(config, streams, state=last_state(partial, state1))

    delivered = [m for m in partial if m["type"] == "RECORD"] + [
        m for m in resumed.messages if m["type"] == "RECORD"
    ]
    by_stream = {
        name: {m["record"]["session_id"] for m in delivered if m["stream"] == name}
        for name in streams
    }
    assert new_ids <= by_stream["sessions"]
    assert new_ids <= by_stream["session_decisions"]
    final = json.dumps(resumed.final_state)
    assert "progress_markers" not in final
    newest = max(m["record"]["created_at"] for m in delivered if m["stream"] == "sessions")
    assert (
        resumed.final_state["bookmarks"]["sessions"]["partitions"][0]["replication_key_value"]
        == newest
    )
