"""BI views: written once in DuckDB SQL (`*.sql` beside this file), transpiled by sqlglot per destination.

Each `<name>.sql` becomes the view `v_<name>` in the dataset, created or replaced after every successful
`run`/`backfill`. A file starts with comment lines: a description, then `-- columns:` and one line per
output column, `--   name (type): meaning` (type is a dlt type name). Those lines feed the data
dictionary, and the tests check that they match the query's output and the types each warehouse reports.

Rendering a view for a destination:
- table names the view reads (the loaded tables and other views) are qualified with the dataset (and the
  project on BigQuery) exactly as dlt names them;
- every identifier is quoted and case-folded the way dlt folds it on that destination (upper case on
  Snowflake), so views resolve the same columns dlt created;
- a few constructs without a common spelling are rewritten (weeks start on Monday everywhere);
- the org views read `org_chart` as three columns, `email`, `user_id` and `org_unit`: the loaded table is
  replaced by a subquery that names the configured attribute (`org_unit_attribute`) `org_unit` and gives a key
  column the file did not have as NULL (its join then matches nobody). Which key columns exist is decided when
  the views are created, from the loaded table.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import sqlglot
from sqlglot import exp

from sources.claude_analytics.naming import attribute_name

from ..errors import first_line

log = logging.getLogger("claude_analytics.views")

VIEWS_DIR = Path(__file__).parent
PREFIX = "v_"
SOURCE_DIALECT = "duckdb"
DIALECTS = {
    "duckdb": "duckdb",
    "motherduck": "duckdb",
    "postgres": "postgres",
    "bigquery": "bigquery",
    "snowflake": "snowflake",
}

ORG_CHART_TABLE = "org_chart"
ORG_CHART_KEYS = ("email", "user_id")
DEFAULT_ORG_UNIT_ATTRIBUTE = "department"

_COLUMN_LINE = re.compile(r"^--\s+([a-z_][a-z0-9_]*)\s+\(([a-z]+)\):\s*(.+)$")


@dataclass(frozen=True)
class ViewColumn:
    name: str
    data_type: str  # dlt type name
    description: str


@dataclass(frozen=True)
class View:
    name: str  # v_<file stem>
    description: str
    columns: tuple[ViewColumn, ...]
    sql: str  # the SELECT, DuckDB dialect, unqualified table names

    @property
    def tables(self) -> tuple[str, ...]:
        """The tables (and views) the query reads, without its own CTEs."""
        tree = sqlglot.parse_one(self.sql, read=SOURCE_DIALECT)
        ctes = {cte.alias_or_name for cte in tree.find_all(exp.CTE)}
        names = {t.name for t in tree.find_all(exp.Table) if t.name not in ctes}
        return tuple(sorted(names))

    @property
    def output_columns(self) -> list[str]:
        tree = sqlglot.parse_one(self.sql, read=SOURCE_DIALECT)
        assert isinstance(tree, exp.Query), f"{self.name} is not a SELECT"
        return list(tree.named_selects)


@dataclass(frozen=True)
class OrgChartColumns:
    """What the org views read of the loaded org chart: the column to group by and the key columns it has."""

    org_unit_attribute: str = DEFAULT_ORG_UNIT_ATTRIBUTE  # a column name (naming.attribute_name of the setting)
    keys: tuple[str, ...] = ORG_CHART_KEYS

    def select(self) -> exp.Expr:
        """The org chart as the views read it: (email, user_id, org_unit), all text."""

        def key(name: str, value: str) -> str:
            return f"{value} AS {name}" if name in self.keys else f"CAST(NULL AS VARCHAR) AS {name}"

        # emails are lower-cased when loaded; lowering again keeps a hand-loaded table joinable
        return sqlglot.parse_one(
            f"SELECT {key('email', 'LOWER(email)')}, {key('user_id', 'CAST(user_id AS VARCHAR)')}, "
            f"CAST({exp.to_identifier(self.org_unit_attribute).sql(SOURCE_DIALECT)} AS VARCHAR) AS org_unit "
            f"FROM {ORG_CHART_TABLE}",
            read=SOURCE_DIALECT,
        )


def _parse_file(path: Path) -> View:
    text = path.read_text(encoding="utf-8")
    description: list[str] = []
    columns: list[ViewColumn] = []
    body: list[str] = []
    in_columns = False
    for line in text.splitlines():
        if body or not line.startswith("--"):
            body.append(line)
            continue
        if line.strip() == "-- columns:":
            in_columns = True
            continue
        if in_columns:
            match = _COLUMN_LINE.match(line)
            if not match:
                raise ValueError(f"{path.name}: column line not in the form '--   name (type): meaning': {line!r}")
            columns.append(ViewColumn(*match.groups()))
        else:
            description.append(line[2:].strip())
    return View(PREFIX + path.stem, " ".join(description), tuple(columns), "\n".join(body).strip())


@lru_cache(maxsize=1)
def load_views() -> tuple[View, ...]:
    """Every view, in a stable order (by name)."""
    return tuple(_parse_file(p) for p in sorted(VIEWS_DIR.glob("*.sql")))


def view_names() -> list[str]:
    return [v.name for v in load_views()]


# -- rendering --------------------------------------------------------------------------------------


def _date_trunc_bigquery(node: exp.Expression) -> exp.Expression:
    """DATE_TRUNC('week', d) → DATE_TRUNC(d, ISOWEEK) (BigQuery's WEEK starts on Sunday), and every unit stays a
    DATE_TRUNC: sqlglot would write TIMESTAMP_TRUNC, which turns the DATE column into a timestamp."""
    if isinstance(node, (exp.TimestampTrunc, exp.DateTrunc)) and node.unit:
        unit = node.unit.name.upper()
        return exp.DateTrunc(this=node.this, unit=exp.var("ISOWEEK" if unit == "WEEK" else unit))
    return node


def _read_org_chart_as(tree: exp.Expr, org_chart: OrgChartColumns) -> None:
    """Every `org_chart` the view reads becomes the subquery `org_chart.select()`, under the same alias."""
    for table in list(tree.find_all(exp.Table)):
        if table.name == ORG_CHART_TABLE:
            alias = exp.TableAlias(this=exp.to_identifier(table.alias or ORG_CHART_TABLE))
            table.replace(exp.Subquery(this=org_chart.select(), alias=alias))


def render_select(
    view: View,
    dialect: str,
    qualify: Callable[[str], Sequence[str]],
    casefold: Callable[[str], str] = str,
    org_chart: OrgChartColumns = OrgChartColumns(),
) -> str:
    """The view's SELECT in `dialect`, table names qualified by `qualify(name)` → path parts (already case-folded)."""
    tree = sqlglot.parse_one(view.sql, read=SOURCE_DIALECT)
    ctes = {cte.alias_or_name for cte in tree.find_all(exp.CTE)}
    if ORG_CHART_TABLE in view.tables:
        _read_org_chart_as(tree, org_chart)
    for table in list(tree.find_all(exp.Table)):
        if table.name in ctes:
            continue
        parts = [exp.to_identifier(p, quoted=True) for p in qualify(table.name)]
        qualified = exp.Table(
            this=parts[-1],
            db=parts[-2] if len(parts) > 1 else None,
            catalog=parts[-3] if len(parts) > 2 else None,
            alias=table.args.get("alias"),
        )
        table.replace(qualified)
    qualified_names = {
        id(i)
        for t in tree.find_all(exp.Table)
        if t.name not in ctes
        for i in (t.this, t.args.get("db"), t.args.get("catalog"))
        if i is not None
    }
    for ident in tree.find_all(exp.Identifier):
        if id(ident) not in qualified_names:
            ident.set("this", casefold(ident.name))
        ident.set("quoted", True)
    if dialect == "bigquery":
        tree = tree.transform(_date_trunc_bigquery)
    return tree.sql(dialect=dialect, pretty=True)


def render_create(
    view: View,
    dialect: str,
    qualify: Callable[[str], Sequence[str]],
    casefold: Callable[[str], str] = str,
    org_chart: OrgChartColumns = OrgChartColumns(),
) -> str:
    """CREATE OR REPLACE VIEW <qualified v_name> AS <select>, in `dialect`."""
    name = exp.Table(
        **dict(
            zip(
                ("catalog", "db", "this")[-len(qualify(view.name)) :],
                [exp.to_identifier(p, quoted=True) for p in qualify(view.name)],
            )
        )
    )
    select = render_select(view, dialect, qualify, casefold, org_chart)
    create = exp.Create(this=name, kind="VIEW", replace=True, expression=sqlglot.parse_one(select, read=dialect))
    return create.sql(dialect=dialect, pretty=True)


def offline_qualifier(
    dataset: str, catalog: str | None = None, casefold: Callable[[str], str] = str
) -> Callable[[str], list[str]]:
    """A qualifier for rendering without a connection (tests, `python -m pipelines.views --dialect …`)."""
    return lambda table: [casefold(p) for p in ([catalog] if catalog else []) + [dataset, table]]


# -- creating them ----------------------------------------------------------------------------------


def create_views(pipeline, org_unit_attribute: str = DEFAULT_ORG_UNIT_ATTRIBUTE) -> list[str]:
    """Create or replace every view whose tables exist in the pipeline's dataset; returns the names created.

    `org_unit_attribute` names the org chart column the org views group by (the setting of that name; a header
    such as `Cost Center` is named `cost_center`, as the org chart's columns are). Never raises: a view that
    cannot be created is logged (the data load already succeeded).
    """
    destination = pipeline.destination.destination_name
    dialect = DIALECTS.get(destination)
    if dialect is None:
        log.warning("no BI views for destination %s: supported are %s", destination, ", ".join(sorted(DIALECTS)))
        return []
    created: list[str] = []
    try:
        with pipeline.sql_client() as sql:
            created = _create_all(sql, dialect, attribute_name(org_unit_attribute))
    except Exception as exc:
        log.warning("could not create the BI views: %s", first_line(exc))
    if created:
        log.info("created or replaced %d view(s): %s", len(created), ", ".join(created))
    return created


def _create_all(sql, dialect: str, org_unit_attribute: str) -> list[str]:
    casefold = sql.capabilities.casefold_identifier
    omit_catalog = dialect in ("duckdb", "postgres")  # views must survive a renamed DuckDB file

    def qualify(table: str) -> list[str]:
        path = sql.make_qualified_table_name_path(table, quote=False, casefold=True)
        return path[-2:] if omit_catalog else path

    columns: dict[str, list[str] | None] = {}

    def columns_of(table: str) -> list[str] | None:
        """The table's column names, lower case (None: not loaded)."""
        if table not in columns:
            columns[table] = _columns(sql, table)
        return columns[table]

    org_chart = _org_chart_columns(columns_of, org_unit_attribute)
    created: list[str] = []
    for view in load_views():
        missing = [t for t in view.tables if columns_of(t) is None]
        if missing:
            log.info("view %s not created: table %s not loaded", view.name, ", ".join(missing))
            continue
        if ORG_CHART_TABLE in view.tables and org_chart is None:
            _drop(sql, view)  # _org_chart_columns said why; one grouped by another attribute would mislead
            continue
        if _create(sql, view, render_create(view, dialect, qualify, casefold, org_chart or OrgChartColumns())):
            columns[view.name] = view.output_columns
            created.append(view.name)
    return created


def _columns(sql, table: str) -> list[str] | None:
    try:
        with sql.execute_query(f"SELECT * FROM {sql.make_qualified_table_name(table)} WHERE 1 = 0") as cursor:
            return [d[0].lower() for d in cursor.description]
    except Exception:
        return None


def _org_chart_columns(columns_of: Callable[[str], list[str] | None], attribute: str) -> OrgChartColumns | None:
    """How the loaded org chart is read (None: not loaded, or without the attribute or a key column)."""
    loaded = columns_of(ORG_CHART_TABLE)
    if loaded is None:
        return None
    keys = tuple(k for k in ORG_CHART_KEYS if k in loaded)
    if attribute not in loaded or not keys:
        lacking = f"no column {attribute} to group by" if attribute not in loaded else "no email or user_id column"
        log.warning(
            "org views not created (and any older ones dropped): the loaded org chart has %s (its columns: "
            "%s): set org_unit_attribute to one of them, or load an org chart with it",
            lacking,
            ", ".join(loaded),
        )
        return None
    return OrgChartColumns(attribute, keys)


def _drop(sql, view: View) -> None:
    try:
        sql.execute_sql(f"DROP VIEW IF EXISTS {sql.make_qualified_table_name(view.name)}")
    except Exception as exc:
        log.warning("could not drop view %s: %s", view.name, first_line(exc))


def _create(sql, view: View, statement: str) -> bool:
    try:
        sql.execute_sql(statement)
    except Exception as first:
        # an older definition with other columns cannot be replaced on some warehouses
        try:
            sql.execute_sql(f"DROP VIEW IF EXISTS {sql.make_qualified_table_name(view.name)}")
            sql.execute_sql(statement)
        except Exception:
            log.warning("could not create view %s: %s", view.name, first_line(first))
            return False
    return True


def main(argv: Sequence[str] | None = None) -> int:
    """Print every view's CREATE statement for a dialect: `python -m pipelines.views --dialect snowflake`."""
    import argparse

    parser = argparse.ArgumentParser(prog="python -m pipelines.views", description=main.__doc__)
    parser.add_argument("--dialect", default="duckdb", choices=sorted(set(DIALECTS.values())))
    parser.add_argument("--dataset-name", default="claude_analytics")
    parser.add_argument("--catalog", default=None, help="project (BigQuery) or database (Snowflake)")
    parser.add_argument(
        "--org-unit-attribute",
        default=DEFAULT_ORG_UNIT_ATTRIBUTE,
        help="the org chart column the org views group by (default: %(default)s); the org chart is "
        "assumed to have both key columns, email and user_id",
    )
    args = parser.parse_args(argv)
    fold = str.upper if args.dialect == "snowflake" else str
    qualify = offline_qualifier(args.dataset_name, args.catalog, fold)
    org_chart = OrgChartColumns(attribute_name(args.org_unit_attribute))
    for view in load_views():
        statement = render_create(view, args.dialect, qualify, fold, org_chart)
        print(f"-- {view.name}: {view.description}\n{statement};\n")
    return 0
