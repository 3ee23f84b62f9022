"""Failures that must be boring: faults, retry exhaustion, upstream oddities, type drift, secrets."""

from __future__ import annotations

import datetime as dt
import logging
import os
import subprocess
import sys
import threading
import time

import duckdb
import pytest

from claude_analytics_simulator import FaultConfig
from pipelines.destinations import Target
from pipelines.errors import RunFailed
from pipelines.state import resource_progress
from sources.claude_analytics.client import RetryPolicy
from sources.claude_analytics.days import day_range
from sources.claude_analytics.endpoints import BY_NAME, ENDPOINTS
from tests.helpers import (
    EVERY_UNIT,
    WAREHOUSE,
    assert_table_equals,
    expected_table,
    family_days,
    load,
    sim_env,
    table_rows,
)

DATASET = "claude_analytics"


def recent(sim, days: int) -> str:
    return (sim.today() - dt.timedelta(days=days)).isoformat()


def assert_equal_to_simulator(sim, summary, skip=()):
    with duckdb.connect(WAREHOUSE, read_only=True) as con:
        for endpoint in ENDPOINTS:
            if endpoint.name not in skip:
                assert_table_equals(
                    table_rows(con, DATASET, endpoint),
                    expected_table(sim, endpoint, family_days(summary, endpoint)),
                    endpoint.table,
                )


def test_a_full_backfill_through_every_fault_equals_the_simulator(start_simulator, monkeypatch):
    from sources.claude_analytics import client

    monkeypatch.setattr(client, "DEFAULT_RETRY", RetryPolicy(backoff_base=0.2, backoff_max=2.0, max_attempts=10))
    faults = FaultConfig(
        server_error_rate=0.05,
        rate_limit_rate=0.03,
        drop_rate=0.01,
        truncate_rate=0.01,
        expired_cursor_rate=0.02,
        latency_min=0.1,
        latency_max=2.0,
    )
    sim = start_simulator(users=40, seed=21, faults=faults)
    summary = load(sim, history_days=12, start_date=recent(sim, 12), page_size=10)
    assert summary.outcome == "succeeded"
    assert_equal_to_simulator(sim, summary)
    stats = sim.stats()
    assert sum(stats["faults"].values()) > 0  # the faults really happened
    assert summary.retries + summary.rate_limited > 0


def test_retry_budget_exhausted_fails_naming_endpoint_and_day_and_keeps_committed_days(start_simulator, monkeypatch):
    from sources.claude_analytics import client

    monkeypatch.setattr(client, "DEFAULT_RETRY", RetryPolicy(backoff_base=0.05, backoff_max=0.5, max_attempts=3))
    sim = start_simulator(users=20, seed=22)

    def break_after(n):  # the API starts failing for good after n requests
        while sim.stats()["total"] < n:
            time.sleep(0.005)
        sim.config.faults.server_error_rate = 1.0

    threading.Thread(target=break_after, args=(30,), daemon=True).start()
    with pytest.raises(RunFailed) as failed:
        load(sim, history_days=12, start_date=recent(sim, 12), commit=EVERY_UNIT)
    message = str(failed.value)
    assert "HTTP 5" in message and "3 attempts" in message
    path, day = message.split(":")[0].split()[:2]
    assert path in {e.path for e in ENDPOINTS} and dt.date.fromisoformat(day[:10])
    progress = resource_progress(Target(duckdb_file=WAREHOUSE).pipeline())
    assert any(p.last_day for p in progress.values()), "days fetched before the failure were committed"
    sim.config.faults.server_error_rate = 0.0
    earliest = sim.today() - dt.timedelta(days=12)
    with duckdb.connect(WAREHOUSE, read_only=True) as con:
        for endpoint in ENDPOINTS:
            cursor = progress[endpoint.table].last_day if endpoint.table in progress else None
            if cursor is None:
                continue
            rows = table_rows(con, DATASET, endpoint)
            assert_table_equals(
                {k: v for k, v in rows.items() if k[0] <= cursor},
                expected_table(sim, endpoint, day_range(earliest, cursor)),
                endpoint.table,
            )
        run = con.execute("select outcome, error from claude_analytics.pipeline_runs").fetchall()
    assert run == [("failed", message)]
    # the next run completes the job
    summary = load(sim, history_days=12, start_date=recent(sim, 12))
    assert_equal_to_simulator(sim, summary)


