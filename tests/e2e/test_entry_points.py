"""One suite, three entry points: the CLI, `dlt.pipeline(...).run(claude_analytics())` and Dagster assets.

Every rule lives in the source, so each entry point, run against the simulator over sockets into DuckDB,
must leave exactly the simulator's data in all eleven tables: after a full backfill, a rerun, revisions and
a day that became empty, a newest day learnt from the API, a value whose type drifted, and a run that
failed midway and was run again. The last test runs all three side by side and compares their tables.
"""

from __future__ import annotations

import datetime as dt
import threading
import time
from pathlib import Path

import duckdb
import pytest

from claude_analytics_simulator import FaultConfig
from sources.claude_analytics.days import ONE_DAY, day_range, utc_today
from sources.claude_analytics.endpoints import BY_NAME, ENDPOINTS
from sources.claude_analytics.queries import GROUP_CAP
from tests.e2e.entries import DATASET, ENTRIES, WAREHOUSE
from tests.helpers import assert_table_equals, configure, expected_table, table_rows

HISTORY = 12  # days the simulator serves; the cost reports start there too (start_date)


@pytest.fixture(params=list(ENTRIES))
def entry(request):
    return ENTRIES[request.param]


@pytest.fixture
def org(start_simulator, monkeypatch):
    """A simulated organization with a pinned today, and the settings every entry point reads."""
    today = utc_today()

    def make(**config):
        config.setdefault("users", 30)
        config.setdefault("seed", 5)
        sim = start_simulator(today=today, history_days=HISTORY, **config)
        configure(monkeypatch, sim, days=HISTORY, lookback_days=3, cost_lookback_days=5)
        return sim

    return make


def served_days(sim, endpoint) -> list[dt.date]:
    first = sim.today() - dt.timedelta(days=HISTORY)
    last = sim.latest_available_day() if endpoint.family == "engagement" else sim.today() - ONE_DAY
    return list(day_range(first, last))


def assert_tables_equal_the_simulator(sim, warehouse: str = WAREHOUSE) -> None:
    with duckdb.connect(warehouse, read_only=True) as con:
        for endpoint in ENDPOINTS:
            assert_table_equals(
                table_rows(con, DATASET, endpoint),
                expected_table(sim, endpoint, served_days(sim, endpoint)),
                endpoint.table,
            )


def capped_days(sim, endpoint, days) -> int:
    return sum(len(sim.expected_report(endpoint.path, d, endpoint.group_by)) >= GROUP_CAP for d in days)


