"""The organization's people: the org chart, every identity the simulator can show, the CLI's report flags."""

from __future__ import annotations

import argparse
import datetime
import json
import re

from sim_helpers import DAY

from claude_analytics_simulator import add_arguments, config_from_args

CHART_FIELDS = {"email", "user_id", "name", "department", "team", "manager_email", "cost_center", "location"}
EMAIL = re.compile(r"[a-z0-9._+-]+@[a-z0-9.-]+\.[a-z]+")


def test_org_chart(make_sim):
    sim = make_sim(users=500)
    chart = sim.org_chart()
    assert chart == make_sim(users=500).org_chart()  # deterministic
    assert chart != make_sim(users=500, seed=1).org_chart()
    assert all(set(p) == CHART_FIELDS for p in chart)
    emails = [p["email"] for p in chart]
    assert emails == sorted(emails) and len(set(emails)) == len(emails)
    users = {u.email: u for u in sim.organization().users}
    # A few people of the chart have no seat; a few seat users are missing from the chart.
    non_users = [p for p in chart if p["email"] not in users]
    assert 2 <= len(non_users) <= 20 and all(p["user_id"] is None for p in non_users)
    missing = set(users) - set(emails)
    assert 1 <= len(missing) <= 0.06 * len(users)
    for p in chart:
        if p["email"] in users:
            u = users[p["email"]]
            assert p["user_id"] == u.id and p["name"] == u.name
        assert re.fullmatch(r"CC-\d{4}", p["cost_center"]) and p["location"] and p["team"] and p["name"]
    # A handful of departments of uneven size.
    sizes: dict[str, int] = {}
    for p in chart:
        sizes[p["department"]] = sizes.get(p["department"], 0) + 1
    assert 5 <= len(sizes) <= 10 and max(sizes.values()) > 3 * min(sizes.values())
    # One tree: managers are people of the chart, one CEO, everyone reaches the CEO without a cycle.
    manager = {p["email"]: p["manager_email"] for p in chart}
    assert sum(m is None for m in manager.values()) == 1
    assert all(m is None or m in manager for m in manager.values())
    ceo = next(e for e, m in manager.items() if m is None)
    for email in manager:
        seen = set()
        while email != ceo:
            assert email not in seen
            seen.add(email)
            email = manager[email]
    teams = {(p["department"], p["team"]) for p in chart}
    assert len(teams) > len(sizes)


def test_identities_cover_everything_served(make_sim, connect):
    sim = make_sim(users=120)
    ids = sim.identities()
    assert set(ids) == {"emails", "names"}
    emails, names = set(ids["emails"]), set(ids["names"])
    assert ids["emails"] == sorted(emails) and ids["names"] == sorted(names)
    client = connect(sim)
    texts = []
    for day in (DAY, datetime.date(2026, 3, 14), datetime.date(2026, 1, 6)):
        for path in ("/users", "/apps/chat/projects", "/skills", "/connectors", "/plugins", "/artifacts"):
            texts.append(client.get(path, params={"date": day.isoformat(), "limit": 1000}).text)
    served_names = set()
    for path in ("/user_usage_report", "/user_cost_report"):
        page = None
        while True:
            params = {
                "starting_at": "2026-01-01T00:00:00Z",
                "ending_at": "2026-02-01T00:00:00Z",
                "limit": 1000,
                **({"page": page} if page else {}),
            }
            body = client.get(path, params=params).json()
            texts.append(json.dumps(body))
            served_names |= {r["actor"]["name"] for r in body["data"] if r["actor"]["name"]}
            if not body["has_more"]:
                break
            page = body["next_page"]
    served_emails = {m for t in texts for m in EMAIL.findall(t)}
    assert served_emails and served_emails <= emails
    assert served_names and served_names <= names
    assert {"Deleted User", "CI Automation"} <= served_names
    chart = sim.org_chart()
    assert {p["email"] for p in chart} <= emails and {p["name"] for p in chart} <= names
    assert {p["manager_email"] for p in chart} - {None} <= emails
    assert {u.email for u in sim.organization().users} <= emails


def test_cli_flags_for_the_reports():
    parser = argparse.ArgumentParser()
    add_arguments(parser)
    config = config_from_args(parser.parse_args([]))
    assert config.cost_reports_available and config.report_models == 5 and config.report_group_cap == 100
    config = config_from_args(
        parser.parse_args(
            [
                "--no-cost-reports",
                "--cost-denied-status",
                "404",
                "--report-models",
                "30",
                "--report-group-cap",
                "50",
                "--cost-revision",
                "2",
                "--cost-revision-days",
                "7",
            ]
        )
    )
    assert config.cost_reports_available is False and config.cost_reports_denied_status == 404
    assert (config.report_models, config.report_group_cap, config.cost_revision, config.cost_revision_days) == (
        30,
        50,
        2,
        7,
    )
