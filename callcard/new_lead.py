"""A lead for an unknown caller, made from the card: the REST call, its answer, and how a lost
answer is looked up so that one press makes one lead.

Pure Python. The card machine (callcard/card_machine.py) decides when a lead is asked for and
what the card shows after; the shell (callcard/app.py) sends these calls.
"""

# Its checks of what it is given stay, whatever the annotations say: the portal's answers come
# through JavaScript and can be anything.
# pyright: reportUnnecessaryIsInstance=false
from __future__ import annotations

from typing import Any, Final, cast

from bx24_bridge.crm_refs import CrmRef, EntityType
from bx24_bridge.errors import NO_ACCESS_CODES
from bx24_bridge.wire import as_object, parse_id

__all__ = ["ADD_METHOD", "FIND_METHOD", "find_params", "found_lead", "lead_from_answer",
           "lead_params", "lead_problem"]

ADD_METHOD: Final = "crm.lead.add"
"""api-reference/crm/leads/crm-lead-add.md: ``{"fields": {...}}``, answers the new id."""
FIND_METHOD: Final = "crm.duplicate.findbycomm"
"""api-reference/crm/duplicates/crm-duplicate-find-by-comm.md: the leads with a phone number,
answered as ``{"LEAD": [ids]}`` (an empty list when there are none)."""


def lead_params(number: str, title: str) -> dict[str, Any]:
    """The lead's fields: its title, the caller's number as a work phone, and the source "call"
    (the portal's own word for leads from telephony)."""
    return {"fields": {"TITLE": title, "PHONE": [{"VALUE": number, "VALUE_TYPE": "WORK"}],
                       "SOURCE_ID": "CALL"}}


def lead_from_answer(answer: object) -> CrmRef | None:
    """The lead ``crm.lead.add`` answered with (its id), or None."""
    lead_id = parse_id(answer)
    return CrmRef(EntityType.LEAD, lead_id) if lead_id is not None else None


def find_params(number: str) -> dict[str, Any]:
    return {"entity_type": "LEAD", "type": "PHONE", "values": [number]}


def found_lead(answer: object) -> CrmRef | None:
    """The newest lead with the number in a :data:`FIND_METHOD` answer, or None. Used only after
    an add whose answer was lost: the newest lead with this number is the one it made."""
    fields = as_object(answer) or {}
    listed = fields.get("LEAD")
    rows = cast("list[object]", listed) if isinstance(listed, list) else []
    ids = [lead_id for lead_id in (parse_id(row) for row in rows) if lead_id is not None]
    return CrmRef(EntityType.LEAD, max(ids)) if ids else None


def lead_problem(code: str | None) -> str:
    """The i18n key of why a lead was not made, from the REST error code."""
    if code is not None and code.strip().upper() in NO_ACCESS_CODES:
        return "lead.no_access"
    return "lead.failed"
