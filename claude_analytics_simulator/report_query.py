"""The parameters of the cost & usage reports (spec §5.3), validated into a `ReportQuery`.

Every rule a client can break answers 400 with a message that names the parameter.
"""

from __future__ import annotations

import datetime
import hashlib
import json
import re
from dataclasses import dataclass

from .config import DATA_FLOOR
from .errors import ApiError, shown
from .reports import CONTEXT_WINDOWS, DIMENSIONS, FILTER_PRODUCTS, INFERENCE_GEOS, SPEEDS

UTC = datetime.timezone.utc
BUCKETED = ("/usage_report", "/cost_report")
PER_USER = ("/user_usage_report", "/user_cost_report")
COST = ("/cost_report", "/user_cost_report")
WIDTHS = {"1d": datetime.timedelta(days=1), "1h": datetime.timedelta(hours=1), "1m": datetime.timedelta(minutes=1)}
# Buckets per page of the bucketed reports: (default, maximum) per width.
BUCKET_LIMITS = {"1d": (7, 31), "1h": (24, 168), "1m": (60, 1440)}
USER_LIMITS = (20, 1000)  # rows per page of the per-user reports
MAX_RANGE = datetime.timedelta(days=31)
HISTORY = datetime.timedelta(days=365)
FILTERS = {
    # parameter: allowed values (None: any string)
    "products[]": tuple(FILTER_PRODUCTS),
    "models[]": None,
    "user_ids[]": None,
    "context_windows[]": CONTEXT_WINDOWS,
    "inference_geos[]": INFERENCE_GEOS,
    "speeds[]": SPEEDS,
}
USAGE_ORDER = (
    "total_tokens",
    "uncached_input_tokens",
    "cache_creation.ephemeral_5m_input_tokens",
    "cache_creation.ephemeral_1h_input_tokens",
    "cache_read_input_tokens",
    "output_tokens",
)
COST_ORDER = ("amount", "list_amount")
PER_USER_ONLY = ("order_by", "order", "exclude_deleted_users")

_RFC3339 = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2})$", re.IGNORECASE)
_INT = re.compile(r"^[0-9]+$")


@dataclass(frozen=True)
class View:
    """What an answer asks of the traffic besides its window: shape, grouping, filters, order."""

    cost: bool
    per_user: bool
    group_by: frozenset[str] = frozenset()
    filters: tuple[tuple[str, frozenset[str]], ...] = ()  # (parameter, values), sorted; products in answer spelling
    exclude_deleted: bool = False
    order_by: str | None = None
    order: str = "desc"

    def filter(self, name: str) -> frozenset[str] | None:
        return dict(self.filters).get(name)


@dataclass(frozen=True)
class ReportQuery:
    path: str
    view: View
    start: datetime.datetime  # floored to the bucket width (to the minute without one)
    end: datetime.datetime  # exclusive, ceiled likewise; may lie past the data horizon
    width: str | None
    limit: int
    explicit_end: bool

    @property
    def step(self) -> datetime.timedelta | None:
        return WIDTHS.get(self.width) if self.width else None

    def fingerprint(self) -> str:
        """The query a cursor is bound to: every parameter but `page`, normalized."""
        v = self.view
        parts = [
            self.path,
            self.start.isoformat(),
            self.end.isoformat() if self.explicit_end else None,
            self.width,
            sorted(v.group_by),
            [[k, sorted(s)] for k, s in v.filters],
            v.exclude_deleted,
            v.order_by,
            v.order,
            self.limit,
        ]
        return hashlib.sha256(json.dumps(parts).encode()).hexdigest()[:16]


def instant(dt: datetime.datetime) -> str:
    return dt.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def midnight(day: datetime.date) -> datetime.datetime:
    return datetime.datetime.combine(day, datetime.time(), UTC)


def earliest_start(today: datetime.date) -> datetime.datetime:
    """The earliest allowed `starting_at`: 365 days back, never before the data floor."""
    return max(midnight(DATA_FLOOR), midnight(today) - HISTORY)


def floor(dt: datetime.datetime, width: str | None) -> datetime.datetime:
    if width == "1d":
        return dt.replace(hour=0, minute=0, second=0, microsecond=0)
    if width == "1h":
        return dt.replace(minute=0, second=0, microsecond=0)
    return dt.replace(second=0, microsecond=0)


def ceil(dt: datetime.datetime, width: str | None) -> datetime.datetime:
    low = floor(dt, width)
    return low if low == dt else low + WIDTHS.get(width or "1m", WIDTHS["1m"])


