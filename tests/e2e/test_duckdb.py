"""The real pipeline against the simulator over sockets into DuckDB: tables equal the simulator's data."""

from __future__ import annotations

import datetime as dt

import duckdb
import pytest

from pipelines.runner import RunOptions, run_load
from sources.claude_analytics.days import day_range
from sources.claude_analytics.endpoints import BY_NAME, ENDPOINTS
from tests.helpers import assert_table_equals, expected_table, settings_for, table_rows

DATASET = "claude_analytics"


def load(sim, command="run", **settings):
    options = RunOptions(settings_for(sim, **settings), command=command, duckdb_file="warehouse.duckdb")
    return run_load(options)


def assert_all_tables_equal(sim, first: dt.date, last: dt.date) -> None:
    with duckdb.connect("warehouse.duckdb", read_only=True) as con:
        for endpoint in ENDPOINTS:
            expected = expected_table(sim, endpoint, day_range(first, last))
            assert_table_equals(table_rows(con, DATASET, endpoint), expected, endpoint.table)


def column_types(table: str) -> dict[str, str]:
    with duckdb.connect("warehouse.duckdb", read_only=True) as con:
        return dict(con.execute(
            "select column_name, data_type from information_schema.columns where table_schema = ? and table_name = ?",
            [DATASET, table]).fetchall())


def test_full_backfill_equals_simulator_and_rerun_is_identical(start_simulator):
    sim = start_simulator(users=40, seed=3)
    summary = load(sim, history_days=40)
    first, last = summary.earliest_day, sim.latest_available_day()
    assert last == summary.latest_available_day
    assert_all_tables_equal(sim, first, last)
    # the newest available day is loaded, the summaries window edges lose nothing
    assert set(summary.cursors.values()) == {last.isoformat()}
    types = column_types("user_activity")
    assert types["date"] == "DATE"
    assert types["chat_message_count"] == "BIGINT"
    assert types["cowork_artifacts_created_count"] == "BIGINT"  # gated: NULL, still typed
    assert all(len(name) <= 63 for name in types)
    assert column_types("skill_usage")["estimated_overage_spend"].startswith("DECIMAL")
    assert column_types("activity_summary")["daily_adoption_rate"] == "DOUBLE"
    # minimal plan: one request per day per paginated endpoint (40 users fit one page), 31-day summaries windows
    days = (last - first).days + 1
    assert sim.stats()["total"] == 4 * days + -(-days // 31)

    with duckdb.connect("warehouse.duckdb", read_only=True) as con:
        before = {e.table: con.execute(f"select * from {DATASET}.{e.table} order by all").fetchall()
                  for e in ENDPOINTS if e.table != "activity_summary"}
    sim.reset_stats()
    again = load(sim, history_days=40)
    # the rerun re-fetches only the lookback window (3 days) and changes nothing
    assert sim.stats()["total"] == 4 * 3 + 1
    assert again.cursors == summary.cursors
    assert_all_tables_equal(sim, first, last)


def test_revised_days_are_replaced_whole(start_simulator):
    sim = start_simulator(users=30, seed=5, revision_days=2)
    summary = load(sim, history_days=10)
    first, last = summary.earliest_day, sim.latest_available_day()
    sim.config.revision = 1
    with duckdb.connect("warehouse.duckdb", read_only=True) as con:
        stale = table_rows(con, DATASET, BY_NAME["users"])
    load(sim, history_days=10)
    assert_all_tables_equal(sim, first, last)
    with duckdb.connect("warehouse.duckdb", read_only=True) as con:
        fresh = table_rows(con, DATASET, BY_NAME["users"])
    vanished = set(stale) - set(fresh)
    assert vanished and all(key[0] > last - dt.timedelta(days=2) for key in vanished)


@pytest.mark.parametrize("envelope,period_keys", [("summaries", "starting_date"), ("both", "starting_at")])
def test_both_summaries_envelopes_load(start_simulator, envelope, period_keys):
    sim = start_simulator(users=20, summaries_envelope=envelope, summaries_period_keys=period_keys)
    summary = load(sim, history_days=35, endpoints=None)
    assert_all_tables_equal(sim, summary.earliest_day, sim.latest_available_day())


def test_schema_growth_adds_columns(start_simulator):
    sim = start_simulator(users=20, seed=9)
    latest = sim.latest_available_day()
    first = load(sim, history_days=8).earliest_day
    assert "chat_voice_message_count" not in column_types("user_activity")
    assert "average_latency_ms" not in column_types("connector_usage")
    sim.config.growth_from = latest - dt.timedelta(days=1)
    load(sim, command="backfill", history_days=8)
    assert column_types("user_activity")["chat_voice_message_count"] == "BIGINT"
    assert column_types("connector_usage")["average_latency_ms"] == "BIGINT"
    assert column_types("user_activity")["office_word_message_count"] == "BIGINT"
    assert_all_tables_equal(sim, first, latest)


def test_a_deleted_warehouse_is_reloaded_in_full_despite_local_state(start_simulator):
    import os

    sim = start_simulator(users=10, seed=12)
    first = load(sim, history_days=5).earliest_day
    os.remove("warehouse.duckdb")
    load(sim, history_days=5)
    assert_all_tables_equal(sim, first, sim.latest_available_day())


def test_the_plain_dlt_source_loads_the_same_tables(start_simulator, monkeypatch):
    """`claude_analytics()` in anyone's own dlt pipeline, configured the dlt way (env vars here)."""
    import dlt

    from sources.claude_analytics import claude_analytics

    sim = start_simulator(users=15, seed=13)
    for key, value in {"API_KEY": sim.api_key, "BASE_URL": sim.base_url, "REQUESTS_PER_MINUTE": "100000",
                       "AVAILABILITY_LAG_DAYS": "1", "HISTORY_DAYS": "35"}.items():
        monkeypatch.setenv(f"SOURCES__CLAUDE_ANALYTICS__{key}", value)
    pipeline = dlt.pipeline("own_pipeline", destination=dlt.destinations.duckdb("warehouse.duckdb"),
                            dataset_name=DATASET)
    pipeline.run(claude_analytics(), loader_file_format="parquet")
    first = sim.latest_available_day() - dt.timedelta(days=34)
    assert_all_tables_equal(sim, first, sim.latest_available_day())
    sim.reset_stats()
    pipeline.run(claude_analytics(), loader_file_format="parquet")  # incremental: the lookback window only
    assert sim.stats()["total"] == 4 * 3 + 1
    pipeline.run(claude_analytics(endpoints="skills", range_start=first.isoformat(), range_end=first.isoformat()))
    assert sim.stats()["total"] == 4 * 3 + 1 + 1
    assert_all_tables_equal(sim, first, sim.latest_available_day())
