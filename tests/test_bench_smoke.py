"""A miniature of `make bench` (python -m bench): the same code paths, small and fast.

It checks behaviour — the backfill makes exactly the minimal plan's requests, draws no 429, never
exceeds the budget in any window, loads exactly the simulator's rows; the load path reads back every
row — and never time: figures on a shared test machine mean nothing.
"""

from __future__ import annotations

import pytest

from bench.__main__ import run_bench
from bench.plan import floors
from bench.scenarios import BackfillConfig, LoadConfig


def test_floor_definitions():
    f = floors(253, 60, 60.0, 1.0, 1.0)
    assert f.rate == pytest.approx(253.0)  # N / B × W
    assert f.burst == pytest.approx(4 * 60 + 1.0)  # 4 full windows, then the last burst's latency
    assert f.design == pytest.approx(4 * 61 + 1.0)  # our budget counts over W + 1 s
    assert floors(60, 60, 60.0, 0.1, 1.0).burst == pytest.approx(0.1)  # N ≤ B: latency-bound
    assert floors(61, 60, 60.0, 0.1, 1.0).burst == pytest.approx(60.1)


def test_bench_smoke(tmp_path):
    budget = 8
    report = tmp_path / "benchmarks.md"
    # 2,500 users need 2 pages of /users on weekdays: the plan (~15 requests) spans two windows of 3 s,
    # so the budget binds; the client's guard is generous (1 s) so a loaded test machine draws no 429.
    ctx = run_bench(BackfillConfig(users=2_500, days=3, budget=budget, window_seconds=3.0, guard=1.0), (0.05,),
                    LoadConfig(users=2_000, days=2, chunk_days=1), ("duckdb",), report, quick=True,
                    command="pytest tests/test_bench_smoke.py", progress=lambda line: None)

    [run] = ctx["backfills"]
    assert "error" not in run, run
    assert run["scaled_budget_used"]
    assert run["planned"] > budget  # more than one window's worth
    assert run["requests"] == run["client_requests"] == run["planned"]
    assert run["rate_limited"] == 0 and run["retries"] == 0
    assert run["max_in_window"] <= budget
    assert run["rows_match"], (run["rows_in_warehouse"], run["rows_expected"])
    assert run["commits"] >= 1 and run["peak_rss"] > run["baseline_rss"] > 0

    [load] = ctx["loads"]
    assert "error" not in load, load
    assert load["rows"] > 0 and load["rows_match"]
    assert load["columns"] >= 70  # full width: every documented field
    assert load["file_format"] == "parquet"

    text = report.read_text()
    for heading in ("## Machine", "## 1. Budget-bound backfill", "## 2. Load path", "## 3. Memory", "## Targets"):
        assert heading in text
    assert "requests made = minimal plan (+ retries only): met" in text
    assert "0 × 429: met" in text
