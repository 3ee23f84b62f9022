"""SIGKILL at any point loses only uncommitted days; a second run never interleaves with the first."""

from __future__ import annotations

import datetime as dt
import fcntl
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import duckdb
import pytest

from claude_analytics_simulator import FaultConfig
from pipelines.cli import main
from pipelines.runner import make_pipeline, resource_cursors
from sources.claude_analytics.days import day_range
from sources.claude_analytics.endpoints import ENDPOINTS
from tests.helpers import assert_table_equals, expected_table, table_rows

# commit after every request unit, so a crash has committed chunks behind it and uncommitted ones ahead
RUN_IN_CHUNKS = """
from pipelines.runner import RunOptions, run_load
from sources.claude_analytics.settings import load_settings
run_load(RunOptions(load_settings(), duckdb_file="warehouse.duckdb", min_commit_seconds=0, max_commit_seconds=0))
"""
HISTORY_DAYS = 6


def env_for(sim, **extra) -> dict:
    return {**os.environ,
            "SOURCES__CLAUDE_ANALYTICS__API_KEY": sim.api_key,
            "SOURCES__CLAUDE_ANALYTICS__BASE_URL": sim.base_url,
            "SOURCES__CLAUDE_ANALYTICS__REQUESTS_PER_MINUTE": "100000",
            "SOURCES__CLAUDE_ANALYTICS__AVAILABILITY_LAG_DAYS": "1",
            "SOURCES__CLAUDE_ANALYTICS__HISTORY_DAYS": str(HISTORY_DAYS),
            "SOURCES__CLAUDE_ANALYTICS__LOOKBACK_DAYS": "0",
            **extra}


def requests_still_needed(latest: dt.date, earliest: dt.date) -> int:
    cursors = resource_cursors(make_pipeline("duckdb", duckdb_file="warehouse.duckdb"))
    needed = 0
    for endpoint in ENDPOINTS:
        cursor = cursors.get(endpoint.table)
        remaining = (latest - (cursor or earliest - dt.timedelta(days=1))).days
        needed += (-(-remaining // 31) if endpoint.date_mode == "window" else remaining) if remaining > 0 else 0
    return needed


@pytest.mark.parametrize("crash", ["fetching", "extract:2", "normalize:3", "load:4"])
def test_sigkill_then_rerun_equals_the_simulator_without_refetching_committed_days(start_simulator, crash):
    # 8 fetch workers (60/min) and 0.3 s latency: fetching spans several chunk commits
    sim = start_simulator(users=15, seed=31, faults=FaultConfig(latency_min=0.3, latency_max=0.3))
    latest = sim.latest_available_day()
    earliest = dt.datetime.now(dt.timezone.utc).date() - dt.timedelta(days=HISTORY_DAYS)
    env = env_for(sim, SOURCES__CLAUDE_ANALYTICS__REQUESTS_PER_MINUTE="60")
    if crash != "fetching":
        env["CLAUDE_ANALYTICS_CRASH_AFTER"] = crash
    process = subprocess.Popen([sys.executable, "-c", RUN_IN_CHUNKS], env=env, stdout=subprocess.DEVNULL,
                               stderr=subprocess.DEVNULL)
    if crash == "fetching":
        # kill mid-fetch, once a first chunk has been extracted (its cursor is in the local state)
        state = Path(os.environ["DLT_DATA_DIR"]) / "pipelines" / "claude_analytics_duckdb" / "state.json"
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline and not (
                sim.stats()["total"] >= 12 and state.exists() and "last_loaded_day" in state.read_text()):
            time.sleep(0.002)
        process.send_signal(signal.SIGKILL)
    assert process.wait(timeout=120) == -signal.SIGKILL

    needed = requests_still_needed(latest, earliest)
    total_plan = 4 * ((latest - earliest).days + 1) + 1  # 4 per-day endpoints × days, one summaries window
    assert 0 < needed < total_plan
    sim.reset_stats()
    rerun = subprocess.run([sys.executable, "-m", "pipelines.cli", "run"], env=env_for(sim), capture_output=True,
                           text=True, timeout=120)
    assert rerun.returncode == 0, rerun.stderr[-2000:]
    assert sim.stats()["total"] == needed  # committed days are not fetched again
    with duckdb.connect("warehouse.duckdb", read_only=True) as con:
        for endpoint in ENDPOINTS:  # table_rows fails on a duplicate key
            assert_table_equals(table_rows(con, "claude_analytics", endpoint),
                                expected_table(sim, endpoint, day_range(earliest, latest)), endpoint.table)


def lock_is_held(path: Path) -> bool:
    if not path.exists():
        return False
    with open(path, "a") as handle:
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            return True
        fcntl.flock(handle, fcntl.LOCK_UN)
        return False


def test_a_second_run_stops_with_a_clear_message_or_waits_when_asked(start_simulator, monkeypatch, capsys):
    sim = start_simulator(users=10, seed=32, faults=FaultConfig(latency_min=1.5, latency_max=1.5))
    env = env_for(sim, SOURCES__CLAUDE_ANALYTICS__REQUESTS_PER_MINUTE="60",
                  SOURCES__CLAUDE_ANALYTICS__HISTORY_DAYS="4")
    first = subprocess.Popen([sys.executable, "-m", "pipelines.cli", "run"], env=env, stdout=subprocess.PIPE,
                             stderr=subprocess.PIPE, text=True)
    lock = Path(os.environ["DLT_DATA_DIR"]) / "pipelines" / "claude_analytics_duckdb.lock"
    deadline = time.monotonic() + 30
    while not lock_is_held(lock) and time.monotonic() < deadline:
        time.sleep(0.01)
    assert lock_is_held(lock)

    for key in ("API_KEY", "BASE_URL", "AVAILABILITY_LAG_DAYS"):
        monkeypatch.setenv(f"SOURCES__CLAUDE_ANALYTICS__{key}", env[f"SOURCES__CLAUDE_ANALYTICS__{key}"])
    requests_before = sim.stats()["total"]
    assert main(["run"]) == 2
    err = capsys.readouterr().err.strip()
    assert "another run of pipeline claude_analytics_duckdb is active" in err and "--wait" in err
    assert len(err.splitlines()) == 1

    waiting = subprocess.Popen([sys.executable, "-m", "pipelines.cli", "run", "--wait"], env=env,
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    out, errors = first.communicate(timeout=120)
    assert first.returncode == 0, errors[-2000:]
    assert waiting.wait(timeout=120) == 0
    assert sim.stats()["total"] > requests_before  # the refused run made no request of its own... the others did
    with duckdb.connect("warehouse.duckdb", read_only=True) as con:
        runs = con.execute("select started_at, finished_at, outcome from claude_analytics.pipeline_runs "
                           "order by started_at").fetchall()
    assert [r[2] for r in runs] == ["succeeded", "succeeded"]
    assert runs[1][0] >= runs[0][1]  # the waiting run began only after the first one ended
