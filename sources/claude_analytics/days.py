"""Arithmetic on UTC calendar days: request units, the days a run plans, and each endpoint's cursor.

Pure functions over `datetime.date`; no HTTP, no dlt. What the API serves (its earliest and latest day)
is learnt elsewhere (`calendar.py`) and comes in as `Edges`.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Iterator, MutableMapping
from dataclasses import dataclass
from typing import Any

API_FLOOR = dt.date(2026, 1, 1)  # the API serves nothing before this day
ONE_DAY = dt.timedelta(days=1)


@dataclass(frozen=True, order=True)
class Unit:
    """One request chain: a single day, or for window endpoints an inclusive run of days."""

    first: dt.date
    last: dt.date

    @property
    def days(self) -> int:
        return (self.last - self.first).days + 1

    def day_list(self) -> list[dt.date]:
        return list(day_range(self.first, self.last))

    def __str__(self) -> str:
        return self.first.isoformat() if self.first == self.last else f"{self.first}..{self.last}"


@dataclass(frozen=True)
class Edges:
    """The days the API serves an endpoint family today: [earliest, latest].

    `history_days`: the window slides (each day, the oldest day leaves it) — None when it does not (it
    reaches back to 2026-01-01) or is not known.
    """

    earliest: dt.date
    latest: dt.date
    history_days: int | None = None

    def leaving_by(self, day: dt.date) -> list[dt.date]:
        """The served days that have left the window by `day`."""
        if self.history_days is None:
            return []
        return list(day_range(self.earliest, min(self.latest, day - dt.timedelta(days=self.history_days + 1))))

    def clamp(self, first: dt.date, last: dt.date) -> tuple[dt.date, dt.date]:
        return max(first, self.earliest), min(last, self.latest)


def utc_today() -> dt.date:
    """Today in UTC: the one clock of the project (tests replace it through this module)."""
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


def day_range(first: dt.date, last: dt.date) -> Iterator[dt.date]:
    day = first
    while day <= last:
        yield day
        day += ONE_DAY


def units(first: dt.date, last: dt.date, max_days: int = 1) -> list[Unit]:
    """Split [first, last] into consecutive units of at most max_days days (empty when first > last)."""
    out = []
    start = first
    while start <= last:
        end = min(last, start + dt.timedelta(days=max_days - 1))
        out.append(Unit(start, end))
        start = end + ONE_DAY
    return out


def runs(days: Iterable[dt.date]) -> list[tuple[dt.date, dt.date]]:
    """Consecutive days folded into inclusive (first, last) runs, oldest first."""
    out: list[tuple[dt.date, dt.date]] = []
    for day in sorted(set(days)):
        if out and out[-1][1] == day - ONE_DAY:
            out[-1] = (out[-1][0], day)
        else:
            out.append((day, day))
    return out


def describe(days: Iterable[dt.date]) -> str:
    """2026-03-01..2026-03-03, 2026-03-07 — consecutive days folded."""
    return ", ".join(str(a) if a == b else f"{a}..{b}" for a, b in runs(days))


@dataclass(frozen=True)
class Progress:
    """One endpoint's cursor, kept in its dlt resource state and committed with its rows.

    `last_day`: every day from the first load through it was loaded, or is listed in `missing` (days whose
    fetch failed and that the next run fetches first). It never moves backwards and never jumps a gap.
    """

    last_day: dt.date | None = None
    missing: tuple[dt.date, ...] = ()

    LAST = "last_loaded_day"
    MISSING = "missing_days"

    @classmethod
    def of(cls, state: MutableMapping[str, Any]) -> Progress:
        last = state.get(cls.LAST)
        return cls(
            dt.date.fromisoformat(last) if last else None,
            tuple(dt.date.fromisoformat(d) for d in state.get(cls.MISSING) or ()),
        )

    def save(self, state: MutableMapping[str, Any]) -> None:
        if self.last_day is not None:
            state[self.LAST] = self.last_day.isoformat()
        if self.missing:
            state[self.MISSING] = [d.isoformat() for d in self.missing]
        else:
            state.pop(self.MISSING, None)

    def after(self, covered: Unit, earliest: dt.date, *, failed: bool = False) -> Progress:
        """The cursor once `covered` was committed: loaded, or `failed` (its days become missing).

        With no cursor yet, `covered` sets it only when it starts at the earliest day the API serves, so an
        explicit backfill of a later range does not make the nightly run skip the days before it.
        """
        days = set(covered.day_list())
        missing = set(self.missing) | days if failed else set(self.missing) - days
        last = self.last_day
        if last is None:
            last = covered.last if covered.first <= earliest else None
        elif covered.first <= last + ONE_DAY:
            last = max(last, covered.last)
        # days after the cursor need no list (the nightly run fetches them anyway), days before the earliest
        # cannot be fetched any more
        return Progress(last, tuple(sorted(d for d in missing if last is not None and earliest <= d <= last)))


def plan_units(
    max_window_days: int,
    progress: Progress,
    edges: Edges,
    lookback_days: int,
    start: dt.date | None = None,
    end: dt.date | None = None,
) -> list[Unit]:
    """The units one endpoint loads, oldest first.

    An explicit range (`start`/`end`, a backfill) is clamped to the served days. Otherwise (the nightly
    run): the days left missing by earlier runs, then from the day after the cursor minus the re-fetch
    window through the latest day; from the earliest day when there is no cursor.
    """
    if start is not None or end is not None:
        first, last = edges.clamp(start or edges.earliest, end or edges.latest)
        return units(first, last, max_window_days)
    first = edges.earliest
    if progress.last_day is not None:
        first = max(first, progress.last_day + dt.timedelta(days=1 - lookback_days))
    missing = [d for d in progress.missing if edges.earliest <= d < first]
    retried = [u for a, b in runs(missing) for u in units(a, b, max_window_days)]
    return retried + units(first, edges.latest, max_window_days)
