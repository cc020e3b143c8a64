"""The CRM records the card reads about its client: a ``crm.item.get`` item and a ``user.get``
user, read defensively from REST answers (docs/host-contract.md#rest).

They are the card's domain, not the bridge's: the bridge hands over REST answers as data
(:class:`bx24_bridge.rest.RestOutcome`), and this module turns the two kinds the client block
needs into typed records. Every string is portal text: stripped, capped, never interpreted.
Pure Python (tests/unit/test_payloads.py, test_payloads_properties.py).
"""

from __future__ import annotations

from dataclasses import dataclass

from bx24_bridge.errors import ParseError
from bx24_bridge.wire import as_array, as_object, json_type, parse_id, wire_text

__all__ = ["CrmItem", "PortalUser", "parse_crm_item", "parse_user"]


@dataclass(frozen=True, slots=True)
class CrmItem:
    """The fields of a ``crm.item.get`` item the card uses (docs/host-contract.md#rest). All
    optional."""

    id: int | None = None
    title: str = ""
    name: str = ""
    last_name: str = ""
    second_name: str = ""
    company_title: str = ""
    company_id: int | None = None
    contact_id: int | None = None
    assigned_by_id: int | None = None
    post: str = ""


def parse_crm_item(raw: object) -> CrmItem:
    """``crm.item.get`` data ``{"item": {...}}`` (or the bare item) -> :class:`CrmItem`.

    Keys are camelCase (docs/host-contract.md#rest); ids accept int or numeric string, strings are
    stripped and capped. A non-object, or an ``item`` that is not an object, raises ParseError.
    """
    answer = as_object(raw)
    if answer is None:
        raise ParseError("crm.item.get result", f"expected an object, got {json_type(raw)}")
    found = answer.get("item", answer)
    item = as_object(found)
    if item is None:
        raise ParseError("crm.item.get result", f"item is {json_type(found)}, not an object")
    return CrmItem(
        id=parse_id(item.get("id")),
        title=wire_text(item.get("title")),
        name=wire_text(item.get("name")),
        last_name=wire_text(item.get("lastName")),
        second_name=wire_text(item.get("secondName")),
        company_title=wire_text(item.get("companyTitle")),
        company_id=parse_id(item.get("companyId")),
        contact_id=parse_id(item.get("contactId")),
        assigned_by_id=parse_id(item.get("assignedById")),
        post=wire_text(item.get("post")),
    )


@dataclass(frozen=True, slots=True)
class PortalUser:
    """A portal user from ``user.get`` (docs/host-contract.md#rest), e.g. the responsible person."""

    id: int | None = None
    name: str = ""
    last_name: str = ""
    second_name: str = ""

    @property
    def full_name(self) -> str:
        """``"Name Last"`` with empty parts left out; ``""`` when both are empty."""
        return " ".join(part for part in (self.name, self.last_name) if part)


def parse_user(raw: object) -> PortalUser:
    """``user.get`` data (a list of users, or one user object) -> :class:`PortalUser`.

    The first user of the list is taken. An empty list (no such user) or a list whose first
    element is not an object, or any other non-object, raises ParseError.
    """
    if raw == []:
        raise ParseError("user.get result", "no user in the answer")
    users = as_array(raw)
    first = users[0] if users else raw
    user = as_object(first)
    if user is None:
        raise ParseError("user.get result", f"expected an object, got {json_type(first)}")
    return PortalUser(
        id=parse_id(user.get("ID")),
        name=wire_text(user.get("NAME")),
        last_name=wire_text(user.get("LAST_NAME")),
        second_name=wire_text(user.get("SECOND_NAME")),
    )
