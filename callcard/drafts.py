"""Crash-safe drafts of the operator's notes, kept in a key-value store (localStorage).

Why: the call card closes by itself when the call ends and the app dies with it; a reload, a
crashed tab or a host that closes the card anyway would take the notes along. A draft written a
moment after each pause in typing survives all of that and is offered back when the card for the
same call opens again. A card may move between clients (the dialer), so a call has one note per
client; a saved note stays too (with its comment id, so a reload updates that comment instead of
adding a second one) until it is a week old.

Pure Python (stdlib only): the browser shell passes an adapter over ``window.localStorage``;
tests pass :class:`MemoryStore`. Storage is unreliable in an iframe (quota exceeded, storage
disabled, ``SecurityError`` in a sandbox), so nothing here ever raises because of the store:
failures come back as return values and the notes keep working without drafts.
"""

# Its checks of what it is given stay, whatever the annotations say: what the browser's storage
# holds may be anything.
# pyright: reportUnnecessaryIsInstance=false
from __future__ import annotations

import hashlib
import json
import math
import string
from collections.abc import Callable, Mapping
from typing import Final, Protocol

from bx24_bridge.values import Value
from bx24_bridge.wire import as_object

__all__ = [
    "APP_PREFIX",
    "KEY_PREFIX",
    "LEGACY_CLIENT",
    "LEGACY_PREFIX",
    "MAX_AGE",
    "MAX_KEY_PART_LEN",
    "DraftStore",
    "KeyValueStore",
    "MemoryStore",
    "StoredNote",
    "key_part",
    "store_keys",
]

APP_PREFIX: Final = "callcard:draft:"
"""Every draft key of this app, any format version, starts with this (and nothing else does)."""
KEY_PREFIX: Final = APP_PREFIX + "v2:"
"""Keys in the format this module writes: ``callcard:draft:v2:<portal>:<call id>:<client>``,
one note per client of a call (a dialer card moves between clients)."""
ADDING_PREFIX: Final = APP_PREFIX + "adding:"
"""An add on its way (:meth:`DraftStore.mark_adding`), pruned by age like any draft."""
LEGACY_PREFIX: Final = APP_PREFIX + "v1:"
"""The earlier format, one draft per call: ``callcard:draft:v1:<portal>:<call id>``. Still read
(as the draft of the card's first client) so an upgrade loses no note; never written."""
LEGACY_CLIENT: Final = ""
"""The client of a note read from the earlier format: whoever the card is about when it opens."""
MAX_AGE: Final = 7 * 24 * 3600
"""Drafts older than a week are pruned: by then the call is history and the text is stale."""
MAX_KEY_PART_LEN: Final = 128
"""Longest encoded portal / call id / client in a key; longer ones get a hash suffix."""
MAX_LOST_LEN: Final = 12_000
"""A lost add's comment is a note (at most 10 000 characters) and its header line."""
MAX_HEADER_FIELDS: Final = 8
"""A stored note's header holds a handful of short facts; anything bigger is not ours."""

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


class StoredNote(Value):
    """One client's note of one call, as the store keeps it.

    ``client`` names who it is about (the notes machine's key, e.g. ``contact-17``;
    :data:`LEGACY_CLIENT` for a note read from the earlier format). ``text`` is the textarea's
    text (blank only when the note still names its comment or its header an outcome),
    ``updated`` wall-clock seconds,
    ``comment_id`` the timeline comment it was saved as, ``saved`` whether that comment holds
    this very text, ``header`` the facts of the comment's first line as plain strings.
    """

    client: str
    text: str
    updated: float
    comment_id: int | None = None
    saved: bool = False
    header: Mapping[str, str] | None = None
    lost: str | None = None
    """The text of an add that may have reached the portal unanswered (looked for first)."""


def store_keys(store: KeyValueStore) -> list[str]:
    """Every key of ``store`` that is a string; none when the store will not list them."""
    try:
        keys = list(store.keys())
    except Exception:  # storage disabled, SecurityError...
        return []
    return [key for key in keys if isinstance(key, str)]


def _percent(char: str) -> str:
    return "".join(f"%{byte:02X}" for byte in char.encode("utf-8", "surrogatepass"))


