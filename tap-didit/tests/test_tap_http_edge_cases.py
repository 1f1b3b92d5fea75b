"""Responses the Didit simulator cannot produce, served as canned answers by pytest-httpserver.

The simulator follows Didit's OpenAPI document, so it never sends these; a real server or a
proxy in between might:

- `429` with `Retry-After` as an HTTP date, or with only `X-RateLimit-Reset` (the simulator
  always sends `Retry-After` in seconds);
- `next` links to another path, without a trailing slash, repeating, or on an empty page, and
  a `count` that disagrees with the rows;
- a complete `200` whose body is not JSON (a proxy's cut), records without a key or with an
  unreadable timestamp, and a `400` body naming a parameter;
- audit-log entries whose key fields have other names (`audit_logs_field_aliases`).

Each test answers with fixed bodies; no Didit behaviour is modelled here.
"""

from __future__ import annotations

import datetime as dt
import email.utils
import json

import pytest
from pytest_httpserver import HTTPServer
from singer_sdk.exceptions import FatalAPIError
from tap_didit.errors import PaginationLoopError
from tap_runner import run_tap
from werkzeug import Request, Response

PII = "Jane Marie Doe"
SESSIONS = "/v3/sessions/"


def session(number: int, created_at: str = "2026-03-01T00:00:00.000000Z", **extra) -> dict:
    return {
        "session_id": f"00000000-0000-4000-8000-{number:012d}",
        "session_kind": "user",
        "full_name": PII,
        "created_at": created_at,
        **extra,
    }


def page(results: list[dict], next_url: str | None = None, count: int | None = None) -> str:
    return json.dumps({"count": count, "next": next_url, "previous": None, "results": results})


def config(server: HTTPServer, **overrides) -> dict:
    return {
        "api_key": "canned-key",
        "base_url": server.url_for("/v3"),
        "session_kinds": ["user"],
        "max_requests_per_minute": 0,
        "backoff_factor_seconds": 0.01,
        "request_timeout_seconds": 5,
        **overrides,
    }


def answer_in_turn(server: HTTPServer, path: str, responses: list[Response]) -> list[Request]:
    """Serve `responses` one after another on `path`; return the requests seen."""
    seen: list[Request] = []

    def handler(request: Request) -> Response:
        seen.append(request)
        return responses[min(len(seen), len(responses)) - 1]

    server.expect_request(path).respond_with_handler(handler)
    return seen


def throttled(headers: dict[str, str]) -> Response:
    body = json.dumps({"detail": f"Request was throttled for {PII}."})
    return Response(body, status=429, headers=headers, content_type="application/json")


def ok(body: str) -> Response:
    return Response(body, status=200, content_type="application/json")


def test_429_with_an_http_date_waits_until_that_moment(httpserver, backoff_sleeps):
    when = email.utils.format_datetime(
        dt.datetime.now(dt.UTC) + dt.timedelta(seconds=30), usegmt=True
    )
    answer_in_turn(httpserver, SESSIONS, [throttled({"Retry-After": when}), ok(page([session(1)]))])
    run = run_tap(config(httpserver, max_wait_seconds=60), {"sessions"})
    assert len(run.records("sessions")) == 1
    assert len(backoff_sleeps) == 1
    assert 25 <= backoff_sleeps[0] <= 31


def test_429_with_only_x_ratelimit_reset_waits_that_long(httpserver, backoff_sleeps):
    answer_in_turn(
        httpserver,
        SESSIONS,
        [throttled({"X-RateLimit-Reset": "4"}), ok(page([session(1)]))],
    )
    run = run_tap(config(httpserver, max_wait_seconds=60), {"sessions"})
    assert len(run.records("sessions")) == 1
    assert len(backoff_sleeps) == 1
    assert 4 <= backoff_sleeps[0] <= 5
    assert "HTTP 429" in run.logs
    assert PII not in run.logs


def test_next_link_is_followed_verbatim_even_elsewhere_and_without_slash(httpserver):
    other = httpserver.url_for("/v3/elsewhere")
    answer_in_turn(httpserver, SESSIONS, [ok(page([session(1)], f"{other}?cursor=abc", 1))])
    seen = answer_in_turn(
        httpserver, "/v3/elsewhere/", [ok(page([session(2), session(3)], None, 1))]
    )
    run = run_tap(config(httpserver), {"sessions"})
    assert len(run.records("sessions")) == 3  # `count` says 1: not trusted
    assert [r.args.get("cursor") for r in seen] == ["abc"]


