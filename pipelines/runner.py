"""The pipeline runner: `claude-analytics run` and `backfill`, driving the source.

The source (`sources.claude_analytics`) holds every loading rule. The runner adds what a driver adds:
a thread pool that fetches ahead under the shared budget (`prefetch.py`), commits in chunks (each one
`pipeline.run` carrying rows and cursors together, so a crash loses at most one chunk's work), one run
at a time (`lock.py`), the run log and the BI views.

    plan  = build_plan(extraction, cursors, range)            # pure, once per run
    for batches in chunks(prefetched results of the plan):    # by work done and by time
        commit(batches)                                       # claude_analytics_batches → pipeline.run
"""

from __future__ import annotations

import datetime as dt
import logging
import math
import time
from dataclasses import dataclass, field
from typing import Any, Protocol

import dlt
import pyarrow as pa

from sources.claude_analytics import Batch, Extraction, Progress, claude_analytics_batches, days
from sources.claude_analytics.client import AnalyticsAPIError, SetupError
from sources.claude_analytics.days import ONE_DAY, Unit, describe
from sources.claude_analytics.endpoints import Endpoint, select
from sources.claude_analytics.extraction import parse_range, schema_types
from sources.claude_analytics.org_chart import OrgChartError, read_org_chart
from sources.claude_analytics.privacy import PrivacyModeError, check_mode, mode
from sources.claude_analytics.settings import ClaudeAnalyticsSettings

from .destinations import Target
from .errors import RunFailed, UsageError
from .lock import RunLock
from .memory import arrow_on_malloc, limit_arenas, release
from .prefetch import Prefetcher
from .runlog import RunSummary, record_run
from .state import connect, privacy_mode, resource_progress, verified_progress
from .views import create_views

log = logging.getLogger("claude_analytics.runner")


@dataclass(frozen=True)
class CommitPolicy:
    """When fetched batches are committed: once they took `max_requests` answers or `max_seconds` passed, and
    sooner (after `min_seconds`) when the next batch is not fetched yet, so that committing idles nothing.
    A chunk holds at most `max_rows` rows, unless one unit (a day, never split) holds more and is committed
    alone: rows bound what a commit holds in memory (Arrow tables, dlt's normalize, the destination's insert),
    whatever the organization's size."""

    max_requests: int = 60
    max_rows: int = 15_000
    max_seconds: float = 60.0
    min_seconds: float = 10.0

    def overflows(self, rows: int, more: int) -> bool:
        """Would a chunk of `rows` rows go past `max_rows` with `more`? (Then it is committed first.)"""
        return rows > 0 and rows + more > self.max_rows

    def due(self, pages: int, rows: int, elapsed: float, next_ready: bool) -> bool:
        return (
            pages >= self.max_requests
            or rows >= self.max_rows
            or elapsed >= self.max_seconds
            or (elapsed >= self.min_seconds and not next_ready)
        )


# What may be in memory between fetch and commit (fetched ahead, pending, being committed), in Arrow bytes: at
# 10,000 seats a chunk (at most 15,000 rows, ~9 MiB) and about two days of every endpoint ahead of it (a /users
# day is ~600 bytes a row, ~6 MiB), which keeps the budget busy while a long unit holds up the commits; at
# 50,000 seats one /users day (~19 MiB), never fetched beside the commit of another.
PREFETCH_HELD_BYTES = 28 * 2**20


class RunObserver(Protocol):
    """Told about progress (the command line's progress bar)."""

    def fetched(self, summary: RunSummary, batch: Batch) -> None: ...

    def committed(self, summary: RunSummary) -> None: ...


@dataclass
class RunOptions:
    settings: ClaudeAnalyticsSettings
    command: str = "run"  # run | backfill
    target: Target = field(default_factory=Target)
    endpoints: str | list[str] | None = None
    start_date: dt.date | None = None  # backfill range (inclusive)
    end_date: dt.date | None = None
    wait_for_lock: bool = False
    commit: CommitPolicy = field(default_factory=CommitPolicy)
    observer: RunObserver | None = None


def fetch_workers(requests_per_minute: int) -> int:
    """Enough threads that ~4 s of server latency cannot idle the budget (and a window's last requests
    are not queued behind each other)."""
    return max(8, min(64, math.ceil(requests_per_minute / 60 * 4)))


def build_plan(
    extraction: Extraction,
    endpoints: list[Endpoint],
    progress: dict[str, Progress],
    start: dt.date | None = None,
    end: dt.date | None = None,
) -> list[tuple[Endpoint, Unit]]:
    """Every unit of every endpoint: days earlier runs left missing first, then oldest first, so that all
    cursors advance together chunk by chunk."""
    plan = [
        (endpoint, unit)
        for endpoint in endpoints
        for unit in extraction.plan(endpoint, progress.get(endpoint.table, Progress()), start, end)
    ]
    order = {e.table: i for i, e in enumerate(endpoints)}

    def key(item: tuple[Endpoint, Unit]) -> tuple[bool, dt.date, int]:
        endpoint, unit = item
        retried = any(day in progress.get(endpoint.table, Progress()).missing for day in unit.day_list())
        return not retried, unit.last, order[endpoint.table]

    return sorted(plan, key=key)


