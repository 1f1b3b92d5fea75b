"""Each injected fault, configured through the admin endpoint the way tests of the tap do."""

from __future__ import annotations

import http.client

import pytest
from conftest import LOGIN, otp_now
from sim_client import Client, walk


@pytest.fixture
def sim(make_server):
    srv = make_server(rate_limit=False)
    c = Client(srv.base_url)
    yield srv, c
    c.close()


def _set(c: Client, config: dict):
    reply = c.call("PUT", "/_sim/faults", body=config)
    assert reply.status == 200, reply.body
    return reply.json()


def test_an_error_burst_fails_the_next_n_requests_then_recovers(sim):
    _srv, c = sim
    _set(c, {"error_burst": {"status": 503, "count": 2}})
    statuses = [c.get("/v3/workflows/").status for _ in range(3)]
    assert statuses == [503, 503, 200]
    assert c.call("GET", "/_sim/faults").json()["error_burst"]["count"] == 0


def test_faults_can_be_limited_to_matching_paths(sim):
    _srv, c = sim
    _set(c, {"error_burst": {"status": 500, "count": 5, "path_regex": "^/v3/users/"}})
    assert c.get("/v3/workflows/").status == 200
    assert c.get("/v3/users/").status == 500


def test_a_dropped_connection_gives_the_client_no_response(sim):
    srv, c = sim
    _set(c, {"drop_connection": {"count": 1}})
    with pytest.raises((http.client.RemoteDisconnected, ConnectionError)):
        c.get("/v3/workflows/")
    again = Client(srv.base_url)
    assert again.get("/v3/workflows/").status == 200
    again.close()


def test_a_truncated_body_is_shorter_than_its_content_length(sim):
    _srv, c = sim
    _set(c, {"truncate_body": {"count": 1}})
    with pytest.raises(http.client.IncompleteRead):
        c.get("/v3/sessions/?limit=20")


def test_a_429_storm_answers_with_retry_after(sim):
    _srv, c = sim
    _set(c, {"rate_limit_storm": {"count": 2, "retry_after": 3}})
    first = c.get("/v3/workflows/")
    assert (first.status, first.headers["retry-after"]) == (429, "3")
    assert c.get("/v3/workflows/").status == 429
    assert c.get("/v3/workflows/").status == 200


def test_latency_is_applied_before_answering(sim, monkeypatch):
    _srv, c = sim
    slept = []
    monkeypatch.setattr("simulator.faults.time.sleep", slept.append)
    _set(c, {"latency": {"ms": 250, "count": 2}})
    assert [c.get("/v3/workflows/").status for _ in range(3)] == [200] * 3
    assert slept == [0.25, 0.25]


def test_records_inserted_at_the_head_shift_offset_pages(sim):
    _srv, c = sim
    first = c.get("/v3/sessions/?limit=10").json()
    _set(c, {"insert_head": {"stream": "sessions", "count": 3, "pages": 1}})
    c.get("/v3/sessions/?limit=10")  # serving this page inserts three newer sessions
    second = c.get(first["next"]).json()
    first_ids = {r["session_id"] for r in first["results"]}
    repeated = [r for r in second["results"] if r["session_id"] in first_ids]
    assert len(repeated) == 3  # the offset walk now re-reads the tail of page one
    newest = c.get("/v3/sessions/?limit=3").json()["results"]
    assert all(r["created_at"] > first["results"][0]["created_at"] for r in newest)


def test_more_equal_timestamps_than_a_page_holds_are_all_served_once(sim, organisation):
    _srv, c = sim
    applied = _set(
        c,
        {
            "equal_timestamps": {
                "stream": "audit_logs",
                "count": 120,
                "timestamp": "2026-10-31T22:59:59.000000Z",
            }
        },
    )
    planted = set(applied["applied"]["equal_timestamps"])
    token = _token(c)
    url = (
        f"/v3/audit/{organisation['organization_id']}/audit-logs/?limit=50"
        "&date_from=2026-10-31&date_to=2026-10-31"
    )
    rows = walk(c, url, {"Authorization": f"Bearer {token}"})
    uuids = [r["uuid"] for r in rows]
    assert len(uuids) == len(set(uuids))
    assert planted <= set(uuids)


def test_deleted_sessions_disappear_from_lists_and_their_decision_is_404(sim):
    _srv, c = sim
    applied = _set(c, {"delete_records": {"stream": "sessions", "count": 2}})
    gone = applied["applied"]["delete_records"]
    listed = {r["session_id"] for r in walk(c, "/v3/sessions/?limit=100")}
    assert not listed & set(gone)
    assert c.get(f"/v3/session/{gone[0]}/decision/").status == 404


def test_an_invalid_configuration_is_rejected_naming_the_problem(sim):
    _srv, c = sim
    reply = c.call("PUT", "/_sim/faults", body={"error_bust": {"count": 1}})
    assert reply.status == 400
    assert "error_bust" in reply.json()["detail"]
    reply = c.call("PUT", "/_sim/faults", body={"insert_head": {"stream": "users"}})
    assert "stream" in reply.json()["detail"]


def test_reset_clears_faults(sim):
    _srv, c = sim
    _set(c, {"error_burst": {"count": 10}})
    assert c.call("POST", "/_sim/reset").status == 200
    assert c.get("/v3/workflows/").status == 200


def test_faults_given_at_start_apply_from_the_first_request(make_server):
    srv = make_server(rate_limit=False, faults={"error_burst": {"status": 502, "count": 1}})
    c = Client(srv.base_url)
    assert c.get("/v3/workflows/").status == 502
    assert c.get("/v3/workflows/").status == 200
    c.close()


def _token(c: Client) -> str:

    temp = c.call("POST", "/auth/v2/programmatic/login/", body=LOGIN).json()["temp_token"]
    return c.call(
        "POST", "/auth/v2/2fa/verify/", body={"temp_token": temp, "otp_token": otp_now()}
    ).json()["access_token"]
