"""A BI reader running while a load replaces days sees, for every day, the old rows or the new ones: never a
mix and never an emptied day (each table's delete and insert are one transaction)."""

from __future__ import annotations

import threading

import duckdb

from tests.helpers import WAREHOUSE, load

DATASET = "claude_analytics"
QUERY = f"SELECT date, count(*) FROM {DATASET}.user_activity GROUP BY date"


def counts(rows) -> dict:
    return {day: n for day, n in rows}


def read_while(load_once, read) -> list[dict]:
    """`read()` in a loop on another thread for as long as `load_once()` runs; every snapshot it saw."""
    seen: list[dict] = []
    done = threading.Event()

    def reader() -> None:
        while not done.is_set():
            seen.append(counts(read()))

    thread = threading.Thread(target=reader, daemon=True)
    thread.start()
    try:
        load_once()
    finally:
        done.set()
        thread.join(30)
    return seen


def assert_old_or_new(seen: list[dict], before: dict, after: dict) -> None:
    assert len(seen) > 3, "the reader must have read during the load"
    for snapshot in seen:
        for day in before | after:
            assert snapshot.get(day) in (before.get(day), after.get(day)), (day, snapshot.get(day))
    assert before != after


def test_duckdb_readers_see_whole_days_during_a_revision_reload(start_simulator):
    sim = start_simulator(users=60, seed=41, revision_days=3)
    load(sim, history_days=10, endpoints="users")
    with duckdb.connect(WAREHOUSE) as con:  # the same process: DuckDB shares the database between connections
        before = counts(con.execute(QUERY).fetchall())
        sim.config.revision = 1  # the newest 3 days lose their first user

        def reload() -> None:
            for _ in range(3):
                load(sim, "backfill", history_days=10, endpoints="users", page_size=10)

        seen = read_while(reload, lambda: con.cursor().execute(QUERY).fetchall())
        after = counts(con.execute(QUERY).fetchall())
    assert_old_or_new(seen, before, after)
