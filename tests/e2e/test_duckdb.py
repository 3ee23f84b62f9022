"""The runner against the simulator into DuckDB: what the three-entry-point suite does not cover."""

from __future__ import annotations

import datetime as dt
import os
import subprocess
import sys

import duckdb
import pytest

from pipelines.destinations import Target
from sources.claude_analytics.endpoints import ENDPOINTS
from tests.helpers import WAREHOUSE, assert_table_equals, expected_table, family_days, load, table_rows

DATASET = "claude_analytics"


def assert_all_tables_equal(sim, summary) -> None:
    with duckdb.connect(WAREHOUSE, read_only=True) as con:
        for endpoint in ENDPOINTS:
            expected = expected_table(sim, endpoint, family_days(summary, endpoint))
            assert_table_equals(table_rows(con, DATASET, endpoint), expected, endpoint.table)


def column_types(table: str) -> dict[str, str]:
    with duckdb.connect(WAREHOUSE, read_only=True) as con:
        return dict(
            con.execute(
                "select column_name, data_type from information_schema.columns "
                "where table_schema = ? and table_name = ?",
                [DATASET, table],
            ).fetchall()
        )


def recent(sim, days: int) -> str:
    return (sim.today() - dt.timedelta(days=days)).isoformat()


@pytest.mark.parametrize("envelope,period_keys", [("summaries", "starting_date"), ("both", "starting_at")])
def test_both_summaries_envelopes_load(start_simulator, envelope, period_keys):
    sim = start_simulator(users=20, summaries_envelope=envelope, summaries_period_keys=period_keys)
    summary = load(sim, history_days=35, endpoints="summaries")
    with duckdb.connect(WAREHOUSE, read_only=True) as con:
        summaries = next(e for e in ENDPOINTS if e.name == "summaries")
        assert_table_equals(
            table_rows(con, DATASET, summaries),
            expected_table(sim, summaries, family_days(summary, summaries)),
            summaries.table,
        )
    assert len(family_days(summary, summaries)) == 35  # two windows: 31 days, then 4


def test_types_are_the_documented_ones(start_simulator):
    sim = start_simulator(users=20, seed=9)
    summary = load(sim, start_date=recent(sim, 4))
    assert_all_tables_equal(sim, summary)
    types = column_types("user_activity")
    assert types["date"] == "DATE" and types["chat_message_count"] == "BIGINT"
    assert types["cowork_artifacts_created_count"] == "BIGINT"  # gated: NULL, still typed
    assert all(len(name) <= 63 for name in types)
    assert column_types("skill_usage")["estimated_overage_spend"] == "DECIMAL(38,9)"
    assert column_types("activity_summary")["daily_adoption_rate"] == "DOUBLE"
    cost = column_types("user_cost_report")
    assert cost["amount"] == cost["list_amount"] == "DECIMAL(38,9)" and cost["user_deleted"] == "BOOLEAN"
    assert column_types("usage_report")["cache_creation_ephemeral_5m_input_tokens"] == "BIGINT"
    assert column_types("usage_report")["data_refreshed_at"] == "TIMESTAMP WITH TIME ZONE"
    assert column_types("artifact_activity")["is_shared"] == "BOOLEAN"


def test_schema_growth_adds_columns(start_simulator):
    sim = start_simulator(users=20, seed=9)
    latest = sim.latest_available_day()
    load(sim, history_days=8, endpoints="users,connectors,plugins")
    assert "chat_voice_message_count" not in column_types("user_activity")
    assert "average_latency_ms" not in column_types("connector_usage")
    sim.config.growth_from = latest - dt.timedelta(days=1)
    summary = load(sim, command="backfill", history_days=8, endpoints="users,connectors,plugins")
    assert column_types("user_activity")["chat_voice_message_count"] == "BIGINT"
    assert column_types("connector_usage")["average_latency_ms"] == "BIGINT"
    assert column_types("user_activity")["office_word_message_count"] == "BIGINT"
    assert column_types("plugin_usage")["uninstall_count"] == "BIGINT"
    with duckdb.connect(WAREHOUSE, read_only=True) as con:
        for endpoint in (e for e in ENDPOINTS if e.name in ("users", "connectors", "plugins")):
            assert_table_equals(
                table_rows(con, DATASET, endpoint),
                expected_table(sim, endpoint, family_days(summary, endpoint)),
                endpoint.table,
            )


