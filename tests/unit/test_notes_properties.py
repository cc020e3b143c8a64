"""Property test of the notes machine across clients: for any sequence of operator, host and
REST events, no note is lost, no note reaches another client, each client has one comment, and
the card is never let go while notes that can be saved are unsaved (until the hold runs out).

A hypothesis state machine plays the operator (typing, save, keep-open, close now), the host
(BeforeClose, the call's end, ticks, the card moving between clients, as in the dialer) and the
shell with a fake CRM (answering each save, sometimes late or twice; deleting a comment behind
the card's back). The operator types only letters that mark the client on screen, so a comment
that reaches a client with another client's letters is caught at once.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from hypothesis import settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, invariant, precondition, rule

from bx24_bridge.crm_refs import EntityType
from bx24_bridge.payloads import CallDirection
from bx24_bridge.phone_numbers import CallerNumber
from callcard.comment import CommentHeader, CommentTarget, Outcome, SaveProblem
from callcard.notes import (
    Activity,
    AddComment,
    BeforeClose,
    CallEnded,
    CallStarted,
    ClientChanged,
    ClientNamed,
    CloseNow,
    CommentFound,
    DisableAutoClose,
    Effect,
    EnableAutoClose,
    Event,
    FindComment,
    KeepOpenChanged,
    NoteKey,
    NotesMachine,
    NotesState,
    OtherWork,
    OutcomeChosen,
    RemoveDraft,
    SaveFailed,
    SaveRequested,
    SaveSucceeded,
    SetText,
    StoreDraft,
    TextChanged,
    Tick,
    Unbound,
    UpdateComment,
)

N1, N2 = CallerNumber("number", "+74950000001"), CallerNumber("number", "+74950000002")
HEADER = CommentHeader(CallDirection.OUTGOING, N1, datetime(2026, 3, 1, 9, 30))
A, B, C = (CommentTarget(EntityType.DEAL, 1), CommentTarget(EntityType.LEAD, 2),
           CommentTarget(EntityType.CONTACT, 3))


@dataclass(frozen=True)
class Client:
    target: CommentTarget | None
    number: CallerNumber
    letter: str  # what the operator types about this client


POOL = (Client(A, N1, "a"), Client(B, N1, "b"), Client(C, N2, "c"),
        Client(None, N1, "u"), Client(None, N2, "v"))
LETTER = {Unbound("74950000001"): "u", Unbound("74950000002"): "v", A: "a", B: "b", C: "c"}
# An unbound caller's notes may go with the first client of the same number.
ALLOWED = {A: set("au"), B: set("bu"), C: set("cv")}
RENEW_EVERY, DEBOUNCE, GRACE, HOLD = 40.0, 0.5, 3.0, 300.0
HOST_WINDOW = 60.0  # the shortest delayed-close window the docs give
UNSAVED = {NotesState.DRAFT, NotesState.SAVING, NotesState.FAILED}

delays = st.sampled_from([0.0, 0.1, 0.5, 1.0, 3.0, 20.0, 39.9, 40.0, 65.0, 301.0])
problems = st.sampled_from([SaveProblem.TIMEOUT, SaveProblem.UNAVAILABLE, SaveProblem.NO_ACCESS])


def body_of(comment: str) -> str:
    """The operator's part of a composed comment (the header line has no blank line in it)."""
    return comment.partition("\n\n")[2]


