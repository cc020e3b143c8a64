"""The operator's notes as a pure state machine: events in, effects out.

Why this shape: the notes are the one thing this app must never lose, and the rules that protect
them (drafts, saving to the CRM timeline, one comment per client, keeping the card open while
work is unsaved and letting it go in the end, the host firing ``CallCard::BeforeClose`` twice, a
dialer that moves the card to the next client mid-sentence) interact in ways that are easy to
get wrong with timers and callbacks. Here they are plain Python: no browser, no clock, no
asyncio. The browser shell feeds :class:`NotesMachine` events (typing, buttons, host events, REST
answers, a periodic :class:`Tick`) with a ``now`` in seconds from a monotonic clock, performs the
effects it returns (REST calls, the draft store, ``disableAutoClose``/``enableAutoClose``,
replacing the textarea text), and renders the read-only properties after every event.

A note belongs to the client it was written about. The card keeps one note per client
(:class:`~callcard.comment.CommentTarget`, or None while the call is bound to nothing); the
textarea shows the current client's. When the host moves the card to another client, the
previous client's unsaved text is saved to *that* client in the background and never follows the
card; the textarea switches to the new client's own note. Text written while the call was bound
to nothing is about the caller, so it goes with the first client the call is bound to, as long as
the number has not changed (a lead created from the card); a different number means a different
person, and that text stays where it was.

The invariants everything here serves:

* a non-blank note is either in the CRM (its comment holds the text), or in the machine, in the
  draft store and holding the card open (until the operator has been away for
  ``hold_limit`` after the call, when it is saved one last time and the card let go: the draft
  stays in the store);
* a note's text is only ever sent to its own client;
* one comment per client and card: the first save adds it, later saves update it, and a new one
  is added only when that comment is gone;
* no save is sent while another of the same note is under way;
* an add whose answer never came (a timeout: the portal may have it anyway) is looked up before
  the note is added again, so a lost answer does not make a second comment.
"""

# Its checks of what it is given stay, whatever the annotations say: callers outside the checker's
# view (host data through JavaScript) can pass anything.
# pyright: reportUnnecessaryIsInstance=false
from __future__ import annotations

import enum
import math
from collections.abc import Callable
from datetime import datetime
from typing import Final

from bx24_bridge.phone_numbers import CallerNumber
from bx24_bridge.values import Value, replace

from .comment import (
    CommentHeader,
    CommentTarget,
    Outcome,
    SaveProblem,
    client_words,
    compose_comment,
    target_from_key,
)
from .i18n import FALLBACK, Translator
from .phone import caller_digits, format_number

__all__ = [
    "NO_TARGET",
    "Activity",
    "AddComment",
    "BeforeClose",
    "CallEnded",
    "CallStarted",
    "ClientChanged",
    "ClientNamed",
    "CloseNow",
    "CommentFound",
    "DisableAutoClose",
    "DraftRestored",
    "Effect",
    "EnableAutoClose",
    "Event",
    "FindComment",
    "KeepOpenChanged",
    "NoteKey",
    "NotesMachine",
    "NotesState",
    "OtherNote",
    "OtherWork",
    "OutcomeChosen",
    "RemoveDraft",
    "SaveFailed",
    "SaveRequested",
    "SaveSucceeded",
    "SetText",
    "StoreDraft",
    "TextChanged",
    "Tick",
    "Unbound",
    "UpdateComment",
    "note_key_from_text",
]

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
_TRANSIENT: Final = frozenset({SaveProblem.TIMEOUT, SaveProblem.UNAVAILABLE})


class Unbound(Value):
    """The caller of a call bound to no CRM item, known by the digits of the number the card
    showed (``""`` when it was hidden or unknown): two such callers' notes must not mix either.
    Digits only, because the host writes one number as ``+7900…`` in one place and ``7900…``
    in another."""

    number: str = ""

    @property
    def key(self) -> str:
        """A stable name for storage keys: ``none`` or ``none-79001234567``."""
        return f"none-{self.number}" if self.number else "none"


NoteKey = CommentTarget | Unbound
"""Who a note is about: a CRM item, or the caller while the call is bound to nothing."""


