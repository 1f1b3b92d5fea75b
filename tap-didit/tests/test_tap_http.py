"""HTTP behaviour against a controllable fake: retries, waits, errors, links."""

from __future__ import annotations

import datetime as dt
import email.utils
import socket
import threading
import time

import pytest
from fake_didit_server import API_KEY, json_response, make_session
from singer_sdk.exceptions import FatalAPIError
from tap_didit.errors import DiditAuthError, PaginationLoopError
from tap_runner import run_tap
from werkzeug import Response

T0 = dt.datetime(2026, 3, 1, tzinfo=dt.UTC)
PII = "Jane Marie Doe"


def sessions(n: int) -> list[dict]:
    return [make_session(i, T0 + dt.timedelta(minutes=i)) for i in range(n)]


def throttled(headers: dict[str, str]):
    def handler(_request):
        return json_response(
            {"detail": f"Request was throttled for {PII}."}, status=429, headers=headers
        )

    return handler


@pytest.mark.parametrize("retry_after", ["7", None])
def test_429_waits_for_retry_after_seconds_then_succeeds(didit, backoff_sleeps, retry_after):
    didit.sessions = sessions(5)
    headers = {"Retry-After": retry_after} if retry_after else {"X-RateLimit-Reset": "4"}
    didit.fail(r"^/v3/sessions/$", throttled(headers), times=2)
    run = run_tap(didit.config(max_wait_seconds=60), {"sessions"})
    assert len(run.records("sessions")) == 5
    assert len(backoff_sleeps) == 2
    expected = 7 if retry_after else 4
    assert all(expected <= w <= expected + 1 for w in backoff_sleeps)
    assert "HTTP 429" in run.logs
    assert PII not in run.logs


def test_429_with_http_date_waits_until_that_moment(didit, backoff_sleeps):
    didit.sessions = sessions(3)
    when = email.utils.format_datetime(
        dt.datetime.now(dt.UTC) + dt.timedelta(seconds=30), usegmt=True
    )
    didit.fail(r"^/v3/sessions/$", throttled({"Retry-After": when}))
    run = run_tap(didit.config(max_wait_seconds=60), {"sessions"})
    assert len(run.records("sessions")) == 3
    assert 25 <= backoff_sleeps[0] <= 31


def test_server_wait_is_capped_by_max_wait_seconds(didit, backoff_sleeps):
    didit.sessions = sessions(2)
    didit.fail(r"^/v3/sessions/$", throttled({"Retry-After": "3600"}))
    run_tap(didit.config(max_wait_seconds=2), {"sessions"})
    assert backoff_sleeps == [2.0]


def test_5xx_is_retried_with_growing_jittered_backoff(didit, backoff_sleeps):
    didit.sessions = sessions(4)
    didit.fail(r"^/v3/sessions/$", lambda _r: Response("boom", status=502), times=3)
    run = run_tap(didit.config(backoff_factor_seconds=1, max_wait_seconds=100), {"sessions"})
    assert len(run.records("sessions")) == 4
    first, second, third = backoff_sleeps
    assert 0.75 <= first <= 1.25
    assert 1.5 <= second <= 2.5
    assert 3 <= third <= 5


def test_persistent_5xx_fails_after_backoff_max_tries(didit, backoff_sleeps):
    didit.sessions = sessions(1)
    didit.fail(r"^/v3/sessions/$", lambda _r: Response(PII, status=503), times=10)
    with pytest.raises(Exception, match="HTTP 503") as failure:
        run_tap(didit.config(backoff_max_tries=3), {"sessions"})
    assert len(backoff_sleeps) == 2
    assert PII not in str(failure.value)


def test_timeout_is_retried(didit, backoff_sleeps):
    didit.sessions = sessions(2)

    def slow(request):
        time.sleep(1.5)
        return didit.route(request)

    didit.fail(r"^/v3/sessions/$", slow)
    run = run_tap(didit.config(request_timeout_seconds=0.5), {"sessions"})
    assert len(run.records("sessions")) == 2
    assert backoff_sleeps  # the single-threaded server may time out the retry too
    assert "ReadTimeout" in run.logs


def test_dropped_connection_is_retried(didit, backoff_sleeps):
    """A server that accepts then closes without answering, once, then proxies."""
    didit.sessions = sessions(3)
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen()
    port = listener.getsockname()[1]

    def serve() -> None:
        conn, _ = listener.accept()
        conn.recv(65536)
        conn.close()  # dropped: no status line at all
        conn, _ = listener.accept()
        request = conn.recv(65536).split(b" ")[1].decode()
        upstream = socket.create_connection(("127.0.0.1", didit.server.port))
        upstream.sendall(
            f"GET {request} HTTP/1.0\r\nx-api-key: {API_KEY}\r\nHost: x\r\n\r\n".encode()
        )
        chunks = []
        while chunk := upstream.recv(65536):
            chunks.append(chunk)
        conn.sendall(b"".join(chunks))
        conn.close()

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    config = didit.config(base_url=f"http://127.0.0.1:{port}/v3", session_kinds=["user"])
    run = run_tap(config, {"sessions"})
    thread.join(timeout=5)
    listener.close()
    assert len(run.records("sessions")) == 3
    assert len(backoff_sleeps) == 1


