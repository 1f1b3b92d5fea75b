"""A small, programmable Didit look-alike on pytest-httpserver for HTTP-behaviour tests.

It serves DRF pages (newest first, absolute `next` links, limit/offset, UTC-day
filters) from in-memory rows, and lets a test queue faults ahead of normal answers.
The full simulator (simulator/) is used for end-to-end tests; this one is for the
edge cases that need exact control.
"""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
import hmac
import json
import re
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlencode

from pytest_httpserver import HTTPServer
from werkzeug import Request, Response

Handler = Callable[[Request], Response]
API_KEY = "test-key-abc123"
CONSOLE_EMAIL = "officer@example.org"
CONSOLE_PASSWORD = "console-pw-xyz789"
TOTP_SECRET = "JBSWY3DPEHPK3PXP"


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
    audit_entries: list[dict[str, Any]] = field(default_factory=list)
    console_totp_secret: str | None = None
    valid_tokens: set[str] = field(default_factory=set)
    token_counter: int = 0

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
        if request.path.startswith("/auth/v2/"):
            return self.auth_service(request)
        if "/audit-logs" in request.path:
            return self.audit_route(request)
        if request.headers.get("x-api-key") != API_KEY:
            return json_response({"detail": "You do not have permission."}, 403)
        if not request.path.endswith("/"):
            return Response(status=301, headers={"Location": request.path + "/"})
        return self.route(request)

    def route(self, request: Request) -> Response:
        """Sessions, their children and lists: what the HTTP edge-case tests need."""
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

    def issue_tokens(self) -> Response:
        """A fresh access/refresh token pair."""
        self.token_counter += 1
        access = f"access-{self.token_counter}"
        self.valid_tokens.add(access)
        return json_response(
            {
                "access_token": access,
                "refresh_token": f"refresh-{self.token_counter}",
                "expires_in": 86400,
            }
        )

    def auth_service(self, request: Request) -> Response:
        """Login (with TOTP 2FA when a secret is set), 2FA verify, refresh."""
        body = request.get_json(silent=True) or {}
        if request.path == "/auth/v2/programmatic/login/":
            if (body.get("email"), body.get("password")) != (CONSOLE_EMAIL, CONSOLE_PASSWORD):
                return json_response({"detail": "Invalid credentials."}, 401)
            if self.console_totp_secret:
                return json_response({"2fa_required": True, "temp_token": "temp-1"})
            return self.issue_tokens()
        if request.path == "/auth/v2/2fa/verify/":
            if body.get("temp_token") != "temp-1" or body.get("otp_token") not in self.valid_otps():
                return json_response({"detail": "Invalid OTP."}, 401)
            return self.issue_tokens()
        if request.path == "/auth/v2/token/refresh/":
            if not str(body.get("refresh_token", "")).startswith("refresh-"):
                return json_response({"detail": "Token expired."}, 401)
            return self.issue_tokens()
        return json_response({"detail": "Not found."}, 404)

    def valid_otps(self) -> set[str]:
        """Codes of the previous, current and next 30-second step (RFC 4226 reference)."""
        key = base64.b32decode(self.console_totp_secret or "")
        now = int(time.time() // 30)
        return {_rfc4226(key, now + drift) for drift in (-1, 0, 1)}

    def audit_route(self, request: Request) -> Response:
        """Bearer only; cursor pages (base-10 offset as the opaque cursor), newest first."""
        if request.headers.get("x-api-key") and not request.headers.get("Authorization"):
            return json_response({"detail": "API keys are not accepted here."}, 403)
        token = request.headers.get("Authorization", "").removeprefix("Bearer ")
        if token not in self.valid_tokens:
            return json_response({"detail": "Token expired."}, 401)
        rows = _filter_days(self.audit_entries, request.args, "timestamp")
        rows.sort(key=lambda r: (r["timestamp"], r["uuid"]), reverse=True)
        limit = int(request.args.get("limit", 50))
        start = int(request.args.get("cursor", 0))
        nxt = None
        if start + limit < len(rows):
            query = {**request.args, "cursor": start + limit}
            nxt = self.server.url_for(request.path) + "?" + urlencode(query)
        return json_response(
            {"next": nxt, "previous": None, "results": rows[start : start + limit]}
        )

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


def _rfc4226(key: bytes, counter: int) -> str:
    """Independent HOTP, as in RFC 4226 appendix C, for checking the tap's codes."""
    mac = hmac.new(key, counter.to_bytes(8, "big"), hashlib.sha1).digest()
    offset = mac[19] & 0xF
    binary = int.from_bytes(mac[offset : offset + 4], "big") & 0x7FFFFFFF
    return f"{binary % 1_000_000:06d}"


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
