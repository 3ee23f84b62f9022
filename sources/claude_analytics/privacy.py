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


STATE_KEY = "pseudonymization"  # in the source's dlt state: "off", or "key <fingerprint>"


class PrivacyModeError(ValueError):
    """A load would mix plaintext and pseudonyms (or two keys' pseudonyms) in one dataset."""


def recorded_mode(source_state: dict) -> str | None:
    """What a dataset's people columns hold, from the source's dlt state: None before anything was loaded.

    Loads from before the mode was recorded were plaintext.
    """
    recorded = source_state.get(STATE_KEY)
    if recorded is None and any(r.get("last_loaded_day") for r in source_state.get("resources", {}).values()):
        return "off"
    return recorded


def mode(pseudonymizer: Pseudonymizer | None) -> str:
    return f"key {pseudonymizer.fingerprint}" if pseudonymizer is not None else "off"


def check_mode(recorded: str | None, current: str, *, dataset: str, reset: str) -> None:
    """Refuses a load whose pseudonymization differs from what the dataset already holds.

    `reset` is the command that drops the dataset and its state (the CLI's `claude-analytics reset --yes …`).
    """
    if recorded is None or recorded == current:
        return
    fix = (
        f"load into a new dataset instead (--dataset-name {dataset}_pseudonymized), or drop this one first with "
        f"`{reset}` (the next run loads the API's history again, as far back as it still serves)"
    )
    if recorded == "off":
        raise PrivacyModeError(
            f"dataset {dataset} already holds plaintext ids, emails and names, so pseudonymize "
            f"cannot be switched on for it: {fix}"
        )
    if current == "off":
        raise PrivacyModeError(
            f"dataset {dataset} holds pseudonymized people; loading plaintext into it would mix "
            f"both: set pseudonymize = true with the same pseudonym_key, or {fix}"
        )
    raise PrivacyModeError(
        f"dataset {dataset} was pseudonymized with another pseudonym_key (a key change gives "
        f"everyone new pseudonyms): use the old key, or {fix}"
    )
