"""The people of the synthetic organization: report actors, the org chart, and every identity served.

Pure and deterministic from (seed, users), like `data.py`. The seat users are `Organization.users`
(the ids and emails `/users` serves). The per-user cost & usage reports (spec §5.3) also name a few
accounts `/users` never shows: a removed member, a deleted account and a service account.
"""

from __future__ import annotations

import datetime
import hashlib
from dataclasses import dataclass

from .data import FIRST_NAMES, LAST_NAMES, Organization, User

# Kinds of report actor.
SEAT, REMOVED, DELETED, SERVICE = "user", "removed_member", "deleted_account", "service_account"
DELETED_NAME = "Deleted User"
SERVICE_NAME = "CI Automation"

DEPARTMENTS = (
    # department, share of the people, teams
    ("Engineering", 0.38, ("Platform", "Product Engineering", "Data", "Infrastructure", "Security")),
    ("Sales", 0.18, ("Americas", "EMEA", "APAC")),
    ("Customer Success", 0.12, ("Support", "Onboarding")),
    ("Marketing", 0.1, ("Brand", "Growth")),
    ("Operations", 0.08, ("Business Operations", "IT")),
    ("Finance", 0.06, ("Accounting", "FP&A")),
    ("Legal", 0.04, ("Legal",)),
    ("People", 0.04, ("Recruiting", "People Partners")),
)
LOCATIONS = (
    ("London", 0.22),
    ("New York", 0.22),
    ("San Francisco", 0.18),
    ("Berlin", 0.12),
    ("Singapore", 0.08),
    ("Toronto", 0.08),
    ("Remote", 0.10),
)
NOT_IN_CHART = 0.03  # share of the users missing from the org chart (contractors, new joiners)


def _digest(*parts: object) -> bytes:
    return hashlib.sha256(":".join(str(p) for p in parts).encode()).digest()


def _unit(*parts: object) -> float:
    return int.from_bytes(_digest(*parts)[:8], "big") / 2**64


def _pick(weighted: tuple, u: float) -> int:
    """The index of the weighted choice that the uniform u falls in."""
    for k, item in enumerate(weighted):
        u -= item[1]
        if u < 0:
            return k
    return len(weighted) - 1


@dataclass(frozen=True)
class Actor:
    """Someone the per-user reports name: a seat user or one of the special accounts."""

    user_id: str
    name: str | None
    email: str | None
    deleted: bool
    kind: str  # SEAT | REMOVED | DELETED | SERVICE
    intensity: float  # how much traffic an active day holds
    traits: bytes  # six hash bytes: habits (model, context window, geo, speed, hours, extra products)
    until: datetime.date | None = None  # removed accounts: the last day with traffic

    def as_json(self) -> dict:
        return {
            "type": "user_actor",
            "user_id": self.user_id,
            "name": self.name,
            "email_address": self.email,
            "email": self.email,
            "deleted": self.deleted,
        }


def seat_actor(user: User) -> Actor:
    return Actor(user.id, user.name, user.email, False, SEAT, user.intensity, user.traits)


def special_actors(org: Organization) -> list[Actor]:
    """The three accounts only the per-user reports show (none in an empty organization)."""
    if org.size == 0:
        return []
    out = []
    for k, kind in enumerate((REMOVED, DELETED, SERVICE)):
        d = _digest(org.seed, "special", kind)
        user_id = "user_" + d[:12].hex()
        if kind == REMOVED:
            # A removed member keeps the email of their old seat (numbered after the current seats).
            first, last = FIRST_NAMES[d[12] % len(FIRST_NAMES)], LAST_NAMES[d[13] % len(LAST_NAMES)]
            name, email = None, f"{first}.{last}{org.size + 1}@example.com"
        elif kind == DELETED:
            name, email = DELETED_NAME, None
        else:
            name, email = SERVICE_NAME, None
        # Removed accounts had traffic until some day of spring 2026; the service account never stops.
        until = None if kind == SERVICE else datetime.date(2026, 4, 1) + datetime.timedelta(days=d[14] % 75)
        out.append(Actor(user_id, name, email, kind != SERVICE, kind, 0.8 + 0.1 * k, d[15:21], until))
    return out


def report_actors(org: Organization) -> list[Actor]:
    """Seat users by position (index = position), then the special accounts."""
    return [seat_actor(u) for u in org.users] + special_actors(org)


# ---- the org chart ---------------------------------------------------------------------------------


def _non_users(org: Organization) -> list[tuple[str, str]]:
    """(email, name) of people in the org chart without a seat: numbered after every account email."""
    out = []
    for k in range(max(2, org.size // 60) if org.size else 0):
        d = _digest(org.seed, "non-user", k)
        first, last = FIRST_NAMES[d[0] % len(FIRST_NAMES)], LAST_NAMES[d[1] % len(LAST_NAMES)]
        out.append((f"{first}.{last}{org.size + 2 + k}@example.com", f"{first.title()} {last.title()}"))
    return out


def _in_chart(org: Organization) -> list[User]:
    """The users in the org chart: all but a few (at least one left out from ten users on)."""
    scores = [_unit(org.seed, "chart", u.id) for u in org.users]
    out = [u for u, s in zip(org.users, scores) if s >= NOT_IN_CHART]
    if len(out) == len(org.users) and org.size >= 10:
        lowest = min(range(org.size), key=scores.__getitem__)
        out = [u for u in org.users if u.position != lowest]
    return out


def org_chart(org: Organization) -> list[dict]:
    """One dict per person, sorted by email; managers are people of the chart, the CEO has none."""
    people = [(u.email, u.id, u.name) for u in _in_chart(org)] + [(e, None, n) for e, n in _non_users(org)]
    people.sort()
    placed = []
    for email, user_id, name in people:
        d = _digest(org.seed, "org", email)
        dept = _pick(DEPARTMENTS, d[0] / 256)
        team = d[1] % len(DEPARTMENTS[dept][2])
        placed.append((email, user_id, name, dept, team, d[2:10], LOCATIONS[_pick(LOCATIONS, d[10] / 256)][0]))
    leads: dict = {}  # (dept, team) -> lead, (dept,) -> head, () -> CEO: the lowest rank hash wins
    for email, _, _, dept, team, rank, _ in placed:
        for key in ((dept, team), (dept,), ()):
            if key not in leads or rank < leads[key][0]:
                leads[key] = (rank, email)
    chart = []
    for email, user_id, name, dept, team, _, location in placed:
        chain = [leads[(dept, team)][1], leads[(dept,)][1], leads[()][1]]
        manager = next((m for m in chain if m != email), None)
        if email in chain[1:]:  # a department head reports to the CEO, the CEO to nobody
            manager = None if email == chain[2] else chain[2]
        department, _, teams = DEPARTMENTS[dept]
        chart.append(
            {
                "email": email,
                "user_id": user_id,
                "name": name,
                "department": department,
                "team": teams[team],
                "manager_email": manager,
                "cost_center": f"CC-{1000 + 100 * dept + 10 * team}",
                "location": location,
            }
        )
    return chart


def identities(org: Organization) -> dict[str, list[str]]:
    """Every email and person name the organization can show (API answers and the org chart)."""
    actors = report_actors(org)
    emails = {a.email for a in actors if a.email} | {p["email"] for p in org_chart(org)}
    names = {a.name for a in actors if a.name} | {p["name"] for p in org_chart(org)}
    return {"emails": sorted(emails), "names": sorted(names)}
