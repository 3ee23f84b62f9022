"""A miniature of `make bench` (python -m bench): the same code paths, small and fast.

It checks behaviour — the run makes exactly the minimal plan's requests (counted independently from the
simulator's data), draws no 429, never exceeds the budget in any window, and every table holds exactly the
simulator's rows and values; the load path reads back every row — and never time: figures on a shared test
machine mean nothing.
"""

from __future__ import annotations

import datetime as dt

import pytest

from bench.__main__ import run_bench
from bench.plan import GROUP_CAP, count_plan, floors, windows
from bench.scenarios import LoadConfig, RunConfig
from claude_analytics_simulator import Simulator, SimulatorConfig


def test_floor_definitions():
    f = floors(253, 60, 60.0, 1.0, 1.0)
    assert f.rate == pytest.approx(253.0)  # N / B × W
    assert f.burst == pytest.approx(4 * 60 + 1.0)  # 4 full windows, then the last burst's latency
    assert f.design == pytest.approx(4 * 61 + 1.0)  # our budget counts over W + 1 s
    assert floors(60, 60, 60.0, 0.1, 1.0).burst == pytest.approx(0.1)  # N ≤ B: latency-bound
    assert floors(61, 60, 60.0, 0.1, 1.0).burst == pytest.approx(60.1)
    assert [windows(d) for d in (0, 1, 31, 32, 90)] == [0, 1, 1, 2, 3]


def test_plan_counts_the_capped_days_again():
    """A report day at the group cap costs its hour query and one minute query per capped hour (the plan's rule)."""
    today = dt.date(2026, 4, 1)
    day = today - dt.timedelta(days=1)
    plan = count_plan(
        Simulator(SimulatorConfig(users=400, seed=42, today=today, rate_limit=0)), today, (day, day), (day, day)
    )
    cost = plan.paths["/cost_report"]
    assert cost.capped_days == 1 and cost.rows >= GROUP_CAP  # 400 users, 5 models: ~170 groups that day
    assert cost.requests == 1 + 1 + cost.capped_hours  # the window, the day by the hour, the capped hours
    assert plan.paths["/usage_report"].requests == 1 and plan.calendar == 2


def test_bench_smoke(tmp_path):
    budget = 12
    # 200 users, 2 report models (no report day reaches the 100-group cap), pages of 100 rows so that days take
    # several pages: ~50 requests over 3 days, several windows of 1.5 s, so the budget binds; the client's guard is
    # generous (1 s) so a loaded test machine draws no 429.
    org = RunConfig(
        "miniature",
        200,
        days=3,
        budget=budget,
        window_seconds=1.5,
        guard=1.0,
        latency=0.02,
        report_models=2,
        page_size=100,
        memory_role="target",
    )
    report = tmp_path / "benchmarks.md"
    ctx = run_bench(
        (org,),
        (),
        LoadConfig(users=2_000, days=2, chunk_days=1),
        ("duckdb",),
        report,
        quick=True,
        command="pytest tests/test_bench_smoke.py",
        progress=lambda line: None,
    )

    [run] = ctx["backfills"]
    assert "error_text" not in run, run
    assert run["outcome"] == "succeeded"
    assert run["planned"] > 2 * budget  # more than two windows' worth
    assert run["requests"] == run["client_requests"] == run["planned"]
    assert {p: n for p, n in run["requests_by_path"].items()} == {
        p: n + (run["calendar_requests"] if p == "/summaries" else 0)
        for p, n in run["planned_by_path"].items()
        if p != "calendar"
    }
    assert run["calendar_requests"] == run["planned_by_path"]["calendar"] == 2
    assert run["rate_limited"] == 0 and run["retries"] == 0
    assert run["max_in_window"] <= budget
    assert run["tables_equal"], run["tables"]
    assert len(run["tables"]) == 11 and all(t["rows"] > 0 for t in run["tables"].values())
    assert run["commits"] >= 1 and run["peak_rss"] > run["after_imports_rss"] > 0
    assert ctx["memory"] == [run]

    [load] = ctx["loads"]
    assert "error" not in load, load
    assert load["rows"] > 0 and load["rows_match"]
    assert load["columns"] >= 70  # full width: every documented field
    assert load["file_format"] == "parquet"

    text = report.read_text()
    for heading in (
        "## Machine",
        "## 1. The request plan",
        "## 2. Budget-bound backfill",
        "## 3. Memory",
        "## 4. Load path",
        "## Targets",
    ):
        assert heading in text
    assert "requests made = minimal plan (+ retries only), backfills and nightly runs: met" in text
    assert "0 × 429: met" in text
    assert "every table holds exactly the simulator's rows and values: met" in text
