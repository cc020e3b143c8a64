"""Notes belong to the client they were written about: the machine when the card moves between
clients (the dialer's next client, a lead made from the card, any rebinding)."""

from __future__ import annotations

from datetime import datetime

from bx24_bridge.crm_refs import EntityType
from bx24_bridge.payloads import CallDirection
from bx24_bridge.phone_numbers import HIDDEN_NUMBER, CallerNumber
from callcard.comment import CommentHeader, CommentTarget, SaveProblem, compose_comment
from callcard.i18n import Translator
from callcard.notes import (
    NO_TARGET,
    AddComment,
    BeforeClose,
    ClientChanged,
    ClientNamed,
    DisableAutoClose,
    DraftRestored,
    EnableAutoClose,
    FindComment,
    NotesMachine,
    NotesState,
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

EN = Translator("en")
T0 = 100.0
IVAN, MARIA = CommentTarget(EntityType.CONTACT, 17), CommentTarget(EntityType.CONTACT, 18)
LEAD = CommentTarget(EntityType.LEAD, 31)
IVAN_PHONE = CallerNumber("number", "+79001234567")
MARIA_PHONE = CallerNumber("number", "+79005550000")
OPENED, NEXT = datetime(2026, 11, 24, 14, 5), datetime(2026, 11, 24, 14, 9)
IVAN_HEADER = CommentHeader(CallDirection.OUTGOING, IVAN_PHONE, OPENED)
MARIA_HEADER = CommentHeader(CallDirection.OUTGOING, MARIA_PHONE, NEXT)
DISABLE, ENABLE = DisableAutoClose(), EnableAutoClose()


def dialer(target: CommentTarget | None = IVAN) -> NotesMachine:
    return NotesMachine(header=IVAN_HEADER, target=target)


def next_client(m: NotesMachine, target: CommentTarget | None = MARIA,
                number: CallerNumber | None = MARIA_PHONE, at: float = T0 + 10) -> list:
    return m.handle(ClientChanged(target, at, number, NEXT))


def comments(effects: list) -> list[AddComment | UpdateComment]:
    return [e for e in effects if isinstance(e, AddComment | UpdateComment)]


def test_next_client_saves_the_previous_clients_note_to_that_client() -> None:
    m = dialer()
    m.handle(TextChanged("Notes about Ivan Petrov", T0))
    effects = next_client(m)
    [save] = comments(effects)
    assert save == AddComment(IVAN, compose_comment(IVAN_HEADER, "Notes about Ivan Petrov", EN), 1)
    assert SetText("") in effects  # Maria's notes start empty, never with Ivan's text
    assert (m.target, m.text, m.state) == (MARIA, "", NotesState.EMPTY)
    assert StoreDraft(IVAN, "Notes about Ivan Petrov", None, False, IVAN_HEADER) in effects
    [other] = m.others
    assert (other.client, other.state, other.label) == (IVAN, NotesState.SAVING, "contact 17")
    assert m.auto_close_blocked  # held until Ivan's note is in the CRM
    done = m.handle(SaveSucceeded(90, T0 + 11, 1))
    [saved] = m.others  # listed as saved until the card moves on again
    assert (saved.client, saved.state) == (IVAN, NotesState.SAVED)
    assert StoreDraft(IVAN, "Notes about Ivan Petrov", 90, True, IVAN_HEADER) in done
    assert done[-1] == ENABLE


def test_save_pressed_for_the_next_client_never_sends_the_previous_text_there() -> None:
    m = dialer()
    m.handle(TextChanged("Notes about Ivan Petrov", T0))
    next_client(m)
    m.handle(SaveSucceeded(90, T0 + 11, 1))
    assert comments(m.handle(SaveRequested(T0 + 12))) == []  # Maria has nothing to save
    m.handle(TextChanged("Maria: sends the invoice", T0 + 13))
    [save] = comments(m.handle(SaveRequested(T0 + 14)))
    text = "Maria: sends the invoice"
    assert save == AddComment(MARIA, compose_comment(MARIA_HEADER, text, EN), 2)


def test_a_switch_during_a_save_lets_that_save_finish_for_its_own_client() -> None:
    m = dialer()
    m.handle(TextChanged("Ivan", T0))
    m.handle(SaveRequested(T0 + 1))
    effects = next_client(m)
    assert comments(effects) == []  # already on its way; not sent twice
    m.handle(TextChanged("Maria", T0 + 11))
    m.handle(SaveSucceeded(90, T0 + 12, 1))
    assert (m.target, m.text, m.state) == (MARIA, "Maria", NotesState.DRAFT)
    assert [(o.client, o.state) for o in m.others] == [(IVAN, NotesState.SAVED)]


def test_a_switch_during_a_save_that_fails_keeps_the_text_with_its_client() -> None:
    m = dialer()
    m.handle(TextChanged("Ivan", T0))
    m.handle(SaveRequested(T0 + 1))
    next_client(m)
    effects = m.handle(SaveFailed(SaveProblem.TIMEOUT, T0 + 12, 1))
    assert SetText("Ivan") not in effects  # the textarea shows Maria's note
    assert m.text == ""
    [other] = m.others
    assert (other.client, other.state, other.problem) == (IVAN, NotesState.FAILED,
                                                          SaveProblem.TIMEOUT)
    # A passing problem: tried again by itself, to the same client; the add's answer was lost,
    # so the retry first looks for it there.
    assert comments(m.handle(Tick(T0 + 41))) == []
    [retry] = [e for e in m.handle(Tick(T0 + 42)) if isinstance(e, FindComment)]
    assert retry.target == IVAN and retry.attempt == 2


def test_a_lasting_problem_is_not_retried_on_its_own_but_at_the_next_chance() -> None:
    m = dialer()
    m.handle(TextChanged("Ivan", T0))
    next_client(m)
    m.handle(SaveFailed(SaveProblem.NO_ACCESS, T0 + 11, 1))
    assert [comments(m.handle(Tick(T0 + s))) for s in (50, 100)] == [[], []]
    assert m.others[0].problem is SaveProblem.NO_ACCESS
    [retry] = comments(m.handle(BeforeClose(T0 + 120)))
    assert (retry.target, retry.attempt) == (IVAN, 2)
    m.handle(SaveFailed(SaveProblem.NO_ACCESS, T0 + 121, 2))
    assert comments(m.handle(Tick(T0 + 200))) == []
    assert m.auto_close_blocked  # still unsaved: the card stays


def test_save_requested_also_tries_the_previous_clients_failed_note() -> None:
    m = dialer()
    m.handle(TextChanged("Ivan", T0))
    next_client(m)
    m.handle(SaveFailed(SaveProblem.NO_ACCESS, T0 + 11, 1))
    m.handle(TextChanged("Maria", T0 + 12))
    saves = comments(m.handle(SaveRequested(T0 + 13)))
    assert [s.target for s in saves] == [MARIA, IVAN]


def test_coming_back_to_a_client_brings_back_its_own_note() -> None:
    m = dialer()
    m.handle(TextChanged("Ivan", T0))
    m.handle(SaveRequested(T0 + 1))
    m.handle(SaveSucceeded(90, T0 + 2, 1))
    next_client(m)
    m.handle(TextChanged("Maria", T0 + 11))
    effects = m.handle(ClientChanged(IVAN, T0 + 20, IVAN_PHONE))
    assert SetText("Ivan") in effects
    assert (m.text, m.state, m.comment_id) == ("Ivan", NotesState.SAVED, 90)
    [maria] = comments(effects)  # Maria's unsaved note goes to Maria
    assert maria.target == MARIA
    m.handle(TextChanged("Ivan, again", T0 + 21))
    [save] = comments(m.handle(SaveRequested(T0 + 22)))
    assert isinstance(save, UpdateComment) and (save.target, save.comment_id) == (IVAN, 90)


def test_each_client_has_its_own_draft() -> None:
    m = dialer()
    m.handle(TextChanged("Ivan", T0))
    m.handle(Tick(T0 + 1))
    next_client(m)
    m.handle(TextChanged("Maria", T0 + 11))
    stored = [e for e in m.handle(Tick(T0 + 12)) if isinstance(e, StoreDraft)]
    assert stored == [StoreDraft(MARIA, "Maria", None, False, MARIA_HEADER)]


def test_an_empty_client_left_behind_is_forgotten() -> None:
    m = dialer()
    next_client(m)
    m.handle(ClientChanged(CommentTarget(EntityType.CONTACT, 19), T0 + 20))
    assert m.others == () and m.handle(Tick(T0 + 30)) == []


def test_the_header_and_the_list_name_the_client_once_the_crm_has_answered() -> None:
    m = dialer()
    m.handle(ClientNamed(IVAN, "Ivan Petrov"))
    m.handle(TextChanged("x", T0))
    [save] = comments(next_client(m))
    assert save.comment.startswith("Outgoing call, +79001234567, Ivan Petrov, 24.11.2026 14:05")
    assert m.others[0].label == "Ivan Petrov"
    m.handle(ClientNamed(MARIA, "Мария Иванова"))
    m.handle(TextChanged("y", T0 + 11))
    [maria] = comments(m.handle(SaveRequested(T0 + 12)))
    assert maria.comment.startswith("Outgoing call, +79005550000, Мария Иванова, 24.11.2026 14:09")


def test_the_same_client_again_is_not_a_switch() -> None:
    m = dialer()
    m.handle(TextChanged("Ivan", T0))
    assert m.handle(ClientChanged(IVAN, T0 + 1, IVAN_PHONE)) == [
        StoreDraft(IVAN, "Ivan", None, False, IVAN_HEADER)
    ]
    assert m.state is NotesState.DRAFT


# --------------------------------------------------------------------------- unbound calls


def test_a_lead_made_from_the_card_takes_the_callers_notes() -> None:
    m = dialer(target=None)
    m.handle(TextChanged("Wants 50 licences", T0))
    m.handle(SaveRequested(T0 + 1))
    assert m.message_key == NO_TARGET
    effects = m.handle(ClientChanged(LEAD, T0 + 5, IVAN_PHONE))
    assert RemoveDraft(Unbound("79001234567")) in effects
    assert StoreDraft(LEAD, "Wants 50 licences", None, False, IVAN_HEADER) in effects
    assert not [e for e in effects if isinstance(e, SetText)]  # the text stays in the box
    assert (m.target, m.message_key) == (LEAD, None)
    [save] = comments(m.handle(SaveRequested(T0 + 6)))
    assert save.target == LEAD


def test_a_hidden_caller_bound_later_takes_the_notes_whatever_the_number() -> None:
    m = NotesMachine(header=CommentHeader(CallDirection.INCOMING, HIDDEN_NUMBER, OPENED),
                     target=None)
    m.handle(TextChanged("x", T0))
    m.handle(ClientChanged(LEAD, T0 + 5, IVAN_PHONE))
    assert (m.target, m.text) == (LEAD, "x")


def test_unbound_notes_never_go_to_a_client_with_another_number() -> None:
    m = dialer(target=None)
    m.handle(TextChanged("About the unknown caller", T0))
    effects = next_client(m)
    assert comments(effects) == [] and SetText("") in effects
    [other] = m.others
    assert other.client == Unbound("79001234567")
    assert other.text == "About the unknown caller"
    # It cannot be saved anywhere: it is shown and kept in the store, but does not hold the card.
    assert effects[-1] == ENABLE
    assert StoreDraft(Unbound("79001234567"), "About the unknown caller", None, False,
                      IVAN_HEADER) in effects


def test_an_unbound_caller_adopted_into_a_client_with_its_own_draft_keeps_both() -> None:
    m = dialer(target=None)
    m.handle(DraftRestored(LEAD, "from the lead's draft", T0, header=IVAN_HEADER))
    m.handle(TextChanged("typed while unbound", T0 + 1))
    m.handle(ClientChanged(LEAD, T0 + 2, IVAN_PHONE))
    assert m.text == "from the lead's draft\n\ntyped while unbound"


# --------------------------------------------------------------------------- restored drafts


def test_a_previous_clients_restored_draft_is_saved_to_that_client_at_once() -> None:
    m = NotesMachine(header=MARIA_HEADER, target=MARIA)
    effects = m.handle(DraftRestored(IVAN, "Ivan, before the reload", T0, header=IVAN_HEADER))
    assert SetText("Ivan, before the reload") not in effects and m.text == ""
    [save] = comments(effects)
    assert save == AddComment(IVAN, compose_comment(IVAN_HEADER, "Ivan, before the reload", EN), 1)
    assert DISABLE in effects


def test_a_restored_saved_note_of_another_client_sends_nothing() -> None:
    m = NotesMachine(header=MARIA_HEADER, target=MARIA)
    effects = m.handle(DraftRestored(IVAN, "saved", T0, comment_id=4, saved=True,
                                     header=IVAN_HEADER))
    assert effects == [] and m.others == ()


def test_note_keys_round_trip_through_their_text() -> None:
    from callcard.notes import note_key_from_text

    for key in (IVAN, LEAD, Unbound(), Unbound("79001234567")):
        assert note_key_from_text(key.key) == key
    for text in ("", "none-", "none-hidden", "none-\u202e1", "deal", 5):
        assert note_key_from_text(text) is None


def test_the_same_number_written_without_its_plus_is_the_same_caller() -> None:
    m = dialer(target=None)  # the card showed +79001234567
    m.handle(TextChanged("x", T0))
    m.handle(ClientChanged(LEAD, T0 + 5, CallerNumber("number", "79001234567")))
    assert (m.target, m.text) == (LEAD, "x")
    assert dialer(target=None).client == Unbound("79001234567")
