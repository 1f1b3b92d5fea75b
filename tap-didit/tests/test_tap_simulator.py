"""Against the Didit simulator: data protection, retention warning, transport faults, pacing."""

from __future__ import annotations

import json

from sim_org import SECRETS
from tap_runner import run_tap


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
