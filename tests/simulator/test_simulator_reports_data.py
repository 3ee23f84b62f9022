"""The cost & usage reports' data laws, checked over real sockets against `expected_report`:
shapes, exact sums across widths, groupings and actors, the cap, actors, revisions, money, speed."""

from __future__ import annotations

import datetime
import re
import time
from decimal import Decimal

import pytest
from sim_helpers import DAY

from claude_analytics_simulator import (
    CONTEXT_WINDOWS,
    COST_TYPES,
    INFERENCE_GEOS,
    PRODUCTS,
    SPEEDS,
    TOKEN_TYPES,
    Organization,
    ReportData,
)
from claude_analytics_simulator.report_answers import bucket_results
from claude_analytics_simulator.report_query import View

DIMS = ("product", "model", "context_window", "inference_geo", "speed")
ALL = DIMS
COST_ALL = DIMS + ("cost_type", "token_type")
MONEY = re.compile(r"\d+\.\d{6}")
USAGE_RESULT = {
    *DIMS,
    "uncached_input_tokens",
    "cache_creation",
    "cache_read_input_tokens",
    "output_tokens",
    "server_tool_use",
    "requests",
}
COST_RESULT = {*DIMS, "cost_type", "token_type", "currency", "amount", "list_amount", "requests"}
ACTOR = {"type", "user_id", "name", "email_address", "email", "deleted"}
NEXT = DAY + datetime.timedelta(days=1)
UNCAPPED = 100_000


def at(moment: datetime.date | datetime.datetime) -> str:
    if isinstance(moment, datetime.datetime):
        return moment.strftime("%Y-%m-%dT%H:%M:%SZ")
    return f"{moment.isoformat()}T00:00:00Z"


def walk(client, path: str, **params) -> list[dict]:
    items, page = [], None
    while True:
        response = client.get(path, params={**params, **({"page": page} if page else {})})
        assert response.status_code == 200, response.text
        body = response.json()
        items += body["data"]
        if not body["has_more"]:
            return items
        page = body["next_page"]


def buckets(client, path: str, start, end, width: str, group_by=(), **extra) -> list[dict]:
    most = {"1d": 31, "1h": 168, "1m": 1440}[width]
    return walk(
        client,
        path,
        starting_at=at(start),
        ending_at=at(end),
        bucket_width=width,
        limit=most,
        **{"group_by[]": list(group_by)},
        **extra,
    )


def user_rows(client, path: str, start, end, width: str | None = "1d", group_by=(), **extra) -> list[dict]:
    params = {"starting_at": at(start), "ending_at": at(end), "limit": 1000, "group_by[]": list(group_by), **extra}
    if width:
        params["bucket_width"] = width
    return walk(client, path, **params)


def values(row: dict) -> tuple:
    """The additive values of a result or row (money as exact decimals)."""
    if "amount" in row:
        return Decimal(row["amount"]), Decimal(row["list_amount"]), row["requests"] or 0
    return (
        row["uncached_input_tokens"],
        row["cache_creation"]["ephemeral_5m_input_tokens"],
        row["cache_creation"]["ephemeral_1h_input_tokens"],
        row["cache_read_input_tokens"],
        row["output_tokens"],
        row["server_tool_use"]["web_search_requests"],
        row["requests"],
    )


def key(row: dict, fields=COST_ALL, per_user: bool = False) -> tuple:
    k = tuple(row.get(f) for f in fields)
    return (row["actor"]["user_id"], *k) if per_user else k


def total(rows, fields=COST_ALL, per_user: bool = False, keep=lambda r: True) -> dict[tuple, tuple]:
    """{key: summed values} over rows."""
    out: dict[tuple, tuple] = {}
    for r in rows:
        if keep(r):
            k, v = key(r, fields, per_user), values(r)
            out[k] = tuple(a + b for a, b in zip(out[k], v)) if k in out else v
    return out


def results(bucket_list: list[dict]) -> list[dict]:
    return [r for b in bucket_list for r in b["results"]]