def test_repeated_next_link_stops_with_a_clear_error(httpserver):
    loop = httpserver.url_for(SESSIONS) + "?offset=10&limit=10"
    answer_in_turn(httpserver, SESSIONS, [ok(page([session(1)], loop))])
    with pytest.raises(PaginationLoopError, match="already followed"):
        run_tap(config(httpserver), {"sessions"})


def test_empty_page_ends_the_walk(httpserver):
    more = httpserver.url_for(SESSIONS) + "?offset=10"
    seen = answer_in_turn(httpserver, SESSIONS, [ok(page([], more))])
    run = run_tap(config(httpserver), {"sessions"})
    assert run.records("sessions") == []
    assert len(seen) == 1


def test_a_complete_2xx_body_that_is_not_json_is_retried(httpserver, backoff_sleeps):
    answer_in_turn(
        httpserver, SESSIONS, [ok('{"results": [{"sess'), ok(page([session(1), session(2)]))]
    )
    run = run_tap(config(httpserver), {"sessions"})
    assert len(run.records("sessions")) == 2
    assert len(backoff_sleeps) == 1
    assert "HTTP 200" in run.logs


def test_bad_records_are_skipped_by_key_while_good_ones_flow(httpserver):
    good = [session(i, f"2026-03-01T00:0{i}:00.000000Z") for i in range(4)]
    broken_time = session(90, "2026-03-01 around noon")
    no_key = session(91, session_id="")
    answer_in_turn(httpserver, SESSIONS, [ok(page([*good, broken_time, no_key]))])
    run = run_tap(config(httpserver), {"sessions"})
    assert {r["session_id"] for r in run.records("sessions")} == {s["session_id"] for s in good}
    assert f"skipped record {{'session_id': '{broken_time['session_id']}'}}" in run.logs
    assert "has no valid `created_at` timestamp" in run.logs
    assert "has no session_id" in run.logs
    assert PII not in run.logs
    bookmark = run.final_state["bookmarks"]["sessions"]["partitions"][0]["replication_key_value"]
    assert bookmark == max(s["created_at"] for s in good)


def test_400_names_rejected_parameters_not_values(httpserver):
    body = json.dumps({"date_from": [f"{PII} is not a date"]})
    answer_in_turn(
        httpserver, SESSIONS, [Response(body, status=400, content_type="application/json")]
    )
    with pytest.raises(FatalAPIError, match="rejected parameters: date_from") as failure:
        run_tap(config(httpserver), {"sessions"})
    assert PII not in str(failure.value)


def test_audit_log_aliases_rename_the_key_and_timestamp_fields(httpserver):
    """If Didit names them `id` / `created`, the walk, its floor and the bookmark follow."""
    org = "11111111-2222-3333-4444-555555555555"
    path = f"/v3/audit/{org}/audit-logs/"
    entries = [
        {"id": f"a-{i}", "created": f"2026-04-0{9 - i}T09:00:00.000000Z", "new_field": i}
        for i in range(6)
    ]
    more = httpserver.url_for(path) + "?cursor=second"
    seen = answer_in_turn(httpserver, path, [ok(page(entries[:3], more)), ok(page(entries[3:]))])
    settings = config(
        httpserver,
        console_base_url=httpserver.url_for("/v3"),
        organization_id=org,
        console_access_token="pre-issued",
        audit_logs_field_aliases={"uuid": "id", "timestamp": "created"},
    )
    state = {
        "bookmarks": {
            "audit_logs": {
                "replication_key": "timestamp",
                "replication_key_value": entries[2]["created"],
            }
        }
    }
    run = run_tap({**settings, "audit_logs_lookback_hours": 0}, {"audit_logs"}, state=state)
    records = run.records("audit_logs")
    assert [r["uuid"] for r in records] == ["a-0", "a-1", "a-2"]
    assert all(r["raw"]["new_field"] == int(r["uuid"][2:]) for r in records)
    assert len(seen) == 2  # the second page lies wholly before the floor: the walk ends
    assert seen[0].headers["Authorization"] == "Bearer pre-issued"
    bookmark = run.final_state["bookmarks"]["audit_logs"]["replication_key_value"]
    assert bookmark == entries[0]["created"]