def key_part(value: str, *, fold_case: bool = False) -> str:
    """One untrusted key component, made safe: no ``:`` (or anything but ``[A-Za-z0-9._-]``)
    survives unescaped, so a crafted portal, call id or client cannot reach into another key; a
    part longer than :data:`MAX_KEY_PART_LEN` keeps a readable head plus a hash of the whole."""
    text = value.strip() if isinstance(value, str) else ""
    if fold_case:
        text = text.lower()
    encoded = "".join(char if char in _SAFE_CHARS else _percent(char) for char in text)
    if len(encoded) <= MAX_KEY_PART_LEN:
        return encoded
    digest = hashlib.sha256(text.encode("utf-8", "surrogatepass")).hexdigest()[:_HASH_LEN]
    return f"{encoded[: MAX_KEY_PART_LEN - _HASH_LEN - 1]}{_HASH_MARK}{digest}"


def _json_object(raw: object) -> dict[str, object] | None:
    if not isinstance(raw, str):
        return None
    try:
        value: object = json.loads(raw)
    except (ValueError, RecursionError):
        return None
    return as_object(value)


def _timestamp(value: object) -> float | None:
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    try:
        number = float(value)
    except OverflowError:  # an int too large for a float
        return None
    return number if math.isfinite(number) else None


def _comment_id(value: object) -> int | None:
    if isinstance(value, bool) or not isinstance(value, int) or not 0 < value < 2**53:
        return None
    return value


def _header(value: object) -> dict[str, str] | None:
    fields = as_object(value)
    if fields is None or len(fields) > MAX_HEADER_FIELDS:
        return None
    header = {key: text for key, text in fields.items() if isinstance(text, str)}
    return header if len(header) == len(fields) else None


def _decode(raw: object, client: str) -> StoredNote | None:
    """A v2 note from its stored JSON, or None when it is corrupt or holds nothing worth
    restoring (blank text is kept only while it names a comment)."""
    value = _json_object(raw)
    if value is None or value.get("client") != client:
        return None
    text, updated = value.get("text"), _timestamp(value.get("updated"))
    comment_id = _comment_id(value.get("comment_id"))
    if not isinstance(text, str) or updated is None:
        return None
    header = _header(value.get("header"))
    if not text.strip() and comment_id is None and not (header and header.get("outcome")):
        return None
    saved = value.get("saved") is True and comment_id is not None
    lost = value.get("lost")
    lost = lost if isinstance(lost, str) and lost and len(lost) <= MAX_LOST_LEN else None
    return StoredNote(client, text, updated, comment_id, saved, header, lost)


def _decode_legacy(raw: object) -> StoredNote | None:
    """A v1 draft (``{"text", "updated"}``) as the note of :data:`LEGACY_CLIENT`."""
    value = _json_object(raw)
    if value is None:
        return None
    text, updated = value.get("text"), _timestamp(value.get("updated"))
    if not isinstance(text, str) or not text.strip() or updated is None:
        return None
    return StoredNote(LEGACY_CLIENT, text, updated)


