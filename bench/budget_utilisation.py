"""Budget utilisation at the real API's limit: 60 requests/minute, 1 s server latency, >= 100 requests.

The real pipeline (`run_load`, DuckDB) against the simulator enforcing 60 requests per sliding 60 s.
Fastest possible for N requests under a sliding 60 s window: the first 60 at once, then 60 more every
60 s — floor = 60 × floor((N − 1) / 60) s + one request's latency. Utilisation = floor ÷ wall time.

    .venv/bin/python -m bench.budget_utilisation [--days 32]
"""

from __future__ import annotations

import argparse
import datetime as dt
import math
import os
import tempfile
import time

from claude_analytics_simulator import FaultConfig, Simulator, SimulatorConfig
from pipelines.runner import RunOptions, run_load
from sources.claude_analytics.settings import ClaudeAnalyticsSettings, validate


def measure(days: int, latency: float = 1.0, budget: int = 60) -> dict:
    workdir = tempfile.mkdtemp(prefix="budget-bench-")
    os.environ["DLT_DATA_DIR"] = os.path.join(workdir, "dlt")
    sim = Simulator(SimulatorConfig(users=20, seed=1, rate_limit=budget, rate_window_seconds=60.0,
                                    faults=FaultConfig(latency_min=latency, latency_max=latency)))
    sim.start()
    try:
        settings = ClaudeAnalyticsSettings()
        settings.api_key, settings.base_url = sim.api_key, sim.base_url
        settings.requests_per_minute = budget
        settings.history_days = days
        settings.availability_lag_days = sim.config.availability_lag_days
        validate(settings)
        started = time.monotonic()
        summary = run_load(RunOptions(settings, duckdb_file=os.path.join(workdir, "warehouse.duckdb")))
        wall = time.monotonic() - started
        stats = sim.stats()
    finally:
        sim.stop()
    n = stats["total"]
    floor = 60.0 * math.floor((n - 1) / budget) * (60 / 60) + latency
    return {"requests": n, "planned_units": summary.planned_units, "rate_limited": stats["rate_limited"],
            "max_in_60s": stats["max_in_60s"], "wall_s": wall, "floor_s": floor, "utilisation": floor / wall,
            "latest_day": summary.latest_available_day}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--days", type=int, default=32, help="history days (4 requests per day + summaries)")
    args = parser.parse_args()
    result = measure(args.days)
    print(f"{dt.datetime.now(dt.timezone.utc):%Y-%m-%d %H:%M} UTC, budget 60/min, server latency 1.0 s")
    for key, value in result.items():
        print(f"  {key:<14} {value:.3f}" if isinstance(value, float) else f"  {key:<14} {value}")


if __name__ == "__main__":
    main()
