"""tap-didit with the SDK's stock settings, for comparison only (see benchmark_tap.py).

Same streams, same HTTP and pagination; only what the SDK does by default differs: the
simplejson writer, RECURSIVE type conformance and JSONPath parsing with Decimal floats.
"""

from __future__ import annotations

from singer_sdk.helpers.conform import TypeConformanceLevel
from singer_sdk.io_base import SingerWriter
from singer_sdk.streams import RESTStream
from tap_didit.client import DiditStream
from tap_didit.tap import TapDidit

DiditStream.TYPE_CONFORMANCE_LEVEL = TypeConformanceLevel.RECURSIVE
DiditStream.records_jsonpath = "$.results[*]"  # type: ignore[assignment]
DiditStream.parse_response = RESTStream.parse_response  # type: ignore[method-assign]


class StockTapDidit(TapDidit):
    """The default Singer writer instead of msgspec."""

    message_writer_class = SingerWriter


if __name__ == "__main__":
    StockTapDidit.cli()
