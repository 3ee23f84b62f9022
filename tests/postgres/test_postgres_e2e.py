"""The real pipeline against the simulator over sockets into a throwaway PostgreSQL 15: the DuckDB checks.

Every table equals the simulator's data exactly (values, Python types, NULLs); a rerun re-fetches only
the lookback window and changes nothing; revised days are replaced whole; new API fields become columns.
"""

from __future__ import annotations

import datetime as dt

import dlt
import pytest

from pipelines import destinations
from pipelines.destinations import Target
from sources.claude_analytics.endpoints import BY_NAME, ENDPOINTS
from tests.helpers import assert_table_equals, expected_table, family_days, table_rows_dbapi
from tests.helpers import load as run

pytestmark = pytest.mark.postgres

DATASET = "claude_analytics"


def load(sim, command="run", dataset=DATASET, history_days=None, **kw):
    """A run into Postgres; the cost reports start where the engagement history does."""
    if history_days:
        kw.update(history_days=history_days, start_date=(sim.today() - dt.timedelta(days=history_days)).isoformat())
    return run(sim, command, target=Target("postgres", dataset), **kw)


def assert_all_tables_equal(db, sim, summary, dataset: str = DATASET, first: dt.date | None = None) -> None:
    con = db.connect()
    try:
        for endpoint in ENDPOINTS:
            days = [d for d in family_days(summary, endpoint) if first is None or d >= first]
            expected = expected_table(sim, endpoint, days)
            assert_table_equals(table_rows_dbapi(con, dataset, endpoint), expected, endpoint.table)
    finally:
        con.close()


def query(db, sql: str, *params) -> list[tuple]:
    con = db.connect()
    try:
        with con.cursor() as cur:
            cur.execute(sql, params)
            return cur.fetchall()
    finally:
        con.close()


def column_types(db, table: str, dataset: str = DATASET) -> dict[str, str]:
    return dict(
        query(
            db,
            "select column_name, data_type from information_schema.columns where table_schema = %s and table_name = %s",
            dataset,
            table,
        )
    )


def loaded_formats(dataset: str = DATASET) -> set[str]:
    """Loader file formats of the data tables' jobs in every completed load package of the pipeline."""
    pipeline = dlt.attach(Target("postgres", dataset).name)
    tables = {e.table for e in ENDPOINTS}
    return {
        job.job_file_info.file_format
        for load_id in pipeline.list_completed_load_packages()
        for job in pipeline.get_load_package_info(load_id).jobs["completed_jobs"]
        if job.job_file_info.table_name in tables and job.job_file_info.file_format != "sql"
    }


def all_rows(db, dataset: str = DATASET) -> dict[str, list[tuple]]:
    """Every table's rows without dlt's per-load columns, in a stable order."""
    out = {}
    for e in ENDPOINTS:
        names = [c for c in column_types(db, e.table, dataset) if not c.startswith("_dlt")]
        listed = ", ".join(f'"{c}"' for c in sorted(names))
        out[e.table] = query(db, f"select {listed} from {dataset}.{e.table} order by {listed}")
    return out


def test_full_backfill_equals_simulator_and_rerun_is_identical(start_simulator, postgres_db):
    sim = start_simulator(users=40, seed=3)
    summary = load(sim, history_days=40)
    _first, last = summary.earliest_day, sim.latest_available_day()
    assert last == summary.latest_available_day
    assert_all_tables_equal(postgres_db, sim, summary)
    assert set(summary.cursors.values()) == {last.isoformat()}
    assert loaded_formats() == {destinations.get("postgres").file_format} == {"parquet"}  # the fast path
    types = column_types(postgres_db, "user_activity")
    assert types["date"] == "date"
    assert types["user_id"] == "character varying"
    assert types["chat_message_count"] == "bigint"
    assert types["cowork_artifacts_created_count"] == "bigint"  # gated: NULL, still typed
    assert types["last_activity_date"] == "date"
    assert all(len(name) <= 63 for name in types)
    assert column_types(postgres_db, "skill_usage")["estimated_overage_spend"] == "numeric"
    assert column_types(postgres_db, "activity_summary")["daily_adoption_rate"] == "double precision"
    assert column_types(postgres_db, "chat_project_usage")["created_at"] == "timestamp with time zone"
    assert column_types(postgres_db, "user_cost_report")["amount"] == "numeric"
    assert column_types(postgres_db, "artifact_activity")["is_shared"] == "boolean"
    # the primary key is declared NOT NULL at the destination
    nullable = dict(
        query(
            postgres_db,
            "select column_name, is_nullable from information_schema.columns "
            "where table_schema = %s and table_name = 'user_activity'",
            DATASET,
        )
    )
    assert nullable["date"] == nullable["user_id"] == "NO"
    report = dict(
        query(
            postgres_db,
            "select column_name, is_nullable from information_schema.columns "
            "where table_schema = %s and table_name = 'cost_report'",
            DATASET,
        )
    )
    assert report["date"] == "NO" and report["product"] == "YES"  # unattributed traffic: a NULL product

    before = all_rows(postgres_db)
    sim.reset_stats()
    again = load(sim, history_days=40)
    # the rerun re-fetches only the lookback windows and changes nothing
    assert sim.stats()["by_path"]["/users"] == {200: 3} and sim.stats()["by_path"]["/user_cost_report"] == {200: 30}
    assert again.cursors == summary.cursors
    assert all_rows(postgres_db) == before
    assert_all_tables_equal(postgres_db, sim, summary)


