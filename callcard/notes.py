"""The operator's notes as a pure state machine: events in, effects out.

Why this shape: the notes are the one thing this app must never lose, and the rules that protect
them (drafts, saving to the CRM timeline, keeping the card open while work is unsaved, the host
firing ``CallCard::BeforeClose`` twice) interact in ways that are easy to get wrong with timers
and callbacks. Here they are plain Python: no browser, no clock, no asyncio. The browser shell
feeds :class:`NotesMachine` events (typing, button, host events, REST answers, a periodic
:class:`Tick`) with a ``now`` in seconds from a monotonic clock, performs the effects it returns
(REST call, localStorage, ``disableAutoClose``/``enableAutoClose``, replacing the textarea text),
and renders the read-only properties after every event.

Section numbers (§) refer to ``shared/reference/call-card.md``.

The invariant everything here serves: a non-blank note is either saved to the timeline, or still
in the machine (and in the draft store, and the card is kept open); and no text is sent again
after it was saved once.
"""

from __future__ import annotations

import enum
import math
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Final

from bx24_bridge.payloads import (
    CallDirection,
    CallerNumber,
    CallStatus,
    CrmRef,
    EntityType,
    parse_id,
)

from .i18n import FALLBACK, Translator

__all__ = [
    "COMMENT_METHOD",
    "MAX_ERROR_LEN",
    "MAX_NOTE_LEN",
    "NO_TARGET",
    "AddComment",
    "BeforeClose",
    "CallEnded",
    "CommentHeader",
    "CommentTarget",
    "DisableAutoClose",
    "DraftRestored",
    "Effect",
    "EnableAutoClose",
    "Event",
    "KeepOpenChanged",
    "NotesMachine",
    "NotesState",
    "RemoveDraft",
    "SaveFailed",
    "SaveRequested",
    "SaveSucceeded",
    "SetText",
    "StoreDraft",
    "TargetChanged",
    "TextChanged",
    "Tick",
    "choose_target",
    "compose_comment",
]

COMMENT_METHOD: Final = "crm.timeline.comment.add"
"""The REST method that performs :class:`AddComment`: ``{"fields": target.fields(comment)}``."""
MAX_NOTE_LEN: Final = 10_000
"""The operator's text is cut here in the comment; give the textarea this ``maxlength`` so
nothing is cut silently."""
MAX_ERROR_LEN: Final = 500
"""Cap for a failure reason shown to the operator."""
NO_TARGET: Final = "notes.no_target"
"""Message key: the call is bound to no CRM item, so there is nowhere to save the notes."""


class NotesState(enum.StrEnum):
    """What the notes pane says; the values go into ``data-notes-state`` (ui-contract)."""

    EMPTY = "empty"
    DRAFT = "draft"
    SAVING = "saving"
    SAVED = "saved"
    FAILED = "failed"


_UNSAVED: Final = frozenset({NotesState.DRAFT, NotesState.SAVING, NotesState.FAILED})


# --------------------------------------------------------------------------- the CRM comment


@dataclass(frozen=True, slots=True)
class CommentTarget:
    """The CRM item the notes are attached to (``crm.timeline.comment.add``, §7)."""

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

    def fields(self, comment: str) -> dict[str, object]:
        """The ``fields`` of the REST call; ENTITY_TYPE is lower case (§7)."""
        return {
            "ENTITY_ID": self.entity_id,
            "ENTITY_TYPE": self.entity_type.path_segment,
            "COMMENT": comment,
        }


def choose_target(status: CallStatus) -> CommentTarget | None:
    """Where the notes of this call go: the primary CRM item, else the first binding, else None."""
    items = status.all_items
    return CommentTarget.from_ref(items[0]) if items else None


@dataclass(frozen=True, slots=True)
class CommentHeader:
    """What the first line of the comment says about the call, so the timeline entry makes sense
    on its own."""

    direction: CallDirection
    number: CallerNumber
    started: datetime


def _number_words(number: CallerNumber, t: Callable[[str], str]) -> str:
    if number.kind == "number" and number.value:
        return number.value
    return t("number.hidden") if number.kind == "hidden" else t("number.unknown")


def _header_line(header: CommentHeader, t: Callable[[str], str]) -> str:
    when = header.started
    date = f"{when.day:02d}.{when.month:02d}.{when.year:04d} {when.hour:02d}:{when.minute:02d}"
    direction = t(f"direction.{header.direction.value}")
    return f"{direction}, {_number_words(header.number, t)}, {date}"