@pytest.mark.parametrize("status", [401, 403])
def test_auth_failure_stops_naming_setting_and_scope(didit, backoff_sleeps, status):
    didit.fail(
        r"^/v3/sessions/$",
        lambda _r: json_response({"detail": f"Key of {PII} revoked"}, status=status),
    )
    with pytest.raises(DiditAuthError) as failure:
        run_tap(didit.config(), {"sessions"})
    message = str(failure.value)
    assert "`api_key`" in message
    assert "`sessions: read`" in message
    assert f"HTTP {status}" in message
    assert PII not in message
    assert backoff_sleeps == []


def test_404_on_a_child_skips_that_parent_with_a_warning(didit):
    didit.sessions = sessions(3)
    visible = [s["session_id"] for s in didit.sessions[1:]]
    didit.reviews = {sid: [{"uuid": f"r-{sid}", "created_at": T0.isoformat()}] for sid in visible}
    run = run_tap(didit.config(session_kinds=["user"]), {"sessions", "session_reviews"})
    assert {r["session_id"] for r in run.records("session_reviews")} == set(visible)
    assert len(run.records("sessions")) == 3
    hidden = didit.sessions[0]["session_id"]
    assert "not visible to this key (HTTP 404)" in run.logs
    assert hidden in run.logs


def test_400_names_rejected_parameters_not_values(didit):
    didit.fail(
        r"^/v3/sessions/$",
        lambda _r: json_response({"date_from": [f"{PII} is not a date"]}, status=400),
    )
    with pytest.raises(FatalAPIError, match="rejected parameters: date_from") as failure:
        run_tap(didit.config(), {"sessions"})
    assert PII not in str(failure.value)


def test_every_request_has_a_trailing_slash_and_the_key_header(didit):
    didit.sessions = sessions(25)
    didit.lists = {"l1": [{"uuid": "e1"}]}
    run = run_tap(didit.config(), {"sessions", "lists", "list_entries"})
    assert len(run.records("sessions")) == 25
    assert run.records("list_entries")[0]["list_uuid"] == "l1"
    assert didit.requests
    assert all(path.endswith("/") for path, _ in didit.requests)


def test_next_link_is_followed_verbatim_even_elsewhere_and_without_slash(didit):
    """An absolute `next` to another path is followed as given (plus the slash)."""
    didit.sessions = sessions(3)
    other = didit.server.url_for("/v3/elsewhere")

    def first(_request):
        return json_response({"next": f"{other}?cursor=abc", "results": didit.sessions[:1]})

    def second(request):
        assert request.args["cursor"] == "abc"
        return json_response({"next": None, "results": didit.sessions[1:]})

    didit.fail(r"^/v3/sessions/$", first)
    didit.fail(r"^/v3/elsewhere/$", second)
    run = run_tap(didit.config(session_kinds=["user"]), {"sessions"})
    assert len(run.records("sessions")) == 3
    assert ("/v3/elsewhere/", {"cursor": "abc"}) in didit.requests


def test_repeated_next_link_stops_with_a_clear_error(didit):
    loop = didit.server.url_for("/v3/sessions/") + "?offset=10&limit=10"
    rows = sessions(2)

    def looping(_request):
        return json_response({"next": loop, "results": rows})

    didit.fail(r"^/v3/sessions/$", looping, times=5)
    with pytest.raises(PaginationLoopError, match="already followed"):
        run_tap(didit.config(session_kinds=["user"]), {"sessions"})


def test_empty_page_ends_the_walk(didit):
    more = didit.server.url_for("/v3/sessions/") + "?offset=10"
    didit.fail(r"^/v3/sessions/$", lambda _r: json_response({"next": more, "results": []}))
    run = run_tap(didit.config(session_kinds=["user"]), {"sessions"})
    assert run.records("sessions") == []
    assert len(didit.requests) == 1


def test_count_is_not_trusted(didit):
    """Didit caps `count` at 100; pages are read until `next` is null."""
    didit.sessions = sessions(130)
    run = run_tap(didit.config(page_size=50, session_kinds=["user"]), {"sessions"})
    assert len(run.records("sessions")) == 130


def test_a_deselected_property_is_not_emitted(didit):
    didit.sessions = sessions(3)
    config = didit.config(session_kinds=["user"])
    deselect = {("sessions", ("properties", "full_name"))}
    run = run_tap(config, {"sessions"}, deselected=deselect)
    records = run.records("sessions")
    assert len(records) == 3
    assert all("full_name" not in r and "status" in r for r in records)


def test_bad_records_are_skipped_by_key_while_good_ones_flow(didit):
    good = sessions(4)
    broken_time = make_session(90, T0, created_at="2026-03-01 around noon")
    no_key = make_session(91, T0, session_id="")
    didit.sessions = [*good, broken_time, no_key]
    run = run_tap(didit.config(session_kinds=["user"]), {"sessions"})
    assert {r["session_id"] for r in run.records("sessions")} == {s["session_id"] for s in good}
    assert f"skipped record {{'session_id': '{broken_time['session_id']}'}}" in run.logs
    assert "has no valid `created_at` timestamp" in run.logs
    assert "has no session_id" in run.logs
    assert PII not in run.logs
    bookmark = run.final_state["bookmarks"]["sessions"]["partitions"][0]["replication_key_value"]
    assert bookmark == max(s["created_at"] for s in good)


def test_a_2xx_body_that_is_not_json_is_retried(didit, backoff_sleeps):
    didit.sessions = sessions(3)
    didit.fail(r"^/v3/sessions/$", lambda _r: Response('{"results": [{"sess', status=200))
    run = run_tap(didit.config(session_kinds=["user"]), {"sessions"})
    assert len(run.records("sessions")) == 3
    assert len(backoff_sleeps) == 1
    assert "HTTP 200" in run.logs
