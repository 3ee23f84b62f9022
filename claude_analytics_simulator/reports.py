"""The cost & usage reports' data (spec §5.3): token traffic, pure and deterministic from (seed, users).

The unit is a *cell*: one actor's traffic on one UTC day for one (product, model, context window,
inference geo, speed), as integer quantities. Every answer is a sum of cells or of their slices:
an hour slice is an integer partition of the cell's day, a minute slice one of its hour, so the
1h buckets of a day sum exactly to its 1d bucket and the 1m buckets of an hour to its 1h bucket.
Money is integer micro-cents: each cell has integer prices per unit of each quantity (list and
discounted), so any sum of amounts is exact and `amount <= list_amount` everywhere.

Seat users' cells follow their `/users` activity of the day: a product appears in a user's usage
exactly when their `/users` row shows that product active (chat → `chat`, Claude Code → `claude_code`,
cowork → `cowork`, office → `office_agent`, design → `claude_design`); some users also use
`claude_in_chrome` and `claude_tag` on active days. Special accounts (removed, deleted, service) and
unattributed traffic (product null: API keys; `other`: automation) complete the organization.
"""

from __future__ import annotations

import bisect
import datetime
import hashlib
import random
import threading
from collections import OrderedDict
from typing import NamedTuple

from .data import CHAT, CODE, COWORK, DESIGN, OFFICE, Organization
from .people import SERVICE, Actor, report_actors

# Quantity vector of a cell or slice.
UNCACHED, CACHE_5M, CACHE_1H, CACHE_READ, OUTPUT, WEB_SEARCH, REQUESTS, CODE_EXEC = range(8)
QUANTITIES = 8
TOKENS = (UNCACHED, CACHE_5M, CACHE_1H, CACHE_READ, OUTPUT)

# Answer spellings of the products. The filter spelling differs for one: `claude-tag` (see FILTER_PRODUCTS).
PRODUCTS = ("chat", "claude_code", "cowork", "office_agent", "claude_in_chrome", "claude_design", "claude_tag")
FILTER_PRODUCTS = {p: p for p in PRODUCTS if p != "claude_tag"} | {"claude-tag": "claude_tag"}
OTHER = "other"  # unattributed automation; API-key traffic has product null
CONTEXT_WINDOWS = ("0-200k", "200k-1M")
INFERENCE_GEOS = ("global", "us")
SPEEDS = ("fast", "standard")
DIMENSIONS = ("product", "model", "context_window", "inference_geo", "speed")
COST_TYPES = ("tokens", "web_search", "code_execution")
TOKEN_TYPES = (
    "uncached_input_tokens",
    "output_tokens",
    "cache_read_input_tokens",
    "cache_creation.ephemeral_5m_input_tokens",
    "cache_creation.ephemeral_1h_input_tokens",
)
# Cost components: (cost_type, token_type, quantity priced).
COMPONENTS = (
    ("tokens", "uncached_input_tokens", UNCACHED),
    ("tokens", "output_tokens", OUTPUT),
    ("tokens", "cache_read_input_tokens", CACHE_READ),
    ("tokens", "cache_creation.ephemeral_5m_input_tokens", CACHE_5M),
    ("tokens", "cache_creation.ephemeral_1h_input_tokens", CACHE_1H),
    ("web_search", None, WEB_SEARCH),
    ("code_execution", None, CODE_EXEC),
)

MODEL_POOL = (
    # model, list price of one uncached input token in micro-cents ($/million tokens × 100)
    ("claude-sonnet-4-5-20250929", 300),
    ("claude-opus-4-5-20251101", 500),
    ("claude-haiku-4-5-20251001", 100),
    ("claude-opus-4-1-20250805", 1500),
    ("claude-sonnet-4-20250514", 300),
    ("claude-3-7-sonnet-20250219", 300),
    ("claude-opus-4-20250514", 1500),
    ("claude-3-5-haiku-20241022", 80),
)
WEB_SEARCH_PRICE = 1_000_000  # micro-cents per search ($10 per 1,000)
CODE_EXEC_PRICE = 1_389  # micro-cents per container-second (about $0.05 an hour)

PROFILES = {
    # product: requests of a typical active day, uncached input / cache read / output tokens per
    # request, chance of web searches, chance of code execution, chance of the long context window
    "chat": (12, 1500, 4000, 600, 0.35, 0.08, 0.05),
    "claude_code": (120, 800, 30000, 400, 0.1, 0.0, 0.3),
    "cowork": (40, 1200, 12000, 500, 0.25, 0.15, 0.1),
    "office_agent": (15, 2000, 3000, 700, 0.1, 0.1, 0.05),
    "claude_in_chrome": (10, 2500, 2000, 300, 0.2, 0.0, 0.02),
    "claude_design": (20, 1500, 6000, 900, 0.05, 0.05, 0.05),
    "claude_tag": (6, 1000, 1000, 300, 0.1, 0.0, 0.0),
    None: (300, 1000, 8000, 500, 0.05, 0.1, 0.2),  # API keys
    OTHER: (200, 600, 5000, 300, 0.0, 0.2, 0.1),  # automation
}
FLAG_PRODUCTS = (
    (CHAT, "chat"),
    (CODE, "claude_code"),
    (COWORK, "cowork"),
    (OFFICE, "office_agent"),
    (DESIGN, "claude_design"),
)
# A cost revision grows every quantity by this many percent per level (at least +1).
REVISION_PERCENT = 3


