"""Fetching request units ahead of loading, on a thread pool, under the source's shared request budget.

The pool keeps the budget busy while the main thread commits what was already fetched; `max_ahead`
bounds how far it runs ahead of the consumer (memory, and work a crash can lose), and results come
back in plan order so that cursors advance without gaps. A unit that raises stops all further fetching
(the run is ending: a rejected key, retries exhausted).
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor, wait

from sources.claude_analytics.days import Unit
from sources.claude_analytics.endpoints import Endpoint

Keep = Callable[[Endpoint, Unit], bool]


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


class Prefetcher:
    """Runs `fetch` over `plan` on `workers` threads, at most `max_ahead` units ahead of the consumer."""

    def __init__(
        self,
        fetch: Callable[[Endpoint, Unit], object],
        plan: Iterable[tuple[Endpoint, Unit]],
        *,
        workers: int,
        max_ahead: int,
    ) -> None:
        self._fetch = fetch
        self._plan = list(plan)
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

    def __enter__(self) -> Prefetcher:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def _feed(self) -> None:
        for endpoint, unit in self._plan:
            while not self._room.acquire(timeout=0.2):
                if self._stopped.is_set():
                    return
            if self._stopped.is_set():
                return
            if self._keep(endpoint, unit) and not self._failed.is_set():
                future = self._pool.submit(self._fetch, endpoint, unit)
                future.add_done_callback(self._watch)
            else:
                future = _skipped()
            with self._changed:
                self._futures.append(future)
                self._changed.notify_all()

    def _watch(self, future: Future) -> None:
        if not future.cancelled() and future.exception() is not None:
            self._failed.set()

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
            self._room.release()
            self.position = index + 1
            yield endpoint, unit, future

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
