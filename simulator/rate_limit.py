"""Didit's rate limits: per credential, 60-second sliding window, separate GET and write scopes.

Didit: `generic-get` 600/min and `generic-write` 300/min per API key (else per client IP);
`X-RateLimit-*` headers appear only on the 429 (API-NOTES §2.7).
"""

from __future__ import annotations

import math
import threading
import time
from collections import deque
from dataclasses import dataclass, field


@dataclass
class RateLimiter:
    get_limit: int = 600
    write_limit: int = 300
    window_s: float = 60.0
    clock: callable = time.time  # type: ignore[valid-type]
    _hits: dict[tuple[str, str], deque] = field(default_factory=dict)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def check(self, identity: str, method: str) -> dict[str, str] | None:
        """Record one request; return the 429 headers if it is over the limit, else None."""
        scope = "get" if method in ("GET", "HEAD", "OPTIONS") else "write"
        limit = self.get_limit if scope == "get" else self.write_limit
        now = self.clock()
        with self._lock:
            hits = self._hits.setdefault((identity, scope), deque())
            while hits and hits[0] <= now - self.window_s:
                hits.popleft()
            if len(hits) >= limit:
                reset = hits[0] + self.window_s
                wait = max(1, math.ceil(reset - now))
                return {
                    "Retry-After": str(wait),
                    "X-RateLimit-Limit": str(limit),
                    "X-RateLimit-Remaining": "0",
                    "X-RateLimit-Reset": str(math.ceil(reset)),
                }
            hits.append(now)
        return None

    def reset(self) -> None:
        with self._lock:
            self._hits.clear()


def throttled_detail(retry_after: str) -> dict[str, str]:
    return {"detail": f"Request was throttled. Expected available in {retry_after} seconds."}
