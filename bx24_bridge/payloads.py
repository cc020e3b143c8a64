"""Normalisation of every payload the Bitrix24 CALL_CARD host sends (the wire's own helpers are in
bx24_bridge/wire.py, REST answers in bx24_bridge/rest.py).

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
# pyright: reportUnnecessaryIsInstance=false
from __future__ import annotations

import enum
import json
import math
import re
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Final, Literal, cast

from .errors import ParseError, PlacementError
from .wire import (
    ASCII_DIGITS,
    MAX_CODE_LEN,
    as_array,
    as_object,
    ascii_word,
    int_text,
    json_too_deep,
    json_type,
    parse_flag,
    parse_id,
    wire_text,
)

__all__ = [
    "EMPTY_STATUS",
    "HIDDEN_NUMBER",
    "MAX_BINDINGS",
    "MAX_CALL_ID_LEN",
    "MAX_PHONE_LEN",
    "UNKNOWN_NUMBER",
    "CallDirection",
    "CallState",
    "CallStatus",
    "CallerNumber",
    "CrmRef",
    "EntityChange",
    "EntityType",
    "StateChange",
    "check_placement_answer",
    "merge",
    "normalise_event_args",
    "parse_call_direction",
    "parse_call_state",
    "parse_caller_number",
    "parse_crm_ref",
    "parse_crm_uri",
    "parse_entity_event",
    "parse_entity_type",
    "parse_failed_code",
    "parse_options",
    "parse_state_event",
    "parse_status",
]

MAX_CALL_ID_LEN: Final = 256
"""Longest CALL_ID kept; a longer one is not a real id and becomes ``""`` (never truncated)."""
MAX_PHONE_LEN: Final = 64
"""Longest phone number kept; a longer one becomes "unknown"."""
MAX_BINDINGS: Final = 100
"""At most this many CRM bindings are kept."""
MAX_OPTIONS_JSON_LEN: Final = 1_000_000
"""A PLACEMENT_OPTIONS JSON string longer than this is refused before decoding."""

_SIP_CODE = re.compile(r"[1-6][0-9]{2}")
_CRM_URI = re.compile(r"/crm/(lead|deal|contact|company)/details/([0-9]{1,16})/")
# Unicode categories that have no place in a phone number: controls, format characters (bidi
# overrides such as U+202E, zero-width joiners), surrogates, line/paragraph separators.
_BAD_NUMBER_CATEGORIES: Final = frozenset({"Cc", "Cf", "Cs", "Zl", "Zp"})
_NO_NUMBER_WORDS: Final = frozenset({"", "unknown", "undefined", "null"})


# --------------------------------------------------------------------------- scalar helpers


# --------------------------------------------------------------------------- enums


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


class EntityType(enum.StrEnum):
    """CRM_ENTITY_TYPE (docs/host-contract.md#status): the four CRM item types the call card binds
    to."""

    LEAD = "LEAD"
    DEAL = "DEAL"
    CONTACT = "CONTACT"
    COMPANY = "COMPANY"

    @property
    def entity_type_id(self) -> int:
        """``entityTypeId`` for ``crm.item.get``: LEAD 1, DEAL 2, CONTACT 3, COMPANY 4
        (docs/host-contract.md#rest)."""
        return _ENTITY_TYPE_IDS[self]

    @property
    def path_segment(self) -> str:
        """Lower-case name: the ``/crm/<seg>/details/<id>/`` segment and the ENTITY_TYPE of
        ``crm.timeline.comment.add`` (docs/host-contract.md#rest)."""
        return self.value.lower()


_ENTITY_TYPE_IDS: Final = {
    EntityType.LEAD: 1,
    EntityType.DEAL: 2,
    EntityType.CONTACT: 3,
    EntityType.COMPANY: 4,
}
_STATES_BY_WORD: Final = {member.value.casefold(): member for member in CallState}
_DIRECTIONS_BY_WORD: Final = {member.value.casefold(): member for member in CallDirection}
_ENTITY_TYPES_BY_WORD: Final = {member.value.casefold(): member for member in EntityType}


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


def parse_entity_type(value: object) -> EntityType | None:
    """``LEAD``/``DEAL``/``CONTACT``/``COMPANY`` (any case, stripped) or None (``""`` = unbound)."""
    word = ascii_word(value)
    return None if word is None else _ENTITY_TYPES_BY_WORD.get(word)


# --------------------------------------------------------------------------- CRM references


@dataclass(frozen=True, slots=True)
class CrmRef:
    """A validated reference to one CRM item. Build it with :func:`parse_crm_ref`.

    Direct construction with an invalid type or id raises ``ValueError`` (a programming error).
    """

    type: EntityType
    id: int

    def __post_init__(self) -> None:
        if not isinstance(self.type, EntityType):
            raise ValueError("CrmRef.type must be an EntityType")
        if isinstance(self.id, bool) or not isinstance(self.id, int) or parse_id(self.id) is None:
            raise ValueError("CrmRef.id must be a positive int no larger than 2**53 - 1")

    @property
    def path(self) -> str:
        """Portal path of the item's card, e.g. ``"/crm/deal/details/5/"``
        (docs/host-contract.md#rest, for openPath)."""
        return f"/crm/{self.type.path_segment}/details/{self.id}/"


def parse_crm_ref(entity_type: object, entity_id: object) -> CrmRef | None:
    """A :class:`CrmRef` from a type string and an id, or None when either is invalid.

    None covers the "bound to nothing" forms of docs/host-contract.md#status: type ``""``, id
    ``0``/``"0"``.
    """
    kind = parse_entity_type(entity_type)
    number = parse_id(entity_id)
    if kind is None or number is None:
        return None
    return CrmRef(kind, number)


def parse_crm_uri(value: object) -> str | None:
    """The PLACEMENT_OPTIONS ``URI`` (docs/host-contract.md#status) in canonical form, or None.

    Only ``/crm/<lead|deal|contact|company>/details/<id>/`` with a valid id is kept, so the value
    is always safe to hand to ``BX24.openPath``; leading zeros in the id are dropped.
    """
    if not isinstance(value, str):
        return None
    match = _CRM_URI.fullmatch(value.strip())
    if match is None:
        return None
    ref = parse_crm_ref(match.group(1), match.group(2))
    return None if ref is None else ref.path


def _dedupe(refs: Iterable[CrmRef]) -> tuple[CrmRef, ...]:
    return tuple(dict.fromkeys(refs))


def _parse_bindings(value: object) -> tuple[CrmRef, ...]:
    """CRM_BINDINGS (docs/host-contract.md#status): rows ``{ENTITY_TYPE, ENTITY_ID}``; invalid rows
    are skipped.

    A dict is read as its values: PHP encodes an array with non-sequential keys as a JSON object.
    """
    mapping = as_object(value)
    if mapping is not None:
        rows: Iterable[object] = mapping.values()
    else:
        rows = as_array(value)  # [] for anything that is not an array
    found: dict[CrmRef, None] = {}
    for item in rows:
        if len(found) >= MAX_BINDINGS:
            break
        row = as_object(item)
        if row is None:
            continue
        ref = parse_crm_ref(row.get("ENTITY_TYPE"), row.get("ENTITY_ID"))
        if ref is not None:
            found[ref] = None
    return tuple(found)


# --------------------------------------------------------------------------- phone numbers


@dataclass(frozen=True, slots=True)
class CallerNumber:
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


# --------------------------------------------------------------------------- call status


@dataclass(frozen=True, slots=True)
class CallStatus:
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
        return _dedupe((*primary, *self.bindings))


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
        bindings=_parse_bindings(raw.get("CRM_BINDINGS")),
        direction=parse_call_direction(raw.get("CALL_DIRECTION")),
        state=parse_call_state(raw.get("CALL_STATE")),
        list_mode=parse_flag(raw.get("CALL_LIST_MODE")),
        uri=parse_crm_uri(raw.get("URI")),
    )


def _looks_like_error_answer(raw: object) -> bool:
    rows = as_array(raw) or [raw]  # (an empty array holds no error either way)
    return any(_error_code(row) is not None for row in rows)


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


# --------------------------------------------------------------------------- events


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


@dataclass(frozen=True, slots=True)
class StateChange:
    """CallCard::CallStateChanged (docs/host-contract.md#events).

    ``state`` is None when the event carried no state or one this code does not know: it is
    still a change notification, so the caller should re-read getStatus rather than crash.
    ``failed_code`` is the SIP code of a failed call (``"486"`` busy, ``"480"`` unavailable) or
    None; over the real wire it is usually absent (docs/host-contract.md#one-argument).
    """

    state: CallState | None
    failed_code: str | None = None


_STATE_KEYS: Final = ("state", "CALL_STATE", "callState")
_FAILED_CODE_KEYS: Final = ("failedCode", "FAILED_CODE", "failed_code")


def parse_failed_code(value: object) -> str | None:
    """A SIP final-response code as three digits (from str or int), or None.

    Only ``100``–``699`` (the SIP status-code range) is accepted.
    """
    if isinstance(value, bool):
        return None
    if isinstance(value, int | float):
        if not (isinstance(value, int) or (math.isfinite(value) and value.is_integer())):
            return None
        return str(int(value)) if 100 <= value <= 699 else None
    if isinstance(value, str):
        code = value.strip()
        return code if _SIP_CODE.fullmatch(code) else None
    return None


def _first_present(mapping: dict[str, object], keys: tuple[str, ...]) -> object:
    for key in keys:
        if mapping.get(key) is not None:
            return mapping[key]
    return None


def parse_state_event(args: object) -> StateChange:
    """CallCard::CallStateChanged callback arguments (any shape of
    docs/host-contract.md#one-argument) -> :class:`StateChange`.

    The state is the first argument; the failed code is looked up (``failedCode``,
    ``FAILED_CODE`` or ``failed_code``) in the second argument. Defensively the first argument
    may also be an object ``{"state"|"CALL_STATE"|"callState": ..., "failedCode": ...}``.
    Only a non-tuple ``args`` raises ParseError; a missing or unknown state gives ``state=None``.
    """
    items = normalise_event_args(args)
    if not items:
        return StateChange(None)
    first = items[0]
    holders = [holder for holder in map(as_object, items[1:2]) if holder is not None]
    first_object = as_object(first)
    if first_object is not None:
        state_value = _first_present(first_object, _STATE_KEYS)
        holders.insert(0, first_object)
    else:
        state_value = first
    failed_code = None
    for holder in holders:
        failed_code = parse_failed_code(_first_present(holder, _FAILED_CODE_KEYS))
        if failed_code is not None:
            break
    return StateChange(parse_call_state(state_value), failed_code)


@dataclass(frozen=True, slots=True)
class EntityChange:
    """CallCard::EntityChanged (docs/host-contract.md#events): the client the card now shows.

    ``phone`` is unknown when the host sends ``"unknown"`` (client without a phone); ``entity``
    is None when the card is bound to nothing. Everything shown about the client must follow it.
    """

    phone: CallerNumber
    entity: CrmRef | None


def parse_entity_event(args: object) -> EntityChange:
    """CallCard::EntityChanged callback arguments -> :class:`EntityChange`.

    The payload ``{PHONE_NUMBER, CRM_ENTITY_TYPE, CRM_ENTITY_ID}`` is the first argument (alone,
    with a second one, or wrapped in an array, docs/host-contract.md#one-argument). A missing or
    non-object payload raises ParseError rather than producing an empty client, which would wrongly
    clear the view.
    """
    items = normalise_event_args(args)
    first = items[0] if items else None
    payload = as_object(first)
    if payload is None:
        raise ParseError(
            "CallCard::EntityChanged event", f"expected an object, got {json_type(first)}"
        )
    return EntityChange(
        phone=parse_caller_number(payload.get("PHONE_NUMBER")),
        entity=parse_crm_ref(payload.get("CRM_ENTITY_TYPE"), payload.get("CRM_ENTITY_ID")),
    )


# --------------------------------------------------------------------------- host answers


def _error_code(value: object) -> str | None:
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
        code = _error_code(row)
        if code is not None:
            raise PlacementError(command, code)
    return raw


# --------------------------------------------------------------------------- REST


