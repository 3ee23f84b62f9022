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
    assert DICTIONARY_PATH.read_text(encoding="utf-8") == generate(), (
        "docs/data-dictionary.md is stale: run `python -m pipelines.dictionary` and commit it"
    )
    assert main(["--check"]) == 0


def test_check_fails_on_a_stale_file(tmp_path, capsys):
    stale = tmp_path / "dd.md"
    stale.write_text(generate().replace("Tagged user id", "User id"), encoding="utf-8")
    assert main(["--check", "--output", str(stale)]) == 1
    assert "stale" in capsys.readouterr().err


def section(name: str) -> str:
    """The text of one `### name` section of the committed dictionary."""
    text = DICTIONARY_PATH.read_text(encoding="utf-8")
    return text.split(f"\n### {name}\n", 1)[1].split("\n### ", 1)[0].split("\n## ", 1)[0]


def test_every_table_view_and_column_has_a_meaning():
    assert set(RUN_LOG_DESCRIPTIONS) == set(RUN_LOG_COLUMNS)
    assert all(RUN_LOG_DESCRIPTIONS.values())
    docs = documented()
    for view in load_views():
        assert view.description and all(c.description for c in view.columns)
        assert list(docs[view.name]) == view.output_columns
        assert {c.name: c.data_type for c in view.columns} == docs[view.name]
    for endpoint in ENDPOINTS:
        assert all(f.description for f in endpoint.fields)
        assert list(docs[endpoint.table]) == ["date", *(f.name for f in endpoint.fields)], endpoint.table
    assert list(docs["pipeline_runs"]) == [*RUN_LOG_COLUMNS, "_dlt_load_id", "_dlt_id"]


def test_report_tables_document_their_logical_key_and_unattributed_groups():
    for endpoint in ENDPOINTS:
        text = section(endpoint.table)
        key = ", ".join(endpoint.primary_key)
        if endpoint.nullable_key:
            assert f"Logical key ({key}), without a dlt primary key" in text and "group of its own" in text
            assert "365 days back" in text
        else:
            assert f"Merged on ({key})" in text and "lookback_days" in text
        assert "replaces every row of that day" in text
    assert "cents ÷ 100" in DICTIONARY_PATH.read_text(encoding="utf-8")
    for money in ("amount", "list_amount"):
        assert documented()["cost_report"][money] == "decimal"


def test_the_org_chart_is_documented_with_its_keys_and_free_attributes():
    text = section("org_chart")
    assert documented()["org_chart"] == {"email": "text", "user_id": "text"}
    assert "`email` and/or `user_id`" in text and "org_unit_attribute" in text
    assert "(any other column of the file)" in text


def test_the_dictionary_lists_every_column_a_load_creates_with_its_type(loaded):
    docs = documented()
    duckdb_type = {t: sql[0] for t, sql in SQL_TYPES.items()}
    with duckdb.connect(loaded.duckdb_file, read_only=True) as con:
        for table in [e.table for e in ENDPOINTS] + ["pipeline_runs"]:
            actual = con.execute(
                "select column_name, data_type from information_schema.columns where "
                "table_schema = 'claude_analytics' and table_name = ? order by ordinal_position",
                [table],
            ).fetchall()
            assert actual, table
            assert {c for c, _ in actual} == set(docs[table]), table
            for column, data_type in actual:
                assert duckdb_type[docs[table][column]] == data_type, f"{table}.{column}: {data_type}"
        # the org chart: the documented key columns, the rest from the file
        org_chart_types = dict(
            con.execute(
                "select column_name, data_type from information_schema.columns where "
                "table_schema = 'claude_analytics' and table_name = 'org_chart'"
            ).fetchall()
        )
        assert {k: org_chart_types[k] for k in docs["org_chart"]} == {k: "VARCHAR" for k in docs["org_chart"]}
        assert set(org_chart_types) - set(docs["org_chart"]) == set(loaded.org_chart[0]) - {"email", "user_id"}
