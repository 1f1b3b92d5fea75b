"""Didit's per-credential sliding-window rate limit, with a tiny window for tests."""

from __future__ import annotations

from sim_client import KEY, Client, FakeClock

OTHER_KEY = {"x-api-key": "sim-backend-key-0002"}


def _server(make_server, **limits):
    srv = make_server(**limits)
    clock = FakeClock(1_800_000_000.0)
    srv.state.limiter.clock = clock
    return srv, clock, Client(srv.base_url)


def test_the_request_over_the_limit_gets_429_with_headers_only_then(make_server):
    _srv, clock, c = _server(make_server, get_limit=3, window_s=60)
    ok = [c.get("/v3/workflows/") for _ in range(3)]
    assert [r.status for r in ok] == [200] * 3
    assert not any(h.startswith("x-ratelimit") for r in ok for h in r.headers)
    clock.now += 10
    over = c.get("/v3/workflows/")
    assert over.status == 429
    assert over.headers["retry-after"] == "50"
    assert over.headers["x-ratelimit-limit"] == "3"
    assert over.headers["x-ratelimit-remaining"] == "0"
    assert int(over.headers["x-ratelimit-reset"]) == 1_800_000_060
    assert over.json()["detail"].startswith("Request was throttled.")
    c.close()


def test_the_window_slides(make_server):
    _srv, clock, c = _server(make_server, get_limit=2, window_s=60)
    c.get("/v3/workflows/")
    clock.now += 30
    c.get("/v3/workflows/")
    clock.now += 31  # the first request left the window, the second has not
    assert c.get("/v3/workflows/").status == 200
    assert c.get("/v3/workflows/").status == 429
    c.close()


def test_each_key_has_its_own_budget_and_writes_their_own_scope(make_server):
    _srv, _clock, c = _server(make_server, get_limit=1, write_limit=1, window_s=60)
    assert c.get("/v3/workflows/", KEY).status == 200
    assert c.get("/v3/workflows/", KEY).status == 429
    assert c.get("/v3/workflows/", OTHER_KEY).status == 200
    login = {"email": "nobody@example.org", "password": "x"}
    assert c.call("POST", "/auth/v2/programmatic/login/", body=login).status == 401
    assert c.call("POST", "/auth/v2/programmatic/login/", body=login).status == 429
    c.close()


def test_rate_limits_can_be_switched_off(make_server):
    _srv, _clock, c = _server(make_server, rate_limit=False, get_limit=1)
    assert {c.get("/v3/workflows/").status for _ in range(5)} == {200}
    c.close()
