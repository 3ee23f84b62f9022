from __future__ import annotations

import datetime as dt

import pytest

from sources.claude_analytics.days import (
    API_FLOOR, Unit, advance_cursor, earliest_day, latest_day, nightly_start, parse_day, units,
)

D = dt.date


def test_earliest_day_is_the_latest_of_floor_history_and_start_date():
    assert earliest_day(D(2026, 2, 1), 90) == API_FLOOR
    assert earliest_day(D(2026, 11, 27), 90) == D(2026, 8, 29)
    assert earliest_day(D(2026, 11, 27), 90, D(2026, 10, 1)) == D(2026, 10, 1)
    assert earliest_day(D(2026, 11, 27), None) == API_FLOOR


def test_latest_day_includes_the_newest_available_day():
    assert latest_day(D(2026, 11, 27), 3) == D(2026, 11, 24)
    assert latest_day(D(2026, 11, 27), 0) == D(2026, 11, 27)


def test_nightly_start_refetches_the_lookback_window():
    earliest = D(2026, 9, 1)
    assert nightly_start(None, earliest, 3) == earliest
    assert nightly_start(D(2026, 11, 20), earliest, 3) == D(2026, 11, 18)
    assert nightly_start(D(2026, 11, 20), earliest, 0) == D(2026, 11, 21)
    assert nightly_start(D(2026, 9, 1), earliest, 10) == earliest  # never before the earliest day


def test_windows_of_31_days_cover_every_day_once():
    first, last = D(2026, 1, 1), D(2026, 4, 10)
    chunks = units(first, last, 31)
    assert [c.days for c in chunks] == [31, 31, 31, 7]
    covered = [c.first + dt.timedelta(days=i) for c in chunks for i in range((c.last - c.first).days + 1)]
    assert covered == [first + dt.timedelta(days=i) for i in range((last - first).days + 1)]
    assert units(last, first, 31) == []
    assert units(first, first) == [Unit(first, first)]


def test_cursor_never_moves_backwards_and_never_jumps_a_gap():
    earliest = D(2026, 9, 1)
    assert advance_cursor(None, Unit(earliest, earliest), earliest) == earliest
    assert advance_cursor(None, Unit(D(2026, 10, 1), D(2026, 10, 1)), earliest) is None  # a later backfill
    assert advance_cursor(D(2026, 10, 5), Unit(D(2026, 10, 6), D(2026, 10, 6)), earliest) == D(2026, 10, 6)
    assert advance_cursor(D(2026, 10, 5), Unit(D(2026, 9, 1), D(2026, 9, 30)), earliest) == D(2026, 10, 5)
    assert advance_cursor(D(2026, 10, 5), Unit(D(2026, 10, 9), D(2026, 10, 9)), earliest) == D(2026, 10, 5)
    assert advance_cursor(D(2026, 10, 5), Unit(D(2026, 10, 1), D(2026, 10, 31)), earliest) == D(2026, 10, 31)


@pytest.mark.parametrize("text", ["2026-13-01", "2026-1-1", "20260101", "yesterday", "2026-02-30", ""])
def test_malformed_days_are_rejected_with_the_form_to_use(text):
    with pytest.raises(ValueError, match="YYYY-MM-DD"):
        parse_day(text)


def test_parse_day_accepts_iso_days():
    assert parse_day("2026-03-01") == D(2026, 3, 1)
    assert parse_day(D(2026, 3, 1)) == D(2026, 3, 1)
