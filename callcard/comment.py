"""The timeline comment the notes become: where it goes, what its header says, how it is sent.

Pure Python. The notes machine (:mod:`callcard.notes`) decides *when* to save; this module
decides *what* a saved note looks like in the CRM, and how a REST failure reads to the
operator. The host's rules are in ``docs/host-contract.md``.
"""

# Its checks of what it is given stay, whatever the annotations say: callers outside the checker's
# view (host data through JavaScript) can pass anything.
# pyright: reportUnnecessaryIsInstance=false
from __future__ import annotations

import enum
from collections.abc import Callable
from datetime import datetime
from typing import Final, cast

from bx24_bridge.crm_refs import CrmRef, EntityType, parse_entity_type
from bx24_bridge.errors import NO_ACCESS_CODES, NOT_FOUND_CODES
from bx24_bridge.payloads import CallDirection, CallStatus, parse_call_direction
from bx24_bridge.phone_numbers import CallerNumber, parse_caller_number
from bx24_bridge.values import Value
from bx24_bridge.wire import as_object, parse_id

from .note_form import MAX_NOTE_LEN, Outcome, parse_outcome

__all__ = [
    "ADD_METHOD",
    "LIST_METHOD",
    "MAX_NOTE_LEN",
    "UPDATE_METHOD",
    "CommentHeader",
    "CommentTarget",
    "Outcome",
    "SaveProblem",
    "choose_target",
    "client_words",
    "comment_with_text",
    "compose_comment",
    "header_fields",
    "header_from_fields",
    "list_params",
    "number_words",
    "parse_outcome",
    "problem_for_code",
    "target_from_key",
]

ADD_METHOD: Final = "crm.timeline.comment.add"
"""Adds a comment: ``{"fields": target.fields(comment)}``, answers its id
(docs/host-contract.md#rest)."""
LIST_METHOD: Final = "crm.timeline.comment.list"
"""Lists an item's comments (``filter`` ENTITY_ID and ENTITY_TYPE, both required): where an add
whose answer never came is looked for."""
UPDATE_METHOD: Final = "crm.timeline.comment.update"
"""Replaces a comment's text: ``{"id": comment_id, "fields": {"COMMENT": comment}}``."""


class CommentTarget(Value):
    """The CRM item a note is about and is saved to (``crm.timeline.comment.add``,
    docs/host-contract.md#rest)."""

    entity_type: EntityType
    entity_id: int

    def __post_init__(self) -> None:
        if not isinstance(self.entity_type, EntityType):
            raise ValueError("CommentTarget.entity_type must be an EntityType")
        if isinstance(self.entity_id, bool) or parse_id(self.entity_id) != self.entity_id:
            raise ValueError("CommentTarget.entity_id must be a positive int")

    @classmethod
    def from_ref(cls, ref: CrmRef) -> CommentTarget:
        return cls(ref.type, ref.id)

    @property
    def key(self) -> str:
        """A stable name for storage keys: ``contact-17``."""
        return f"{self.entity_type.path_segment}-{self.entity_id}"

    def fields(self, comment: str) -> dict[str, object]:
        """The ``fields`` of the add call; ENTITY_TYPE is lower case
        (docs/host-contract.md#rest)."""
        return {
            "ENTITY_ID": self.entity_id,
            "ENTITY_TYPE": self.entity_type.path_segment,
            "COMMENT": comment,
        }


def list_params(target: CommentTarget) -> dict[str, object]:
    """The parameters of :data:`LIST_METHOD` for ``target``'s newest comments."""
    return {"filter": {"ENTITY_ID": target.entity_id,
                       "ENTITY_TYPE": target.entity_type.path_segment},
            "select": ["ID", "COMMENT"], "order": {"ID": "DESC"}}


def _same_text(one: str, other: str) -> bool:
    """The portal may store a comment with ``\r\n`` and trimmed: compare as the operator reads."""
    def plain(text: str) -> str:
        return text.replace("\r\n", "\n").strip()

    return plain(one) == plain(other)


def comment_with_text(answer: object, comment: str) -> int | None:
    """The id of the newest comment in a :data:`LIST_METHOD` answer whose text is ``comment``,
    or None."""
    rows = cast("list[object]", answer) if isinstance(answer, list) else []
    for row in rows:
        fields = as_object(row) or {}
        text, found = fields.get("COMMENT"), parse_id(fields.get("ID"))
        if isinstance(text, str) and found is not None and _same_text(text, comment):
            return found
    return None


def target_from_key(text: object) -> CommentTarget | None:
    """The target a :attr:`CommentTarget.key` names (``contact-17``), or None."""
    if not isinstance(text, str):
        return None
    kind, _, number = text.partition("-")
    if not (number.isascii() and number.isdigit()):
        return None
    entity_type, entity_id = parse_entity_type(kind), parse_id(number)
    if entity_type is None or entity_id is None or kind != entity_type.path_segment:
        return None
    return CommentTarget(entity_type, entity_id)


