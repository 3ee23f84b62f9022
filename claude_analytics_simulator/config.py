"""Configuration of the simulator: plain dataclasses, mutable while a simulator runs."""

from __future__ import annotations

import datetime
from dataclasses import dataclass, field

# The five endpoints of the mission, relative to the base path, in the order of the spec (§4).
ENDPOINT_PATHS = ("/users", "/summaries", "/apps/chat/projects", "/skills", "/connectors")
# Every engagement endpoint: the five, then /plugins and /artifacts (§5.1, §5.2). `Simulator.expected` serves these.
ENGAGEMENT_PATHS = ENDPOINT_PATHS + ("/plugins", "/artifacts")
# The cost & usage reports (§5.3): bucketed org-level reports, then the per-user ones (`expected_report`).
REPORT_PATHS = ("/usage_report", "/cost_report", "/user_usage_report", "/user_cost_report")
# Every path the simulator serves: all eleven.
SERVED_PATHS = ENGAGEMENT_PATHS + REPORT_PATHS

BASE_PATH = "/v1/organizations/analytics"

# Nothing is served before this day (spec §1, "data floor").
DATA_FLOOR = datetime.date(2026, 1, 1)


@dataclass
class FaultConfig:
    """Injected faults. Rates are probabilities in [0, 1], decided deterministically per request."""

    server_error_rate: float = 0.0  # 500/502/503/504
    rate_limit_rate: float = 0.0  # spurious 429, as if another tool used the org budget
    drop_rate: float = 0.0  # close the connection without any response
    truncate_rate: float = 0.0  # 200, full Content-Length, about half the body, then close
    expired_cursor_rate: float = 0.0  # 410 on requests that carry a `page` cursor
    latency_min: float = 0.0  # seconds; every request sleeps uniform(latency_min, latency_max)
    latency_max: float = 0.0
    retry_after_seconds: float = 1.0  # `retry-after` of spurious 429s (integer string, rounded up)


@dataclass
class SimulatorConfig:
    users: int = 50
    seed: int = 42
    api_key: str = "sim-test-key"
    today: datetime.date | None = None  # None: the current UTC date, read at each request
    availability_lag_days: int = 1  # latest available day = today - lag
    history_days: int | None = 90  # earliest day = max(2026-01-01, today - history_days); None: floor only
    history_message_names_earliest: bool = True  # False: the "too old" 400 names no date (clients bisect)
    not_available_names_latest: bool = True  # False: the "not yet available" 400 names no date
    rate_limit: int = 60  # accepted requests per rate_window_seconds; 0 disables the limiter
    rate_window_seconds: float = 60.0  # sliding window
    summaries_envelope: str = "data"  # "data" | "summaries" | "both"
    summaries_period_keys: str = "starting_at"  # "starting_at" | "starting_date"
    users_default_limit: int = 20  # default `limit` of /users (100 on the other endpoints)
    growth_from: datetime.date | None = None  # from this day on rows carry newer fields
    revision: int = 0  # > 0 revises the most recent `revision_days` available days
    revision_days: int = 3
    cursor_ttl_seconds: float = 600.0  # an older cursor answers 410
    # upstream oddities on chosen days of the per-day endpoints: day → "empty" | "duplicate" |
    # "null_key" | "type_drift" | "bad_envelope" (see server.apply_quirk)
    quirks: dict[datetime.date, str] = field(default_factory=dict)
    faults: FaultConfig = field(default_factory=FaultConfig)
    # ---- cost & usage reports (§5.3) ----
    cost_reports_available: bool = True  # False: a seat-based plan, the four report paths are refused
    cost_reports_denied_status: int = 403  # 403 permission_error | 404 not_found_error when not available
    report_models: int = 5  # models in use; more models make more groups per day (see report_group_cap)
    report_group_cap: int = 100  # a bucket of /usage_report or /cost_report reports at most this many groups
    cost_revision: int = 0  # > 0 revises the last `cost_revision_days` days before today
    cost_revision_days: int = 30
    # Literal amount strings: the first cost results served for each day carry them as amount and
    # list_amount (they break the sum laws on purpose: exact-money tests only).
    money_samples: tuple[str, ...] = ()
