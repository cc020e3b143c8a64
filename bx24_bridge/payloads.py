"""The call as the Bitrix24 CALL_CARD host describes it: getStatus and PLACEMENT_OPTIONS, read into
one :class:`CallStatus`. Its parts have modules of their own, shared with other placements: CRM
references (bx24_bridge/crm_refs.py), the caller's number (phone_numbers.py), event arguments and
error answers (placement_wire.py), the wire's own helpers (wire.py); the CALL_CARD events are in
callcard_events.py, REST answers in rest.py.

Pure Python (stdlib only, no ``js``/``pyodide``) so it runs the same under Pyodide and CPython.
The JS side of the bridge converts host values to "JSON-shaped" Python data (dict / list / str /
int / float / bool / None, nested) and hands them to these functions; code above the bridge only
ever sees the typed results below, never a raw host payload.

Every parser is defensive: for any JSON-shaped input it returns its result or raises
:class:`~bx24_bridge.errors.ParseError` (or, for error answers, ``PlacementError`` /
``RestError``), never ``KeyError``/``TypeError``/``RecursionError`` and friends. Host data is
untrusted (docs/host-contract.md#untrusted-data): strings come back stripped and capped, ids come
back as validated positive ints, and nothing is ever rendered or interpreted here.

Links to ``docs/host-contract.md#...`` name the host's behaviour a rule comes from.

Fallback rule for the facade (docs/host-contract.md#library, #status): the card's call data comes
from the ``getStatus`` command, parsed with :func:`parse_status` after
:func:`check_placement_answer`. When that command answers with an error or never answers (a
timeout), the card uses the placement options (``BX24.placement.info().options``) parsed with
:func:`parse_options` instead. When both are available, ``merge(status, options)`` fills what
getStatus lacks (e.g. ``uri``) from the options.
"""

# Its checks of what it is given stay, whatever the annotations say: callers outside the checker's
# view (host data through JavaScript) can pass anything.
# Its checks of what it is given stay, whatever the annotations say: callers outside the checker's
# view (host data through JavaScript) can pass anything.
# pyright: reportUnnecessaryIsInstance=false
from __future__ import annotations

import enum
import json
from typing import Final

from .crm_refs import CrmRef, dedupe, parse_bindings, parse_crm_ref, parse_crm_uri
from .errors import ParseError
from .phone_numbers import UNKNOWN_NUMBER, CallerNumber, parse_caller_number
from .placement_wire import error_code
from .values import Value
from .wire import (
    as_array,
    as_object,
    ascii_word,
    json_too_deep,
    json_type,
    parse_flag,
    parse_id,
    wire_text,
)

__all__ = [
    "EMPTY_STATUS",
    "MAX_CALL_ID_LEN",
    "MAX_OPTIONS_JSON_LEN",
    "CallDirection",
    "CallState",
    "CallStatus",
    "merge",
    "parse_call_direction",
    "parse_call_state",
    "parse_options",
    "parse_status",
]

MAX_CALL_ID_LEN: Final = 256
"""Longest CALL_ID kept; a longer one is not a real id and becomes ``""`` (never truncated)."""
MAX_OPTIONS_JSON_LEN: Final = 1_000_000
"""A PLACEMENT_OPTIONS JSON string longer than this is refused before decoding."""


class CallState(enum.StrEnum):
    """CALL_STATE (docs/host-contract.md#status) and the CallCard::CallStateChanged state
    (docs/host-contract.md#events).

    There is no "unknown" member: parsers return ``None`` for a state they do not know, so a
    missing state can never be mistaken for a real one (treat ``None`` as "ask getStatus").
    """

    IDLE = "idle"
    """No connection, or the call has ended."""
    CONNECTING = "connecting"
    CONNECTED = "connected"


class CallDirection(enum.StrEnum):
    """CALL_DIRECTION (docs/host-contract.md#status); anything the host may add later parses as
    ``UNKNOWN``."""

    INCOMING = "incoming"
    OUTGOING = "outgoing"
    CALLBACK = "callback"
    INCOMING_TRANSFER = "incomingTransfer"
    """Named by older docs only (docs/host-contract.md#status)."""
    UNKNOWN = "unknown"


