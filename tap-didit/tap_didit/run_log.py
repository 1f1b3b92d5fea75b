"""What a run logs: per stream, one start line and one summary at INFO; the detail at DEBUG.

The SDK logs a "Beginning sync" line per partition (for a child stream: per parent record)
and a METRIC line per request and per partition, so stderr grows with the data. Here:

- `RunReporting` (a mixin for SDK streams) logs the SDK's "Beginning sync" line once per
  stream at INFO (later partitions at DEBUG) and, when the stream is done, one summary.
- `StreamTotals` adds up, per stream, what the SDK's own meters count (records, requests,
  partitions) plus retries and skips, and words the summary line.
- `TotallingCounter` is the SDK's counter that also adds to a stream's totals.
- `DemotedDetail` (a logging filter) turns the SDK's per-partition lines into DEBUG
  records: shown with `TAP_DIDIT_LOGLEVEL=DEBUG`, dropped otherwise.
- `quiet_metrics` leaves the SDK's METRIC lines to DEBUG unless `metrics_log_level` is
  `INFO` (the SDK's own behaviour).

No line here carries a record's content: counts, stream names and timestamps only.
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass, field
from functools import cached_property
from typing import TYPE_CHECKING, Any

from singer_sdk import metrics

if TYPE_CHECKING:
    from singer_sdk import Stream

    _Base = Stream
else:
    _Base = object

#: The SDK's start line, logged once per partition; the first one per stream stays INFO.
SYNC_START = "Beginning sync of "
#: SDK lines logged once per partition or walk, not once per stream: DEBUG detail.
PER_PARTITION_DETAIL = (
    "Starting incremental sync of ",
    "Stream is assumed to be unsorted",
    "Pagination stopped after ",
)
#: `metrics_log_level` value that keeps the SDK's METRIC lines at INFO.
METRICS_AT_INFO = "INFO"


class DemotedDetail(logging.Filter):
    """Turns the SDK's per-partition lines into DEBUG records, dropped unless DEBUG is on.

    A logger filter sees only records logged on its own logger, after the level check;
    so it decides again, against DEBUG, whether the demoted record may pass.
    """

    def __init__(self, templates: tuple[str, ...] = PER_PARTITION_DETAIL) -> None:
        super().__init__()
        self.templates = templates

    def filter(self, record: logging.LogRecord) -> bool:
        """Pass everything else untouched; demote or drop the per-partition lines."""
        if record.levelno <= logging.DEBUG or not (
            isinstance(record.msg, str) and record.msg.startswith(self.templates)
        ):
            return True
        if not logging.getLogger(record.name).isEnabledFor(logging.DEBUG):
            return False
        record.levelno, record.levelname = logging.DEBUG, logging.getLevelName(logging.DEBUG)
        return True


def demote_detail(logger: logging.Logger) -> None:
    """Attach `DemotedDetail` to a logger once (loggers outlive tap instances)."""
    if not any(isinstance(f, DemotedDetail) for f in logger.filters):
        logger.addFilter(DemotedDetail())


def quiet_metrics(metrics_logger: logging.Logger, metrics_log_level: str) -> None:
    """Keep METRIC lines for DEBUG runs, unless the setting asks for them at INFO.

    The SDK sets its metrics logger to the tap's level (`TAP_DIDIT_LOGLEVEL`, default
    INFO) and logs every point at INFO; raising that logger to WARNING drops the points
    of a normal run and keeps them when the tap runs at DEBUG.
    """
    if metrics_log_level.upper() == METRICS_AT_INFO:
        return
    if not metrics_logger.isEnabledFor(logging.DEBUG):
        metrics_logger.setLevel(logging.WARNING)


def _plural(count: int, noun: str) -> str:
    return f"{count} {noun}" if count == 1 else f"{count} {noun}s"


@dataclass
class StreamTotals:
    """Totals of one stream over all its partitions in this run.

    Each counter has one writer: records and partitions the sync thread, requests and
    retries the stream's request thread, so plain integers suffice.
    """

    records: int = 0
    requests: int = 0
    partitions: int = 0
    retries: int = 0
    skipped_records: int = 0
    skipped_parents: int = 0
    #: Lower bounds of the incremental walks ("the beginning" when there is none).
    floors: set[str] = field(default_factory=set)
    started: float | None = None
    ended: float | None = None
    #: Whether the start line (the first "Beginning sync") was logged at INFO.
    announced: bool = False
    #: Whether the summary line was logged.
    reported: bool = False

    def start_partition(self) -> None:
        """A partition (a parent record, for a child stream) starts syncing."""
        self.partitions += 1
        if self.started is None:
            self.started = time.monotonic()

    def end_partition(self) -> None:
        """A partition is done."""
        self.ended = time.monotonic()

    @property
    def seconds(self) -> float:
        """Wall time from the first partition's start to the last one's end."""
        if self.started is None:
            return 0.0
        return max((self.ended or time.monotonic()) - self.started, 0.0)

    def as_dict(self) -> dict[str, Any]:
        """The totals, for structured logging."""
        return {
            "records": self.records,
            "requests": self.requests,
            "partitions": self.partitions,
            "retries": self.retries,
            "skipped_records": self.skipped_records,
            "skipped_parents": self.skipped_parents,
            "seconds": round(self.seconds, 3),
        }

    def summary(self, stream: str, *, selected: bool = True) -> str:
        """One line: `Stream 'x' done: 12 records, 3 partitions, 4 requests, 0.5 s.`."""
        parts = [
            _plural(self.records, "record"),
            _plural(self.partitions, "partition"),
            _plural(self.requests, "request"),
            f"{self.seconds:.1f} s",
        ]
        notes = []
        if not selected:
            notes.append("not selected, read for its child streams")
        if self.retries:
            notes.append(f"{self.retries} {'retry' if self.retries == 1 else 'retries'}")
        if self.skipped_records:
            notes.append(f"{_plural(self.skipped_records, 'record')} skipped")
        if self.skipped_parents:
            notes.append(f"{_plural(self.skipped_parents, 'parent')} skipped (HTTP 404)")
        if self.floors:
            floor = "the beginning" if "the beginning" in self.floors else min(self.floors)
            notes.append(f"window from {floor}")
        tail = f"; {', '.join(notes)}" if notes else ""
        return f"Stream '{stream}' done: {', '.join(parts)}{tail}."


class TotallingCounter(metrics.Counter):
    """The SDK's counter (same METRIC points), also adding to a stream's totals."""

    def __init__(
        self,
        metric: metrics.Metric,
        tags: dict[str, Any],
        totals: StreamTotals,
        *,
        log_interval: float = metrics.DEFAULT_LOG_INTERVAL,
    ) -> None:
        super().__init__(metric, tags, log_interval=log_interval)
        self.totals = totals

    def increment(self, value: int = 1) -> None:
        """Count for the SDK and for the totals."""
        super().increment(value)
        if self.metric == metrics.Metric.RECORD_COUNT:
            self.totals.records += value
        elif self.metric == metrics.Metric.HTTP_REQUEST_COUNT:
            self.totals.requests += value

    def with_context(self, value: Any) -> None:
        """The record counter is given each partition's context once: count partitions."""
        super().with_context(value)
        if self.metric == metrics.Metric.RECORD_COUNT:
            self.totals.start_partition()

    def exit(self) -> None:
        """Log the SDK's point; note when the stream's last partition ended."""
        super().exit()
        if self.metric == metrics.Metric.RECORD_COUNT:
            self.totals.end_partition()


