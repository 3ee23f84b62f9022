"""The four supported destinations: how each is built, its loader file format, its table layout hints.

Credentials are plain dlt configuration (`DESTINATION__<NAME>__CREDENTIALS`, .dlt/secrets.toml).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Callable

import dlt
from dlt.sources import DltResource

from sources.claude_analytics.endpoints import BY_NAME, Endpoint

DEFAULT_DUCKDB_FILE = "warehouse.duckdb"  # not <dataset>.duckdb: DuckDB names the catalog after the file


def _bigquery_layout(resource: DltResource, endpoint: Endpoint) -> DltResource:
    from dlt.destinations.adapters import bigquery_adapter

    # Partitioned by day and clustered by entity, a day's delete-insert scans one partition, not the table.
    return bigquery_adapter(resource, partition="date", cluster=list(endpoint.entity_key) or None)


def _snowflake_layout(resource: DltResource, endpoint: Endpoint) -> DltResource:
    resource.apply_hints(columns={c: {"cluster": True} for c in endpoint.primary_key})
    return resource


def _no_layout(resource: DltResource, endpoint: Endpoint) -> DltResource:
    return resource


@dataclass(frozen=True)
class Destination:
    name: str
    file_format: str  # measured fastest correct path for Arrow batches (docs/benchmarks.md)
    layout: Callable[[DltResource, Endpoint], DltResource]

    def factory(self, duckdb_file: str | None = None) -> Any:
        if self.name == "duckdb":
            if duckdb_file:
                return dlt.destinations.duckdb(credentials=duckdb_file)
            configured = dlt.config.get("destination.duckdb.credentials") or dlt.secrets.get(
                "destination.duckdb.credentials")
            return dlt.destinations.duckdb(credentials=None if configured else DEFAULT_DUCKDB_FILE)
        return self.name

    def apply_layout(self, source: Any) -> Any:
        for resource in source.resources.values():
            endpoint = next((e for e in BY_NAME.values() if e.table == resource.name), None)
            if endpoint is not None:
                self.layout(resource, endpoint)
        return source


DESTINATIONS: dict[str, Destination] = {
    "duckdb": Destination("duckdb", "parquet", _no_layout),
    "postgres": Destination("postgres", "csv", _no_layout),
    "bigquery": Destination("bigquery", "parquet", _bigquery_layout),
    "snowflake": Destination("snowflake", "parquet", _snowflake_layout),
}


def get(name: str) -> Destination:
    try:
        return DESTINATIONS[name]
    except KeyError:
        raise ValueError(f"unknown destination {name!r}: choose from {', '.join(DESTINATIONS)}") from None
