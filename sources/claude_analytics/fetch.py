"""Fetching request units into Arrow batches, in order, on a thread pool that runs ahead of loading.

The pool keeps the shared request budget busy while the main thread normalizes and loads what was
already fetched; `max_ahead` bounds how far it runs ahead (memory), and results come back in plan
order so that cursors advance without gaps.
"""

from __future__ import annotations

import datetime as dt
import logging
import threading
from concurrent.futures import Future, ThreadPoolExecutor, wait
from dataclasses import dataclass
from typing import Callable, Iterable, Iterator

import pyarrow as pa

from .client import AnalyticsClient, DayTooOld
from .days import Unit
from .endpoints import Endpoint
from .rows import TableShaper

log = logging.getLogger("claude_analytics.fetch")


@dataclass
class Batch:
    endpoint: Endpoint
    unit: Unit
    table: pa.Table | None  # None: nothing to load (a day outside the API's history)

    @property
    def rows(self) -> int:
        return self.table.num_rows if self.table is not None else 0


class UnitFetcher:
    """Fetches one unit of one endpoint: every page, shaped page by page, as one Arrow table."""

    def __init__(self, client: AnalyticsClient, shapers: dict[str, TableShaper], page_size: int) -> None:
        self.client = client
        self.shapers = shapers
        self.page_size = page_size
        self._locks = {name: threading.Lock() for name in shapers}
        self.answered = threading.Event()  # set once a page was answered and shaped (key, URL and shape work)

    def __call__(self, endpoint: Endpoint, unit: Unit) -> Batch:
        shaper = self.shapers[endpoint.table]
        lock = self._locks[endpoint.table]
        where = f"{endpoint.path} {unit}"

        def shape(rows: list[dict]) -> pa.Table:
            with lock:  # the shaper learns column types; keep that consistent across threads
                table = shaper.shape(rows, day, where=where)
            self.answered.set()
            return table

        if endpoint.date_mode == "window":
            day = None
            params = {"starting_date": unit.first.isoformat(),
                      "ending_date": (unit.last + dt.timedelta(days=1)).isoformat()}
        else:
            day = unit.first
            params = {"date": unit.first.isoformat(), "limit": self.page_size}
        try:
            tables = self.client.fetch_pages(endpoint.path, params, day=unit.last, on_page=shape)
        except DayTooOld as exc:
            log.warning("%s: skipped: %s", where, exc)
            return Batch(endpoint, unit, None)
        table = pa.concat_tables(tables, promote_options="default") if len(tables) > 1 else tables[0]
        with lock:
            table = shaper.finish(table, unit.first, unit.last, where=where)
        return Batch(endpoint, unit, table)


def _skipped() -> Future:
    """A future for a unit that is not fetched: cancelled *and notified*, so `wait` returns at once
    (a plain `Future().cancel()` stays un-notified and would block a waiter forever)."""
    future: Future = Future()
    future.cancel()
    future.set_running_or_notify_cancel()
    return future


class Prefetcher:
    """Runs `fetch` over `plan` on `workers` threads, at most `max_ahead` units ahead of the consumer."""

    def __init__(self, fetch: Callable[[Endpoint, Unit], Batch], plan: Iterable[tuple[Endpoint, Unit]],
                 *, workers: int, max_ahead: int) -> None:
        self._fetch = fetch
        self._plan = list(plan)
        self._pool = ThreadPoolExecutor(max_workers=max(1, workers), thread_name_prefix="fetch")
        self._room = threading.Semaphore(max(1, max_ahead))
        self._futures: list[Future] = []
        self._changed = threading.Condition()
        self._stopped = threading.Event()
        self._keep: Callable[[Endpoint, Unit], bool] = lambda endpoint, unit: True
        self.position = 0  # how many results the consumer has taken
        self._feeder = threading.Thread(target=self._feed, name="fetch-feeder", daemon=True)
        self._feeder.start()

    def _feed(self) -> None:
        for endpoint, unit in self._plan:
            while not self._room.acquire(timeout=0.2):
                if self._stopped.is_set():
                    return
            if self._stopped.is_set():
                return
            if self._keep(endpoint, unit):
                future = self._pool.submit(self._fetch, endpoint, unit)
            else:
                future = _skipped()
            with self._changed:
                self._futures.append(future)
                self._changed.notify_all()
            if len(self._futures) == 1 and not future.cancelled():
                # The first unit goes alone until the API has answered one page: a rejected key or a wrong URL
                # then fails after one request, not after one per worker. If it failed, nothing else is fetched.
                # Only until its first page, not through all its pages: a sliding-window budget repeats the
                # spacing of the first window's sends in every later window, so a first /users day paging
                # alone (7 round trips) spread the last window's requests out too (+15 s at 2 s latency).
                answered = getattr(self._fetch, "answered", None)
                if answered is None:
                    wait([future])
                while not future.done() and not answered.wait(0.02):
                    pass
                if future.done() and future.exception() is not None:
                    self._keep = lambda endpoint, unit: False

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
            self._room.release()
            self.position = index + 1
            yield endpoint, unit, future

    def next_ready(self) -> bool:
        """Whether the next result is already there (so loading now would not idle the consumer)."""
        with self._changed:
            index = self.position
            return index >= len(self._plan) or (index < len(self._futures) and self._futures[index].done())

    def restrict(self, keep: Callable[[Endpoint, Unit], bool]) -> None:
        """From now on fetch only units `keep` accepts; queued ones it rejects are cancelled."""
        self._keep = keep
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