def choose_target(status: CallStatus) -> CommentTarget | None:
    """Who the call is about: the primary CRM item, else the first binding, else None."""
    items = status.all_items
    return CommentTarget.from_ref(items[0]) if items else None


class CommentHeader(Value):
    """What the first line of a comment says, so the timeline entry makes sense on its own:
    the call's direction, the number the card showed for this client, when this client's part
    of the call began, the client's name (None until the CRM has answered), and the outcome the
    operator chose (None: none chosen)."""

    direction: CallDirection
    number: CallerNumber
    started: datetime
    client: str | None = None
    outcome: Outcome | None = None


_MINUTE: Final = "%Y-%m-%dT%H:%M"


def header_fields(header: CommentHeader) -> dict[str, str]:
    """The header as plain strings, for the draft store (restored by :func:`header_from_fields`)."""
    fields = {
        "direction": header.direction.value,
        "number": header.number.value or header.number.kind,
        "started": header.started.strftime(_MINUTE),
    }
    if header.client:
        fields["client"] = header.client
    if header.outcome is not None:
        fields["outcome"] = header.outcome.value
    return fields


def header_from_fields(fields: object) -> CommentHeader | None:
    """A header back from the draft store; None when the stored facts do not make one (the
    store is the browser's: anything may be in it)."""
    fields = as_object(fields)
    if fields is None:
        return None
    started = fields.get("started")
    try:
        when = datetime.strptime(started, _MINUTE) if isinstance(started, str) else None
    except ValueError:
        return None
    if when is None:
        return None
    client = fields.get("client")
    return CommentHeader(
        direction=parse_call_direction(fields.get("direction")),
        number=parse_caller_number(fields.get("number")),
        started=when,
        client=client if isinstance(client, str) and client else None,
        outcome=parse_outcome(fields.get("outcome")),
    )


def number_words(number: CallerNumber, t: Callable[[str], str]) -> str:
    """The caller's number as a header says it: the digits, or "hidden"/"unknown" in words."""
    if number.kind == "number" and number.value:
        return number.value
    return t("number.hidden") if number.kind == "hidden" else t("number.unknown")


def client_words(target: CommentTarget, name: str | None, t: Callable[[str], str]) -> str:
    """The client as a header or a list names it: its name, else its type and number
    ("contact 17"), so a note is never about nobody."""
    if name:
        return name
    kind = t(f"crm.kind.{target.entity_type.path_segment}")
    return f"{kind} {target.entity_id}"


def _header_line(header: CommentHeader, t: Callable[[str], str]) -> str:
    when = header.started
    date = f"{when.day:02d}.{when.month:02d}.{when.year:04d} {when.hour:02d}:{when.minute:02d}"
    parts = [t(f"direction.{header.direction.value}"), number_words(header.number, t)]
    if header.client:
        parts.append(header.client)
    parts.append(date)
    line = ", ".join(parts)
    if header.outcome is not None:
        line = f"{line}. {t(f'outcome.{header.outcome.value}')}"
    return line


def compose_comment(header: CommentHeader | None, text: str, t: Callable[[str], str]) -> str:
    """The timeline comment: ``"Incoming call, +79001234567, Ivan Petrov, 24.11.2026 14:05.
    No answer"`` (the outcome, when one was chosen), a blank line, then the operator's text,
    trimmed (inner newlines kept) and capped at :data:`MAX_NOTE_LEN`."""
    body = text.strip()[:MAX_NOTE_LEN].rstrip()
    if header is None:
        return body
    line = _header_line(header, t)
    return f"{line}\n\n{body}" if body else line


class SaveProblem(enum.StrEnum):
    """Why a save failed, as the operator needs to know it; the value is the i18n key of the
    words shown on the card (what happened and what to do). REST codes and descriptions go to
    the console only."""

    NO_ACCESS = "notes.error.no_access"
    ITEM_GONE = "notes.error.item_gone"
    COMMENT_GONE = "notes.error.comment_gone"
    """The comment to update no longer exists: the machine adds a new one instead."""
    TIMEOUT = "notes.error.timeout"
    UNAVAILABLE = "notes.error.unavailable"


def problem_for_code(code: str | None, *, updating: bool) -> SaveProblem:
    """The problem behind a REST error code of a save (None: no answer in time).

    ``NOT_FOUND`` means the comment is gone when updating (so add a new one), and the client's
    item is gone when adding; ``OWNER_NOT_FOUND`` always means the item (the docs of
    ``crm.timeline.comment.update`` list both).
    """
    if code is None:
        return SaveProblem.TIMEOUT
    upper = code.strip().upper()
    if upper in NO_ACCESS_CODES:
        return SaveProblem.NO_ACCESS
    if upper == "OWNER_NOT_FOUND":
        return SaveProblem.ITEM_GONE
    if upper in NOT_FOUND_CODES:
        return SaveProblem.COMMENT_GONE if updating else SaveProblem.ITEM_GONE
    return SaveProblem.UNAVAILABLE