class Run:
    """One `run` or `backfill`: owns the pipeline, the extraction and the prefetcher for its duration."""

    def __init__(self, options: RunOptions) -> None:
        self.options = options
        self.endpoints = select(options.endpoints)
        self.destination = options.target.kind
        self.start, self.end = parse_range(options.start_date, options.end_date)
        newest = days.utc_today() - ONE_DAY
        if self.end and self.end > newest:
            raise UsageError(
                f"--end-date {self.end} is not available yet: the API serves at most through yesterday, {newest}"
            )
        target = options.target
        self.summary = RunSummary(
            options.command, target.destination, target.dataset_name, started_at=dt.datetime.now(dt.timezone.utc)
        )

    def execute(self) -> RunSummary:
        limit_arenas()  # before the fetch threads exist
        arrow_on_malloc()  # before the first Arrow table
        with RunLock(self.options.target.name, self.options.wait_for_lock):
            self.summary.started_at = dt.datetime.now(dt.timezone.utc)  # after any wait for the lock
            pipeline = self.options.target.pipeline()
            connect(pipeline, self.summary.destination)
            extraction = self.extraction = Extraction(
                self.options.settings,
                self.endpoints,
                known_types=schema_types(pipeline.default_schema if pipeline.default_schema_name else None),
            )
            try:
                self._load(pipeline, extraction)
                self.summary.outcome = "succeeded"
            except BaseException as exc:
                self.summary.outcome = "rejected" if isinstance(exc, UsageError) else "failed"
                self.summary.error = str(exc) or type(exc).__name__
                raise
            finally:
                extraction.close()
                self._finish(pipeline)
        return self.summary

    def _checked_inputs(self, pipeline: dlt.Pipeline, extraction: Extraction) -> pa.Table | None:
        """Refuse what would mix plaintext and pseudonyms; read and check the org chart (before any request)."""
        settings = self.options.settings
        try:
            check_mode(
                privacy_mode(pipeline),
                mode(extraction.pseudonymizer),
                dataset=pipeline.dataset_name,
                reset=self.options.target.reset_command,
            )
            if settings.org_chart_path:
                return read_org_chart(settings.org_chart_path, extraction.pseudonymizer, settings.org_unit_attribute)
        except (PrivacyModeError, OrgChartError) as exc:
            raise UsageError(str(exc)) from None
        return None

    def _load(self, pipeline: dlt.Pipeline, extraction: Extraction) -> None:
        org_chart = self._checked_inputs(pipeline, extraction)
        try:
            calendar = extraction.calendar  # the run's first request: a rejected key ends it here
        except SetupError as exc:
            raise UsageError(str(exc)) from None
        except AnalyticsAPIError as exc:
            raise RunFailed(str(exc)) from None
        s = self.summary
        engagement, cost = calendar.edges["engagement"], calendar.edges["cost"]
        s.earliest_day, s.latest_available_day = engagement.earliest, engagement.latest
        s.cost_earliest_day, s.cost_latest_day, s.learnt = cost.earliest, cost.latest, calendar.learnt
        s.history_days = engagement.history_days
        backfill = self.options.command == "backfill"
        start = (self.start or engagement.earliest) if backfill else None
        end = (self.end or engagement.latest) if backfill else None
        plan = build_plan(extraction, self.endpoints, verified_progress(pipeline), start, end)
        s.planned_units, s.planned_days = len(plan), sum(unit.days for _, unit in plan)
        workers = fetch_workers(self.options.settings.requests_per_minute)
        commit = Committer(pipeline, extraction, self.destination, s, self.options.observer, org_chart)
        with Prefetcher(
            extraction.fetch,
            plan,
            workers=workers,
            max_ahead=workers,
            size=lambda batch: batch.nbytes,
            max_held=PREFETCH_HELD_BYTES,
        ) as prefetcher:
            self._fetch_and_commit(prefetcher, commit)
        if s.days_failed:
            raise RunFailed(
                f"{sum(len(d) for d in s.days_failed.values())} day(s) could not be loaded, "
                f"{'; '.join(f'{t} {describe(d)}' for t, d in s.days_failed.items())}: the page cursor kept "
                "expiring; everything else is loaded, and the next run fetches these days first"
            )

    def _fetch_and_commit(self, prefetcher: Prefetcher, commit: Committer) -> None:
        pending: list[Batch] = []
        pages, rows, since = 0, 0, time.monotonic()
        policy = self.options.commit
        failure: AnalyticsAPIError | None = None

        def flush(upto: int) -> None:
            """Commits what is pending, then tells the prefetcher that its results before `upto` are gone."""
            nonlocal pending, pages, rows, since
            if pending:
                commit(pending)
                pending, pages, rows, since = [], 0, 0, time.monotonic()
            prefetcher.release(upto)

        for _endpoint, _unit, future in prefetcher.results():
            if not future.cancelled():
                try:
                    batch = future.result()
                except AnalyticsAPIError as exc:
                    failure = exc
                    break
                self._note(batch, prefetcher)
                if policy.overflows(rows, batch.rows):
                    flush(prefetcher.position - 1)  # all but this batch
                pending.append(batch)
                pages += batch.pages
                rows += batch.rows
                if self.options.observer:
                    self._sync_stats()
                    self.options.observer.fetched(self.summary, batch)
                if policy.due(pages, rows, time.monotonic() - since, prefetcher.next_ready()):
                    flush(prefetcher.position)
                del batch
            if prefetcher.stalled():  # the next unit waits for the memory of what is pending
                flush(prefetcher.position)
            del future  # a committed batch is not kept alive while the next one is fetched
        if pending or commit.org_chart is not None:
            commit(pending)
        if isinstance(failure, SetupError):
            raise UsageError(str(failure))
        if failure is not None:
            raise RunFailed(str(failure))

    def _note(self, batch: Batch, prefetcher: Prefetcher) -> None:
        """What a batch teaches the rest of the run: an endpoint not offered, a newest day, days to retry."""
        table = batch.endpoint.table
        if batch.outcome == "unavailable" and table not in self.summary.unavailable:
            self.summary.unavailable[table] = batch.reason
            log.warning("%s: skipped: %s", table, batch.reason)
            prefetcher.restrict(lambda e, u: e.table != table)
        elif batch.latest is not None:
            newest = batch.latest
            prefetcher.restrict(lambda e, u: e.table != table or u.first <= newest)
        elif batch.outcome == "failed" and batch.covered is not None:
            self.summary.days_failed.setdefault(table, []).extend(batch.covered.day_list())

    def _sync_stats(self) -> None:
        if "client" in self.extraction.__dict__:  # made on first use
            stats, s = self.extraction.client.stats, self.summary
            s.requests, s.retries, s.rate_limited, s.cursor_restarts = (
                stats.requests,
                stats.retries,
                stats.rate_limited,
                stats.cursor_restarts,
            )

    def _finish(self, pipeline: dlt.Pipeline) -> None:
        s = self.summary
        self._sync_stats()
        s.finished_at = dt.datetime.now(dt.timezone.utc)
        progress = resource_progress(pipeline)
        s.cursors = {t: (p.last_day.isoformat() if p.last_day else None) for t, p in progress.items()}
        s.days_missing = {t: list(p.missing) for t, p in progress.items() if p.missing}
        if s.outcome == "rejected":
            return
        if s.chunks:
            create_views(pipeline, self.options.settings.org_unit_attribute)  # BI views; logs, never raises
        record_run(pipeline, s, self.destination.file_format)


