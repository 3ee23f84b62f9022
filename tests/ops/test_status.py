"""`claude-analytics status`: days loaded, gaps, days behind, days about to be lost, and its exit codes."""

from __future__ import annotations

import datetime as dt
import json
import os

import duckdb
import pytest

from pipelines.cli import main
from pipelines.errors import EXIT_ATTENTION
from pipelines.status import assess, ranges, served_days
from sources.claude_analytics.days import API_FLOOR, Edges, day_range
from sources.claude_analytics.endpoints import BY_NAME
from sources.claude_analytics.settings import make_settings
from tests.helpers import load as run

TODAY = dt.date(2026, 6, 30)
D = lambda n: TODAY - dt.timedelta(days=n)
USERS, SUMMARIES = BY_NAME["users"], BY_NAME["summaries"]


EARLIEST, THROUGH, FINISHED = D(90), D(3), dt.datetime(2026, 6, 30, 6, 0)


def run_row(outcome="succeeded", earliest=EARLIEST, through=THROUGH, finished=FINISHED, **extra):
    row = {
        "command": "run",
        "outcome": outcome,
        "earliest_day": earliest,
        "started_at": finished,
        "finished_at": finished,
        "user_activity_loaded_through": through,
        "activity_summary_loaded_through": through,
        "user_activity_days": 5,
        "activity_summary_days": 5,
        "error": None,
    }
    row.update(extra)
    return row


EDGES = {"engagement": Edges(D(90), D(3), 90), "cost": Edges(API_FLOOR, D(1), 365)}


def check(day_rows, runs, endpoints=(USERS,), max_days_behind=1):
    return assess(
        list(endpoints), today=TODAY, edges=EDGES, day_rows=day_rows, runs=runs, max_days_behind=max_days_behind
    )


def every_day(first, last, n=10):
    return {d: n for d in day_range(first, last)}


def test_healthy_when_everything_is_loaded_through_the_latest_day():
    status = check({"user_activity": every_day(D(90), D(3))}, [run_row()])
    [t] = status.tables
    assert (t.days_loaded, t.gaps, t.days_behind, t.at_risk) == (88, [], 0, [])
    assert status.exit_code == 0 and not status.attention


def test_days_without_rows_inside_a_run_s_range_are_loaded_but_empty():
    rows = every_day(D(90), D(3))
    for n in (40, 41):
        del rows[D(n)]  # nobody active: the API answered with no rows
    status = check({"user_activity": rows}, [run_row()])
    [t] = status.tables
    assert (t.days_loaded, t.empty_days, t.gaps) == (88, 2, [])
    assert status.exit_code == 0


def test_a_summary_day_without_its_row_is_a_gap_even_inside_a_run_s_range():
    rows = every_day(D(90), D(3), n=1)
    del rows[D(40)]
    status = check({"activity_summary": rows}, [run_row()], endpoints=(SUMMARIES,))
    assert status.tables[0].gaps == [D(40)]
    assert status.exit_code == EXIT_ATTENTION
    assert "backfill --endpoints summaries --start-date" in status.attention[0]


def test_gaps_between_explicit_backfills_and_unloaded_days_about_to_leave_the_window():
    rows = every_day(D(60), D(50)) | every_day(D(45), D(3))  # two backfills, no cursor
    status = check({"user_activity": rows}, [run_row(command="backfill", through=None)])
    [t] = status.tables
    assert t.gaps == list(day_range(D(49), D(46)))
    assert t.at_risk == list(day_range(D(90), D(84)))  # leave the 90-day window within 7 days
    assert status.exit_code == EXIT_ATTENTION
    text = " ".join(status.attention)
    assert f"4 day(s) missing: {D(49)}..{D(46)}" in text
    assert "7 unloaded day(s) leave the API's history within 7 days" in text
    assert f"--start-date {D(90)} --end-date {D(84)}" in text


def test_behind_more_than_allowed_needs_attention():
    rows = every_day(D(90), D(5))
    runs = [run_row(through=D(5))]
    assert check({"user_activity": rows}, runs).tables[0].days_behind == 2
    assert check({"user_activity": rows}, runs, max_days_behind=2).exit_code == 0
    assert check({"user_activity": rows}, runs, max_days_behind=1).exit_code == EXIT_ATTENTION


def test_a_failed_last_run_a_missing_table_and_no_run_log_need_attention():
    rows = {"user_activity": every_day(D(90), D(3))}
    failed = run_row(outcome="failed", error="HTTP 503 on 6 attempts", finished=dt.datetime(2026, 6, 30, 7, 0))
    status = check(rows, [run_row(), failed])
    assert status.last_run["outcome"] == "failed" and status.last_successful_run["outcome"] == "succeeded"
    assert status.exit_code == EXIT_ATTENTION and "HTTP 503" in status.attention[-1]
    missing = check({"user_activity": None}, [run_row()])
    assert not missing.tables[0].exists and "nothing loaded yet" in missing.attention[0]
    assert missing.tables[0].at_risk == list(day_range(D(90), D(84)))
    assert "no run recorded" in check(rows, None).attention[-1]


