"""Fetching request units ahead of loading, on a thread pool, under the source's shared request budget.

The pool keeps the budget busy while the main thread commits what was already fetched; `max_ahead`
(units) and `max_held` (bytes) bound how far it runs ahead of the consumer (memory, and work a crash can
lose), and results come back in plan order so that cursors advance without gaps. A unit that raises
stops all further fetching (the run is ending: a rejected key, retries exhausted).
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor, wait
from functools import partial
from typing import Generic, TypeVar

from sources.claude_analytics.days import Unit
from sources.claude_analytics.endpoints import Endpoint

Keep = Callable[[Endpoint, Unit], bool]
R = TypeVar("R")  # what fetching one unit gives


def _handed_over() -> Future:
    """What stays in the list once the consumer has taken a result: the batch (an Arrow table, pages of rows)
    must not live until the run ends, only until the consumer commits it."""
    future: Future = Future()
    future.set_result(None)
    return future


def _skipped() -> Future:
    """A future for a unit that is not fetched: cancelled *and notified*, so `wait` returns at once
    (a plain `Future().cancel()` stays un-notified and would block a waiter forever)."""
    future: Future = Future()
    future.cancel()
    future.set_running_or_notify_cancel()
    return future


class Prefetcher(Generic[R]):
    """Runs `fetch` over `plan` on `workers` threads, at most `max_ahead` units ahead of the consumer, and
    holding at most about `max_held` (bytes, rows: the `size` of a result) that the consumer has not released.

    Units differ by orders of magnitude (a 50,000-seat `/users` day against a one-row summary), so a
    count of units alone does not bound memory. A unit in flight is counted at the size of its endpoint's
    largest result so far (a guess until it finishes: a weekday's `/users` day is several times a Sunday's), and
    an endpoint runs one unit at a time until its first result tells that size; a unit larger than `max_held`
    still goes, alone.

    A result taken from `results()` counts until the consumer calls `release` (after committing it), so that no
    large unit is fetched beside the commit of another. The consumer must release when `stalled()`: the next
    result is then held back for it."""

    def __init__(
        self,
        fetch: Callable[[Endpoint, Unit], R],
        plan: Iterable[tuple[Endpoint, Unit]],
        *,
        workers: int,
        max_ahead: int,
        size: Callable[[R], int] = lambda result: 0,
        max_held: int | None = None,
    ) -> None:
        self._fetch = fetch
        self._plan = list(plan)
        self._size = size
        self._max_held = max_held
        self._held = 0  # the size of results fetched or being fetched, not yet released (guessed while in flight)
        self._charged: list[int | None] = []  # each unit's share of `_held`, by plan index; None once released
        self._settled: set[int] = set()  # units whose result's size is known and charged
        self._released = 0  # units before this plan index are released
        self._guess: dict[str, int] = {}  # an endpoint's largest result's size so far
        self._probing: set[str] = set()  # endpoints whose first unit is in flight, size not known yet
        self._pool = ThreadPoolExecutor(max_workers=max(1, workers), thread_name_prefix="fetch")
        self._room = threading.Semaphore(max(1, max_ahead))
        self._futures: list[Future] = []
        self._changed = threading.Condition()
        self._stopped = threading.Event()
        self._failed = threading.Event()
        self._keep: Keep = lambda endpoint, unit: True
        self.position = 0  # how many results the consumer has taken
        self._feeder = threading.Thread(target=self._feed, name="fetch-feeder", daemon=True)
        self._feeder.start()

    def __enter__(self) -> Prefetcher[R]:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def _feed(self) -> None:
        for index, (endpoint, unit) in enumerate(self._plan):
            while not self._room.acquire(timeout=0.2):
                if self._stopped.is_set():
                    return
            with self._changed:
                # this wait always ends: what it waits for is in flight or taken next (the consumer waits only
                # for units already submitted, and releases what it took when `stalled()` says so)
                while self._must_wait(endpoint.table) and not self._stopped.is_set():
                    self._changed.wait(0.2)
                if self._stopped.is_set():
                    return
                submit = self._keep(endpoint, unit) and not self._failed.is_set()
                guess = self._guess.get(endpoint.table) if submit else 0
                if guess is None:
                    self._probing.add(endpoint.table)
                self._charged.append(guess or 0)
                self._held += guess or 0
            if submit:
                future = self._pool.submit(self._fetch, endpoint, unit)
                future.add_done_callback(partial(self._finished, index=index, table=endpoint.table))
            else:
                future = _skipped()
            with self._changed:
                self._futures.append(future)
                self._changed.notify_all()

    def _must_wait(self, table: str) -> bool:
        if self._max_held is None:
            return False
        guess = self._guess.get(table)
        if guess is None:
            return table in self._probing
        return self._held > 0 and self._held + guess > self._max_held

    def _finished(self, future: Future, index: int, table: str) -> None:
        if not future.cancelled() and future.exception() is not None:
            self._failed.set()
        with self._changed:
            self._settle(index, table, future)
            self._changed.notify_all()

    def _settle(self, index: int, table: str, future: Future) -> None:
        """Charges a finished unit at its result's size and learns its endpoint's size (once: the consumer
        can take a result before its callbacks run, and must not wait for them). Called under the lock."""
        if index in self._settled:
            return
        self._settled.add(index)
        failed = not future.cancelled() and future.exception() is not None
        size = 0 if future.cancelled() or failed else self._size(future.result())
        if not future.cancelled() and not failed:
            self._guess[table] = max(size, self._guess.get(table, 0))
        self._probing.discard(table)
        charged = self._charged[index]
        if charged is not None:
            self._held += size - charged
            self._charged[index] = size

    def results(self) -> Iterator[tuple[Endpoint, Unit, Future]]:
        """(endpoint, unit, finished or cancelled future), in plan order."""
        for index, (endpoint, unit) in enumerate(self._plan):
            with self._changed:
                while len(self._futures) <= index and not self._stopped.is_set():
                    self._changed.wait(0.5)
                if self._stopped.is_set():
                    return
                future = self._futures[index]
            wait([future])
            with self._changed:
                self._futures[index] = _handed_over()
                self._settle(index, endpoint.table, future)
                self.position = index + 1
                self._changed.notify_all()
            self._room.release()
            yield endpoint, unit, future
            del future  # not kept alive while the next one is awaited

    def release(self, upto: int) -> None:
        """The consumer is done with the results before plan index `upto` (committed: no longer in memory)."""
        with self._changed:
            upto = min(upto, self.position)
            for index in range(self._released, upto):
                self._held -= self._charged[index] or 0
                self._charged[index] = None
            self._released = max(self._released, upto)
            self._changed.notify_all()

    def stalled(self) -> bool:
        """Whether the next result waits for the consumer to release what it took: the feeder holds back the
        next unit because results taken and not released fill the bound."""
        with self._changed:
            index = self.position
            return (
                self._released < index
                and index < len(self._plan)
                and len(self._charged) <= index  # the feeder has not passed the bound for it: not being submitted
                and self._must_wait(self._plan[index][0].table)
            )

    def next_ready(self) -> bool:
        """Whether the next result is already there (so committing now would not idle the consumer)."""
        with self._changed:
            index = self.position
            return index >= len(self._plan) or (index < len(self._futures) and self._futures[index].done())

    def restrict(self, keep: Keep) -> None:
        """From now on fetch only units `keep` accepts; queued ones it rejects are cancelled."""
        previous = self._keep
        self._keep = lambda endpoint, unit: previous(endpoint, unit) and keep(endpoint, unit)
        with self._changed:
            for (endpoint, unit), future in zip(self._plan, self._futures):
                if not keep(endpoint, unit):
                    future.cancel()

    def close(self) -> None:
        self._stopped.set()
        with self._changed:
            for future in self._futures:
                future.cancel()
            self._changed.notify_all()
        self._pool.shutdown(wait=True, cancel_futures=True)