class RunReporting(_Base):
    """Mixin for SDK streams: a start line and a summary per stream, the rest at DEBUG."""

    @cached_property
    def totals(self) -> StreamTotals:
        """This stream's totals over all its partitions in this run."""
        return StreamTotals()

    def get_record_counter(
        self,
        *,
        endpoint: str | None = None,
        log_interval: float = metrics.DEFAULT_LOG_INTERVAL,
    ) -> metrics.Counter:
        """The SDK's record counter, also counting records and partitions."""
        tags: dict[str, Any] = {metrics.Tag.STREAM: self.name}
        if endpoint:
            tags[metrics.Tag.ENDPOINT] = endpoint
        return TotallingCounter(
            metrics.Metric.RECORD_COUNT, tags, self.totals, log_interval=log_interval
        )

    def get_http_request_counter(self) -> metrics.Counter:
        """The SDK's request counter (REST streams), also counting requests."""
        path = getattr(self, "path", None) or ""
        tags = {metrics.Tag.STREAM: self.name, metrics.Tag.ENDPOINT: path}
        return TotallingCounter(metrics.Metric.HTTP_REQUEST_COUNT, tags, self.totals)

    def log(self, message: str, *args: Any, level: int = logging.INFO, **kwargs: Any) -> None:
        """The SDK's "Beginning sync" line: INFO once per stream, DEBUG per later partition."""
        if level == logging.INFO and message.startswith(SYNC_START):
            if self.totals.announced:
                level = logging.DEBUG
            self.totals.announced = True
        super().log(message, *args, level=level, **kwargs)

    def report(self) -> None:
        """Log the summary line, once, if this stream synced in this run."""
        totals = self.totals
        if totals.reported or not totals.partitions:
            return
        totals.reported = True
        self.logger.info(
            "%s",
            totals.summary(self.name, selected=self.selected),
            extra={"stream_summary": {"stream": self.name, **totals.as_dict()}},
        )

    def report_with_children(self) -> None:
        """Summaries of this stream, then of its child streams (synced inside it)."""
        self.report()
        for child in self.child_streams:
            if isinstance(child, RunReporting):
                child.report_with_children()

    def finalize_state_progress_markers(self, state: dict | None = None) -> None:
        """After a top-level stream (and its children) synced: their summary lines."""
        super().finalize_state_progress_markers(state)
        if not state and self.parent_stream_type is None:
            self.report_with_children()

    def log_sync_costs(self) -> None:
        """Called once per stream at the end of the run: any summary not yet logged."""
        super().log_sync_costs()
        self.report()
