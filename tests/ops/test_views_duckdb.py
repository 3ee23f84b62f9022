"""BI views on DuckDB: created by every successful load, equal to values computed from the simulator's data."""

from __future__ import annotations

import logging
import re
import shutil

import duckdb
import pytest
import sqlglot

from pipelines.destinations import Target
from pipelines.dictionary import SQL_TYPES
from pipelines.views import (
    ORG_CHART_TABLE,
    OrgChartColumns,
    create_views,
    load_views,
    offline_qualifier,
    render_create,
    view_names,
)
from tests.helpers import load
from tests.ops.view_expectations import EXPECTED, NOT_IN_ORG_CHART, UNASSIGNED, Truth, assert_view_equals

DATASET = "claude_analytics"
ORG_VIEWS = {"v_org_adoption_weekly", "v_org_spend_monthly"}


def view_rows(con, view: str) -> list[dict]:
    cur = con.execute(f"select * from {DATASET}.{view}")
    names = [d[0] for d in cur.description]
    return [dict(zip(names, row)) for row in cur.fetchall()]


def views_in(con) -> set[str]:
    return {
        r[0]
        for r in con.execute(
            "select table_name from information_schema.tables where table_schema = ? and table_type = 'VIEW'", [DATASET]
        ).fetchall()
    }


def truth(loaded, **org) -> Truth:
    return Truth(loaded.sim, loaded.days, loaded.cost_days, loaded.org_chart, **org)


def test_every_view_is_created_by_a_run(loaded):
    with duckdb.connect(loaded.duckdb_file, read_only=True) as con:
        views = views_in(con)
    assert views == set(view_names())
    assert len(views) == 13


@pytest.mark.parametrize("view", sorted(EXPECTED))
def test_view_equals_values_computed_from_the_simulator(loaded, view):
    expected = EXPECTED[view](truth(loaded))
    assert expected, f"{view}: the simulated org gives no rows to compare"
    with duckdb.connect(loaded.duckdb_file, read_only=True) as con:
        assert_view_equals(view, view_rows(con, view), expected)


def test_the_loaded_data_exercises_every_rule_of_the_spend_and_org_views(loaded):
    """A view test passes vacuously on data without the case a rule is for: make sure the cases are there."""
    t = truth(loaded)
    spend = EXPECTED["v_daily_spend"](t)
    assert {"(unattributed)", "other", "chat", "claude_code"} <= {k[1] for k in spend}
    per_user = EXPECTED["v_cost_per_active_user"](t)
    assert any(r["active_users"] is None and r["amount"] for r in per_user.values())  # products without a measure
    assert any(r["active_users"] and r["cost_per_active_user"] for r in per_user.values())
    adoption = EXPECTED["v_org_adoption_weekly"](t)
    units = {k[1] for k in adoption}
    assert {NOT_IN_ORG_CHART, UNASSIGNED} <= units and len(units) > 4
    assert any(r["active_users"] == 0 and r["headcount"] for r in adoption.values())  # a unit nobody in used
    spend_units = EXPECTED["v_org_spend_monthly"](t)
    assert any(r["org_unit"] == NOT_IN_ORG_CHART and r["amount"] for r in spend_units.values())
    assert len({k[0] for k in spend_units}) >= 2  # months


def test_view_columns_and_types_match_their_documentation(loaded):
    with duckdb.connect(loaded.duckdb_file, read_only=True) as con:
        for view in load_views():
            actual = con.execute(
                "select column_name, data_type from information_schema.columns where table_schema = ? "
                "and table_name = ? order by ordinal_position",
                [DATASET, view.name],
            ).fetchall()
            assert [c for c, _ in actual] == [c.name for c in view.columns] == view.output_columns, view.name
            for (name, data_type), documented in zip(actual, view.columns):
                assert data_type == SQL_TYPES[documented.data_type][0], f"{view.name}.{name}: {data_type}"


def test_views_reference_only_declared_columns():
    """Views may only read columns the catalogue declares (they exist even when the API sends nothing), and the
    org chart only as the renderer presents it (email, user_id, org_unit)."""
    from sources.claude_analytics.endpoints import ENDPOINTS
    from sources.claude_analytics.rows import declared_columns

    tables = {e.table: set(declared_columns(e)) for e in ENDPOINTS}
    tables[ORG_CHART_TABLE] = {"email", "user_id", "org_unit"}
    schema: dict[str, object] = {t: {c: "VARCHAR" for c in cols} for t, cols in tables.items()}  # qualify's type
    from sqlglot.optimizer.qualify import qualify

    for view in load_views():
        tree = qualify(
            sqlglot.parse_one(view.sql, read="duckdb"), schema=schema, dialect="duckdb", validate_qualify_columns=True
        )
        for column in tree.find_all(sqlglot.exp.Column):
            table = column.table
            assert column.name, view.name
            if table in tables:
                assert column.name in tables[table], f"{view.name}: {table}.{column.name} is not declared"


