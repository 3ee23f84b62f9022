from __future__ import annotations

import datetime as dt

import pytest

from sources.claude_analytics.days import API_FLOOR, Edges, Progress, Unit, earliest_day, parse_day, plan_units, units

D = dt.date
EDGES = Edges(D(2026, 9, 1), D(2026, 11, 30))


def test_earliest_day_is_the_latest_of_floor_history_and_start_date():
    assert earliest_day(D(2026, 2, 1), 90) == API_FLOOR
    assert earliest_day(D(2026, 11, 27), 90) == D(2026, 8, 29)
    assert earliest_day(D(2026, 11, 27), 90, D(2026, 10, 1)) == D(2026, 10, 1)
    assert earliest_day(D(2026, 11, 27), None) == API_FLOOR


def test_nightly_plan_refetches_the_lookback_window_through_the_latest_day():
    def first(progress, lookback):
        return plan_units(1, progress, EDGES, lookback)[0].first

    assert first(Progress(), 3) == EDGES.earliest
    assert first(Progress(D(2026, 11, 20)), 3) == D(2026, 11, 18)
    assert first(Progress(D(2026, 11, 20)), 0) == D(2026, 11, 21)
    assert first(Progress(D(2026, 9, 1)), 10) == EDGES.earliest  # never before the earliest day
    assert plan_units(1, Progress(D(2026, 11, 20)), EDGES, 3)[-1] == Unit(EDGES.latest, EDGES.latest)
    assert plan_units(1, Progress(EDGES.latest), EDGES, 0) == []


def test_missing_days_come_first_and_only_once():
    progress = Progress(D(2026, 11, 20), (D(2026, 8, 30), D(2026, 10, 2), D(2026, 10, 3), D(2026, 11, 19)))
    plan = plan_units(31, progress, EDGES, 3)
    # 2026-08-30 left the history; 10-02..10-03 are retried as one window; 11-19 is in the lookback window
    assert plan == [Unit(D(2026, 10, 2), D(2026, 10, 3)), Unit(D(2026, 11, 18), D(2026, 11, 30))]


def test_an_explicit_range_is_clamped_to_the_served_days():
    assert plan_units(1, Progress(D(2026, 11, 20)), EDGES, 3, D(2026, 8, 1), D(2026, 9, 2)) == [
        Unit(D(2026, 9, 1), D(2026, 9, 1)),
        Unit(D(2026, 9, 2), D(2026, 9, 2)),
    ]
    assert plan_units(31, Progress(), EDGES, 3, end=D(2026, 9, 3)) == [Unit(D(2026, 9, 1), D(2026, 9, 3))]


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

    def after(cursor, first, last):
        return Progress(cursor).after(Unit(first, last), earliest).last_day

    assert after(None, earliest, earliest) == earliest
    assert after(None, D(2026, 10, 1), D(2026, 10, 1)) is None  # a later backfill
    assert after(D(2026, 10, 5), D(2026, 10, 6), D(2026, 10, 6)) == D(2026, 10, 6)
    assert after(D(2026, 10, 5), D(2026, 9, 1), D(2026, 9, 30)) == D(2026, 10, 5)
    assert after(D(2026, 10, 5), D(2026, 10, 9), D(2026, 10, 9)) == D(2026, 10, 5)
    assert after(D(2026, 10, 5), D(2026, 10, 1), D(2026, 10, 31)) == D(2026, 10, 31)


def test_a_failed_unit_moves_the_cursor_and_is_listed_until_loaded():
    earliest = D(2026, 9, 1)
    failed = Progress(D(2026, 10, 5)).after(Unit(D(2026, 10, 6), D(2026, 10, 6)), earliest, failed=True)
    assert failed == Progress(D(2026, 10, 6), (D(2026, 10, 6),))
    later = failed.after(Unit(D(2026, 10, 7), D(2026, 10, 7)), earliest)
    assert later == Progress(D(2026, 10, 7), (D(2026, 10, 6),))
    assert later.after(Unit(D(2026, 10, 6), D(2026, 10, 6)), earliest) == Progress(D(2026, 10, 7))
    # a failure beyond the cursor needs no list: the nightly run fetches it anyway
    assert Progress(D(2026, 10, 5)).after(Unit(D(2026, 10, 9), D(2026, 10, 9)), earliest, failed=True) == Progress(
        D(2026, 10, 5)
    )
    # a missing day that left the API's history is dropped
    assert later.after(Unit(D(2026, 10, 8), D(2026, 10, 8)), D(2026, 10, 7)) == Progress(D(2026, 10, 8))


def test_progress_round_trips_through_resource_state():
    state: dict = {}
    Progress(D(2026, 10, 7), (D(2026, 10, 6),)).save(state)
    assert state == {"last_loaded_day": "2026-10-07", "missing_days": ["2026-10-06"]}
    assert Progress.of(state) == Progress(D(2026, 10, 7), (D(2026, 10, 6),))
    Progress(D(2026, 10, 8)).save(state)
    assert state == {"last_loaded_day": "2026-10-08"}


def test_days_leaving_a_sliding_window():
    edges = Edges(D(2026, 4, 1), D(2026, 6, 27), history_days=90)
    assert edges.leaving_by(D(2026, 7, 7)) == [D(2026, 4, d) for d in range(1, 8)]
    assert Edges(API_FLOOR, D(2026, 6, 27)).leaving_by(D(2026, 7, 7)) == []  # a window that does not slide


@pytest.mark.parametrize("text", ["2026-13-01", "2026-1-1", "20260101", "yesterday", "2026-02-30", ""])
def test_malformed_days_are_rejected_with_the_form_to_use(text):
    with pytest.raises(ValueError, match="YYYY-MM-DD"):
        parse_day(text)


def test_parse_day_accepts_iso_days():
    assert parse_day("2026-03-01") == D(2026, 3, 1)
    assert parse_day(D(2026, 3, 1)) == D(2026, 3, 1)
