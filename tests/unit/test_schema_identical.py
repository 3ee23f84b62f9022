"""The final tables and columns are identical on DuckDB, Postgres, BigQuery and Snowflake (no network).

For each destination the runner's own source (every documented field of every endpoint, shaped by
`TableShaper`, with the destination's layout hints and loader file format) plus the run log is extracted
and normalized by dlt with that destination's capabilities: its naming convention, identifier length
limits and type mapper. The resulting dlt schemas must agree table by table, column by column, type by
type; every name must be a plain lower-case identifier of at most 63 characters that the destination
keeps as it is (so the same unquoted SQL works everywhere); and each destination's physical type must
map back to the same logical type. A BI dashboard written against one destination works on another.
"""

from __future__ import annotations

import datetime as dt
import re
from typing import Any, cast

import dlt
import pytest
from dlt.common.destination.utils import verify_schema_capabilities
from dlt.common.schema.typing import TColumnSchema, TTableSchema
from dlt.common.typing import TLoaderFileFormat
from dlt.destinations.job_client_impl import SqlJobClientBase

from pipelines import destinations
from pipelines.runlog import COLUMNS as RUN_LOG_COLUMNS
from pipelines.runlog import RUN_LOG_TABLE, RunSummary, run_row
from sources.claude_analytics import Calendar, claude_analytics_batches
from sources.claude_analytics.days import Edges, Unit
from sources.claude_analytics.endpoints import ENDPOINTS, Endpoint
from sources.claude_analytics.fetch import Batch
from sources.claude_analytics.rows import TableShaper, declared_columns

DESTINATIONS = ("duckdb", "postgres", "bigquery", "snowflake")
DAY = dt.date(2026, 3, 2)
PLAIN = re.compile(r"^[a-z_][a-z0-9_]*$")
SAMPLE = {
    "bigint": 7,
    "double": 12.5,
    "text": "x",
    "date": "2026-03-01",
    "timestamp": "2026-03-01T08:00:00Z",
    "decimal": "1234",
    "bool": True,
}


def api_row(endpoint: Endpoint) -> dict[str, Any]:
    """One API row with every documented field set (nested as the API sends it)."""
    row: dict[str, Any] = {}
    for field in endpoint.fields:
        node = row
        for key in field.path[:-1]:
            node = node.setdefault(key, {})
        node[field.path[-1]] = SAMPLE[field.data_type]
    if endpoint.kind != "day":
        row["starting_at"], row["ending_at"] = f"{DAY}T00:00:00Z", f"{DAY + dt.timedelta(days=1)}T00:00:00Z"
    return row


def file_format(destination: destinations.Destination) -> TLoaderFileFormat:
    """The destination's loader file format: one of dlt's (`Destination.file_format` types it as a plain str)."""
    return cast(TLoaderFileFormat, destination.file_format)


def name_of(entry: TTableSchema | TColumnSchema) -> str:
    """A table's or column's name: always set in a normalized schema (dlt's TypedDicts allow None)."""
    name = entry["name"]
    assert name is not None, entry
    return name


def runner_source(destination: destinations.Destination):
    """The source exactly as `Load._commit` builds it: batches of Arrow tables, then the layout hints."""
    batches = []
    for endpoint in ENDPOINTS:
        table = TableShaper(endpoint).shape([api_row(endpoint)], DAY if endpoint.kind == "day" else None)
        batches.append(Batch(endpoint, Unit(DAY, DAY), table, covered=Unit(DAY, DAY)))
    calendar = Calendar(DAY, {"engagement": Edges(DAY, DAY), "cost": Edges(DAY, DAY)}, {"engagement": 3, "cost": 30})
    return destination.apply_layout(claude_analytics_batches(batches, calendar, "off", None))


def run_log_resource():
    summary = RunSummary(
        "run",
        "x",
        "claude_analytics",
        started_at=dt.datetime(2026, 3, 5, tzinfo=dt.timezone.utc),
        finished_at=dt.datetime(2026, 3, 5, 0, 1, tzinfo=dt.timezone.utc),
        outcome="succeeded",
        earliest_day=DAY,
        latest_available_day=DAY,
        cursors={e.table: DAY.isoformat() for e in ENDPOINTS},
    )
    return dlt.resource([run_row(summary)], name=RUN_LOG_TABLE, write_disposition="append", columns=RUN_LOG_COLUMNS)


@pytest.fixture(scope="module")
def pipelines(tmp_path_factory) -> dict[str, dlt.Pipeline]:
    """One pipeline per destination, extracted and normalized (nothing is loaded: no credentials, no network)."""
    out = {}
    for name in DESTINATIONS:
        target = destinations.get(name)
        pipeline = dlt.pipeline(
            f"schema_{name}",
            destination=getattr(dlt.destinations, name)(),
            dataset_name="claude_analytics",
            pipelines_dir=str(tmp_path_factory.mktemp(f"pipelines_{name}")),
        )
        pipeline.extract(runner_source(target), loader_file_format=file_format(target))
        pipeline.extract(run_log_resource())
        pipeline.normalize()
        out[name] = pipeline
    return out


