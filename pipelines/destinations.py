"""The four supported destinations: how each is built, its loader file format, its table layout hints.

Credentials are plain dlt configuration (`DESTINATION__<NAME>__CREDENTIALS`, .dlt/secrets.toml); see
docs/destinations.md for each destination's settings, permissions, costs and the load-format figures.

Layout (applied to every resource the runner builds, see `Destination.apply_layout`):
- BigQuery: tables partitioned by `date` (daily) and clustered by the entity key, so date-filtered queries
  read only their days and the merge's deletes (by day and key) read fewer blocks;
- Snowflake: clustering key (`date`, entity key);
- DuckDB, Postgres: none.
"""

from __future__ import annotations

import logging
import math
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import Any

import dlt
from dlt.destinations.impl.duckdb.configuration import DuckDbCredentials
from dlt.sources import DltResource

from sources.claude_analytics import SOURCE_NAME, Batch
from sources.claude_analytics.endpoints import BY_TABLE, Endpoint

log = logging.getLogger("claude_analytics.destinations")

DEFAULT_DUCKDB_FILE = "warehouse.duckdb"  # not <dataset>.duckdb: DuckDB names the catalog after the file
DEFAULT_DATASET = "claude_analytics"


def _bigquery_layout(resource: DltResource, endpoint: Endpoint) -> DltResource:
    from dlt.destinations.adapters import bigquery_adapter

    # Partitioned by day and clustered by entity: date-filtered reads and the merge's deletes touch fewer blocks.
    if not endpoint.entity_key:  # the org-wide summary: one row a day, nothing to cluster by
        return bigquery_adapter(resource, partition="date")
    return bigquery_adapter(resource, partition="date", cluster=list(endpoint.entity_key))


def _snowflake_layout(resource: DltResource, endpoint: Endpoint) -> DltResource:
    # dlt emits CLUSTER BY (<cluster columns in table order>): `date` is declared first, then the entity key
    resource.apply_hints(columns={c: {"cluster": True} for c in endpoint.primary_key})
    return resource


def _postgres_adbc() -> bool:
    """Whether dlt can load parquet into Postgres here (the ADBC driver, as dlt itself detects it)."""
    try:
        from dlt.destinations._adbc_jobs import has_adbc_driver
        from dlt.destinations.impl.postgres.factory import get_adbc_driver_location

        return has_adbc_driver(get_adbc_driver_location())[0]
    except Exception:  # an older or newer dlt without this detection: use the portable path
        return False


def _no_layout(resource: DltResource, endpoint: Endpoint) -> DltResource:
    return resource


_warned_fallback: set[str] = set()

# DuckDB's own defaults let its buffer pool grow to 80 % of RAM and keep what it freed: a backfill's merges
# then hold memory that grows with the warehouse (10,000 users × 90 days peaked at 634 MB RSS on the defaults).
# But an insert needs its rows in the pool: a day of a 50,000-user organization's user_activity (33,296 rows ×
# 70 columns) ran out of memory below 80 MB. So the pool is small (a chunk of 15,000 rows fits in 48 MiB) and
# raised for a chunk that needs more (`size_duckdb_pool`). Settings the user configures under the same key win,
# one by one (a memory_limit of theirs is never changed).
DUCKDB_POOL_FLOOR_MB = 48
DUCKDB_GLOBAL_CONFIG: dict[str, Any] = {
    "memory_limit": f"{DUCKDB_POOL_FLOOR_MB}MiB",  # larger operations spill to DuckDB's temporary directory
    "preserve_insertion_order": False,  # DuckDB's advice for large inserts in little memory; no table here
    # promises a row order
    "allocator_flush_threshold": "4MB",
    "allocator_background_threads": True,
}
# measured with 70 columns: 30,000 rows inserted in 64 MB, 33,296 needed 72–80 MB; 36 bytes a cell covers both
DUCKDB_BYTES_PER_CELL = 36


def duckdb_pool_mb(batches: Iterable[Batch]) -> int:
    """The buffer pool (MiB) a chunk's load needs: its cells (rows × columns, every table: dlt loads them side by
    side) at DUCKDB_BYTES_PER_CELL, at least DUCKDB_POOL_FLOOR_MB."""
    cells = sum(b.table.num_rows * b.table.num_columns for b in batches if b.table is not None)
    return max(DUCKDB_POOL_FLOOR_MB, math.ceil(cells * DUCKDB_BYTES_PER_CELL / 2**20))


def size_duckdb_pool(pipeline: dlt.Pipeline, batches: list[Batch]) -> None:
    """Before a chunk's load: DuckDB's memory_limit as the chunk needs (`duckdb_pool_mb`), unless the user set
    one. dlt opens the warehouse anew for each load, with these credentials' settings."""
    configured = dlt.config.get("destination.duckdb.credentials.global_config", dict) or {}
    credentials = pipeline.destination.config_params.get("credentials") if pipeline.destination else None
    if "memory_limit" in configured or not isinstance(credentials, DuckDbCredentials):
        return
    if credentials.global_config is None:
        credentials.global_config = {}
    credentials.global_config["memory_limit"] = f"{duckdb_pool_mb(batches)}MiB"  # in place: dlt may share the dict


