"""What any placement's wire carries besides its payloads: the arguments of an event callback,
and error answers to a command (docs/host-contract.md#library, #one-argument).

Pure Python, defensive like every parser of the bridge (bx24_bridge/payloads.py says how).
"""

# Its checks of what it is given stay, whatever the annotations say: callers outside the checker's
# view (host data through JavaScript) can pass anything.
# pyright: reportUnnecessaryIsInstance=false
from __future__ import annotations

from typing import cast

from .errors import ParseError, PlacementError
from .wire import MAX_CODE_LEN, as_array, as_object, ascii_word, json_type, wire_text

__all__ = ["check_placement_answer", "error_code", "normalise_event_args"]


def normalise_event_args(args: object) -> list[object]:
    """The arguments an event callback received, as one flat list
    (docs/host-contract.md#one-argument).

    The docs show ``(state, params)``, the real wire delivers exactly one argument, some paths
    deliver one array, and "nothing" arrives as ``[]``. So: a single list argument is unwrapped
    (once), and trailing ``None`` (JS ``undefined``/``null``) are dropped::

        ()                      -> []
        (None,) / ([],)         -> []
        ("connected",)          -> ["connected"]
        ("connected", {...})    -> ["connected", {...}]
        (["connected", {...}],) -> ["connected", {...}]

    ``args`` must be a tuple (or list) of arguments; anything else raises ParseError.
    """
    if not isinstance(args, tuple | list):
        detail = f"expected a tuple of arguments, got {json_type(args)}"
        raise ParseError("event arguments", detail)
    items: list[object] = list(cast(tuple[object, ...] | list[object], args))
    if len(items) == 1 and isinstance(items[0], list | tuple):
        items = list(cast(tuple[object, ...] | list[object], items[0]))
    while items and items[-1] is None:
        items.pop()
    return items


def error_code(value: object) -> str | None:
    """The error code of an error answer object, ``"unknown error"`` if it has none, else None."""
    row = as_object(value)
    if row is None:
        return None
    code = wire_text(row.get("errorCode"), MAX_CODE_LEN)
    is_error = ascii_word(row.get("result")) == "error"
    if not (is_error or code):
        return None
    return code or "unknown error"


def check_placement_answer(command: str, raw: object) -> object:
    """Raise ``PlacementError`` if a placement command answered with an error, else return ``raw``.

    Errors come back as data (docs/host-contract.md#library): ``[{"result": "error", "errorCode":
    "Call card is undefined"}]``, or a bare ``{"result": "error", "errorCode": ...}`` (e.g.
    openPath). Any object in the answer with ``result == "error"`` or an ``errorCode`` counts.
    ``[]`` is the success answer of disableAutoClose/enableAutoClose and is returned as is.
    """
    rows = as_array(raw) or [raw]  # (an empty array holds no error either way)
    for row in rows:
        code = error_code(row)
        if code is not None:
            raise PlacementError(command, code)
    return raw