class DraftStore:
    """The notes of one portal's calls, one per call and client, in a :class:`KeyValueStore`.

    Every method swallows store errors and reports them through its return value. A blank call
    id has no notes (save/remove give False, load gives nothing): calls without an id would all
    share keys, and a note restored into another call's card could be saved to the wrong client.
    """

    def __init__(self, store: KeyValueStore, portal: str) -> None:
        self._store = store
        self._portal = key_part(portal, fold_case=True)  # domain names ignore case

    def call_prefix(self, call_id: str) -> str:
        """What every key of this call's notes starts with."""
        return f"{KEY_PREFIX}{self._portal}:{key_part(call_id)}:"

    def draft_key(self, call_id: str, client: str) -> str:
        """``callcard:draft:v2:<portal>:<call id>:<client>``, each part escaped and capped."""
        return self.call_prefix(call_id) + key_part(client)

    def legacy_key(self, call_id: str) -> str:
        """Where the earlier format kept the call's one draft."""
        return f"{LEGACY_PREFIX}{self._portal}:{key_part(call_id)}"

    def save(self, call_id: str, note: StoredNote) -> bool:
        """Store ``note`` under its call and client; False when it could not be stored."""
        updated = _timestamp(note.updated)
        if (
            not _has_id(call_id)
            or not _has_id(note.client)
            or not isinstance(note.text, str)
            or updated is None
        ):
            return False
        record: dict[str, object] = {"client": note.client, "text": note.text, "updated": updated}
        if _comment_id(note.comment_id) is not None:
            record["comment_id"] = note.comment_id
            record["saved"] = bool(note.saved)
        header = _header(dict(note.header)) if note.header is not None else None
        if header:
            record["header"] = header
        if isinstance(note.lost, str) and note.lost:
            record["lost"] = note.lost
        # ensure_ascii: lone surrogates from a JS string must not break the encoding.
        payload = json.dumps(record)
        try:
            self._store.set(self.draft_key(call_id, note.client), payload)
        except Exception:  # quota exceeded, storage disabled, SecurityError...
            return False
        return True

    def load(self, call_id: str) -> list[StoredNote]:
        """Every note of the call: the earlier format's draft first (as :data:`LEGACY_CLIENT`),
        then one per client. Corrupt entries are removed so they are not read again; an
        unreadable store gives what could be read."""
        if not _has_id(call_id):
            return []
        notes: list[StoredNote] = []
        legacy = self._read(self.legacy_key(call_id), _decode_legacy)
        if legacy is not None:
            notes.append(legacy)
        prefix = self.call_prefix(call_id)
        for key in self._keys():
            if not key.startswith(prefix):
                continue
            note = self._read(key, _decode_any)
            if note is not None and self.draft_key(call_id, note.client) == key:
                notes.append(note)
            elif note is not None:
                self._discard(key)  # a payload that names another key is not this note
        return notes

    # ----------------------------------------------------------------- adds on their way

    def adding_key(self, call_id: str, client: str) -> str:
        """``callcard:draft:adding:<portal>:<call id>:<client>``: an add on its way."""
        return f"{ADDING_PREFIX}{self._portal}:{key_part(call_id)}:{key_part(client)}"

    def mark_adding(self, call_id: str, client: str, comment: str, now: float) -> bool:
        """Write down, before it goes, the comment an add is about to make: if the page dies
        before the answer, the next card of this call looks for it before adding again."""
        if not _has_id(call_id) or not _has_id(client) or _timestamp(now) is None:
            return False
        try:
            self._store.set(self.adding_key(call_id, client),
                            json.dumps({"comment": comment, "updated": now}))
        except Exception:
            return False
        return True

    def clear_adding(self, call_id: str, client: str) -> bool:
        """The add answered (or its loss is in the note's own draft now)."""
        if not _has_id(call_id) or not _has_id(client):
            return False
        return self._discard(self.adding_key(call_id, client))

    def adding(self, call_id: str, client: str) -> str | None:
        """The comment of an add of ``client`` that was on its way when a page of this call
        died, or None."""
        if not _has_id(call_id) or not _has_id(client):
            return None
        try:
            value = _json_object(self._store.get(self.adding_key(call_id, client)))
        except Exception:
            return None
        comment = value.get("comment") if value is not None else None
        return comment if isinstance(comment, str) and 0 < len(comment) <= MAX_LOST_LEN else None

    def remove(self, call_id: str, client: str) -> bool:
        """Forget the call's note of ``client`` (:data:`LEGACY_CLIENT`: the earlier format's
        draft); False if the store failed."""
        if not _has_id(call_id):
            return False
        key = self.legacy_key(call_id) if client == LEGACY_CLIENT else None
        return self._discard(key if key is not None else self.draft_key(call_id, client))

    def prune(self, now: float, max_age: float = MAX_AGE) -> int:
        """Remove this app's notes older than ``max_age`` (or dated more than ``max_age`` in the
        future: a clock that was wrong), of any portal, plus corrupt entries of the formats this
        module reads. Returns how many were removed.

        Keys outside :data:`APP_PREFIX` are never touched. Keys of another format version are
        removed only when they carry a readable ``updated`` that is out of range: a newer app
        version owns their format, and deleting its notes would lose them.
        """
        removed = 0
        for key in self._keys():
            if key.startswith(APP_PREFIX) and self._is_stale(key, now, max_age):
                removed += self._discard(key)
        return removed

    # ----------------------------------------------------------------- internals

    def _keys(self) -> list[str]:
        return store_keys(self._store)

    def _read(self, key: str, decode: Callable[[object], StoredNote | None]) -> StoredNote | None:
        try:
            raw = self._store.get(key)
        except Exception:
            return None
        if raw is None:
            return None
        note = decode(raw)
        if note is None:
            self._discard(key)
        return note

    def _is_stale(self, key: str, now: float, max_age: float) -> bool:
        try:
            raw = self._store.get(key)
        except Exception:
            return False
        if raw is None:
            return False
        if key.startswith((KEY_PREFIX, LEGACY_PREFIX)):
            note = _decode_any(raw) if key.startswith(KEY_PREFIX) else _decode_legacy(raw)
            if note is None:
                return True  # corrupt
            updated = note.updated
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


def _decode_any(raw: object) -> StoredNote | None:
    """A v2 note whatever client it names (the caller checks that the key matches)."""
    value = _json_object(raw)
    client = value.get("client") if value is not None else None
    return _decode(raw, client) if isinstance(client, str) and client.strip() else None


def _has_id(value: object) -> bool:
    return isinstance(value, str) and bool(value.strip())
