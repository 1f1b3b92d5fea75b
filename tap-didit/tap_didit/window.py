"""The bounds of one incremental walk over a newest-first list.

Didit lists are newest first with no "modified since" filter, and the date filters are
whole UTC days. So a sync fixes its upper bound when it starts, walks down from the top,
and stops only once a whole page lies before `floor = bookmark - lookback` (timestamps
equal to the floor may span several pages, so a page *containing* the floor is never the
last one read). The bookmark moves only when the walk completed; see docs/resume.md.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from functools import cached_property
from typing import Any

from tap_didit.timestamps import format_timestamp, is_canonical, parse_timestamp, utc_day


@dataclass(frozen=True)
class Window:
    """Lower bound (inclusive) and upper bound fixed at sync start."""

    floor: dt.datetime | None
    upper: dt.datetime

    @classmethod
    def for_sync(
        cls,
        *,
        bookmark: dt.datetime | None,
        lookback: dt.timedelta,
        started_at: dt.datetime,
    ) -> Window:
        """Floor = bookmark - lookback (None: walk everything), upper = sync start."""
        return cls(floor=None if bookmark is None else bookmark - lookback, upper=started_at)

    def date_params(self, *, upper_day_offset: int = 0) -> dict[str, str]:
        """`date_from` / `date_to` (UTC days, inclusive) covering the whole window."""
        params = {"date_to": utc_day(self.upper + dt.timedelta(days=upper_day_offset))}
        if self.floor is not None:
            params["date_from"] = utc_day(self.floor)
        return params

    @cached_property
    def floor_text(self) -> str | None:
        """The floor in the canonical format, for comparing canonical timestamps as text."""
        return None if self.floor is None else format_timestamp(self.floor)

    def contains(self, timestamp: str | None) -> bool:
        """True when the record is at or after the floor (records without time count)."""
        if self.floor is None or not timestamp:
            return True
        if is_canonical(timestamp):
            return timestamp >= self.floor_text  # type: ignore[operator]
        try:
            return parse_timestamp(timestamp) >= self.floor
        except ValueError:
            return True  # unreadable: never a reason to stop walking

    def page_is_past_floor(self, key: str):
        """A predicate for the paginator: every record on the page is older than the floor."""

        def predicate(records: list[dict[str, Any]]) -> bool:
            if self.floor is None:
                return False
            stamps = [r.get(key) for r in records]
            return all(isinstance(s, str) and not self.contains(s) for s in stamps)

        return predicate
