"""Run the tap in this process and collect its Singer messages and log output."""

from __future__ import annotations

import copy
import datetime as dt
import io
import json
import logging
import sys
from dataclasses import dataclass, field
from typing import Any

from tap_didit.tap import TapDidit


@dataclass
class TapRun:
    """Everything one in-process tap run wrote."""

    messages: list[dict[str, Any]]
    logs: str
    output: str = field(repr=False, default="")

    def records(self, stream: str) -> list[dict[str, Any]]:
        """RECORD payloads of a stream."""
        return [
            m["record"] for m in self.messages if m["type"] == "RECORD" and m["stream"] == stream
        ]

    @property
    def final_state(self) -> dict[str, Any]:
        """The value of the last STATE message."""
        return [m for m in self.messages if m["type"] == "STATE"][-1]["value"]


def select_only(
    tap: TapDidit, names: set[str], deselected: set[tuple[str, tuple[str, ...]]] = frozenset()
) -> dict[str, Any]:
    """A catalog dict with exactly `names` selected, minus `(stream, breadcrumb)` pairs."""
    catalog = tap.catalog_dict
    for entry in catalog["streams"]:
        for md in entry["metadata"]:
            if md["breadcrumb"] == []:
                md["metadata"]["selected"] = entry["tap_stream_id"] in names
            elif (entry["tap_stream_id"], tuple(md["breadcrumb"])) in deselected:
                md["metadata"]["selected"] = False
    return catalog


def run_tap(
    config: dict[str, Any],
    streams: set[str],
    state: dict[str, Any] | None = None,
    deselected: set[tuple[str, tuple[str, ...]]] = frozenset(),
    started_at: dt.datetime | None = None,
) -> TapRun:
    """Run a sync in this process, capturing stdout (bytes) and all log output.

    `started_at` freezes the sync start (the upper bound of every walk), so a test that
    checks `date_to` or a bookmark clamp does not depend on the wall clock.
    """
    catalog = select_only(TapDidit(config=config, parse_env_config=False), streams, deselected)
    # A copy: the SDK updates the state it is given in place.
    tap = TapDidit(
        config=config, catalog=catalog, state=copy.deepcopy(state or {}), parse_env_config=False
    )
    if started_at is not None:
        tap.sync_started_at = started_at
    buffer = io.BytesIO()
    fake_stdout = io.TextIOWrapper(buffer, encoding="utf-8")
    log_stream = io.StringIO()
    handler = logging.StreamHandler(log_stream)
    root = logging.getLogger()
    root.addHandler(handler)
    old_stdout, sys.stdout = sys.stdout, fake_stdout
    try:
        tap.sync_all()
    finally:
        fake_stdout.flush()
        sys.stdout = old_stdout
        root.removeHandler(handler)
    output = buffer.getvalue().decode()
    messages = [json.loads(line) for line in output.splitlines() if line.strip()]
    return TapRun(messages=messages, logs=log_stream.getvalue(), output=output)