def note_key_from_text(text: object) -> NoteKey | None:
    """The note key a stored ``key`` names (``contact-17``, ``none``, ``none-+7900...``)."""
    if not isinstance(text, str):
        return None
    if text == "none":
        return Unbound()
    if text.startswith("none-"):
        digits = text.removeprefix("none-")
        return Unbound(digits) if digits.isascii() and digits.isdigit() else None
    return target_from_key(text)


def _unbound(number: CallerNumber | None) -> Unbound:
    return Unbound(caller_digits(number))


# --------------------------------------------------------------------------- events


class TextChanged(Value):
    """The operator edited the textarea (``input`` event); ``text`` is its whole value."""

    text: str
    now: float


class OutcomeChosen(Value):
    """The operator pressed an outcome button (ui-contract ``call-outcome``); pressing the one
    already chosen clears it. The outcome is the current client's and goes into its comment's
    header, saved at once: one click records it."""

    outcome: Outcome
    now: float


class SaveRequested(Value):
    """The save button or Ctrl+Enter."""

    now: float


class SaveSucceeded(Value):
    """The REST call of the :class:`AddComment` or :class:`UpdateComment` with this ``attempt``
    succeeded; ``comment_id`` is the id the portal answered. Any other attempt is ignored."""

    comment_id: int | None
    now: float
    attempt: int


class SaveFailed(Value):
    """That REST call failed or timed out (docs/host-contract.md#rest: the library may never call
    back, so the shell must time out)."""

    problem: SaveProblem
    now: float
    attempt: int


class CommentFound(Value):
    """The :class:`FindComment` with this ``attempt`` answered: the id of the comment that holds
    the lost add's text (None: there is none, the add never arrived)."""

    comment_id: int | None
    now: float
    attempt: int


class BeforeClose(Value):
    """``CallCard::BeforeClose``: the host is closing the card. May arrive twice."""

    now: float


class KeepOpenChanged(Value):
    """The keep-open checkbox (ui-contract) was ticked or cleared."""

    checked: bool
    now: float


class CloseNow(Value):
    """The operator pressed "Close now": save what is pending, then let the host close."""

    now: float


class Activity(Value):
    """The operator did something on the card (a key, a click): they are still there."""

    now: float


class CallEnded(Value):
    """The call reached ``idle`` after it had started: the host will try to close the card soon,
    and from now on the hold counts towards its end."""

    now: float


class CallStarted(Value):
    """A call is on the line again (the dialer's next call): the hold no longer counts down."""

    now: float


class Tick(Value):
    """Periodic (about every 0.25–1 s): drafts, auto-close renewals, retries and the hold's end."""

    now: float


class ClientChanged(Value):
    """The card is now about ``target`` (``CallCard::EntityChanged``, a refreshed status).

    ``number`` is the caller's number the card shows for that client (None: not known, keep the
    card's), ``started`` when this client's part of the call began, for its comment header."""

    target: CommentTarget | None
    now: float
    number: CallerNumber | None = None
    started: datetime | None = None


class ClientNamed(Value):
    """The CRM answered with the client's display name (for headers and the pending list)."""

    target: CommentTarget
    name: str


class OtherWork(Value):
    """The card's other promises to the client (a call-back reminder not yet in the CRM) are
    pending or not: while they are, they hold the card open like unsaved notes do, and let it
    go by the same rules (the hold's end, "Close now")."""

    pending: bool
    now: float


class DraftRestored(Value):
    """A stored note of this call was found when the card opened (see :class:`StoreDraft`)."""

    client: NoteKey
    text: str
    now: float
    comment_id: int | None = None
    saved: bool = False
    header: CommentHeader | None = None
    lost: str | None = None
    """The text of an add that may have reached the portal unanswered (look before adding)."""


Event = (
    TextChanged
    | OutcomeChosen
    | SaveRequested
    | SaveSucceeded
    | SaveFailed
    | CommentFound
    | BeforeClose
    | KeepOpenChanged
    | CloseNow
    | Activity
    | CallEnded
    | CallStarted
    | Tick
    | ClientChanged
    | ClientNamed
    | OtherWork
    | DraftRestored
)


# --------------------------------------------------------------------------- effects


class SetText(Value):
    """Put ``text`` into the textarea: the machine changed the current note itself (another
    client's note, a restored draft, or the text of a failed save brought back)."""

    text: str


