"""Row shaping: naming rule, types, NULLs, money, keys, summaries envelopes, type drift."""

from __future__ import annotations

import datetime as dt
import logging
from decimal import Decimal

import pyarrow as pa
import pytest

from sources.claude_analytics.endpoints import BY_NAME, ENDPOINTS
from sources.claude_analytics.naming import column_name, shorten
from sources.claude_analytics.rows import TableShaper, declared_columns

DAY = dt.date(2026, 3, 2)


def test_naming_rule_examples():
    assert column_name(("user", "id")) == "user_id"
    assert column_name(("user", "email_address")) == "user_email"
    assert column_name(("chat_metrics", "message_count")) == "chat_message_count"
    assert (
        column_name(("claude_code_metrics", "core_metrics", "lines_of_code", "added_count"))
        == "claude_code_lines_of_code_added_count"
    )
    assert (
        column_name(("claude_code_metrics", "tool_actions", "notebook_edit_tool", "accepted_count"))
        == "claude_code_tool_actions_notebook_edit_tool_accepted_count"
    )
    assert (
        column_name(("office_metrics", "powerpoint", "distinct_connectors_used_count"))
        == "office_powerpoint_distinct_connectors_used_count"
    )
    assert column_name(("created_by", "email_address")) == "created_by_email"


def test_every_declared_column_is_unique_lowercase_and_at_most_63_chars():
    for endpoint in ENDPOINTS:
        names = [f.name for f in endpoint.fields]
        assert len(names) == len(set(names)), endpoint.table
        for name in names:
            assert len(name) <= 63 and name == name.lower() and name.replace("_", "").isalnum(), name
        assert set(endpoint.primary_key) <= set(declared_columns(endpoint))


def test_an_unknown_overlong_name_is_shortened_deterministically():
    long = "x" * 80
    assert len(shorten(long)) == 63 and shorten(long) == shorten(long) and shorten(long) != shorten(long + "y")


def user_row(uid="user_1", **extra):
    row = {
        "user": {"id": uid, "email_address": f"{uid}@example.com"},
        "chat_metrics": {"message_count": 3},
        "claude_code_metrics": {"core_metrics": {"distinct_session_count": None, "lines_of_code": {"added_count": 10}}},
        "cowork_metrics": {"artifacts_created_count": None},
    }
    row.update(extra)
    return row


def test_users_are_stamped_flattened_and_typed():
    table = TableShaper(BY_NAME["users"]).shape([user_row()], DAY)
    row = table.to_pylist()[0]
    assert row["date"] == DAY
    assert row["user_id"] == "user_1" and row["user_email"] == "user_1@example.com"
    assert row["chat_message_count"] == 3
    assert row["claude_code_lines_of_code_added_count"] == 10
    assert row["claude_code_distinct_session_count"] is None  # null stays NULL
    assert row["cowork_artifacts_created_count"] is None  # gated: NULL, never 0
    assert row["web_search_count"] is None  # missing stays NULL
    assert table.schema.field("chat_message_count").type == pa.int64()
    assert table.schema.field("date").type == pa.date32()
    assert not table.schema.field("user_id").nullable
    assert set(declared_columns(BY_NAME["users"])) <= set(table.column_names)


def test_money_in_cents_becomes_decimal_currency_units():
    rows: list[dict[str, str | None]] = [
        {"skill_name": "pdf", "estimated_overage_spend": "1250", "attributed_list_price": "99.5", "currency": "USD"},
        {"skill_name": "xlsx", "estimated_overage_spend": None},
    ]
    table = TableShaper(BY_NAME["skills"]).shape(rows, DAY)
    got = {r["skill_name"]: r for r in table.to_pylist()}
    assert got["pdf"]["estimated_overage_spend"] == Decimal("12.50")
    assert got["pdf"]["attributed_list_price"] == Decimal("0.995")
    assert got["xlsx"]["estimated_overage_spend"] is None
    assert pa.types.is_decimal(table.schema.field("estimated_overage_spend").type)


