"""The column naming rule: a JSON path → a readable snake_case column name of at most 63 characters.

Identical on every destination, so dlt's naming never alters a name (Postgres allows 63 characters and
dlt would otherwise shorten longer names with a hash of its own):

- path segments are joined with `_`;
- a segment `core_metrics` is dropped, and any other `<x>_metrics` becomes `<x>`;
- `email_address` becomes `email`;
- a name still longer than 63 characters (an unknown future field) is cut to 54 characters plus `_` and
  8 hex digits of its hash — done here, once, so it is the same on every destination.

The catalogue may name a field's column explicitly (the cost reports' `actor.*` → `user_*`).
Pure: no HTTP, no dlt.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Iterable

MAX_NAME = 63
_NOT_SNAKE = re.compile(r"[^a-z0-9_]+")


def _segment(segment: str) -> str:
    if segment == "core_metrics":
        return ""
    if segment.endswith("_metrics"):
        return segment[: -len("_metrics")]
    if segment == "email_address":
        return "email"
    return segment


def shorten(name: str) -> str:
    if len(name) <= MAX_NAME:
        return name
    return f"{name[:54]}_{hashlib.sha1(name.encode()).hexdigest()[:8]}"


def column_name(path: Iterable[str]) -> str:
    """The column name for a JSON path (see the module docstring)."""
    parts = [_segment(seg) for seg in path]
    return shorten("_".join(p for p in parts if p).lower())


def variant_name(name: str, data_type: str) -> str:
    """dlt's convention for a value whose type differs from its column's: `<name>__v_<type>`."""
    return shorten(f"{name}__v_{data_type}")


def attribute_name(header: str) -> str:
    """A free-form header (an org chart's `Cost Center`) as a column name by the same rule."""
    return shorten(_NOT_SNAKE.sub("_", header.strip().lower()).strip("_"))
