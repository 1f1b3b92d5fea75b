"""The tap: settings, streams, the shared request budget and Console session."""

from __future__ import annotations

import copy
import datetime as dt
import logging
from functools import cached_property
from typing import ClassVar

from singer_sdk import Tap
from singer_sdk.contrib.msgspec import MsgSpecWriter
from singer_sdk.exceptions import ConfigValidationError
from singer_sdk.helpers.capabilities import (
    CapabilitiesEnum,
    PluginCapabilities,
    TapCapabilities,
)
from singer_sdk.plugin_base import JSONSchemaValidator

from tap_didit.auth import ConsoleTokenAuth
from tap_didit.config_checks import schema_errors, selection_errors, semantic_errors
from tap_didit.pacing import RequestPacer
from tap_didit.run_log import demote_detail, quiet_metrics
from tap_didit.settings import CONFIG_SCHEMA, MAX_PAGE_SIZE
from tap_didit.streams import STREAM_TYPES


class TapDidit(Tap):
    """Singer tap for Didit: audit log, sessions, reviews, decisions, configuration."""

    name = "tap-didit"
    #: A copy: the SDK appends its built-in settings (stream maps, ...) to this dict.
    config_jsonschema = copy.deepcopy(CONFIG_SCHEMA)
    #: BATCH is left out: still a preview in the SDK and target-postgres cannot load it.
    capabilities: ClassVar[list[CapabilitiesEnum]] = [
        TapCapabilities.CATALOG,
        TapCapabilities.STATE,
        TapCapabilities.DISCOVER,
        TapCapabilities.ACTIVATE_VERSION,
        PluginCapabilities.ABOUT,
        PluginCapabilities.STREAM_MAPS,
        PluginCapabilities.FLATTENING,
        PluginCapabilities.STRUCTURED_LOGGING,
    ]
    #: msgspec serialises RECORD lines several times faster than the default writer.
    message_writer_class = MsgSpecWriter

    def _validate_config(self, *, raise_errors: bool = True) -> list[str]:
        """Schema and sanity checks, with messages that name settings, never values."""
        schema = self.config_jsonschema
        self.append_builtin_config(schema)
        # The SDK's validator also fills in defaults, so it must see the live config.
        found = JSONSchemaValidator(schema).iter_errors(self._config)
        errors = schema_errors(found) or semantic_errors(self._config)
        if errors and raise_errors:
            raise ConfigValidationError(
                "Config validation failed: " + " ".join(errors), errors=errors
            )
        return errors

    def discover_streams(self) -> list:
        """All streams; settings a stream needs are checked when it is selected."""
        return [stream_class(tap=self) for stream_class in STREAM_TYPES]

    @cached_property
    def sync_started_at(self) -> dt.datetime:
        """Upper bound of every incremental walk of this run, fixed once."""
        return dt.datetime.now(dt.UTC)

    @cached_property
    def pacer(self) -> RequestPacer:
        """One request budget for the whole run (Didit counts per API key)."""
        return RequestPacer(float(self.config["max_requests_per_minute"]))

    @cached_property
    def console_auth(self) -> ConsoleTokenAuth:
        """One Console login per run, shared by the audit-log requests."""
        return ConsoleTokenAuth(self.config, timeout=float(self.config["request_timeout_seconds"]))

    @property
    def page_size(self) -> int:
        """`limit` for list requests."""
        return min(int(self.config["page_size"]), MAX_PAGE_SIZE)

    def sync_all(self) -> None:
        """Check stream-specific settings before the first request, then sync."""
        selected = {
            name
            for name, stream in self.streams.items()
            if stream.selected or stream.has_selected_descendents
        }
        errors = selection_errors(self.config, selected)
        if errors:
            raise ConfigValidationError(
                "Config validation failed: " + " ".join(errors), errors=errors
            )
        _ = self.sync_started_at
        self.quiet_logging()
        super().sync_all()

    def quiet_logging(self) -> None:
        """At INFO, one start and one summary line per stream; the detail at DEBUG.

        See run_log.py and README "Logging". The SDK's per-partition lines come from each
        stream's logger and from `singer_sdk` (the unsorted-stream note, once per walk).
        """
        quiet_metrics(self.metrics_logger, str(self.config.get("metrics_log_level", "DEBUG")))
        demote_detail(logging.getLogger("singer_sdk"))
        for stream in self.streams.values():
            demote_detail(stream.logger)


if __name__ == "__main__":
    TapDidit.cli()
