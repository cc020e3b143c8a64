"""The call's outcome (ui-contract ``call-outcome``) in the notes machine: one click records it
in the current client's comment header, a second click on it clears it, it belongs to its
client, and it survives a reload through the draft store like the text does."""

from __future__ import annotations

from datetime import datetime

from bx24_bridge.payloads import CallDirection
from bx24_bridge.phone_numbers import CallerNumber
from bx24_bridge.values import replace
from callcard.comment import (
    CommentHeader,
    CommentTarget,
    EntityType,
    Outcome,
    SaveProblem,
    compose_comment,
    header_fields,
    header_from_fields,
    parse_outcome,
)
from callcard.i18n import Translator
from callcard.notes import (
    AddComment,
    ClientChanged,
    DraftRestored,
    NotesMachine,
    NotesState,
    OutcomeChosen,
    SaveFailed,
    SaveSucceeded,
    StoreDraft,
    TextChanged,
    Tick,
    UpdateComment,
)

T0 = 100.0
EN, RU = Translator("en"), Translator("ru")
HEADER = CommentHeader(
    CallDirection.INCOMING, CallerNumber("number", "+79001234567"), datetime(2026, 11, 24, 14, 5)
)
DEAL, CONTACT = CommentTarget(EntityType.DEAL, 17), CommentTarget(EntityType.CONTACT, 4)


def machine() -> NotesMachine:
    return NotesMachine(header=HEADER, target=DEAL, t=EN)


def saves(effects: list[object]) -> list[AddComment | UpdateComment]:
    return [e for e in effects if isinstance(e, AddComment | UpdateComment)]


def test_the_outcome_goes_into_the_header_line_in_the_portals_language() -> None:
    header = replace(HEADER, outcome=Outcome.NO_ANSWER)
    assert compose_comment(header, "", EN) == (
        "Incoming call, +79001234567, 24.11.2026 14:05. No answer")
    assert compose_comment(header, " busy ", RU).splitlines() == [
        "Входящий звонок, +79001234567, 24.11.2026 14:05. Не ответили", "", "busy"]


def test_one_click_saves_the_outcome_at_once_even_with_no_text() -> None:
    m = machine()
    out = m.handle(OutcomeChosen(Outcome.REACHED, T0))
    assert saves(out) == [AddComment(DEAL, compose_comment(
        replace(HEADER, outcome=Outcome.REACHED), "", EN), 1)]
    assert m.outcome is Outcome.REACHED and m.state is NotesState.SAVING
    m.handle(SaveSucceeded(501, T0 + 1, 1))
    assert m.state is NotesState.SAVED


def test_another_outcome_updates_the_same_comment_and_keeps_the_text() -> None:
    m = machine()
    m.handle(TextChanged("will think about it", T0))
    m.handle(OutcomeChosen(Outcome.REACHED, T0 + 1))
    m.handle(SaveSucceeded(501, T0 + 2, 1))
    out = saves(m.handle(OutcomeChosen(Outcome.CALL_BACK, T0 + 3)))
    assert out == [UpdateComment(DEAL, 501, compose_comment(
        replace(HEADER, outcome=Outcome.CALL_BACK), "will think about it", EN), 2)]


def test_pressing_the_chosen_outcome_again_clears_it() -> None:
    m = machine()
    m.handle(TextChanged("note", T0))
    m.handle(OutcomeChosen(Outcome.WRONG_NUMBER, T0))
    m.handle(SaveSucceeded(501, T0 + 1, 1))
    out = saves(m.handle(OutcomeChosen(Outcome.WRONG_NUMBER, T0 + 2)))
    assert m.outcome is None
    assert out == [UpdateComment(DEAL, 501, compose_comment(HEADER, "note", EN), 2)]


