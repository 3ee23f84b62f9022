"""Arithmetic on UTC calendar days: the earliest and latest day to load, re-fetch windows, request units.

Pure functions over `datetime.date`; no HTTP, no dlt.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Iterator

API_FLOOR = dt.date(2026, 1, 1)  # the API serves nothing before this day


@dataclass(frozen=True, order=True)
class Unit:
    """One request chain: a single day, or for window endpoints an inclusive run of days."""

    first: dt.date
    last: dt.date

    @property
    def days(self) -> int:
        return (self.last - self.first).days + 1

    def __str__(self) -> str:
        return self.first.isoformat() if self.first == self.last else f"{self.first}..{self.last}"


def utc_today() -> dt.date:
    return dt.datetime.now(dt.timezone.utc).date()


def parse_day(value: str | dt.date, what: str = "date") -> dt.date:
    """A YYYY-MM-DD string (or a date) as a date; ValueError with a one-line message otherwise."""
    if isinstance(value, dt.datetime):
        return value.date()
    if isinstance(value, dt.date):
        return value
    text = str(value).strip()
    try:
        if len(text) != 10:
            raise ValueError
        return dt.date.fromisoformat(text)
    except ValueError:
        raise ValueError(f"{what} {text!r} is not a valid day: use the form YYYY-MM-DD") from None


def earliest_day(today: dt.date, history_days: int | None, start_date: dt.date | None = None) -> dt.date:
    """max(2026-01-01, today − history_days, start_date)."""
    candidates = [API_FLOOR]
    if history_days is not None:
        candidates.append(today - dt.timedelta(days=history_days))
    if start_date is not None:
        candidates.append(start_date)
    return max(candidates)


def latest_day(today: dt.date, availability_lag_days: int) -> dt.date:
    return today - dt.timedelta(days=availability_lag_days)


def nightly_start(
    last_loaded: dt.date | None, earliest: dt.date, lookback_days: int
) -> dt.date:
    """The first day a nightly run loads: the day after the cursor minus the re-fetch window."""
    if last_loaded is None:
        return earliest
    return max(earliest, last_loaded + dt.timedelta(days=1 - lookback_days))


def day_range(first: dt.date, last: dt.date) -> Iterator[dt.date]:
    day = first
    while day <= last:
        yield day
        day += dt.timedelta(days=1)


def units(first: dt.date, last: dt.date, max_days: int = 1) -> list[Unit]:
    """Split [first, last] into consecutive units of at most max_days days (empty when first > last)."""
    out = []
    start = first
    while start <= last:
        end = min(last, start + dt.timedelta(days=max_days - 1))
        out.append(Unit(start, end))
        start = end + dt.timedelta(days=1)
    return out


def advance_cursor(cursor: dt.date | None, loaded: Unit, earliest: dt.date) -> dt.date | None:
    """The nightly cursor after `loaded` was committed: it never moves backwards and never jumps a gap.

    With no cursor yet, `loaded` sets it only when it starts at the earliest day the API serves, so an
    explicit backfill of a later range does not make the nightly run skip the days before it.
    """
    if cursor is None:
        return loaded.last if loaded.first <= earliest else None
    if loaded.first <= cursor + dt.timedelta(days=1):
        return max(cursor, loaded.last)
    return cursor
