"""The loading pipeline's state against its destination: reach it, finish what a crash left, read cursors.

dlt keeps the state (each endpoint's cursor, the pseudonymization mode) locally and in the destination, in
the same load package as the rows; these helpers make sure a run starts from what the destination holds.
"""

from __future__ import annotations

import logging

import dlt

from sources.claude_analytics import SOURCE_NAME, Progress
from sources.claude_analytics.privacy import recorded_mode

from .errors import UsageError, duckdb_memory_help, first_line

log = logging.getLogger("claude_analytics.state")


def connect(pipeline: dlt.Pipeline, destination: str) -> None:
    """Reach the destination before any API request: restore state, finish what a crash left pending."""
    try:
        pipeline.sync_destination()
    except Exception as exc:  # any driver's error: the destination is misconfigured or down
        reason = first_line(exc)
        advice = duckdb_memory_help(reason) or (
            "check its credentials (.dlt/secrets.toml or DESTINATION__* variables) and that it is up"
        )
        raise UsageError(f"cannot use destination {destination}: {reason} — {advice}") from None
    if pipeline.has_pending_data:
        log.info("finishing the load a previous run left pending")
        pipeline.normalize()
        pipeline.load()


def source_state(pipeline: dlt.Pipeline) -> dict:
    return pipeline.state.get("sources", {}).get(SOURCE_NAME, {})


def resource_progress(pipeline: dlt.Pipeline) -> dict[str, Progress]:
    """Each table's cursor, from the pipeline's (local) state."""
    return {table: Progress.of(state) for table, state in source_state(pipeline).get("resources", {}).items()}


def privacy_mode(pipeline: dlt.Pipeline) -> str | None:
    """What the dataset's people columns hold (`privacy.mode`), None before anything was loaded."""
    return recorded_mode(source_state(pipeline))


def verified_progress(pipeline: dlt.Pipeline) -> dict[str, Progress]:
    """Cursors from local state, unless the destination holds no state of this pipeline at all.

    Local state can outlive the data (a deleted DuckDB file, a dropped dataset); trusting it would skip
    those days for good, so then every endpoint loads from the earliest day again.
    """
    progress = resource_progress(pipeline)
    if not any(p.last_day for p in progress.values()):
        return progress
    with pipeline.sql_client() as sql:
        try:
            table = sql.make_qualified_table_name(pipeline.default_schema.state_table_name)
            rows = sql.execute_sql(f"SELECT 1 FROM {table} WHERE pipeline_name = '{pipeline.pipeline_name}'")
        except Exception:  # no state table: nothing was ever loaded there
            rows = []
    if rows:
        return progress
    log.warning(
        "local state says data was loaded, but the destination holds none of pipeline %s: loading from "
        "the earliest day again",
        pipeline.pipeline_name,
    )
    return {}