class StoreDraft(Value):
    """Write the note of ``client`` to the draft store: its text, the id of its comment when it
    has one, whether that comment holds this very text, and its header facts (so a reload can
    save it to the right client with the right words)."""

    client: NoteKey
    text: str
    comment_id: int | None = None
    saved: bool = False
    header: CommentHeader | None = None
    lost: str | None = None
    """The text of an add that may be in the CRM unanswered: a reload looks for it first."""


class RemoveDraft(Value):
    """Forget the stored note of ``client``: there is nothing left worth keeping."""

    client: NoteKey


class DisableAutoClose(Value):
    """Placement command ``disableAutoClose``: keep the card open (~60–65 s, renewed)."""


class AddComment(Value):
    """``crm.timeline.comment.add`` with ``{"fields": target.fields(comment)}``; answer with
    :class:`SaveSucceeded` (the new id) or :class:`SaveFailed`, always, with a timeout."""

    target: CommentTarget
    comment: str
    attempt: int


class UpdateComment(Value):
    """``crm.timeline.comment.update`` with ``{"id": comment_id, "fields": {"COMMENT": ...}}``;
    answered like :class:`AddComment` (``COMMENT_GONE`` when the comment no longer exists)."""

    target: CommentTarget
    comment_id: int
    comment: str
    attempt: int


class FindComment(Value):
    """``crm.timeline.comment.list`` of ``target``: is there a comment whose text is
    ``comment``, the add whose answer never came? Answer with :class:`CommentFound` (or
    :class:`SaveFailed`), always, with a timeout."""

    target: CommentTarget
    comment: str
    attempt: int


class EnableAutoClose(Value):
    """Placement command ``enableAutoClose``: closes the card at once if the call ended."""


Effect = (
    SetText
    | StoreDraft
    | RemoveDraft
    | DisableAutoClose
    | AddComment
    | UpdateComment
    | FindComment
    | EnableAutoClose
)

# Effects of one event come out in this order: the text and its draft are safe first, then the
# card is kept open, then saves start; letting the card close always comes last.
_EFFECT_ORDER: Final = {
    SetText: 0,
    StoreDraft: 1,
    RemoveDraft: 1,
    DisableAutoClose: 2,
    AddComment: 3,
    UpdateComment: 3,
    FindComment: 3,
    EnableAutoClose: 4,
}


class OtherNote(Value):
    """An unsaved note of a client the card has moved away from, for the pending list."""

    client: NoteKey
    label: str
    """Who it is about, in words: the client's name, "contact 17", or the caller's number."""
    state: NotesState
    problem: SaveProblem | None
    text: str
    outcome: Outcome | None = None


# --------------------------------------------------------------------------- one client's note


def _body(text: str) -> str:
    """What a text contributes to a comment: two texts with the same body are the same note."""
    return text.strip()


def _content(text: str, header: CommentHeader | None) -> str:
    """What a comment holds, as far as the operator wrote it: the body, and the outcome they
    chose (a note with only an outcome is not empty). Two notes with the same content are the
    same comment; a note without an outcome has its body as content."""
    body = _body(text)
    outcome = header.outcome if header is not None else None
    return f"[{outcome.value}]\n{body}" if outcome is not None else body


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


_Record = tuple[str, int | None, bool, CommentHeader | None, str | None]
"""What the draft store holds for a note: text, comment id, saved, header, and the text of an
add that may have reached the portal unanswered (:attr:`_Note.maybe_made`)."""