def planned_requests(sim, days: int, cost_days: int, calendar: int = 2) -> dict[str, int]:
    """Requests per path of a load of the newest `days` (engagement) and `cost_days` (reports): the minimum."""
    windows = -(-days // 31)
    counts = {
        path: days for path in ("/users", "/apps/chat/projects", "/skills", "/connectors", "/plugins", "/artifacts")
    }
    counts["/summaries"] = windows + calendar
    newest = [sim.today() - dt.timedelta(days=n) for n in range(1, cost_days + 1)]
    for name in ("usage_report", "cost_report"):
        endpoint = BY_NAME[name]
        counts[endpoint.path] = -(-cost_days // 31) + capped_days(sim, endpoint, newest)
    counts["/user_usage_report"] = counts["/user_cost_report"] = cost_days
    return counts


def requests_by_path(sim) -> dict[str, int]:
    return {path: sum(codes.values()) for path, codes in sim.stats()["by_path"].items()}


def test_full_backfill_then_a_rerun_refetches_only_the_lookback_windows(entry, org):
    sim = org()
    assert entry.run()
    assert_tables_equal_the_simulator(sim)
    assert requests_by_path(sim) == planned_requests(sim, HISTORY, HISTORY)
    before = snapshot()
    sim.reset_stats()
    assert entry.run()
    assert requests_by_path(sim) == planned_requests(sim, 3, 5)
    assert snapshot() == before


def test_revisions_and_a_day_that_became_empty_are_replaced_whole(entry, org):
    sim = org(revision_days=2, cost_revision_days=3)
    assert entry.run()
    stale = snapshot()
    latest = sim.latest_available_day()
    sim.config.revision = sim.config.cost_revision = 1
    sim.config.quirks = {latest - dt.timedelta(days=2): "empty"}  # within the lookback window
    assert entry.run()
    assert_tables_equal_the_simulator(sim)
    fresh = snapshot()
    assert fresh["user_activity"] != stale["user_activity"] and fresh["cost_report"] != stale["cost_report"]
    with duckdb.connect(WAREHOUSE, read_only=True) as con:
        emptied = con.execute(
            f"select count(*) from {DATASET}.user_activity where date = ?", [latest - dt.timedelta(days=2)]
        ).fetchall()[0][0]
    assert emptied == 0


def test_the_newest_day_is_learnt_from_the_api_and_the_last_window_ends_there(entry, org):
    sim = org(availability_lag_days=3)  # older docs' lag: the API rejects the days after today - 3
    assert entry.run()
    assert_tables_equal_the_simulator(sim)
    with duckdb.connect(WAREHOUSE, read_only=True) as con:
        newest = con.execute(f"select max(date) from {DATASET}.activity_summary").fetchall()[0][0]
    assert newest == sim.today() - dt.timedelta(days=3)
    assert sim.stats()["by_path"]["/summaries"].get(400) == 2  # the newest-day probe and the history probe


def test_a_value_whose_type_drifted_keeps_its_column_typed(entry, org):
    sim = org()
    assert entry.run()
    latest = sim.latest_available_day()
    sim.config.quirks = {latest: "type_drift"}
    assert entry.run()
    drifted = sim.expected("/users", latest)[0]
    with duckdb.connect(WAREHOUSE, read_only=True) as con:
        row = con.execute(
            f"select web_search_count, web_search_count__v_text from {DATASET}.user_activity "
            "where date = ? and user_id = ?",
            [latest, drifted["user"]["id"]],
        ).fetchone()
        types = dict(
            con.execute(
                "select column_name, data_type from information_schema.columns where table_name = 'user_activity'"
            ).fetchall()
        )
    assert row == (None, drifted["web_search_count"])
    assert types["web_search_count"] == "BIGINT" and types["web_search_count__v_text"] == "VARCHAR"


def test_a_run_that_fails_midway_is_completed_by_the_next_without_duplicates(entry, org, fast_retries):
    sim = org()

    def break_after(n: int) -> None:  # the API starts failing for good after n requests
        while sim.stats()["total"] < n:
            time.sleep(0.002)
        sim.config.faults = FaultConfig(server_error_rate=1.0)

    threading.Thread(target=break_after, args=(60,), daemon=True).start()
    assert not entry.run()
    sim.config.faults = FaultConfig()
    assert entry.run()
    assert_tables_equal_the_simulator(sim)  # table_rows fails on a duplicate key


def test_all_three_entry_points_leave_identical_tables(org, monkeypatch, tmp_path):
    org(revision_days=2)
    tables = {}
    for name, entry in ENTRIES.items():
        home = tmp_path / name
        home.mkdir()
        monkeypatch.chdir(home)
        monkeypatch.setenv("DLT_DATA_DIR", str(home / "dlt"))
        assert entry.run()
        tables[name] = snapshot(home / WAREHOUSE)
    assert tables["cli"] == tables["dlt"] == tables["dagster"]
    assert all(rows for rows in tables["cli"].values())


def snapshot(warehouse: str | Path = WAREHOUSE) -> dict[str, list[tuple]]:
    """Every table's rows and column types, without dlt's per-load columns, in a stable order."""
    out = {}
    with duckdb.connect(str(warehouse), read_only=True) as con:
        for endpoint in ENDPOINTS:
            columns = [
                tuple(c)
                for c in con.execute(
                    "select column_name, data_type from information_schema.columns where table_schema = ? and "
                    "table_name = ? order by column_name",
                    [DATASET, endpoint.table],
                ).fetchall()
                if not c[0].startswith("_dlt")
            ]
            listed = ", ".join(f'"{c}"' for c, _ in columns)
            out[endpoint.table] = [tuple(columns)] + con.execute(
                f"select {listed} from {DATASET}.{endpoint.table} order by all"
            ).fetchall()
    return out
