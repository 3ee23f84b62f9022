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


def held_in_memory(size_of, max_held, plan_length=20, release_on_take=True):
    """Runs the prefetcher with instant fetches under a slow consumer; after each take, once the feeder has
    refilled, returns the rows of units started and not released (the consumer's own count, so exact). The
    consumer releases each result as it takes it, or (not `release_on_take`) keeps them, as a chunk being built
    then committed, until the prefetcher says it is stalled."""
    plan = [
        (USERS, Unit(dt.date(2026, 1, 1) + dt.timedelta(days=i), dt.date(2026, 1, 1) + dt.timedelta(days=i)))
        for i in range(plan_length)
    ]
    index = {unit: i for i, (_, unit) in enumerate(plan)}
    started: set[int] = set()
    released = 0
    in_memory = []

    def fetch(endpoint, unit):
        started.add(index[unit])
        return size_of(index[unit])

    with Prefetcher(fetch, plan, workers=8, max_ahead=8, size=lambda rows: rows, max_held=max_held) as prefetcher:

        def slow_consumer(n):
            nonlocal released
            if release_on_take:
                prefetcher.release(n)
                released = n
            time.sleep(0.05)  # the feeder refills meanwhile: fetches are instant
            in_memory.append(sum(size_of(i) for i in started if i >= released))
            if prefetcher.stalled():
                prefetcher.release(n)
                released = n

        taken = consume(prefetcher, on_each=slow_consumer)
    assert [rows for _, rows in taken] == [size_of(i) for i in range(plan_length)]
    return in_memory[:-3]  # the plan's end drains what is held


def test_rows_held_ahead_are_bounded_not_only_units():
    # 30 rows a unit: max_ahead alone would hold 8 units (240 rows); 100 rows allow 3 (90)
    at_rest = held_in_memory(lambda i: 30, max_held=100)
    assert max(at_rest) == 90 and all(rows <= 100 for rows in at_rest), at_rest


def test_a_unit_larger_than_the_bound_is_fetched_alone():
    at_rest = held_in_memory(lambda i: 150, max_held=100)
    assert set(at_rest) == {150}, at_rest  # one at a time, and never none: the run goes on


def test_results_count_against_the_bound_until_the_consumer_releases_them():
    # 30 rows a unit, 100 allowed: taken and fetched ahead together stay within 100, and the run ends (the
    # consumer releases when told it is stalled); released on take, 90 rows ahead would come on top of the taken
    in_memory = held_in_memory(lambda i: 30, max_held=100, release_on_take=False)
    assert max(in_memory) == 90 and all(rows <= 100 for rows in in_memory), in_memory


def test_a_large_unit_is_never_fetched_beside_one_the_consumer_still_holds():
    assert set(held_in_memory(lambda i: 150, max_held=100, release_on_take=False)) == {150}


def test_a_stalled_prefetcher_is_never_reported_when_results_are_released_on_take():
    plan = [(USERS, unit) for unit in DAYS]
    stalls: list[bool] = []
    with Prefetcher(lambda e, u: 150, plan, workers=2, max_ahead=2, size=lambda r: r, max_held=100) as prefetcher:

        def record(n: int) -> None:
            prefetcher.release(n)
            time.sleep(0.02)  # the feeder gets to the next unit and waits on the bound
            stalls.append(prefetcher.stalled())

        consume(prefetcher, on_each=record)
    assert stalls == [False] * len(DAYS)


def test_a_consumer_that_never_releases_stalls_the_prefetcher_instead_of_being_outrun():
    plan = [(USERS, unit) for unit in DAYS]
    taken: list[int] = []
    with Prefetcher(lambda e, u: 150, plan, workers=2, max_ahead=2, size=lambda r: r, max_held=100) as prefetcher:
        results = prefetcher.results()
        next(results)
        time.sleep(0.1)  # the feeder would have submitted the next unit by now, were it allowed to
        assert prefetcher.stalled() and not prefetcher.next_ready()
        prefetcher.release(1)
        for _endpoint, _unit, future in results:
            taken.append(future.result())
            prefetcher.release(prefetcher.position)
    assert taken == [150] * (len(DAYS) - 1)


def test_a_unit_in_flight_is_counted_at_its_endpoints_largest_result_not_its_last():
    # a Sunday's /users day is a fraction of a Monday's: guessed at the last (small) result, a large unit would
    # be fetched beside a small one held (160)
    at_rest = held_in_memory(lambda i: 150 if i % 2 == 0 else 10, max_held=100)
    assert max(at_rest) == 150, at_rest
