"""A plain HTTP client for the simulator tests (so they see exactly what the server sends)."""

from __future__ import annotations

import http.client
import json
from dataclasses import dataclass
from urllib.parse import urlsplit

API_KEY = "sim-readonly-key-0001"
KEY = {"x-api-key": API_KEY}


@dataclass
class Reply:
    status: int
    headers: dict[str, str]
    body: bytes

    def json(self):
        return json.loads(self.body)


class Client:
    """A plain keep-alive HTTP client (so tests see exactly what the server sends)."""

    def __init__(self, base_url: str) -> None:
        parts = urlsplit(base_url)
        self.base_url = base_url
        self.conn = http.client.HTTPConnection(parts.hostname, parts.port, timeout=30)

    def call(
        self, method: str, path: str, headers: dict | None = None, body: dict | None = None
    ) -> Reply:
        if path.startswith("http"):
            path = path[len(self.base_url) :]
        data = json.dumps(body).encode() if body is not None else None
        hdrs = {"Content-Type": "application/json", **(headers or {})} if data else (headers or {})
        try:
            self.conn.request(method, path, body=data, headers=hdrs)
            resp = self.conn.getresponse()
            payload = resp.read()
        except (http.client.HTTPException, ConnectionError):
            self.conn.close()
            raise
        reply = Reply(resp.status, {k.lower(): v for k, v in resp.getheaders()}, payload)
        if resp.getheader("Connection", "").lower() == "close":
            self.conn.close()
        return reply

    def get(self, path: str, headers: dict | None = KEY) -> Reply:
        return self.call("GET", path, headers)

    def close(self) -> None:
        self.conn.close()


def walk(client: Client, url: str, headers: dict | None = KEY) -> list[dict]:
    """Follow `next` to the end; returns every result in order."""
    out = []
    while url:
        page = client.get(url, headers).json()
        out.extend(page["results"])
        url = page["next"]
    return out


class FakeClock:
    """A clock the tests move by hand (no sleeping, no timed assertions)."""

    def __init__(self, now: float) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now