_STATES_BY_WORD: Final = {member.value.casefold(): member for member in CallState}
_DIRECTIONS_BY_WORD: Final = {member.value.casefold(): member for member in CallDirection}


def parse_call_state(value: object) -> CallState | None:
    """``"idle"``/``"connecting"``/``"connected"`` (any case, stripped); None for anything else."""
    word = ascii_word(value)
    return None if word is None else _STATES_BY_WORD.get(word)


def parse_call_direction(value: object) -> CallDirection:
    """A :class:`CallDirection` (case-insensitive); ``UNKNOWN`` for anything else or absent."""
    word = ascii_word(value)
    if word is None:
        return CallDirection.UNKNOWN
    return _DIRECTIONS_BY_WORD.get(word, CallDirection.UNKNOWN)


class CallStatus(Value):
    """The call the card is showing: getStatus result or PLACEMENT_OPTIONS, normalised
    (docs/host-contract.md#status).

    ``CallStatus()`` (= :data:`EMPTY_STATUS`) is "no call": what the options give outside a
    placement.

    - ``call_id``: CALL_ID, ``""`` when absent or longer than :data:`MAX_CALL_ID_LEN`.
    - ``phone``: see :class:`CallerNumber`.
    - ``line_number``; ``line_name`` falls back to ``line_number`` when empty, as
      PLACEMENT_OPTIONS already does (docs/host-contract.md#status), so both sources agree.
    - ``entity``: the primary CRM item; None when unbound (type ``""``, id ``0``/``"0"``) or
      invalid.
    - ``activity_id``: CRM_ACTIVITY_ID, None when absent/``""``/``"undefined"``/0/invalid.
    - ``bindings``: CRM_BINDINGS, invalid rows skipped, de-duplicated in order.
    - ``direction``: ``CallDirection.UNKNOWN`` when absent or unknown.
    - ``state``: None when absent or unknown (never guessed).
    - ``list_mode``: CALL_LIST_MODE (dialer mode).
    - ``uri``: PLACEMENT_OPTIONS ``URI`` when it is a valid CRM details path, else None
      (getStatus does not carry it).
    """

    call_id: str = ""
    phone: CallerNumber = UNKNOWN_NUMBER
    line_number: str = ""
    line_name: str = ""
    entity: CrmRef | None = None
    activity_id: int | None = None
    bindings: tuple[CrmRef, ...] = ()
    direction: CallDirection = CallDirection.UNKNOWN
    state: CallState | None = None
    list_mode: bool = False
    uri: str | None = None

    @property
    def all_items(self) -> tuple[CrmRef, ...]:
        """The primary item first, then the bindings, without duplicates."""
        primary = () if self.entity is None else (self.entity,)
        return dedupe((*primary, *self.bindings))


EMPTY_STATUS: Final = CallStatus()


def _call_id(value: object) -> str:
    text = wire_text(value, MAX_CALL_ID_LEN + 1)
    return text if len(text) <= MAX_CALL_ID_LEN else ""


def _status_from_mapping(raw: dict[str, object]) -> CallStatus:
    """Shared reading of getStatus and PLACEMENT_OPTIONS: same keys, looser types in options."""
    line_number = wire_text(raw.get("LINE_NUMBER"))
    return CallStatus(
        call_id=_call_id(raw.get("CALL_ID")),
        phone=parse_caller_number(raw.get("PHONE_NUMBER")),
        line_number=line_number,
        line_name=wire_text(raw.get("LINE_NAME")) or line_number,
        entity=parse_crm_ref(raw.get("CRM_ENTITY_TYPE"), raw.get("CRM_ENTITY_ID")),
        activity_id=parse_id(raw.get("CRM_ACTIVITY_ID")),
        bindings=parse_bindings(raw.get("CRM_BINDINGS")),
        direction=parse_call_direction(raw.get("CALL_DIRECTION")),
        state=parse_call_state(raw.get("CALL_STATE")),
        list_mode=parse_flag(raw.get("CALL_LIST_MODE")),
        uri=parse_crm_uri(raw.get("URI")),
    )