def logical(pipeline: dlt.Pipeline) -> dict[str, dict[str, tuple]]:
    """{table: {column: (data_type, precision, scale, timezone, nullable)}} in table order."""
    return {
        name_of(table): {
            name_of(c): (
                c.get("data_type"),
                c.get("precision"),
                c.get("scale"),
                c.get("timezone"),
                c.get("nullable", True),
            )
            for c in table["columns"].values()
        }
        for table in pipeline.default_schema.tables.values()
    }


def physical(name: str, pipeline: dlt.Pipeline) -> dict[str, dict[str, str]]:
    mapper = getattr(dlt.destinations, name)().capabilities().get_type_mapper()
    return {
        name_of(table): {name_of(c): mapper.to_destination_type(c, table) for c in table["columns"].values()}
        for table in pipeline.default_schema.tables.values()
    }


def test_every_destination_gets_identical_tables_columns_and_types(pipelines):
    schemas = {name: logical(p) for name, p in pipelines.items()}
    reference = schemas["duckdb"]
    data_tables = {e.table for e in ENDPOINTS}
    assert data_tables | {RUN_LOG_TABLE} <= set(reference)
    for name, schema in schemas.items():
        assert list(schema) == list(reference), f"{name}: tables differ"
        for table, columns in reference.items():
            assert schema[table] == columns, f"{name}.{table}: columns or types differ from duckdb's"
    # every declared column is there under its own name, with its declared type; keys are NOT NULL
    for endpoint in ENDPOINTS:
        columns = reference[endpoint.table]
        for column, data_type in declared_columns(endpoint).items():
            assert column in columns, f"{endpoint.table}.{column} was renamed by dlt"
            assert columns[column][0] == data_type, f"{endpoint.table}.{column}: {columns[column][0]} != {data_type}"
        for key in endpoint.primary_key if not endpoint.nullable_key else ("date",):
            assert columns[key][4] is False, f"{endpoint.table}.{key} is nullable"
    assert reference["skill_usage"]["estimated_overage_spend"][:3] == ("decimal", 38, 9)
    # dlt's bookkeeping columns: the run log carries _dlt_load_id / _dlt_id, the same everywhere
    assert {"_dlt_load_id", "_dlt_id"} <= set(reference[RUN_LOG_TABLE])


def test_names_are_plain_short_and_kept_by_each_destination(pipelines):
    for name, pipeline in pipelines.items():
        schema = pipeline.default_schema
        caps = pipeline.destination.capabilities()
        for table in schema.tables.values():
            for identifier in (table["name"], *table["columns"]):
                assert PLAIN.match(identifier), f"{name}: {identifier!r} needs quoting"
                assert len(identifier) <= 63, f"{name}: {identifier} is longer than 63 characters"
                # the destination's naming convention and length limit leave it unchanged
                assert schema.naming.normalize_identifier(identifier) == identifier, f"{name}: {identifier}"
                # the stored identifier is the name itself, or (Snowflake) its upper-case form, which is how
                # an unquoted lower-case name in a query resolves there
                assert caps.casefold_identifier(identifier) in (identifier, identifier.upper())
        problems = verify_schema_capabilities(schema, caps, name, warnings=False)
        assert not problems, f"{name}: {problems}"


def _base_type(db_type: str) -> tuple[str, int | None, int | None]:
    """'numeric(38,9)' → ('numeric', 38, 9); 'timestamp with time zone' → itself, no precision."""
    match = re.fullmatch(r"([^(]*)(?:\((\d+)(?:\s*,\s*(\d+))?\))?(.*)", db_type.strip())
    assert match, db_type
    base = f"{match.group(1).strip()} {match.group(4).strip()}".strip()
    return base, int(match.group(2)) if match.group(2) else None, int(match.group(3)) if match.group(3) else None


def read_back(mapper, db_type: str) -> dict:
    """dlt's reverse mapping of a physical type, given as the full type or as its base name (mappers differ)."""
    base, precision, scale = _base_type(db_type)
    results = [
        mapper.from_destination_type(db_type, precision, scale),
        mapper.from_destination_type(base, precision, scale),
    ]
    return next((r for r in results if r["data_type"] != "text"), results[-1])


