"""SIGKILL at any point loses only uncommitted days; a second run never interleaves with the first."""

from __future__ import annotations

import datetime as dt
import fcntl
import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import dlt
import duckdb
import pytest

from claude_analytics_simulator import FaultConfig
from pipelines import runner
from pipelines.cli import main
from pipelines.destinations import Target
from pipelines.runner import CommitPolicy
from pipelines.state import resource_progress
from sources.claude_analytics.days import ONE_DAY, day_range
from sources.claude_analytics.endpoints import ENDPOINTS
from tests.helpers import (
    WAREHOUSE,
    assert_table_equals,
    clear_of_midnight,
    configure,
    expected_table,
    load,
    sim_env,
    table_rows,
)

# The child: `run_load` with a commit policy, killing itself (SIGKILL) right after the n-th call of a dlt
# pipeline step when CRASH_AFTER says so ("normalize:3"); it prints a line per committed chunk.
# COMMIT_EVERY_REQUESTS=1: a commit after every request unit (chunks behind a crash, chunks ahead of it).
CHILD = """
import os, signal, sys
import dlt
from pipelines.destinations import Target
from pipelines.runner import CommitPolicy, RunOptions, run_load
from sources.claude_analytics.settings import load_settings

step, _, nth = os.environ.get("CRASH_AFTER", "").partition(":")
if step:
    original, calls = getattr(dlt.Pipeline, step), []
    def killing(self, *args, **kwargs):
        result = original(self, *args, **kwargs)
        calls.append(1)
        if len(calls) == int(nth):
            os.kill(os.getpid(), signal.SIGKILL)
        return result
    setattr(dlt.Pipeline, step, killing)

class Tell:
    def fetched(self, summary, batch): pass
    def committed(self, summary): print("COMMITTED", summary.chunks, flush=True)

every = os.environ.get("COMMIT_EVERY_REQUESTS")  # unset: the production policy
policy = CommitPolicy(max_requests=int(every), max_seconds=60, min_seconds=0) if every else CommitPolicy()
run_load(RunOptions(load_settings(), target=Target(duckdb_file="warehouse.duckdb"), commit=policy, observer=Tell()))
"""
HISTORY_DAYS = 6


def env_for(sim, days: int = HISTORY_DAYS, requests_per_minute: int = 100_000, **extra) -> dict:
    return {
        **os.environ,
        **sim_env(
            sim,
            days=days,
            history_days=days,
            lookback_days=0,
            cost_lookback_days=0,
            requests_per_minute=requests_per_minute,
        ),
        **extra,
    }


def committed_progress() -> dict:
    """The cursors the destination holds, after finishing any load a killed run left pending (as a rerun does).

    Read through a pipeline of its own (another pipelines dir), restored from the destination: what was
    committed there, not what the killed process had in its local state.
    """
    local = Target(duckdb_file=WAREHOUSE).pipeline()
    if local.has_pending_data:
        local.normalize()
        local.load()
    probe = dlt.pipeline(
        local.pipeline_name,
        destination=dlt.destinations.duckdb(WAREHOUSE),
        dataset_name=local.dataset_name,
        pipelines_dir=str(Path("oracle").absolute()),
    )
    probe.sync_destination()
    return resource_progress(probe)