def _looks_like_error_answer(raw: object) -> bool:
    rows = as_array(raw) or [raw]  # (an empty array holds no error either way)
    return any(error_code(row) is not None for row in rows)


def parse_status(raw: object) -> CallStatus:
    """The ``getStatus`` result (docs/host-contract.md#status) -> :class:`CallStatus`.

    ``raw`` must be an object; unknown keys are ignored. The host may answer getStatus with an
    error array instead (docs/host-contract.md#library): pass the answer through
    :func:`check_placement_answer` first,
    which raises ``PlacementError`` for it. Anything that is not an object raises ParseError.
    """
    mapping = as_object(raw)
    if mapping is None:
        detail = f"expected an object, got {json_type(raw)}"
        if _looks_like_error_answer(raw):
            detail += " (an error answer: call check_placement_answer first)"
        raise ParseError("getStatus result", detail)
    return _status_from_mapping(mapping)


def _decode_options(raw: str) -> object:
    if not raw.strip():
        return {}
    if len(raw) > MAX_OPTIONS_JSON_LEN:
        raise ParseError("PLACEMENT_OPTIONS", f"JSON text longer than {MAX_OPTIONS_JSON_LEN}")
    if json_too_deep(raw):
        raise ParseError("PLACEMENT_OPTIONS", "JSON nested too deeply")
    try:
        return json.loads(raw)
    except RecursionError:  # belt and braces: CPython's own limit
        raise ParseError("PLACEMENT_OPTIONS", "JSON nested too deeply") from None
    except ValueError as exc:  # JSONDecodeError, or an integer with too many digits
        raise ParseError("PLACEMENT_OPTIONS", f"invalid JSON ({type(exc).__name__})") from None


def parse_options(raw: object) -> CallStatus:
    """PLACEMENT_OPTIONS (``BX24.placement.info().options``, docs/host-contract.md#library,
    #status) -> :class:`CallStatus`.

    Same keys as getStatus, with CRM_ENTITY_ID as a string, CALL_LIST_MODE ``"true"``/``"false"``,
    CRM_ACTIVITY_ID possibly ``"undefined"``, maybe no CRM_BINDINGS, plus ``URI``.

    Accepts the options object, or the raw PLACEMENT_OPTIONS JSON string (decoded here; invalid
    JSON raises ParseError). Outside a placement the options are empty — ``[]`` (an empty PHP
    array), ``{}`` or a blank string — and the result is :data:`EMPTY_STATUS`. Anything else
    that is not an object raises ParseError.
    """
    value = _decode_options(raw) if isinstance(raw, str) else raw
    if value == []:
        return EMPTY_STATUS
    mapping = as_object(value)
    if mapping is None:
        raise ParseError("PLACEMENT_OPTIONS", f"expected an object, got {json_type(value)}")
    return _status_from_mapping(mapping)


def merge(primary: CallStatus, fallback: CallStatus) -> CallStatus:
    """Fill the empty fields of ``primary`` (usually getStatus) from ``fallback`` (the options).

    Empty means ``""``, None, ``()``, an unknown phone or an unknown direction; ``list_mode`` is
    true if either says so. When both have a call_id and they differ, they describe different
    calls (options are captured once at load; dialer mode moves on): ``primary`` is returned
    unchanged rather than mixing two calls' data.
    """
    if primary.call_id and fallback.call_id and primary.call_id != fallback.call_id:
        return primary
    return CallStatus(
        call_id=primary.call_id or fallback.call_id,
        phone=primary.phone if primary.phone.kind != "unknown" else fallback.phone,
        line_number=primary.line_number or fallback.line_number,
        line_name=primary.line_name or fallback.line_name,
        entity=primary.entity if primary.entity is not None else fallback.entity,
        activity_id=(
            primary.activity_id if primary.activity_id is not None else fallback.activity_id
        ),
        bindings=primary.bindings or fallback.bindings,
        direction=(
            primary.direction
            if primary.direction is not CallDirection.UNKNOWN
            else fallback.direction
        ),
        state=primary.state if primary.state is not None else fallback.state,
        list_mode=primary.list_mode or fallback.list_mode,
        uri=primary.uri if primary.uri is not None else fallback.uri,
    )
