"""A real HTTP server that behaves like Didit's API for the simulated organisation.

``start_server`` runs it on a background thread (stdlib ``ThreadingHTTPServer``, HTTP/1.1
keep-alive): no dependency, starts in milliseconds. Order of checks per request, as Didit
does it: fault injection, trailing-slash redirect, rate limit, authentication, handler.
"""

from __future__ import annotations

import re
import threading
from collections.abc import Callable
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import parse_qsl, urlsplit

import orjson

from simulator import api_routes as api
from simulator import console_routes as console
from simulator import live_attack
from simulator.console_auth import AuthError, ConsoleAuth
from simulator.faults import FaultConfigError, Faults
from simulator.organisation import build_organisation
from simulator.pagination import BadParamsError
from simulator.rate_limit import RateLimiter, throttled_detail
from simulator.serving_store import Store

FORBIDDEN = {"detail": "You do not have permission to perform this action."}
NO_CREDENTIALS_DECISION = {"detail": "Authentication credentials were not provided or are invalid."}
NO_CREDENTIALS_USERS = {
    "detail": "You must be authenticated with a valid access token to access this endpoint."
}
_UUID = r"([0-9a-fA-F-]{36})"
_CASES = rf"/v3/organization/{_UUID}/application/{_UUID}/cases/"


@dataclass(frozen=True)
class Route:
    pattern: re.Pattern
    method: str
    auth: str  # key | users | decision | bearer | none
    handler: Callable


def _routes(sim: SimulatorState) -> list[Route]:
    s = sim.store
    table = [
        (r"/v3/sessions/", "GET", "key", lambda r: api.sessions(s, r)),
        (rf"/v3/session/{_UUID}/decision/", "GET", "decision", lambda r, i: api.decision(s, r, i)),
        (rf"/v3/sessions/{_UUID}/reviews/", "GET", "key", lambda r, i: api.reviews(s, r, i)),
        (r"/v3/workflows/", "GET", "key", lambda r: api.workflows(s, r)),
        (r"/v3/users/", "GET", "users", lambda r: api.users(s, r)),
        (r"/v3/businesses/", "GET", "key", lambda r: api.businesses(s, r)),
        (r"/v3/webhook/destinations/", "GET", "key", lambda r: api.destinations(s, r)),
        (
            rf"/v3/webhook/destinations/{_UUID}/deliveries/",
            "GET",
            "key",
            lambda r, d: api.deliveries(s, r, d),
        ),
        (_CASES, "GET", "key", lambda r, o, a: api.cases(s, r, o, a)),
        (
            rf"{_CASES}{_UUID}/events/",
            "GET",
            "key",
            lambda r, o, a, c: api.case_events(s, r, o, a, c),
        ),
        (r"/v3/lists/", "GET", "key", lambda r: api.lists(s, r)),
        (rf"/v3/lists/{_UUID}/entries/", "GET", "key", lambda r, u: api.list_entries(s, r, u)),
        (r"/v3/billing/balance/", "GET", "key", lambda r: api.billing_balance(s, r)),
        (
            rf"/v3/audit/{_UUID}/audit-logs/",
            "GET",
            "bearer",
            lambda r, o: console.audit_logs(s, sim.auth, r, o),
        ),
        (
            r"/auth/v2/programmatic/login/",
            "POST",
            "none",
            lambda r: console.auth_call(sim.auth, r, "login"),
        ),
        (
            r"/auth/v2/2fa/verify/",
            "POST",
            "none",
            lambda r: console.auth_call(sim.auth, r, "verify_2fa"),
        ),
        (
            r"/auth/v2/token/refresh/",
            "POST",
            "none",
            lambda r: console.auth_call(sim.auth, r, "refresh"),
        ),
    ]
    return [Route(re.compile(p + "$"), m, a, h) for p, m, a, h in table]


