"""HTTP behaviour against the Didit simulator's fault injection: retries, waits, errors.

Response forms the simulator cannot produce (other rate-limit headers, odd `next` links,
malformed records, a 400 body) are in test_tap_http_edge_cases.py.
"""

from __future__ import annotations

import pytest
from singer_sdk.exceptions import FatalAPIError
from tap_didit.errors import DiditAuthError
from tap_runner import run_tap

SESSIONS_PATH = "^/v3/sessions/$"
#: The simulator's error bodies: a tap must never echo a response body.
SERVER_ERROR_BODY = "A server error occurred."
THROTTLED_BODY = "Request was throttled"


def session_ids(run) -> set[str]:
    return {r["session_id"] for r in run.records("sessions")}


def user_config(sim, **overrides):
    return sim.config(session_kinds=["user"], page_size=50, **overrides)


def test_429_waits_for_retry_after_then_succeeds(sim, backoff_sleeps):
    config = user_config(sim, max_wait_seconds=60)
    clean = session_ids(run_tap(config, {"sessions"}))
    sim.server.set_faults({"rate_limit_storm": {"count": 2, "retry_after": 7}})
    run = run_tap(config, {"sessions"})
    assert session_ids(run) == clean
    assert len(backoff_sleeps) == 2
    assert all(7 <= w <= 8 for w in backoff_sleeps)
    assert "HTTP 429" in run.logs
    assert THROTTLED_BODY not in run.logs


def test_server_wait_is_capped_by_max_wait_seconds(sim, backoff_sleeps):
    sim.server.set_faults({"rate_limit_storm": {"count": 1, "retry_after": 3600}})
    run = run_tap(user_config(sim, max_wait_seconds=2), {"sessions"})
    assert run.records("sessions")
    assert backoff_sleeps == [2.0]


def test_5xx_is_retried_with_growing_jittered_backoff(sim, backoff_sleeps):
    config = user_config(sim, backoff_factor_seconds=1, max_wait_seconds=100)
    clean = session_ids(run_tap(config, {"sessions"}))
    sim.server.set_faults({"error_burst": {"status": 502, "count": 3, "path_regex": SESSIONS_PATH}})
    run = run_tap(config, {"sessions"})
    assert session_ids(run) == clean
    first, second, third = backoff_sleeps
    assert 0.75 <= first <= 1.25
    assert 1.5 <= second <= 2.5
    assert 3 <= third <= 5


def test_persistent_5xx_fails_after_backoff_max_tries(sim, backoff_sleeps):
    sim.server.set_faults({"error_burst": {"status": 503, "count": 10}})
    with pytest.raises(Exception, match="HTTP 503") as failure:
        run_tap(user_config(sim, backoff_max_tries=3), {"sessions"})
    assert len(backoff_sleeps) == 2
    assert SERVER_ERROR_BODY not in str(failure.value)
    assert sim.server.state.faults.snapshot()["error_burst"]["count"] == 7  # 3 attempts


def test_timeout_is_retried_and_the_records_arrive(sim, backoff_sleeps):
    """The first request is answered only after a minute: the 1 s read timeout always fires."""
    config = user_config(sim, request_timeout_seconds=1)
    clean = session_ids(run_tap(config, {"sessions"}))
    sim.server.set_faults({"latency": {"ms": 60_000, "count": 1, "path_regex": SESSIONS_PATH}})
    run = run_tap(config, {"sessions"})
    assert session_ids(run) == clean
    assert sim.server.state.faults.snapshot()["latency"]["count"] == 0  # the slow one was hit
    assert len(backoff_sleeps) == 1  # exactly one retry
    assert "ReadTimeout" in run.logs


def test_dropped_connection_is_retried(sim, backoff_sleeps):
    config = user_config(sim)
    clean = session_ids(run_tap(config, {"sessions"}))
    sim.server.set_faults({"drop_connection": {"count": 1, "path_regex": SESSIONS_PATH}})
    run = run_tap(config, {"sessions"})
    assert session_ids(run) == clean
    assert len(backoff_sleeps) == 1


