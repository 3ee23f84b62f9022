"""The column-wise shaping path (TableShaper.shape gathers columns without a dict per row): ragged rows.

Rows that lack fields, carry extra ones, or map two paths to one column name must line up exactly as
the row-wise flattening (`TableShaper.flatten`) would place them.
"""

from __future__ import annotations

import datetime as dt

from sources.claude_analytics.endpoints import BY_NAME
from sources.claude_analytics.rows import TableShaper
from tests.helpers import flatten

DAY = dt.date(2026, 2, 2)


def _row(user: str, **extra) -> dict:
    return {"user": {"id": user, "email_address": f"{user}@example.com"}, **extra}


def test_ragged_rows_line_up_with_row_wise_flattening():
    shaper = TableShaper(BY_NAME["users"])
    rows = [
        _row("u1", chat_metrics={"message_count": 3}),
        _row("u2"),  # no chat metrics at all
        _row("u3", chat_metrics={"message_count": 5}, brand_new={"thing_count": 7}),  # a new field, late
        _row("u4", web_search_count=2),
    ]
    table = shaper.shape(rows, DAY)
    assert table.column("user_id").to_pylist() == ["u1", "u2", "u3", "u4"]
    assert table.column("chat_message_count").to_pylist() == [3, None, 5, None]
    assert table.column("brand_new_thing_count").to_pylist() == [None, None, 7, None]
    assert table.column("web_search_count").to_pylist() == [None, None, None, 2]
    for i, row in enumerate(rows):  # every value where an independent row-wise flattening puts it
        for name, value in flatten(row).items():
            assert table.column(name)[i].as_py() == value


def test_two_paths_with_one_name_keep_the_last_and_rows_without_a_key_drop_cleanly():
    shaper = TableShaper(BY_NAME["users"])
    rows = [
        # `core_metrics` is dropped from names: both paths are column `web_search_count`; the last wins
        _row("u1", web_search_count=1, core_metrics={"web_search_count": 9}),
        {"user": {"email_address": "nobody@example.com"}, "web_search_count": 4},  # no user id: dropped
        _row("u3", web_search_count=3),
    ]
    table = shaper.shape(rows, DAY)
    assert table.column("user_id").to_pylist() == ["u1", "u3"]
    assert table.column("web_search_count").to_pylist() == [9, 3]
    assert table.column("user_email").to_pylist() == ["u1@example.com", "u3@example.com"]
    assert table.column("date").to_pylist() == [DAY, DAY]
