"""Crash-safe drafts of the operator's notes, kept in a key-value store (localStorage).

Why: the call card closes by itself when the call ends and the app dies with it; a reload, a
crashed tab or a host that closes the card anyway would take the notes along. A draft written a
moment after each pause in typing survives all of that and is offered back when the card for the
same call opens again.

Pure Python (stdlib only): the browser shell passes an adapter over ``window.localStorage``;
tests pass :class:`MemoryStore`. Storage is unreliable in an iframe (quota exceeded, storage
disabled, ``SecurityError`` in a sandbox), so nothing here ever raises because of the store:
failures come back as return values and the notes keep working without drafts.
"""

from __future__ import annotations

import hashlib
import json
import math
import string
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Final, Protocol

__all__ = [
    "APP_PREFIX",
    "KEY_PREFIX",
    "MAX_AGE",
    "MAX_KEY_PART_LEN",
    "Draft",
    "DraftStore",
    "KeyValueStore",
    "MemoryStore",
]

APP_PREFIX: Final = "callcard:draft:"
"""Every draft key of this app, any format version, starts with this (and nothing else does)."""
KEY_PREFIX: Final = APP_PREFIX + "v1:"
"""Keys in the format this module writes: ``callcard:draft:v1:<portal>:<call id>``."""
MAX_AGE: Final = 7 * 24 * 3600
"""Drafts older than a week are pruned: by then the call is history and the text is stale."""
MAX_KEY_PART_LEN: Final = 128
"""Longest encoded portal / call id in a key; longer ones are shortened with a hash suffix."""

_SAFE_CHARS: Final = frozenset(string.ascii_letters + string.digits + "._-")
_HASH_MARK: Final = "~"  # never produced by the encoding, so a hashed part cannot be forged
_HASH_LEN: Final = 32


class KeyValueStore(Protocol):
    """The part of ``window.localStorage`` the drafts use. Any method may raise."""

    def get(self, key: str) -> str | None: ...

    def set(self, key: str, value: str) -> None: ...

    def remove(self, key: str) -> None: ...

    def keys(self) -> list[str]: ...


class MemoryStore:
    """A dict-backed :class:`KeyValueStore` with localStorage's semantics, for tests and tools."""

    def __init__(self, items: Mapping[str, str] | None = None) -> None:
        self.data: dict[str, str] = dict(items or {})

    def get(self, key: str) -> str | None:
        return self.data.get(key)

    def set(self, key: str, value: str) -> None:
        self.data[key] = value

    def remove(self, key: str) -> None:
        self.data.pop(key, None)  # like removeItem: a missing key is not an error

    def keys(self) -> list[str]:
        return list(self.data)


@dataclass(frozen=True, slots=True)
class Draft:
    """A stored draft: the notes text and when it was written (wall-clock seconds)."""

    text: str
    updated: float


def _percent(char: str) -> str:
    return "".join(f"%{byte:02X}" for byte in char.encode("utf-8", "surrogatepass"))


def _key_part(value: str, *, fold_case: bool = False) -> str:
    """One untrusted key component, made safe: no ``:`` (or anything but ``[A-Za-z0-9._-]``)
    survives unescaped, so a crafted portal or call id cannot reach into another key; a part
    longer than :data:`MAX_KEY_PART_LEN` keeps a readable head plus a hash of the whole."""
    text = value.strip() if isinstance(value, str) else ""
    if fold_case:
        text = text.lower()
    encoded = "".join(char if char in _SAFE_CHARS else _percent(char) for char in text)
    if len(encoded) <= MAX_KEY_PART_LEN:
        return encoded
    digest = hashlib.sha256(text.encode("utf-8", "surrogatepass")).hexdigest()[:_HASH_LEN]
    return f"{encoded[: MAX_KEY_PART_LEN - _HASH_LEN - 1]}{_HASH_MARK}{digest}"


def _json_object(raw: object) -> dict | None:
    if not isinstance(raw, str):
        return None
    try:
        value = json.loads(raw)
    except (ValueError, RecursionError):
        return None
    return value if isinstance(value, dict) else None