def test_a_2xx_body_cut_off_mid_transfer_is_retried(sim, backoff_sleeps):
    config = user_config(sim)
    clean = session_ids(run_tap(config, {"sessions"}))
    sim.server.set_faults({"truncate_body": {"count": 1, "path_regex": SESSIONS_PATH}})
    run = run_tap(config, {"sessions"})
    assert session_ids(run) == clean
    assert len(backoff_sleeps) == 1
    assert "ChunkedEncodingError" in run.logs  # fewer bytes than Content-Length announced


def test_a_refused_key_stops_naming_setting_and_scope(sim, backoff_sleeps):
    """Didit answers a wrong key with 403; nothing is retried."""
    with pytest.raises(DiditAuthError) as failure:
        run_tap(user_config(sim, api_key="sim-wrong-key"), {"sessions"})
    message = str(failure.value)
    assert "`api_key`" in message
    assert "`sessions: read`" in message
    assert "HTTP 403" in message
    assert "You do not have permission" not in message
    assert "sim-wrong-key" not in message
    assert backoff_sleeps == []


def test_401_stops_naming_setting_and_scope(sim, backoff_sleeps):
    sim.server.set_faults({"error_burst": {"status": 401, "count": 1, "path_regex": SESSIONS_PATH}})
    with pytest.raises(DiditAuthError, match=r"HTTP 401.*`api_key`.*`sessions: read`") as failure:
        run_tap(user_config(sim), {"sessions"})
    assert SERVER_ERROR_BODY not in str(failure.value)
    assert backoff_sleeps == []


def test_404_on_a_child_skips_that_parent_with_a_warning(sim, sent):
    streams = {"sessions", "session_reviews"}
    config = user_config(sim)
    clean = run_tap(config, streams)
    sim.server.set_faults({"error_burst": {"status": 404, "count": 1, "path_regex": "/reviews/$"}})
    sent.clear()
    run = run_tap(config, streams)
    hidden = next(r.path.split("/")[3] for r in sent if r.path.endswith("/reviews/"))
    assert session_ids(run) == session_ids(clean)
    expected = {r["uuid"] for r in clean.records("session_reviews") if r["session_id"] != hidden}
    assert {r["uuid"] for r in run.records("session_reviews")} == expected
    assert "not visible to this key (HTTP 404)" in run.logs
    assert hidden in run.logs


def test_every_request_ends_in_a_slash_and_carries_the_key(sim, sent):
    """Any slash-less path would get a 500 (and the run fail); the fault stays unused."""
    sim.server.set_faults({"error_burst": {"status": 500, "count": 1000, "path_regex": "[^/]$"}})
    streams = {"sessions", "session_reviews", "lists", "list_entries", "users", "workflows"}
    run = run_tap(sim.config(page_size=10, backoff_max_tries=1), streams)
    assert run.records("sessions")
    assert run.records("list_entries")
    assert sim.server.state.faults.snapshot()["error_burst"]["count"] == 1000
    assert sent
    assert all(r.path.endswith("/") and r.headers.get("x-api-key") for r in sent)


def test_a_deselected_property_is_not_emitted(sim):
    deselect = {("sessions", ("properties", "full_name"))}
    run = run_tap(user_config(sim), {"sessions"}, deselected=deselect)
    records = run.records("sessions")
    assert records
    assert all("full_name" not in r and "status" in r for r in records)


def test_a_fatal_status_names_status_and_path_only(sim):
    sim.server.set_faults({"error_burst": {"status": 418, "count": 1, "path_regex": SESSIONS_PATH}})
    with pytest.raises(FatalAPIError, match="HTTP 418") as failure:
        run_tap(user_config(sim), {"sessions"})
    assert "/v3/sessions/" in str(failure.value)
    assert SERVER_ERROR_BODY not in str(failure.value)
    assert "limit=" not in str(failure.value)