def compose_comment(header: CommentHeader | None, text: str, t: Callable[[str], str]) -> str:
    """The timeline comment: ``"Incoming call, +79001234567, 24.11.2026 14:05"``, a blank line,
    then the operator's text, trimmed (inner newlines kept) and capped at :data:`MAX_NOTE_LEN`."""
    body = text.strip()[:MAX_NOTE_LEN].rstrip()
    if header is None:
        return body
    line = _header_line(header, t)
    return f"{line}\n\n{body}" if body else line


# --------------------------------------------------------------------------- events


@dataclass(frozen=True, slots=True)
class TextChanged:
    """The operator edited the textarea (``input`` event); ``text`` is its whole value."""

    text: str
    now: float


@dataclass(frozen=True, slots=True)
class SaveRequested:
    """The save button or Ctrl+Enter."""

    now: float


@dataclass(frozen=True, slots=True)
class SaveSucceeded:
    """The REST call of the last :class:`AddComment` succeeded. ``attempt``, when given, must be
    that effect's attempt: a late answer to an older attempt is ignored."""

    comment_id: int | None
    now: float
    attempt: int | None = None


@dataclass(frozen=True, slots=True)
class SaveFailed:
    """The REST call of the last :class:`AddComment` failed or timed out (§7: the library may
    never call back, so the shell must time out). ``attempt`` as in :class:`SaveSucceeded`."""

    reason: str
    now: float
    attempt: int | None = None


@dataclass(frozen=True, slots=True)
class BeforeClose:
    """``CallCard::BeforeClose`` (§5): the host is closing the card. May arrive twice."""

    now: float


@dataclass(frozen=True, slots=True)
class KeepOpenChanged:
    """The keep-open checkbox (ui-contract) was ticked or cleared."""

    checked: bool
    now: float


@dataclass(frozen=True, slots=True)
class CallEnded:
    """The call reached ``idle`` after it had started: the host will try to close the card soon."""

    now: float


@dataclass(frozen=True, slots=True)
class Tick:
    """Periodic (about every 0.25–1 s): fires the debounced draft and the auto-close renewals."""

    now: float


@dataclass(frozen=True, slots=True)
class TargetChanged:
    """The CRM item to attach the notes to changed (``CallCard::EntityChanged``, §5)."""

    target: CommentTarget | None


@dataclass(frozen=True, slots=True)
class DraftRestored:
    """A draft of this call was found in the store when the card opened."""

    text: str
    now: float


Event = (
    TextChanged
    | SaveRequested
    | SaveSucceeded
    | SaveFailed
    | BeforeClose
    | KeepOpenChanged
    | CallEnded
    | Tick
    | TargetChanged
    | DraftRestored
)


# --------------------------------------------------------------------------- effects


@dataclass(frozen=True, slots=True)
class SetText:
    """Put ``text`` into the textarea: the machine changed the notes itself (a restored draft, or
    the text of a failed save brought back so it is not lost)."""

    text: str


@dataclass(frozen=True, slots=True)
class StoreDraft:
    """Write ``text`` as this call's draft (``DraftStore.save``)."""

    text: str


@dataclass(frozen=True, slots=True)
class RemoveDraft:
    """Forget this call's draft (``DraftStore.remove``): it is saved, or the operator cleared it."""


@dataclass(frozen=True, slots=True)
class DisableAutoClose:
    """Placement command ``disableAutoClose`` (§6): keep the card open (~60–65 s, renewed)."""


@dataclass(frozen=True, slots=True)
class AddComment:
    """Call :data:`COMMENT_METHOD` with ``{"fields": target.fields(comment)}`` and answer with
    :class:`SaveSucceeded` or :class:`SaveFailed` (with ``attempt``), always, with a timeout."""

    target: CommentTarget
    comment: str
    attempt: int


@dataclass(frozen=True, slots=True)
class EnableAutoClose:
    """Placement command ``enableAutoClose`` (§6): closes the card at once if the call ended."""


Effect = SetText | StoreDraft | RemoveDraft | DisableAutoClose | AddComment | EnableAutoClose

# Effects of one event come out in this order: the text and its draft are safe first, then the
# card is kept open, then the save starts; letting the card close always comes last.
_EFFECT_ORDER: Final = {
    SetText: 0,
    StoreDraft: 1,
    RemoveDraft: 1,
    DisableAutoClose: 2,
    AddComment: 3,
    EnableAutoClose: 4,
}


# --------------------------------------------------------------------------- the machine


def _body(text: str) -> str:
    """What a text contributes to a comment: two texts with the same body are the same note."""
    return text.strip()


