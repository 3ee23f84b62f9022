"""Seven simulated nights in a row, the way a scheduler runs `claude-analytics run`: the API's date moves on,
recent days are revised, requests fail in every documented way, and one night is killed mid-run (and run
again). After each night every table equals the simulator's data, with no duplicate key."""

from __future__ import annotations

import datetime as dt
import os
import signal
import subprocess
import sys
import time

import duckdb

from claude_analytics_simulator import FaultConfig
from sources.claude_analytics.days import ONE_DAY, day_range
from sources.claude_analytics.endpoints import ENDPOINTS
from tests.helpers import WAREHOUSE, assert_table_equals, expected_table, sim_env, table_rows

DATASET = "claude_analytics"
HISTORY = 10
FAULTS = FaultConfig(
    server_error_rate=0.03, rate_limit_rate=0.02, drop_rate=0.01, expired_cursor_rate=0.05, retry_after_seconds=0.0
)
# One night in a process of its own, believing `today` is NIGHT (the project's one clock), with quick retries.
NIGHT = """
import datetime as dt, os, sys
from sources.claude_analytics import client, days
days.utc_today = lambda: dt.date.fromisoformat(os.environ["NIGHT"])
client.DEFAULT_RETRY = client.RetryPolicy(backoff_base=0.02, backoff_max=0.2, max_attempts=10)
from pipelines.cli import main
sys.exit(main(["run", "--log-level", "ERROR"]))
"""


def night(sim, today: dt.date, *, kill_after: int | None = None) -> int:
    env = {
        **os.environ,
        "NIGHT": today.isoformat(),
        **sim_env(sim, page_size=10, cost_lookback_days=3, start_date=today - dt.timedelta(days=HISTORY)),
    }
    process = subprocess.Popen(
        [sys.executable, "-c", NIGHT], env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
    )
    if kill_after is not None:
        served = sim.stats()["total"]
        while sim.stats()["total"] < served + kill_after and process.poll() is None:
            time.sleep(0.002)
        process.send_signal(signal.SIGKILL)
    return process.wait(timeout=300)


def assert_tables_equal_the_simulator(sim, first: dt.date) -> None:
    latest = {"engagement": sim.latest_available_day(), "cost": sim.today() - ONE_DAY}
    with duckdb.connect(WAREHOUSE, read_only=True) as con:
        for endpoint in ENDPOINTS:  # table_rows fails on a duplicate key
            assert_table_equals(
                table_rows(con, DATASET, endpoint),
                expected_table(sim, endpoint, day_range(first, latest[endpoint.family])),
                endpoint.table,
                ignore=("data_refreshed_at",),
            )


def test_a_week_of_nights(start_simulator):
    first_night = dt.datetime.now(dt.timezone.utc).date() - dt.timedelta(days=7)
    sim = start_simulator(
        users=30, seed=51, today=first_night, history_days=HISTORY, revision_days=3, cost_revision_days=2, faults=FAULTS
    )
    first = first_night - dt.timedelta(days=HISTORY)
    for n in range(7):
        today = first_night + dt.timedelta(days=n)
        sim.config.today = today
        sim.config.revision = sim.config.cost_revision = n  # recent days revised again every night
        if n == 3:
            assert night(sim, today, kill_after=40) == -signal.SIGKILL
        assert night(sim, today) == 0, f"night {n + 1}"
        assert sum(sim.stats()["faults"].values()) > 0
        assert_tables_equal_the_simulator(sim, first)
