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
- a few constructs without a common spelling are rewritten (weeks start on Monday everywhere).
"""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Callable, Sequence

import sqlglot
from sqlglot import exp

log = logging.getLogger("claude_analytics.views")

VIEWS_DIR = Path(__file__).parent
PREFIX = "v_"
SOURCE_DIALECT = "duckdb"
DIALECTS = {"duckdb": "duckdb", "motherduck": "duckdb", "postgres": "postgres", "bigquery": "bigquery",
            "snowflake": "snowflake"}

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
        return list(sqlglot.parse_one(self.sql, read=SOURCE_DIALECT).named_selects)


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


def _week_start_bigquery(node: exp.Expression) -> exp.Expression:
    """DATE_TRUNC('week', d) → DATE_TRUNC(d, ISOWEEK): BigQuery's WEEK starts on Sunday and truncates to a timestamp."""
    if isinstance(node, (exp.TimestampTrunc, exp.DateTrunc)) and node.unit and node.unit.name.upper() == "WEEK":
        return exp.DateTrunc(this=node.this, unit=exp.var("ISOWEEK"))
    return node


def render_select(view: View, dialect: str, qualify: Callable[[str], Sequence[str]],
                  casefold: Callable[[str], str] = str) -> str:
    """The view's SELECT in `dialect`, table names qualified by `qualify(name)` → path parts (already case-folded)."""
    tree = sqlglot.parse_one(view.sql, read=SOURCE_DIALECT)
    ctes = {cte.alias_or_name for cte in tree.find_all(exp.CTE)}
    for table in list(tree.find_all(exp.Table)):
        if table.name in ctes:
            continue
        parts = [exp.to_identifier(p, quoted=True) for p in qualify(table.name)]
        qualified = exp.Table(this=parts[-1], db=parts[-2] if len(parts) > 1 else None,
                              catalog=parts[-3] if len(parts) > 2 else None, alias=table.args.get("alias"))
        table.replace(qualified)
    qualified_names = {id(i) for t in tree.find_all(exp.Table) if t.name not in ctes
                       for i in (t.this, t.args.get("db"), t.args.get("catalog")) if i is not None}
    for ident in tree.find_all(exp.Identifier):
        if id(ident) not in qualified_names:
            ident.set("this", casefold(ident.name))
        ident.set("quoted", True)
    if dialect == "bigquery":
        tree = tree.transform(_week_start_bigquery)
    return tree.sql(dialect=dialect, pretty=True)


def render_create(view: View, dialect: str, qualify: Callable[[str], Sequence[str]],
                  casefold: Callable[[str], str] = str) -> str:
    """CREATE OR REPLACE VIEW <qualified v_name> AS <select>, in `dialect`."""
    name = exp.Table(**dict(zip(("catalog", "db", "this")[-len(qualify(view.name)):],
                                [exp.to_identifier(p, quoted=True) for p in qualify(view.name)])))
    create = exp.Create(this=name, kind="VIEW", replace=True,
                        expression=sqlglot.parse_one(render_select(view, dialect, qualify, casefold), read=dialect))
    return create.sql(dialect=dialect, pretty=True)


def offline_qualifier(dataset: str, catalog: str | None = None, casefold: Callable[[str], str] = str
                      ) -> Callable[[str], list[str]]:
    """A qualifier for rendering without a connection (tests, `python -m pipelines.views --dialect …`)."""
    return lambda table: [casefold(p) for p in ([catalog] if catalog else []) + [dataset, table]]


# -- creating them ----------------------------------------------------------------------------------


def create_views(pipeline) -> list[str]:
    """Create or replace every view whose tables exist in the pipeline's dataset; returns the names created.

    Never raises: a view that cannot be created is logged (the data load already succeeded).
    """
    destination = pipeline.destination.destination_name
    dialect = DIALECTS.get(destination)
    if dialect is None:
        log.warning("no BI views for destination %s: supported are %s", destination, ", ".join(sorted(DIALECTS)))
        return []
    created: list[str] = []
    try:
        with pipeline.sql_client() as sql:
            casefold = sql.capabilities.casefold_identifier
            omit_catalog = dialect in ("duckdb", "postgres")  # views must survive a renamed DuckDB file

            def qualify(table: str) -> list[str]:
                path = sql.make_qualified_table_name_path(table, quote=False, casefold=True)
                return path[-2:] if omit_catalog else path

            present: dict[str, bool] = {}

            def exists(table: str) -> bool:
                if table not in present:
                    try:
                        sql.execute_sql(f"SELECT 1 FROM {sql.make_qualified_table_name(table)} WHERE 1 = 0")
                        present[table] = True
                    except Exception:
                        present[table] = False
                return present[table]

            for view in load_views():
                missing = [t for t in view.tables if not exists(t)]
                if missing:
                    log.info("view %s not created: table %s not loaded", view.name, ", ".join(missing))
                    continue
                statement = render_create(view, dialect, qualify, casefold)
                try:
                    sql.execute_sql(statement)
                except Exception as first:
                    # an older definition with other columns cannot be replaced on some warehouses
                    try:
                        sql.execute_sql(f"DROP VIEW IF EXISTS {sql.make_qualified_table_name(view.name)}")
                        sql.execute_sql(statement)
                    except Exception:
                        log.warning("could not create view %s: %s", view.name, _first_line(first))
                        continue
                present[view.name] = True
                created.append(view.name)
    except Exception as exc:
        log.warning("could not create the BI views: %s", _first_line(exc))
    if created:
        log.info("created or replaced %d view(s): %s", len(created), ", ".join(created))
    return created


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip().splitlines()
    return text[0][:300] if text else type(exc).__name__


def main(argv: Sequence[str] | None = None) -> int:
    """Print every view's CREATE statement for a dialect: `python -m pipelines.views --dialect snowflake`."""
    import argparse

    parser = argparse.ArgumentParser(prog="python -m pipelines.views", description=main.__doc__)
    parser.add_argument("--dialect", default="duckdb", choices=sorted(set(DIALECTS.values())))
    parser.add_argument("--dataset-name", default="claude_analytics")
    parser.add_argument("--catalog", default=None, help="project (BigQuery) or database (Snowflake)")
    args = parser.parse_args(argv)
    fold = str.upper if args.dialect == "snowflake" else str
    qualify = offline_qualifier(args.dataset_name, args.catalog, fold)
    for view in load_views():
        print(f"-- {view.name}: {view.description}\n{render_create(view, args.dialect, qualify, fold)};\n")
    return 0
