"""The data dictionary in docs/ is current, complete, and agrees with what a load creates."""

from __future__ import annotations

import re

import duckdb

from pipelines.dictionary import DICTIONARY_PATH, RUN_LOG_DESCRIPTIONS, SQL_TYPES, generate, main
from pipelines.runlog import COLUMNS as RUN_LOG_COLUMNS
from pipelines.views import load_views
from sources.claude_analytics.endpoints import ENDPOINTS


def documented() -> dict[str, dict[str, str]]:
    """{table or view: {column: type}} as the committed dictionary states it."""
    out: dict[str, dict[str, str]] = {}
    table = None
    for line in DICTIONARY_PATH.read_text(encoding="utf-8").splitlines():
        if line.startswith("### "):
            table = line[4:].strip()
            out[table] = {}
        elif table and (m := re.match(r"^\| `([a-z0-9_]+)` \| `([a-z]+)` \|", line)):
            out[table][m.group(1)] = m.group(2)
    return out


def test_the_committed_dictionary_is_the_generated_one():
    assert DICTIONARY_PATH.read_text(encoding="utf-8") == generate(), \
        "docs/data-dictionary.md is stale: run `python -m pipelines.dictionary` and commit it"
    assert main(["--check"]) == 0


def test_check_fails_on_a_stale_file(tmp_path, capsys):
    stale = tmp_path / "dd.md"
    stale.write_text(generate().replace("Tagged user id", "User id"), encoding="utf-8")
    assert main(["--check", "--output", str(stale)]) == 1
    assert "stale" in capsys.readouterr().err


def test_every_table_view_and_column_has_a_meaning():
    assert set(RUN_LOG_DESCRIPTIONS) == set(RUN_LOG_COLUMNS)
    docs = documented()
    for view in load_views():
        assert view.description and all(c.description for c in view.columns)
        assert list(docs[view.name]) == view.output_columns
    for endpoint in ENDPOINTS:
        assert all(f.description for f in endpoint.fields)
    assert list(docs["pipeline_runs"]) == [*RUN_LOG_COLUMNS, "_dlt_load_id", "_dlt_id"]


def test_the_dictionary_lists_every_column_a_load_creates_with_its_type(loaded):
    docs = documented()
    duckdb_type = {t: sql[0] for t, sql in SQL_TYPES.items()}
    with duckdb.connect(loaded.duckdb_file, read_only=True) as con:
        for table in [e.table for e in ENDPOINTS] + ["pipeline_runs"]:
            actual = con.execute("select column_name, data_type from information_schema.columns where "
                                 "table_schema = 'claude_analytics' and table_name = ? order by ordinal_position",
                                 [table]).fetchall()
            assert actual, table
            assert {c for c, _ in actual} == set(docs[table]), table
            for column, data_type in actual:
                assert duckdb_type[docs[table][column]] == data_type, f"{table}.{column}: {data_type}"
