"""A demo-size warehouse loaded once for the read-only ops tests (views, dictionary, report, status)."""

from __future__ import annotations

import logging
import os
from dataclasses import dataclass
from pathlib import Path

import pytest

from claude_analytics_simulator import Simulator, SimulatorConfig
from pipelines.runner import RunOptions, RunSummary, run_load
from tests.helpers import settings_for

USERS, SEED, HISTORY_DAYS = 40, 11, 40


@dataclass
class Loaded:
    sim: Simulator
    duckdb_file: str  # absolute path
    summary: RunSummary

    @property
    def days(self):
        from sources.claude_analytics.days import day_range

        return list(day_range(self.summary.earliest_day, self.summary.latest_available_day))


@pytest.fixture(scope="package")
def loaded(tmp_path_factory) -> Loaded:
    """`run` of every endpoint over 40 days of a 40-user simulated org into a DuckDB file. Treat as read-only."""
    home = tmp_path_factory.mktemp("ops_warehouse")
    sim = Simulator(SimulatorConfig(users=USERS, seed=SEED, rate_limit=0))
    sim.start()
    saved = os.environ.get("DLT_DATA_DIR")
    os.environ["DLT_DATA_DIR"] = str(home / "dlt")
    try:
        summary = run_load(RunOptions(settings_for(sim, history_days=HISTORY_DAYS), duckdb_file=str(home / "w.duckdb")))
    finally:
        if saved is None:
            os.environ.pop("DLT_DATA_DIR", None)
        else:
            os.environ["DLT_DATA_DIR"] = saved
    yield Loaded(sim, str(Path(home / "w.duckdb")), summary)
    sim.stop()


@pytest.fixture(autouse=True)
def restore_logging():
    """`claude-analytics` commands configure logging process-wide: put it back after each test."""
    names = ("", "claude_analytics", "dlt", "httpx", "httpcore")
    levels = {name: logging.getLogger(name).level for name in names}
    handlers = list(logging.getLogger().handlers)
    filters = {id(h): list(h.filters) for h in handlers}
    yield
    for name, level in levels.items():
        logging.getLogger(name).setLevel(level)
    root = logging.getLogger()
    for handler in list(root.handlers):
        if handler not in handlers:
            root.removeHandler(handler)
    for handler in handlers:
        handler.filters[:] = filters[id(handler)]