# ---- shapes --------------------------------------------------------------------------------------


def test_bucketed_result_shapes(make_sim, connect):
    client = connect(make_sim(report_group_cap=UNCAPPED))  # small groups (code execution) beyond the cap too
    usage = buckets(client, "/usage_report", DAY, NEXT, "1d", ("product", "model"))[0]["results"]
    assert usage and all(set(r) == USAGE_RESULT for r in usage)
    for r in usage:
        assert r["context_window"] is r["inference_geo"] is r["speed"] is None  # not grouped: null
        assert r["product"] in (*PRODUCTS, "other", None) and r["model"].startswith("claude-")
        assert all(type(v) is int and v >= 0 for v in values(r)) and r["requests"] >= 1
    assert {r["product"] for r in usage} >= {"chat", "claude_code", None, "other"}

    cost = buckets(client, "/cost_report", DAY, NEXT, "1d", COST_ALL)[0]["results"]
    assert cost and all(set(r) == COST_RESULT for r in cost)
    for r in cost:
        assert r["currency"] == "USD" and MONEY.fullmatch(r["amount"]) and MONEY.fullmatch(r["list_amount"])
        assert Decimal(r["amount"]) <= Decimal(r["list_amount"])
        assert r["requests"] is None  # grouped by cost_type / token_type
        assert r["cost_type"] in COST_TYPES
        assert r["context_window"] in CONTEXT_WINDOWS and r["inference_geo"] in INFERENCE_GEOS
        assert r["speed"] in SPEEDS
        assert (r["token_type"] in TOKEN_TYPES) == (r["cost_type"] == "tokens")
        assert r["token_type"] is None or r["cost_type"] == "tokens"
    assert {r["cost_type"] for r in cost} == set(COST_TYPES) and {r["token_type"] for r in cost} >= set(TOKEN_TYPES)

    plain = buckets(client, "/cost_report", DAY, NEXT, "1d")[0]["results"]
    assert len(plain) == 1 and plain[0]["cost_type"] is plain[0]["token_type"] is plain[0]["product"] is None
    assert type(plain[0]["requests"]) is int
    by_token = buckets(client, "/cost_report", DAY, NEXT, "1d", ("token_type",))[0]["results"]
    assert {r["token_type"] for r in by_token} == {*TOKEN_TYPES, None}  # None: web search and code execution
    assert all(r["cost_type"] is None and r["requests"] is None for r in by_token)


def test_per_user_row_shapes(sim, client):
    usage = user_rows(client, "/user_usage_report", DAY, NEXT, "1d", ("product",))
    for r in usage:
        assert set(r) == {"starting_at", "ending_at", "actor", *USAGE_RESULT, "total_tokens"}
        assert (r["starting_at"], r["ending_at"]) == (at(DAY), at(NEXT))
        assert set(r["actor"]) == ACTOR and r["actor"]["type"] == "user_actor"
        assert r["total_tokens"] == sum(values(r)[:5])
        assert r["product"] in PRODUCTS and r["model"] is None
    cost = user_rows(client, "/user_cost_report", DAY, NEXT, None, ("model",))
    for r in cost:
        assert set(r) == {"actor", *DIMS, "currency", "amount", "list_amount", "requests"}  # no cost_type/token_type
        assert MONEY.fullmatch(r["amount"]) and Decimal(r["amount"]) <= Decimal(r["list_amount"])
        assert type(r["requests"]) is int
    split = user_rows(client, "/user_cost_report", DAY, NEXT, None, ("cost_type",))
    assert all(
        set(r) == {"actor", *DIMS, "cost_type", "currency", "amount", "list_amount", "requests"}
        and r["requests"] is None
        for r in split
    )


