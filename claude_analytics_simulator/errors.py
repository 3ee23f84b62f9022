"""The one exception of the simulator: an answer in Anthropic's error shape."""

from __future__ import annotations

import json


class ApiError(Exception):
    """An answer in Anthropic's error shape: a status, a message, and optional extra headers."""

    def __init__(self, status: int, message: str, headers: dict[str, str] | None = None):
        super().__init__(message)
        self.status = status
        self.message = message
        self.headers = headers or {}


def shown(value: str) -> str:
    """A parameter value fit to quote back in a message (short, printable)."""
    value = value if len(value) <= 40 else value[:37] + "..."
    return json.dumps(value)