@pytest.mark.parametrize("keys", [("starting_at", "ending_at"), ("starting_date", "ending_date")])
def test_summaries_rows_carry_their_own_day(keys):
    start = "2026-03-01T00:00:00Z" if keys[0] == "starting_at" else "2026-03-01"
    end = "2026-03-02T00:00:00Z" if keys[0] == "starting_at" else "2026-03-02"
    shaper = TableShaper(BY_NAME["summaries"])
    table = shaper.shape([{keys[0]: start, keys[1]: end, "daily_active_user_count": 5, "daily_adoption_rate": 12.5}])
    row = table.to_pylist()[0]
    assert row["date"] == dt.date(2026, 3, 1)
    assert row["daily_active_user_count"] == 5 and row["daily_adoption_rate"] == 12.5
    assert not {"starting_at", "ending_at", "starting_date", "ending_date"} & set(table.column_names)


def test_rows_without_a_key_are_dropped_with_a_warning(caplog):
    with caplog.at_level(logging.WARNING):
        table = TableShaper(BY_NAME["users"]).shape([user_row(), user_row(uid=None)], DAY)
    assert table.num_rows == 1
    assert "without user_id" in caplog.text


def test_duplicate_keys_keep_the_last_row_with_a_warning(caplog):
    shaper = TableShaper(BY_NAME["users"])
    first = shaper.shape([user_row(chat_metrics={"message_count": 1})], DAY)
    second = shaper.shape([user_row(chat_metrics={"message_count": 2})], DAY)
    with caplog.at_level(logging.WARNING):
        table = shaper.finish(pa.concat_tables([first, second]), DAY, DAY)
    assert table.column("chat_message_count").to_pylist() == [2]
    assert "duplicate" in caplog.text


def test_type_drift_goes_to_a_variant_column_and_keeps_the_column_type(caplog):
    shaper = TableShaper(BY_NAME["users"], known_types={"average_latency_ms": "bigint"})
    with caplog.at_level(logging.WARNING):
        table = shaper.shape(
            [
                user_row(web_search_count="many", average_latency_ms="slow"),
                user_row(uid="user_2", web_search_count=4, average_latency_ms=7),
            ],
            DAY,
        )
    rows = {r["user_id"]: r for r in table.to_pylist()}
    assert table.schema.field("web_search_count").type == pa.int64()
    assert rows["user_1"]["web_search_count"] is None and rows["user_1"]["web_search_count__v_text"] == "many"
    assert rows["user_2"]["web_search_count"] == 4
    assert rows["user_1"]["average_latency_ms__v_text"] == "slow" and rows["user_2"]["average_latency_ms"] == 7
    assert "web_search_count__v_text" in caplog.text


def test_a_new_field_becomes_a_column_and_an_all_null_unknown_field_does_not():
    table = TableShaper(BY_NAME["connectors"]).shape(
        [{"connector_name": "github", "average_latency_ms": 12, "future_flag": None}], DAY
    )
    assert table.column("average_latency_ms").to_pylist() == [12]
    assert "future_flag" not in table.column_names


def test_groups_summed_exactly_across_levels_of_the_cap_split():
    """A day re-fetched by the hour, some hours again by the minute: the hours' money arrives as strings, the
    capped hours' as Decimal sums of their minutes; every one of them counts, exactly."""
    from sources.claude_analytics.queries import sum_groups

    def row(amount, tokens):
        return {"model": "m", "product": "p", "amount": amount, "uncached_input_tokens": tokens}

    minutes_of_hour_1 = sum_groups([row("0.000001", 1), row("2.5", 2)])  # → Decimal("2.500001")
    minutes_of_hour_2 = sum_groups([row("10", 3), row("0.1", 4)])  # → Decimal("10.1")
    [day] = sum_groups([*minutes_of_hour_1, row("41280.000000", 5), *minutes_of_hour_2])
    assert day["amount"] == Decimal("41292.600001") and day["uncached_input_tokens"] == 15
