"""Records the tap could not emit: counted, named, kept, and never the whole of a walk.

A record without its primary key or its replication timestamp cannot be loaded (the target
upserts on the key, the bookmark is compared as text). Each one is

- warned about by key, or by position when it has no key (the first `WARNINGS_PER_STREAM`
  of a stream one by one, then one line saying the rest are only counted);
- emitted on the `skipped_records` stream (stream, record_key, position, reason, the fields
  missing by name, skipped_at), so any target keeps them beside the data;
- counted per stream. When a stream was offered records in a run and skipped every one of
  them, the tap fails after that stream's walk, naming the fields that were missing and the
  setting to check (`audit_logs_field_aliases` for the audit log): a run that loads nothing
  of what Didit sent is a misconfiguration, not a quiet day. Its bookmark is not advanced.

Never a value of the record other than its key: records may hold personal data.
"""

from __future__ import annotations

import datetime as dt
from collections import Counter
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, ClassVar

from singer_sdk import Stream
from singer_sdk.exceptions import FatalAPIError

from tap_didit.schema_kit import record_schema
from tap_didit.timestamps import format_timestamp

if TYPE_CHECKING:
    from singer_sdk import Tap

SKIPPED_STREAM = "skipped_records"
#: Skipped records of one stream warned about one by one; the rest are counted and emitted.
WARNINGS_PER_STREAM = 100


class AllRecordsSkippedError(FatalAPIError):
    """A stream was offered records and could emit none of them: check the settings."""


@dataclass
class StreamTally:
    """What one stream was offered in this run and what it had to skip."""

    offered: int = 0
    skipped: int = 0
    missing: Counter[str] = field(default_factory=Counter)


@dataclass(frozen=True)
class Skip:
    """One skipped record, as the `skipped_records` stream emits it (no record content)."""

    stream: str
    position: int
    reason: str
    record_key: str | None
    missing_fields: tuple[str, ...]


class SkipLedger:
    """Per run: the tallies of every stream and the outlet for skipped records."""

    def __init__(self, tap: Tap) -> None:
        self.tap = tap
        self.tallies: dict[str, StreamTally] = {}

    def tally(self, stream: str) -> StreamTally:
        """The tally of `stream` (created on first use)."""
        return self.tallies.setdefault(stream, StreamTally())

    def record(self, skip: Skip) -> None:
        """Count a skipped record and emit it on the `skipped_records` stream if selected."""
        tally = self.tally(skip.stream)
        tally.skipped += 1
        tally.missing.update(skip.missing_fields)
        outlet = self.tap.streams.get(SKIPPED_STREAM)
        if isinstance(outlet, SkippedRecordsStream):
            outlet.emit(skip)

    def check(self, streams: Iterable[Any]) -> None:
        """Fail when one of `streams` was offered records and skipped every one of them."""
        for stream in streams:
            tally = self.tallies.get(stream.name)
            if tally is None or tally.skipped == 0 or tally.skipped < tally.offered:
                continue
            raise AllRecordsSkippedError(all_skipped_message(stream, tally))


def all_skipped_message(stream: Any, tally: StreamTally) -> str:
    """What failed and what to check, by field name and count, never by value."""
    fields = ", ".join(
        f"`{name}`{stream.source_field_note(name)} in {count}"
        for name, count in sorted(tally.missing.items())
    )
    setting = stream.shape_setting_hint
    return (
        f"Stream '{stream.name}': Didit delivered {tally.offered} record(s) in this run and "
        f"every one was skipped (missing or unreadable: {fields or 'see the warnings above'}). "
        f"{setting} Nothing of this stream was emitted and its bookmark was not advanced; "
        f"the skipped records are on the `{SKIPPED_STREAM}` stream."
    )


def ledger_of(tap: Tap) -> SkipLedger:
    """The run's ledger, created with the first skipped or offered record."""
    ledger = getattr(tap, "_skip_ledger", None)
    if ledger is None:
        ledger = SkipLedger(tap)
        tap._skip_ledger = ledger  # type: ignore[attr-defined]
    return ledger


def descendants(stream: Any) -> Iterator[Any]:
    """A stream's child streams, their children, and so on."""
    for child in getattr(stream, "child_streams", None) or ():
        yield child
        yield from descendants(child)


class SkippedRecordsStream(Stream):
    """`skipped_records`: one row per record another stream could not emit in a run.

    Rows are written as the other streams skip them (after this stream's SCHEMA), so nothing
    is held in memory; the stream's own turn at the end of the sync emits no further rows.
    Full table without ACTIVATE_VERSION: earlier runs' rows are never retired by a target.
    """

    name = SKIPPED_STREAM
    primary_keys: ClassVar[list[str]] = ["stream", "sync_started_at", "position"]  # type: ignore[assignment]
    replication_key = None
    schema = record_schema(
        {
            "stream": "string",
            "sync_started_at": "datetime",
            "position": "integer",
            "record_key": "string",
            "reason": "string",
            "missing_fields": "strings",
            "skipped_at": "datetime",
        },
        required=("stream", "sync_started_at", "position", "reason", "skipped_at"),
        extra_fields=False,
    )

    _schema_sent = False

    @property
    def emit_activate_version_messages(self) -> bool:
        """Never: a run's version swap would retire the skipped records of earlier runs."""
        return False

    def get_records(self, context: Any) -> Iterator[dict[str, Any]]:
        """Nothing left at the stream's own turn: every row was emitted when it happened."""
        return iter(())

    def emit(self, skip: Skip) -> None:
        """Write one skipped record now (its SCHEMA first, once)."""
        if not self.selected:
            return
        if not self._schema_sent:
            self._write_schema_message()
            self._schema_sent = True
        started = getattr(self._tap, "sync_started_at", None) or dt.datetime.now(dt.UTC)
        self._write_record_message(
            {
                "stream": skip.stream,
                "sync_started_at": format_timestamp(started),
                "position": skip.position,
                "record_key": skip.record_key,
                "reason": skip.reason,
                "missing_fields": list(skip.missing_fields),
                "skipped_at": format_timestamp(dt.datetime.now(dt.UTC)),
            }
        )