def parse_report_query(path: str, params: dict, today: datetime.date, names_earliest: bool = True) -> ReportQuery:
    per_user, cost = path in PER_USER, path in COST
    _reject_plain_lists(params)
    if not per_user:
        for name in PER_USER_ONLY:
            if name in params:
                raise ApiError(
                    400, f"Invalid parameter '{name}': it is only accepted by /user_usage_report and /user_cost_report."
                )
    width = _width(params, None if per_user else "1d")
    raw_start = _instant(params, "starting_at")
    start = floor(raw_start, width)
    earliest = earliest_start(today)
    if start < earliest:
        if names_earliest:
            raise ApiError(
                400,
                f"Invalid value for 'starting_at': {instant(raw_start)} is too far in the past. "
                f"Cost and usage reports go back 365 days, never before 2026-01-01: the earliest "
                f"allowed starting_at is {instant(earliest)}.",
            )
        raise ApiError(
            400,
            "Invalid value for 'starting_at': the requested start is too far in the past for the "
            "cost and usage reports.",
        )
    if "ending_at" in params:
        raw_end = _instant(params, "ending_at")
        if raw_end <= raw_start:
            raise ApiError(
                400,
                f"Invalid value for 'ending_at': {instant(raw_end)} must be after 'starting_at' "
                f"({instant(raw_start)}); 'ending_at' is exclusive.",
            )
        if raw_end - raw_start > MAX_RANGE:
            raise ApiError(
                400,
                f"Invalid value for 'ending_at': at most 31 days can be requested at once, got "
                f"{instant(raw_start)} to {instant(raw_end)}.",
            )
        end = ceil(raw_end, width)
    else:
        end = min(midnight(today), start + MAX_RANGE)  # the data horizon, 31 days at most
    view = View(
        cost=cost,
        per_user=per_user,
        group_by=group_by_values(params, cost),
        filters=_filters(params),
        exclude_deleted=_flag(params, "exclude_deleted_users"),
        order_by=_order_by(params, cost),
        order=_choice(params, "order", ("asc", "desc"), "desc"),
    )
    limit = _limit(params, USER_LIMITS if per_user or width is None else BUCKET_LIMITS[width])
    return ReportQuery(path, view, start, max(start, end), width, limit, "ending_at" in params)


def _reject_plain_lists(params: dict) -> None:
    for name in ("group_by", *(f[:-2] for f in FILTERS)):
        if name in params:
            raise ApiError(
                400,
                f"Invalid parameter '{name}': list parameters use the repeated bracket form, "
                f"e.g. '{name}[]=a&{name}[]=b'.",
            )


def _instant(params: dict, name: str) -> datetime.datetime:
    value = params.get(name)
    if not value:
        raise ApiError(
            400, f"Missing required query parameter '{name}' (an RFC 3339 timestamp such as 2026-03-01T00:00:00Z)."
        )
    match = _RFC3339.match(value) if isinstance(value, str) else None
    if match is None:
        raise ApiError(
            400,
            f"Invalid value for '{name}': expected an RFC 3339 timestamp such as "
            f"2026-03-01T00:00:00Z, got {shown(str(value))}.",
        )
    text = value.upper()
    if match.group(1):  # any number of fraction digits; Python reads exactly six
        text = text.replace(match.group(1), "." + match.group(1)[1:7].ljust(6, "0"), 1)
    text = text.replace("Z", "+00:00")
    try:
        return datetime.datetime.fromisoformat(text).astimezone(UTC)
    except ValueError:
        raise ApiError(400, f"Invalid value for '{name}': {shown(value)} is not a valid date and time.") from None


def _width(params: dict, default: str | None) -> str | None:
    value = params.get("bucket_width", default)
    if value is not None and value not in WIDTHS:
        raise ApiError(400, f"Invalid value for 'bucket_width': expected one of 1d, 1h, 1m, got {shown(str(value))}.")
    return value


def group_by_values(params: dict, cost: bool) -> frozenset[str]:
    """The validated `group_by[]` values (token_type and cost_type only on the cost reports)."""
    allowed = DIMENSIONS + (("cost_type", "token_type") if cost else ())
    values = params.get("group_by[]", [])
    for value in values:
        if not cost and value in ("cost_type", "token_type"):
            raise ApiError(
                400,
                f"Invalid value for 'group_by[]': {shown(value)} is only available on the cost "
                f"reports (/cost_report, /user_cost_report).",
            )
        if value not in allowed:
            raise ApiError(
                400, f"Invalid value for 'group_by[]': expected any of {', '.join(allowed)}, got {shown(value)}."
            )
    return frozenset(values)


def _filters(params: dict) -> tuple[tuple[str, frozenset[str]], ...]:
    out = []
    for name, allowed in FILTERS.items():
        values = params.get(name)
        if values is None:
            continue
        for value in values:
            if value == "" or (allowed is not None and value not in allowed):
                expected = f"expected any of {', '.join(allowed)}" if allowed else "expected a non-empty value"
                raise ApiError(400, f"Invalid value for '{name}': {expected}, got {shown(value)}.")
        if name == "products[]":
            values = [FILTER_PRODUCTS[v] for v in values]
        out.append((name, frozenset(values)))
    return tuple(out)


def _flag(params: dict, name: str) -> bool:
    return _choice(params, name, ("true", "false"), "false") == "true"


def _choice(params: dict, name: str, allowed: tuple[str, ...], default: str) -> str:
    value = params.get(name, default)
    if value not in allowed:
        raise ApiError(
            400, f"Invalid value for '{name}': expected one of {', '.join(allowed)}, got {shown(str(value))}."
        )
    return value


def _order_by(params: dict, cost: bool) -> str | None:
    if "order_by" not in params:
        return None
    return _choice(params, "order_by", COST_ORDER if cost else USAGE_ORDER, "")


def _limit(params: dict, bounds: tuple[int, int]) -> int:
    default, most = bounds
    value = params.get("limit")
    if value is None:
        return default
    if isinstance(value, str) and _INT.match(value) and 1 <= int(value) <= most:
        return int(value)
    raise ApiError(400, f"Invalid value for 'limit': expected an integer from 1 to {most}, got {shown(str(value))}.")