def requests_still_needed(progress: dict, first: dt.date, latest: dict[str, dt.date]) -> int:
    """One request per day and endpoint, per window for summaries and bucketed reports (a small org:
    one page each, no capped bucket)."""
    needed = 0
    for endpoint in ENDPOINTS:
        cursor = progress[endpoint.table].last_day if endpoint.table in progress else None
        remaining = (latest[endpoint.family] - (cursor or first - ONE_DAY)).days
        if remaining > 0:
            needed += -(-remaining // 31) if endpoint.max_window_days > 1 else remaining
    return needed + 1  # the newest-day probe


def assert_tables_equal(sim, first: dt.date, latest: dict[str, dt.date]) -> None:
    with duckdb.connect(WAREHOUSE, read_only=True) as con:
        for endpoint in ENDPOINTS:  # table_rows fails on a duplicate key
            assert_table_equals(
                table_rows(con, "claude_analytics", endpoint),
                expected_table(sim, endpoint, day_range(first, latest[endpoint.family])),
                endpoint.table,
                ignore=("data_refreshed_at",),  # the hour of the night each day was fetched: killed run or rerun
            )


@pytest.mark.parametrize("crash", ["fetching", "extract:2", "normalize:3", "load:4"])
def test_sigkill_then_rerun_equals_the_simulator_without_refetching_committed_days(start_simulator, crash):
    # a 60/min budget and 0.3 s latency: fetching spans several chunk commits
    clear_of_midnight()  # the runs are other processes, on the real clock: the day must not change in between
    sim = start_simulator(users=15, seed=31, faults=FaultConfig(latency_min=0.3, latency_max=0.3), report_models=2)
    latest = {"engagement": sim.latest_available_day(), "cost": sim.today() - ONE_DAY}
    first = sim.today() - dt.timedelta(days=HISTORY_DAYS)
    env = env_for(sim, requests_per_minute=60, COMMIT_EVERY_REQUESTS="1")
    if crash != "fetching":
        env["CRASH_AFTER"] = crash
    process = subprocess.Popen(
        [sys.executable, "-c", CHILD], env=env, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True
    )
    if crash == "fetching":
        # kill mid-fetch: once the first chunk is committed and more requests went out after it
        assert process.stdout is not None  # stdout=PIPE
        assert process.stdout.readline().split() == ["COMMITTED", "1"]
        served = sim.stats()["total"]
        deadline = time.monotonic() + 60
        while sim.stats()["total"] < served + 3 and time.monotonic() < deadline:
            time.sleep(0.002)
        process.send_signal(signal.SIGKILL)
    assert process.wait(timeout=120) == -signal.SIGKILL

    progress = committed_progress()
    needed = requests_still_needed(progress, first, latest)
    total_plan = requests_still_needed({}, first, latest)
    assert 1 < needed < total_plan  # something was committed, something was not
    sim.reset_stats()
    rerun = subprocess.run(
        [sys.executable, "-m", "pipelines.cli", "run"], env=env_for(sim), capture_output=True, text=True, timeout=120
    )
    assert rerun.returncode == 0, rerun.stderr[-2000:]
    assert sim.stats()["total"] == needed  # committed days are not fetched again
    assert_tables_equal(sim, first, latest)


def test_at_a_raised_budget_a_crash_loses_at_most_about_sixty_requests_of_work(start_simulator):
    """Commits follow work done, not only time: at 3,000/min a minute is thousands of requests."""
    clear_of_midnight()
    sim = start_simulator(users=15, seed=33, faults=FaultConfig(latency_min=0.02, latency_max=0.02), report_models=2)
    env = env_for(sim, days=30, requests_per_minute=3000)
    process = subprocess.Popen(
        [sys.executable, "-c", CHILD], env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
    )
    deadline = time.monotonic() + 60
    while sim.stats()["total"] < 150 and time.monotonic() < deadline:
        time.sleep(0.001)
    process.send_signal(signal.SIGKILL)
    assert process.wait(timeout=120) == -signal.SIGKILL
    served = sim.stats()["total"]
    first = sim.today() - dt.timedelta(days=30)
    latest = {"engagement": sim.latest_available_day(), "cost": sim.today() - ONE_DAY}
    done = requests_still_needed({}, first, latest) - requests_still_needed(committed_progress(), first, latest)
    workers = 50  # pipelines.runner.fetch_workers(3000): requests in flight, and results waiting in plan order
    assert served - done <= 60 + 2 * workers, (served, done)
    assert done > 0


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
    env = env_for(sim, days=4, requests_per_minute=60)
    first = subprocess.Popen(
        [sys.executable, "-m", "pipelines.cli", "run", "--endpoints", "users"],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    lock = Path(os.environ["DLT_DATA_DIR"]) / "pipelines" / "claude_analytics_duckdb.lock"
    deadline = time.monotonic() + 30
    while not lock_is_held(lock) and time.monotonic() < deadline:
        time.sleep(0.01)
    assert lock_is_held(lock)

    other = start_simulator(users=10, seed=32)  # the refused run asks this one: no request may reach it
    configure(monkeypatch, other, days=4)
    assert main(["run", "--endpoints", "users"]) == 2
    err = capsys.readouterr().err.strip()
    assert "another run of pipeline claude_analytics_duckdb is active" in err and "--wait" in err
    assert len(err.splitlines()) == 1
    assert other.stats()["total"] == 0

    waiting = subprocess.Popen(
        [sys.executable, "-m", "pipelines.cli", "run", "--wait", "--endpoints", "users"],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    out, errors = first.communicate(timeout=120)
    assert first.returncode == 0, errors[-2000:]
    assert waiting.wait(timeout=120) == 0
    with duckdb.connect("warehouse.duckdb", read_only=True) as con:
        runs = con.execute(
            "select started_at, finished_at, outcome from claude_analytics.pipeline_runs order by started_at"
        ).fetchall()
    assert [r[2] for r in runs] == ["succeeded", "succeeded"]
    assert runs[1][0] >= runs[0][1]  # the waiting run began only after the first one ended


class Chunks:
    """The rows of each batch of each committed chunk (the runner's observer)."""

    def __init__(self) -> None:
        self.committed_chunks: list[list[int]] = []
        self._batches: list[int] = []

    def fetched(self, summary, batch) -> None:
        self._batches.append(batch.rows)

    def committed(self, summary) -> None:
        self.committed_chunks.append(self._batches)
        self._batches = []


def test_a_chunk_holds_at_most_max_rows_unless_one_day_holds_more_and_is_committed_alone(start_simulator):
    """Rows bound a commit's memory whatever the organization's size: requests and time never fire here."""
    sim = start_simulator(users=40, seed=34)
    first = sim.today() - dt.timedelta(days=HISTORY_DAYS)
    chunks, max_rows = Chunks(), 150
    summary = load(
        sim,
        start_date=first.isoformat(),
        history_days=HISTORY_DAYS,
        lookback_days=0,
        cost_lookback_days=0,
        commit=CommitPolicy(max_requests=10**6, max_rows=max_rows, max_seconds=10**6, min_seconds=10**6),
        observer=chunks,
    )
    assert summary.outcome == "succeeded"
    committed = chunks.committed_chunks
    assert summary.chunks == len(committed) >= 3
    assert any(len(c) == 1 and c[0] > max_rows for c in committed)  # a day larger than max_rows: alone
    for chunk, following in zip(committed, committed[1:]):
        assert sum(chunk) <= max_rows or len(chunk) == 1
        assert sum(chunk) >= max_rows or sum(chunk) + following[0] > max_rows  # full: the next would not fit
    assert sum(map(sum, committed)) == sum(summary.rows_loaded.values())
    latest = {"engagement": sim.latest_available_day(), "cost": sim.today() - ONE_DAY}
    assert_tables_equal(sim, first, latest)


def test_a_bound_smaller_than_every_unit_fetches_one_unit_beside_each_commit_and_loads_everything(
    start_simulator, monkeypatch
):
    """The prefetcher's bound counts what is pending and being committed until the runner releases it; at one
    byte every unit is larger than the bound, so each waits for the commit before it, and the runner must
    commit when told the prefetcher is stalled (else the run would hang here)."""
    monkeypatch.setattr(runner, "PREFETCH_HELD_BYTES", 1)
    sim = start_simulator(users=40, seed=35)
    first = sim.today() - dt.timedelta(days=HISTORY_DAYS)
    chunks, outcome = Chunks(), {}

    def run() -> None:
        outcome["summary"] = load(
            sim,
            start_date=first.isoformat(),
            history_days=HISTORY_DAYS,
            lookback_days=0,
            cost_lookback_days=0,
            commit=CommitPolicy(max_requests=10**6, max_rows=10**6, max_seconds=10**6, min_seconds=10**6),
            observer=chunks,
        )

    worker = threading.Thread(target=run, daemon=True)
    worker.start()
    worker.join(300)
    assert not worker.is_alive(), "the run hung: the runner never released what the prefetcher waited for"
    summary = outcome["summary"]
    assert summary.outcome == "succeeded"
    nonempty = [[rows for rows in chunk if rows] for chunk in chunks.committed_chunks]
    # no policy fires here, so only the prefetcher's stalls commit: mostly one unit with rows a chunk (more
    # where an endpoint's size is not known yet, or its last unit was empty); on the default bound, one chunk
    assert len(nonempty) > sum(map(len, nonempty)) // 2 > 10, [len(chunk) for chunk in nonempty]
    latest = {"engagement": sim.latest_available_day(), "cost": sim.today() - ONE_DAY}
    assert_tables_equal(sim, first, latest)