class _Note:
    """The note of one client: its text, its comment, its save under way and its draft."""

    __slots__ = (
        "attempt",
        "client",
        "comment_id",
        "draft_due",
        "finding",
        "header",
        "in_flight",
        "lost",
        "message",
        "problem",
        "retry_at",
        "saved_bodies",
        "sent",
        "sent_comment",
        "stored",
        "text",
        "updating",
    )

    def __init__(self, client: NoteKey, header: CommentHeader | None) -> None:
        self.client = client
        self.header = header
        self.text = ""
        self.comment_id: int | None = None
        self.saved_bodies: set[str] = set()  # contents (_content) a comment holds now
        self.in_flight: str | None = None  # the text of the save under way
        self.sent = ""  # the content of the save under way
        self.sent_comment = ""  # the comment text that save sent
        self.lost: tuple[str, str] | None = None  # (comment, content) of an add never answered
        self.finding = False  # the request under way looks for that add, saves nothing
        self.attempt: int | None = None  # that save's attempt number
        self.updating = False  # whether that save is an update
        self.problem: SaveProblem | None = None  # the last failure, until the operator types
        self.message: str | None = None
        self.stored: _Record | None = None  # what the draft store holds, as far as we told it
        self.draft_due: float | None = None
        self.retry_at: float | None = None  # when a background retry is due

    @property
    def target(self) -> CommentTarget | None:
        return self.client if isinstance(self.client, CommentTarget) else None

    @property
    def content(self) -> str:
        return _content(self.text, self.header)

    @property
    def outcome(self) -> Outcome | None:
        return self.header.outcome if self.header is not None else None

    @property
    def state(self) -> NotesState:
        if self.in_flight is not None:
            return NotesState.SAVING
        body = self.content
        if not body:
            return NotesState.EMPTY
        if body in self.saved_bodies:
            return NotesState.SAVED
        return NotesState.FAILED if self.problem is not None else NotesState.DRAFT

    @property
    def unsaved(self) -> bool:
        return self.state in _UNSAVED

    @property
    def can_start_save(self) -> bool:
        return self.state in (NotesState.DRAFT, NotesState.FAILED)

    @property
    def worth_keeping(self) -> bool:
        """Whether forgetting this note would lose anything (text or an outcome, a save, a
        comment id, or an add that may be in the CRM: forgotten, it would be added twice)."""
        return (bool(self.content) or self.in_flight is not None or self.comment_id is not None
                or self.lost is not None)

    @property
    def maybe_made(self) -> str | None:
        """The comment text of an add whose answer never came, which may be in the CRM anyway.
        (An add still on its way is marked apart by the shell, DraftStore.mark_adding, so the
        machine's drafts are not rewritten at every add.)"""
        if self.comment_id is not None or self.lost is None:
            return None
        return self.lost[0]

    def wanted_record(self) -> _Record | None:
        """What the draft store should hold: during a save, what a failure would leave (the
        store must not lose the text being sent); unsaved text; a saved text with its comment
        id (a reload then updates that comment); a comment id alone; else nothing."""
        if self.in_flight is not None:
            text = _merge(self.in_flight, self.text)
            if not _content(text, self.header) and self.comment_id is None:
                return None  # only an outcome was sent, and it has been cleared since
            return (text, self.comment_id, False, self.header, self.maybe_made)
        state = self.state
        if state in _UNSAVED:
            return (self.text, self.comment_id, False, self.header, self.maybe_made)
        if self.comment_id is None:
            return None
        return (self.text, self.comment_id, state is NotesState.SAVED, self.header, None)


def _check_seconds(name: str, value: float, *, positive: bool = False) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
        raise ValueError(f"{name} must be a finite number of seconds")
    if value < 0 or (positive and value == 0):
        raise ValueError(f"{name} must be {'positive' if positive else 'non-negative'}")
    return float(value)


def _due(at: float | None, now: float, span: float) -> bool:
    """Whether a moment ``at`` set ``span`` ahead has come; a clock that went backwards (``now``
    well before ``at - span``) counts as due, so nothing is postponed for ever."""
    return at is not None and (now >= at or now < at - span)


# --------------------------------------------------------------------------- the machine


