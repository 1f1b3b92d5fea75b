"""Client-side request pacing, so a backfill stays under Didit's per-minute budget.

Didit counts GET requests in a sliding 60-second window per API key. Spacing requests
evenly at `max_requests_per_minute` never exceeds that window, whereas bursting first
and waiting later would trip a 429 and cost a whole `Retry-After`.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable


class RequestPacer:
    """Spaces request *starts* at least `60 / max_requests_per_minute` seconds apart.

    Shared by every stream of one tap run: the budget belongs to the API key, not to
    a stream. Latency overlaps the interval, so a slow server is not paced twice.
    """

    def __init__(
        self,
        max_requests_per_minute: float,
        *,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self.interval = 60.0 / max_requests_per_minute if max_requests_per_minute > 0 else 0.0
        self._clock = clock
        self._sleep = sleep
        self._next_slot = 0.0
        self._lock = threading.Lock()

    def wait_for_slot(self) -> None:
        """Block until the next request may start."""
        if not self.interval:
            return
        with self._lock:
            now = self._clock()
            start = max(now, self._next_slot)
            self._next_slot = start + self.interval
        if start > now:
            self._sleep(start - now)

    def hold_off(self, seconds: float) -> None:
        """Push the next slot out, e.g. after the server asked us to wait."""
        with self._lock:
            self._next_slot = max(self._next_slot, self._clock() + seconds)
