"""Pseudonymization: people's ids, emails and names replaced by keyed hashes (HMAC-SHA-256).

The same person gives the same value in every table and every run (emails are compared lower-cased),
so joins between the per-user tables and the org chart keep working; without the key the values cannot
be reversed or recomputed from a list of emails. The key never leaves this object: not in a message, a
log or a repr. `fingerprint` (an HMAC of a constant) tells whether two runs used the same key.
"""

from __future__ import annotations

import hashlib
import hmac
from typing import Any

PREFIX = "p_"
_KINDS = {"email": "email", "name": "name"}  # anything else identifies a user by id


def _kind(column: str) -> str:
    for marker, kind in _KINDS.items():
        if marker in column:
            return kind
    return "id"


class Pseudonymizer:
    def __init__(self, key: str) -> None:
        if not key:
            raise ValueError("a pseudonym key is needed")
        self._key = key.encode()

    def __repr__(self) -> str:
        return "Pseudonymizer(***)"

    def hash(self, kind: str, value: str) -> str:
        text = value.strip().lower() if kind == "email" else value.strip()
        digest = hmac.new(self._key, f"{kind}:{text}".encode(), hashlib.sha256).hexdigest()
        return PREFIX + digest[:32]

    def __call__(self, column: str, value: Any) -> Any:
        """The pseudonym of `value` in `column` (its kind — email, name or id — read off the column's name)."""
        if value is None or not isinstance(value, str):
            return value
        return self.hash(_kind(column), value)

    @property
    def fingerprint(self) -> str:
        return hmac.new(self._key, b"claude-analytics pseudonym key fingerprint", hashlib.sha256).hexdigest()[:16]
