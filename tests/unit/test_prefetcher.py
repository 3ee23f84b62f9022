"""The prefetcher: results in plan order, bounded run-ahead, restriction never blocks the consumer."""

from __future__ import annotations

import datetime as dt
import gc
import threading
import time
import weakref
from concurrent.futures import Future

from pipelines.prefetch import Prefetcher
from sources.claude_analytics.days import Unit
from sources.claude_analytics.endpoints import BY_NAME

USERS = BY_NAME["users"]
DAYS = [Unit(dt.date(2026, 3, d), dt.date(2026, 3, d)) for d in range(1, 11)]


def consume(prefetcher, on_each=None, timeout=30.0):
    taken = []

    def run():
        for _endpoint, unit, future in prefetcher.results():
            taken.append((unit, "skipped" if future.cancelled() else future.result()))
            if on_each:
                on_each(len(taken))

    worker = threading.Thread(target=run, daemon=True)
    worker.start()
    worker.join(timeout)
    assert not worker.is_alive(), "the consumer blocked"
    return taken


def test_results_come_in_plan_order_whatever_the_finishing_order():
    def fetch(endpoint, unit):
        time.sleep(0.05 if unit.first.day % 2 else 0.0)
        return unit.first.day

    with Prefetcher(fetch, [(USERS, u) for u in DAYS], workers=4, max_ahead=8) as prefetcher:
        assert [r for _, r in consume(prefetcher)] == list(range(1, 11))


def test_restricting_units_not_yet_submitted_never_blocks():
    # max_ahead=1: every later unit is submitted after the restriction, as skipped futures
    with Prefetcher(lambda e, u: u.first.day, [(USERS, u) for u in DAYS], workers=2, max_ahead=1) as prefetcher:

        def restrict_after_the_first(taken_so_far: int) -> None:
            if taken_so_far == 1:
                prefetcher.restrict(lambda e, u: u.first.day <= 3)

        taken = consume(prefetcher, on_each=restrict_after_the_first)
    assert taken[0] == (DAYS[0], 1)
    assert [r for _, r in taken[3:]] == ["skipped"] * 7


def test_a_failing_unit_stops_all_further_fetching():
    calls = []

    def fetch(endpoint, unit):
        calls.append(unit)
        if unit == DAYS[2]:
            raise PermissionError("rejected key")
        return unit.first.day

    with Prefetcher(fetch, [(USERS, u) for u in DAYS], workers=1, max_ahead=4) as prefetcher:
        futures: list[Future] = []
        worker = threading.Thread(target=lambda: futures.extend(f for _, _, f in prefetcher.results()), daemon=True)
        worker.start()
        worker.join(30)
        assert not worker.is_alive(), "the consumer blocked"
    failed = futures.index(next(f for f in futures if not f.cancelled() and f.exception()))
    assert failed == 2 and isinstance(futures[2].exception(), PermissionError)
    # with one worker, units queued before the failure may run; none is submitted after it
    assert len(calls) <= 2 + 4 and all(f.cancelled() for f in futures[len(calls) :])
    assert len(futures) == len(DAYS)


def test_run_ahead_is_bounded_at_every_moment():
    consumed = 0
    excess = []

    def fetch(endpoint, unit):
        started = DAYS.index(unit) + 1
        if started - consumed > 3 + 1:  # + 1: the result being handed over has freed its room already
            excess.append((started, consumed))
        return unit.first.day

    def slow_consumer(n):
        nonlocal consumed
        consumed = n
        time.sleep(0.01)

    with Prefetcher(fetch, [(USERS, u) for u in DAYS], workers=8, max_ahead=3) as prefetcher:
        assert [r for _, r in consume(prefetcher, on_each=slow_consumer)] == list(range(1, 11))
    assert excess == []


def test_a_result_is_forgotten_once_handed_over():
    """The prefetcher keeps no batch the consumer has taken: memory is the pending chunk, not the whole run."""

    class Batch:
        pass

    made: list[weakref.ref] = []

    def fetch(endpoint, unit):
        batch = Batch()
        made.append(weakref.ref(batch))
        return batch

    with Prefetcher(fetch, [(USERS, u) for u in DAYS], workers=2, max_ahead=2) as prefetcher:
        for _endpoint, _unit, future in prefetcher.results():
            assert isinstance(future.result(), Batch)
        del future
        gc.collect()
        assert len(made) == len(DAYS) and [ref() for ref in made] == [None] * len(DAYS)
