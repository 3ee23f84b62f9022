"""A throwaway PostgreSQL cluster for the whole test session, and a fresh database per test.

The cluster starts once (initdb + pg_ctl, ~2 s) and is stopped with `pg_ctl -m fast` at the end. Without
the server binaries the Postgres tests skip with the reason; where they exist, the tests run.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass

import pytest

from .cluster import ClusterUnavailable, PostgresCluster


@pytest.fixture(scope="session")
def postgres_cluster():
    try:
        cluster = PostgresCluster()
    except ClusterUnavailable as exc:
        pytest.skip(f"no throwaway PostgreSQL: {exc}")
    cluster.start()  # binaries present but the server won't start: an error, not a skip
    try:
        yield cluster
    finally:
        cluster.stop()


@dataclass
class PostgresDatabase:
    cluster: PostgresCluster
    name: str
    dsn: str

    def connect(self):
        return self.cluster.connect(self.name)


@pytest.fixture
def postgres_db(request, postgres_cluster, isolated, monkeypatch) -> PostgresDatabase:
    """An empty database of this test's own, set as dlt's Postgres credentials."""
    slug = re.sub(r"[^a-z0-9_]+", "_", request.node.name.lower()).strip("_")[:40]
    name = f"t_{slug}_{hashlib.sha1(request.node.nodeid.encode()).hexdigest()[:6]}"
    dsn = postgres_cluster.create_database(name)
    monkeypatch.setenv("DESTINATION__POSTGRES__CREDENTIALS", dsn)
    return PostgresDatabase(postgres_cluster, name, dsn)