def test_physical_types_read_back_as_the_same_logical_types(pipelines):
    """What each warehouse stores reflects back (dlt's own reverse mapping) to the same dlt type."""
    expected = {"bigint", "double", "text", "date", "timestamp", "decimal"}
    for name, pipeline in pipelines.items():
        mapper = getattr(dlt.destinations, name)().capabilities().get_type_mapper()
        seen = set()
        for table, columns in physical(name, pipeline).items():
            for column, db_type in columns.items():
                want = pipeline.default_schema.tables[table]["columns"][column]
                back = read_back(mapper, db_type)
                assert back["data_type"] == want["data_type"], f"{name} {table}.{column}: {db_type} -> {back}"
                if want["data_type"] == "decimal":
                    assert (back.get("precision"), back.get("scale")) == (want["precision"], want["scale"])
                seen.add(want["data_type"])
        assert expected <= seen, f"{name}: types not covered: {expected - seen}"


def test_layout_hints_are_applied_to_the_runner_resources():
    """BigQuery: daily partitions on `date`, clustered by the entity key; Snowflake: clustered on (date, entity)."""
    for name in DESTINATIONS:
        source = runner_source(destinations.get(name))
        for endpoint in ENDPOINTS:
            table = source.resources[endpoint.table].compute_table_schema()
            columns = table["columns"]
            partitioned = [c for c, s in columns.items() if s.get("x-bigquery-partition")]
            bq_cluster = table.get("x-bigquery-cluster-columns")
            sf_cluster = [c for c, s in columns.items() if s.get("cluster")]
            if name == "bigquery":
                assert partitioned == ["date"] and columns["date"]["data_type"] == "date"
                assert bq_cluster == (list(endpoint.entity_key) or None), endpoint.table
                assert not sf_cluster
            elif name == "snowflake":
                assert sf_cluster == list(endpoint.primary_key), endpoint.table  # (date, entity), in this order
                assert not partitioned and not bq_cluster
            else:
                assert not partitioned and not bq_cluster and not sf_cluster
            # the merge contract holds everywhere
            assert table["write_disposition"] == "merge" and table.get("x-merge-strategy") == "delete-insert"
            keys = [] if endpoint.nullable_key else list(endpoint.primary_key)
            assert [c for c, s in columns.items() if s.get("primary_key")] == keys
            assert table.get("x-merge-source-filter") == "date >= DATE '2026-01-01'"
            assert table.get("x-stage-data-deduplicated") is True


def test_layout_survives_into_the_normalized_schema(pipelines):
    """The hints reach the schema the loader creates tables from (what dlt turns into DDL)."""
    bq = pipelines["bigquery"].default_schema.tables
    sf = pipelines["snowflake"].default_schema.tables
    for endpoint in ENDPOINTS:
        assert bq[endpoint.table]["columns"]["date"].get("x-bigquery-partition") is True
        assert bq[endpoint.table].get("x-bigquery-cluster-columns") == (list(endpoint.entity_key) or None)
        assert [c for c, s in sf[endpoint.table]["columns"].items() if s.get("cluster")] == list(endpoint.primary_key)


OFFLINE_CREDENTIALS: dict[str, dict[str, Any]] = {
    # fake, never used to connect: the clients below only render SQL
    "bigquery": dict(
        credentials={
            "project_id": "my-project",
            "client_email": "loader@my-project.iam.gserviceaccount.com",
            "private_key": "not-a-key",
        },
        location="EU",
    ),
    "snowflake": dict(credentials="snowflake://loader:secret@my-account/ANALYTICS?warehouse=LOADING&role=LOADER"),
}


@pytest.mark.parametrize("name,driver", [("bigquery", "google.cloud.bigquery"), ("snowflake", "snowflake.connector")])
def test_create_table_sql_carries_the_layout(name, driver, tmp_path):
    """The CREATE TABLE statements dlt would send (rendered offline by dlt's own client) partition and cluster."""
    pytest.importorskip(driver, reason=f"the {name} extra is not installed (pip install -e '.[dev]')")
    target = destinations.get(name)
    pipeline = dlt.pipeline(
        f"ddl_{name}",
        destination=getattr(dlt.destinations, name)(**OFFLINE_CREDENTIALS[name]),
        dataset_name="claude_analytics",
        pipelines_dir=str(tmp_path),
    )
    pipeline.extract(runner_source(target), loader_file_format=file_format(target))
    pipeline.normalize()
    client = pipeline.destination_client()
    assert isinstance(client, SqlJobClientBase)  # the SQL clients render the DDL
    for endpoint in ENDPOINTS:
        columns = list(pipeline.default_schema.tables[endpoint.table]["columns"].values())
        sql = " ".join(client._get_table_update_sql(endpoint.table, columns, False))
        if name == "bigquery":
            assert "PARTITION BY `date`" in sql, sql[-300:]
            if endpoint.entity_key:
                assert f"CLUSTER BY `{endpoint.entity_key[0]}`" in sql, sql[-300:]
            else:
                assert "CLUSTER BY" not in sql
        else:
            keys = ",".join(f'"{k.upper()}"' for k in endpoint.primary_key)
            assert sql.rstrip().endswith(f"CLUSTER BY ({keys})"), sql[-300:]
