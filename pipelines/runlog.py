"""The run log: one row per `run`/`backfill` in table `pipeline_runs`, for BI and alerting."""

from __future__ import annotations

import datetime as dt
import logging
import uuid
from dataclasses import dataclass, field
from typing import Any

import dlt
from dlt.common.schema.typing import TColumnSchema

from sources.claude_analytics.days import describe
from sources.claude_analytics.endpoints import ENDPOINTS

log = logging.getLogger("claude_analytics.runlog")


@dataclass
class RunSummary:
    command: str
    destination: str
    dataset_name: str
    started_at: dt.datetime
    finished_at: dt.datetime | None = None
    outcome: str = "running"  # succeeded | failed | rejected
    error: str | None = None
    earliest_day: dt.date | None = None  # engagement endpoints: the days the API served on this run
    latest_available_day: dt.date | None = None
    cost_earliest_day: dt.date | None = None  # cost & usage reports
    cost_latest_day: dt.date | None = None
    learnt: tuple[str, ...] = ()  # the edges learnt from the API ("latest", "earliest")
    history_days: int | None = None  # the engagement history window (None: it reaches back to 2026-01-01)
    planned_units: int = 0
    planned_days: int = 0  # days × endpoints in the plan
    units_loaded: int = 0
    requests: int = 0
    retries: int = 0
    rate_limited: int = 0
    cursor_restarts: int = 0
    chunks: int = 0
    days_loaded: dict[str, int] = field(default_factory=dict)
    rows_loaded: dict[str, int] = field(default_factory=dict)
    cursors: dict[str, str | None] = field(default_factory=dict)
    days_failed: dict[str, list[dt.date]] = field(default_factory=dict)  # this run could not load them
    days_missing: dict[str, list[dt.date]] = field(default_factory=dict)  # after the run: retried first next time
    unavailable: dict[str, str] = field(default_factory=dict)  # table → why this organization cannot load it

    @property
    def days_behind(self) -> int | None:
        if self.latest_available_day is None or not self.cursors:
            return None
        if not all(self.cursors.values()):
            return None
        lagging = min(dt.date.fromisoformat(c) for c in self.cursors.values() if c)
        return max(0, (self.latest_available_day - lagging).days)


RUN_LOG_TABLE = "pipeline_runs"

COLUMNS: dict[str, TColumnSchema] = {
    "run_id": {"data_type": "text", "nullable": False, "primary_key": True},
    "command": {"data_type": "text"},
    "destination": {"data_type": "text"},
    "started_at": {"data_type": "timestamp"},
    "finished_at": {"data_type": "timestamp"},
    "outcome": {"data_type": "text"},
    "error": {"data_type": "text"},
    "earliest_day": {"data_type": "date"},
    "latest_available_day": {"data_type": "date"},
    "cost_earliest_day": {"data_type": "date"},
    "cost_latest_day": {"data_type": "date"},
    "edges_learnt": {"data_type": "text"},
    "history_days": {"data_type": "bigint"},
    "days_behind": {"data_type": "bigint"},
    "planned_units": {"data_type": "bigint"},
    "units_loaded": {"data_type": "bigint"},
    "requests": {"data_type": "bigint"},
    "retries": {"data_type": "bigint"},
    "rate_limited": {"data_type": "bigint"},
    "cursor_restarts": {"data_type": "bigint"},
    "chunks": {"data_type": "bigint"},
    "days_failed": {"data_type": "text"},
    "days_missing": {"data_type": "text"},
    **{f"{e.table}_days": {"data_type": "bigint"} for e in ENDPOINTS},
    **{f"{e.table}_rows": {"data_type": "bigint"} for e in ENDPOINTS},
    **{f"{e.table}_loaded_through": {"data_type": "date"} for e in ENDPOINTS},
    **{f"{e.table}_unavailable": {"data_type": "text"} for e in ENDPOINTS},
}


def run_row(summary: RunSummary) -> dict:
    row = {
        "run_id": uuid.uuid4().hex,
        "command": summary.command,
        "destination": summary.destination,
        "started_at": summary.started_at,
        "finished_at": summary.finished_at,
        "outcome": summary.outcome,
        "error": summary.error,
        "earliest_day": summary.earliest_day,
        "latest_available_day": summary.latest_available_day,
        "cost_earliest_day": summary.cost_earliest_day,
        "cost_latest_day": summary.cost_latest_day,
        "edges_learnt": ", ".join(summary.learnt) or None,
        "history_days": summary.history_days,
        "days_behind": summary.days_behind,
        "planned_units": summary.planned_units,
        "units_loaded": summary.units_loaded,
        "requests": summary.requests,
        "retries": summary.retries,
        "rate_limited": summary.rate_limited,
        "cursor_restarts": summary.cursor_restarts,
        "chunks": summary.chunks,
        "days_failed": "; ".join(f"{t} {describe(d)}" for t, d in summary.days_failed.items()) or None,
        "days_missing": "; ".join(f"{t} {describe(d)}" for t, d in summary.days_missing.items()) or None,
    }
    for e in ENDPOINTS:
        row[f"{e.table}_days"] = summary.days_loaded.get(e.table, 0)
        row[f"{e.table}_rows"] = summary.rows_loaded.get(e.table, 0)
        row[f"{e.table}_loaded_through"] = summary.cursors.get(e.table)
        row[f"{e.table}_unavailable"] = summary.unavailable.get(e.table)
    return row


def record_run(pipeline: dlt.Pipeline, summary: RunSummary, file_format: str) -> None:
    """Append the run's row; a failure here is logged, never raised (the data load already decided)."""
    resource = dlt.resource([run_row(summary)], name=RUN_LOG_TABLE, write_disposition="append", columns=COLUMNS)
    # one small row: parquet buys nothing here, the destination's default format will do (csv: no default)
    options: dict[str, Any] = {} if file_format == "parquet" else {"loader_file_format": file_format}
    try:
        pipeline.run(resource, **options)
    except Exception as exc:
        log.warning("could not record the run in %s: %s", RUN_LOG_TABLE, exc)