class Committer:
    """Commits a chunk of batches: one `pipeline.run` of the source over them (rows and cursors together)."""

    def __init__(
        self,
        pipeline: dlt.Pipeline,
        extraction: Extraction,
        destination: Any,
        summary: RunSummary,
        observer: RunObserver | None,
        org_chart: pa.Table | None,
    ) -> None:
        self.pipeline = pipeline
        self.extraction = extraction
        self.destination = destination
        self.summary = summary
        self.observer = observer
        self.org_chart = org_chart  # loaded with the first chunk

    def __call__(self, batches: list[Batch]) -> None:
        source = claude_analytics_batches(
            batches, self.extraction.calendar, mode(self.extraction.pseudonymizer), self.org_chart
        )
        self.destination.before_commit(self.pipeline, batches)
        self.pipeline.run(self.destination.apply_layout(source), loader_file_format=self.destination.file_format)
        self.org_chart = None
        s = self.summary
        s.chunks += 1
        s.units_loaded += len(batches)
        for batch in batches:
            if batch.outcome == "loaded" and batch.covered is not None:
                table = batch.endpoint.table
                s.days_loaded[table] = s.days_loaded.get(table, 0) + batch.covered.days
                s.rows_loaded[table] = s.rows_loaded.get(table, 0) + batch.rows
        release()  # the chunk is gone: its freed pages need not stay with the process
        if self.observer:
            self.observer.committed(s)
        log.info("committed %d unit(s), %d row(s)", len(batches), sum(b.rows for b in batches))


def run_load(options: RunOptions) -> RunSummary:
    return Run(options).execute()
