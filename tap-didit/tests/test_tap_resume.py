"""Kill the tap with SIGKILL mid-sync, re-run it from its last STATE: nothing is lost.

Against the Didit simulator. The previous run's sync start is frozen two weeks back, and
`lookback_days=0` with no children sweep, so the bookmark alone decides what the next run
reads: the new sessions span many days and pages, plus more sessions tied on the bookmark's
timestamp than fit on a page. Only records the killed run emitted *before its last STATE*
count as delivered (a target commits no further than that), and the test kills only after a
STATE was written. A bookmark that advanced before its walk completed loses records here.
"""

from __future__ import annotations

import datetime as dt
import itertools
import json
import os
import signal
import subprocess
import sys
from collections import Counter
from collections.abc import Callable
from pathlib import Path

import pytest
from tap_didit.tap import TapDidit
from tap_didit.timestamps import parse_timestamp
from tap_runner import run_tap, select_only

STREAMS = {"sessions", "session_reviews", "session_decisions"}
#: The long user walk comes second, so every kill point lands well before the end.
KINDS = ("business", "user")
#: A walk of this many sessions (page size 5) spans many pages and days.
NEW_USER_SESSIONS = 25
TIED = 12
KillPoint = Callable[[list[dict]], bool]


def _states(messages: list[dict]) -> int:
    return sum(m["type"] == "STATE" for m in messages)


def _records(messages: list[dict]) -> int:
    return sum(m["type"] == "RECORD" for m in messages)


def _is_session(message: dict, kind: str) -> bool:
    return (
        message["type"] == "RECORD"
        and message["stream"] == "sessions"
        and message["record"]["session_kind"] == kind
    )


def _state_after_first(messages: list[dict], kind: str) -> bool:
    """A STATE was written after the walk emitted its first session of `kind`."""
    first = next((i for i, m in enumerate(messages) if _is_session(m, kind)), None)
    return first is not None and any(m["type"] == "STATE" for m in messages[first:])


KILL_POINTS: dict[str, KillPoint] = {
    # Early in the first walk (business): the first record after a STATE written mid-walk.
    "early": lambda m: m[-1]["type"] == "RECORD" and _state_after_first(m, "business"),
    # The business walk completed (its bookmark may advance); the user walk just began.
    "next_partition": lambda m: _is_session(m[-1], "user"),
    # Deep inside the user walk, mid-children, after a STATE written during it.
    "mid_walk": lambda m: _records(m) >= 70 and _state_after_first(m, "user"),
}


def killed_run(
    config: dict, state: dict, tmp_path: Path, kill_when: KillPoint
) -> tuple[list[dict], bool]:
    """Run the CLI and SIGKILL it once `kill_when(messages so far)` holds.

    Returns the messages read and whether the kill happened before the tap finished.
    """
    files = {
        "config": config,
        "catalog": select_only(TapDidit(config=config, parse_env_config=False), STREAMS),
        "state": state,
    }
    command = [sys.executable, "-m", "tap_didit"]
    for name, content in files.items():
        path = tmp_path / f"{name}.json"
        path.write_text(json.dumps(content))
        command += [f"--{name}", str(path)]
    process = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL)
    assert process.stdout is not None
    messages: list[dict] = []
    killed = False
    for line in process.stdout:
        messages.append(json.loads(line))
        if kill_when(messages):
            os.kill(process.pid, signal.SIGKILL)
            killed = True
            break
    process.wait(timeout=60)
    return messages, killed and process.returncode == -signal.SIGKILL


def committed(messages: list[dict]) -> tuple[list[dict], dict]:
    """RECORD messages before the last STATE, and that STATE (what a target keeps)."""
    last = max(i for i, m in enumerate(messages) if m["type"] == "STATE")
    return [m for m in messages[:last] if m["type"] == "RECORD"], messages[last]["value"]


def bookmarks(state: dict) -> dict[str, str]:
    """Bookmark per session kind."""
    return {
        p["context"]["session_kind"]: p["replication_key_value"]
        for p in state["bookmarks"]["sessions"]["partitions"]
        if "replication_key_value" in p
    }