def _configured_duckdb() -> str | None:
    """The DuckDB database configured (a path or a connection string), whether as the credentials themselves or
    as their `database` field (a table, e.g. one that only sets `global_config`, names none)."""
    configured: Any = dlt.config.get("destination.duckdb.credentials") or dlt.secrets.get(
        "destination.duckdb.credentials"
    )
    if isinstance(configured, Mapping):
        configured = configured.get("database")
    return configured if isinstance(configured, str) and configured else None


def duckdb_credentials(database: str) -> DuckDbCredentials:
    """The DuckDB file's credentials with DUCKDB_GLOBAL_CONFIG under what `global_config` configures."""
    configured = dlt.config.get("destination.duckdb.credentials.global_config", dict)
    return DuckDbCredentials(database, global_config={**DUCKDB_GLOBAL_CONFIG, **(configured or {})})


@dataclass(frozen=True)
class Destination:
    name: str
    # loader file formats, fastest first, as measured for Arrow batches (docs/destinations.md); a format
    # that needs a driver this machine lacks is skipped (`available`)
    file_formats: tuple[str, ...]
    layout: Callable[[DltResource, Endpoint], DltResource]
    available: Callable[[str], bool] = lambda file_format: True
    # before each chunk's load (the runner's Committer): what the destination needs to know of the chunk
    before_commit: Callable[[dlt.Pipeline, list[Batch]], None] = lambda pipeline, batches: None

    @property
    def file_format(self) -> str:
        """The loader file format for this run: the fastest one this machine can use."""
        for index, candidate in enumerate(self.file_formats):
            if self.available(candidate):
                if index and self.name not in _warned_fallback:
                    _warned_fallback.add(self.name)
                    log.warning(
                        "%s: loading with %s, not the faster %s: its driver is missing or disabled here "
                        "(pip install 'claude-analytics[%s]' installs it)",
                        self.name,
                        candidate,
                        self.file_formats[0],
                        self.name,
                    )
                return candidate
        return self.file_formats[-1]

    def factory(self, duckdb_file: str | None = None) -> Any:
        if self.name == "duckdb":
            database = duckdb_file or _configured_duckdb() or DEFAULT_DUCKDB_FILE
            return dlt.destinations.duckdb(credentials=duckdb_credentials(database))  # other fields: dlt's config
        return self.name

    def apply_layout(self, source: Any) -> Any:
        for resource in source.resources.values():
            endpoint = BY_TABLE.get(resource.name)
            if endpoint is not None:
                self.layout(resource, endpoint)
        return source

    def duckdb_path(self, duckdb_file: str | None) -> str | None:
        """The DuckDB file a pipeline of this destination uses (None: not DuckDB, or configured otherwise)."""
        if self.name != "duckdb":
            return None
        if duckdb_file:
            return duckdb_file
        configured = _configured_duckdb()
        if configured is None:
            return DEFAULT_DUCKDB_FILE
        return configured if "://" not in configured else None


DESTINATIONS: dict[str, Destination] = {
    "duckdb": Destination("duckdb", ("parquet",), _no_layout, before_commit=size_duckdb_pool),
    # parquet through ADBC (binary COPY) is ~4x csv (COPY) and ~10x insert_values: docs/destinations.md
    "postgres": Destination(
        "postgres", ("parquet", "csv"), _no_layout, available=lambda f: f != "parquet" or _postgres_adbc()
    ),
    "bigquery": Destination("bigquery", ("parquet",), _bigquery_layout),
    "snowflake": Destination("snowflake", ("parquet",), _snowflake_layout),
}


def get(name: str) -> Destination:
    try:
        return DESTINATIONS[name]
    except KeyError:
        raise ValueError(f"unknown destination {name!r}: choose from {', '.join(DESTINATIONS)}") from None


@dataclass(frozen=True)
class Target:
    """Where a command loads or reads: a destination, a dataset, and the pipeline (local state) for them.

    One pipeline per destination and dataset (`claude_analytics_<destination>`, plus `__<dataset>` for a
    non-default dataset): a shared one leaks cursors between them.
    """

    destination: str = "duckdb"
    dataset_name: str = DEFAULT_DATASET
    pipeline_name: str | None = None
    duckdb_file: str | None = None

    @property
    def name(self) -> str:
        if self.pipeline_name:
            return self.pipeline_name
        name = f"{SOURCE_NAME}_{self.destination}"
        return name if self.dataset_name == DEFAULT_DATASET else f"{name}__{self.dataset_name}"

    @property
    def kind(self) -> Destination:
        return get(self.destination)

    @property
    def reset_command(self) -> str:
        """The command that drops this dataset and its state (`claude-analytics reset`)."""
        flags = [f"--destination {self.destination}"] if self.destination != "duckdb" else []
        if self.dataset_name != DEFAULT_DATASET:
            flags.append(f"--dataset-name {self.dataset_name}")
        if self.duckdb_file:
            flags.append(f"--duckdb-file {self.duckdb_file}")
        return " ".join(["claude-analytics reset", *flags, "--yes"])

    def pipeline(self, suffix: str = "") -> dlt.Pipeline:
        """The loading pipeline (or, with a suffix, a pipeline of its own that shares no local state)."""
        return dlt.pipeline(
            self.name + suffix, destination=self.kind.factory(self.duckdb_file), dataset_name=self.dataset_name
        )