class NotesModel(RuleBasedStateMachine):
    def __init__(self) -> None:
        super().__init__()
        self.m = NotesMachine(header=HEADER, target=A, debounce=DEBOUNCE,
                              renew_every=RENEW_EVERY, enable_grace=GRACE, hold_limit=HOLD)
        self.now = 1000.0
        self.in_flight: dict[int, AddComment | UpdateComment | FindComment] = {}
        self.answered: list[int] = []
        self.crm: dict[int, tuple[CommentTarget, str]] = {}  # comment id -> (client, body)
        self.texts: dict[int, str] = {}  # comment id -> its whole text, as a look finds it
        self.deleted: set[str] = set()  # bodies of comments deleted behind the card's back
        self.ids: dict[CommentTarget, int] = {}  # the comment each client's saves must update
        self.left: dict[NoteKey, str] = {}  # what each client's note last showed on screen
        self.store: dict[NoteKey, StoreDraft] = {}
        self.commands: list[type] = []
        self.last_disable_at: float | None = None
        self.text_shown = ""
        self.last_input = self.now
        self.ended_at: float | None = None
        self.next_id = 100
        self.other_pending = False
        self.closed_once = False  # "Close now" lets go of the call-back's hold (by design)

    # ----------------------------------------------------------------- plumbing

    def send(self, event: Event) -> list[Effect]:
        effects = self.m.handle(event)
        for effect in effects:
            self.record(effect)
        return effects

    def record(self, effect: Effect) -> None:
        match effect:
            case AddComment(target=target, comment=comment) | UpdateComment(
                target=target, comment=comment
            ):
                letters = set(body_of(comment)) - set(" \n")
                assert letters <= ALLOWED[target], f"{comment!r} sent to {target}"
                assert all(s.target != target for s in self.in_flight.values()), "two in flight"
                assert self.commands[-1:] == [DisableAutoClose], "saving with the card unheld"
                if isinstance(effect, AddComment):
                    assert target not in self.ids, "a second comment for one client"
                else:
                    assert self.ids.get(target) == effect.comment_id, "updating another comment"
                self.in_flight[effect.attempt] = effect
            case FindComment(target=target):
                assert all(s.target != target for s in self.in_flight.values()), "two in flight"
                assert self.commands[-1:] == [DisableAutoClose], "looking with the card unheld"
                self.in_flight[effect.attempt] = effect
            case DisableAutoClose():
                self.commands.append(DisableAutoClose)
                self.last_disable_at = self.now
            case EnableAutoClose():
                assert self.commands[-1:] == [DisableAutoClose], "enable without a disable"
                self.commands.append(EnableAutoClose)
            case StoreDraft(client=client):
                outcome = effect.header.outcome if effect.header is not None else None
                assert effect.text.strip() or effect.comment_id is not None or outcome, (
                    "a blank draft")
                self.store[client] = effect
            case RemoveDraft(client=client):
                self.store.pop(client, None)
            case SetText(text=text):
                self.text_shown = text

    def send_and_note(self, event: Event) -> list[Effect]:
        """Send ``event``; then the textarea holds the note of whichever client is current."""
        effects = self.send(event)
        self.left[self.m.client] = self.text_shown
        return effects

    def hold_ran_out(self) -> bool:
        return self.ended_at is not None and self.now - max(self.ended_at, self.last_input) >= HOLD

    def input(self) -> None:
        self.last_input = self.now

    # ----------------------------------------------------------------- the operator

    @rule(data=st.data())
    def type_text(self, data: st.DataObject) -> None:
        letter = LETTER[self.m.client]
        text = data.draw(st.text(alphabet=letter + " \n", max_size=4) | st.just(""))
        if data.draw(st.booleans()):
            text = self.text_shown + text  # go on writing
        self.text_shown = text
        self.input()
        self.send_and_note(TextChanged(text, self.now))

    @rule(outcome=st.sampled_from(list(Outcome)))
    def choose_outcome(self, outcome: Outcome) -> None:
        self.input()
        self.send_and_note(OutcomeChosen(outcome, self.now))

    @rule(pending=st.booleans())
    def a_call_back_on_its_way(self, pending: bool) -> None:
        """A call-back reminder starts or finishes its way to the CRM (callcard/callbacks.py)."""
        self.other_pending = pending
        self.send_and_note(OtherWork(pending, self.now))

    @rule()
    def press_save(self) -> None:
        self.input()
        self.send_and_note(SaveRequested(self.now))

    @rule(checked=st.booleans())
    def toggle_keep_open(self, checked: bool) -> None:
        self.input()
        self.send_and_note(KeepOpenChanged(checked, self.now))

    @rule()
    def close_now(self) -> None:
        self.input()
        self.closed_once = True
        self.send_and_note(CloseNow(self.now))

    @rule()
    def click_somewhere(self) -> None:
        self.input()
        self.send_and_note(Activity(self.now))

    # ----------------------------------------------------------------- the host

    @rule(dt=delays)
    def tick(self, dt: float) -> None:
        self.now += dt
        self.send_and_note(Tick(self.now))
        if self.m.auto_close_blocked and dt <= RENEW_EVERY:
            assert self.last_disable_at is not None
            assert self.now - self.last_disable_at < RENEW_EVERY + GRACE < HOST_WINDOW

    @rule()
    def before_close(self) -> None:
        self.send_and_note(BeforeClose(self.now))
        self.assert_drafts_current()

    @rule()
    def call_ended(self) -> None:
        if self.ended_at is None:
            self.ended_at = self.now
        self.send_and_note(CallEnded(self.now))
        self.assert_drafts_current()

    @rule()
    def call_started(self) -> None:
        self.ended_at = None
        self.send_and_note(CallStarted(self.now))

    @rule(client=st.sampled_from(POOL), with_number=st.booleans())
    def next_client(self, client: Client, with_number: bool) -> None:
        number = client.number if with_number or client.target is None else None
        if number is None:
            # The event carried no number: the card keeps the one it had, so only a client of
            # that number may be the same caller.
            shown = self.m.client
            digits = (client.number.value or "").lstrip("+")
            if isinstance(shown, Unbound) and shown.number not in ("", digits):
                number = client.number
        before = self.m.client
        self.send_and_note(ClientChanged(client.target, self.now, number))
        after = self.m.client
        if isinstance(before, Unbound) and after in ALLOWED and LETTER[before] in ALLOWED[after]:
            self.left.pop(before, None)  # the caller's note went with its client: it is that one
        self.assert_drafts_current()

    @rule(client=st.sampled_from([A, B, C]), name=st.sampled_from(["Ivan", "Мария", ""]))
    def crm_names_a_client(self, client: CommentTarget, name: str) -> None:
        assert self.send_and_note(ClientNamed(client, name)) == []

    # ----------------------------------------------------------------- the shell and the CRM

    @precondition(lambda self: bool(self.in_flight))
    @rule(data=st.data(), with_id=st.booleans())
    def rest_answers(self, data: st.DataObject, with_id: bool) -> None:
        attempt = data.draw(st.sampled_from(sorted(self.in_flight)))
        sent = self.in_flight.pop(attempt)
        self.answered.append(attempt)
        body = body_of(sent.comment)
        if isinstance(sent, FindComment):
            found = [cid for cid, (target, _) in self.crm.items()
                     if target == sent.target and self.texts.get(cid) == sent.comment]
            if not found:
                self.ids.pop(sent.target, None)  # deleted meanwhile: a new add is right
            self.send_and_note(CommentFound(max(found) if found else None, self.now, attempt))
            return
        if isinstance(sent, UpdateComment):
            if sent.comment_id not in self.crm:
                self.ids.pop(sent.target, None)
                self.send_and_note(SaveFailed(SaveProblem.COMMENT_GONE, self.now, attempt))
                return
            self.crm[sent.comment_id] = (sent.target, body)
            self.texts[sent.comment_id] = sent.comment
            self.send_and_note(SaveSucceeded(sent.comment_id, self.now, attempt))
            return
        self.next_id += 1
        self.crm[self.next_id] = (sent.target, body)
        self.texts[self.next_id] = sent.comment
        if with_id:
            self.ids[sent.target] = self.next_id
        self.send_and_note(SaveSucceeded(self.next_id if with_id else None, self.now, attempt))

    @precondition(lambda self: any(isinstance(s, AddComment) for s in self.in_flight.values()))
    @rule(data=st.data())
    def an_add_arrives_but_its_answer_is_lost(self, data: st.DataObject) -> None:
        """The portal made the comment; the answer never came (the library's timeout)."""
        adds = sorted(a for a, s in self.in_flight.items() if isinstance(s, AddComment))
        attempt = data.draw(st.sampled_from(adds))
        sent = self.in_flight.pop(attempt)
        self.answered.append(attempt)
        self.next_id += 1
        self.crm[self.next_id] = (sent.target, body_of(sent.comment))
        self.texts[self.next_id] = sent.comment
        self.ids[sent.target] = self.next_id  # a second add for this client would be a duplicate
        self.send_and_note(SaveFailed(SaveProblem.TIMEOUT, self.now, attempt))
        self.assert_drafts_current()

    @precondition(lambda self: bool(self.in_flight))
    @rule(data=st.data(), problem=problems)
    def rest_fails(self, data: st.DataObject, problem: SaveProblem) -> None:
        attempt = data.draw(st.sampled_from(sorted(self.in_flight)))
        self.in_flight.pop(attempt)
        self.answered.append(attempt)
        self.send_and_note(SaveFailed(problem, self.now, attempt))
        self.assert_drafts_current()

    @precondition(lambda self: bool(self.answered))
    @rule(success=st.booleans())
    def late_duplicate_answer(self, success: bool) -> None:
        """An old attempt answers again (a timeout followed by the real answer)."""
        attempt = self.answered[-1]
        before = (self.m.state, self.m.text, self.m.others)
        event = (SaveSucceeded(None, self.now, attempt) if success
                 else SaveFailed(SaveProblem.TIMEOUT, self.now, attempt))
        assert self.send_and_note(event) == []
        assert (self.m.state, self.m.text, self.m.others) == before

    @precondition(lambda self: bool(self.crm))
    @rule(data=st.data())
    def someone_deletes_a_comment_in_the_crm(self, data: st.DataObject) -> None:
        comment_id = data.draw(st.sampled_from(sorted(self.crm)))
        self.deleted.add(self.crm.pop(comment_id)[1])

    # ----------------------------------------------------------------- invariants

    @invariant()
    def textarea_shows_the_current_note(self) -> None:
        assert self.text_shown == self.m.text

    @invariant()
    def no_note_is_lost(self) -> None:
        """What each client's note last held on screen is in a comment, or still in the machine
        (which may have merged it with later text: a failed save brought back)."""
        kept = [body for _, body in self.crm.values()] + list(self.deleted)
        kept += [self.m.text] + [other.text for other in self.m.others]
        missing = [text.strip() for text in self.left.values()
                   if text.strip() and not any(text.strip() in place for place in kept)]
        assert not missing, f"lost: {missing}"

    @invariant()
    def unsaved_notes_hold_the_card(self) -> None:
        held = self.m.auto_close_blocked
        assert held == (self.commands[-1:] == [DisableAutoClose])
        if self.hold_ran_out():
            return
        pending = [o for o in self.m.others if o.client in ALLOWED and o.state in UNSAVED]
        if self.m.target is not None and self.m.state in UNSAVED:
            pending.append(None)  # type: ignore[arg-type]
        if pending or self.m.keep_open:
            assert held, "unsaved notes, yet the card may close"
        if self.other_pending and not self.closed_once:
            assert held, "a call-back on its way, yet the card may close"

    @invariant()
    def the_state_agrees_with_the_saves(self) -> None:
        saving = any(s.target == self.m.target for s in self.in_flight.values())
        assert (self.m.state is NotesState.SAVING) == saving
        assert (self.m.error is not None) == (self.m.state is NotesState.FAILED)
        for other in self.m.others:
            # (text cleared while its save is on its way still counts: a failure brings it back;
            # one note saved behind the card's back is listed as saved)
            assert other.text.strip() or other.outcome or other.state is NotesState.SAVING
        saved = [other for other in self.m.others if other.state not in UNSAVED]
        assert [other.state for other in saved] in ([], [NotesState.SAVED])

    def assert_drafts_current(self) -> None:
        """At a flush point the store holds every unsaved note, under its own client."""
        if self.m.state in (NotesState.DRAFT, NotesState.FAILED):
            assert self.store[self.m.client].text == self.m.text
        elif self.m.state is NotesState.SAVING and self.m.text.strip():
            assert self.m.text.strip() in self.store[self.m.client].text
        for other in self.m.others:
            if other.state in UNSAVED and other.text.strip():
                assert other.text.strip() in self.store[other.client].text

    def teardown(self) -> None:
        """After a pause long enough for the debounce, the store holds what is unsaved."""
        self.now += DEBOUNCE
        self.send_and_note(Tick(self.now))
        self.assert_drafts_current()


NotesModel.TestCase.settings = settings(max_examples=200, stateful_step_count=50, deadline=None)
TestNotesMachine = NotesModel.TestCase