# ---- sums ----------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "path,group_by",
    [("/usage_report", ALL), ("/cost_report", COST_ALL), ("/cost_report", ("product",)), ("/usage_report", ())],
)
def test_hours_sum_to_the_day_and_minutes_to_the_hour(make_sim, connect, path, group_by):
    sim = make_sim(users=150, report_group_cap=UNCAPPED)
    client = connect(sim)
    day = buckets(client, path, DAY, NEXT, "1d", group_by)
    hours = buckets(client, path, DAY, NEXT, "1h", group_by)
    assert len(day) == 1 and len(hours) == 24
    assert total(hours[0]["results"]) != total(day[0]["results"])  # the hours really are parts
    assert total(results(hours)) == total(day[0]["results"])
    for hour in (9, 15):
        start = datetime.datetime.combine(DAY, datetime.time(hour))
        minutes = buckets(client, path, start, start + datetime.timedelta(hours=1), "1m", group_by)
        assert len(minutes) == 60 and sum(bool(b["results"]) for b in minutes) > 1
        assert total(results(minutes)) == total(hours[hour]["results"])


def test_per_user_hours_sum_to_the_day(sim, client):
    for path in ("/user_usage_report", "/user_cost_report"):
        daily = user_rows(client, path, DAY, NEXT, "1d", ("product", "model"))
        hourly = user_rows(client, path, DAY, NEXT, "1h", ("product", "model"))
        assert len(hourly) > len(daily)
        assert total(hourly, DIMS, per_user=True) == total(daily, DIMS, per_user=True)
        assert len({r["starting_at"] for r in hourly}) > 6  # traffic spreads over the hours of the day


@pytest.mark.parametrize(
    "org_path,user_path", [("/usage_report", "/user_usage_report"), ("/cost_report", "/user_cost_report")]
)
def test_the_organization_is_its_users_plus_unattributed_traffic(make_sim, connect, org_path, user_path):
    sim = make_sim(users=150, report_group_cap=UNCAPPED)
    client = connect(sim)
    for group_by in (("product",), ("product", "model", "speed")):
        org = total(buckets(client, org_path, DAY, NEXT, "1d", group_by)[0]["results"])
        users = user_rows(client, user_path, DAY, NEXT, "1d", group_by)
        by_group = total(users, COST_ALL)  # summed over users
        unattributed = {k: v for k, v in org.items() if k[0] in (None, "other")}
        assert unattributed  # API keys (null) and automation (`other`) exist only org-wide
        assert {k: v for k, v in org.items() if k[0] not in (None, "other")} == by_group
    # Ungrouped: one total = every per-user row + the unattributed groups.
    whole = values(buckets(client, org_path, DAY, NEXT, "1d")[0]["results"][0])
    rows = user_rows(client, user_path, DAY, NEXT, None)
    parts = [values(r) for r in rows] + list(unattributed.values())
    assert whole == tuple(sum(col) for col in zip(*parts))


@pytest.mark.parametrize(
    "path,fine",
    [("/usage_report", ALL), ("/cost_report", COST_ALL), ("/user_usage_report", ALL), ("/user_cost_report", COST_ALL)],
)
def test_fewer_dimensions_are_sums_of_finer_groups(make_sim, connect, path, fine):
    sim = make_sim(users=150, report_group_cap=UNCAPPED)
    client = connect(sim)
    per_user = path.startswith("/user_")

    def served(group_by):
        if per_user:
            return user_rows(client, path, DAY, NEXT, "1d", group_by)
        return buckets(client, path, DAY, NEXT, "1d", group_by)[0]["results"]

    def money_only(sums):  # `requests` is null in rows split by cost_type/token_type: compare money there
        return {k: v[:2] for k, v in sums.items()} if "cost_type" in fine else sums

    finest = served(fine)
    for coarse in (("product",), ("model", "speed"), ("context_window", "inference_geo"), ()):
        hidden = {f: None for f in fine if f not in coarse}
        rolled = total([{**r, **hidden} for r in finest], COST_ALL, per_user)
        assert money_only(rolled) == money_only(total(served(coarse), COST_ALL, per_user)), coarse
    if "cost_type" in fine:  # requests roll up from the rows that carry them
        by_product = served(("product",))
        assert total(by_product, COST_ALL, per_user) == total(
            [{**r, **{f: None for f in DIMS[1:]}} for r in served(DIMS)], COST_ALL, per_user
        )


