"""How long to wait before retrying a failed request.

Didit answers 429 with `Retry-After` (seconds, or an HTTP date) and sometimes only
`X-RateLimit-Reset` (epoch seconds, or seconds from now). Those are the *minimum*
wait; everything else retriable (5xx, timeouts, dropped connections) gets jittered
exponential backoff.
"""

from __future__ import annotations

import email.utils
import random
import time
from collections.abc import Callable, Generator, Mapping

#: X-RateLimit-Reset values above this are epoch seconds, below it a delay.
_EPOCH_THRESHOLD = 1_000_000_000


def server_requested_wait(
    headers: Mapping[str, str], *, now: Callable[[], float] = time.time
) -> float | None:
    """Seconds the server asked us to wait, or None if it did not say."""
    retry_after = (headers.get("Retry-After") or "").strip()
    if retry_after:
        if retry_after.replace(".", "", 1).isdigit():
            return float(retry_after)
        try:
            when = email.utils.parsedate_to_datetime(retry_after)
        except (TypeError, ValueError):
            when = None
        if when is not None:
            return max(when.timestamp() - now(), 0.0)
    reset = (headers.get("X-RateLimit-Reset") or "").strip()
    if reset.replace(".", "", 1).isdigit():
        value = float(reset)
        return max(value - now(), 0.0) if value > _EPOCH_THRESHOLD else value
    return None


def exponential_wait(attempt: int, *, factor: float, cap: float) -> float:
    """Full-range jittered exponential backoff: factor * 2**(attempt-1), +/-25 %."""
    base = min(factor * 2 ** max(attempt - 1, 0), cap)
    return min(base * random.uniform(0.75, 1.25), cap)


def wait_generator(
    *,
    factor: float,
    cap: float,
    on_server_wait: Callable[[float], None] | None = None,
) -> Generator[float, BaseException | None, None]:
    """A `backoff` wait generator that receives each failure and yields the wait.

    A server-requested wait is honoured (never shortened) up to `cap`, plus a small
    jitter so many workers do not retry in lock-step.
    """
    attempt = 0
    exc = yield  # type: ignore[misc]
    while True:
        attempt += 1
        response = getattr(exc, "response", None)
        requested = server_requested_wait(response.headers) if response is not None else None
        if requested is not None:
            wait = min(requested + random.uniform(0.0, 0.1 * factor), cap)
            if on_server_wait is not None:
                on_server_wait(wait)
        else:
            wait = exponential_wait(attempt, factor=factor, cap=cap)
        exc = yield wait
