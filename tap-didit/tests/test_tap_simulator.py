"""Incremental correctness and data protection against the Didit simulator."""

from __future__ import annotations

import json
from collections import Counter

from sim_org import SECRETS
from tap_runner import run_tap

USER_SESSIONS = {"session_kinds": ["user"], "page_size": 10}


def partition_bookmark(state: dict) -> str:
    return state["bookmarks"]["sessions"]["partitions"][0]["replication_key_value"]


def test_more_equal_timestamps_than_a_page_are_all_read_after_the_bookmark(sim):
    first = run_tap(sim.config(**USER_SESSIONS), {"sessions"})
    bookmark = partition_bookmark(first.final_state)
    tied = sim.server.set_faults(
        {"equal_timestamps": {"stream": "sessions", "count": 25, "timestamp": bookmark}}
    )["equal_timestamps"]
    second = run_tap(
        sim.config(lookback_days=0, **USER_SESSIONS), {"sessions"}, state=first.final_state
    )
    emitted = [r["session_id"] for r in second.records("sessions")]
    assert set(tied) <= set(emitted)
    assert len(emitted) == len(set(emitted))
    assert partition_bookmark(second.final_state) == bookmark
    assert len(emitted) < len(first.records("sessions"))  # the walk stopped at the floor


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


def test_lookback_rereads_recent_sessions_and_their_children_only(sim):
    config = sim.config(lookback_days=2, children_full_sweep_days=0, **USER_SESSIONS)
    streams = {"sessions", "session_decisions"}
    first = run_tap(config, streams)
    second = run_tap(config, streams, state=first.final_state)
    bookmark = partition_bookmark(first.final_state)
    again = second.records("sessions")
    assert again
    assert len(again) < len(first.records("sessions"))
    assert {r["session_id"] for r in second.records("session_decisions")} == {
        r["session_id"] for r in again
    }
    assert all(r["created_at"] <= bookmark for r in again)


def test_audit_log_is_read_with_console_login_and_totp(sim):
    run = run_tap(sim.config(), {"audit_logs"})
    records = run.records("audit_logs")
    assert records
    assert all(r["raw"]["uuid"] == r["uuid"] for r in records)
    assert run.final_state["bookmarks"]["audit_logs"]["replication_key_value"] == max(
        r["timestamp"] for r in records
    )


def test_no_secret_or_personal_data_in_logs_or_state(sim):
    streams = {"sessions", "session_reviews", "session_decisions", "users", "audit_logs", "cases"}
    run = run_tap(sim.config(), streams)
    personal = set()
    for stream, fields in {
        "sessions": ("full_name", "vendor_data"),
        "users": ("full_name", "vendor_data", "display_name"),
        "session_reviews": ("actor_email",),
        "audit_logs": ("actor", "ip_address"),
    }.items():
        for record in run.records(stream):
            personal.update(str(record[f]) for f in fields if record.get(f))
    assert len(personal) > 20
    states = json.dumps([m for m in run.messages if m["type"] == "STATE"])
    for value in (*SECRETS, *personal):
        assert value not in run.logs, value
        assert value not in states, value
    # The Console user's email may appear as *data* (the audit log records its own
    # requests); the credentials themselves never do.
    for secret in SECRETS[:3]:
        assert secret not in run.output


def test_a_delivery_bookmark_older_than_didits_retention_is_warned_about(sim):
    streams = {"webhook_destinations", "webhook_deliveries"}
    first = run_tap(sim.config(), streams)
    assert first.records("webhook_deliveries")
    state = first.final_state
    partitions = state["bookmarks"]["webhook_deliveries"]["partitions"]
    stale = partitions[0]
    stale["replication_key_value"] = "2025-01-01T00:00:00.000000Z"
    second = run_tap(sim.config(), streams, state=state)
    destination = stale["context"]["destination_uuid"]
    assert f"the bookmark of destination {destination} is" in second.logs
    assert "Didit keeps deliveries about 30 days" in second.logs
    assert second.logs.count("Didit keeps deliveries about 30 days") == 1


def test_transport_faults_are_retried_and_change_nothing(sim, backoff_sleeps):
    streams = {"users", "workflows", "sessions"}
    # The 9 faults may all hit one request; Retry-After (7 s) is below max_wait_seconds.
    config = sim.config(page_size=50, backoff_max_tries=10, max_wait_seconds=30)
    clean = run_tap(config, streams)
    sim.server.set_faults(
        {
            "error_burst": {"status": 503, "count": 3},
            "drop_connection": {"count": 2},
            "truncate_body": {"count": 2},
            "rate_limit_storm": {"count": 2, "retry_after": 7},
        }
    )
    faulty = run_tap(config, streams)
    for stream in streams:
        key = "didit_internal_id" if stream == "users" else "uuid"
        key = "session_id" if stream == "sessions" else key
        assert sorted(r[key] for r in faulty.records(stream)) == sorted(
            r[key] for r in clean.records(stream)
        )
    assert len(backoff_sleeps) == 9
    assert sum(1 for w in backoff_sleeps if 7 <= w <= 7.1) == 2  # Retry-After honoured


def test_pacing_keeps_a_run_under_the_rate_limit(sim_data, tmp_path):
    from sim_org import serve_copy

    limited = serve_copy(sim_data, tmp_path, rate_limit=True, get_limit=4, window_s=1.0)
    try:
        # 2 requests per second against a limit of 4: margin for a busy machine.
        run = run_tap(limited.config(page_size=6, max_requests_per_minute=120), {"users"})
    finally:
        limited.server.stop()
    assert len(run.records("users")) > 20  # several pages, more than 4 per second unpaced
    assert "HTTP 429" not in run.logs