class NotesMachine:
    """The notes pane's rules. Feed it every event with :meth:`handle`; perform what it returns.

    ``header``: the comment header facts of the first client (None: comments carry the text
    only). ``renew_every``: how often ``disableAutoClose`` is re-sent (the host holds ~60 s).
    ``enable_grace``: ``enableAutoClose`` closes the card at once after the call, so it waits
    until the operator has not typed for this long; clearing the box to start over must not make
    the card vanish under their fingers. ``hold_limit``: how long after the call the card is held
    with no input from the operator before it is let go (the host blocks new incoming calls
    while it is held). ``retry_every``: how soon a background note whose save failed for a
    passing reason is tried again.
    """

    def __init__(
        self,
        *,
        header: CommentHeader | None,
        target: CommentTarget | None,
        debounce: float = 0.5,
        renew_every: float = 40.0,
        enable_grace: float = 3.0,
        hold_limit: float = 600.0,
        retry_every: float = 30.0,
        t: Callable[[str], str] | None = None,
    ) -> None:
        self._debounce = _check_seconds("debounce", debounce)
        self._renew_every = _check_seconds("renew_every", renew_every, positive=True)
        self._enable_grace = _check_seconds("enable_grace", enable_grace)
        self._hold_limit = _check_seconds("hold_limit", hold_limit, positive=True)
        self._retry_every = _check_seconds("retry_every", retry_every, positive=True)
        self._t: Callable[[str], str] = t if t is not None else Translator(FALLBACK)
        self._names: dict[CommentTarget, str] = {}

        number = header.number if header is not None else None
        first: NoteKey = target if target is not None else _unbound(number)
        self._current = _Note(first, header)
        self._notes: dict[NoteKey, _Note] = {first: self._current}
        self._attempts = 0  # numbers every save of the card, so each answer finds its note
        self._saved_behind: NoteKey | None = None  # the last note saved after the card moved on

        self._keep_open = False
        self._other_work = False
        self._closing = False  # "Close now" pressed: let go once everything is saved
        self._released = False  # the hold ran out: let go once the last saves answered
        self._last_typed: float | None = None
        self._last_active: float | None = None
        self._ended_at: float | None = None
        self._blocked = False  # what we last told the host
        self._last_disable: float | None = None

    # ----------------------------------------------------------------- read-only view

    @property
    def state(self) -> NotesState:
        return self._current.state

    @property
    def text(self) -> str:
        """The current client's notes as the textarea should show them."""
        return self._current.text

    @property
    def client(self) -> NoteKey:
        """Who the notes in the textarea are about."""
        return self._current.client

    @property
    def target(self) -> CommentTarget | None:
        """Where the notes in the textarea go (None: nowhere yet)."""
        return self._current.target

    @property
    def outcome(self) -> Outcome | None:
        """The outcome chosen for the current client, if any."""
        return self._current.outcome

    def client_label(self, target: CommentTarget) -> str:
        """``target`` in words: the name the CRM gave (:class:`ClientNamed`), else its type and
        number (:func:`~callcard.comment.client_words`)."""
        return client_words(target, self._names.get(target), self._t)

    @property
    def comment_id(self) -> int | None:
        """The id of the current client's comment, once it has one."""
        return self._current.comment_id

    @property
    def error(self) -> SaveProblem | None:
        """Why the current note's last save failed, while its state is FAILED."""
        note = self._current
        return note.problem if note.state is NotesState.FAILED else None

    @property
    def message_key(self) -> str | None:
        """An i18n key to show next to unsaved notes (:data:`NO_TARGET`), or None."""
        note = self._current
        return note.message if note.state in (NotesState.DRAFT, NotesState.FAILED) else None

    @property
    def others(self) -> tuple[OtherNote, ...]:
        """Unsaved notes of clients the card has moved away from, oldest first; and the one
        saved last in the background, so the operator sees that it reached its client."""
        return tuple(
            OtherNote(note.client, self._label(note), note.state, note.problem, note.text,
                      note.outcome)
            for note in self._notes.values()
            if note is not self._current
            and (note.unsaved or (note.client == self._saved_behind and note.content))
        )

    @property
    def keep_open(self) -> bool:
        return self._keep_open

    @property
    def auto_close_blocked(self) -> bool:
        """Whether the last auto-close command we emitted was ``disableAutoClose``."""
        return self._blocked

    @property
    def call_ended(self) -> bool:
        return self._ended_at is not None

    @property
    def held_until(self) -> float | None:
        """When the hold ends if the operator does nothing (on the ``now`` clock), while the
        card is held after the call; None before the call ends or when nothing holds it."""
        if not self._blocked or self._ended_at is None or self._released:
            return None
        return self._idle_since() + self._hold_limit

    # ----------------------------------------------------------------- events

    def handle(self, event: Event) -> list[Effect]:
        """Apply one event; return the effects to perform, in order."""
        if isinstance(event, ClientNamed):
            self._named(event)
            return []
        out: list[Effect] = []
        # flush: write drafts now instead of after the debounce (the card may be going away).
        # renew: re-send disableAutoClose now if we want the card open, even if not yet due.
        flush = renew = False
        match event:
            case TextChanged(text=text, now=now):
                self._active(now)
                self._typed(text, now)
            case OutcomeChosen(outcome=outcome, now=now):
                self._active(now)
                self._last_typed = now  # an edit: the card must not vanish under the click
                self._chose(outcome, out)
            case SaveRequested(now=now):
                self._active(now)
                self._closing = False
                self._save_all(out)
                flush = True
            case BeforeClose():
                self._save_all(out)
                flush = renew = True
            case SaveSucceeded():
                flush = self._succeeded(event)
            case SaveFailed():
                flush = renew = self._save_failed(event, out)
            case CommentFound():
                flush = self._found(event, out)
            case KeepOpenChanged(checked=checked, now=now):
                self._active(now)
                self._keep_open = bool(checked)
                self._closing = False
            case CloseNow(now=now):
                self._active(now)
                self._keep_open = False
                self._closing = True
                self._save_all(out)
                flush = True
            case Activity(now=now):
                self._active(now)
            case CallEnded(now=now):
                if self._ended_at is None:
                    self._ended_at = now
                flush = renew = True
            case CallStarted():
                self._ended_at = None
                self._released = False  # the card is in use again
            case Tick(now=now):
                self._retry_background(out, now)
                self._maybe_release(out, now)
            case ClientChanged():
                self._switch(event, out)
                flush = True
            case DraftRestored():
                self._restored(event, out)
                flush = True
            case OtherWork(pending=pending, now=now):
                if pending and not self._other_work:
                    self._last_typed = now  # the operator just asked for it: an edit too
                self._other_work = bool(pending)
            case _:
                raise TypeError(f"not a notes event: {type(event).__name__}")
        for note in list(self._notes.values()):
            self._sync_draft(note, event.now, flush, out)
        self._forget_blank_notes()
        self._sync_auto_close(event.now, renew, out)
        return sorted(out, key=lambda effect: _EFFECT_ORDER[type(effect)])

    # ----------------------------------------------------------------- typing and clients

    def _active(self, now: float) -> None:
        self._last_active = now
        self._released = False  # they are back: the hold starts over

    def _typed(self, text: str, now: float) -> None:
        note = self._current
        if text == note.text:
            return  # a repeated input event is not an edit
        note.text = text
        note.problem = None  # the operator has moved on from the failed text
        note.draft_due = now + self._debounce
        self._last_typed = now
        self._closing = False

    def _chose(self, outcome: Outcome, out: list[Effect]) -> None:
        note = self._current
        if note.header is None:
            return  # (a machine made without headers writes text-only comments)
        chosen = None if note.header.outcome is outcome else outcome
        note.header = replace(note.header, outcome=chosen)
        note.problem = None
        self._closing = False
        self._start_save(note, out)

    def _named(self, event: ClientNamed) -> None:
        self._names[event.target] = event.name
        note = self._notes.get(event.target)
        if note is not None and note.header is not None:
            note.header = replace(note.header, client=event.name)

    def _switch(self, event: ClientChanged, out: list[Effect]) -> None:
        before = self._current
        number = event.number
        if number is None and before.header is not None:
            number = before.header.number
        key: NoteKey = event.target if event.target is not None else _unbound(number)
        if key == before.client:
            return
        self._saved_behind = None  # a new client: what was saved before is old news
        shown = before.text
        if isinstance(before.client, Unbound) and event.target is not None and (
            _unbound(number) == before.client or not before.client.number
        ):
            self._adopt(before, event.target, out)  # the caller's notes go with their client
        else:
            if before.can_start_save:
                self._start_save(before, out)  # saved to the client it was written about
            note = self._notes.get(key)
            if note is None:
                note = self._new_note(key, self._header_for(before, event, number))
            self._current = note
        if self._current.text != shown:
            out.append(SetText(self._current.text))

    def _header_for(
        self, before: _Note, event: ClientChanged, number: CallerNumber | None
    ) -> CommentHeader | None:
        base = before.header
        if base is None:
            return None
        return CommentHeader(
            direction=base.direction,
            number=number if number is not None else base.number,
            started=event.started if event.started is not None else base.started,
            client=self._names.get(event.target) if event.target is not None else None,
        )

    def _new_note(self, key: NoteKey, header: CommentHeader | None) -> _Note:
        note = _Note(key, header)
        self._notes[key] = note
        return note

    def _adopt(self, unbound: _Note, target: CommentTarget, out: list[Effect]) -> None:
        """The call was bound to a client (a lead made from the card): the caller's notes go
        with it, merged into whatever that client already has."""
        del self._notes[unbound.client]
        if unbound.stored is not None:
            out.append(RemoveDraft(unbound.client))
        existing = self._notes.get(target)
        if existing is None:
            unbound.client = target
            unbound.message = None
            unbound.stored = None
            if unbound.header is not None:
                unbound.header = replace(unbound.header, client=self._names.get(target))
            self._notes[target] = unbound
            self._current = unbound
        else:
            existing.text = _merge(existing.text, unbound.text)
            if existing.header is not None and existing.outcome is None and unbound.outcome:
                existing.header = replace(existing.header, outcome=unbound.outcome)
            self._current = existing

    def _restored(self, event: DraftRestored, out: list[Effect]) -> None:
        note = self._notes.get(event.client)
        if note is None:
            note = self._new_note(event.client, event.header or self._current.header)
        if note.comment_id is None:
            note.comment_id = event.comment_id
        if event.saved and _content(event.text, event.header):
            note.saved_bodies.add(_content(event.text, event.header))
        restored = event.header.outcome if event.header is not None else None
        if restored is not None and note.header is not None and note.outcome is None:
            note.header = replace(note.header, outcome=restored)
        if note.comment_id is None and event.lost and note.lost is None:
            # An add of an earlier page may be in the CRM: looked for before the next add. When
            # it was this very text, a comment found holds the note; else it is updated.
            same = compose_comment(event.header, event.text, self._t) == event.lost
            note.lost = (event.lost, _content(event.text, event.header) if same else "")
        note.stored = (event.text, event.comment_id, event.saved, event.header, event.lost)
        merged = _merge(event.text, note.text)
        if merged != note.text:
            note.text = merged
            note.problem = None
            if note is self._current:
                out.append(SetText(merged))
        if note is not self._current:
            self._start_save(note, out)  # a previous client's note: its next chance is now

    # ----------------------------------------------------------------- saving

    def _save_all(self, out: list[Effect]) -> None:
        """Save every unsaved note, the current one first: never two saves of one note at once,
        and never a text its comment already holds (both are in the state)."""
        self._start_save(self._current, out)
        for note in list(self._notes.values()):
            self._start_save(note, out)

    def _start_save(self, note: _Note, out: list[Effect]) -> None:
        if not note.can_start_save:
            return
        target = note.target
        if target is None:
            note.message = NO_TARGET
            return
        self._attempts += 1
        note.attempt = self._attempts
        note.in_flight = note.text
        note.sent = note.content
        note.problem = note.message = note.retry_at = None
        note.finding = note.comment_id is None and note.lost is not None
        if note.finding and note.lost is not None:
            note.updating = False
            out.append(FindComment(target, note.lost[0], note.attempt))  # before a second add
            return
        comment = compose_comment(note.header, note.text, self._t)
        note.sent_comment = comment
        note.updating = note.comment_id is not None
        if note.comment_id is not None:
            out.append(UpdateComment(target, note.comment_id, comment, note.attempt))
        else:
            out.append(AddComment(target, comment, note.attempt))

    def _answered(self, attempt: int) -> _Note | None:
        for note in self._notes.values():
            if note.in_flight is not None and note.attempt == attempt:
                return note
        return None

    def _succeeded(self, event: SaveSucceeded) -> bool:
        """Record the saved text; False for a stray or late answer, which changes nothing."""
        note = self._answered(event.attempt)
        if note is None:
            return False
        body = note.sent
        if note.updating:
            note.saved_bodies = {body}  # the comment holds this text now, and only this
        elif event.comment_id is not None:
            note.comment_id = event.comment_id
            note.saved_bodies = {body}
        else:  # added, but the portal named no id: later saves add again, never this text
            note.saved_bodies.add(body)
        note.in_flight = note.attempt = None
        note.updating = False
        if note is not self._current:
            self._saved_behind = note.client
        return True

    def _save_failed(self, event: SaveFailed, out: list[Effect]) -> bool:
        """Keep the failed text (bringing it back if the operator cleared or replaced it
        meanwhile); False for a stray or late answer, which changes nothing. An update whose
        comment is gone becomes an add at once."""
        note = self._answered(event.attempt)
        if note is None:
            return False
        merged = _merge(note.in_flight or "", note.text)
        gone = note.updating and event.problem is SaveProblem.COMMENT_GONE
        if not note.updating and not note.finding and event.problem is SaveProblem.TIMEOUT:
            note.lost = (note.sent_comment, note.sent)  # it may have arrived: look first
        note.in_flight = note.attempt = None
        note.updating = note.finding = False
        if merged != note.text:
            note.text = merged
            if note is self._current:
                out.append(SetText(merged))
        if gone:
            note.comment_id = None
            note.saved_bodies = set()
            self._start_save(note, out)
            return True
        problem = event.problem
        note.problem = SaveProblem.ITEM_GONE if problem is SaveProblem.COMMENT_GONE else problem
        if note is not self._current and note.problem in _TRANSIENT:
            note.retry_at = event.now + self._retry_every
        self._closing = False  # the operator must see this before the card goes
        return True

    def _found(self, event: CommentFound, out: list[Effect]) -> bool:
        """The look for a lost add answered: its comment is this note's from now on (and is
        updated if the note has changed since), or there is none and the note is added."""
        note = self._answered(event.attempt)
        if note is None or not note.finding:
            return False
        note.in_flight = note.attempt = None
        note.finding = False
        lost, note.lost = note.lost, None
        if event.comment_id is not None and lost is not None:
            note.comment_id = event.comment_id
            note.saved_bodies = {lost[1]}
        self._start_save(note, out)
        return True

    def _retry_background(self, out: list[Effect], now: float) -> None:
        for note in list(self._notes.values()):
            if note is not self._current and _due(note.retry_at, now, self._retry_every):
                self._start_save(note, out)

    # ----------------------------------------------------------------- drafts

    def _sync_draft(self, note: _Note, now: float, flush: bool, out: list[Effect]) -> None:
        wanted = note.wanted_record()
        if wanted == note.stored:
            note.draft_due = None
        elif wanted is None:
            out.append(RemoveDraft(note.client))
            note.stored = note.draft_due = None
        elif flush or _due(note.draft_due, now, self._debounce):
            text, comment_id, saved, header, lost = wanted
            out.append(StoreDraft(note.client, text, comment_id, saved, header, lost))
            note.stored, note.draft_due = wanted, None
        elif note.draft_due is None:
            note.draft_due = now + self._debounce

    def _forget_blank_notes(self) -> None:
        """A client left behind with nothing in it is dropped: a long call list stays small."""
        for key, note in list(self._notes.items()):
            if note is not self._current and not note.worth_keeping and note.stored is None:
                del self._notes[key]

    # ----------------------------------------------------------------- the hold

    def _idle_since(self) -> float:
        marks = [mark for mark in (self._ended_at, self._last_active) if mark is not None]
        return max(marks) if marks else 0.0

    def _maybe_release(self, out: list[Effect], now: float) -> None:
        """After the call, once the operator has been away for ``hold_limit``: save what is
        pending one last time and let the card go, whatever the answers."""
        if self._ended_at is None or self._released or not self._blocked:
            return
        if now - self._idle_since() < self._hold_limit:
            return  # (a clock that went backwards never ends the hold early)
        self._released = True
        self._keep_open = False
        self._save_all(out)

    def _holds_the_card(self, note: _Note) -> bool:
        """Unsaved notes that can be saved keep the card open; so does the current one even
        when it cannot be (it says so), unless the operator asked to close."""
        if not note.unsaved:
            return False
        return note.target is not None or (note is self._current and not self._closing)

    def _wants_open(self) -> bool:
        notes = self._notes.values()
        if any(note.in_flight is not None for note in notes):
            return True
        if self._released:
            return False
        if self._other_work and not self._closing:
            return True
        return self._keep_open or any(self._holds_the_card(note) for note in notes)

    def _in_grace(self, now: float) -> bool:
        typed = self._last_typed
        if self._closing or self._released or typed is None:
            return False
        return 0 <= now - typed < self._enable_grace

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

    def _label(self, note: _Note) -> str:
        if note.target is not None:
            return self.client_label(note.target)
        if isinstance(note.client, Unbound) and note.client.number:
            return format_number(note.client.number)
        return self._t("client.new")