def test_usage_follows_the_users_activity(make_sim):
    sim = make_sim(users=300)
    flags = {
        "chat": lambda r: r["chat_metrics"]["message_count"] > 0,
        "claude_code": lambda r: r["claude_code_metrics"]["core_metrics"]["lines_of_code"]["added_count"] > 0,
        "cowork": lambda r: r["cowork_metrics"]["distinct_session_count"] > 0,
        "office_agent": lambda r: any(p["distinct_session_count"] for p in r["office_metrics"].values()),
        "claude_design": lambda r: r["design_metrics"]["message_count"] > 0,
    }
    extra_seen = set()
    for day in (DAY, datetime.date(2026, 3, 14), datetime.date(2026, 1, 5)):
        active = {r["user"]["id"]: {p for p, f in flags.items() if f(r)} for r in sim.expected("/users", day)}
        emails = {r["user"]["id"]: r["user"]["email_address"] for r in sim.expected("/users", day)}
        products: dict[str, set] = {}
        for r in sim.expected_report("/user_usage_report", day, ("product",)):
            actor = r["actor"]
            if actor["user_id"] in active:
                assert actor["email_address"] == emails[actor["user_id"]] and actor["deleted"] is False
            products.setdefault(actor["user_id"], set()).add(r["product"])
        seats = {u: p for u, p in products.items() if u in active}
        assert set(seats) == set(active)  # every active seat user has usage, and nobody else with a seat
        for user, used in seats.items():
            assert used & set(flags) == active[user]  # a product's usage exactly when /users shows it
            extra_seen |= used - set(flags)
    assert extra_seen == {"claude_in_chrome", "claude_tag"}


# ---- actors --------------------------------------------------------------------------------------


def test_actors_are_the_users_plus_three_special_accounts(make_sim, connect):
    sim = make_sim(users=200)
    client = connect(sim)
    first, end = datetime.date(2026, 3, 2), datetime.date(2026, 3, 14)
    rows = user_rows(client, "/user_usage_report", first, end, None)
    ids = [r["actor"]["user_id"] for r in rows]
    assert ids == sorted(ids) and len(set(ids)) == len(ids)  # one row per actor for the whole range
    seats = {u.id: u for u in sim.organization().users}
    specials = [r["actor"] for r in rows if r["actor"]["user_id"] not in seats]
    for r in rows:
        actor = r["actor"]
        assert re.fullmatch(r"user_[0-9a-f]{24}", actor["user_id"]) and actor["type"] == "user_actor"
        if actor["user_id"] in seats:
            user = seats[actor["user_id"]]
            assert actor["email_address"] == actor["email"] == user.email and actor["deleted"] is False
            first_name, last_name = user.email.split("@")[0].rstrip("0123456789").split(".")
            assert actor["name"] == f"{first_name.title()} {last_name.title()}"
    by_kind = {(a["deleted"], a["name"] is None, a["email_address"] is None): a for a in specials}
    assert len(specials) == 3 and set(by_kind) == {(True, True, False), (True, False, True), (False, False, True)}
    removed, deleted = by_kind[(True, True, False)], by_kind[(True, False, True)]
    service = by_kind[(False, False, True)]
    assert removed["email"] == removed["email_address"]
    assert removed["email_address"] not in {u.email for u in seats.values()}
    assert deleted["name"] == "Deleted User" and deleted["email"] is None
    assert service["name"] and service["email"] is None
    # exclude_deleted_users drops the two deleted accounts and nobody else.
    kept = user_rows(client, "/user_usage_report", first, end, None, exclude_deleted_users="true")
    gone = (removed["user_id"], deleted["user_id"])
    assert [r["actor"]["user_id"] for r in kept] == [i for i in ids if i not in gone]
    # Special accounts never show on /users.
    served = {r["user"]["id"] for d in range(2, 15) for r in sim.expected("/users", datetime.date(2026, 3, d))}
    assert not served & {a["user_id"] for a in specials}


