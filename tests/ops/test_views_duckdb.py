"""BI views on DuckDB: created by every successful load, equal to values computed from the simulator's data."""

from __future__ import annotations

import duckdb
import pytest
import sqlglot

from pipelines.dictionary import SQL_TYPES
from pipelines.runner import RunOptions, run_load
from pipelines.views import load_views, offline_qualifier, render_create, view_names
from tests.helpers import settings_for
from tests.ops.view_expectations import EXPECTED, assert_view_equals

DATASET = "claude_analytics"


def view_rows(con, view: str) -> list[dict]:
    cur = con.execute(f"select * from {DATASET}.{view}")
    names = [d[0] for d in cur.description]
    return [dict(zip(names, row)) for row in cur.fetchall()]


def test_every_view_is_created_by_a_run(loaded):
    with duckdb.connect(loaded.duckdb_file, read_only=True) as con:
        views = {r[0] for r in con.execute("select table_name from information_schema.tables "
                                           "where table_schema = ? and table_type = 'VIEW'", [DATASET]).fetchall()}
    assert views == set(view_names())
    assert len(views) == 7


@pytest.mark.parametrize("view", sorted(EXPECTED))
def test_view_equals_values_computed_from_the_simulator(loaded, view):
    expected = EXPECTED[view](loaded.sim, loaded.days)
    assert expected, f"{view}: the simulated org gives no rows to compare"
    with duckdb.connect(loaded.duckdb_file, read_only=True) as con:
        assert_view_equals(view, view_rows(con, view), expected)


def test_view_columns_and_types_match_their_documentation(loaded):
    with duckdb.connect(loaded.duckdb_file, read_only=True) as con:
        for view in load_views():
            actual = con.execute("select column_name, data_type from information_schema.columns where table_schema = ? "
                                 "and table_name = ? order by ordinal_position", [DATASET, view.name]).fetchall()
            assert [c for c, _ in actual] == [c.name for c in view.columns] == view.output_columns, view.name
            for (name, data_type), documented in zip(actual, view.columns):
                assert data_type == SQL_TYPES[documented.data_type][0], f"{view.name}.{name}: {data_type}"


def test_views_reference_only_declared_columns():
    """Views may only read columns the catalogue declares (they exist even when the API sends nothing)."""
    from sources.claude_analytics.endpoints import ENDPOINTS
    from sources.claude_analytics.rows import declared_columns

    tables = {e.table: set(declared_columns(e)) for e in ENDPOINTS}
    schema = {t: {c: "VARCHAR" for c in cols} for t, cols in tables.items()}
    from sqlglot.optimizer.qualify import qualify

    for view in load_views():
        tree = qualify(sqlglot.parse_one(view.sql, read="duckdb"), schema=schema, dialect="duckdb",
                       validate_qualify_columns=True)
        for column in tree.find_all(sqlglot.exp.Column):
            table = column.table
            assert column.name, view.name
            if table in tables:
                assert column.name in tables[table], f"{view.name}: {table}.{column.name} is not declared"


def test_a_run_of_some_endpoints_creates_only_the_views_it_can(start_simulator):
    sim = start_simulator(users=10, seed=2)
    run_load(RunOptions(settings_for(sim, history_days=5), endpoints="users", duckdb_file="warehouse.duckdb"))
    with duckdb.connect("warehouse.duckdb", read_only=True) as con:
        views = {r[0] for r in con.execute("select table_name from information_schema.tables "
                                           "where table_type = 'VIEW'").fetchall()}
    assert views == {"v_weekly_user_engagement", "v_claude_code_weekly_output"}


@pytest.mark.parametrize("dialect,catalog,fold", [("bigquery", "my-project", str), ("snowflake", "ANALYTICS", str.upper),
                                                  ("postgres", None, str), ("duckdb", None, str)])
def test_views_transpile_offline_for_every_destination(dialect, catalog, fold):
    qualify = offline_qualifier(DATASET, catalog, fold)
    for view in load_views():
        statement = render_create(view, dialect, qualify, fold)
        tree = sqlglot.parse_one(statement, read=dialect)  # the generated SQL parses back in its dialect
        assert isinstance(tree, sqlglot.exp.Create) and tree.kind == "VIEW"
        assert statement.startswith("CREATE OR REPLACE VIEW")
        ctes = {cte.alias_or_name for cte in tree.find_all(sqlglot.exp.CTE)}
        tables = [t for t in tree.find_all(sqlglot.exp.Table) if t.name not in ctes]
        assert len(tables) >= 2, view.name  # the view itself and what it reads
        for table in tables:  # every table is qualified with the dataset (and the project / database)
            assert [p.name for p in table.parts][:-1] == [fold(p) for p in ([catalog] if catalog else []) + [DATASET]]
        if dialect == "bigquery":
            assert "ISOWEEK" in statement or "week_start" not in view.output_columns  # Monday weeks
            assert "TIMESTAMP_TRUNC" not in statement
        if dialect == "snowflake":
            assert '"DATE"' in statement and '"date"' not in statement  # dlt folds Snowflake names to upper case
