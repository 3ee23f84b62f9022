"""The run log `pipeline_runs`: one row per run, written whatever the outcome, exact for a demo-size run."""

from __future__ import annotations

import datetime as dt

import duckdb
import pytest

from pipelines.cli import main
from pipelines.runlog import COLUMNS
from sources.claude_analytics.client import AnalyticsClient
from sources.claude_analytics.days import day_range
from sources.claude_analytics.endpoints import ENDPOINTS
from tests.helpers import configure


@pytest.fixture
def cli_env(monkeypatch, start_simulator):
    """A simulator and the environment `claude-analytics run` reads its settings from."""
    sim = start_simulator(users=40, seed=8, history_days=20)
    configure(monkeypatch, sim, days=20)
    return sim


def runs() -> list[dict]:
    with duckdb.connect("warehouse.duckdb", read_only=True) as con:
        cur = con.execute("select * from claude_analytics.pipeline_runs order by started_at")
        names = [d[0] for d in cur.description]
        return [dict(zip(names, r)) for r in cur.fetchall()]


def table_counts(table: str) -> tuple[int, int]:
    with duckdb.connect("warehouse.duckdb", read_only=True) as con:
        rows, days = con.execute(f"select count(*), count(distinct date) from claude_analytics.{table}").fetchall()[0]
        return rows, days


def test_a_successful_and_a_failed_run_each_leave_their_row(cli_env, monkeypatch, capsys):
    sim = cli_env
    before = dt.datetime.now(dt.timezone.utc)
    assert main(["run", "--log-level", "WARNING"]) == 0
    [ok] = runs()
    latest = sim.latest_available_day()
    earliest = sim.today() - dt.timedelta(days=20)
    days = (latest - earliest).days + 1
    assert set(ok) >= set(COLUMNS)
    assert ok["command"] == "run" and ok["destination"] == "duckdb" and ok["outcome"] == "succeeded"
    assert ok["error"] is None
    assert before <= ok["started_at"] <= ok["finished_at"] <= dt.datetime.now(dt.timezone.utc)
    assert (ok["earliest_day"], ok["latest_available_day"], ok["days_behind"]) == (earliest, latest, 0)
    assert (ok["cost_earliest_day"], ok["cost_latest_day"]) == (earliest, sim.today() - dt.timedelta(days=1))
    assert (ok["edges_learnt"], ok["history_days"]) == ("latest, earliest", 20)
    # per day: 6 engagement endpoints, 2 per-user reports; per window: summaries, 2 bucketed reports
    assert ok["planned_units"] == ok["units_loaded"] == 8 * days + 3 * -(-days // 31)
    capped = sum(
        len(sim.expected_report(e.path, d, e.group_by)) >= 100
        for e in ENDPOINTS
        if e.kind == "bucket_report"
        for d in day_range(earliest, latest)
    )
    # 40 users: one page per unit; the calendar's two requests; a day at the 100-group cap once more by the hour
    assert ok["requests"] == sim.stats()["total"] == ok["planned_units"] + 2 + capped
    assert (ok["retries"], ok["rate_limited"]) == (0, 0)
    assert ok["chunks"] >= 1
    for endpoint in ENDPOINTS:
        rows, _ = table_counts(endpoint.table)
        assert ok[f"{endpoint.table}_days"] == days, endpoint.table
        assert ok[f"{endpoint.table}_rows"] == rows, endpoint.table
        assert ok[f"{endpoint.table}_loaded_through"] == latest

    # every request now answers 500: the run retries, gives up, exits 1 — and still logs its row
    monkeypatch.setattr(AnalyticsClient, "_backoff", lambda self, attempt: 0.0)
    sim.config.faults.server_error_rate = 1.0
    sim.reset_stats()
    capsys.readouterr()
    assert main(["run", "--log-level", "WARNING"]) == 1
    assert "run failed" in capsys.readouterr().err
    ok_again, failed = runs()
    assert ok_again == ok
    assert failed["outcome"] == "failed" and failed["command"] == "run"
    assert failed["error"] and "HTTP 50" in failed["error"] and "attempts" in failed["error"]
    assert failed["requests"] == sim.stats()["total"] > 0
    assert failed["retries"] > 0 and failed["rate_limited"] == 0
    assert failed["units_loaded"] == failed["chunks"] == 0
    assert failed["error"].startswith("/summaries ")  # the calendar's first request: nothing else was asked
    for endpoint in ENDPOINTS:  # nothing loaded, and the cursors did not move
        assert failed[f"{endpoint.table}_days"] == failed[f"{endpoint.table}_rows"] == 0
        assert failed[f"{endpoint.table}_loaded_through"] == latest
    assert failed["run_id"] != ok["run_id"]
    assert sim.api_key not in str(failed)
