"""The `claude_analytics` dlt source: one merge resource per endpoint of the catalogue.

Every loading rule lives here, so the source behaves the same in `claude-analytics run`, in your own
`dlt.pipeline(...).run(claude_analytics())` and as Dagster assets: the calendar learnt from the API, the
per-day cursors (`days.Progress`, in each resource's dlt state, committed with its rows), whole days
replaced on every load (`loading.py`), drift detection against the destination's column types, money
exact, people pseudonymized when asked.

- `claude_analytics(...)` — the source, configured the dlt way (`[sources.claude_analytics]`); it plans
  from its own state and fetches sequentially.
- `claude_analytics_batches(batches, calendar)` — the same resources over batches a driver fetched
  ahead (`pipelines.runner` runs `Extraction.fetch` on a thread pool and commits in chunks).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

import dlt
import pyarrow as pa
from dlt.common.typing import TSecretStrValue
from dlt.sources import DltResource

from .calendar import Calendar
from .days import Progress
from .endpoints import ENDPOINTS, Endpoint, select
from .extraction import Extraction, PerLoad, parse_range, pseudonymizer_of, schema_types
from .fetch import Batch
from .loading import endpoint_resource, sequential
from .org_chart import org_chart_resource, read_org_chart
from .privacy import mode
from .settings import DEFAULT_BASE_URL, MAX_PAGE_SIZE, make_settings

__all__ = [
    "claude_analytics",
    "claude_analytics_batches",
    "ENDPOINTS",
    "Extraction",
    "Batch",
    "Calendar",
    "Progress",
    "SOURCE_NAME",
]

SOURCE_NAME = "claude_analytics"


@dlt.source(name=SOURCE_NAME, max_table_nesting=0)
def claude_analytics(
    api_key: str = dlt.secrets.value,
    base_url: str = DEFAULT_BASE_URL,
    requests_per_minute: int = 60,
    availability_lag_days: str = "auto",
    lookback_days: int = 3,
    cost_lookback_days: int = 30,
    history_days: str = "auto",
    start_date: str | None = None,
    page_size: int = MAX_PAGE_SIZE,
    endpoints: str | None = None,
    range_start: str | None = None,
    range_end: str | None = None,
    pseudonymize: bool = False,
    pseudonym_key: TSecretStrValue | None = None,
    org_chart_path: str | None = None,
    org_unit_attribute: str = "department",
) -> list[DltResource]:
    """The Claude Enterprise Analytics API as a dlt source.

    Args:
        api_key: the Analytics API key (`read:analytics`), a secret.
        base_url, requests_per_minute, page_size: where and how fast to ask.
        availability_lag_days, history_days: `auto` (learnt from the API every run) or a number of days.
        lookback_days, cost_lookback_days: recent days re-fetched on every run (engagement / cost reports).
        start_date: never load before this day (YYYY-MM-DD).
        endpoints: comma-separated endpoint names (default: all eleven).
        range_start, range_end: load this range of days instead (a backfill); no cursor moves backwards.
        pseudonymize, pseudonym_key: replace people's ids, emails and names by keyed hashes.
        org_chart_path, org_unit_attribute: a CSV or Parquet file of people (table `org_chart`, replaced on
            every load) and the column the org-unit views group by.

    Returns:
        One merge resource per endpoint. Without a range each loads from its cursor (minus the re-fetch
        window, after the days earlier runs left missing) to the newest day the API serves.
    """
    settings = make_settings(
        api_key=api_key,
        base_url=base_url,
        requests_per_minute=requests_per_minute,
        availability_lag_days=availability_lag_days,
        lookback_days=lookback_days,
        cost_lookback_days=cost_lookback_days,
        history_days=history_days,
        start_date=start_date,
        page_size=page_size,
        pseudonymize=pseudonymize,
        pseudonym_key=pseudonym_key,
        org_chart_path=org_chart_path,
        org_unit_attribute=org_unit_attribute,
    )
    chosen = select(endpoints)
    start, end = parse_range(range_start, range_end)
    loads = PerLoad(lambda: Extraction(settings, chosen, known_types=schema_types(dlt.current.source_schema())))
    privacy = mode(pseudonymizer_of(settings))

    def resource(endpoint: Endpoint) -> DltResource:
        def batches() -> Iterable[Batch]:
            extraction = loads.current()
            plan = extraction.plan(endpoint, Progress.of(dlt.current.resource_state()), start, end)
            return sequential(extraction.fetch, endpoint, plan)

        return endpoint_resource(
            endpoint, batches, lambda: loads.current().calendar.edges_of(endpoint).earliest, privacy
        )

    resources = [resource(e) for e in chosen]
    if org_chart_path:
        resources.append(
            org_chart_resource(lambda: read_org_chart(org_chart_path, pseudonymizer_of(settings), org_unit_attribute))
        )
    return resources


@dlt.source(name=SOURCE_NAME, max_table_nesting=0)
def claude_analytics_batches(
    batches: Sequence[Batch], calendar: Calendar, privacy: str, org_chart: pa.Table | None
) -> list[DltResource]:
    """The source's resources over batches already fetched (in plan order) by `Extraction.fetch`.

    `privacy`: `privacy.mode(extraction.pseudonymizer)`; `org_chart`: a table `read_org_chart` checked.
    """
    by_table: dict[str, list[Batch]] = {}
    for batch in batches:
        by_table.setdefault(batch.endpoint.table, []).append(batch)

    def resource(endpoint: Endpoint) -> Any:
        return endpoint_resource(
            endpoint, lambda: by_table[endpoint.table], lambda: calendar.edges_of(endpoint).earliest, privacy
        )

    resources = [resource(e) for e in ENDPOINTS if e.table in by_table]
    if org_chart is not None:
        resources.append(org_chart_resource(lambda: org_chart))
    return resources
