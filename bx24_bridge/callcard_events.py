"""The CALL_CARD events (docs/host-contract.md#events): CallCard::CallStateChanged and
CallCard::EntityChanged, in whatever shape the wire delivers them (#one-argument).

Pure Python, defensive like every parser of the bridge (bx24_bridge/payloads.py says how).
"""

# Its checks of what it is given stay, whatever the annotations say: callers outside the checker's
# view (host data through JavaScript) can pass anything.
# pyright: reportUnnecessaryIsInstance=false
from __future__ import annotations

import math
import re
from typing import Final

from .crm_refs import CrmRef, parse_crm_ref
from .errors import ParseError
from .payloads import CallState, parse_call_state
from .phone_numbers import CallerNumber, parse_caller_number
from .placement_wire import normalise_event_args
from .values import Value
from .wire import as_object, json_type

__all__ = [
    "EntityChange",
    "StateChange",
    "parse_entity_event",
    "parse_failed_code",
    "parse_state_event",
]

_SIP_CODE = re.compile(r"[1-6][0-9]{2}")


class StateChange(Value):
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


class EntityChange(Value):
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
