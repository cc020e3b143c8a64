"""The caller's number as the host sends it (PHONE_NUMBER, docs/host-contract.md#status, #events):
a number, hidden, or unknown, never anything that could display as something else.

Pure Python, defensive like every parser of the bridge (bx24_bridge/payloads.py says how).
"""

# Its checks of what it is given stay, whatever the annotations say: callers outside the checker's
# view (host data through JavaScript) can pass anything.
# pyright: reportUnnecessaryIsInstance=false
from __future__ import annotations

import math
import unicodedata
from typing import Final, Literal

from .values import Value
from .wire import ASCII_DIGITS, int_text

__all__ = ["HIDDEN_NUMBER", "MAX_PHONE_LEN", "UNKNOWN_NUMBER", "CallerNumber",
           "parse_caller_number"]

MAX_PHONE_LEN: Final = 64
"""Longest phone number kept; a longer one becomes "unknown"."""

# Unicode categories that have no place in a phone number: controls, format characters (bidi
# overrides such as U+202E, zero-width joiners), surrogates, line/paragraph separators.
_BAD_NUMBER_CATEGORIES: Final = frozenset({"Cc", "Cf", "Cs", "Zl", "Zp"})
_NO_NUMBER_WORDS: Final = frozenset({"", "unknown", "undefined", "null"})


class CallerNumber(Value):
    """The caller's number as the host gave it (PHONE_NUMBER, docs/host-contract.md#status,
    #events), as a tagged value.

    ``kind`` is ``"number"`` (then ``value`` is the number as text, e.g. ``"+79001234567"``,
    unformatted: formatting is the view's job), ``"hidden"`` (the caller hid it) or
    ``"unknown"`` (absent, ``"unknown"``, unusable); ``value`` is None unless ``kind`` is
    ``"number"``. Use :data:`UNKNOWN_NUMBER` / :data:`HIDDEN_NUMBER` or
    :func:`parse_caller_number`.
    """

    kind: Literal["number", "hidden", "unknown"]
    value: str | None = None

    def __post_init__(self) -> None:
        if self.kind not in ("number", "hidden", "unknown"):
            raise ValueError("CallerNumber.kind must be 'number', 'hidden' or 'unknown'")
        if (self.kind == "number") != isinstance(self.value, str):
            raise ValueError("CallerNumber.value is a str exactly when kind is 'number'")

    @property
    def is_number(self) -> bool:
        return self.kind == "number"


UNKNOWN_NUMBER: Final = CallerNumber("unknown")
HIDDEN_NUMBER: Final = CallerNumber("hidden")


def _number_text(value: object) -> str | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return int_text(value) if value >= 0 else None
    if isinstance(value, float):
        if not (math.isfinite(value) and value.is_integer() and value >= 0):
            return None
        return str(int(value))
    if isinstance(value, str):
        return value.strip()
    return None


def parse_caller_number(value: object) -> CallerNumber:
    """PHONE_NUMBER -> :class:`CallerNumber`.

    ``"hidden"`` (any case) is hidden (docs/host-contract.md#status).
    Absent/None/``""``/``"unknown"`` (docs/host-contract.md#events)/``"undefined"`` are unknown. A
    non-negative integer becomes its digits. A string is kept stripped (a leading ``+`` stays)
    unless it has no ASCII digit, is longer than :data:`MAX_PHONE_LEN`, or contains control/format
    characters (e.g. the RTL override U+202E, which would let a "number" display as something
    else): those are unknown.
    """
    text = _number_text(value)
    if text is None or len(text) > MAX_PHONE_LEN:
        return UNKNOWN_NUMBER
    word = text.casefold()
    if word == "hidden":
        return HIDDEN_NUMBER
    if word in _NO_NUMBER_WORDS or ASCII_DIGITS.isdisjoint(text):
        return UNKNOWN_NUMBER
    if any(unicodedata.category(char) in _BAD_NUMBER_CATEGORIES for char in text):
        return UNKNOWN_NUMBER
    return CallerNumber("number", text)
