"""Incremental walks over Didit's newest-first lists (see window.py and docs/resume.md)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from typing import Any, ClassVar

from singer_sdk.helpers.types import Context

from tap_didit.client import DiditStream
from tap_didit.timestamps import format_timestamp, is_canonical, parse_timestamp
from tap_didit.window import Window


class NewestFirstStream(DiditStream):
    """Incremental on a timestamp, read newest first, bookmark only after a full walk.

    `is_sorted = False` makes the SDK keep the running maximum in `progress_markers`
    and promote it to the bookmark only when the walk (partition) completed; a run that
    dies midway leaves the previous bookmark untouched.
    """

    is_sorted = False
    #: The API filters on this stream's timestamp with `date_from` / `date_to` days.
    date_filter: ClassVar[bool] = True
    #: The list is ordered by the replication key, so a page past the floor ends the walk.
    ordered_by_replication_key: ClassVar[bool] = True

    _window: Window | None = None

    @property
    def lookback(self) -> dt.timedelta:
        """How far before the bookmark each walk starts again."""
        return dt.timedelta(days=int(self.config["lookback_days"]))

    @property
    def source_timestamp_key(self) -> str:
        """The API's name for the replication key (aliases may differ)."""
        return str(self.replication_key)

    def get_replication_key_signpost(self, context: Context | None = None) -> str:
        """The sync start, canonical: no bookmark may pass this run's upper bound.

        The SDK's default is the tap's creation time in another text format, and bookmarks
        are compared as text (docs/resume.md section 1).
        """
        return format_timestamp(self.tap.sync_started_at)

    def bookmark(self, context: Context | None) -> dt.datetime | None:
        """The last completed bookmark of this partition, if any."""
        value = self.get_context_state(context).get("replication_key_value")
        return parse_timestamp(value) if value else None

    def start_date(self) -> dt.datetime | None:
        """`start_date` setting as an aware datetime."""
        value = self.config.get("start_date")
        return parse_timestamp(value) if value else None

    def window_for(self, context: Context | None) -> Window:
        """Bounds of this walk: `max(bookmark - lookback, start_date)` .. sync start."""
        window = Window.for_sync(
            bookmark=self.bookmark(context),
            lookback=self.lookback,
            started_at=self.tap.sync_started_at,
        )
        start = self.start_date()
        floor = window.floor if window.floor is not None else start
        if floor is not None and start is not None:
            floor = max(floor, start)
        return Window(floor=floor, upper=window.upper)

    def first_page_params(self, context: Context | None) -> dict[str, Any]:
        """Add the day filter covering the window."""
        params = super().first_page_params(context)
        if self.date_filter and self._window is not None:
            offset = self.upper_day_offset_for(context)
            params.update(self._window.date_params(upper_day_offset=offset))
        return params

    def upper_day_offset_for(self, context: Context | None) -> int:
        """Extra days added to `date_to` (some endpoints compare it with midnight)."""
        return 0

    def get_records(self, context: Context | None) -> Iterator[dict[str, Any]]:
        """Walk the window; log its bounds and size (DEBUG: once per partition)."""
        self._window = self.window_for(context)
        self._page_predicate = (
            self._window.page_is_past_floor(self.source_timestamp_key)
            if self.ordered_by_replication_key
            else None
        )
        if context:
            # The SDK writes the signpost for the stream, not per partition: a partition's
            # bookmark would otherwise never be clamped to this run's start.
            self._write_replication_key_signpost(context, self.get_replication_key_signpost())
        floor = self._window.floor.isoformat() if self._window.floor else "the beginning"
        self.totals.floors.add(floor)  # the summary names the earliest (run_log.py)
        self.logger.debug("Stream '%s': reading %s from %s.", self.name, context or "", floor)
        count = 0
        for record in super().get_records(context):
            count += 1
            yield record
        self.logger.debug(
            "Stream '%s': walk %s complete, %d records read; the bookmark may now advance.",
            self.name,
            context or "",
            count,
        )

    def post_process(self, row: dict, context: Context | None = None) -> dict | None:
        """Drop records below the floor (they came with the whole first day).

        A record without a readable timestamp is skipped with a warning: emitting it would
        corrupt the bookmark, which the SDK compares as text.
        """
        out = super().post_process(row, context)
        if out is None:
            return None
        stamp = out.get(self.replication_key)
        if not (isinstance(stamp, str) and is_canonical(stamp)):
            self.skip_record(out, f"has no valid `{self.replication_key}` timestamp")
            return None
        if self._window is not None and not self._window.contains(stamp):
            return None
        return out