def _merge(older: str, newer: str) -> str:
    """``newer`` unless that would drop ``older``'s words: then ``older``, a blank line, ``newer``.

    Used when a text the operator may have moved away from (a failed save, a restored draft)
    meets the textarea's current text. Appending to a note keeps it as is; replacing or clearing
    it brings the older words back rather than losing them.
    """
    old_body = _body(older)
    if not old_body or old_body in newer:
        return newer
    if not _body(newer):
        return older
    return f"{older.rstrip()}\n\n{newer.lstrip()}"


def _reason(value: object) -> str:
    text = " ".join(value.split()) if isinstance(value, str) else ""
    return text[:MAX_ERROR_LEN] or "error"


def _check_seconds(name: str, value: float) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
        raise ValueError(f"{name} must be a finite number of seconds")
    if value < 0:
        raise ValueError(f"{name} must not be negative")
    return float(value)


class NotesMachine:
    """The notes pane's rules. Feed it every event with :meth:`handle`; perform what it returns.

    State is derived, not stored, so it cannot drift from the facts: SAVING while a save is in
    flight; else EMPTY for blank text; SAVED when the text's body was saved before (typing a
    character and deleting it again is still saved); FAILED when the last save failed and the
    operator has not typed since; else DRAFT.

    ``enable_grace``: ``enableAutoClose`` closes the card at once after the call (§6), so it is
    held back until the operator has not typed for this long. Clearing the box to start over must
    not make the card vanish under their fingers.
    """

    def __init__(
        self,
        *,
        header: CommentHeader | None,
        target: CommentTarget | None,
        debounce: float = 0.5,
        renew_every: float = 40.0,
        enable_grace: float = 3.0,
        t: Callable[[str], str] | None = None,
    ) -> None:
        self._header = header
        self._target = target
        self._debounce = _check_seconds("debounce", debounce)
        self._renew_every = _check_seconds("renew_every", renew_every)
        if self._renew_every == 0:
            raise ValueError("renew_every must be positive")
        self._enable_grace = _check_seconds("enable_grace", enable_grace)
        self._t: Callable[[str], str] = t if t is not None else Translator(FALLBACK)

        self._text = ""
        self._last_typed: float | None = None
        self._saved_bodies: set[str] = set()  # every body the timeline already has
        self._saved_text = ""
        self._comment_id: int | None = None
        self._in_flight: str | None = None  # the text of the save under way
        self._attempt = 0  # attempts since the last success
        self._failed = False
        self._error: str | None = None
        self._message: str | None = None
        self._keep_open = False
        self._stored: str | None = None  # what the draft store holds, as far as we told it
        self._draft_due: float | None = None
        self._blocked = False  # what we last told the host
        self._last_disable: float | None = None

    # ----------------------------------------------------------------- read-only view

    @property
    def state(self) -> NotesState:
        if self._in_flight is not None:
            return NotesState.SAVING
        body = _body(self._text)
        if not body:
            return NotesState.EMPTY
        if body in self._saved_bodies:
            return NotesState.SAVED
        return NotesState.FAILED if self._failed else NotesState.DRAFT

    @property
    def text(self) -> str:
        """The notes as the textarea should show them."""
        return self._text

    @property
    def saved_text(self) -> str:
        """The text of the last successful save (``""`` before any)."""
        return self._saved_text

    @property
    def comment_id(self) -> int | None:
        """The timeline comment id of the last successful save, if the host gave one."""
        return self._comment_id

    @property
    def keep_open(self) -> bool:
        return self._keep_open

    @property
    def target(self) -> CommentTarget | None:
        return self._target

    @property
    def error(self) -> str | None:
        """Why the last save failed, while the state is FAILED."""
        return self._error if self.state is NotesState.FAILED else None

    @property
    def message_key(self) -> str | None:
        """An i18n key to show next to unsaved notes (e.g. :data:`NO_TARGET`), or None."""
        return self._message if self.state in (NotesState.DRAFT, NotesState.FAILED) else None

    @property
    def auto_close_blocked(self) -> bool:
        """Whether the last auto-close command we emitted was ``disableAutoClose``."""
        return self._blocked

    # ----------------------------------------------------------------- events

    def handle(self, event: Event) -> list[Effect]:
        """Apply one event; return the effects to perform, in order."""
        if isinstance(event, TargetChanged):
            # No clock and no change of state: only where the next save goes.
            self._target = event.target
            if event.target is not None:
                self._message = None
            return []
        out: list[Effect] = []
        # flush: write the draft now instead of after the debounce (the card may be going away).
        # renew: re-send disableAutoClose now if we want the card open, even if not yet due.
        flush = renew = False
        match event:
            case TextChanged(text=text, now=now):
                self._typed(text, now)
            case DraftRestored(text=text):
                self._restored(text, out)
                flush = True
            case SaveRequested():
                self._start_save(out)
                flush = True
            case BeforeClose():
                self._start_save(out)
                flush = renew = True
            case SaveSucceeded():
                flush = self._succeeded(event)
            case SaveFailed():
                flush = renew = self._save_failed(event, out)
            case KeepOpenChanged(checked=checked):
                self._keep_open = bool(checked)
            case CallEnded():
                flush = renew = True
            case Tick():
                pass
            case _:
                raise TypeError(f"not a notes event: {type(event).__name__}")
        self._sync_draft(event.now, flush, out)
        self._sync_auto_close(event.now, renew, out)
        return sorted(out, key=lambda effect: _EFFECT_ORDER[type(effect)])

    def _typed(self, text: str, now: float) -> None:
        if text == self._text:
            return  # a repeated input event is not an edit
        self._text = text
        self._last_typed = now
        self._failed = False  # the operator has moved on from the failed text
        self._error = None
        self._draft_due = now + self._debounce

    def _restored(self, text: str, out: list[Effect]) -> None:
        self._stored = text  # that is what the store holds right now
        merged = _merge(text, self._text)
        if merged != self._text:
            self._text = merged
            self._failed = False
            out.append(SetText(merged))

    def _start_save(self, out: list[Effect]) -> None:
        """Start a save if there is unsaved text and none is under way: never two at once, and
        never a text the timeline already has (both are in the state)."""
        if self.state not in (NotesState.DRAFT, NotesState.FAILED):
            return
        if self._target is None:
            self._message = NO_TARGET
            return
        self._attempt += 1
        self._in_flight = self._text
        self._failed = False
        self._error = self._message = None
        comment = compose_comment(self._header, self._text, self._t)
        out.append(AddComment(self._target, comment, self._attempt))

    def _answers_current_save(self, attempt: int | None) -> bool:
        return self._in_flight is not None and attempt in (None, self._attempt)

    def _succeeded(self, event: SaveSucceeded) -> bool:
        """Record the saved text; False for a stray or late answer, which changes nothing."""
        if not self._answers_current_save(event.attempt):
            return False
        self._saved_bodies.add(_body(self._in_flight or ""))
        self._saved_text = self._in_flight or ""
        self._comment_id = event.comment_id
        self._in_flight = None
        self._attempt = 0
        return True

    def _save_failed(self, event: SaveFailed, out: list[Effect]) -> bool:
        """Keep the failed text (bringing it back if the operator cleared or replaced it meanwhile);
        False for a stray or late answer, which changes nothing."""
        if not self._answers_current_save(event.attempt):
            return False
        merged = _merge(self._in_flight or "", self._text)
        self._in_flight = None
        self._failed = True
        self._error = _reason(event.reason)
        if merged != self._text:
            self._text = merged
            out.append(SetText(merged))
        return True

    # ----------------------------------------------------------------- draft and auto-close

    def _wanted_draft(self) -> str | None:
        """What the draft store should hold: during a save, what a failure would leave in the
        textarea (the store must not lose the text being sent); unsaved text; else nothing."""
        if self._in_flight is not None:
            return _merge(self._in_flight, self._text)
        return self._text if self.state in _UNSAVED else None

    def _draft_is_due(self, now: float) -> bool:
        due = self._draft_due
        # A clock that went backwards must not postpone the draft forever.
        return due is not None and (now >= due or now < due - self._debounce)

    def _sync_draft(self, now: float, flush: bool, out: list[Effect]) -> None:
        wanted = self._wanted_draft()
        if wanted == self._stored:
            self._draft_due = None
        elif wanted is None:
            out.append(RemoveDraft())
            self._stored = self._draft_due = None
        elif flush or self._draft_is_due(now):
            out.append(StoreDraft(wanted))
            self._stored, self._draft_due = wanted, None
        elif self._draft_due is None:
            self._draft_due = now + self._debounce

    def _wants_open(self) -> bool:
        return self.state in _UNSAVED or self._keep_open

    def _in_grace(self, now: float) -> bool:
        typed = self._last_typed
        return typed is not None and 0 <= now - typed < self._enable_grace

    def _renewal_due(self, now: float) -> bool:
        last = self._last_disable
        # A clock that went backwards counts as due: renewing early is harmless.
        return last is None or not 0 <= now - last < self._renew_every

    def _sync_auto_close(self, now: float, renew: bool, out: list[Effect]) -> None:
        if self._wants_open():
            if renew or not self._blocked or self._renewal_due(now):
                out.append(DisableAutoClose())
                self._blocked, self._last_disable = True, now
        elif self._blocked and not self._in_grace(now):
            out.append(EnableAutoClose())
            self._blocked, self._last_disable = False, None
