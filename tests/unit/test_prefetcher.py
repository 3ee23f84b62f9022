"""The prefetcher: results in plan order, bounded run-ahead, restriction never blocks the consumer."""

from __future__ import annotations

import datetime as dt
import threading
import time

from sources.claude_analytics.days import Unit
from sources.claude_analytics.endpoints import BY_NAME
from sources.claude_analytics.fetch import Prefetcher

USERS = BY_NAME["users"]
DAYS = [Unit(dt.date(2026, 3, d), dt.date(2026, 3, d)) for d in range(1, 11)]


def consume(prefetcher, on_first=None, timeout=10.0):
    taken = []

    def run():
        for endpoint, unit, future in prefetcher.results():
            taken.append((unit, "skipped" if future.cancelled() else future.result()))
            if on_first and len(taken) == 1:
                on_first()

    worker = threading.Thread(target=run, daemon=True)
    worker.start()
    worker.join(timeout)
    assert not worker.is_alive(), "the consumer blocked"
    return taken


def test_results_come_in_plan_order_whatever_the_finishing_order():
    def fetch(endpoint, unit):
        time.sleep(0.05 if unit.first.day % 2 else 0.0)
        return unit.first.day

    prefetcher = Prefetcher(fetch, [(USERS, u) for u in DAYS], workers=4, max_ahead=8)
    try:
        assert [r for _, r in consume(prefetcher)] == list(range(1, 11))
    finally:
        prefetcher.close()


def test_restricting_units_not_yet_submitted_never_blocks():
    # max_ahead=1: every later unit is submitted after the restriction, as skipped futures
    prefetcher = Prefetcher(lambda e, u: u.first.day, [(USERS, u) for u in DAYS], workers=2, max_ahead=1)
    try:
        taken = consume(prefetcher, on_first=lambda: prefetcher.restrict(lambda e, u: u.first.day <= 3))
    finally:
        prefetcher.close()
    assert taken[0] == (DAYS[0], 1)
    assert [r for _, r in taken[3:]] == ["skipped"] * 7


def test_a_failed_first_unit_stops_all_further_fetching():
    calls = []

    def fetch(endpoint, unit):
        calls.append(unit)
        raise PermissionError("rejected key")

    prefetcher = Prefetcher(fetch, [(USERS, u) for u in DAYS], workers=8, max_ahead=20)
    futures = []
    try:
        worker = threading.Thread(target=lambda: futures.extend(f for _, _, f in prefetcher.results()), daemon=True)
        worker.start()
        worker.join(10)
        assert not worker.is_alive(), "the consumer blocked"
    finally:
        prefetcher.close()
    assert calls == [DAYS[0]]
    assert isinstance(futures[0].exception(), PermissionError)
    assert len(futures) == 10 and all(f.cancelled() for f in futures[1:])


def test_run_ahead_is_bounded():
    started = []
    prefetcher = Prefetcher(lambda e, u: started.append(u), [(USERS, u) for u in DAYS], workers=8, max_ahead=3)
    try:
        time.sleep(0.3)
        assert len(started) == 3  # nothing consumed yet: at most 3 units fetched ahead
    finally:
        prefetcher.close()