class SimulatorState:
    """Everything request threads share: data, auth, limits, faults."""

    def __init__(
        self,
        data_dir: Path,
        rate_limit: bool,
        faults: dict | None,
        limiter: RateLimiter,
        token_ttl_s: int,
        verbose: bool,
    ) -> None:
        self.store = Store(data_dir)
        org = build_organisation(int(self.store.meta["seed"]))
        self.keys = {k.secret: k for k in org.api_keys}
        members = {m["email"]: m["role"] for m in self.store.meta["organisation"]["members"]}
        self.auth = ConsoleAuth(members, access_ttl_s=token_ttl_s)
        self.rate_limit = rate_limit
        self.limiter = limiter
        self.faults = Faults(faults)
        self.verbose = verbose
        self.routes = _routes(self)
        self.apply_data_faults(self.faults.snapshot())

    def match(self, path: str) -> tuple[Route, tuple] | None:
        for route in self.routes:
            m = route.pattern.match(path)
            if m:
                return route, m.groups()
        return None

    def apply_data_faults(self, config: dict) -> dict:
        """One-shot data faults: equal timestamps and deletions (insert_head is per page)."""
        applied = {}
        if "equal_timestamps" in config:
            spec = config["equal_timestamps"]
            applied["equal_timestamps"] = self.store.insert_head(
                spec["stream"], int(spec.get("count", 1)), spec.get("timestamp")
            )
        if "delete_records" in config:
            spec = config["delete_records"]
            applied["delete_records"] = self.store.delete(
                spec["stream"], int(spec.get("count", 1)), spec.get("ids")
            )
        return applied


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    wbufsize = 1 << 16  # headers and body leave in one segment
    disable_nagle_algorithm = True
    server_version = "didit-simulator"
    sys_version = ""
    sim: SimulatorState  # set on the subclass made by start_server

    def log_message(self, fmt: str, *args) -> None:
        if self.sim.verbose:
            super().log_message(fmt, *args)

    def do_GET(self) -> None:
        self._handle("GET")

    def do_POST(self) -> None:
        self._handle("POST")

    def do_PUT(self) -> None:
        self._handle("PUT")

    def do_PATCH(self) -> None:
        self._handle("PATCH")

    def do_DELETE(self) -> None:
        self._handle("DELETE")

    # --- plumbing ---------------------------------------------------------------------
    def _send(
        self,
        status: int,
        body: bytes,
        headers: dict[str, str] | None = None,
        truncate: bool = False,
    ) -> None:
        self.send_response(status)
        if body or status != 301:
            self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        for key, value in (headers or {}).items():
            self.send_header(key, value)
        if truncate:
            self.send_header("Connection", "close")
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(body[: len(body) // 2] if truncate else body)
        if truncate:
            self.wfile.flush()
            self.close_connection = True

    def _json(self, status: int, obj: object, headers: dict[str, str] | None = None) -> None:
        self._send(status, orjson.dumps(obj), headers)

    def _read_body(self) -> bytes:
        length = int(self.headers.get("Content-Length") or 0)
        return self.rfile.read(length) if length else b""

    def _handle(self, method: str) -> None:
        sim = self.sim
        parts = urlsplit(self.path)
        path = parts.path
        body = self._read_body()
        if path.startswith("/_sim/"):
            self._admin(method, path, body)
            return
        sim.faults.sleep_latency(path)
        if sim.faults.take("drop_connection", path):
            self.close_connection = True
            self.connection.shutdown(2)  # no status line at all: the client sees a reset
            return
        if (burst := sim.faults.take("error_burst", path)) is not None:
            self._json(int(burst.get("status", 503)), {"detail": "A server error occurred."})
            return
        if (storm := sim.faults.take("rate_limit_storm", path)) is not None:
            wait = str(storm.get("retry_after", 1))
            self._json(
                429,
                throttled_detail(wait),
                {
                    "Retry-After": wait,
                    "X-RateLimit-Limit": "600",
                    "X-RateLimit-Remaining": "0",
                    "X-RateLimit-Reset": "0",
                },
            )
            return
        found = sim.match(path)
        if found is None and not path.endswith("/") and sim.match(path + "/"):
            query = f"?{parts.query}" if parts.query else ""
            self._send(301, b"", {"Location": f"{self._base()}{path}/{query}"})
            return
        if found is None:
            self._json(404, {"detail": "Not found."})
            return
        route, groups = found
        if route.method != method:
            self._json(405, {"detail": f'Method "{method}" not allowed.'})
            return
        headers = {k.lower(): v for k, v in self.headers.items()}
        if sim.rate_limit:
            identity = (
                headers.get("x-api-key") or headers.get("authorization") or self.client_address[0]
            )
            if (limited := sim.limiter.check(identity, method)) is not None:
                self._json(429, throttled_detail(limited["Retry-After"]), limited)
                return
        req = api.Req(
            method,
            path,
            dict(parse_qsl(parts.query, keep_blank_values=True)),
            headers,
            body,
            self._base(),
        )
        denied = self._authorise(route, groups, headers)
        if denied is not None:
            self._json(*denied)
            return
        try:
            status, payload = route.handler(req, *groups)
        except BadParamsError as err:
            self._json(400, err.errors)
            return
        self._send(status, payload, truncate=bool(sim.faults.take("truncate_body", path)))
        self._after_page(path)

    def _base(self) -> str:
        host = self.headers.get("Host") or "{}:{}".format(*self.server.server_address[:2])
        return f"http://{host}"

    def _authorise(self, route: Route, groups: tuple, headers: dict) -> tuple | None:
        """Didit's auth answers: 403 almost everywhere; 401 on /v3/users/ without any
        credential; 404 before auth on the decision route for unknown sessions. The decision
        and users routes also take a Console Bearer token (spec)."""
        if route.auth in ("none", "bearer"):
            return None
        if route.auth == "decision" and not api.session_exists(self.sim.store, groups[0]):
            return 404, api.NOT_FOUND
        key = headers.get("x-api-key")
        if key is not None and key in self.sim.keys:
            return None
        if key is None and route.auth in ("users", "decision") and self._bearer_ok(headers):
            return None
        if route.auth == "users" and key is None and "authorization" not in headers:
            return 401, NO_CREDENTIALS_USERS
        if route.auth == "decision":
            return 403, NO_CREDENTIALS_DECISION
        return 403, FORBIDDEN

    def _bearer_ok(self, headers: dict) -> bool:
        try:
            self.sim.auth.principal(headers.get("authorization"))
        except AuthError:
            return False
        return True

    def _after_page(self, path: str) -> None:
        stream = (
            "sessions"
            if path == "/v3/sessions/"
            else "audit_logs"
            if path.endswith("/audit-logs/")
            else None
        )
        if stream and (n := self.sim.faults.head_inserts(stream)):
            self.sim.store.insert_head(stream, n)

    def _admin(self, method: str, path: str, body: bytes) -> None:
        """`/_sim/faults` (GET, PUT), `/_sim/reset` (POST), `/_sim/health` (GET),
        `/_sim/attack` (POST: a Console brute force now, simulator/live_attack.py)."""
        sim = self.sim
        if path == "/_sim/faults" and method == "GET":
            self._json(200, sim.faults.snapshot())
        elif path == "/_sim/faults" and method == "PUT":
            try:
                config = orjson.loads(body or b"{}")
                sim.faults.replace(config)
            except (orjson.JSONDecodeError, FaultConfigError) as err:
                self._json(400, {"detail": f"invalid fault configuration: {err}"})
                return
            self._json(
                200, {"faults": sim.faults.snapshot(), "applied": sim.apply_data_faults(config)}
            )
        elif path == "/_sim/reset" and method == "POST":
            sim.faults.replace({})
            sim.limiter.reset()
            sim.auth.reset()
            self._json(200, {"faults": {}})
        elif path == "/_sim/attack" and method == "POST":
            try:
                request = orjson.loads(body or b"{}")
                self._json(200, live_attack.attack(sim.store, request))
            except (orjson.JSONDecodeError, live_attack.AttackError, TypeError, ValueError) as err:
                self._json(400, {"detail": f"invalid attack request: {err}"})
        elif path == "/_sim/health" and method == "GET":
            self._json(200, {"status": "ok", "organisation": sim.store.meta["organisation"]})
        else:
            self._json(404, {"detail": "Not found."})


class SimulatorServer:
    """A running simulator; ``base_url`` is ``http://host:port`` (API under ``/v3``)."""

    def __init__(self, httpd: ThreadingHTTPServer, state: SimulatorState) -> None:
        self._httpd = httpd
        self.state = state
        host, port = httpd.server_address[:2]
        self.base_url = f"http://{host}:{port}"
        self.port = port
        self._thread = threading.Thread(
            target=httpd.serve_forever, name="didit-simulator", daemon=True
        )
        self._thread.start()

    def set_faults(self, config: dict) -> dict:
        self.state.faults.replace(config)
        return self.state.apply_data_faults(config)

    def stop(self) -> None:
        self._httpd.shutdown()
        self._httpd.server_close()
        self._thread.join(timeout=5)

    def __enter__(self) -> SimulatorServer:
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()


def start_server(
    data_dir: Path,
    host: str = "127.0.0.1",
    port: int = 0,
    rate_limit: bool = True,
    faults: dict | None = None,
    *,
    get_limit: int = 600,
    write_limit: int = 300,
    window_s: float = 60.0,
    token_ttl_s: int = 86400,
    verbose: bool = False,
) -> SimulatorServer:
    """Serve ``data_dir`` (made by ``generate_world``) on a background thread."""
    state = SimulatorState(
        Path(data_dir),
        rate_limit,
        faults,
        RateLimiter(get_limit, write_limit, window_s),
        token_ttl_s,
        verbose,
    )
    handler = type("BoundHandler", (Handler,), {"sim": state})
    httpd = ThreadingHTTPServer((host, port), handler)
    httpd.daemon_threads = True
    return SimulatorServer(httpd, state)
