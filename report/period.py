"""The reporting period: a calendar month or an explicit date range, always in UTC.

Half-open intervals [start, end) everywhere, so a month ends at midnight of the next month and
no timestamp is counted twice or dropped between two consecutive packs.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta

_MONTH = re.compile(r"^(\d{4})-(\d{2})$")
_RANGE = re.compile(r"^(\d{4}-\d{2}-\d{2})\.\.(\d{4}-\d{2}-\d{2})$")


class PeriodError(ValueError):
    """The --period value cannot be understood."""


@dataclass(frozen=True)
class Period:
    """A reporting period; `first_day` and `last_day` are inclusive calendar days (UTC)."""

    first_day: date
    last_day: date
    is_month: bool

    @property
    def start(self) -> datetime:
        return datetime(self.first_day.year, self.first_day.month, self.first_day.day, tzinfo=UTC)

    @property
    def end(self) -> datetime:
        """Exclusive upper bound: midnight after the last day."""
        return self.start + timedelta(days=(self.last_day - self.first_day).days + 1)

    @property
    def label(self) -> str:
        if self.is_month:
            return f"{self.first_day:%Y-%m}"
        return f"{self.first_day:%Y-%m-%d}..{self.last_day:%Y-%m-%d}"

    @property
    def slug(self) -> str:
        """A file-name-safe label."""
        return self.label.replace("..", "_to_")

    @property
    def title(self) -> str:
        if self.is_month:
            return f"{self.first_day:%B %Y}"
        return f"{self.first_day:%d %B %Y} to {self.last_day:%d %B %Y}"

    def previous(self) -> Period:
        """The period just before, of the same kind: the previous month, or a range as long."""
        if self.is_month:
            last = self.first_day - timedelta(days=1)
            return Period(last.replace(day=1), last, is_month=True)
        length = self.last_day - self.first_day
        last = self.first_day - timedelta(days=1)
        return Period(last - length, last, is_month=False)

    def contains(self, moment: datetime | date) -> bool:
        return self.start <= as_utc(moment) < self.end

    def overlaps(self, begin: datetime | date, finish: datetime | date | None) -> bool:
        """True if [begin, finish] touches the period; an open end (None) means 'still going'."""
        if as_utc(begin) >= self.end:
            return False
        return finish is None or as_utc(finish) >= self.start


def to_moment(value: object) -> datetime | None:
    """A mart value as an aware UTC datetime: dates, datetimes and ISO text (`YYYY-MM` too)."""
    if value is None or value == "":
        return None
    if isinstance(value, date):
        return as_utc(value)
    if isinstance(value, str):
        text = value.strip()
        if _MONTH.match(text):
            text += "-01"
        try:
            return as_utc(datetime.fromisoformat(text.replace("Z", "+00:00")))
        except ValueError:
            return None
    return None


def as_utc(moment: datetime | date) -> datetime:
    """Dates become midnight UTC; naive datetimes are taken as UTC (the warehouse stores UTC)."""
    if not isinstance(moment, datetime):
        return datetime(moment.year, moment.month, moment.day, tzinfo=UTC)
    if moment.tzinfo is None:
        return moment.replace(tzinfo=UTC)
    return moment.astimezone(UTC)


def last_full_month(at: datetime) -> str:
    """`YYYY-MM` of the last full calendar month (UTC) before `at`: what management signs."""
    first_of_month = as_utc(at).date().replace(day=1)
    return f"{first_of_month - timedelta(days=1):%Y-%m}"


def parse_period(text: str) -> Period:
    """Parse `YYYY-MM` (a calendar month) or `YYYY-MM-DD..YYYY-MM-DD` (inclusive days)."""
    text = text.strip()
    if match := _MONTH.match(text):
        year, month = int(match[1]), int(match[2])
        if not 1 <= month <= 12:
            raise PeriodError(f"--period {text!r}: month must be 01..12")
        first = date(year, month, 1)
        following = date(year + (month == 12), month % 12 + 1, 1)
        return Period(first, following - timedelta(days=1), is_month=True)
    if match := _RANGE.match(text):
        try:
            first, last = date.fromisoformat(match[1]), date.fromisoformat(match[2])
        except ValueError as exc:
            raise PeriodError(f"--period {text!r}: {exc}") from None
        if last < first:
            raise PeriodError(f"--period {text!r}: the range ends before it starts")
        return Period(first, last, is_month=False)
    raise PeriodError(
        f"--period {text!r} is not understood: use YYYY-MM (a month) "
        "or YYYY-MM-DD..YYYY-MM-DD (inclusive days)"
    )
