"""The first unit goes alone only until the API has answered once, not through all its pages."""

from __future__ import annotations

import datetime as dt
import threading

from sources.claude_analytics.days import Unit
from sources.claude_analytics.endpoints import BY_NAME
from sources.claude_analytics.fetch import Prefetcher

USERS = BY_NAME["users"]
DAYS = [Unit(dt.date(2026, 3, d), dt.date(2026, 3, d)) for d in range(1, 6)]


class PagingFetch:
    """A fetch whose first unit answers its first page, then waits (its later pages) until released."""

    def __init__(self) -> None:
        self.answered = threading.Event()
        self.release = threading.Event()
        self.started: list[Unit] = []

    def __call__(self, endpoint, unit):
        self.started.append(unit)
        if unit == DAYS[0]:
            self.answered.set()  # page 1 answered: the key works
            assert self.release.wait(10), "never released"
        return unit.first.day


def test_other_units_start_once_the_first_page_is_answered():
    fetch = PagingFetch()
    prefetcher = Prefetcher(fetch, [(USERS, u) for u in DAYS], workers=4, max_ahead=10)
    try:
        results = prefetcher.results()
        deadline = threading.Event()
        for _ in range(250):  # the other units run while the first unit is still paging
            if len(fetch.started) == len(DAYS):
                break
            deadline.wait(0.02)
        assert sorted(fetch.started) == DAYS
        fetch.release.set()
        assert [future.result() for _, _, future in results] == [1, 2, 3, 4, 5]
    finally:
        fetch.release.set()
        prefetcher.close()


def test_a_first_unit_failing_before_any_answer_still_stops_everything():
    calls = []

    class Rejected:
        answered = threading.Event()  # never set: the first request is refused

        def __call__(self, endpoint, unit):
            calls.append(unit)
            raise PermissionError("rejected key")

    prefetcher = Prefetcher(Rejected(), [(USERS, u) for u in DAYS], workers=4, max_ahead=10)
    try:
        futures = [future for _, _, future in prefetcher.results()]
    finally:
        prefetcher.close()
    assert calls == [DAYS[0]]
    assert isinstance(futures[0].exception(), PermissionError)
    assert all(f.cancelled() for f in futures[1:])
