"""Property test of the notes machine: for any sequence of operator, host and REST events, no
note is lost, none is saved twice, and the card is never let go while notes are unsaved.

A hypothesis state machine plays operator (typing, save button, keep-open), host (BeforeClose,
call end, ticks, target changes) and shell (answering each AddComment with success or failure,
sometimes late or twice). It records every effect and checks the invariants after every step.
"""

from __future__ import annotations

from datetime import datetime

from hypothesis import settings
from hypothesis import strategies as st
from hypothesis.stateful import (
    RuleBasedStateMachine,
    initialize,
    invariant,
    precondition,
    rule,
)

from bx24_bridge.payloads import CallDirection, CallerNumber, EntityType
from callcard.notes import (
    AddComment,
    BeforeClose,
    CallEnded,
    CommentHeader,
    CommentTarget,
    DisableAutoClose,
    DraftRestored,
    Effect,
    EnableAutoClose,
    Event,
    KeepOpenChanged,
    NotesMachine,
    NotesState,
    RemoveDraft,
    SaveFailed,
    SaveRequested,
    SaveSucceeded,
    SetText,
    StoreDraft,
    TargetChanged,
    TextChanged,
    Tick,
)

HEADER = CommentHeader(
    CallDirection.OUTGOING, CallerNumber("number", "+74950000000"), datetime(2026, 3, 1, 9, 30)
)
TARGETS = (CommentTarget(EntityType.DEAL, 1), CommentTarget(EntityType.LEAD, 2))
RENEW_EVERY = 40.0
DEBOUNCE = 0.5
GRACE = 3.0
HOST_WINDOW = 60.0  # the shortest delayed-close window the docs give (§6)
UNSAVED = {NotesState.DRAFT, NotesState.SAVING, NotesState.FAILED}

# Few distinct texts, so that retyping an earlier or a saved text happens often.
texts = st.sampled_from(
    ["", " ", "\n", "a", "a ", "b", "a b", "call back", "call back\ntomorrow", "x"]
) | st.text(alphabet="ab \n", max_size=5)
delays = st.sampled_from([0.0, 0.1, 0.5, 1.0, 3.0, 20.0, 39.9, 40.0, 41.0, 65.0])


def body_of(comment: str) -> str:
    """The operator's part of a composed comment (the header line has no blank line in it)."""
    return comment.partition("\n\n")[2]