def test_upstream_oddities_have_defined_outcomes(start_simulator, caplog):
    sim = start_simulator(users=25, seed=23)
    latest = sim.latest_available_day()
    days = [latest - dt.timedelta(days=i) for i in range(5)]
    load(sim, history_days=6, endpoints="users")
    sim.config.quirks = {days[1]: "duplicate", days[2]: "null_key", days[3]: "empty"}
    with caplog.at_level(logging.WARNING):
        load(sim, command="backfill", range_start=days[3], range_end=days[1], history_days=6, endpoints="users")
    assert "duplicate row(s)" in caplog.text and "without user_id" in caplog.text
    users = BY_NAME["users"]
    with duckdb.connect(WAREHOUSE, read_only=True) as con:
        got = table_rows(con, DATASET, users)
    served = {d: sim.expected("/users", d) for d in days[1:4]}
    # duplicate: one row per key, the last one served wins
    dup_id = served[days[1]][0]["user"]["id"]
    assert got[(days[1], dup_id)]["web_search_count"] == served[days[1]][-1]["web_search_count"]
    assert sum(1 for k in got if k[0] == days[1]) == len(served[days[1]]) - 1
    # null key: that row is skipped, the rest of the day loads
    assert sum(1 for k in got if k[0] == days[2]) == len(served[days[2]]) - 1
    # empty day: the day's earlier rows are gone
    assert served[days[3]] == [] and not [k for k in got if k[0] == days[3]]


def test_an_unexpected_envelope_fails_the_run_with_a_clear_message(start_simulator):
    sim = start_simulator(users=10, seed=24)
    latest = sim.latest_available_day()
    sim.config.quirks = {latest: "bad_envelope"}
    with pytest.raises(RunFailed, match=rf"/users {latest}: the answer has no 'data' list \(keys: results\)"):
        load(sim, history_days=3, endpoints="users")


def test_type_drift_is_reported_with_its_variant_column(start_simulator, caplog):
    sim = start_simulator(users=20, seed=25)
    latest = sim.latest_available_day()
    load(sim, history_days=4, endpoints="users")
    sim.config.quirks = {latest: "type_drift"}
    with caplog.at_level(logging.WARNING):
        load(sim, history_days=4, endpoints="users")
    assert "web_search_count__v_text" in caplog.text
    with duckdb.connect(WAREHOUSE, read_only=True) as con:
        others = con.execute(
            "select count(*) from claude_analytics.user_activity where web_search_count is not null"
        ).fetchall()[0][0]
    assert others > 0  # the column keeps the values of its type (the rest: tests/e2e/test_entry_points.py)


SECRET = "sk-ant-api03-TOPSECRET-do-not-leak-0123456789"


def test_the_key_never_leaks_into_logs_errors_state_traces_or_the_warehouse(start_simulator, tmp_path):
    sim = start_simulator(users=10, seed=26, api_key=SECRET, faults=FaultConfig(server_error_rate=0.1))
    env = {**os.environ, **sim_env(sim, days=3, availability_lag_days=1, history_days=3), "RUNTIME__LOG_LEVEL": "DEBUG"}
    ok = subprocess.run(
        [sys.executable, "-m", "pipelines.cli", "run", "--log-level", "DEBUG"],
        capture_output=True,
        text=True,
        env=env,
        timeout=300,
    )
    assert ok.returncode == 0, ok.stderr[-2000:]
    assert "x-api-key" in ok.stderr.lower() or "HTTP Request" in ok.stderr  # debug logging really was on
    # a failing run: an error is raised, logged with its traceback at DEBUG, and printed
    sim.config.faults.server_error_rate = 0.0
    sim.config.quirks = {sim.latest_available_day(): "bad_envelope"}
    failed = subprocess.run(
        [sys.executable, "-m", "pipelines.cli", "backfill", "--log-level", "DEBUG"],
        capture_output=True,
        text=True,
        env=env,
        timeout=300,
    )
    assert failed.returncode == 1
    for output in (ok.stdout, ok.stderr, failed.stdout, failed.stderr):
        assert SECRET not in output
    leaks = [p for p in tmp_path.rglob("*") if p.is_file() and SECRET.encode() in p.read_bytes()]
    assert leaks == []
    assert any(tmp_path.rglob("trace.pickle")) and (tmp_path / WAREHOUSE).exists()