def test_ranges_folds_consecutive_days():
    assert ranges([D(1), D(3), D(2), D(7)]) == f"{D(7)}, {D(3)}..{D(1)}"


def test_an_endpoint_not_offered_to_the_organization_is_no_gap():
    rows = {"user_activity": every_day(D(90), D(3)), "cost_report": None}
    run = run_row(cost_report_unavailable="/cost_report is not available to this organization (HTTP 403: …)")
    status = check(rows, [run], endpoints=(USERS, BY_NAME["cost_report"]))
    cost = status.tables[1]
    assert not cost.available and "HTTP 403" in cost.unavailable_reason
    assert status.exit_code == 0 and not status.attention


def test_the_edges_come_from_the_settings_or_else_from_the_newest_run():
    runs = [
        run_row(
            finished=dt.datetime(2026, 6, 20, 6, 0), latest_available_day=D(11), earliest_day=D(100), history_days=90
        )
    ]
    edges = served_days(make_settings(), runs, TODAY)  # learnt on 06-20: a 1-day lag, a 90-day window
    assert edges["engagement"] == Edges(D(90), D(1), 90)
    pinned = served_days(make_settings(availability_lag_days=3, history_days=60), runs, TODAY)
    assert pinned["engagement"] == Edges(D(60), D(3), 60)
    floor = [run_row(latest_available_day=D(1), earliest_day=API_FLOOR, history_days=None)]  # no slide
    assert served_days(make_settings(), floor, TODAY)["engagement"] == Edges(API_FLOOR, D(1), None)
    assert served_days(make_settings(), [], TODAY)["cost"] == Edges(API_FLOOR, D(1), 365)


@pytest.fixture
def status_env(monkeypatch, start_simulator):
    sim = start_simulator(users=20, seed=6, history_days=20)
    monkeypatch.setenv("SOURCES__CLAUDE_ANALYTICS__START_DATE", (sim.today() - dt.timedelta(days=20)).isoformat())
    return sim


def load(sim, command="run", **kw):
    return run(sim, command, start_date=(sim.today() - dt.timedelta(days=20)).isoformat(), **kw)


def status(capsys, *args) -> tuple[int, str]:
    capsys.readouterr()
    code = main(["status", "--duckdb-file", "warehouse.duckdb", "--log-level", "WARNING", *args])
    captured = capsys.readouterr()
    return code, captured.out + captured.err


def test_status_end_to_end_exit_codes(status_env, capsys):
    sim = status_env
    today, latest = sim.today(), sim.latest_available_day()
    code, out = status(capsys)  # nothing loaded: no warehouse file yet, and status does not create one
    assert code == 2 and "there is no warehouse at warehouse.duckdb: load it first with `claude-analytics run`" in out
    assert not os.path.exists("warehouse.duckdb")

    # two explicit backfills leave a hole, and the oldest days unloaded
    load(sim, "backfill", range_start=today - dt.timedelta(days=10), range_end=today - dt.timedelta(days=8))
    load(sim, "backfill", range_start=today - dt.timedelta(days=5))
    code, out = status(capsys)
    assert code == EXIT_ATTENTION
    hole = f"{today - dt.timedelta(days=7)}..{today - dt.timedelta(days=6)}"
    assert f"activity_summary: 2 day(s) missing: {hole}" in out
    risky = f"{today - dt.timedelta(days=20)}..{today - dt.timedelta(days=14)}"
    assert (
        f"user_activity: 7 unloaded day(s) leave the API's history within 7 days and are then lost for good: "
        f"{risky}" in out
    )

    # the nightly run loads from the earliest day: healthy, exit 0
    load(sim)
    code, out = status(capsys)
    assert code == 0, out
    assert "OK: every table is loaded" in out
    code, out = status(capsys, "--format", "json")
    data = json.loads(out)
    assert data["exit_code"] == 0 and data["latest_available_day"] == str(latest)
    by_table = {t["table"]: t for t in data["tables"]}
    with duckdb.connect("warehouse.duckdb", read_only=True) as con:
        rows, days = con.execute(
            "select count(*), count(distinct date) from claude_analytics.user_activity"
        ).fetchall()[0]
    assert by_table["user_activity"]["rows"] == rows
    assert (
        by_table["user_activity"]["days_loaded"] == (latest - today).days + 21
        and by_table["user_activity"]["gaps"] == []
    )
    assert data["last_successful_run"]["command"] == "run"

    # a summaries day lost at the warehouse is a gap again
    lost = today - dt.timedelta(days=12)
    with duckdb.connect("warehouse.duckdb") as con:
        con.execute("delete from claude_analytics.activity_summary where date = ?", [lost])
    code, out = status(capsys, "--endpoints", "summaries")
    assert code == EXIT_ATTENTION and f"activity_summary: 1 day(s) missing: {lost}" in out
    assert "user_activity" not in out


def test_status_of_an_unreachable_destination_is_a_usage_error(monkeypatch, capsys):
    monkeypatch.setenv("DESTINATION__POSTGRES__CREDENTIALS", "postgresql://nobody:x@127.0.0.1:1/none")
    assert main(["status", "--destination", "postgres", "--log-level", "ERROR"]) == 2
    assert "cannot read destination postgres" in capsys.readouterr().err