def test_a_deleted_warehouse_is_reloaded_in_full_despite_local_state(start_simulator):
    sim = start_simulator(users=10, seed=12)
    load(sim, history_days=5, start_date=recent(sim, 5))
    os.remove(WAREHOUSE)
    summary = load(sim, history_days=5, start_date=recent(sim, 5))
    assert_all_tables_equal(sim, summary)


def memory_limits_during_loads(monkeypatch) -> list[str]:
    """DuckDB's memory_limit as every INSERT and DELETE of a load sees it (the merge's statements)."""
    from dlt.destinations.impl.duckdb.sql_client import DuckDbSqlClient

    seen: list[str] = []
    original = DuckDbSqlClient.execute_sql

    def spying(self, sql, *args, **kwargs):
        if isinstance(sql, str) and sql.lstrip().upper().startswith(("INSERT", "DELETE")):
            setting = original(self, "select current_setting('memory_limit')")
            assert setting
            seen.append(setting[0][0])
        return original(self, sql, *args, **kwargs)

    monkeypatch.setattr(DuckDbSqlClient, "execute_sql", spying)
    return seen


def test_loads_run_with_a_bounded_buffer_pool_and_the_users_settings_win(start_simulator, monkeypatch):
    sim = start_simulator(users=5)
    seen: list[tuple] = []

    def settings(pipeline) -> None:
        with pipeline.sql_client() as client:
            seen.append(
                tuple(
                    client.execute_sql(
                        "select current_setting('memory_limit'), current_setting('allocator_background_threads')"
                    )[0]
                )
            )

    during = memory_limits_during_loads(monkeypatch)
    load(sim, start_date=recent(sim, 2), endpoints="summaries")
    settings(Target(duckdb_file=WAREHOUSE).pipeline())
    monkeypatch.setenv("DESTINATION__DUCKDB__CREDENTIALS__GLOBAL_CONFIG", '{"memory_limit": "256MB"}')
    settings(Target(duckdb_file=WAREHOUSE).pipeline())
    assert seen == [("48.0 MiB", True), ("244.1 MiB", True)]  # 48 MiB and 256 MB; the rest of the defaults kept
    assert during and set(during) == {"48.0 MiB"}  # a small chunk: the floor


def test_a_chunk_that_needs_a_larger_pool_gets_it_unless_the_user_set_one(start_simulator, monkeypatch):
    from pipelines import destinations

    sim = start_simulator(users=5)
    monkeypatch.setattr(destinations, "DUCKDB_BYTES_PER_CELL", 2**20)  # a MB a cell: every chunk needs more
    sized: list[int] = []
    original = destinations.duckdb_pool_mb

    def recording(batches) -> int:
        sized.append(original(batches))
        return sized[-1]

    monkeypatch.setattr(destinations, "duckdb_pool_mb", recording)
    during = memory_limits_during_loads(monkeypatch)
    load(sim, start_date=recent(sim, 2), endpoints="users")
    assert sized and min(sized) > destinations.DUCKDB_POOL_FLOOR_MB
    assert set(during) == {f"{mb}.0 MiB" for mb in sized}
    del during[:]
    monkeypatch.setenv("DESTINATION__DUCKDB__CREDENTIALS__GLOBAL_CONFIG", '{"memory_limit": "96MB"}')
    load(sim, start_date=recent(sim, 2), endpoints="users")
    assert during and set(during) == {"91.5 MiB"}  # the user's, untouched


@pytest.mark.parametrize("database", [None, "other.duckdb"])
def test_credentials_as_a_table_keep_their_file_and_the_other_defaults(tmp_path, database):
    # dlt reads .dlt/config.toml once per process: a fresh one
    (tmp_path / ".dlt").mkdir()
    named = f'[destination.duckdb.credentials]\ndatabase = "{database}"\n' if database else ""
    (tmp_path / ".dlt" / "config.toml").write_text(
        named + "[destination.duckdb.credentials.global_config]\nthreads = 1\n"
    )
    code = (
        "from pipelines.destinations import Target\n"
        "target = Target()\n"
        "print(target.kind.duckdb_path(None))\n"
        "with target.pipeline().sql_client() as client:\n"
        "    print(client.execute_sql(\"select current_setting('memory_limit'), current_setting('threads')\")[0])\n"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120, check=True)
    file = database or "warehouse.duckdb"
    assert done.stdout.splitlines() == [file, "('48.0 MiB', 1)"]
    assert (tmp_path / file).exists()
