"""The cost & usage reports and the API's harder answers, end to end through the runner into DuckDB:
the top-100 cap, money to the last digit, plans without the reports, cursors that keep expiring."""

from __future__ import annotations

import datetime as dt
import logging
from decimal import Decimal

import duckdb
import pytest

from claude_analytics_simulator import FaultConfig
from pipelines.cli import main
from pipelines.errors import RunFailed
from sources.claude_analytics.days import day_range
from sources.claude_analytics.endpoints import BY_NAME, ENDPOINTS
from sources.claude_analytics.queries import GROUP_CAP
from tests.helpers import WAREHOUSE, assert_table_equals, configure, expected_table, family_days, load, table_rows

DATASET = "claude_analytics"
REPORTS = "usage_report,cost_report,user_usage_report,user_cost_report"


def recent(sim, days: int) -> str:
    return (sim.today() - dt.timedelta(days=days)).isoformat()


def assert_equal(sim, summary, names: str) -> None:
    with duckdb.connect(WAREHOUSE, read_only=True) as con:
        for name in names.split(","):
            endpoint = BY_NAME[name]
            assert_table_equals(
                table_rows(con, DATASET, endpoint),
                expected_table(sim, endpoint, family_days(summary, endpoint)),
                endpoint.table,
            )


def test_a_bucket_at_the_group_cap_loses_no_group(start_simulator):
    sim = start_simulator(users=60, seed=14, report_models=12)  # more groups per day than the cap
    summary = load(sim, start_date=recent(sim, 6), endpoints="usage_report,cost_report")
    cost = BY_NAME["cost_report"]
    days = family_days(summary, cost)
    truth = {d: sim.expected_report(cost.path, d, cost.group_by) for d in days}
    capped = [d for d, groups in truth.items() if len(groups) > GROUP_CAP]
    assert capped, "the organization must have more groups than the cap"
    assert_equal(sim, summary, "usage_report,cost_report")
    with duckdb.connect(WAREHOUSE, read_only=True) as con:
        loaded = dict(con.execute(f"select date, sum(amount) from {DATASET}.cost_report group by date").fetchall())
        null_products = con.execute(
            f"select count(*) from {DATASET}.cost_report where product is null or product = 'other'"
        ).fetchall()[0][0]
    for day in days:  # the day's total spend, to the last digit, unattributed traffic included
        assert loaded[day] == sum((Decimal(g["amount"]) for g in truth[day]), Decimal(0)).scaleb(-2), day
    assert null_products > 0
    finer = [e for e in sim.request_log() if e["path"] == cost.path and e["params"].get("bucket_width") == "1h"]
    assert len(finer) >= len(capped)  # each capped day fetched again by the hour


MONEY = ("41280.000000", "0.000001", "123456789.123456")


def test_money_arrives_exact_in_us_dollars(start_simulator):
    sim = start_simulator(users=20, seed=15, money_samples=MONEY)
    summary = load(sim, start_date=recent(sim, 3), endpoints="cost_report,user_cost_report")
    assert_equal(sim, summary, "cost_report,user_cost_report")
    with duckdb.connect(WAREHOUSE, read_only=True) as con:
        for table in ("cost_report", "user_cost_report"):
            amounts = {r[0] for r in con.execute(f"select amount from {DATASET}.{table}").fetchall()}
            lists = {r[0] for r in con.execute(f"select list_amount from {DATASET}.{table}").fetchall()}
            expected = {Decimal("412.8"), Decimal("0.00000001"), Decimal("1234567.89123456")}
            assert expected <= amounts and expected <= lists, table


@pytest.mark.parametrize("status", [403, 404])
def test_a_plan_without_cost_reports_skips_them_with_one_warning_each(
    start_simulator, monkeypatch, capsys, status, caplog
):
    sim = start_simulator(users=15, seed=16, cost_reports_available=False, cost_reports_denied_status=status)
    configure(monkeypatch, sim, days=4)
    with caplog.at_level(logging.WARNING, logger="claude_analytics"):
        assert main(["run", "--log-level", "WARNING"]) == 0
    warnings = [r.getMessage() for r in caplog.records if "not available to this organization" in r.getMessage()]
    assert len(warnings) == 4
    for name in REPORTS.split(","):
        [warning] = [w for w in warnings if w.startswith(name)]
        assert warning.startswith(f"{name}: skipped: /{name} is not available to this organization (HTTP {status}")
    out = capsys.readouterr().out
    assert out.count("not available to this organization") == 4
    with duckdb.connect(WAREHOUSE, read_only=True) as con:
        tables = {
            r[0]
            for r in con.execute(
                "select table_name from information_schema.tables where table_schema = ?", [DATASET]
            ).fetchall()
        }
    assert {e.table for e in ENDPOINTS if e.family == "engagement"} <= tables
    assert not tables & set(REPORTS.split(","))

    assert main(["status", "--log-level", "WARNING"]) == 0  # not a gap: nothing needs attention
    status_out = capsys.readouterr().out
    assert status_out.count("not available to this organization") == 4 and "OK: every table" in status_out
    assert main(["check", "--log-level", "WARNING"]) == 0
    assert capsys.readouterr().out.count("not available to this organization") == 4

    monkeypatch.setenv("SOURCES__CLAUDE_ANALYTICS__API_KEY", "sk-ant-wrong")
    assert main(["run", "--log-level", "WARNING"]) == 2  # a rejected key is still a usage error
    assert "rejected the key" in capsys.readouterr().err


def test_cursors_that_keep_expiring_leave_their_days_for_the_next_run(start_simulator, fast_retries):
    # 85 % of cursors expired: a weekday's ~23 active users take 3 pages at 10 a page, and such a day outlasts its
    # 3 restarts with probability 0.91 (at 60 %, 0.5: all six days loaded in 6 % of runs); skills take 1 page
    sim = start_simulator(users=40, seed=17, faults=FaultConfig(expired_cursor_rate=0.85))
    with pytest.raises(RunFailed) as failed:
        load(sim, start_date=recent(sim, 6), page_size=10, endpoints="users,skills,summaries")
    message = str(failed.value)
    assert "could not be loaded, user_activity " in message and "the page cursor kept expiring" in message
    assert "the next run fetches these days first" in message
    with duckdb.connect(WAREHOUSE, read_only=True) as con:
        run = con.execute(
            f"select outcome, days_failed, days_missing, cursor_restarts, skill_usage_days from {DATASET}.pipeline_runs"
        ).fetchone()
    assert run is not None, "no run recorded"
    assert run[0] == "failed" and run[1].startswith("user_activity ") and run[3] > 0
    assert run[4] == 6  # the rest of the run completed and committed

    sim.config.faults = FaultConfig()
    sim.reset_stats()
    summary = load(sim, start_date=recent(sim, 6), page_size=10, endpoints="users,skills,summaries")
    first_users = [e["params"]["date"] for e in sim.request_log() if e["path"] == "/users"]
    missing = [  # "user_activity 2026-11-27, 2026-11-29..2026-11-30": days and ranges
        day
        for first, _, last in (part.partition("..") for part in run[2].split(" ", 1)[1].split(", "))
        for day in day_range(dt.date.fromisoformat(first), dt.date.fromisoformat(last or first))
    ]
    assert missing
    # fetched again (first in the plan: tests/unit/test_plan_order.py; 8 fetch threads race, so not asserted here)
    assert {d.isoformat() for d in missing} <= set(first_users), (missing, first_users)
    assert_equal(sim, summary, "users,skills,summaries")
