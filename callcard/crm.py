"""The CRM records the card reads about its client: a ``crm.item.get`` item and a ``user.get``
user, read defensively from REST answers (docs/host-contract.md#rest).

They are the card's domain, not the bridge's: the bridge hands over REST answers as data
(:class:`bx24_bridge.rest.RestOutcome`), and this module turns the two kinds the client block
needs into typed records. Every string is portal text: stripped, capped, never interpreted.
Pure Python (tests/unit/test_payloads.py, test_payloads_properties.py).
"""

from __future__ import annotations

import math

from bx24_bridge.errors import ParseError
from bx24_bridge.values import Value
from bx24_bridge.wire import as_array, as_object, json_type, parse_id, wire_text

__all__ = [
    "MAX_ACTIVITIES",
    "MAX_DEALS",
    "Activity",
    "CrmItem",
    "OpenDeal",
    "PortalUser",
    "TimelineComment",
    "parse_activities",
    "parse_comments",
    "parse_crm_item",
    "parse_deals",
    "parse_stage_names",
    "parse_user",
]

MAX_DEALS = 5
"""Open deals read per client: the card has room for a few lines, the portal lists the rest."""


class CrmItem(Value):
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


class PortalUser(Value):
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


class OpenDeal(Value):
    """One deal in progress of the client, as ``crm.item.list`` lists it (docs/host-contract.md
    #rest): its title and stage as the portal spells them, its amount and currency."""

    id: int
    title: str = ""
    stage_id: str = ""
    amount: float | None = None
    currency: str = ""


def _amount(value: object) -> float | None:
    """``opportunity``: a number, or its text (the portal sends both); None when unreadable."""
    if isinstance(value, bool) or value is None:
        return None
    try:
        number = float(value) if isinstance(value, int | float | str) else math.nan
    except ValueError:
        return None
    return number if math.isfinite(number) and number >= 0 else None


def parse_deals(raw: object) -> tuple[OpenDeal, ...]:
    """``crm.item.list`` data ``{"items": [...]}`` (or the bare list) -> at most
    :data:`MAX_DEALS` deals, in the portal's order. Rows without a valid id are skipped; an
    answer that is no list raises ParseError."""
    answer = as_object(raw)
    rows_value: object = answer.get("items") if answer is not None else raw
    if json_type(rows_value) != "array":
        raise ParseError("crm.item.list result", f"items is {json_type(rows_value)}, not a list")
    return tuple(
        OpenDeal(
            id=deal_id,
            title=wire_text(item.get("title")),
            stage_id=wire_text(item.get("stageId"), 100),
            amount=_amount(item.get("opportunity")),
            currency=wire_text(item.get("currencyId"), 3).upper(),
        )
        for deal_id, item in _rows_with_ids(rows_value, "id", MAX_DEALS)
    )


def _rows_with_ids(rows: object, key: str, limit: int) -> list[tuple[int, dict[str, object]]]:
    """The first ``limit`` rows of a list answer that are objects with a valid id at ``key``."""
    found: list[tuple[int, dict[str, object]]] = []
    for row in as_array(rows):
        item = as_object(row)
        row_id = parse_id(item.get(key)) if item is not None else None
        if item is not None and row_id is not None:
            found.append((row_id, item))
            if len(found) == limit:
                break
    return found


class TimelineComment(Value):
    """The client's latest timeline comment (``crm.timeline.comment.list``): when (CREATED, as
    the portal wrote it), by whom (AUTHOR_ID) and its first line of text (the comment's text is
    the portal's: plain text here, whatever markup it holds, and cut short)."""

    id: int
    created: str = ""
    author_id: int | None = None
    line: str = ""


MAX_COMMENT_LINE = 80
"""The one line a comment gets on the card: longer is cut with an ellipsis."""


def parse_comments(raw: object) -> TimelineComment | None:
    """The first (newest, as asked) comment of a ``crm.timeline.comment.list`` answer with a
    valid id, or None when there is none. An answer that is no list raises ParseError."""
    if json_type(raw) != "array":
        raise ParseError("crm.timeline.comment.list result",
                         f"expected a list, got {json_type(raw)}")
    for comment_id, item in _rows_with_ids(raw, "ID", 1):
        text = item.get("COMMENT")
        lines = [line.strip() for line in text.splitlines()] if isinstance(text, str) else []
        line = next((line for line in lines if line), "")
        line = wire_text(line)
        if len(line) > MAX_COMMENT_LINE:
            line = line[: MAX_COMMENT_LINE - 1].rstrip() + "…"
        return TimelineComment(comment_id, wire_text(item.get("CREATED"), 40),
                               parse_id(item.get("AUTHOR_ID")), line)
    return None


def parse_stage_names(raw: object) -> dict[str, str]:
    """``crm.status.list`` rows ``[{STATUS_ID, NAME}, ...]`` -> ``{stage id: name}``; rows that
    are not objects, or lack either field, are skipped."""
    names: dict[str, str] = {}
    for row in as_array(raw):
        status = as_object(row)
        if status is None:
            continue
        stage, name = wire_text(status.get("STATUS_ID"), 100), wire_text(status.get("NAME"))
        if stage and name:
            names[stage] = name
    return names


MAX_ACTIVITIES = 2
"""Latest activities read per client: the newest may be the call on the card itself."""


class Activity(Value):
    """One of the client's latest CRM activities (``crm.activity.list``): a call, a meeting, an
    email... ``kind`` is TYPE_ID (1 meeting, 2 call, 3 task, 4 email), ``direction`` DIRECTION (1
    incoming, 2 outgoing), ``created`` the CREATED text as the portal wrote it (ISO 8601, in the
    portal's time zone)."""

    id: int
    kind: int | None = None
    direction: int | None = None
    subject: str = ""
    created: str = ""
    responsible_id: int | None = None


def parse_activities(raw: object) -> tuple[Activity, ...]:
    """``crm.activity.list`` rows, newest first as asked -> the first :data:`MAX_ACTIVITIES`
    with a valid id. An answer that is no list raises ParseError."""
    if json_type(raw) != "array":
        raise ParseError("crm.activity.list result", f"expected a list, got {json_type(raw)}")
    return tuple(
        Activity(
            id=activity_id,
            kind=parse_id(item.get("TYPE_ID")),
            direction=parse_id(item.get("DIRECTION")),
            subject=wire_text(item.get("SUBJECT")),
            created=wire_text(item.get("CREATED"), 40),
            responsible_id=parse_id(item.get("RESPONSIBLE_ID")),
        )
        for activity_id, item in _rows_with_ids(raw, "ID", MAX_ACTIVITIES)
    )