def _hash(*parts: object) -> int:
    return int.from_bytes(hashlib.sha256(":".join(str(p) for p in parts).encode()).digest()[:8], "big")


def model_pool(count: int) -> list[tuple[str, int]]:
    """`count` models: the realistic ones first, then numbered custom ones."""
    pool = list(MODEL_POOL[:count])
    pool += [(f"claude-sonnet-4-5-custom-{k:02d}", 300) for k in range(1, count - len(pool) + 1)]
    return pool


def money(micro_cents: int) -> str:
    """A decimal string in cents with six decimals: 41_280_000_000 micro-cents → "41280.000000"."""
    return f"{micro_cents // 1_000_000}.{micro_cents % 1_000_000:06d}"


class Cell(NamedTuple):
    """One actor's traffic of a day in one (product, model, context window, geo, speed)."""

    actor: int  # index into ReportData.actors; -1: unattributed
    dims: tuple  # (product, model, context_window, inference_geo, speed)
    q: tuple[int, ...]  # the day's quantities
    prices: tuple[tuple[int, int], ...]  # (list, amount) micro-cents per unit, one pair per COMPONENT
    hours: tuple[int, ...]  # the UTC hours with traffic
    weights: tuple[int, ...]  # how the day splits over those hours


def split(total: int, weights: tuple[int, ...], wsum: int) -> list[int]:
    """An exact integer partition of total by weights (largest remainders, ties to the first)."""
    shares = [total * w // wsum for w in weights]
    rest = total - sum(shares)
    if rest:
        order = sorted(range(len(weights)), key=lambda i: (-(total * weights[i] % wsum), i))
        for i in order[:rest]:
            shares[i] += 1
    return shares


def split_vector(q: tuple[int, ...], weights: tuple[int, ...]) -> list[tuple[int, ...]]:
    """Split a quantity vector over len(weights) parts, each part with at least one request."""
    n, wsum = len(weights), sum(weights)
    columns = [split(v - n, weights, wsum) if i == REQUESTS else split(v, weights, wsum) for i, v in enumerate(q)]
    return [tuple(col[j] + (1 if i == REQUESTS else 0) for i, col in enumerate(columns)) for j in range(n)]


class ReportDay:
    """The cells of one day and, generated on first use, their hour and minute slices."""

    def __init__(self, day: datetime.date, cells: list[Cell], seed: int, revision: int):
        self.day, self.cells, self.seed, self.revision = day, cells, seed, revision
        self._hours: list[list[tuple[Cell, tuple]]] | None = None
        self._minutes: dict[int, list[list[tuple[Cell, tuple]]]] = {}
        self._lock = threading.Lock()

    def whole(self) -> list[tuple[Cell, tuple]]:
        return [(c, c.q) for c in self.cells]

    def hour(self, h: int) -> list[tuple[Cell, tuple]]:
        with self._lock:
            if self._hours is None:
                hours: list[list] = [[] for _ in range(24)]
                for c in self.cells:
                    for h_, part in zip(c.hours, split_vector(c.q, c.weights)):
                        hours[h_].append((c, part))
                self._hours = hours
            return self._hours[h]

    def minute(self, h: int, m: int) -> list[tuple[Cell, tuple]]:
        entries = self.hour(h)
        with self._lock:
            minutes = self._minutes.get(h)
            if minutes is None:
                minutes = self._minutes[h] = self._split_hour(h, entries)
            return minutes[m]

    def _split_hour(self, h: int, entries: list) -> list[list[tuple[Cell, tuple]]]:
        # Each slice of the hour falls in a few minutes; its own stream keeps hours independent.
        rng = random.Random(_hash(self.seed, "report-minutes", self.day.isoformat(), self.revision, h))
        r = rng.random
        minutes: list[list] = [[] for _ in range(60)]
        for cell, part in entries:
            n = min(part[REQUESTS], 1 + int(r() * 6))
            chosen = sorted(rng.sample(range(60), n))
            weights = tuple(1 + int(r() * 9) for _ in chosen)
            for m, piece in zip(chosen, split_vector(part, weights)):
                minutes[m].append((cell, piece))
        return minutes

    def slices(self, start: datetime.datetime, end: datetime.datetime) -> list[tuple[Cell, tuple]]:
        """The traffic of [start, end) within this day, from whole hours and minutes (minute-aligned)."""
        day0 = datetime.datetime.combine(self.day, datetime.time(), datetime.timezone.utc)
        lo = max(0, int((start - day0).total_seconds() // 60))
        hi = min(1440, int((end - day0).total_seconds() // 60))
        if lo <= 0 and hi >= 1440:
            return self.whole()
        out: list = []
        m = lo
        while m < hi:
            if m % 60 == 0 and m + 60 <= hi:
                out += self.hour(m // 60)
                m += 60
            else:
                out += self.minute(m // 60, m % 60)
                m += 1
        return out


class ReportData:
    """The organization's traffic per day, cached: cells are generated once per (day, revision).

    The cache holds up to `cache_cells` cells (about 350 bytes each, twice that once a day's hours
    were asked for): some 10 days of 10,000 users, 2 of 50,000; the least recently used day goes first.
    """

    def __init__(self, org: Organization, models: int = 5, cache_cells: int = 150_000):
        self.org = org
        self.models = model_pool(max(1, models))
        self.actors: list[Actor] = report_actors(org)
        self.discount = 8 + _hash(org.seed, "discount") % 13  # negotiated, percent off the list price
        self._cum_weights = list(_cumulative([1 / (k + 1) for k in range(len(self.models))]))
        self._prices: dict[tuple, tuple] = {}
        self._days: OrderedDict[tuple, ReportDay] = OrderedDict()
        self._cached_cells = 0
        self._cache_cells = cache_cells
        self._lock = threading.RLock()
        self.generated = 0  # days generated so far (a cache miss each)

    def organization_id(self) -> str:
        return "org_" + hashlib.sha256(f"{self.org.seed}:organization".encode()).hexdigest()[:24]

    def day(self, day: datetime.date, revision: int = 0) -> ReportDay:
        key = (day, revision)
        with self._lock:
            hit = self._days.get(key)
            if hit is not None:
                self._days.move_to_end(key)
                return hit
            cells = self._generate(day, revision)
            self.generated += 1
            made = self._days[key] = ReportDay(day, cells, self.org.seed, revision)
            self._cached_cells += len(cells)
            while self._cached_cells > self._cache_cells and len(self._days) > 1:
                self._cached_cells -= len(self._days.popitem(last=False)[1].cells)
            return made

    # ---- generation -------------------------------------------------------------------------------

    def _generate(self, day: datetime.date, revision: int) -> list[Cell]:
        iso = day.isoformat()
        rng = random.Random(_hash(self.org.seed, "report-cells", iso))
        hours = random.Random(_hash(self.org.seed, "report-hours", iso))
        act = self.org.activity(day)  # the /users activity of the day, unrevised
        cells: list[Cell] = []
        for position, flags in zip(act.positions, act.flags):
            actor = self.actors[position]
            for product in self._products(flags, actor.traits, rng.random):
                self._actor_cells(position, actor, product, rng, hours, cells)
        for index in range(len(self.org.users), len(self.actors)):
            actor = self.actors[index]
            if self._special_active(actor, day, rng.random):
                for product in ("claude_code",) if actor.kind == SERVICE else ("chat", "claude_code"):
                    self._actor_cells(index, actor, product, rng, hours, cells)
        self._unattributed_cells(day, rng, hours, cells)
        return _revise(cells, revision) if revision > 0 else cells

    @staticmethod
    def _products(flags: int, traits: bytes, r) -> list[str]:
        products = [name for flag, name in FLAG_PRODUCTS if flags & flag]
        if traits[5] < 40 and flags & CHAT and r() < 0.5:  # about a sixth of the users have the extension
            products.append("claude_in_chrome")
        if traits[5] >= 236 and r() < 0.4:  # and some tag Claude in their tools
            products.append("claude_tag")
        return products

    @staticmethod
    def _special_active(actor: Actor, day: datetime.date, r) -> bool:
        if actor.kind == SERVICE:
            return True
        return actor.until is not None and day <= actor.until and day.weekday() < 5 and r() < 0.7

    def _actor_cells(self, index: int, actor: Actor, product: str, rng, hours, cells: list[Cell]) -> None:
        r = rng.random
        requests = max(1, int(PROFILES[product][0] * actor.intensity * (0.3 + 1.4 * r())))
        parts = [requests]
        if requests >= 2 and r() < 0.3:  # a second model for part of the day
            first = max(1, int(requests * (0.5 + 0.4 * r())))
            parts = [first, requests - first] if first < requests else [requests]
        t = actor.traits
        for part in parts:
            model = t[0] % min(4, len(self.models)) if r() < 0.6 else self._any_model(r)
            long = r() < PROFILES[product][6] * (0.5 + t[1] / 256)
            geo = INFERENCE_GEOS[t[2] < 77] if r() < 0.95 else INFERENCE_GEOS[t[2] >= 77]
            fast = r() < 0.02 + 0.15 * (t[3] > 230)
            dims = (product, self.models[model][0], CONTEXT_WINDOWS[long], geo, SPEEDS[not fast])
            q = _quantities(product, part, r)
            # Working hours: a user's traffic falls in a few hours of their day, by geo.
            start = (14 if geo == "us" else 7) + t[4] % 4
            span = sorted({(start + int(hours.random() * 10)) % 24 for _ in range(min(part, 1 + int(r() * 4)))})
            self._add(cells, index, dims, model, q, tuple(span), hours)

    def _unattributed_cells(self, day: datetime.date, rng, hours, cells: list[Cell]) -> None:
        # Traffic no seat user owns: a few API-key (product null) and automation (`other`) streams.
        r = rng.random
        scale = max(1.0, self.org.size / 20) * (0.4 if day.weekday() >= 5 else 1.0)
        for product, streams in ((None, 2 + int(r() * 3)), (OTHER, 1 + int(r() * 3))):
            for _ in range(streams):
                requests = max(1, int(PROFILES[product][0] * scale * (0.3 + 1.4 * r())))
                model = self._any_model(r)
                dims = (
                    product,
                    self.models[model][0],
                    CONTEXT_WINDOWS[r() < PROFILES[product][6]],
                    INFERENCE_GEOS[r() < 0.3],
                    SPEEDS[r() >= 0.05],
                )
                q = _quantities(product, requests, r)
                span = tuple(sorted(hours.sample(range(24), min(requests, 6 + int(hours.random() * 18)))))
                self._add(cells, -1, dims, model, q, span, hours)

    def _add(self, cells: list[Cell], actor: int, dims: tuple, model: int, q: tuple, span: tuple, hours) -> None:
        weights = tuple(1 + int(hours.random() * 9) for _ in span)
        cells.append(Cell(actor, dims, q, self._price(model, dims[2], dims[4]), span, weights))

    def _any_model(self, r) -> int:
        return bisect.bisect_right(self._cum_weights, r() * self._cum_weights[-1])

    def _price(self, model: int, context_window: str, speed: str) -> tuple[tuple[int, int], ...]:
        key = (model, context_window, speed)
        hit = self._prices.get(key)
        if hit is None:
            base = self.models[model][1]
            long, fast = context_window == "200k-1M", speed == "fast"
            inp = base * (2 if long else 1) * (2 if fast else 1)  # long context doubles input, fast all
            out = base * 5 * (3 if long else 2) // 2 * (2 if fast else 1)
            unit = {
                UNCACHED: inp,
                OUTPUT: out,
                CACHE_READ: inp // 10,
                CACHE_5M: inp * 5 // 4,
                CACHE_1H: inp * 2,
                WEB_SEARCH: WEB_SEARCH_PRICE,
                CODE_EXEC: CODE_EXEC_PRICE,
            }
            pct = 100 - self.discount
            hit = self._prices[key] = tuple((unit[q], max(1, unit[q] * pct // 100)) for _, _, q in COMPONENTS)
        return hit


def _cumulative(weights: list[float]):
    total = 0.0
    for w in weights:
        total += w
        yield total


def _quantities(product: str | None, requests: int, r) -> tuple[int, ...]:
    _, inp, read, out, search, code_exec, _ = PROFILES[product]
    cache_read = int(requests * read * r())
    q = [0] * QUANTITIES
    q[UNCACHED] = max(1, int(requests * inp * (0.5 + r())))
    q[CACHE_READ] = cache_read
    q[CACHE_5M] = int(cache_read * 0.08 * r())
    q[CACHE_1H] = int(cache_read * 0.05 * r()) if r() < 0.2 else 0
    q[OUTPUT] = max(1, int(requests * out * (0.5 + r())))
    q[WEB_SEARCH] = 1 + int(requests * 0.3 * r()) if r() < search else 0
    q[REQUESTS] = requests
    q[CODE_EXEC] = 10 + int(r() * 900) if r() < code_exec else 0
    return tuple(q)


def first_group(cells: list[Cell]) -> tuple | None:
    """The (product, model) a revision removes: the first by key among attributed traffic."""
    keys = [c.dims[:2] for c in cells if c.actor >= 0]
    return min(keys) if keys else None


def _revise(cells: list[Cell], revision: int) -> list[Cell]:
    """A revised day: the first (product, model) group is gone everywhere, the rest grows a little."""
    gone = first_group(cells)
    out = []
    for c in cells:
        if c.dims[:2] == gone:
            continue
        q = tuple(v + revision * max(1, v * REVISION_PERCENT // 100) if v > 0 else 0 for v in c.q)
        out.append(Cell(c.actor, c.dims, q, c.prices, c.hours, c.weights))
    return out
