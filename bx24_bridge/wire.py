"""Values off the Bitrix24 wire, read defensively: the bridge's coercion helpers.

Everything the host sends has been through ``JSON.stringify`` / ``JSON.parse``
(docs/host-contract.md#library) and is untrusted (docs/host-contract.md#untrusted-data): these
helpers give it a type after checking it (:func:`as_object`, :func:`as_array`), read ids and
flags the way the host writes them, and strip and cap its text. Any placement's payloads are
built from them (bx24_bridge/payloads.py for CALL_CARD, callcard/crm.py for CRM records).
Pure Python.
"""

# Its checks of what it is given stay, whatever the annotations say: callers outside the checker's
# view (host data through JavaScript) can pass anything.
# pyright: reportUnnecessaryIsInstance=false
from __future__ import annotations

import math
import re
from typing import Final, cast

__all__ = [
    "ASCII_DIGITS",
    "MAX_CODE_LEN",
    "MAX_JSON_DEPTH",
    "MAX_SAFE_INTEGER",
    "MAX_TEXT_LEN",
    "as_array",
    "as_object",
    "ascii_word",
    "int_text",
    "json_too_deep",
    "json_type",
    "parse_flag",
    "parse_id",
    "wire_text",
]

MAX_TEXT_LEN: Final = 1_000
"""Cap for any display string (names, titles, line names): caller text must not be huge
(docs/host-contract.md#untrusted-data)."""

MAX_SAFE_INTEGER: Final = 2**53 - 1
"""Largest id accepted: every id went through JavaScript numbers (docs/host-contract.md#library)."""

MAX_CODE_LEN: Final = 200
"""Cap for error codes coming from the host."""

MAX_JSON_DEPTH: Final = 64
"""Deepest nesting of host JSON that is decoded (real payloads nest a handful of levels).
Checked before ``json.loads``: under Pyodide a few thousand levels overflow the stack inside the
decoder and kill the interpreter, with no RecursionError to catch."""

ASCII_DIGITS: Final = frozenset("0123456789")

_ID_TEXT = re.compile(r"[0-9]{1,16}")

_JSON_SPECIAL = re.compile(r'[\\"\[\]{}]')


def as_object(value: object) -> dict[str, object] | None:
    """A JSON object off the wire as a typed mapping, or None for anything else (what came
    through ``JSON.parse`` has string keys; values are still to be checked one by one)."""
    return cast(dict[str, object], value) if isinstance(value, dict) else None


def as_array(value: object) -> list[object]:
    """A JSON array off the wire as a typed list; ``[]`` for anything else."""
    return cast(list[object], value) if isinstance(value, list) else []


def json_type(value: object) -> str:
    """JSON name of a value's type, for error messages that never echo untrusted data."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int | float):
        return "number"
    if isinstance(value, str):
        return "string"
    if isinstance(value, list | tuple):
        return "array"
    if isinstance(value, dict):
        return "object"
    return type(value).__name__


def int_text(value: int) -> str:
    # str() of a gigantic int is slow and, past 4300 digits, raises ValueError: no real field
    # holds a number that large, so it is simply not text.
    return str(value) if value.bit_length() <= 256 else ""


def wire_text(value: object, limit: int = MAX_TEXT_LEN) -> str:
    """Coerce a host value that should be a string: stripped, capped at ``limit``.

    Numbers become their text (``17`` and ``17.0`` -> ``"17"``); ``None``, booleans, NaN/inf,
    lists and dicts become ``""`` (never ``str(dict)``).
    """
    if isinstance(value, str):
        return value.strip()[:limit]
    if isinstance(value, bool):
        return ""
    if isinstance(value, int):
        return int_text(value)[:limit]
    if isinstance(value, float) and math.isfinite(value):
        return (str(int(value)) if value.is_integer() else repr(value))[:limit]
    return ""


def json_too_deep(text: str, limit: int = MAX_JSON_DEPTH) -> bool:
    """Whether JSON ``text`` nests arrays/objects deeper than ``limit`` (strings skipped).

    One pass over the quotes, backslashes and brackets, without recursion or backtracking, so
    it is linear on any input, valid JSON or not.
    """
    depth = 0
    in_string = False
    escaped_at = -1  # index of the character a backslash escapes
    for match in _JSON_SPECIAL.finditer(text):
        index, char = match.start(), match.group()
        if index == escaped_at:
            continue
        if in_string:
            if char == "\\":
                escaped_at = index + 1
            elif char == '"':
                in_string = False
        elif char == '"':
            in_string = True
        elif char in "[{":
            depth += 1
            if depth > limit:
                return True
        elif char in "]}":
            depth -= 1
    return False


def ascii_word(value: object) -> str | None:
    """A stripped, case-folded ASCII string, or None: enum spellings are plain ASCII."""
    if not isinstance(value, str):
        return None
    word = value.strip()
    if len(word) > 64 or not word.isascii():
        return None
    return word.casefold()


def parse_id(value: object) -> int | None:
    """A positive id (CRM entity id, activity id, user id) or None.

    Accepts an int, a string of ASCII digits (surrounding whitespace allowed: ``" 17 "``) or an
    integral float (``17.0``): CRM_ENTITY_ID is an int in getStatus but a string in
    PLACEMENT_OPTIONS (docs/host-contract.md#status). Rejects booleans (``True`` is not id 1), 0
    and negatives (0 means "unbound", docs/host-contract.md#status), ``"undefined"``, anything
    non-numeric and anything above
    :data:`MAX_SAFE_INTEGER`.
    """
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        number = value
    elif isinstance(value, float):
        if not (math.isfinite(value) and value.is_integer()):
            return None
        if not 0 < value <= MAX_SAFE_INTEGER:
            return None
        number = int(value)
    elif isinstance(value, str):
        digits = value.strip()
        if not _ID_TEXT.fullmatch(digits):
            return None
        number = int(digits)
    else:
        return None
    return number if 0 < number <= MAX_SAFE_INTEGER else None


def parse_flag(value: object) -> bool:
    """CALL_LIST_MODE: a boolean in getStatus, the string ``"true"``/``"false"`` in options
    (docs/host-contract.md#status).

    ``True``, ``1``, ``"true"`` (any case) and ``"1"`` are true; everything else is false.
    """
    if isinstance(value, bool):
        return value
    if isinstance(value, int):
        return value == 1
    return ascii_word(value) in {"true", "1"}