class NotesModel(RuleBasedStateMachine):
    def __init__(self) -> None:
        super().__init__()
        self.m = NotesMachine(
            header=HEADER,
            target=TARGETS[0],
            debounce=DEBOUNCE,
            renew_every=RENEW_EVERY,
            enable_grace=GRACE,
        )
        self.now = 1000.0
        self.in_flight: AddComment | None = None  # the AddComment the shell has not answered
        self.answered: list[AddComment] = []  # answered ones, for late duplicate answers
        self.saved_bodies: list[str] = []  # bodies of successfully saved comments
        self.last_typed = ""  # what the operator's textarea last held
        self.failed_bodies: set[str] = set()  # failed saves not edited over since
        self.auto_close: list[type] = []  # DisableAutoClose / EnableAutoClose, in order
        self.last_disable_at: float | None = None
        self.draft: str | None = None  # what the draft store holds
        self.text_shown = ""  # the textarea, as SetText leaves it
        self.last_edit_at = self.now

    # ----------------------------------------------------------------- plumbing

    def send(self, event: Event) -> list[Effect]:
        effects = self.m.handle(event)
        for effect in effects:
            self.record(effect)
        return effects

    def record(self, effect: Effect) -> None:
        match effect:
            case AddComment():
                assert self.in_flight is None, "two saves in flight"
                assert body_of(effect.comment) not in self.saved_bodies, "saving a saved text"
                assert self.auto_close[-1:] == [DisableAutoClose], "saving with the card unheld"
                self.in_flight = effect
            case DisableAutoClose():
                self.auto_close.append(DisableAutoClose)
                self.last_disable_at = self.now
            case EnableAutoClose():
                assert self.auto_close[-1:] == [DisableAutoClose], "enable without a disable"
                self.auto_close.append(EnableAutoClose)
            case StoreDraft(text=text):
                assert text.strip(), "a blank draft"
                self.draft = text
            case RemoveDraft():
                self.draft = None
            case SetText(text=text):
                self.text_shown = text
                self.last_typed = text

    # ----------------------------------------------------------------- the operator

    @initialize(draft=st.none() | texts)
    def open_card(self, draft: str | None) -> None:
        if draft is not None:
            self.draft = draft
            self.send(DraftRestored(draft, self.now))
            if draft.strip():
                self.last_typed = draft

    @rule(text=texts)
    def type_text(self, text: str) -> None:
        self.text_shown = self.last_typed = text
        if text != self.m.text:
            self.failed_bodies.clear()  # the operator edited over the failed text
            self.last_edit_at = self.now
        self.send(TextChanged(text, self.now))

    @rule()
    def press_save(self) -> None:
        self.send(SaveRequested(self.now))
        self.assert_draft_current()

    @rule(checked=st.booleans())
    def toggle_keep_open(self, checked: bool) -> None:
        self.send(KeepOpenChanged(checked, self.now))

    # ----------------------------------------------------------------- the host

    @rule(dt=delays)
    def tick(self, dt: float) -> None:
        self.now += dt
        self.send(Tick(self.now))
        if self.now - self.last_edit_at >= DEBOUNCE:
            self.assert_draft_current()
        if self.m.auto_close_blocked:
            assert self.last_disable_at is not None
            since = self.now - self.last_disable_at
            if self.m.state in UNSAVED or self.m.keep_open:
                assert since < RENEW_EVERY, "block not renewed in time"
            else:  # nothing at risk: only waiting out the grace after the last keystroke
                assert since < RENEW_EVERY + GRACE < HOST_WINDOW

    @rule()
    def before_close(self) -> None:
        self.send(BeforeClose(self.now))
        self.assert_draft_current()
        if self.m.state in UNSAVED:
            assert self.auto_close[-1] is DisableAutoClose
            assert self.last_disable_at == self.now, "BeforeClose must re-assert the block"

    @rule()
    def call_ended(self) -> None:
        self.send(CallEnded(self.now))
        self.assert_draft_current()

    @rule(index=st.sampled_from([None, 0, 1]))
    def change_target(self, index: int | None) -> None:
        self.send(TargetChanged(None if index is None else TARGETS[index]))

    # ----------------------------------------------------------------- the shell's REST answers

    @precondition(lambda self: self.in_flight is not None)
    @rule(comment_id=st.none() | st.integers(1, 10**6), with_attempt=st.booleans())
    def rest_succeeds(self, comment_id: int | None, with_attempt: bool) -> None:
        sent = self.in_flight
        assert sent is not None
        self.in_flight = None
        self.answered.append(sent)
        body = body_of(sent.comment)
        assert body not in self.saved_bodies, "the same text saved twice"
        self.saved_bodies.append(body)
        self.failed_bodies.discard(body)
        attempt = sent.attempt if with_attempt else None
        self.send(SaveSucceeded(comment_id, self.now, attempt))
        assert self.m.state is not NotesState.SAVING

    @precondition(lambda self: self.in_flight is not None)
    @rule(reason=st.sampled_from(["", "timeout", "QUERY_LIMIT_EXCEEDED"]))
    def rest_fails(self, reason: str) -> None:
        sent = self.in_flight
        assert sent is not None
        self.in_flight = None
        self.answered.append(sent)
        self.failed_bodies.add(body_of(sent.comment))
        self.send(SaveFailed(reason, self.now, sent.attempt))
        self.assert_draft_current()
        assert self.m.state is not NotesState.SAVING
        assert self.m.auto_close_blocked

    @precondition(lambda self: bool(self.answered))
    @rule(success=st.booleans())
    def late_duplicate_answer(self, success: bool) -> None:
        """An old attempt answers again (a timeout followed by the real answer)."""
        old = self.answered[-1]
        if self.in_flight is not None and self.in_flight.attempt == old.attempt:
            return  # same attempt number reused after a success: not a stale answer
        state, text = self.m.state, self.m.text
        event = (
            SaveSucceeded(None, self.now, old.attempt)
            if success
            else SaveFailed("late", self.now, old.attempt)
        )
        if self.in_flight is not None:
            assert self.send(event) == []
            assert (self.m.state, self.m.text) == (state, text)

    # ----------------------------------------------------------------- invariants

    @invariant()
    def textarea_shows_the_machine_text(self) -> None:
        assert self.text_shown == self.m.text

    @invariant()
    def last_typed_note_is_saved_or_kept(self) -> None:
        """(1) The last non-blank text is saved, or still in the machine, unsaved, drafted and
        with the card held open."""
        body = self.last_typed.strip()
        if not body:
            return
        if any(body in saved for saved in self.saved_bodies):
            return
        assert body in self.m.text
        assert self.m.state in UNSAVED
        assert self.m.auto_close_blocked
        assert self.auto_close[-1] is DisableAutoClose

    @invariant()
    def failed_saves_are_kept(self) -> None:
        """A note whose save failed stays in the textarea until the operator edits it."""
        for body in self.failed_bodies:
            assert any(body in saved for saved in self.saved_bodies) or body in self.m.text

    @invariant()
    def no_draft_without_unsaved_text(self) -> None:
        if self.m.state in (NotesState.EMPTY, NotesState.SAVED):
            assert self.draft is None

    def assert_draft_current(self) -> None:
        """At a flush point the draft store holds exactly what is unsaved: the text, or during a
        save both the text being sent and the text typed since."""
        state = self.m.state
        if state in (NotesState.DRAFT, NotesState.FAILED):
            assert self.draft == self.m.text
        elif state is NotesState.SAVING:
            assert self.draft is not None
            assert self.in_flight is not None
            assert body_of(self.in_flight.comment) in self.draft
            assert self.m.text.strip() in self.draft
        else:
            assert self.draft is None

    @invariant()
    def never_let_go_of_unsaved_work(self) -> None:
        """(3) Auto-close is never enabled while unsaved non-blank work (or keep-open) exists."""
        if self.m.state in UNSAVED or self.m.keep_open:
            assert self.m.auto_close_blocked
            assert self.auto_close[-1:] == [DisableAutoClose]
        assert self.m.auto_close_blocked == (self.auto_close[-1:] == [DisableAutoClose])

    @invariant()
    def saves_are_distinct(self) -> None:
        """(2) No text is successfully saved twice."""
        assert len(self.saved_bodies) == len(set(self.saved_bodies))

    @invariant()
    def state_agrees_with_the_text(self) -> None:
        state, body = self.m.state, self.m.text.strip()
        assert (state is NotesState.SAVING) == (self.in_flight is not None)
        if state is NotesState.EMPTY:
            assert not body
        if state is NotesState.SAVED:
            assert body in self.saved_bodies
        if state in (NotesState.DRAFT, NotesState.FAILED):
            assert body
            assert body not in self.saved_bodies
        assert (self.m.error is not None) == (state is NotesState.FAILED)

    def teardown(self) -> None:
        """After a pause long enough for the debounce, the draft holds what is unsaved."""
        self.now += DEBOUNCE
        self.send(Tick(self.now))
        self.assert_draft_current()


NotesModel.TestCase.settings = settings(max_examples=300, stateful_step_count=40, deadline=None)
TestNotesMachine = NotesModel.TestCase
