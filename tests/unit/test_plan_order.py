"""The runner's plan: days an earlier run left missing come first, across endpoints, then oldest first."""

from __future__ import annotations

import datetime as dt

from pipelines.runner import build_plan
from sources.claude_analytics.days import Progress, Unit
from sources.claude_analytics.endpoints import BY_NAME

USERS, SKILLS = BY_NAME["users"], BY_NAME["skills"]
D = dt.date


class Planned:
    """Stands in for Extraction.plan: each endpoint's units as the source plans them."""

    def __init__(self, units: dict[str, list[Unit]]) -> None:
        self.units = units

    def plan(self, endpoint, progress, start=None, end=None) -> list[Unit]:
        return self.units[endpoint.table]


def test_missing_days_come_before_older_days_of_other_endpoints():
    day = {n: Unit(D(2026, 11, n), D(2026, 11, n)) for n in (10, 20, 26, 27)}
    extraction = Planned({"user_activity": [day[20], day[26], day[27]], "skill_usage": [day[10], day[26], day[27]]})
    progress = {
        "user_activity": Progress(D(2026, 11, 25), (D(2026, 11, 20),)),
        "skill_usage": Progress(D(2026, 11, 9)),
    }
    plan = build_plan(extraction, [SKILLS, USERS], progress)  # type: ignore[arg-type]
    assert [(e.table, u.first.day) for e, u in plan] == [
        ("user_activity", 20),  # missing: first, before an older day of skills, which come first in order
        ("skill_usage", 10),
        ("skill_usage", 26),
        ("user_activity", 26),
        ("skill_usage", 27),
        ("user_activity", 27),
    ]
