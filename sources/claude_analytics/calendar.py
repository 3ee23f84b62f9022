"""The days the API serves today, per endpoint family, learnt from the API on every run (never remembered).

Engagement endpoints (`/users`, `/summaries`, …): docs disagree on both edges (a 3-day or a 1-day lag;
90 days of history or more), so both are learnt:
- newest day: ask for the newest day the API may serve (today − lag, yesterday by default); a too-recent
  day answers 400 naming the latest available one. One request; where the answer names no day, one more
  per day stepped back.
- earliest day (`history_days = auto`): ask for 2026-01-01; a too-old day answers 400, usually naming the
  earliest available day (one more request); where it names none, bisect between the floor and the newest
  day (about nine requests).
The newest-day request is always made, also when both edges are pinned: it is the run's first request, so a
rejected key fails after one request, and it tells a rejected key (exit 2) from an endpoint this
organization may not use (a 403/404 on it later, with the key accepted here).

Cost & usage reports: 365 days back (never before 2026-01-01) through yesterday, the last complete UTC day.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Iterable
from dataclasses import dataclass

from .client import AnalyticsClient, DayNotAvailable, DayTooOld
from .days import API_FLOOR, ONE_DAY, Edges, earliest_day
from .endpoints import Endpoint, Family
from .settings import ClaudeAnalyticsSettings

log = logging.getLogger("claude_analytics.calendar")

PROBE_PATH = "/summaries"
COST_HISTORY_DAYS = 365
MAX_STEPS_BACK = 10


@dataclass(frozen=True)
class Calendar:
    """What one run loads per family: the served days and the re-fetch window."""

    today: dt.date
    edges: dict[str, Edges]
    lookback: dict[str, int]
    learnt: tuple[str, ...] = ()  # which edges were learnt (for logs and the run log)

    def edges_of(self, endpoint: Endpoint) -> Edges:
        return self.edges[endpoint.family]

    def lookback_of(self, endpoint: Endpoint) -> int:
        return self.lookback[endpoint.family]


def _probe(client: AnalyticsClient, day: dt.date) -> None:
    client.get(
        PROBE_PATH,
        {"starting_date": day.isoformat(), "ending_date": (day + ONE_DAY).isoformat()},
        where=f"{PROBE_PATH} {day}",
        day=day,
    )


def learn_latest(client: AnalyticsClient, newest: dt.date) -> dt.date:
    """The newest day the engagement endpoints serve, at most `newest`."""
    day = newest
    for _ in range(MAX_STEPS_BACK):
        try:
            _probe(client, day)
            return day
        except DayNotAvailable as exc:
            if exc.latest is not None and exc.latest < day:
                return exc.latest
            day -= ONE_DAY
    raise DayNotAvailable(
        f"{PROBE_PATH}: no day from {day + ONE_DAY} to {newest} is available yet; check "
        "availability_lag_days or try again later",
        latest=None,
        path=PROBE_PATH,
    )


def learn_earliest(client: AnalyticsClient, latest: dt.date) -> dt.date:
    """The earliest day the engagement endpoints still serve."""
    try:
        _probe(client, API_FLOOR)
        return API_FLOOR
    except DayTooOld as exc:
        if exc.earliest is not None and API_FLOOR < exc.earliest <= latest:
            return exc.earliest
    too_old, served = API_FLOOR, latest  # bisect: too_old is never served, served always is
    while (served - too_old).days > 1:
        middle = too_old + (served - too_old) / 2
        try:
            _probe(client, middle)
            served = middle
        except DayTooOld:
            too_old = middle
    return served


def learn_calendar(
    client: AnalyticsClient, settings: ClaudeAnalyticsSettings, families: Iterable[Family], today: dt.date
) -> Calendar:
    families = set(families)
    learnt = []
    lag = settings.lag_days
    latest = learn_latest(client, today - dt.timedelta(days=1 if lag is None else lag))
    if lag is None:
        learnt.append("latest")
    start = settings.start_day()
    history = settings.pinned_history_days
    if history is None and "engagement" in families:
        served = learn_earliest(client, latest)
        history = (today - served).days if served > API_FLOOR else None  # None: it does not slide (yet)
        earliest = max(served, start or API_FLOOR)
        learnt.append("earliest")
    else:
        earliest = earliest_day(today, history, start)
    edges = {
        "engagement": Edges(earliest, latest, history),
        "cost": Edges(earliest_day(today, COST_HISTORY_DAYS, start), today - ONE_DAY, COST_HISTORY_DAYS),
    }
    log.info(
        "the API serves %s..%s (engagement%s) and %s..%s (cost & usage reports)",
        earliest,
        latest,
        f", learnt: {' and '.join(learnt)}" if learnt else "",
        edges["cost"].earliest,
        edges["cost"].latest,
    )
    return Calendar(
        today, edges, {"engagement": settings.lookback_days, "cost": settings.cost_lookback_days}, tuple(learnt)
    )
