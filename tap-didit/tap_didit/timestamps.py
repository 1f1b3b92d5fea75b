"""One UTC timestamp format everywhere, because the SDK compares bookmarks as strings."""

from __future__ import annotations

import datetime as dt
import re

UTC = dt.UTC
#: Didit's own format, already canonical: the common case skips parsing entirely.
_CANONICAL = re.compile(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}Z")


def parse_timestamp(value: str) -> dt.datetime:
    """Parse an ISO 8601 timestamp; naive values are taken as UTC."""
    text = value.strip()
    if text.endswith(("Z", "z")):
        text = text[:-1] + "+00:00"
    parsed = dt.datetime.fromisoformat(text)
    return parsed.replace(tzinfo=UTC) if parsed.tzinfo is None else parsed.astimezone(UTC)


def format_timestamp(value: dt.datetime) -> str:
    """`2026-06-09T12:26:54.328364Z`: UTC, always microseconds, always `Z`."""
    return value.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def normalize_timestamp(value: object) -> object:
    """Rewrite a timestamp string into the canonical format; leave anything else alone."""
    if not isinstance(value, str) or not value or _CANONICAL.fullmatch(value):
        return value
    try:
        return format_timestamp(parse_timestamp(value))
    except ValueError:
        return value


def is_canonical(value: str) -> bool:
    """True for `YYYY-MM-DDTHH:MM:SS.ffffffZ`, which orders correctly as text."""
    return _CANONICAL.fullmatch(value) is not None


def utc_day(value: dt.datetime) -> str:
    """The UTC calendar day Didit's `date_from` / `date_to` filters expect."""
    return value.astimezone(UTC).strftime("%Y-%m-%d")
