"""A small, programmable Didit look-alike on pytest-httpserver for HTTP-behaviour tests.

It serves DRF pages (newest first, absolute `next` links, limit/offset, UTC-day
filters) from in-memory rows, and lets a test queue faults ahead of normal answers.
The full simulator (simulator/) is used for end-to-end tests; this one is for the
edge cases that need exact control.
"""

from __future__ import annotations

import datetime as dt
import json
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlencode

from pytest_httpserver import HTTPServer
from werkzeug import Request, Response

Handler = Callable[[Request], Response]
API_KEY = "test-key-abc123"


def ts(value: dt.datetime) -> str:
    """Didit's timestamp format."""
    return value.strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def json_response(body: Any, status: int = 200, headers: dict | None = None) -> Response:
    """A JSON response."""
    return Response(
        json.dumps(body), status=status, headers=headers, content_type="application/json"
    )


@dataclass
class Fault:
    """Answer the next matching request(s) with `handler` instead of the data."""

    path: re.Pattern[str]
    handler: Handler
    times: int = 1


@dataclass
class FakeDidit:
    """Rows per endpoint; faults first; a log of every request seen."""

    server: HTTPServer
    sessions: list[dict[str, Any]] = field(default_factory=list)
    reviews: dict[str, list[dict[str, Any]]] = field(default_factory=dict)
    decisions: dict[str, dict[str, Any]] = field(default_factory=dict)
    lists: dict[str, list[dict[str, Any]]] = field(default_factory=dict)
    faults: list[Fault] = field(default_factory=list)
    requests: list[tuple[str, dict[str, str]]] = field(default_factory=list)
    on_page: Callable[[str, int], None] | None = None

    @property
    def base_url(self) -> str:
        """What to put in `base_url`."""
        return self.server.url_for("/v3")

    def config(self, **overrides: Any) -> dict[str, Any]:
        """A fast tap config for this server."""
        return {
            "api_key": API_KEY,
            "base_url": self.base_url,
            "start_date": "2026-01-01T00:00:00Z",
            "max_requests_per_minute": 0,
            "backoff_factor_seconds": 0.01,
            "max_wait_seconds": 5,
            "request_timeout_seconds": 2,
            "page_size": 10,
            **overrides,
        }

    def fail(self, path: str, handler: Handler, times: int = 1) -> None:
        """Queue a fault for requests whose path matches `path` (a regex)."""
        self.faults.append(Fault(re.compile(path), handler, times))

    def install(self) -> None:
        """Route every request through `dispatch`."""
        self.server.expect_request(re.compile(".*")).respond_with_handler(self.dispatch)

    def dispatch(self, request: Request) -> Response:
        """Faults first, then the data."""
        self.requests.append((request.path, dict(request.args)))
        for fault in self.faults:
            if fault.times > 0 and fault.path.search(request.path):
                fault.times -= 1
                return fault.handler(request)
        if request.headers.get("x-api-key") != API_KEY:
            return json_response({"detail": "You do not have permission."}, 403)
        if not request.path.endswith("/"):
            return Response(status=301, headers={"Location": request.path + "/"})
        return self.route(request)

    def route(self, request: Request) -> Response:
        """The few endpoints the HTTP tests need."""
        path = request.path
        if path == "/v3/sessions/":
            kind = request.args.get("session_kind", "user")
            rows = [s for s in self.sessions if s.get("session_kind", "user") == kind]
            rows = _filter_days(rows, request.args, "created_at")
            rows.sort(key=lambda r: (r["created_at"], r["session_id"]), reverse=True)
            return self.page(request, rows)
        if m := re.fullmatch(r"/v3/sessions/([^/]+)/reviews/", path):
            if m[1] not in self.reviews:
                return json_response({"detail": "Not found."}, 404)
            return self.page(request, sorted(self.reviews[m[1]], key=lambda r: r["created_at"]))
        if m := re.fullmatch(r"/v3/session/([^/]+)/decision/", path):
            if m[1] not in self.decisions:
                return json_response({"detail": "Not found."}, 404)
            return json_response(self.decisions[m[1]])
        if path == "/v3/lists/":
            return self.page(request, [{"uuid": u, "name": u} for u in self.lists])
        if m := re.fullmatch(r"/v3/lists/([^/]+)/entries/", path):
            return self.page(request, self.lists.get(m[1], []))
        return json_response({"detail": "Not found."}, 404)

    def page(self, request: Request, rows: list[dict[str, Any]]) -> Response:
        """One DRF page with an absolute `next` link."""
        limit = int(request.args.get("limit", 50))
        offset = int(request.args.get("offset", 0))
        chunk = rows[offset : offset + limit]
        if self.on_page is not None:
            self.on_page(request.path, offset)
        nxt = None
        if offset + limit < len(rows):
            query = {**request.args, "limit": limit, "offset": offset + limit}
            nxt = self.server.url_for(request.path) + "?" + urlencode(query)
        return json_response(
            {"count": min(len(rows), 100), "next": nxt, "previous": None, "results": chunk}
        )


def _filter_days(rows: list[dict], args: Any, key: str) -> list[dict]:
    lo, hi = args.get("date_from"), args.get("date_to")
    return [r for r in rows if (not lo or r[key][:10] >= lo) and (not hi or r[key][:10] <= hi)]


def make_session(number: int, created: dt.datetime, kind: str = "user", **extra: Any) -> dict:
    """A KYC/KYB session row with personal data, as Didit lists it."""
    return {
        "session_id": f"00000000-0000-4000-8000-{number:012d}",
        "session_kind": kind,
        "session_number": number,
        "status": "Approved",
        "vendor_data": f"customer-{number}",
        "full_name": "Jane Marie Doe",
        "portrait_image": "https://media.example/portrait.jpg?X-Amz-Signature=abc",
        "created_at": ts(created),
        **extra,
    }
