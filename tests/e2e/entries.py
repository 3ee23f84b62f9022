"""Three ways to run the source, configured the same way (dlt's `SOURCES__CLAUDE_ANALYTICS__*` variables):

- `cli`: `claude-analytics run` / `backfill` (the runner: prefetching, chunked commits, run log, views);
- `dlt`: `dlt.pipeline(...).run(claude_analytics(...))`, as in anyone's own dlt code;
- `dagster`: the source as Dagster assets through `dagster-dlt`, materialized in process.

Each loads into ./warehouse.duckdb, dataset `claude_analytics`, and says whether the load succeeded.
(No `from __future__ import annotations` here: Dagster reads the asset function's annotations as types.)
"""

import datetime as dt
from typing import Any

import dlt
from dagster import AssetExecutionContext, materialize
from dagster_dlt import DagsterDltResource, dlt_assets
from dlt.pipeline.exceptions import PipelineStepFailed

from pipelines.cli import main
from sources.claude_analytics import claude_analytics

DATASET = "claude_analytics"
WAREHOUSE = "warehouse.duckdb"
PIPELINE = "claude_analytics_duckdb"


def _pipeline() -> dlt.Pipeline:
    return dlt.pipeline(PIPELINE, destination=dlt.destinations.duckdb(WAREHOUSE), dataset_name=DATASET)


def _source_args(endpoints: str | None, start: dt.date | None, end: dt.date | None) -> dict[str, Any]:
    args: dict[str, Any] = {"endpoints": endpoints}
    if start or end:
        args.update(range_start=start.isoformat() if start else None, range_end=end.isoformat() if end else None)
    return args


class CliEntry:
    name = "cli"

    def run(self, endpoints: str | None = None, start: dt.date | None = None, end: dt.date | None = None) -> bool:
        argv = ["backfill" if start or end else "run", "--log-level", "ERROR"]
        if endpoints:
            argv += ["--endpoints", endpoints]
        if start:
            argv += ["--start-date", start.isoformat()]
        if end:
            argv += ["--end-date", end.isoformat()]
        return main(argv) == 0


class DltEntry:
    name = "dlt"

    def run(self, endpoints: str | None = None, start: dt.date | None = None, end: dt.date | None = None) -> bool:
        try:
            _pipeline().run(claude_analytics(**_source_args(endpoints, start, end)), loader_file_format="parquet")
        except PipelineStepFailed:
            return False
        return True


class DagsterEntry:
    """The recipe of docs/scheduling.md, run in process."""

    name = "dagster"

    def run(self, endpoints: str | None = None, start: dt.date | None = None, end: dt.date | None = None) -> bool:
        @dlt_assets(
            dlt_source=claude_analytics(**_source_args(endpoints, start, end)),
            dlt_pipeline=_pipeline(),
            name="claude_analytics",
            group_name="claude_analytics",
        )
        def claude_analytics_assets(context: AssetExecutionContext, dlt: DagsterDltResource):
            yield from dlt.run(context=context, loader_file_format="parquet")

        result = materialize([claude_analytics_assets], resources={"dlt": DagsterDltResource()}, raise_on_error=False)
        return result.success


ENTRIES = {entry.name: entry for entry in (CliEntry(), DltEntry(), DagsterEntry())}
