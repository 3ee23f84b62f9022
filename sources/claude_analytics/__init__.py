"""The `claude_analytics` dlt source: one merge resource per endpoint of the catalogue.

Each resource keeps a per-day cursor in its dlt resource state (`last_loaded_day`), committed in the
same load package as its rows and restored from the destination on an ephemeral runner. Tables are
merged with `delete-insert` on (date, entity) and `merge_key=date`, so a re-fetched day replaces the
whole day: revised values win and entities that vanished upstream are gone.

Two ways in:
- `claude_analytics()` — a plain dlt source for `pipeline.run(...)`: plans from its own state and fetches
  sequentially. Use it in your own dlt code.
- `claude_analytics_batches(...)` — what `pipelines.runner` uses: loads batches already fetched ahead by a
  thread pool, so the request budget, not loading, bounds a backfill.
"""

from __future__ import annotations

import datetime as dt
import logging
from typing import Any, Iterable, Iterator, Optional, Sequence

import dlt
from dlt.sources import DltResource

from . import days as day_math
from .budget import shared_budget
from .client import AnalyticsClient, DayNotAvailable
from .endpoints import ENDPOINTS, Endpoint, select
from .fetch import Batch, UnitFetcher
from .rows import TableShaper
from .settings import DEFAULT_BASE_URL, MAX_PAGE_SIZE, ClaudeAnalyticsSettings, validate

__all__ = ["claude_analytics", "claude_analytics_batches", "ENDPOINTS", "plan_units", "cursor_of"]

SOURCE_NAME = "claude_analytics"
CURSOR = "last_loaded_day"
log = logging.getLogger("claude_analytics.source")


def resource_hints(endpoint: Endpoint) -> dict[str, Any]:
    """dlt resource arguments shared by both sources: merge on (date, entity), whole-day replacement."""
    columns = {"date": {"data_type": "date", "nullable": False}}
    for key in endpoint.entity_key:
        columns[key] = {"data_type": "text", "nullable": False}
    return dict(
        name=endpoint.table,
        write_disposition={"disposition": "merge", "strategy": "delete-insert"},
        primary_key=endpoint.primary_key,
        merge_key="date",
        columns=columns,
    )


def cursor_of(resource_state: dict) -> dt.date | None:
    value = resource_state.get(CURSOR)
    return dt.date.fromisoformat(value) if value else None


def plan_units(
    endpoint: Endpoint,
    cursor: dt.date | None,
    *,
    earliest: dt.date,
    latest: dt.date,
    lookback_days: int,
    start: dt.date | None = None,
    end: dt.date | None = None,
) -> list[day_math.Unit]:
    """The units one endpoint loads: an explicit [start, end] range, else the nightly range from its cursor."""
    first = max(earliest, start) if start else day_math.nightly_start(cursor, earliest, lookback_days)
    last = min(latest, end) if end else latest
    return day_math.units(first, last, endpoint.max_window_days)


def _load_batches(endpoint: Endpoint, batches: Iterable[Batch], earliest: dt.date, move_cursor: bool
                  ) -> Iterator[Any]:
    state = dlt.current.resource_state()
    for batch in batches:
        if batch.rows:
            yield batch.table
        if move_cursor:
            moved = day_math.advance_cursor(cursor_of(state), batch.unit, earliest)
            if moved is not None:
                state[CURSOR] = moved.isoformat()


def make_resource(endpoint: Endpoint, batches: Iterable[Batch], *, earliest: dt.date, move_cursor: bool
                  ) -> DltResource:
    return dlt.resource(_load_batches(endpoint, batches, earliest, move_cursor), **resource_hints(endpoint))


@dlt.source(name=SOURCE_NAME, max_table_nesting=0)
def claude_analytics_batches(
    batches: Sequence[Batch] = (), earliest: dt.date = day_math.API_FLOOR, move_cursor: bool = True
) -> list[DltResource]:
    """Resources that load already-fetched batches (in plan order) and advance each endpoint's cursor."""
    by_table: dict[str, list[Batch]] = {}
    for batch in batches:
        by_table.setdefault(batch.endpoint.table, []).append(batch)
    return [
        make_resource(e, by_table[e.table], earliest=earliest, move_cursor=move_cursor)
        for e in ENDPOINTS if e.table in by_table
    ]


def _sequential(fetch: UnitFetcher, endpoint: Endpoint, units: list[day_math.Unit]) -> Iterator[Batch]:
    for unit in units:
        try:
            yield fetch(endpoint, unit)
        except DayNotAvailable as exc:
            log.info("%s: stopping at %s: %s", endpoint.table, unit, exc)
            return


@dlt.source(name=SOURCE_NAME, max_table_nesting=0)
def claude_analytics(
    api_key: str = dlt.secrets.value,
    base_url: str = DEFAULT_BASE_URL,
    requests_per_minute: int = 60,
    availability_lag_days: int = 3,
    lookback_days: int = 3,
    history_days: int = 90,
    start_date: Optional[str] = None,
    page_size: int = MAX_PAGE_SIZE,
    endpoints: Optional[str] = None,
    range_start: Optional[str] = None,
    range_end: Optional[str] = None,
) -> list[DltResource]:
    """The Claude Enterprise Analytics API as a dlt source.

    Configuration is injected by dlt from `[sources.claude_analytics]` (or `SOURCES__CLAUDE_ANALYTICS__*`)
    like any verified source. Without a range each resource loads from its cursor (minus `lookback_days`)
    to the latest available day; with `range_start`/`range_end` it merges that range and moves no cursor
    backwards.
    """
    settings = ClaudeAnalyticsSettings()
    for key, value in dict(api_key=api_key, base_url=base_url, requests_per_minute=requests_per_minute,
                           availability_lag_days=availability_lag_days, lookback_days=lookback_days,
                           history_days=history_days, start_date=start_date, page_size=page_size).items():
        setattr(settings, key, value)
    validate(settings)
    today = day_math.utc_today()
    earliest = day_math.earliest_day(today, settings.history_days, settings.start_day())
    latest = day_math.latest_day(today, settings.availability_lag_days)
    start = day_math.parse_day(range_start, "range_start") if range_start else None
    end = day_math.parse_day(range_end, "range_end") if range_end else None
    client = AnalyticsClient(settings.base_url, settings.api_key,
                             shared_budget(settings.base_url, settings.api_key, settings.requests_per_minute))
    chosen = select(endpoints)
    fetch = UnitFetcher(client, {e.table: TableShaper(e) for e in chosen}, settings.page_size)

    def resource(endpoint: Endpoint) -> DltResource:
        def batches() -> Iterator[Batch]:
            cursor = cursor_of(dlt.current.resource_state())
            units = plan_units(endpoint, cursor, earliest=earliest, latest=latest,
                               lookback_days=settings.lookback_days, start=start, end=end)
            yield from _sequential(fetch, endpoint, units)

        def load() -> Iterator[Any]:
            yield from _load_batches(endpoint, batches(), earliest, move_cursor=True)

        return dlt.resource(load, **resource_hints(endpoint))

    return [resource(e) for e in chosen]
