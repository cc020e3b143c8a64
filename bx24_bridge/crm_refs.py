"""References to CRM items as the host names them: a type word and an id, a details path, and
the list of items a call is bound to. Shared by every CRM placement (docs/host-contract.md#status).

Pure Python, defensive like every parser of the bridge (bx24_bridge/payloads.py says how).
"""

# Its checks of what it is given stay, whatever the annotations say: callers outside the checker's
# view (host data through JavaScript) can pass anything.
# pyright: reportUnnecessaryIsInstance=false
from __future__ import annotations

import enum
import re
from collections.abc import Iterable
from typing import Final

from .values import Value
from .wire import as_array, as_object, ascii_word, parse_id

__all__ = [
    "MAX_BINDINGS",
    "CrmRef",
    "EntityType",
    "dedupe",
    "parse_bindings",
    "parse_crm_ref",
    "parse_crm_uri",
    "parse_entity_type",
]

MAX_BINDINGS: Final = 100
"""At most this many CRM bindings are kept."""

_CRM_URI = re.compile(r"/crm/(lead|deal|contact|company)/details/([0-9]{1,16})/")


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
_ENTITY_TYPES_BY_WORD: Final = {member.value.casefold(): member for member in EntityType}


def parse_entity_type(value: object) -> EntityType | None:
    """``LEAD``/``DEAL``/``CONTACT``/``COMPANY`` (any case, stripped) or None (``""`` = unbound)."""
    word = ascii_word(value)
    return None if word is None else _ENTITY_TYPES_BY_WORD.get(word)


class CrmRef(Value):
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


def dedupe(refs: Iterable[CrmRef]) -> tuple[CrmRef, ...]:
    """The refs in their first order, each once."""
    return tuple(dict.fromkeys(refs))


def parse_bindings(value: object) -> tuple[CrmRef, ...]:
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