def test_removed_accounts_stop_having_traffic(make_sim):
    sim = make_sim(users=50, today=datetime.date(2026, 11, 1))
    removed = [a for a in sim._reports().data.actors if a.until is not None]
    assert len(removed) == 2
    for actor in removed:
        after = actor.until + datetime.timedelta(days=1)
        rows = sim.expected_report("/user_cost_report", after) + sim.expected_report(
            "/user_cost_report", actor.until + datetime.timedelta(days=7)
        )
        assert actor.user_id not in {r["actor"]["user_id"] for r in rows}


# ---- the cap -------------------------------------------------------------------------------------


def test_the_cap_keeps_the_top_groups_and_hours_recover_the_rest(make_sim, connect):
    sim = make_sim(users=400, report_models=40)  # the default cap: 100 groups per bucket
    client = connect(sim)
    truth = sim.expected_report("/usage_report", DAY, ALL)
    assert len(truth) > 130
    served = buckets(client, "/usage_report", DAY, NEXT, "1d", ALL)[0]["results"]
    assert served == truth[:100]
    ranks = [sum(values(r)[:5]) for r in truth]
    assert ranks == sorted(ranks, reverse=True)  # the top ones by total tokens
    hours = buckets(client, "/usage_report", DAY, NEXT, "1h", ALL)
    assert max(len(b["results"]) for b in hours) < 100  # each hour stays below the cap ...
    assert total(results(hours)) == total(truth)  # ... so splitting by hour recovers every group


def test_the_cap_of_the_cost_report(make_sim, connect):
    sim = make_sim(users=200, report_group_cap=25)
    client = connect(sim)
    truth = sim.expected_report("/cost_report", DAY, ("product", "model", "cost_type", "token_type"))
    assert len(truth) > 25
    served = buckets(client, "/cost_report", DAY, NEXT, "1d", ("product", "model", "cost_type", "token_type"))
    assert served[0]["results"] == truth[:25]
    amounts = [Decimal(r["amount"]) for r in truth]
    assert amounts == sorted(amounts, reverse=True)  # the top ones by amount
    # The per-user reports are never capped.
    assert len(sim.expected_report("/user_cost_report", DAY, ("product", "model"))) > 25
    assert len(user_rows(client, "/user_cost_report", DAY, NEXT, "1d", ("product", "model"))) > 25


def test_cap_ties_are_broken_by_the_group_key():
    view = View(cost=True, per_user=False, group_by=frozenset({"product", "model"}))
    groups = {
        ("chat", "m2", None, None, None): [10, 5, 1],
        ("chat", "m1", None, None, None): [10, 5, 1],
        (None, "m1", None, None, None): [10, 5, 1],  # null sorts first
        ("chat", "m0", None, None, None): [9, 6, 1],  # more amount wins whatever its key
    }
    top = bucket_results(groups, view, 3)
    assert [(r["product"], r["model"]) for r in top] == [("chat", "m0"), (None, "m1"), ("chat", "m1")]
    usage = View(cost=False, per_user=False, group_by=frozenset({"model"}))
    vec = [1, 0, 0, 0, 1, 0, 1, 0]
    tied = {(None, m, None, None, None): list(vec) for m in ("b", "c", "a")}
    assert [r["model"] for r in bucket_results(tied, usage, 2)] == ["a", "b"]


# ---- order and filters ---------------------------------------------------------------------------


