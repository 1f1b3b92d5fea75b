"""Shaping records to their schema: nothing lost, nothing leaked, one timestamp format.

Kept apart from the HTTP client because it is a different promise: whatever Didit sends,
each emitted record has exactly its schema's fields, keeps unknown keys in `extra_fields`,
drops expiring URLs and secrets, and is never emitted without its key or timestamp.
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
from tap_didit.timestamps import normalize_timestamp


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

    def post_process(self, row: dict, context: Context | None = None) -> dict | None:
        """Reshape to the schema: schema fields, parent keys, canonical timestamps."""
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
        """Warn about a record that cannot be loaded, naming it by key, never by content."""
        identity = {k: record.get(k) for k in self.primary_keys}
        self.logger.warning(
            "Stream '%s': skipped record %s: it %s. Other records continue.",
            self.name,
            identity,
            reason,
        )

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
