"""The synthetic organization behind the simulator: pure and deterministic from (seed, users).

No HTTP and no clock here: every function takes the day it describes. Days are generated lazily;
each day draws from its own random stream (seeded by a hash of seed, purpose and day), so any day
can be produced without the others and the same inputs always give the same rows.

Definitions the summaries rely on (all read off the served `/users` rows of a day):
  active user            a user with a `/users` row that day (rows exist only for active users)
  chat active            `chat_metrics.message_count > 0`
  Claude Code active     `claude_code_metrics.core_metrics.lines_of_code.added_count > 0`
  cowork active          `cowork_metrics.distinct_session_count > 0`
Weekly / monthly counts are distinct users active in the 7 / 30 days ending on the day (inclusive),
counting only days from 2026-01-01 on, as served (revised days included).
"""

from __future__ import annotations

import bisect
import datetime
import hashlib
import random
import threading
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from .config import DATA_FLOOR

# Product flags of one user on one day.
CHAT, CODE, COWORK, OFFICE, DESIGN, SCIENCE = 1, 2, 4, 8, 16, 32
VISIBLE_PRODUCTS = CHAT | CODE | COWORK | OFFICE | DESIGN  # science shows only with schema growth

# Claude Code `artifacts_created_count` is counted from this day on (spec §4.1); zero before.
CODE_ARTIFACTS_FROM = datetime.date(2026, 8, 17)

CHAT_KEYS = (
    "distinct_conversation_count",
    "message_count",
    "distinct_projects_created_count",
    "distinct_projects_used_count",
    "distinct_files_uploaded_count",
    "distinct_artifacts_created_count",
    "thinking_message_count",
    "distinct_skills_used_count",
    "connectors_used_count",
    "distinct_shared_artifacts_viewed_count",
    "shared_conversations_viewed_count",
    "distinct_connectors_used_count",
)
OFFICE_KEYS = (
    "distinct_session_count",
    "message_count",
    "skills_used_count",
    "distinct_skills_used_count",
    "connectors_used_count",
    "distinct_connectors_used_count",
)
COWORK_KEYS = (
    "distinct_session_count",
    "message_count",
    "action_count",
    "dispatch_turn_count",
    "skills_used_count",
    "distinct_skills_used_count",
    "connectors_used_count",
    "distinct_connectors_used_count",
)
# Feature-gated cowork counters: null (never 0) while the gate is off, which it always is here.
COWORK_GATED_KEYS = (
    "artifacts_created_count",
    "distinct_plugins_used_count",
    "plugins_used_count",
    "file_edit_count",
    "edit_tool_count",
    "multi_edit_tool_count",
    "write_tool_count",
    "notebook_edit_tool_count",
    "sessions_with_file_edits_count",
)
DESIGN_KEYS = (
    "distinct_projects_created_count",
    "distinct_projects_used_count",
    "distinct_session_count",
    "message_count",
)
SCIENCE_KEYS = (
    "delegation_count",
    "distinct_session_count",
    "message_count",
    "remote_compute_job_count",
    "skills_used_count",
)
TOOLS = ("edit_tool", "multi_edit_tool", "write_tool", "notebook_edit_tool")

# Counters a revision grows (late events arriving); presence and distinct-user counts stay put.
REVISED_KEYS = frozenset(
    {
        "message_count",
        "thinking_message_count",
        "voice_message_count",
        "added_count",
        "action_count",
        "dispatch_turn_count",
        "read_call_count",
        "write_call_count",
        "unclassified_call_count",
        "invocation_count",
        "distinct_conversation_skill_used_count",
        "distinct_session_skill_used_count",
        "distinct_conversation_connector_used_count",
        "distinct_session_connector_used_count",
    }
)

FIRST_NAMES = (
    "ada",
    "alan",
    "alice",
    "amir",
    "ana",
    "ben",
    "carla",
    "chen",
    "dana",
    "david",
    "elena",
    "emma",
    "farah",
    "felix",
    "grace",
    "hana",
    "hugo",
    "ines",
    "ivan",
    "jade",
    "james",
    "julia",
    "kai",
    "kenji",
    "lara",
    "leo",
    "lina",
    "marco",
    "maya",
    "nadia",
    "noah",
    "olga",
    "omar",
    "paula",
    "priya",
    "ravi",
    "rosa",
    "sam",
    "sofia",
    "tariq",
    "theo",
    "uma",
    "victor",
    "wei",
    "yara",
    "yusuf",
    "zoe",
    "zara",
)
LAST_NAMES = (
    "adams",
    "baker",
    "berg",
    "costa",
    "dubois",
    "evans",
    "fischer",
    "garcia",
    "haddad",
    "ito",
    "jensen",
    "kim",
    "kowalski",
    "lopez",
    "martin",
    "meyer",
    "moreau",
    "nakamura",
    "nguyen",
    "novak",
    "okafor",
    "patel",
    "quinn",
    "rossi",
    "santos",
    "schmidt",
    "silva",
    "singh",
    "smith",
    "tanaka",
    "turner",
    "varga",
    "wagner",
    "walsh",
    "wong",
    "yilmaz",
    "young",
    "zhang",
)
PROJECT_ADJECTIVES = (
    "Quarterly",
    "Customer",
    "Platform",
    "Internal",
    "Launch",
    "Research",
    "Pricing",
    "Security",
    "Onboarding",
    "Hiring",
    "Roadmap",
    "Support",
    "Data",
    "Legal",
    "Brand",
    "Partner",
)
PROJECT_NOUNS = (
    "Planning",
    "Review",
    "Playbook",
    "Notes",
    "Analysis",
    "Docs",
    "Migration",
    "Handbook",
    "Briefs",
    "Retro",
    "Forecast",
    "Audit",
    "Templates",
    "Insights",
    "Backlog",
    "FAQ",
)