def _timestamp(value: object) -> float | None:
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    try:
        number = float(value)
    except OverflowError:  # an int too large for a float
        return None
    return number if math.isfinite(number) else None


def _decode(raw: object) -> Draft | None:
    """A v1 draft from its stored JSON, or None when it is corrupt or holds no text worth
    restoring (a blank draft is never written: blank notes remove the draft)."""
    value = _json_object(raw)
    if value is None:
        return None
    text, updated = value.get("text"), _timestamp(value.get("updated"))
    if not isinstance(text, str) or not text.strip() or updated is None:
        return None
    return Draft(text, updated)


class DraftStore:
    """Drafts of one portal's calls, one per call id, in a :class:`KeyValueStore`.

    Every method swallows store errors and reports them through its return value. A blank call
    id has no draft (save/remove give False, load gives None): calls without an id would all share
    one key, and a draft restored into another call's card could be saved to the wrong client.
    """

    def __init__(self, store: KeyValueStore, portal: str) -> None:
        self._store = store
        self._portal = _key_part(portal, fold_case=True)  # domain names ignore case

    def draft_key(self, call_id: str) -> str:
        """``callcard:draft:v1:<portal>:<call id>``, both parts escaped and length-capped."""
        return f"{KEY_PREFIX}{self._portal}:{_key_part(call_id)}"

    def save(self, call_id: str, text: str, now: float) -> bool:
        """Store ``text`` as the call's draft; False when it could not be stored."""
        updated = _timestamp(now)
        if not _has_id(call_id) or not isinstance(text, str) or updated is None:
            return False
        # ensure_ascii: lone surrogates from a JS string must not break the encoding.
        payload = json.dumps({"text": text, "updated": updated})
        try:
            self._store.set(self.draft_key(call_id), payload)
        except Exception:  # quota exceeded, storage disabled, SecurityError...
            return False
        return True

    def load(self, call_id: str) -> Draft | None:
        """The call's draft, or None (none stored, unreadable store, or a corrupt entry, which
        is removed so it is not read again)."""
        if not _has_id(call_id):
            return None
        key = self.draft_key(call_id)
        try:
            raw = self._store.get(key)
        except Exception:
            return None
        if raw is None:
            return None
        draft = _decode(raw)
        if draft is None:
            self._discard(key)
        return draft

    def remove(self, call_id: str) -> bool:
        """Forget the call's draft (after a successful save); False if the store failed."""
        return _has_id(call_id) and self._discard(self.draft_key(call_id))

    def prune(self, now: float, max_age: float = MAX_AGE) -> int:
        """Remove this app's drafts older than ``max_age`` (or dated more than ``max_age`` in the
        future: a clock that was wrong), of any portal, plus corrupt v1 entries. Returns how many
        were removed.

        Keys outside :data:`APP_PREFIX` are never touched. Keys of another format version are
        removed only when they carry a readable ``updated`` that is out of range: a newer app
        version owns their format, and deleting its drafts would lose notes.
        """
        try:
            keys = list(self._store.keys())
        except Exception:
            return 0
        removed = 0
        for key in keys:
            ours = isinstance(key, str) and key.startswith(APP_PREFIX)
            if ours and self._is_stale(key, now, max_age) and self._discard(key):
                removed += 1
        return removed

    def _is_stale(self, key: str, now: float, max_age: float) -> bool:
        try:
            raw = self._store.get(key)
        except Exception:
            return False
        if raw is None:
            return False
        if key.startswith(KEY_PREFIX):
            draft = _decode(raw)
            updated = None if draft is None else draft.updated
            if updated is None:
                return True  # corrupt
        else:
            value = _json_object(raw)
            updated = None if value is None else _timestamp(value.get("updated"))
            if updated is None:
                return False  # another version's format: not ours to judge
        return abs(now - updated) > max_age

    def _discard(self, key: str) -> bool:
        try:
            self._store.remove(key)
        except Exception:
            return False
        return True


def _has_id(call_id: object) -> bool:
    return isinstance(call_id, str) and bool(call_id.strip())