@pytest.mark.parametrize("kill_point", list(KILL_POINTS))
def test_sigkill_mid_sync_then_rerun_from_the_last_state_loses_nothing(sim, tmp_path, kill_point):
    config = sim.config(
        session_kinds=list(KINDS), page_size=5, lookback_days=0, children_full_sweep_days=0
    )
    users = sorted(
        (
            s["created_at"]
            for s in run_tap(config, {"sessions"}).records("sessions")
            if s["session_kind"] == "user"
        ),
        reverse=True,
    )
    # The previous run: its sync started when the 26th-newest user session was created.
    previous_start = parse_timestamp(users[NEW_USER_SESSIONS])
    state1 = run_tap(config, STREAMS, started_at=previous_start).final_state
    bookmark1 = bookmarks(state1)
    assert bookmark1["user"] == users[NEW_USER_SESSIONS]
    tied = sim.server.set_faults(
        {"equal_timestamps": {"stream": "sessions", "count": TIED, "timestamp": bookmark1["user"]}}
    )["equal_timestamps"]

    paced = {**config, "max_requests_per_minute": 3000}  # so the kill lands mid-sync
    partial, killed = killed_run(paced, state1, tmp_path, KILL_POINTS[kill_point])
    assert killed, "the tap finished before it could be killed"
    before_state, resume_from = committed(partial)
    assert any(_state_after_first(partial, kind) for kind in KINDS), "no STATE mid-walk"
    # The walk in progress keeps its old bookmark, not its running maximum.
    walking = next(
        m for m in reversed(partial) if _is_session(m, "user") or _is_session(m, "business")
    )
    kind = walking["record"]["session_kind"]
    assert bookmarks(resume_from)[kind] == bookmark1[kind]
    resumed = run_tap(config, STREAMS, state=resume_from)

    reference = run_tap(config, STREAMS)  # everything the simulator holds now
    new = {
        s["session_id"]
        for s in reference.records("sessions")
        if s["created_at"] >= bookmark1[s["session_kind"]]
    }
    assert set(tied) <= new
    assert len(new) >= NEW_USER_SESSIONS + TIED
    delivered = before_state + [m for m in resumed.messages if m["type"] == "RECORD"]

    def keys(stream: str, key: str) -> Counter:
        return Counter(m["record"][key] for m in delivered if m["stream"] == stream)

    for stream, key in (
        ("sessions", "session_id"),
        ("session_decisions", "session_id"),
        ("session_reviews", "uuid"),
    ):
        expected = {r[key] for r in reference.records(stream) if r["session_id"] in new}
        got = keys(stream, key)
        assert expected <= set(got), f"{stream}: {len(expected - set(got))} lost"
        assert max(got.values()) <= 2, f"{stream}: a record was delivered more than twice"

    # With no lookback, the resumed run reads nothing older than the bookmark it started from.
    floors = bookmarks(resume_from)
    older = [r for r in resumed.records("sessions") if r["created_at"] < floors[r["session_kind"]]]
    assert older == [], (floors, [(r["session_kind"], r["created_at"]) for r in older][:5])
    assert "progress_markers" not in json.dumps(resumed.final_state)
    newest = {
        kind: max(
            r["created_at"] for r in reference.records("sessions") if r["session_kind"] == kind
        )
        for kind in KINDS
    }
    assert bookmarks(resumed.final_state) == newest


def test_the_bookmark_never_passes_the_sync_start(sim):
    config = sim.config(session_kinds=["user"], page_size=5)
    stamps = sorted(r["created_at"] for r in run_tap(config, {"sessions"}).records("sessions"))
    # Started a microsecond after a session that has later ones on the same day.
    same_day = next(s for s, later in itertools.pairwise(stamps) if later[:10] == s[:10])
    started = parse_timestamp(same_day) + dt.timedelta(microseconds=1)
    run = run_tap(config, {"sessions"}, started_at=started)
    emitted = [r["created_at"] for r in run.records("sessions")]
    assert max(emitted) > same_day  # Didit's day filter returned later rows of that day
    assert bookmarks(run.final_state) == {"user": started.strftime("%Y-%m-%dT%H:%M:%S.%fZ")}
