"""Read-only access to the loaded dataset on any destination, for `status` and `report`.

Uses dlt's SQL client of a pipeline of its own (`claude_analytics_<destination>_reader`), so reading never
touches the loading pipeline's local state. Column names come back lower case on every destination.
"""

from __future__ import annotations

import contextlib
from typing import Any, Iterator

from .runner import DEFAULT_DATASET, UsageError, first_line, make_pipeline, pipeline_name


class Warehouse:
    def __init__(self, sql: Any, destination: str, dataset_name: str) -> None:
        self.sql = sql
        self.destination = destination
        self.dataset_name = dataset_name

    def table(self, name: str) -> str:
        """The qualified, quoted name of a table or view of the dataset."""
        return self.sql.make_qualified_table_name(name)

    def column(self, name: str) -> str:
        return self.sql.escape_column_name(name)

    def query(self, statement: str) -> list[dict[str, Any]]:
        with self.sql.execute_query(statement) as cursor:
            names = [d[0].lower() for d in cursor.description]
            return [dict(zip(names, row)) for row in cursor.fetchall()]

    def exists(self, name: str) -> bool:
        try:
            self.query(f"SELECT 1 AS x FROM {self.table(name)} WHERE 1 = 0")
            return True
        except Exception:
            return False

    def columns(self, name: str) -> list[str]:
        """A table's or view's column names (empty when it does not exist)."""
        try:
            with self.sql.execute_query(f"SELECT * FROM {self.table(name)} WHERE 1 = 0") as cursor:
                return [d[0].lower() for d in cursor.description]
        except Exception:
            return []


@contextlib.contextmanager
def open_warehouse(destination: str = "duckdb", dataset_name: str = DEFAULT_DATASET,
                   duckdb_file: str | None = None) -> Iterator[Warehouse]:
    """A connection to the dataset; UsageError (exit 2) when the destination cannot be reached."""
    try:
        pipeline = make_pipeline(destination, dataset_name, f"{pipeline_name(destination, dataset_name)}_reader", duckdb_file)
        client = pipeline.sql_client()
        client.open_connection()
    except ValueError as exc:
        raise UsageError(str(exc)) from None
    except Exception as exc:
        raise UsageError(f"cannot read destination {destination}: {first_line(exc)} — check its credentials "
                         "(.dlt/secrets.toml or DESTINATION__* variables), that it is up, and that no load "
                         "holds the DuckDB file") from None
    try:
        yield Warehouse(client, destination, dataset_name)
    finally:
        client.close_connection()
