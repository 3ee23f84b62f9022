"""Configuration of the source: dlt's config providers (env vars, .dlt/config.toml, .dlt/secrets.toml).

Section `[sources.claude_analytics]`, or `SOURCES__CLAUDE_ANALYTICS__<KEY>` in the environment.
`availability_lag_days` and `history_days` are `auto` (learnt from the API on every run) or a number
that pins them.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from dlt.common.configuration import configspec, resolve_configuration
from dlt.common.configuration.exceptions import ConfigurationException
from dlt.common.configuration.specs import BaseConfiguration
from dlt.common.typing import TSecretStrValue

from .days import API_FLOOR, parse_day

DEFAULT_BASE_URL = "https://api.anthropic.com/v1/organizations/analytics"
SECTIONS = ("sources", "claude_analytics")
MAX_PAGE_SIZE = 1000
AUTO = "auto"


class ConfigError(ValueError):
    """A configuration value is invalid; the message names the key and how to fix it."""


@configspec
class ClaudeAnalyticsSettings(BaseConfiguration):
    # Not named ClaudeAnalyticsConfiguration: dlt registers the spec it derives from the
    # `claude_analytics` source function under that name in the source's module.
    api_key: TSecretStrValue | None = None
    base_url: str = DEFAULT_BASE_URL
    requests_per_minute: int = 60
    availability_lag_days: str = AUTO  # "auto" or a whole number of days
    lookback_days: int = 3
    cost_lookback_days: int = 30
    history_days: str = AUTO  # "auto" or a whole number of days
    start_date: str | None = None
    page_size: int = MAX_PAGE_SIZE
    org_chart_path: str | None = None
    org_unit_attribute: str = "department"
    pseudonymize: bool = False
    pseudonym_key: TSecretStrValue | None = None

    def start_day(self) -> dt.date | None:
        return parse_day(self.start_date, "start_date") if self.start_date else None

    @property
    def lag_days(self) -> int | None:
        """The pinned availability lag, or None to learn the newest day from the API."""
        return _auto_or_int(self.availability_lag_days)

    @property
    def pinned_history_days(self) -> int | None:
        """The pinned history, or None to learn the earliest day from the API."""
        return _auto_or_int(self.history_days)


_RANGES = {
    "requests_per_minute": (1, 100_000),
    "availability_lag_days": (0, 60),
    "lookback_days": (0, 366),
    "cost_lookback_days": (0, 366),
    "history_days": (1, 3660),
    "page_size": (1, MAX_PAGE_SIZE),
}
_AUTO_KEYS = ("availability_lag_days", "history_days")


def _auto_or_int(value: Any) -> int | None:
    if isinstance(value, str) and value.strip().lower() == AUTO:
        return None
    return int(value)


def _whole(value: Any) -> int | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, str) and value.strip().lstrip("-").isdigit():
        return int(value)
    return None


def make_settings(**values: Any) -> ClaudeAnalyticsSettings:
    """Settings from explicit values (the source's arguments), validated."""
    settings = ClaudeAnalyticsSettings()
    for key, value in values.items():
        setattr(settings, key, value)
    validate(settings)
    return settings


def load_settings() -> ClaudeAnalyticsSettings:
    """Resolve and validate the configuration; raises ConfigError with a one-line message."""
    try:
        config = resolve_configuration(ClaudeAnalyticsSettings(), sections=SECTIONS)
    except ConfigurationException as exc:
        reason = " ".join(str(exc).split())[:400] or type(exc).__name__
        raise ConfigError(
            f"configuration [sources.claude_analytics] is invalid: {reason} — fix the value or the file it comes from"
        ) from None
    validate(config)
    return config


def validate(config: ClaudeAnalyticsSettings) -> None:
    for key, (low, high) in _RANGES.items():
        value = getattr(config, key)
        if key in _AUTO_KEYS and isinstance(value, str) and value.strip().lower() == AUTO:
            setattr(config, key, AUTO)
            continue
        number = _whole(value)
        if number is None or not low <= number <= high:
            also = " or auto" if key in _AUTO_KEYS else ""
            raise ConfigError(
                f"{key} = {value!r} is invalid: use a whole number from {low} to {high}{also} "
                f"(SOURCES__CLAUDE_ANALYTICS__{key.upper()} or [sources.claude_analytics] in .dlt/config.toml)"
            )
        setattr(config, key, str(number) if key in _AUTO_KEYS else number)
    if not str(config.base_url).startswith(("http://", "https://")):
        raise ConfigError(f"base_url = {config.base_url!r} is invalid: use an http(s) URL such as {DEFAULT_BASE_URL}")
    try:
        start = config.start_day()
    except ValueError as exc:
        raise ConfigError(f"{exc} (setting start_date)") from None
    if start is not None and start < API_FLOOR:
        raise ConfigError(f"start_date {start} is before {API_FLOOR}, the first day the API serves: use a later day")
    if config.pseudonymize and not config.pseudonym_key:
        raise ConfigError(
            "pseudonymize = true needs a secret pseudonym_key: set SOURCES__CLAUDE_ANALYTICS__"
            "PSEUDONYM_KEY or pseudonym_key in .dlt/secrets.toml (a long random string; keep it)"
        )
    if not config.org_unit_attribute.strip():
        raise ConfigError("org_unit_attribute is empty: name a column of the org chart, e.g. department")
