"""Shaping records to their schema: nothing lost, nothing leaked, one timestamp format.

Kept apart from the HTTP client because it is a different promise: whatever Didit sends,
each emitted record has exactly its schema's fields, keeps unknown keys in `extra_fields`,
drops expiring URLs and secrets, and is never emitted without its key or timestamp. A
record that cannot be emitted is counted, named and kept on the `skipped_records` stream
(skipped.py); a walk that skips everything it was offered fails.
"""

from __future__ import annotations

from collections.abc import Iterator
from functools import cached_property
from typing import Any, ClassVar

from singer_sdk import singerlib as singer
from singer_sdk.helpers._util import utc_now
from singer_sdk.helpers.conform import TypeConformanceLevel
from singer_sdk.helpers.types import Context
from singer_sdk.singerlib.catalog import SelectionMask

from tap_didit.schema_kit import EXTRA_FIELDS
from tap_didit.skipped import (
    SKIPPED_STREAM,
    WARNINGS_PER_STREAM,
    Skip,
    SkipLedger,
    StreamTally,
    descendants,
    ledger_of,
)
from tap_didit.timestamps import is_canonical, normalize_timestamp


class RecordShaping:
    """Mixin for SDK streams: `post_process`, RECORD generation and the selection mask."""

    #: Conformance is skipped: Didit sends plain JSON types and `post_process` already
    #: reshapes every record to the schema (unknown keys -> `extra_fields`, timestamps
    #: normalised). See README "Performance".
    TYPE_CONFORMANCE_LEVEL = TypeConformanceLevel.NONE
    #: Fields that must be normalised to the canonical UTC timestamp format.
    timestamp_fields: ClassVar[tuple[str, ...]] = ()
    #: Fields never emitted (expiring media URLs, secrets).
    dropped_fields: ClassVar[frozenset[str]] = frozenset()
    #: Parent keys copied from the context into each record.
    context_fields: ClassVar[tuple[str, ...]] = ()
    #: What to check when every record of a walk is skipped (named in the failure).
    shape_setting_hint: ClassVar[str] = (
        "Check that `base_url` points to Didit's v3 API and that this tap version matches it."
    )

    #: Position of the record being shaped among those this stream was offered in the run.
    _position = 0

    @cached_property
    def _skip_ledger(self) -> SkipLedger:
        return ledger_of(self._tap)

    @cached_property
    def _tally(self) -> StreamTally:
        return self._skip_ledger.tally(self.name)

    def post_process(self, row: dict, context: Context | None = None) -> dict | None:
        """Reshape to the schema: schema fields, parent keys, canonical timestamps."""
        tally = self._tally
        tally.offered += 1
        self._position = tally.offered
        out = self.fit_to_schema(row)
        if context:
            for key in self.context_fields:
                if out.get(key) is None and key in context:
                    out[key] = context[key]
        for key in self.timestamp_fields:
            out[key] = normalize_timestamp(out[key])
        if any(out.get(key) in (None, "") for key in self.primary_keys):
            self.skip_record(out, f"has no {'/'.join(self.primary_keys)}")
            return None
        return out

    def skip_record(self, record: dict[str, Any], reason: str) -> None:
        """Count, warn about and emit a record that cannot be loaded, named by key or position,
        never by content."""
        identity = {k: record.get(k) for k in self.primary_keys}
        keys = [identity[k] for k in self.primary_keys]
        record_key = None if any(v in (None, "") for v in keys) else "/".join(map(str, keys))
        skip = Skip(self.name, self._position, reason, record_key, self.missing_fields(record))
        self._skip_ledger.record(skip)
        skipped = self._tally.skipped
        if skipped <= WARNINGS_PER_STREAM:
            self.logger.warning(
                "Stream '%s': skipped record %s (record %d of this run): it %s. "
                "Other records continue.",
                self.name,
                identity,
                skip.position,
                reason,
            )
        elif skipped == WARNINGS_PER_STREAM + 1:
            self.logger.warning(
                "Stream '%s': more than %d records skipped; the rest are counted and emitted on "
                "the `%s` stream, not logged one by one.",
                self.name,
                WARNINGS_PER_STREAM,
                SKIPPED_STREAM,
            )

    def missing_fields(self, record: dict[str, Any]) -> tuple[str, ...]:
        """Our names of the key and replication fields this record lacks (or cannot use)."""
        missing = [k for k in self.primary_keys if record.get(k) in (None, "")]
        stamp_key = self.replication_key
        if stamp_key and stamp_key not in missing:
            stamp = record.get(stamp_key)
            if not (isinstance(stamp, str) and is_canonical(stamp)):
                missing.append(stamp_key)
        return tuple(missing)

    def source_field_note(self, field: str) -> str:
        """How the API names `field`, when it differs (aliases); empty otherwise."""
        return ""

    def _sync_records(
        self, context: Context | None = None, *, write_messages: bool = True
    ) -> Iterator[dict]:
        """The SDK's sync; after a top-level walk (children included), the all-skipped gate."""
        yield from super()._sync_records(context, write_messages=write_messages)  # type: ignore[misc]
        if self.parent_stream_type is None:  # type: ignore[attr-defined]
            self._skip_ledger.check([self, *descendants(self)])

    @cached_property
    def _empty_record(self) -> dict[str, None]:
        """Every schema field as null: the starting point of each emitted record."""
        return dict.fromkeys(self.schema["properties"])

    def fit_to_schema(self, row: dict[str, Any]) -> dict[str, Any]:
        """Schema fields as-is, missing ones as null, unknown ones under `extra_fields`."""
        out = self._empty_record.copy()
        extra: dict[str, Any] = {}
        for key, value in row.items():
            if key in out:
                out[key] = value
            elif key not in self.dropped_fields:
                extra[key] = value
        if EXTRA_FIELDS in out:
            out[EXTRA_FIELDS] = extra or None
        return out

    @cached_property
    def _every_property_selected(self) -> bool:
        """Whether the catalog deselects nothing in this stream (the usual case)."""
        return all(self.mask.values())

    def _generate_record_messages(self, record: dict) -> Iterator[singer.RecordMessage]:
        """The SDK's RECORD generation, minus two per-record walks that cannot change it.

        With nothing deselected, the SDK's recursive property pruning finds nothing to
        prune, and with conformance NONE its conformance call returns the record as is;
        together they were a fifth of the tap's CPU time. Any deselection or other
        conformance level takes the SDK's own path.
        """
        if not self._every_property_selected or self.TYPE_CONFORMANCE_LEVEL != (
            TypeConformanceLevel.NONE
        ):
            yield from super()._generate_record_messages(record)
            return
        for stream_map in self.stream_maps:
            mapped = stream_map.transform(record)
            if mapped is not None:
                yield singer.RecordMessage(
                    stream=stream_map.stream_alias,
                    record=mapped,
                    version=self._stream_version,
                    time_extracted=utc_now(),
                )

    @property
    def mask(self) -> SelectionMask:
        """The SDK's selection mask, memoising the answers it derives for nested keys.

        The SDK looks up every nested key of every record (e.g. each key of `raw`) and
        re-derives unlisted ones from their parent on each call; caching keeps the same
        answers at a fraction of the cost.
        """
        if not isinstance(self._mask, MemoisedSelectionMask):
            self._mask = MemoisedSelectionMask(self.metadata.resolve_selection())
        return self._mask


class MemoisedSelectionMask(SelectionMask):
    """A `SelectionMask` that stores each inherited answer the first time it is asked."""

    def __missing__(self, breadcrumb: tuple[str, ...]) -> bool:
        selected = super().__missing__(breadcrumb)
        self[breadcrumb] = selected
        return selected