def test_a_run_of_some_endpoints_creates_only_the_views_it_can(start_simulator):
    sim = start_simulator(users=10, seed=2)
    load(sim, history_days=5, endpoints="users")
    with duckdb.connect("warehouse.duckdb", read_only=True) as con:
        views = views_in(con)
    assert views == {"v_weekly_user_engagement", "v_claude_code_weekly_output"}  # no org chart: no org views


# -- the org chart as loaded decides how the org views join -------------------------------------------


@pytest.fixture
def warehouse_copy(loaded, tmp_path):
    """A copy of the package warehouse to change, and a function that recreates its views."""
    path = tmp_path / "copy.duckdb"
    shutil.copy(loaded.duckdb_file, path)

    def recreate(org_unit_attribute: str = "department") -> list[str]:
        return create_views(Target(duckdb_file=str(path)).pipeline(), org_unit_attribute=org_unit_attribute)

    return str(path), recreate


def assert_org_views(path: str, expected_truth: Truth) -> None:
    with duckdb.connect(path, read_only=True) as con:
        for view in sorted(ORG_VIEWS):
            expected = EXPECTED[view](expected_truth)
            assert_view_equals(view, view_rows(con, view), expected)


@pytest.mark.parametrize("key", ["email", "user_id"])
def test_org_views_join_on_the_one_key_the_org_chart_has(loaded, warehouse_copy, key):
    path, recreate = warehouse_copy
    other = "user_id" if key == "email" else "email"
    with duckdb.connect(path) as con:
        con.execute(f"alter table {DATASET}.org_chart drop column {other}")
        # the API's emails in another case still match the org chart's (lower-cased) ones
        for table in ("user_activity", "user_cost_report", "user_usage_report"):
            con.execute(f"update {DATASET}.{table} set user_email = upper(user_email) where user_id like '%a%'")
    assert set(recreate()) >= ORG_VIEWS
    assert_org_views(path, truth(loaded, org_chart_keys=(key,)))


def test_org_views_group_by_the_configured_attribute(loaded, warehouse_copy):
    path, recreate = warehouse_copy
    assert set(recreate("Cost Center")) >= ORG_VIEWS  # a header as HR exports it, named like the column
    assert_org_views(path, truth(loaded, org_unit_attribute="cost_center"))
    with duckdb.connect(path, read_only=True) as con:
        units = {r[0] for r in con.execute(f"select org_unit from {DATASET}.v_org_spend_monthly").fetchall()}
    assert {u for u in units if u.startswith("CC-")} and "Engineering" not in units


def test_an_org_unit_attribute_the_org_chart_lacks_drops_the_org_views_with_a_warning(warehouse_copy, caplog):
    path, recreate = warehouse_copy
    caplog.set_level(logging.WARNING, logger="claude_analytics.views")
    created = recreate("division")
    assert set(created) == set(view_names()) - ORG_VIEWS
    with duckdb.connect(path, read_only=True) as con:
        assert not views_in(con) & ORG_VIEWS  # the ones grouped by department are gone
    assert any(
        "no column division" in r.getMessage() and "org_unit_attribute" in r.getMessage() for r in caplog.records
    )


def test_views_module_prints_the_org_views_for_an_attribute(capsys):
    from pipelines.views import main

    assert main(["--dialect", "snowflake", "--org-unit-attribute", "team"]) == 0
    out = capsys.readouterr().out
    assert 'CAST("TEAM" AS VARCHAR) AS "ORG_UNIT"' in out and '"DEPARTMENT"' not in out
    assert out.count("CREATE OR REPLACE VIEW") == len(view_names())


@pytest.mark.parametrize(
    "dialect,catalog,fold",
    [
        ("bigquery", "my-project", str),
        ("snowflake", "ANALYTICS", str.upper),
        ("postgres", None, str),
        ("duckdb", None, str),
    ],
)
@pytest.mark.parametrize("keys", [("email", "user_id"), ("email",), ("user_id",)])
def test_views_transpile_offline_for_every_destination(dialect, catalog, fold, keys):
    qualify = offline_qualifier(DATASET, catalog, fold)
    for view in load_views():
        statement = render_create(view, dialect, qualify, fold, OrgChartColumns("team", keys))
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
            assert "TIMESTAMP_TRUNC" not in statement  # truncating a DATE keeps a DATE
        if dialect == "snowflake":
            assert '"DATE"' in statement and '"date"' not in statement  # dlt folds Snowflake names to upper case
        if ORG_CHART_TABLE in view.tables:  # the attribute is read, a key the org chart lacks is NULL
            assert re.search(rf"CAST\([`\"]{fold('team')}[`\"] AS \w+\) AS [`\"]{fold('org_unit')}", statement)
            for key in ("email", "user_id"):
                null_key = re.search(rf"CAST\(NULL AS \w+\) AS [`\"]{fold(key)}[`\"]", statement)
                assert bool(null_key) == (key not in keys), (view.name, key)
