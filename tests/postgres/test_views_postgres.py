"""BI views on a throwaway PostgreSQL 15: the same SQL files, transpiled, give the values DuckDB gives."""

from __future__ import annotations

import datetime as dt

import pytest

from pipelines.destinations import Target
from pipelines.dictionary import SQL_TYPES
from pipelines.views import load_views, view_names
from sources.claude_analytics.days import day_range, utc_today
from tests.helpers import load
from tests.ops.view_expectations import EXPECTED, Truth, assert_view_equals, write_org_chart

pytestmark = pytest.mark.postgres

DATASET = "claude_analytics"
POSTGRES = Target(destination="postgres", dataset_name=DATASET)


def since(days: int) -> str:
    """A start_date `days` back: the cost reports would otherwise load 365 days."""
    return (utc_today() - dt.timedelta(days=days)).isoformat()


def test_views_on_postgres_equal_values_computed_from_the_simulator(start_simulator, postgres_db, tmp_path):
    sim = start_simulator(users=40, seed=11)
    chart = write_org_chart(sim, tmp_path / "org_chart.csv")
    summary = load(
        sim, target=POSTGRES, history_days=40, start_date=since(40), org_chart_path=str(tmp_path / "org_chart.csv")
    )
    assert summary.earliest_day is not None and summary.latest_available_day is not None
    assert summary.cost_earliest_day is not None and summary.cost_latest_day is not None
    truth = Truth(
        sim,
        list(day_range(summary.earliest_day, summary.latest_available_day)),
        list(day_range(summary.cost_earliest_day, summary.cost_latest_day)),
        chart,
    )
    con = postgres_db.connect()
    try:
        with con.cursor() as cur:
            cur.execute("select table_name from information_schema.views where table_schema = %s", (DATASET,))
            assert {r[0] for r in cur.fetchall()} == set(view_names())
            for view in load_views():
                cur.execute(f"select * from {DATASET}.{view.name}")
                names = [d[0] for d in cur.description]
                rows = [dict(zip(names, r)) for r in cur.fetchall()]
                expected = EXPECTED[view.name](truth)
                assert expected, f"{view.name}: the simulated org gives no rows to compare"
                assert_view_equals(view.name, rows, expected)
                cur.execute(
                    "select column_name, data_type from information_schema.columns where table_schema = %s "
                    "and table_name = %s order by ordinal_position",
                    (DATASET, view.name),
                )
                columns = cur.fetchall()
                assert [c for c, _ in columns] == [c.name for c in view.columns]
                for (name, data_type), documented in zip(columns, view.columns):
                    allowed = {SQL_TYPES[documented.data_type][1].split("(")[0]}
                    if documented.data_type == "text":
                        allowed.add("text")  # a string literal ('all' in v_daily_active_users_by_product)
                    assert data_type in allowed, f"{view.name}.{name}: {data_type}"
    finally:
        con.close()


def test_views_are_replaced_by_the_next_run(start_simulator, postgres_db, caplog):
    sim = start_simulator(users=10, seed=4)
    caplog.set_level("INFO", logger="claude_analytics.views")
    for _ in range(2):  # the second run replaces the views its first run created
        summary = load(sim, target=POSTGRES, history_days=5, start_date=since(5))
    without_org_chart = len(view_names()) - 2
    created = [
        r.getMessage() for r in caplog.records if f"created or replaced {without_org_chart} view(s)" in r.getMessage()
    ]
    assert len(created) == 2
    assert not [r for r in caplog.records if r.levelname == "WARNING"]
    con = postgres_db.connect()
    try:
        with con.cursor() as cur:
            cur.execute(f"select count(*) from {DATASET}.v_daily_adoption")
            assert summary.latest_available_day is not None and summary.earliest_day is not None
            assert cur.fetchone()[0] == (summary.latest_available_day - summary.earliest_day).days + 1
    finally:
        con.close()