def test_order_by_and_order(sim, client):
    default = user_rows(client, "/user_cost_report", DAY, NEXT, "1d", ("product",))
    for order_by in ("amount", "list_amount"):
        for order in ("desc", "asc"):
            rows = user_rows(client, "/user_cost_report", DAY, NEXT, "1d", ("product",), order_by=order_by, order=order)
            assert sorted(rows, key=str) == sorted(default, key=str)  # the same rows, reordered
            sign = -1 if order == "desc" else 1
            keys = [(sign * Decimal(r[order_by]), r["actor"]["user_id"], r["product"]) for r in rows]
            assert keys == sorted(keys)  # ties by user id, then group key
    rows = user_rows(client, "/user_usage_report", DAY, NEXT, None, order_by="output_tokens", order="asc")
    assert [r["output_tokens"] for r in rows] == sorted(r["output_tokens"] for r in rows)
    desc = user_rows(client, "/user_usage_report", DAY, NEXT, None, order_by="total_tokens")  # desc by default
    assert [r["total_tokens"] for r in desc] == sorted((r["total_tokens"] for r in desc), reverse=True)


def test_filters(make_sim, connect):
    sim = make_sim(users=300, report_group_cap=UNCAPPED)
    client = connect(sim)
    truth = sim.expected_report("/usage_report", DAY, ALL)

    def served(**filters):
        return buckets(client, "/usage_report", DAY, NEXT, "1d", ALL, **filters)[0]["results"]

    tagged = served(**{"products[]": ["claude-tag"]})
    assert tagged and tagged == [r for r in truth if r["product"] == "claude_tag"]  # filter spelling, answer spelling
    two = served(**{"products[]": ["chat", "cowork"]})
    assert two == [r for r in truth if r["product"] in ("chat", "cowork")]
    model = truth[0]["model"]
    assert served(**{"models[]": [model]}) == [r for r in truth if r["model"] == model]
    assert served(**{"context_windows[]": ["200k-1M"], "speeds[]": ["fast"]}) == [
        r for r in truth if r["context_window"] == "200k-1M" and r["speed"] == "fast"
    ]
    assert served(**{"inference_geos[]": ["us"]}) == [r for r in truth if r["inference_geo"] == "us"]
    # No products[] value selects the unattributed traffic (product null or `other`).
    every = served(
        **{
            "products[]": [
                "chat",
                "claude_code",
                "cowork",
                "office_agent",
                "claude_in_chrome",
                "claude_design",
                "claude-tag",
            ]
        }
    )
    assert every == [r for r in truth if r["product"] not in (None, "other")] and len(every) < len(truth)
    # user_ids[] on the org-level report: exactly that user's traffic.
    someone = sim.expected_report("/user_usage_report", DAY, ALL)[0]["actor"]["user_id"]
    mine = [r for r in sim.expected_report("/user_usage_report", DAY, ALL) if r["actor"]["user_id"] == someone]
    assert total(served(**{"user_ids[]": [someone]}), DIMS) == total(mine, DIMS)
    assert served(**{"user_ids[]": ["user_nobody"]}) == []


# ---- revisions -----------------------------------------------------------------------------------


