"""Incremental correctness on newest-first pages: ties, lookback, inserts, final state."""

from __future__ import annotations

import datetime as dt

from fake_didit_server import make_session, ts
from tap_runner import run_tap

T = dt.datetime(2026, 3, 10, 12, 0, tzinfo=dt.UTC)
USER_ONLY = {"session_kinds": ["user"], "page_size": 10}


def ids(records: list[dict]) -> list[str]:
    return [r["session_id"] for r in records]


def bookmark(state: dict) -> str:
    return state["bookmarks"]["sessions"]["partitions"][0]["replication_key_value"]


def test_equal_timestamps_spanning_pages_are_all_read_and_the_walk_stops_after(didit):
    older = [make_session(i, T - dt.timedelta(hours=1, seconds=i)) for i in range(40)]
    first = [make_session(100 + i, T) for i in range(15)]
    didit.sessions = older + first
    run1 = run_tap(didit.config(**USER_ONLY), {"sessions"})
    assert sorted(ids(run1.records("sessions"))) == sorted(ids(older + first))
    assert bookmark(run1.final_state) == ts(T)

    late = [make_session(200 + i, T) for i in range(20)]  # same second, after the sync
    didit.sessions += late
    didit.requests.clear()
    run2 = run_tap(didit.config(lookback_days=0, **USER_ONLY), {"sessions"}, run1.final_state)
    assert sorted(ids(run2.records("sessions"))) == sorted(ids(first + late))
    # 35 tied rows = 4 pages (the 4th is mixed), then one page wholly older: stop.
    assert len(didit.requests) == 5


def test_lookback_rereads_recent_sessions_to_pick_up_status_changes(didit):
    recent = make_session(1, T - dt.timedelta(days=2))
    old = make_session(2, T - dt.timedelta(days=20))
    newest = make_session(3, T)
    didit.sessions = [old, recent, newest]
    state = run_tap(didit.config(**USER_ONLY), {"sessions"}).final_state
    recent["status"] = "Declined"
    old["status"] = "Declined"
    run = run_tap(didit.config(lookback_days=7, **USER_ONLY), {"sessions"}, state=state)
    statuses = {r["session_id"]: r["status"] for r in run.records("sessions")}
    assert statuses == {recent["session_id"]: "Declined", newest["session_id"]: "Approved"}
    first_request = didit.requests[-1][1]
    assert first_request["date_from"] == (T - dt.timedelta(days=7)).strftime("%Y-%m-%d")


def test_rows_inserted_while_paging_cause_no_loss_and_no_duplicates(didit):
    base = [make_session(i, T - dt.timedelta(minutes=i)) for i in range(45)]
    didit.sessions = list(base)
    inserted = [make_session(500 + i, T + dt.timedelta(seconds=i)) for i in range(7)]

    def insert_on_third_page(path: str, offset: int) -> None:
        if path == "/v3/sessions/" and offset == 20 and inserted[0] not in didit.sessions:
            didit.sessions.extend(inserted)  # pushes every row 7 places down

    didit.on_page = insert_on_third_page
    run = run_tap(didit.config(**USER_ONLY), {"sessions"})
    emitted = ids(run.records("sessions"))
    assert len(emitted) == len(set(emitted))
    assert set(ids(base)) <= set(emitted)


def test_final_state_has_no_progress_markers_and_bookmark_is_the_max(didit):
    didit.sessions = [make_session(i, T - dt.timedelta(hours=i)) for i in range(12)]
    didit.sessions.append(make_session(99, T - dt.timedelta(hours=30), kind="business"))
    run = run_tap(didit.config(page_size=5), {"sessions"})
    final = run.final_state["bookmarks"]["sessions"]
    assert "progress_markers" not in str(final)
    by_kind = {
        p["context"]["session_kind"]: p["replication_key_value"] for p in final["partitions"]
    }
    assert by_kind == {"user": ts(T), "business": ts(T - dt.timedelta(hours=30))}


def test_children_are_fetched_only_inside_the_window_until_a_sweep_is_due(didit):
    old = make_session(1, T - dt.timedelta(days=40))
    new = make_session(2, T)
    didit.sessions = [old, new]
    didit.reviews = {s["session_id"]: [] for s in didit.sessions}
    config = didit.config(children_full_sweep_days=30, **USER_ONLY)
    state = run_tap(config, {"sessions", "session_reviews"}).final_state

    didit.requests.clear()
    run_tap(config, {"sessions", "session_reviews"}, state=state)
    review_paths = [p for p, _ in didit.requests if p.endswith("/reviews/")]
    assert review_paths == [f"/v3/sessions/{new['session_id']}/reviews/"]

    partition = state["bookmarks"]["sessions"]["partitions"][0]
    partition["children_full_sweep_at"] = ts(T - dt.timedelta(days=365))
    didit.requests.clear()
    run_tap(config, {"sessions", "session_reviews"}, state=state)
    review_paths = {p for p, _ in didit.requests if p.endswith("/reviews/")}
    assert len(review_paths) == 2


def test_kyb_sessions_ask_one_more_day_and_get_no_reviews_request(didit):
    didit.sessions = [make_session(1, T, kind="business")]
    run = run_tap(didit.config(session_kinds=["business"]), {"sessions", "session_reviews"})
    assert len(run.records("sessions")) == 1
    assert not [p for p, _ in didit.requests if p.endswith("/reviews/")]
    today = dt.datetime.now(dt.UTC)
    assert didit.requests[0][1]["date_to"] == (today + dt.timedelta(days=1)).strftime("%Y-%m-%d")