def test_revised_days_are_replaced_whole(start_simulator, postgres_db):
    sim = start_simulator(users=30, seed=5, revision_days=2, cost_revision_days=3)
    summary = load(sim, history_days=10)
    last = sim.latest_available_day()
    sim.config.revision = sim.config.cost_revision = 1
    con = postgres_db.connect()
    stale = table_rows_dbapi(con, DATASET, BY_NAME["users"])
    con.close()
    load(sim, history_days=10)
    assert_all_tables_equal(postgres_db, sim, summary)
    con = postgres_db.connect()
    fresh = table_rows_dbapi(con, DATASET, BY_NAME["users"])
    con.close()
    vanished = set(stale) - set(fresh)
    assert vanished and all(key[0] > last - dt.timedelta(days=2) for key in vanished)
    changed = [k for k in set(stale) & set(fresh) if stale[k] != fresh[k]]
    assert changed and all(key[0] > last - dt.timedelta(days=2) for key in changed)


def test_schema_growth_adds_columns(start_simulator, postgres_db):
    sim = start_simulator(users=20, seed=9)
    latest = sim.latest_available_day()
    load(sim, history_days=8, endpoints="users,connectors")
    assert "chat_voice_message_count" not in column_types(postgres_db, "user_activity")
    assert "average_latency_ms" not in column_types(postgres_db, "connector_usage")
    sim.config.growth_from = latest - dt.timedelta(days=1)
    load(sim, command="backfill", history_days=8, endpoints="users,connectors")
    assert column_types(postgres_db, "user_activity")["chat_voice_message_count"] == "bigint"
    assert column_types(postgres_db, "connector_usage")["average_latency_ms"] == "bigint"
    assert column_types(postgres_db, "user_activity")["office_word_message_count"] == "bigint"


def test_datasets_in_one_database_are_independent(start_simulator, postgres_db, clock):
    """Two datasets (schemas) in one database, loaded on different days: neither's cursors leak into the other."""
    today = clock.today
    start = (today - dt.timedelta(days=18)).isoformat()
    clock.today = today - dt.timedelta(days=6)
    sim = start_simulator(users=10, seed=11, today=clock.today, history_days=12)
    a = load(sim, dataset="analytics_a", start_date=start)
    clock.today = sim.config.today = today
    sim.config.history_days = 18
    b = load(sim, dataset="analytics_b", start_date=start)
    assert min(b.cursors.values()) > max(a.cursors.values())
    # back to the first dataset, 6 days later: it resumes from its own cursors and misses no day
    again = load(sim, dataset="analytics_a", start_date=start)
    assert_all_tables_equal(postgres_db, sim, again, dataset="analytics_a", first=a.earliest_day)
    assert_all_tables_equal(postgres_db, sim, b, dataset="analytics_b")
    assert again.cursors == b.cursors


def test_csv_path_when_adbc_is_unavailable(start_simulator, postgres_db, monkeypatch):
    """Without the ADBC driver (here: dlt's detection disabled) the load falls back to COPY csv, equally exact."""
    monkeypatch.setenv("DISABLE_ADBC_DETECTION", "true")
    assert destinations.get("postgres").file_format == "csv"
    sim = start_simulator(users=15, seed=13)
    summary = load(sim, history_days=6)
    assert loaded_formats() == {"csv"}
    assert_all_tables_equal(postgres_db, sim, summary)