def _hash(*parts: object) -> int:
    """A stable 64-bit integer from the parts (Python's hash() is salted per process)."""
    text = ":".join(str(p) for p in parts).encode()
    return int.from_bytes(hashlib.sha256(text).digest()[:8], "big")


def _hex(nchars: int, *parts: object) -> str:
    return hashlib.sha256(":".join(str(p) for p in parts).encode()).hexdigest()[:nchars]


def _unit(*parts: object) -> float:
    """A stable uniform float in [0, 1) from the parts."""
    return _hash(*parts) / 2**64


def _day_factor(seed: int, day: datetime.date) -> float:
    """How busy a day is: weekends are quiet, and every day wobbles a little."""
    base = 0.24 if day.weekday() >= 5 else 1.0
    return base * (0.93 + 0.12 * _unit(seed, "day-factor", day.isoformat()))


def _mask(positions: list[int], size: int) -> int:
    """A bitmask (Python int) with the given bit positions set: unions and counts are then cheap."""
    buf = bytearray((size + 7) // 8)
    for p in positions:
        buf[p >> 3] |= 1 << (p & 7)
    return int.from_bytes(buf, "little")


def _money(rng: random.Random, scale: int) -> str:
    """A decimal string in cents, now and then with a fractional part ("1250", "1250.5")."""
    cents = 50 + int(rng.random() * scale)
    roll = rng.random()
    if roll < 0.2:
        return f"{cents}.5"
    if roll < 0.3:
        return f"{cents}.25"
    return str(cents)


def bump_counts(value: object, revision: int, keys: frozenset[str] = REVISED_KEYS) -> None:
    """Grow the revised counters of rows in place by a few percent per revision (at least +1)."""
    if isinstance(value, list):
        for item in value:
            bump_counts(item, revision, keys)
    elif isinstance(value, dict):
        for key, item in value.items():
            if isinstance(item, (dict, list)):
                bump_counts(item, revision, keys)
            elif key in keys and type(item) is int and item > 0:
                value[key] = item + revision * max(1, item * 3 // 100)


@dataclass(frozen=True)
class User:
    position: int  # index in the email-sorted list of users
    id: str
    email: str
    propensity: float  # chance of being active on a busy weekday
    intensity: float  # how much an active day holds
    code: bool  # uses Claude Code
    office: bool  # uses the Office agents
    cowork: bool
    design: bool
    science: bool
    null_sessions: bool  # their Claude Code client does not report sessions: the count is null
    name: str  # "Ada Adams": served only by the per-user cost & usage reports
    traits: bytes  # six more hash bytes: the user's habits in the cost & usage reports


@dataclass(frozen=True)
class Project:
    id: str
    name: str
    created: datetime.datetime
    creator: int  # user position
    popularity: float
    team: int
    conversations_unknown: bool  # distinct_conversation_count is null for this project


@dataclass(frozen=True)
class Skill:
    name: str
    display_name: str | None
    share_status: str | None
    weight: float
    chat: bool  # offered in chat (else the chat count is null)
    code: bool  # offered in Claude Code (else null)
    priced: bool


@dataclass(frozen=True)
class Connector:
    name: str
    display_name: str
    weight: float
    chat: bool
    code: bool
    call_counts: bool  # read/write/unclassified call counts enabled (else null, never 0)


@dataclass(frozen=True)
class DayActivity:
    """Who is active on a day, in email order, with their product flags, plus bitmasks per product."""

    positions: tuple[int, ...]
    flags: tuple[int, ...]
    masks: dict[str, int]  # "any", "chat", "code", "cowork" -> bitmask of user positions


SKILL_POOL = (
    # name, display name, share status, weight, chat, code, priced
    ("pdf", "PDF", "organization", 0.9, True, True, False),
    ("xlsx", "Excel spreadsheets", "organization", 0.7, True, True, False),
    ("docx", "Word documents", "organization", 0.6, True, False, False),
    ("pptx", "PowerPoint presentations", "organization", 0.5, True, False, False),
    ("brand-guidelines", "Brand guidelines", "shared", 0.45, True, False, True),
    ("internal-comms", "Internal comms", "shared", 0.35, True, False, True),
    ("canvas-design", "Canvas design", "private", 0.25, True, False, True),
    ("mcp-builder", "MCP builder", "shared", 0.3, False, True, True),
    ("webapp-testing", "Web app testing", "private", 0.3, False, True, True),
    # opaque ids: uploaded skills are named by id; one has no display name (deleted upload)
    ("#opaque-1", "Quarterly report formatter", "shared", 0.4, True, True, True),
    ("#opaque-2", "SQL style checker", "private", 0.2, False, True, True),
    ("#opaque-3", None, None, 0.15, True, False, True),
)

CONNECTOR_POOL = (
    # name, display name, weight, chat, code, call counts enabled
    ("atlassian", "Atlassian", 0.8, True, True, True),
    ("github", "GitHub", 0.85, True, True, True),
    ("google_drive", "Google Drive", 0.9, True, False, True),
    ("slack", "Slack", 0.85, True, True, True),
    ("notion", "Notion", 0.5, True, True, True),
    ("linear", "Linear", 0.45, True, True, False),
    ("asana", "Asana", 0.3, True, False, False),
    ("gmail", "Gmail", 0.6, True, False, False),
    ("google_calendar", "Google Calendar", 0.55, True, False, True),
    ("hubspot", "HubSpot", 0.2, True, False, True),
)

PLUGIN_POOL = (
    # name, plugin id (None: the aggregate of unnamed plugins), weight, used in Claude Code, in cowork
    ("context7", "context7@claude-plugins-official", 0.55, True, True),
    ("feature-dev", "feature-dev@claude-code-plugins", 0.4, True, False),
    ("github", "github@claude-plugins-official", 0.5, True, True),
    ("playwright", "playwright@claude-plugins-official", 0.35, True, True),
    ("pr-review-toolkit", "pr-review-toolkit@claude-code-plugins", 0.3, True, False),
    ("release-notes", "release-notes@example-internal", 0.2, True, True),  # the org's own marketplace
    ("security-guidance", "security-guidance@claude-code-plugins", 0.2, True, False),
    ("serena", "serena@claude-plugins-official", 0.6, True, False),
    ("third-party", None, 0.75, True, True),
)
# Plugin counters a revision grows.
PLUGIN_REVISED_KEYS = frozenset({"invocation_count", "distinct_session_plugin_used_count"})
# The organization starts using plugins this many days (at most) after the data floor: earlier days are empty.
PLUGIN_ADOPTION_DAYS = 21

ARTIFACT_TYPES = (
    # MIME type (or "other"), share of the day's artifacts; the rows come sorted by (type, is_shared)
    ("application/vnd.ant.mermaid", 0.07),
    ("application/vnd.ant.react", 0.25),
    ("image/svg+xml", 0.08),
    ("other", 0.05),
    ("text/html", 0.25),
    ("text/markdown", 0.3),
)
_ARTIFACT_CUMULATIVE = [sum(w for _, w in ARTIFACT_TYPES[: k + 1]) for k in range(len(ARTIFACT_TYPES))]
ARTIFACT_SHARED = 0.2  # share of artifacts created in a shared space
ARTIFACT_REVISED_KEYS = frozenset({"artifacts_created_count", "published_artifacts_created_count"})


class Organization:
    """The synthetic organization of `users` people, deterministic from `seed`."""

    def __init__(self, seed: int = 42, users: int = 50, cache_days: int = 128):
        self.seed = seed
        self.size = max(0, int(users))
        self._lock = threading.RLock()
        self._activity: OrderedDict[datetime.date, DayActivity] = OrderedDict()
        self._cache_days = cache_days
        self.users = self._make_users()
        self.projects = self._make_projects()
        self.skills = self._make_skills()
        self.connectors = self._make_connectors()

    # ---- fixed pools ------------------------------------------------------------------------

    def _make_users(self) -> list[User]:
        raw: list[dict[str, Any]] = []
        for i in range(self.size):
            digest = hashlib.sha256(f"{self.seed}:user:{i}".encode()).digest()
            u = [b / 256 for b in digest[12:24]]  # twelve independent-enough uniforms
            first = FIRST_NAMES[digest[24] % len(FIRST_NAMES)]
            last = LAST_NAMES[digest[25] % len(LAST_NAMES)]
            raw.append(
                dict(
                    id="user_" + digest[:12].hex(),
                    email=f"{first}.{last}{i + 1}@example.com",
                    name=f"{first.title()} {last.title()}",
                    traits=digest[26:32],
                    # A tenth of the seats are near-dormant, so weekly/monthly counts stay below seats.
                    propensity=0.01 + 0.05 * u[0] if u[8] < 0.1 else 0.45 + 0.5 * u[0],
                    intensity=0.5 + 2.5 * u[1] ** 2,
                    code=u[2] < 0.35,
                    office=u[3] < 0.15,
                    cowork=u[4] < 0.2,
                    design=u[5] < 0.1,
                    science=u[6] < 0.08,
                    null_sessions=u[7] < 0.1,
                )
            )
        raw.sort(key=lambda r: r["email"])
        return [User(position=p, **r) for p, r in enumerate(raw)]

    def _make_projects(self) -> list[Project]:
        if not self.users:
            return []
        start = datetime.datetime(2025, 6, 1, tzinfo=datetime.timezone.utc)
        span = (datetime.datetime(2026, 10, 31, tzinfo=datetime.timezone.utc) - start).total_seconds()
        projects = []
        for j in range(max(3, self.size // 5)):
            h = hashlib.sha256(f"{self.seed}:project:{j}".encode()).digest()
            u = [b / 256 for b in h[12:20]]
            # Most projects predate the data floor; the rest appear over the year.
            offset = span * (0.35 * u[0] if u[1] < 0.6 else u[0])
            created = (start + datetime.timedelta(seconds=int(offset))).replace(microsecond=0)
            name = f"{PROJECT_ADJECTIVES[h[20] % 16]} {PROJECT_NOUNS[h[21] % 16]}"
            if u[2] < 0.5:
                name += f" {2025 + h[22] % 2}"
            projects.append(
                Project(
                    id="claude_proj_" + h[:12].hex(),
                    name=name,
                    created=created,
                    creator=int.from_bytes(h[23:27], "big") % self.size,
                    popularity=0.05 + 0.6 * u[3] ** 2,
                    team=1 + int(12 * u[4] ** 2),
                    conversations_unknown=u[5] < 0.1,
                )
            )
        return projects

    def _make_skills(self) -> list[Skill]:
        skills = []
        for name, display, share, weight, chat, code, priced in SKILL_POOL:
            if name.startswith("#opaque"):
                name = "skill_01" + _hex(22, self.seed, "skill", name)
            skills.append(Skill(name, display, share, weight, chat, code, priced))
        return skills

    def _make_connectors(self) -> list[Connector]:
        return [Connector(*row) for row in CONNECTOR_POOL]

    # ---- who is active -------------------------------------------------------------------------

    def activity(self, day: datetime.date, revised: bool = False) -> DayActivity:
        """Activity of a day; `revised` drops the first active user by email (a revision's removal)."""
        base = self._base_activity(day)
        if not revised or not base.positions:
            return base
        gone = base.positions[0]
        bit = ~(1 << gone)
        return DayActivity(
            positions=base.positions[1:],
            flags=base.flags[1:],
            masks={k: m & bit for k, m in base.masks.items()},
        )

    def _base_activity(self, day: datetime.date) -> DayActivity:
        with self._lock:
            hit = self._activity.get(day)
            if hit is not None:
                self._activity.move_to_end(day)
                return hit
            act = self._generate_activity(day)
            self._activity[day] = act
            if len(self._activity) > self._cache_days:
                self._activity.popitem(last=False)
            return act

    def _generate_activity(self, day: datetime.date) -> DayActivity:
        rng = random.Random(_hash(self.seed, "activity", day.isoformat()))
        r = rng.random
        factor = _day_factor(self.seed, day)
        positions, flags = [], []
        for u in self.users:
            if r() >= u.propensity * factor:
                continue
            f = CHAT if r() < 0.88 else 0
            if u.code and r() < 0.75:
                f |= CODE
            if u.cowork and r() < 0.5:
                f |= COWORK
            if u.office and r() < 0.5:
                f |= OFFICE
            if u.design and r() < 0.4:
                f |= DESIGN
            if u.science and r() < 0.5:
                f |= SCIENCE
            if not f & VISIBLE_PRODUCTS:
                f |= CHAT  # an active user did something visible
            positions.append(u.position)
            flags.append(f)
        by = {
            "any": positions,
            "chat": [p for p, f in zip(positions, flags) if f & CHAT],
            "code": [p for p, f in zip(positions, flags) if f & CODE],
            "cowork": [p for p, f in zip(positions, flags) if f & COWORK],
        }
        return DayActivity(
            positions=tuple(positions),
            flags=tuple(flags),
            masks={k: _mask(v, self.size) for k, v in by.items()},
        )

    # ---- /users ----------------------------------------------------------------------------------

    def user_rows(self, day: datetime.date, revision: int = 0, growth: bool = False) -> list[dict]:
        act = self._base_activity(day)
        rng = random.Random(_hash(self.seed, "users", day.isoformat()))
        # Newer fields draw from their own stream so turning growth on leaves older values alone.
        grng = random.Random(_hash(self.seed, "users-growth", day.isoformat())) if growth else None
        iso = day.isoformat()
        code_artifacts = day >= CODE_ARTIFACTS_FROM
        rows = [
            self._user_row(self.users[p], f, iso, rng.random, grng, code_artifacts)
            for p, f in zip(act.positions, act.flags)
        ]
        return self._revise(rows, revision)

    @staticmethod
    def _user_row(u: User, f: int, iso: str, r, grng, code_artifacts: bool) -> dict:
        s = u.intensity

        if f & CHAT:
            conv = 1 + int(r() * 4 * s)
            msgs = conv * (1 + int(r() * 6)) + int(r() * 3)
            conn = int(r() * 8 * s) if r() < 0.3 else 0
            chat = {
                "distinct_conversation_count": conv,
                "message_count": msgs,
                "distinct_projects_created_count": 1 if r() < 0.04 else 0,
                "distinct_projects_used_count": int(r() * 2.4),
                "distinct_files_uploaded_count": int(r() * 3 * s) if r() < 0.4 else 0,
                "distinct_artifacts_created_count": int(r() * 2 * s) if r() < 0.3 else 0,
                "thinking_message_count": int(msgs * r() * 0.4),
                "distinct_skills_used_count": int(r() * 2.2) if r() < 0.35 else 0,
                "connectors_used_count": conn,
                "distinct_shared_artifacts_viewed_count": int(r() * 2.5) if r() < 0.2 else 0,
                "shared_conversations_viewed_count": int(r() * 2.5) if r() < 0.15 else 0,
                "distinct_connectors_used_count": min(conn, 1 + int(r() * 3)),
            }
            searches = int(r() * 5 * s) if r() < 0.4 else 0
        else:
            chat = dict.fromkeys(CHAT_KEYS, 0)
            searches = 0

        if f & CODE:
            added = 5 + int(r() * 600 * s * s)
            commits = int(r() * 5 * s) if r() < 0.6 else 0
            tools = {}
            for tool, scale in (
                ("edit_tool", 30),
                ("multi_edit_tool", 10),
                ("write_tool", 8),
                ("notebook_edit_tool", 1),
            ):
                acc = int(r() * scale * s) if scale > 1 or r() < 0.05 else 0
                tools[tool] = {"accepted_count": acc, "rejected_count": int(acc * r() * 0.15)}
            code = {
                "core_metrics": {
                    "commit_count": commits,
                    "pull_request_count": int(commits * r() * 0.5),
                    "lines_of_code": {"added_count": added, "removed_count": int(added * r() * 0.6)},
                    "distinct_session_count": None if u.null_sessions else 1 + int(r() * 4 * s),
                    "artifacts_created_count": int(r() * 2) if code_artifacts and r() < 0.2 else 0,
                },
                "tool_actions": tools,
            }
            searches += int(r() * 4) if r() < 0.3 else 0
        else:
            code = {
                "core_metrics": {
                    "commit_count": 0,
                    "pull_request_count": 0,
                    "lines_of_code": {"added_count": 0, "removed_count": 0},
                    "distinct_session_count": None if u.null_sessions else 0,
                    "artifacts_created_count": 0,
                },
                "tool_actions": {t: {"accepted_count": 0, "rejected_count": 0} for t in TOOLS},
            }

        office_used = f & OFFICE
        excel = r() < 0.7 if office_used else False
        powerpoint = (r() < 0.5 or not excel) if office_used else False
        office = {
            "excel": _office(r, s) if excel else dict.fromkeys(OFFICE_KEYS, 0),
            "powerpoint": _office(r, s) if powerpoint else dict.fromkeys(OFFICE_KEYS, 0),
        }

        if f & COWORK:
            sessions = 1 + int(r() * 3 * s)
            cmsgs = sessions * (2 + int(r() * 8))
            cconn = int(r() * 6) if r() < 0.4 else 0
            cskills = int(r() * 4) if r() < 0.3 else 0
            cowork = {
                "distinct_session_count": sessions,
                "message_count": cmsgs,
                "action_count": int(cmsgs * (0.5 + 2 * r())),
                "dispatch_turn_count": int(sessions * r() * 2),
                "skills_used_count": cskills,
                "distinct_skills_used_count": min(cskills, 1 + int(r() * 2)),
                "connectors_used_count": cconn,
                "distinct_connectors_used_count": min(cconn, 1 + int(r() * 2)),
            }
        else:
            cowork = dict.fromkeys(COWORK_KEYS, 0)
        cowork.update(dict.fromkeys(COWORK_GATED_KEYS, None))  # type: ignore[arg-type]  # gated: null, never 0

        if f & DESIGN:
            dsessions = 1 + int(r() * 2 * s)
            design = {
                "distinct_projects_created_count": 1 if r() < 0.2 else 0,
                "distinct_projects_used_count": 1 + int(r() * 2),
                "distinct_session_count": dsessions,
                "message_count": dsessions * (2 + int(r() * 6)),
            }
        else:
            design = dict.fromkeys(DESIGN_KEYS, 0)

        row = {
            "user": {"id": u.id, "email_address": u.email, "type": "user"},
            "chat_metrics": chat,
            "claude_code_metrics": code,
            "web_search_count": searches,
            "office_metrics": office,
            "cowork_metrics": cowork,
            "design_metrics": design,
        }
        if grng is not None:
            g = grng.random
            chat["voice_message_count"] = int(g() * 4) if f & CHAT and g() < 0.15 else 0
            office["word"] = _office(g, s) if office_used and g() < 0.4 else dict.fromkeys(OFFICE_KEYS, 0)
            office["outlook"] = _office(g, s) if office_used and g() < 0.3 else dict.fromkeys(OFFICE_KEYS, 0)
            if f & SCIENCE:
                ssessions = 1 + int(g() * 2 * s)
                row["science_metrics"] = {
                    "delegation_count": int(g() * 4 * s),
                    "distinct_session_count": ssessions,
                    "message_count": ssessions * (2 + int(g() * 6)),
                    "remote_compute_job_count": int(g() * 3) if g() < 0.4 else 0,
                    "skills_used_count": int(g() * 3) if g() < 0.3 else 0,
                }
            else:
                row["science_metrics"] = dict.fromkeys(SCIENCE_KEYS, 0)
        row["last_activity_date"] = iso
        return row

    # ---- /apps/chat/projects ---------------------------------------------------------------------

    def project_rows(self, day: datetime.date, revision: int = 0, growth: bool = False) -> list[dict]:
        rng = random.Random(_hash(self.seed, "projects", day.isoformat()))
        r = rng.random
        factor = _day_factor(self.seed, day)
        chat_users = self._base_activity(day).masks["chat"].bit_count()
        rows = []
        for p in self.projects:
            roll, size_roll, conv_roll, msg_roll = r(), r(), r(), r()  # fixed draws per project
            if p.created.date() > day or roll >= p.popularity * factor or chat_users == 0:
                continue
            users = min(chat_users, 1 + int(size_roll * p.team))
            conversations = users + int(conv_roll * users * 2)
            creator = self.users[p.creator]
            rows.append(
                {
                    "project_id": p.id,
                    "project_name": p.name,
                    "distinct_user_count": users,
                    "distinct_conversation_count": None if p.conversations_unknown else conversations,
                    "message_count": conversations * (2 + int(msg_roll * 7)),
                    "created_at": p.created.strftime("%Y-%m-%dT%H:%M:%SZ"),
                    "created_by": {"id": creator.id, "email_address": creator.email},
                }
            )
        rows.sort(key=lambda row: str(row["project_id"]))
        return self._revise(rows, revision)

    # ---- /skills ------------------------------------------------------------------------------------

    def skill_rows(self, day: datetime.date, revision: int = 0, growth: bool = False) -> list[dict]:
        rng = random.Random(_hash(self.seed, "skills", day.isoformat()))
        r = rng.random
        grng = random.Random(_hash(self.seed, "skills-growth", day.isoformat()))
        factor = _day_factor(self.seed, day)
        active = self._base_activity(day).masks["any"].bit_count()
        rows = []
        for sk in self.skills:
            roll, share = r(), r()
            if roll >= min(0.97, sk.weight * (0.6 + 0.4 * factor)) or active == 0:
                continue
            users = 1 + int(share * active * sk.weight * 0.12)
            row = {
                "skill_name": sk.name,
                "distinct_user_count": users,
                "chat_metrics": {
                    "distinct_conversation_skill_used_count": users + int(r() * users) if sk.chat else None
                },
                "claude_code_metrics": {
                    "distinct_session_skill_used_count": int(r() * users * 1.5) if sk.code else None
                },
                "cowork_metrics": {"distinct_session_skill_used_count": int(r() * users * 0.3)},
                "office_metrics": {
                    "excel": {"distinct_session_skill_used_count": int(r() * users * 0.2)},
                    "powerpoint": {"distinct_session_skill_used_count": int(r() * users * 0.1)},
                },
                "skill_display_name": sk.display_name,
                "share_status": sk.share_status,
                "invocation_count": None,
                "enable_count": None,  # never enabled in the simulated org
                "estimated_overage_spend": _money(rng, 40 * users) if sk.priced and r() < 0.7 else None,
                "attributed_list_price": _money(rng, 120 * users) if r() < 0.9 else None,
                "currency": "USD",
            }
            if growth:
                row["invocation_count"] = users + int(grng.random() * users * 3)
            rows.append(row)
        rows.sort(key=lambda row: str(row["skill_name"]))
        return self._revise(rows, revision)

    # ---- /connectors -------------------------------------------------------------------------------

    def connector_rows(self, day: datetime.date, revision: int = 0, growth: bool = False) -> list[dict]:
        rng = random.Random(_hash(self.seed, "connectors", day.isoformat()))
        r = rng.random
        grng = random.Random(_hash(self.seed, "connectors-growth", day.isoformat()))
        factor = _day_factor(self.seed, day)
        active = self._base_activity(day).masks["any"].bit_count()
        rows = []
        for c in self.connectors:
            roll, share = r(), r()
            if roll >= min(0.97, c.weight * (0.6 + 0.4 * factor)) or active == 0:
                continue
            users = 1 + int(share * active * c.weight * 0.2)
            managed = int(users * r())
            calls = users * (2 + int(r() * 12))
            row = {
                "connector_name": c.name,
                "distinct_user_count": users,
                "chat_metrics": {
                    "distinct_conversation_connector_used_count": users + int(r() * users * 2) if c.chat else None
                },
                "claude_code_metrics": {
                    "distinct_session_connector_used_count": int(r() * users * 1.2) if c.code else None
                },
                "cowork_metrics": {"distinct_session_connector_used_count": int(r() * users * 0.3)},
                "office_metrics": {
                    "excel": {"distinct_session_connector_used_count": int(r() * users * 0.1)},
                    "powerpoint": {"distinct_session_connector_used_count": int(r() * users * 0.05)},
                },
                "connector_display_name": c.display_name,
                # When enabled the counts are real (>= 1 here); when not, null — never 0 as a stand-in.
                "read_call_count": max(1, int(calls * 0.7)) if c.call_counts else None,
                "write_call_count": max(1, int(calls * 0.2)) if c.call_counts else None,
                "unclassified_call_count": max(1, calls // 10) if c.call_counts else None,
                "managed_auth_distinct_user_count": managed,
                "individual_auth_distinct_user_count": users - managed,
            }
            if growth:
                row["average_latency_ms"] = 120 + int(grng.random() * 900)
            rows.append(row)
        rows.sort(key=lambda row: str(row["connector_name"]))
        return self._revise(rows, revision)

    # ---- /plugins ------------------------------------------------------------------------------------

    def plugins_from(self) -> datetime.date:
        """The first day with any plugin use (the organization adopted plugins then)."""
        return DATA_FLOOR + datetime.timedelta(days=_hash(self.seed, "plugins-from") % PLUGIN_ADOPTION_DAYS)

    def plugin_rows(self, day: datetime.date, revision: int = 0, growth: bool = False) -> list[dict]:
        """Plugin use, driven by the day's Claude Code and cowork users; empty before adoption."""
        rng = random.Random(_hash(self.seed, "plugins", day.isoformat()))
        r = rng.random
        grng = random.Random(_hash(self.seed, "plugins-growth", day.isoformat()))
        factor = _day_factor(self.seed, day)
        masks = self._base_activity(day).masks
        code_users, cowork_users = masks["code"].bit_count(), masks["cowork"].bit_count()
        rows: list[dict[str, Any]] = []
        for name, plugin_id, weight, in_code, in_cowork in PLUGIN_POOL:
            roll, share = r(), r()  # fixed draws per plugin
            reach = (code_users if in_code else 0) + (cowork_users if in_cowork else 0)
            if day < self.plugins_from() or reach == 0 or roll >= min(0.97, weight * (0.6 + 0.4 * factor)):
                continue
            users = min(reach, 1 + int(share * reach * weight * 0.3))
            code_sessions = users + int(r() * users * 1.5) if in_code and code_users else 0
            cowork_sessions = int(r() * min(users, cowork_users) * 1.2) if in_cowork else 0
            row = {
                "plugin_name": name,
                "plugin_id": plugin_id,
                "install_count": int(r() * users * 0.3),
                "invocation_count": (code_sessions + cowork_sessions + users) * (1 + int(r() * 6)),
                "distinct_user_count": users,
                "claude_code_metrics": {"distinct_session_plugin_used_count": code_sessions},
                "cowork_metrics": {"distinct_session_plugin_used_count": cowork_sessions},
            }
            if growth:
                row["uninstall_count"] = int(grng.random() * users * 0.1)
            rows.append(row)
        rows.sort(key=lambda row: str(row["plugin_name"]))
        return self._revise(rows, revision, PLUGIN_REVISED_KEYS)

    # ---- /artifacts ----------------------------------------------------------------------------------

    def artifact_rows(self, day: datetime.date, revision: int = 0, growth: bool = False) -> list[dict]:
        """The (artifact_type, is_shared) cube of the day, cells with no artifact left out."""
        rng = random.Random(_hash(self.seed, "artifacts", day.isoformat()))
        r = rng.random
        grng = random.Random(_hash(self.seed, "artifacts-growth", day.isoformat()))
        creators = self._base_activity(day).masks["chat"].bit_count()
        # The day's artifacts, dealt one by one to the cells: small organizations get some too.
        counts: dict[tuple[str, bool], int] = {}
        for _ in range(int(creators * (0.2 + 0.4 * r()) + r())):
            kind = ARTIFACT_TYPES[min(bisect.bisect_right(_ARTIFACT_CUMULATIVE, r()), len(ARTIFACT_TYPES) - 1)][0]
            cell = (kind, r() < ARTIFACT_SHARED)
            counts[cell] = counts.get(cell, 0) + 1
        rows = []
        for (artifact_type, shared), created in sorted(counts.items()):
            row = {
                "artifact_type": artifact_type,
                "is_shared": shared,
                "artifacts_created_count": created,
                # Publishing needs a shared artifact: private ones are never published.
                "published_artifacts_created_count": int(created * (0.1 + 0.5 * r())) if shared else 0,
                "distinct_user_count": max(1, min(creators, int(created * (0.4 + 0.6 * r())))),
            }
            if growth:
                row["view_count"] = created * (1 + int(grng.random() * 8))
            rows.append(row)
        return self._revise(rows, revision, ARTIFACT_REVISED_KEYS)

    # ---- /summaries ---------------------------------------------------------------------------------

    def summary_row(
        self,
        day: datetime.date,
        revision_for: Callable[[datetime.date], int] = lambda d: 0,
        period_keys: str = "starting_at",
    ) -> dict:
        """The org summary of `day`; `revision_for(d)` is the revision served for day d."""
        window = [day - datetime.timedelta(days=k) for k in range(30)]
        acts = [self.activity(d, revision_for(d) > 0) if d >= DATA_FLOOR else None for d in window]

        def counts(kind: str) -> tuple[int, int, int]:
            masks = [a.masks[kind] if a else 0 for a in acts]
            weekly = monthly = 0
            for k, m in enumerate(masks):
                if k < 7:
                    weekly |= m
                monthly |= m
            return masks[0].bit_count(), weekly.bit_count(), monthly.bit_count()

        dau, wau, mau = counts("any")
        seats = self.size
        nxt = day + datetime.timedelta(days=1)
        if period_keys == "starting_date":
            row: dict = {"starting_date": day.isoformat(), "ending_date": nxt.isoformat()}
        else:
            row = {"starting_at": f"{day.isoformat()}T00:00:00Z", "ending_at": f"{nxt.isoformat()}T00:00:00Z"}
        invites = int(_unit(self.seed, "invites", day.isoformat()) * (2 + self.size // 40))
        cowork = counts("cowork")
        chat = counts("chat")
        code = counts("code")
        row.update(
            {
                "daily_active_user_count": dau,
                "weekly_active_user_count": wau,
                "monthly_active_user_count": mau,
                "assigned_seat_count": seats,
                "pending_invite_count": invites,
                "cowork_daily_active_user_count": cowork[0],
                "cowork_weekly_active_user_count": cowork[1],
                "cowork_monthly_active_user_count": cowork[2],
                "daily_adoption_rate": _rate(dau, seats),
                "weekly_adoption_rate": _rate(wau, seats),
                "monthly_adoption_rate": _rate(mau, seats),
                "chat_daily_active_user_count": chat[0],
                "chat_weekly_active_user_count": chat[1],
                "chat_monthly_active_user_count": chat[2],
                "claude_code_daily_active_user_count": code[0],
                "claude_code_weekly_active_user_count": code[1],
                "claude_code_monthly_active_user_count": code[2],
            }
        )
        return row

    # ---- helpers -----------------------------------------------------------------------------------

    @staticmethod
    def _revise(rows: list[dict], revision: int, keys: frozenset[str] = REVISED_KEYS) -> list[dict]:
        """A revision drops the first entity of the day (rows are sorted by key) and grows counters."""
        if revision > 0 and rows:
            rows = rows[1:]
            bump_counts(rows, revision, keys)
        return rows


def _office(r, s: float) -> dict:
    sessions = 1 + int(r() * 2 * s)
    skills = int(r() * 3) if r() < 0.3 else 0
    conns = int(r() * 3) if r() < 0.2 else 0
    return {
        "distinct_session_count": sessions,
        "message_count": sessions * (1 + int(r() * 6)),
        "skills_used_count": skills,
        "distinct_skills_used_count": min(skills, 1 + int(r() * 2)),
        "connectors_used_count": conns,
        "distinct_connectors_used_count": min(conns, 1),
    }


def _rate(count: int, seats: int) -> float | None:
    return round(count / seats * 100, 2) if seats else None