def test_cost_revisions_change_only_the_last_days(make_sim, connect):
    sim = make_sim(users=150, report_group_cap=UNCAPPED, cost_revision_days=30)  # revised: 02-13 … 03-14
    client = connect(sim)
    reports = {
        "/usage_report": ("product", "model"),
        "/cost_report": ("product", "model", "cost_type", "token_type"),
        "/user_usage_report": ("product", "model"),
        "/user_cost_report": ("product", "model"),
    }
    old_day, new_day = datetime.date(2026, 2, 12), datetime.date(2026, 2, 13)
    before = {(p, d): sim.expected_report(p, d, g) for p, g in reports.items() for d in (old_day, new_day, DAY)}
    sim.config.cost_revision = 1
    for path, group_by in reports.items():
        assert sim.expected_report(path, old_day, group_by) == before[(path, old_day)]  # older days never change
        for day in (new_day, DAY):
            old, new = before[(path, day)], sim.expected_report(path, day, group_by)
            gone = min((r["product"], r["model"]) for r in before[("/user_usage_report", day)])
            assert any((r["product"], r["model"]) == gone for r in old)
            assert all((r["product"], r["model"]) != gone for r in new)  # the first group is gone everywhere
            per_user = path.startswith("/user_")
            old_sums = total([r for r in old if (r["product"], r["model"]) != gone], COST_ALL, per_user)
            new_sums = total(new, COST_ALL, per_user)
            assert set(new_sums) == set(old_sums)
            for k, v in new_sums.items():  # every other group grew
                assert all(a >= b for a, b in zip(v, old_sums[k])) and v != old_sums[k]
            if path == "/usage_report":  # by a few percent (small counts grow by at least one)
                new_tokens = sum(sum(v[:5]) for v in new_sums.values())
                old_tokens = sum(sum(v[:5]) for v in old_sums.values())
                assert old_tokens < new_tokens <= old_tokens * 1.05
    # Over HTTP, and the laws still hold on a revised day.
    org = total(buckets(client, "/usage_report", DAY, NEXT, "1d", ("product",))[0]["results"])
    users = total(user_rows(client, "/user_usage_report", DAY, NEXT, "1d", ("product",)), COST_ALL)
    assert {k: v for k, v in org.items() if k[0] not in (None, "other")} == users
    hours = buckets(client, "/usage_report", DAY, NEXT, "1h", ("product",))
    assert total(results(hours)) == org
    everything = (None,) * 7
    level1 = total(sim.expected_report("/usage_report", DAY))[everything]
    sim.config.cost_revision = 2
    level2 = total(sim.expected_report("/usage_report", DAY))[everything]
    assert all(a > b for a, b in zip(level2, level1))  # each level grows a little more


# ---- money ---------------------------------------------------------------------------------------


def test_money_is_exact_decimal_cents(make_sim):
    sim = make_sim(users=100)
    rows = sim.expected_report("/user_cost_report", DAY, ("product", "model"))
    fractions = {r["amount"].split(".")[1] for r in rows}
    assert len(fractions) > 5  # real fractions of a cent, not just ".000000"
    org = sim.expected_report("/cost_report", DAY, ("product", "model"))
    named = sum(Decimal(r["amount"]) for r in org if r["product"] not in (None, "other"))
    assert named == sum(Decimal(r["amount"]) for r in rows)  # exact, no float drift
    assert all(Decimal(r["amount"]) < Decimal(r["list_amount"]) for r in org)  # a negotiated discount


def test_money_samples(make_sim, connect):
    samples = ("41280.000000", "0.000001", "123456789.123456")
    sim = make_sim(users=100, money_samples=samples, report_group_cap=UNCAPPED)
    client = connect(sim)
    plain = make_sim(users=100, report_group_cap=UNCAPPED)
    for path in ("/cost_report", "/user_cost_report"):
        if path == "/cost_report":
            group_by: tuple = ("model",)
            served = buckets(client, path, DAY, NEXT, "1d", group_by)[0]["results"]
        else:
            group_by = ()
            served = user_rows(client, path, DAY, NEXT, "1d")
        assert served == sim.expected_report(path, DAY, group_by)
        assert [(r["amount"], r["list_amount"]) for r in served[:3]] == [(s, s) for s in samples]
        assert served[3:] == plain.expected_report(path, DAY, group_by)[3:]
    # Hourly: the first results of the day carry them, across buckets, and the next day again.
    hours = buckets(client, "/cost_report", DAY, DAY + datetime.timedelta(days=2), "1h")
    amounts = [r["amount"] for b in hours for r in b["results"]]
    first_of_next = sum(len(b["results"]) for b in hours[:24])
    assert amounts[:3] == list(samples) and amounts[first_of_next : first_of_next + 3] == list(samples)
    assert sum(a in samples for a in amounts) == 6
    assert all(sample not in str(sim.expected_report("/usage_report", DAY)) for sample in samples[1:])


# ---- truth, determinism, models ------------------------------------------------------------------


