"""Incremental walks over Didit's newest-first sessions, against the simulator.

Ties wider than a page, rows inserted while paging, lookback, the final state, the children
budget and the KYB day filter. Runs whose day filter matters freeze the sync start.
"""

from __future__ import annotations

import datetime as dt
from collections import Counter

from tap_didit.timestamps import format_timestamp, parse_timestamp
from tap_runner import run_tap

USER_SESSIONS = {"session_kinds": ["user"], "page_size": 10}


def bookmark(state: dict) -> str:
    return state["bookmarks"]["sessions"]["partitions"][0]["replication_key_value"]


def session_requests(sent) -> list:
    return [r for r in sent if r.path == "/v3/sessions/"]


def test_ties_wider_than_a_page_at_the_bookmark_are_all_read(sim):
    first = run_tap(sim.config(**USER_SESSIONS), {"sessions"})
    floor = bookmark(first.final_state)
    tied = sim.server.set_faults(
        {"equal_timestamps": {"stream": "sessions", "count": 25, "timestamp": floor}}
    )["equal_timestamps"]
    second = run_tap(
        sim.config(lookback_days=0, **USER_SESSIONS), {"sessions"}, state=first.final_state
    )
    emitted = [r["session_id"] for r in second.records("sessions")]
    at_floor = {r["session_id"] for r in first.records("sessions") if r["created_at"] == floor}
    assert len(emitted) == len(set(emitted))
    assert set(emitted) == set(tied) | at_floor
    assert bookmark(second.final_state) == floor


def test_sessions_inserted_while_paging_cause_no_loss_and_no_duplicates(sim):
    before = {
        r["session_id"]
        for r in run_tap(sim.config(**USER_SESSIONS), {"sessions"}).records("sessions")
    }
    sim.server.set_faults({"insert_head": {"stream": "sessions", "count": 3, "pages": 4}})
    during = run_tap(sim.config(**USER_SESSIONS), {"sessions"}).records("sessions")
    ids = [r["session_id"] for r in during]
    assert max(Counter(ids).values()) == 1
    assert before <= set(ids)


def test_lookback_rereads_recent_sessions_and_their_children_only(sim, sent):
    config = sim.config(lookback_days=2, children_full_sweep_days=0, **USER_SESSIONS)
    streams = {"sessions", "session_decisions"}
    first = run_tap(config, streams)
    sent.clear()
    second = run_tap(config, streams, state=first.final_state)
    mark = parse_timestamp(bookmark(first.final_state))
    floor = format_timestamp(mark - dt.timedelta(days=2))
    again = second.records("sessions")
    assert {r["session_id"] for r in again} == {
        r["session_id"] for r in first.records("sessions") if r["created_at"] >= floor
    }
    assert len(again) < len(first.records("sessions"))
    assert {r["session_id"] for r in second.records("session_decisions")} == {
        r["session_id"] for r in again
    }
    first_request = session_requests(sent)[0]
    assert first_request.query["date_from"] == floor[:10]


def test_final_state_has_no_progress_markers_and_each_bookmark_is_its_kinds_max(sim):
    run = run_tap(sim.config(page_size=5), {"sessions"})
    final = run.final_state["bookmarks"]["sessions"]
    assert "progress_markers" not in str(final)
    by_kind = {
        p["context"]["session_kind"]: p["replication_key_value"] for p in final["partitions"]
    }
    newest = {
        kind: max(r["created_at"] for r in run.records("sessions") if r["session_kind"] == kind)
        for kind in ("user", "business")
    }
    assert by_kind == newest


def test_children_are_fetched_only_inside_the_window_until_a_sweep_is_due(sim, sent):
    streams = {"sessions", "session_reviews"}
    config = sim.config(children_full_sweep_days=30, lookback_days=0, **USER_SESSIONS)
    first = run_tap(config, streams)
    state = first.final_state
    newest = max(first.records("sessions"), key=lambda r: r["created_at"])

    sent.clear()
    run_tap(config, streams, state=state)
    reviewed = {r.path for r in sent if r.path.endswith("/reviews/")}
    assert reviewed == {f"/v3/sessions/{newest['session_id']}/reviews/"}

    partition = state["bookmarks"]["sessions"]["partitions"][0]
    partition["children_full_sweep_at"] = "2025-01-01T00:00:00.000000Z"
    sent.clear()
    run_tap(config, streams, state=state)
    reviewed = {r.path for r in sent if r.path.endswith("/reviews/")}
    assert len(reviewed) == len(first.records("sessions"))


def test_kyb_sessions_ask_one_more_day_and_get_no_reviews_request(sim, sent):
    started = dt.datetime(2026, 11, 20, 23, 59, 59, tzinfo=dt.UTC)
    config = sim.config(session_kinds=["business"])
    run = run_tap(config, {"sessions", "session_reviews"}, started_at=started)
    assert run.records("sessions")
    assert not [r for r in sent if r.path.endswith("/reviews/")]
    assert session_requests(sent)[0].query["date_to"] == "2026-11-21"
