"""On PostgreSQL too, a reader during a revision reload sees each day's old rows or its new ones, never a mix."""

from __future__ import annotations

import pytest

from pipelines.destinations import Target
from tests.e2e.test_concurrent_readers import QUERY, assert_old_or_new, counts, read_while
from tests.helpers import load

pytestmark = pytest.mark.postgres


def test_postgres_readers_see_whole_days_during_a_revision_reload(start_simulator, postgres_db):
    sim = start_simulator(users=60, seed=42, revision_days=3)
    target = Target("postgres")
    load(sim, history_days=10, endpoints="users", target=target)
    con = postgres_db.connect()
    con.autocommit = True  # every SELECT its own snapshot, as a BI tool's
    try:

        def read():
            with con.cursor() as cur:
                cur.execute(QUERY)
                return cur.fetchall()

        before = counts(read())
        sim.config.revision = 1

        def reload() -> None:
            for _ in range(3):
                load(sim, "backfill", history_days=10, endpoints="users", page_size=10, target=target)

        seen = read_while(reload, read)
        after = counts(read())
    finally:
        con.close()
    assert_old_or_new(seen, before, after)
