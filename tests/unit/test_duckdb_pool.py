"""pipelines.destinations.duckdb_pool_mb: DuckDB's buffer pool sized from a chunk's cells."""

from __future__ import annotations

import datetime as dt

import pyarrow as pa

from pipelines.destinations import DUCKDB_BYTES_PER_CELL, DUCKDB_POOL_FLOOR_MB, duckdb_pool_mb
from pipelines.runner import CommitPolicy
from sources.claude_analytics import Batch
from sources.claude_analytics.days import Unit
from sources.claude_analytics.endpoints import BY_TABLE

DAY = Unit(dt.date(2026, 3, 1), dt.date(2026, 3, 1))


def batch(table: str, rows: int, columns: int) -> Batch:
    data = pa.table({f"c{i}": pa.array(range(rows), pa.int64()) for i in range(columns)})
    return Batch(BY_TABLE[table], DAY, table=data, covered=DAY)


def test_a_small_chunk_gets_the_floor():
    assert duckdb_pool_mb([]) == DUCKDB_POOL_FLOOR_MB == 48
    assert duckdb_pool_mb([batch("user_activity", 6_600, 70), batch("activity_summary", 1, 12)]) == 48
    # a full chunk (CommitPolicy.max_rows) of the widest table still fits the floor
    assert duckdb_pool_mb([batch("user_activity", CommitPolicy().max_rows, 70)]) == 48


def test_the_chunks_cells_size_the_pool_every_table_counted():
    # a day of a 50,000-user organization: 33,296 rows × 70 columns needed more than 72 MB in DuckDB
    day = batch("user_activity", 33_296, 70)
    assert 33_296 * 70 * DUCKDB_BYTES_PER_CELL / 2**20 > 80
    assert duckdb_pool_mb([day]) == 81
    assert duckdb_pool_mb([day, batch("user_cost_report", 30_000, 12)]) == 93  # loaded side by side
    assert duckdb_pool_mb([batch("user_activity", 20_000, 70), batch("user_activity", 20_000, 70)]) == 97
    assert duckdb_pool_mb([Batch(BY_TABLE["user_activity"], DAY, outcome="failed")]) == 48  # no table
