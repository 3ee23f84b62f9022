"""Read-only access to the loaded dataset on any destination, for `status` and `report`.

Uses dlt's SQL client of a pipeline of its own (`claude_analytics_<destination>_reader`), so reading never
touches the loading pipeline's local state. Column names come back lower case on every destination.
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Iterator
from typing import Any

from .destinations import Target
from .errors import UsageError, first_line


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
def open_warehouse(target: Target) -> Iterator[Warehouse]:
    """A connection to the dataset; UsageError (exit 2) when the destination cannot be reached."""
    try:
        client = target.pipeline("_reader").sql_client()
        client.open_connection()
    except ValueError as exc:
        raise UsageError(str(exc)) from None
    except Exception as exc:
        raise UsageError(
            f"cannot read destination {target.destination}: {first_line(exc)} — check its credentials "
            "(.dlt/secrets.toml or DESTINATION__* variables), that it is up, and that no load "
            "holds the DuckDB file"
        ) from None
    try:
        yield Warehouse(client, target.destination, target.dataset_name)
    finally:
        client.close_connection()


def _hint(target: Target) -> str:
    other = (
        "" if target.duckdb_file == "demo.duckdb" else "; after `claude-analytics demo`, add --duckdb-file demo.duckdb"
    )
    return f"load it first with `claude-analytics run`{other}"


@contextlib.contextmanager
def read_only(target: Target) -> Iterator[Warehouse]:
    """The dataset for a read command (`status`, `report`): never creates a warehouse or an empty dataset.

    UsageError (exit 2) with a one-line hint when there is nothing to read: no DuckDB file, or a dataset
    without the run log and without any table of the source.
    """
    from sources.claude_analytics.endpoints import ENDPOINTS

    from .runlog import RUN_LOG_TABLE

    path = target.kind.duckdb_path(target.duckdb_file)
    if path is not None and not os.path.exists(path):
        raise UsageError(f"there is no warehouse at {path}: {_hint(target)}")
    with open_warehouse(target) as warehouse:
        if not any(warehouse.exists(t) for t in (RUN_LOG_TABLE, *(e.table for e in ENDPOINTS))):
            raise UsageError(
                f"dataset {target.dataset_name} on {target.destination}"
                f"{f' ({path})' if path else ''} holds nothing loaded by claude-analytics: "
                f"{_hint(target)}"
            )
        yield warehouse


def reset_dataset(target: Target) -> list[str]:
    """Drop the dataset (tables, views, the run log, the stored state) and its staging dataset, and the local
    state of the pipeline loading it: the next run loads the API's history again. Returns what was dropped.

    Run under the pipeline's lock, so it never cuts a load in half.
    """
    from .lock import RunLock

    dropped = []
    with RunLock(target.name, wait=False):
        pipeline = target.pipeline()
        try:
            with pipeline.sql_client() as sql:
                for scope in (contextlib.nullcontext(), sql.with_staging_dataset()):
                    with scope:
                        if sql.has_dataset():
                            sql.drop_dataset()
                            dropped.append(sql.dataset_name)
        except Exception as exc:
            raise UsageError(
                f"cannot reset dataset {target.dataset_name} on {target.destination}: {first_line(exc)}"
            ) from None
        pipeline.drop()
    return dropped
