"""A demo-size warehouse loaded once for the read-only ops tests (views, dictionary, report, status)."""

from __future__ import annotations

import datetime as dt
import os
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from claude_analytics_simulator import Simulator, SimulatorConfig
from pipelines.destinations import Target
from pipelines.runner import RunOptions, RunSummary, run_load
from sources.claude_analytics.days import utc_today
from tests.helpers import settings_for
from tests.ops.view_expectations import write_org_chart

USERS, SEED, HISTORY_DAYS = 40, 11, 40


@dataclass
class Loaded:
    sim: Simulator
    duckdb_file: str  # absolute path
    summary: RunSummary
    org_chart: list[dict]  # the rows of the org chart file that was loaded, as written

    @property
    def days(self) -> list[dt.date]:
        from sources.claude_analytics.days import day_range

        first, last = self.summary.earliest_day, self.summary.latest_available_day
        assert first is not None and last is not None, "the run recorded no engagement days"
        return list(day_range(first, last))

    @property
    def cost_days(self) -> list[dt.date]:
        from sources.claude_analytics.days import day_range

        first, last = self.summary.cost_earliest_day, self.summary.cost_latest_day
        assert first is not None and last is not None, "the run recorded no cost days"
        return list(day_range(first, last))


@pytest.fixture(scope="package")
def loaded(tmp_path_factory) -> Iterator[Loaded]:
    """`run` of every endpoint over 40 days of a 40-user simulated org, with an org chart, into a DuckDB file.
    Treat as read-only (copy the file to change it)."""
    home = tmp_path_factory.mktemp("ops_warehouse")
    today = utc_today()
    sim = Simulator(SimulatorConfig(users=USERS, seed=SEED, rate_limit=0, today=today, history_days=HISTORY_DAYS))
    sim.start()
    chart = write_org_chart(sim, home / "org_chart.csv")
    saved = os.environ.get("DLT_DATA_DIR")
    os.environ["DLT_DATA_DIR"] = str(home / "dlt")
    start = (today - dt.timedelta(days=HISTORY_DAYS)).isoformat()  # the cost reports start there too
    try:
        summary = run_load(
            RunOptions(
                settings_for(sim, start_date=start, org_chart_path=str(home / "org_chart.csv")),
                target=Target(duckdb_file=str(home / "w.duckdb")),
            )
        )
    finally:
        if saved is None:
            os.environ.pop("DLT_DATA_DIR", None)
        else:
            os.environ["DLT_DATA_DIR"] = saved
    yield Loaded(sim, str(Path(home / "w.duckdb")), summary, chart)
    sim.stop()