def test_an_outcome_chosen_during_a_save_is_not_lost() -> None:
    m = machine()
    m.handle(TextChanged("note", T0))
    m.handle(OutcomeChosen(Outcome.REACHED, T0))  # save 1 under way
    assert saves(m.handle(OutcomeChosen(Outcome.NO_ANSWER, T0 + 0.1))) == []  # one at a time
    m.handle(SaveSucceeded(501, T0 + 1, 1))
    assert m.state is NotesState.DRAFT  # the comment holds "reached", not "no answer"
    m.handle(OutcomeChosen(Outcome.NO_ANSWER, T0 + 2))  # clears it: nothing chosen now
    m.handle(OutcomeChosen(Outcome.NO_ANSWER, T0 + 3))
    assert m.outcome is Outcome.NO_ANSWER


def test_a_failed_save_keeps_the_outcome_for_the_next_try() -> None:
    m = machine()
    m.handle(OutcomeChosen(Outcome.CALL_BACK, T0))
    m.handle(SaveFailed(SaveProblem.TIMEOUT, T0 + 20, 1))
    assert m.state is NotesState.FAILED and m.outcome is Outcome.CALL_BACK


def test_the_outcome_is_the_clients_own_and_stays_with_it() -> None:
    m = machine()
    m.handle(OutcomeChosen(Outcome.NO_ANSWER, T0))
    m.handle(ClientChanged(CONTACT, T0 + 1))
    assert m.outcome is None  # the next client of the dialer starts without one
    out = saves(m.handle(OutcomeChosen(Outcome.REACHED, T0 + 2)))
    assert [s.target for s in out] == [CONTACT]
    assert "Reached" in out[0].comment and "No answer" not in out[0].comment


def test_the_draft_keeps_the_outcome_and_a_reload_brings_it_back() -> None:
    m = machine()
    out = m.handle(OutcomeChosen(Outcome.CALL_BACK, T0))
    out += m.handle(SaveFailed(SaveProblem.UNAVAILABLE, T0 + 1, 1))
    stored = [e for e in out + m.handle(Tick(T0 + 2)) if isinstance(e, StoreDraft)]
    assert stored and stored[-1].header is not None
    fields = header_fields(stored[-1].header)
    assert fields["outcome"] == "call-back"
    again = machine()
    again.handle(DraftRestored(DEAL, "", T0, None, False, header_from_fields(fields)))
    assert again.outcome is Outcome.CALL_BACK and again.state is NotesState.DRAFT


def test_a_saved_outcome_restored_from_the_store_is_not_saved_again() -> None:
    header = replace(HEADER, outcome=Outcome.REACHED)
    m = machine()
    m.handle(DraftRestored(DEAL, "text", T0, 501, True, header))
    assert m.state is NotesState.SAVED


def test_the_store_and_buttons_name_only_known_outcomes() -> None:
    assert parse_outcome("no-answer") is Outcome.NO_ANSWER
    for junk in ("", "NO-ANSWER", "<b>", None, 3, ["reached"]):
        assert parse_outcome(junk) is None
    assert header_from_fields({**header_fields(HEADER), "outcome": "maybe"}) == HEADER
    for outcome in Outcome:
        assert EN(f"outcome.{outcome.value}") != f"outcome.{outcome.value}"
        assert RU(f"outcome.{outcome.value}") != EN(f"outcome.{outcome.value}")


def test_after_the_call_a_click_on_an_outcome_does_not_make_the_card_vanish_under_it() -> None:
    from callcard.notes import CallEnded, DisableAutoClose, EnableAutoClose, OtherWork

    m = NotesMachine(header=HEADER, target=DEAL, t=EN, enable_grace=3.0)
    m.handle(CallEnded(T0))
    out = m.handle(OutcomeChosen(Outcome.REACHED, T0 + 1))
    assert DisableAutoClose() in out
    assert EnableAutoClose() not in m.handle(SaveSucceeded(501, T0 + 1.2, 1))
    # A call-back asked for meanwhile holds the card until it is in the CRM, then the grace.
    m.handle(OtherWork(True, T0 + 2))
    assert EnableAutoClose() not in m.handle(OtherWork(False, T0 + 2.5))
    assert EnableAutoClose() not in m.handle(Tick(T0 + 4.9))
    assert EnableAutoClose() in m.handle(Tick(T0 + 5.1))
