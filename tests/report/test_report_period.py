from datetime import UTC, date, datetime

import pytest

from report.period import PeriodError, last_full_month, parse_period, to_moment


def test_month_is_half_open_in_utc():
    period = parse_period("2026-02")
    assert (period.first_day, period.last_day) == (date(2026, 2, 1), date(2026, 2, 28))
    assert period.end == datetime(2026, 3, 1, tzinfo=UTC)
    assert period.contains(datetime(2026, 2, 28, 23, 59, 59, tzinfo=UTC))
    assert not period.contains(datetime(2026, 3, 1, tzinfo=UTC))


def test_previous_month_crosses_the_year():
    assert parse_period("2026-01").previous().label == "2025-12"


def test_range_and_its_previous_range_have_the_same_length():
    period = parse_period("2026-10-05..2026-10-11")
    previous = period.previous()
    assert (previous.first_day, previous.last_day) == (date(2026, 9, 28), date(2026, 10, 4))
    assert period.slug == "2026-10-05_to_2026-10-11"


@pytest.mark.parametrize(
    "text", ["2026-13", "October", "2026-10-31..2026-10-01", "2026-02-30..2026-03-01"]
)
def test_bad_periods_are_refused_with_the_value_named(text):
    with pytest.raises(PeriodError, match="--period"):
        parse_period(text)


def test_overlap_treats_an_open_end_as_ongoing():
    october = parse_period("2026-10")
    assert october.overlaps(datetime(2026, 9, 1, tzinfo=UTC), None)
    assert not october.overlaps(datetime(2026, 9, 1, tzinfo=UTC), datetime(2026, 9, 30, tzinfo=UTC))
    assert not october.overlaps(datetime(2026, 11, 1, tzinfo=UTC), None)


def test_mart_values_become_utc_moments():
    assert to_moment("2026-10") == datetime(2026, 10, 1, tzinfo=UTC)
    assert to_moment("2026-10-03T10:00:00Z") == datetime(2026, 10, 3, 10, tzinfo=UTC)
    assert to_moment(date(2026, 10, 3)) == datetime(2026, 10, 3, tzinfo=UTC)
    assert to_moment("not a date") is None
    assert to_moment(None) is None


def test_last_full_month_is_taken_in_utc():
    # 00:30 on 1 November in UTC+2 is still 31 October in UTC: the last full month is September.
    assert last_full_month(datetime.fromisoformat("2026-11-01T00:30:00+02:00")) == "2026-09"
    assert last_full_month(datetime(2026, 11, 1, 0, 30, tzinfo=UTC)) == "2026-10"
    assert last_full_month(datetime(2026, 1, 15, tzinfo=UTC)) == "2025-12"