@pytest.mark.parametrize(
    "path,group_by",
    [
        ("/usage_report", ()),
        ("/usage_report", ALL),
        ("/cost_report", COST_ALL),
        ("/user_usage_report", ("model",)),
        ("/user_cost_report", COST_ALL),
    ],
)
def test_expected_report_is_what_is_served(make_sim, connect, path, group_by):
    sim = make_sim(users=120, report_group_cap=UNCAPPED)
    client = connect(sim)
    for day in (DAY, datetime.date(2026, 1, 1), datetime.date(2026, 3, 14)):
        nxt = day + datetime.timedelta(days=1)
        if path.startswith("/user_"):
            served = user_rows(client, path, day, nxt, "1d", group_by)
        else:
            served = buckets(client, path, day, nxt, "1d", group_by)[0]["results"]
        assert served == sim.expected_report(path, day, group_by)
    with pytest.raises(ValueError):
        sim.expected_report(path, datetime.date(2026, 3, 15))  # today: never served
    with pytest.raises(ValueError, match="group_by"):
        sim.expected_report(path, DAY, ("user_id",))


def test_reports_are_deterministic(make_sim):
    a, b, c = make_sim(users=80), make_sim(users=80), make_sim(users=80, seed=43)
    for path in ("/cost_report", "/user_usage_report"):
        assert a.expected_report(path, DAY, ("product", "model")) == b.expected_report(path, DAY, ("product", "model"))
        assert a.expected_report(path, DAY, ("product", "model")) != c.expected_report(path, DAY, ("product", "model"))


def test_report_models(make_sim):
    few = make_sim(users=300, report_models=2)
    many = make_sim(users=300, report_models=14)
    assert len({r["model"] for r in few.expected_report("/usage_report", DAY, ("model",))}) == 2
    models = {r["model"] for r in many.expected_report("/usage_report", DAY, ("model",))}
    assert len(models) > 8 and any("custom" in m for m in models)
    assert len(many.expected_report("/usage_report", DAY, ALL)) > len(few.expected_report("/usage_report", DAY, ALL))


def test_generated_days_are_cached_and_bounded():
    data = ReportData(Organization(42, 200), cache_cells=600)
    days = [DAY - datetime.timedelta(days=k) for k in range(8)]
    first = [data.day(d).cells for d in days]
    assert data.generated == 8 and data._cached_cells <= 600 + max(len(c) for c in first)
    assert data.day(days[-1]).cells is first[-1] and data.generated == 8  # the newest are kept ...
    assert data.day(days[0]).cells == first[0] and data.generated == 9  # ... the oldest regenerate identically


# ---- speed (measured, never asserted as a time) --------------------------------------------------


def test_ten_thousand_users_a_day_of_user_cost_report(make_sim, connect, record_property):
    sim = make_sim(users=10_000)
    client = connect(sim)
    params = {
        "starting_at": at(DAY),
        "ending_at": at(NEXT),
        "bucket_width": "1d",
        "limit": 1000,
        "group_by[]": ["product", "model"],
    }
    started = time.perf_counter()
    first = client.get("/user_cost_report", params=params).json()
    record_property("first_page_seconds", round(time.perf_counter() - started, 3))
    assert len(first["data"]) == 1000 and first["has_more"]
    assert sim.cache_info()["report_days_generated"] == 1
    started = time.perf_counter()
    rows = walk(client, "/user_cost_report", **params)
    record_property("all_pages_seconds", round(time.perf_counter() - started, 3))
    active = len(sim.expected("/users", DAY))
    assert active < len({r["actor"]["user_id"] for r in rows}) <= active + 3
    info = sim.cache_info()
    assert info["report_days_generated"] == 1  # every page was a slice of the one generated day
    assert info["report_misses"] == 1 and info["report_hits"] >= len(rows) // 1000


def test_fifty_thousand_users_work(record_property):
    started = time.perf_counter()
    data = ReportData(Organization(42, 50_000))
    day = data.day(DAY)
    record_property("cells_seconds", round(time.perf_counter() - started, 3))
    assert len({c.actor for c in day.cells if c.actor >= 0}) > 25_000
