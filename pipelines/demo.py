"""`claude-analytics demo`: the whole job with no account — simulator → pipeline → DuckDB → a summary."""

from __future__ import annotations

import csv
import shutil
import sys
import time
from pathlib import Path

import duckdb
from dlt.common.pipeline import get_dlt_pipelines_dir

from claude_analytics_simulator import Simulator, SimulatorConfig
from sources.claude_analytics.endpoints import ENDPOINTS
from sources.claude_analytics.settings import make_settings

from .destinations import Target
from .runner import RunOptions, run_load

DEMO_PIPELINE = "claude_analytics_demo"  # never shares state with the real pipelines


def write_org_chart(simulator: Simulator, path: Path) -> Path:
    """The simulated organization's org chart as a CSV file, as an HR export would give it."""
    people = simulator.org_chart()
    columns = list(people[0]) if people else ["email"]
    with open(path, "w", newline="", encoding="utf-8") as handle:
        writer = csv.DictWriter(handle, fieldnames=columns)
        writer.writeheader()
        writer.writerows(people)
    return path


def run_demo(duckdb_file: str, *, users: int, seed: int, requests_per_minute: int) -> int:
    started = time.monotonic()
    # the demo always loads a full history from scratch
    Path(duckdb_file).unlink(missing_ok=True)
    shutil.rmtree(Path(get_dlt_pipelines_dir()) / DEMO_PIPELINE, ignore_errors=True)
    simulator = Simulator(SimulatorConfig(users=users, seed=seed, rate_limit=requests_per_minute))
    base_url = simulator.start()
    org_chart = write_org_chart(simulator, Path(duckdb_file).with_name("demo-org-chart.csv"))
    try:
        settings = make_settings(
            api_key=simulator.api_key,
            base_url=base_url,
            requests_per_minute=requests_per_minute,
            org_chart_path=str(org_chart),
        )
        print(
            f"demo: bundled API simulator at {base_url} ({users} users, {requests_per_minute} requests/minute); "
            f"org chart {org_chart}"
        )
        summary = run_load(
            RunOptions(settings, target=Target("duckdb", pipeline_name=DEMO_PIPELINE, duckdb_file=duckdb_file))
        )
    finally:
        simulator.stop()
    took = time.monotonic() - started
    print(
        f"demo: loaded {summary.earliest_day} .. {summary.latest_available_day} (engagement) and "
        f"{summary.cost_earliest_day} .. {summary.cost_latest_day} (cost & usage reports) with {summary.requests} "
        f"requests in {took:.1f} s into {duckdb_file}, dataset {summary.dataset_name}:"
    )
    with duckdb.connect(duckdb_file, read_only=True) as con:
        for endpoint in ENDPOINTS:
            rows, days = con.execute(
                f"select count(*), count(distinct date) from {summary.dataset_name}.{endpoint.table}"
            ).fetchall()[0]
            print(f"  {endpoint.table:<20} {rows:>8} rows over {days:>3} days")
    query = (
        f"select date, daily_active_user_count, weekly_active_user_count, daily_adoption_rate "
        f"from {summary.dataset_name}.activity_summary order by date desc limit 7"
    )
    cli = Path(sys.executable).with_name("claude-analytics")
    command = str(cli) if cli.exists() else "claude-analytics"
    print(
        f"\nTry a query (the BI views are there too, e.g. {summary.dataset_name}.v_daily_spend):\n"
        f"  {sys.executable} -c \"import duckdb; duckdb.connect('{duckdb_file}', read_only=True)"
        f".sql('{query}').show()\"\n"
        f"The pipeline's health, and a report with charts (spend, adoption by department):\n"
        f"  {command} status --duckdb-file {duckdb_file}\n"
        f"  {command} report --duckdb-file {duckdb_file} --output demo-report.html"
    )
    return 0
