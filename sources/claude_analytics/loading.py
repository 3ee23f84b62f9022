"""What loading an endpoint's fetched batches does: rows into its table, whole days replaced, the cursor moved.

Merge semantics (every table): a day is the unit of replacement. Each load's `delete-insert` merge gets a
`destination_scope` naming exactly the days this load speaks for, so the merge deletes every row of those
days and inserts the newly fetched ones, in one transaction: revised values win, entities that vanished
upstream are gone, and a day that became empty upstream is emptied. dlt runs a merge only for a table with
rows in the package, so each load ends with one tombstone row (dated 1970-01-01, which the merge's
`source_filter` never inserts) that carries the final scope: a load of only empty days still clears them.
Rows are deduplicated per key when shaped, so the merge skips dlt's own deduplication.

The cursor (`days.Progress`) lives in the dlt resource state and is committed in the same load package as
the rows, so a crash loses at most the days in flight.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Callable, Iterable, Iterator
from typing import Any

import dlt
import pyarrow as pa
from dlt.common.schema.typing import TDeleteInsertStrategyDict

from .days import API_FLOOR, Progress, Unit, describe, runs
from .endpoints import Endpoint
from .fetch import Batch
from .privacy import STATE_KEY, check_mode, recorded_mode
from .rows import ARROW_TYPES, declared_columns

log = logging.getLogger("claude_analytics.loading")

TOMBSTONE_DAY = dt.date(1970, 1, 1)
SOURCE_FILTER = f"date >= DATE '{API_FLOOR.isoformat()}'"  # every real row; never a tombstone
_KEY_PLACEHOLDER: dict[str, Any] = {"text": "", "bool": False, "bigint": 0}


def write_disposition(days: Iterable[dt.date] = ()) -> TDeleteInsertStrategyDict:
    scope = " OR ".join(f"(date >= DATE '{a}' AND date <= DATE '{b}')" for a, b in runs(days))
    disposition: TDeleteInsertStrategyDict = {
        "disposition": "merge",
        "strategy": "delete-insert",
        "deduplicated": True,
        "source_filter": SOURCE_FILTER,
    }
    if scope:
        disposition["destination_scope"] = scope
    return disposition


def table_hints(endpoint: Endpoint) -> dict[str, Any]:
    """dlt resource arguments: the table, its merge, a real DATE column and the (non-null) key columns."""
    types = declared_columns(endpoint)
    columns: dict[str, Any] = {"date": {"data_type": "date", "nullable": False}}
    hints: dict[str, Any] = dict(name=endpoint.table, write_disposition=write_disposition(), columns=columns)
    if not endpoint.nullable_key:  # report dimensions are NULL for unattributed traffic: no primary key there
        for key in endpoint.entity_key:
            columns[key] = {"data_type": types[key], "nullable": False}
        hints["primary_key"] = endpoint.primary_key
    return hints


def tombstone(endpoint: Endpoint) -> pa.Table:
    """One row the merge never inserts (see the module docstring); key columns hold placeholders."""
    types = declared_columns(endpoint)
    keys = () if endpoint.nullable_key else endpoint.entity_key
    fields = [pa.field("date", pa.date32(), nullable=False)]
    fields += [pa.field(k, ARROW_TYPES[types[k]], nullable=False) for k in keys]
    values = [[TOMBSTONE_DAY], *[[_KEY_PLACEHOLDER[types[k]]] for k in keys]]
    return pa.Table.from_arrays([pa.array(v, f.type) for v, f in zip(values, fields)], schema=pa.schema(fields))


def guard_privacy(privacy: str) -> None:
    """Refuse to mix plaintext and pseudonyms in one dataset; record what this load writes."""
    state = dlt.current.source_state()
    pipeline = dlt.current.pipeline()
    check_mode(
        recorded_mode(state),
        privacy,
        dataset=pipeline.dataset_name,
        reset=f"dlt pipeline {pipeline.pipeline_name} drop --drop-all --state-paths {STATE_KEY}",
    )
    state[STATE_KEY] = privacy


def load_batches(endpoint: Endpoint, batches: Iterable[Batch], earliest: Callable[[], dt.date]) -> Iterator[Any]:
    """The resource body: yields the batches' tables, replaces their days, moves the cursor as they pass."""
    state = dlt.current.resource_state()
    replaced: set[dt.date] = set()
    for batch in batches:
        progress = Progress.of(state)
        if batch.outcome == "loaded" and batch.covered is not None:
            if batch.rows:
                yield batch.table
            replaced.update(batch.covered.day_list())
            progress = progress.after(batch.covered, earliest())
        elif batch.outcome in ("too_old", "failed") and batch.covered is not None:
            progress = progress.after(batch.covered, earliest(), failed=batch.outcome == "failed")
        lost = set(Progress.of(state).missing) - set(progress.missing) - set(replaced)
        if lost:
            log.error(
                "%s: day(s) %s were never loaded and the API no longer serves them", endpoint.table, describe(lost)
            )
        progress.save(state)
    if replaced:
        yield dlt.mark.with_hints(
            tombstone(endpoint), dlt.mark.make_hints(write_disposition=write_disposition(replaced))
        )


def endpoint_resource(
    endpoint: Endpoint, batches: Callable[[], Iterable[Batch]], earliest: Callable[[], dt.date], privacy: str
) -> Any:
    """The dlt resource of one endpoint over the batches `batches()` yields when it is extracted; `privacy` is
    the pseudonymization mode (`privacy.mode`)."""

    def load() -> Iterator[Any]:
        guard_privacy(privacy)  # before any request
        yield from load_batches(endpoint, batches(), earliest)

    return dlt.resource(load, **table_hints(endpoint))


def sequential(fetch: Callable[[Endpoint, Unit], Batch], endpoint: Endpoint, plan: Iterable[Unit]) -> Iterator[Batch]:
    """Fetch a plan one unit after the other, until the API says the rest is not there (yet)."""
    for unit in plan:
        batch = fetch(endpoint, unit)
        yield batch
        if batch.outcome == "unavailable":
            log.warning("%s: skipped: %s", endpoint.table, batch.reason)
            return
        if batch.outcome == "not_available" or batch.latest is not None:
            log.info("%s: stopping at %s, the newest day the API serves", endpoint.table, batch.latest)
            return
