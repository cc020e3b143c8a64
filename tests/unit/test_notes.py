"""The notes state machine for one client, one transition at a time: drafts, saving, updating
the comment, auto-close, BeforeClose. (Several clients: test_notes_clients.py; the hold's end:
test_notes_hold.py; any sequence at all: test_notes_properties.py.)

Times are plain seconds; ``t0`` is 100 so a clock that goes backwards can be tried.
"""

from __future__ import annotations

from datetime import datetime

import pytest

from bx24_bridge.payloads import CallDirection
from bx24_bridge.phone_numbers import CallerNumber
from callcard.comment import CommentHeader, CommentTarget, EntityType, SaveProblem, compose_comment
from callcard.i18n import Translator
from callcard.notes import (
    NO_TARGET,
    AddComment,
    BeforeClose,
    CallEnded,
    CommentFound,
    DisableAutoClose,
    DraftRestored,
    EnableAutoClose,
    FindComment,
    KeepOpenChanged,
    NoteKey,
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

T0 = 100.0
EN = Translator("en")
HEADER = CommentHeader(
    CallDirection.INCOMING, CallerNumber("number", "+79001234567"), datetime(2026, 11, 24, 14, 5)
)
TARGET = CommentTarget(EntityType.DEAL, 17)
DISABLE, ENABLE, REMOVE = DisableAutoClose(), EnableAutoClose(), RemoveDraft(TARGET)
TIMEOUT = SaveProblem.TIMEOUT


def machine(**kwargs: object) -> NotesMachine:
    options: dict[str, object] = {"header": HEADER, "target": TARGET}
    options.update(kwargs)
    return NotesMachine(**options)  # type: ignore[arg-type]


def add(text: str, attempt: int = 1, target: CommentTarget = TARGET) -> AddComment:
    return AddComment(target, compose_comment(HEADER, text, EN), attempt)


def update(text: str, attempt: int, comment_id: int = 501) -> UpdateComment:
    return UpdateComment(TARGET, comment_id, compose_comment(HEADER, text, EN), attempt)


def store(
    text: str, comment_id: int | None = None, saved: bool = False, client: NoteKey = TARGET
) -> StoreDraft:
    return StoreDraft(client, text, comment_id, saved, HEADER)


def drafted(text: str = "Call back tomorrow", at: float = T0) -> NotesMachine:
    """A machine with ``text`` typed at ``at`` and its draft stored (debounce elapsed)."""
    m = machine()
    assert m.handle(TextChanged(text, at)) == [DISABLE]
    assert m.handle(Tick(at + 0.5)) == [store(text)]
    return m


def saving(text: str = "Call back tomorrow") -> NotesMachine:
    m = drafted(text)
    assert m.handle(SaveRequested(T0 + 1)) == [add(text)]
    return m


def saved(text: str = "Call back tomorrow") -> NotesMachine:
    """Saved as comment 501 (attempt 1)."""
    m = saving(text)
    assert m.handle(SaveSucceeded(501, T0 + 5, 1)) == [store(text, 501, True), ENABLE]
    return m


# --------------------------------------------------------------------------- states and enums


def test_state_values_are_the_ui_contract_strings() -> None:
    assert [s.value for s in NotesState] == ["empty", "draft", "saving", "saved", "failed"]
    assert NotesState.DRAFT == "draft"


def test_initial_state() -> None:
    m = machine()
    assert m.state is NotesState.EMPTY
    assert (m.text, m.error, m.message_key, m.others) == ("", None, None, ())
    assert (m.keep_open, m.auto_close_blocked, m.comment_id, m.target, m.client) == (
        False,
        False,
        None,
        TARGET,
        TARGET,
    )
    assert m.held_until is None
    assert m.handle(Tick(T0)) == []


def test_an_unbound_card_keys_its_note_by_the_caller() -> None:
    assert machine(target=None).client == Unbound("79001234567")
    assert machine(target=None, header=None).client == Unbound()
    assert Unbound("7900").key == "none-7900" and Unbound().key == "none"


@pytest.mark.parametrize(
    "kwargs",
    [
        {"debounce": -1},
        {"renew_every": 0},
        {"renew_every": float("nan")},
        {"enable_grace": True},
        {"hold_limit": 0},
        {"retry_every": float("inf")},
    ],
)
def test_bad_timings_are_refused(kwargs: dict[str, object]) -> None:
    with pytest.raises(ValueError):
        machine(**kwargs)


def test_unknown_event_is_a_programming_error() -> None:
    with pytest.raises(TypeError):
        machine().handle("BeforeClose")  # type: ignore[arg-type]


# --------------------------------------------------------------------------- typing and drafts


def test_typing_blocks_auto_close_and_debounces_the_draft() -> None:
    m = machine()
    assert m.handle(TextChanged("C", T0)) == [DISABLE]
    assert m.state is NotesState.DRAFT
    assert m.auto_close_blocked
    assert m.handle(TextChanged("Ca", T0 + 0.3)) == []
    assert m.handle(Tick(T0 + 0.5)) == []  # 0.2 s after the last keystroke
    assert m.handle(Tick(T0 + 0.79)) == []
    assert m.handle(Tick(T0 + 0.8)) == [store("Ca")]
    assert m.handle(Tick(T0 + 5)) == []  # stored once


def test_tick_long_after_the_keystroke_still_stores_once() -> None:
    m = machine()
    m.handle(TextChanged("abc", T0))
    assert m.handle(Tick(T0 + 30)) == [store("abc")]
    assert m.handle(Tick(T0 + 31)) == []


def test_repeated_input_event_with_same_text_changes_nothing() -> None:
    m = drafted("abc")
    assert m.handle(TextChanged("abc", T0 + 3)) == []
    assert m.handle(Tick(T0 + 10)) == []


def test_typing_back_to_the_stored_draft_needs_no_write() -> None:
    m = drafted("abc")
    m.handle(TextChanged("abcd", T0 + 2))
    m.handle(TextChanged("abc", T0 + 2.2))
    assert m.handle(Tick(T0 + 3)) == []


def test_clearing_the_text_empties_and_removes_the_draft() -> None:
    m = drafted("abc")
    assert m.handle(TextChanged("", T0 + 2)) == [REMOVE]
    assert m.state is NotesState.EMPTY


def test_whitespace_only_text_is_empty() -> None:
    m = drafted("abc")
    assert m.handle(TextChanged(" \n\t ", T0 + 2)) == [REMOVE]
    assert m.state is NotesState.EMPTY
    assert m.text == " \n\t "


def test_whitespace_typed_into_an_empty_card_does_nothing() -> None:
    m = machine()
    assert m.handle(TextChanged("   ", T0)) == []
    assert m.handle(Tick(T0 + 1)) == []
    assert not m.auto_close_blocked


def test_clearing_before_the_draft_was_written_removes_nothing() -> None:
    m = machine()
    m.handle(TextChanged("a", T0))
    assert m.handle(TextChanged("", T0 + 0.1)) == []
    assert m.handle(Tick(T0 + 1)) == []


def test_enable_waits_for_the_operator_to_stop_typing() -> None:
    """Clearing the box to start over must not close the card at once (enable_grace = 3 s)."""
    m = drafted("abc")
    assert m.handle(TextChanged("", T0 + 10)) == [REMOVE]
    assert m.auto_close_blocked
    assert m.handle(Tick(T0 + 12.9)) == []
    assert m.handle(Tick(T0 + 13)) == [ENABLE]
    assert not m.auto_close_blocked
    assert m.handle(Tick(T0 + 60)) == []


def test_typing_again_within_the_grace_keeps_the_block_without_a_new_command() -> None:
    m = drafted("abc")
    m.handle(TextChanged("", T0 + 10))
    assert m.handle(TextChanged("new", T0 + 11)) == []
    assert m.auto_close_blocked
    assert m.handle(Tick(T0 + 11.5)) == [store("new")]


def test_clock_going_backwards_does_not_postpone_the_draft() -> None:
    m = machine()
    m.handle(TextChanged("abc", T0))
    assert m.handle(Tick(T0 - 50)) == [store("abc"), DISABLE]


# --------------------------------------------------------------------------- saving


def test_save_success_remembers_the_comment() -> None:
    m = drafted("abc")
    assert m.handle(SaveRequested(T0 + 1)) == [add("abc")]
    assert m.state is NotesState.SAVING
    # The store keeps the saved text with its comment id: a reload updates that comment.
    assert m.handle(SaveSucceeded(501, T0 + 5, 1)) == [store("abc", 501, True), ENABLE]
    assert m.state is NotesState.SAVED
    assert (m.comment_id, m.auto_close_blocked) == (501, False)


def test_save_request_flushes_a_pending_draft_first() -> None:
    m = machine()
    m.handle(TextChanged("abc", T0))
    assert m.handle(SaveRequested(T0 + 0.1)) == [store("abc"), add("abc")]


def test_a_comment_without_an_id_leaves_nothing_to_store() -> None:
    m = machine()
    m.handle(TextChanged("abc", T0))
    m.handle(SaveRequested(T0 + 0.1))
    assert m.handle(SaveSucceeded(None, T0 + 1, 1)) == [REMOVE]
    assert m.state is NotesState.SAVED
    assert m.handle(Tick(T0 + 3)) == [ENABLE]  # after the grace since typing
    # Without an id nothing can be updated: more text is a new comment, never the same again.
    assert m.handle(TextChanged("abc, more", T0 + 10)) == [DISABLE]
    assert m.handle(SaveRequested(T0 + 11)) == [store("abc, more"), add("abc, more", 2)]
    m.handle(SaveSucceeded(None, T0 + 12, 2))
    m.handle(TextChanged("abc", T0 + 13))
    assert m.state is NotesState.SAVED


def test_save_failure_then_retry() -> None:
    m = saving("abc")
    assert m.handle(SaveFailed(SaveProblem.UNAVAILABLE, T0 + 5, 1)) == [DISABLE]
    assert m.state is NotesState.FAILED
    assert m.error is SaveProblem.UNAVAILABLE
    assert m.auto_close_blocked
    assert m.handle(SaveRequested(T0 + 6)) == [add("abc", attempt=2)]
    assert (m.state, m.error) == (NotesState.SAVING, None)
    assert m.handle(SaveSucceeded(7, T0 + 7, 2)) == [store("abc", 7, True), ENABLE]
    assert m.state is NotesState.SAVED


def test_a_failed_current_note_is_not_retried_behind_the_operators_back() -> None:
    m = saving("abc")
    m.handle(SaveFailed(TIMEOUT, T0 + 5, 1))
    assert [m.handle(Tick(T0 + s)) for s in (45, 85)] == [[DISABLE], [DISABLE]]


def test_failure_stores_the_draft_if_it_was_not_yet_stored() -> None:
    m = machine()
    m.handle(TextChanged("abc", T0))
    m.handle(BeforeClose(T0 + 0.1))  # flushes
    m.handle(TextChanged("abc!", T0 + 0.2))
    # (and that the add of "abc" may be in the CRM: a reload looks for it before adding)
    lost = compose_comment(HEADER, "abc", EN)
    assert m.handle(SaveFailed(TIMEOUT, T0 + 0.3, 1)) == [
        StoreDraft(TARGET, "abc!", None, False, HEADER, lost), DISABLE]


def test_every_attempt_has_a_number_of_its_own() -> None:
    m = saving("abc")
    for attempt in (2, 3):
        m.handle(SaveFailed(SaveProblem.UNAVAILABLE, T0 + attempt, attempt - 1))
        assert m.handle(SaveRequested(T0 + attempt)) == [add("abc", attempt)]
    m.handle(SaveSucceeded(501, T0 + 10, 3))
    assert m.handle(TextChanged("more", T0 + 20)) == [DISABLE]
    assert m.handle(SaveRequested(T0 + 21)) == [store("more", 501), update("more", 4)]


def test_double_save_request_sends_one_comment() -> None:
    m = saving("abc")
    assert m.handle(SaveRequested(T0 + 1.1)) == []
    assert m.state is NotesState.SAVING


def test_save_request_with_nothing_to_save_does_nothing() -> None:
    assert machine().handle(SaveRequested(T0)) == []
    m = saved("abc")
    assert m.handle(SaveRequested(T0 + 10)) == []
    assert m.state is NotesState.SAVED


def test_stale_answers_are_ignored() -> None:
    m = saved("abc")
    assert m.handle(SaveSucceeded(1, T0 + 10, 1)) == []
    assert m.handle(SaveFailed(TIMEOUT, T0 + 11, 1)) == []
    assert m.handle(SaveSucceeded(1, T0 + 10, 99)) == []
    assert m.state is NotesState.SAVED


def test_answer_to_an_older_attempt_is_ignored() -> None:
    m = saving("abc")
    m.handle(SaveFailed(TIMEOUT, T0 + 2, 1))
    m.handle(SaveRequested(T0 + 3))  # attempt 2
    assert m.handle(SaveFailed(TIMEOUT, T0 + 4, 1)) == []
    assert m.state is NotesState.SAVING
    assert m.handle(SaveRequested(T0 + 5)) == []  # still no second save in flight
    assert m.handle(SaveSucceeded(9, T0 + 6, 2)) == [store("abc", 9, True), ENABLE]


def test_typing_back_to_the_saved_text_is_saved_again() -> None:
    m = saved("abc")
    assert m.handle(TextChanged("abcd", T0 + 10)) == [DISABLE]
    assert m.state is NotesState.DRAFT
    assert m.handle(TextChanged("abc", T0 + 10.2)) == []
    assert m.state is NotesState.SAVED
    assert m.handle(SaveRequested(T0 + 10.3)) == []
    assert m.handle(Tick(T0 + 13.2)) == [ENABLE]


def test_trailing_whitespace_does_not_make_a_saved_note_unsaved() -> None:
    m = saved("abc")
    assert m.handle(TextChanged("abc\n", T0 + 10)) == []
    assert m.state is NotesState.SAVED


def test_typing_after_a_failure_is_a_draft_again() -> None:
    m = saving("abc")
    m.handle(SaveFailed(SaveProblem.NO_ACCESS, T0 + 2, 1))
    assert m.handle(TextChanged("abc, fixed", T0 + 3)) == []
    assert (m.state, m.error) == (NotesState.DRAFT, None)


# --------------------------------------------------------------------------- one comment per client


def test_a_re_save_updates_the_comment_instead_of_adding_one() -> None:
    m = saved("line 1")
    assert m.handle(TextChanged("line 1\nline 2", T0 + 10)) == [DISABLE]
    assert m.handle(SaveRequested(T0 + 11)) == [store("line 1\nline 2", 501),
                                                 update("line 1\nline 2", 2)]
    assert m.handle(SaveSucceeded(501, T0 + 12, 2)) == [store("line 1\nline 2", 501, True)]
    m.handle(TextChanged("line 1\nline 2\nline 3", T0 + 20))
    effects = m.handle(SaveRequested(T0 + 21))
    assert [type(e) for e in effects] == [StoreDraft, UpdateComment]
    assert not [e for e in effects if isinstance(e, AddComment)]


def test_the_comment_keeps_its_id_whatever_the_update_answers() -> None:
    m = saved("abc")
    m.handle(TextChanged("abcd", T0 + 10))
    m.handle(SaveRequested(T0 + 11))
    m.handle(SaveSucceeded(None, T0 + 12, 2))  # an update may answer anything
    assert m.comment_id == 501


def test_an_older_text_typed_again_replaces_the_comment_text() -> None:
    """The comment mirrors the textarea: it holds the latest saved text only."""
    m = saved("first")
    m.handle(TextChanged("second", T0 + 10))
    m.handle(SaveRequested(T0 + 11))
    m.handle(SaveSucceeded(501, T0 + 12, 2))
    m.handle(TextChanged("first", T0 + 20))
    assert m.state is NotesState.DRAFT
    assert update("first", 3) in m.handle(SaveRequested(T0 + 21))


def test_a_comment_deleted_in_the_crm_is_added_again_at_once() -> None:
    m = saved("abc")
    m.handle(TextChanged("abc, more", T0 + 10))
    m.handle(SaveRequested(T0 + 11))
    effects = m.handle(SaveFailed(SaveProblem.COMMENT_GONE, T0 + 12, 2))
    assert effects == [store("abc, more"), DISABLE, add("abc, more", 3)]
    assert m.state is NotesState.SAVING and m.comment_id is None
    assert m.handle(SaveSucceeded(777, T0 + 13, 3))[0] == store("abc, more", 777, True)
    assert m.comment_id == 777


def test_comment_gone_on_an_add_means_the_item_is_gone() -> None:
    m = saving("abc")
    assert m.handle(SaveFailed(SaveProblem.COMMENT_GONE, T0 + 2, 1)) == [DISABLE]
    assert m.error is SaveProblem.ITEM_GONE


def test_clearing_a_saved_note_keeps_the_comment_id_for_the_next_save() -> None:
    m = saved("abc")
    assert m.handle(TextChanged("", T0 + 10)) == []
    assert m.handle(Tick(T0 + 11)) == [store("", 501)]
    m.handle(TextChanged("new text", T0 + 20))
    assert update("new text", 2) in m.handle(SaveRequested(T0 + 21))


# --------------------------------------------------------------------------- typing during a save


def test_typing_during_a_save_keeps_the_newer_text_as_a_draft() -> None:
    m = saving("abc")
    assert m.handle(TextChanged("abc and more", T0 + 2)) == []
    assert m.state is NotesState.SAVING
    assert m.handle(Tick(T0 + 2.5)) == [store("abc and more")]
    assert m.handle(SaveSucceeded(501, T0 + 3, 1)) == [store("abc and more", 501)]
    assert m.state is NotesState.DRAFT
    assert m.text == "abc and more"
    assert m.auto_close_blocked
    assert m.handle(SaveRequested(T0 + 4)) == [update("abc and more", 2)]


def test_typing_back_to_the_sent_text_during_a_save_ends_saved() -> None:
    m = saving("abc")
    m.handle(TextChanged("abcd", T0 + 2))
    m.handle(TextChanged("abc", T0 + 2.1))
    assert m.handle(SaveSucceeded(501, T0 + 2.2, 1)) == [store("abc", 501, True)]
    assert m.state is NotesState.SAVED


def test_text_cleared_during_a_save_is_brought_back_if_the_save_fails() -> None:
    m = saving("abc")
    assert m.handle(TextChanged("", T0 + 2)) == []
    assert m.state is NotesState.SAVING
    assert m.handle(Tick(T0 + 3)) == []  # the draft keeps "abc" while it is in flight
    lost = compose_comment(HEADER, "abc", EN)
    assert m.handle(SaveFailed(TIMEOUT, T0 + 4, 1)) == [
        SetText("abc"), StoreDraft(TARGET, "abc", None, False, HEADER, lost), DISABLE]
    assert (m.state, m.text) == (NotesState.FAILED, "abc")


def test_text_cleared_during_a_save_ends_empty_if_the_save_succeeds() -> None:
    m = saving("abc")
    m.handle(TextChanged("", T0 + 2))
    assert m.handle(SaveSucceeded(501, T0 + 3, 1)) == [store("", 501)]
    assert m.state is NotesState.EMPTY
    assert m.handle(Tick(T0 + 5)) == [ENABLE]


def test_text_replaced_during_a_failed_save_keeps_both_notes() -> None:
    m = saving("first note")
    m.handle(TextChanged("second", T0 + 2))
    assert m.handle(Tick(T0 + 3)) == [store("first note\n\nsecond")]
    assert m.handle(SaveFailed(SaveProblem.UNAVAILABLE, T0 + 4, 1)) == [
        SetText("first note\n\nsecond"), DISABLE]
    assert m.state is NotesState.FAILED
    assert m.handle(SaveRequested(T0 + 5)) == [add("first note\n\nsecond", 2)]


# --------------------------------------------------------------------------- no target


def test_no_target_keeps_the_draft_and_says_so() -> None:
    m = machine(target=None)
    unbound = Unbound("79001234567")
    m.handle(TextChanged("abc", T0))
    assert m.handle(SaveRequested(T0 + 0.1)) == [store("abc", client=unbound)]
    assert (m.state, m.message_key) == (NotesState.DRAFT, NO_TARGET)
    assert m.auto_close_blocked
    assert m.handle(BeforeClose(T0 + 1)) == [DISABLE]  # kept open, nothing sent
    assert m.message_key == NO_TARGET


def test_message_is_hidden_once_the_text_is_cleared() -> None:
    m = machine(target=None)
    m.handle(TextChanged("abc", T0))
    m.handle(SaveRequested(T0 + 0.1))
    m.handle(TextChanged("", T0 + 1))
    assert m.message_key is None


# --------------------------------------------------------------------------- BeforeClose


def test_before_close_saves_unsaved_notes_and_keeps_the_card_open() -> None:
    m = drafted("abc")
    assert m.handle(BeforeClose(T0 + 10)) == [DISABLE, add("abc")]
    assert m.state is NotesState.SAVING


def test_before_close_flushes_the_debounced_draft_first() -> None:
    m = machine()
    m.handle(TextChanged("abc", T0))
    assert m.handle(BeforeClose(T0 + 0.1)) == [store("abc"), DISABLE, add("abc")]


def test_before_close_twice_after_a_success_does_nothing() -> None:
    m = drafted("abc")
    m.handle(BeforeClose(T0 + 10))
    assert m.handle(SaveSucceeded(1, T0 + 11, 1)) == [store("abc", 1, True), ENABLE]
    assert m.handle(BeforeClose(T0 + 12)) == []
    assert m.handle(BeforeClose(T0 + 70)) == []


def test_before_close_during_a_save_sends_nothing_new() -> None:
    m = saving("abc")
    # The block is re-asserted (host counts from now); the comment is not sent again.
    assert m.handle(BeforeClose(T0 + 2)) == [DISABLE]
    assert m.handle(BeforeClose(T0 + 3)) == [DISABLE]
    assert m.handle(SaveSucceeded(1, T0 + 4, 1)) == [store("abc", 1, True), ENABLE]


def test_before_close_then_failure_then_second_before_close_retries_once() -> None:
    """Decision: every BeforeClose that finds unsaved text and no save in flight starts one save.
    After a failure the host's second BeforeClose therefore retries once; there is no retry loop."""
    m = drafted("abc")
    assert m.handle(BeforeClose(T0 + 10)) == [DISABLE, add("abc", 1)]
    assert m.handle(SaveFailed(SaveProblem.UNAVAILABLE, T0 + 40, 1)) == [DISABLE]
    assert m.state is NotesState.FAILED
    assert m.handle(Tick(T0 + 60)) == []
    assert m.handle(BeforeClose(T0 + 75)) == [DISABLE, add("abc", 2)]
    assert m.handle(BeforeClose(T0 + 76)) == [DISABLE]  # in flight: no third send
    assert m.handle(SaveSucceeded(3, T0 + 77, 2)) == [store("abc", 3, True), ENABLE]
    assert m.handle(BeforeClose(T0 + 78)) == []


def test_failure_after_before_close_keeps_renewing() -> None:
    m = drafted("abc")
    m.handle(BeforeClose(T0 + 10))
    m.handle(SaveFailed(TIMEOUT, T0 + 20, 1))  # renewed at +20
    assert m.handle(Tick(T0 + 59.9)) == []
    assert m.handle(Tick(T0 + 60)) == [DISABLE]
    assert m.handle(Tick(T0 + 100)) == [DISABLE]
    assert m.auto_close_blocked


def test_before_close_with_nothing_pending() -> None:
    m = machine()
    assert m.handle(BeforeClose(T0)) == []  # never blocked: nothing to lift
    assert not m.auto_close_blocked


def test_before_close_lifts_a_block_we_no_longer_need() -> None:
    m = drafted("abc", at=T0)
    m.handle(TextChanged("", T0 + 1))  # blocked, waiting out the grace
    assert m.handle(BeforeClose(T0 + 5)) == [ENABLE]


def test_before_close_with_keep_open_keeps_the_card_open() -> None:
    m = machine()
    m.handle(KeepOpenChanged(True, T0))
    assert m.handle(BeforeClose(T0 + 5)) == [DISABLE]
    assert m.auto_close_blocked


# --------------------------------------------------------------------------- auto-close renewals


def test_keep_open_renews_every_40_seconds_and_releases_once() -> None:
    m = machine()
    assert m.handle(KeepOpenChanged(True, 0.0)) == [DISABLE]
    emitted = [now for now in range(1, 130) if m.handle(Tick(float(now))) == [DISABLE]]
    assert emitted == [40, 80, 120]
    assert m.handle(KeepOpenChanged(False, 130.0)) == [ENABLE]
    assert m.handle(KeepOpenChanged(False, 131.0)) == []
    assert [m.handle(Tick(float(now))) for now in range(132, 300, 10)] == [[]] * 17


def test_renewals_follow_the_tick_times_when_ticks_are_sparse() -> None:
    m = machine()
    m.handle(KeepOpenChanged(True, 0.0))
    emitted = [now for now in range(15, 200, 15) if m.handle(Tick(float(now))) == [DISABLE]]
    assert emitted == [45, 90, 135, 180]


def test_unsaved_notes_renew_the_block_every_40_seconds() -> None:
    m = machine()
    m.handle(TextChanged("abc", 0.0))
    effects = {now: m.handle(Tick(float(now))) for now in range(1, 125)}
    assert {now: e for now, e in effects.items() if e} == {
        1: [store("abc")],
        40: [DISABLE],
        80: [DISABLE],
        120: [DISABLE],
    }


def test_custom_renewal_interval() -> None:
    m = machine(renew_every=20.0)
    m.handle(KeepOpenChanged(True, 0.0))
    assert [now for now in range(1, 61) if m.handle(Tick(float(now)))] == [20, 40, 60]


def test_renewal_is_due_at_once_when_the_clock_goes_backwards() -> None:
    m = machine()
    m.handle(KeepOpenChanged(True, T0))
    assert m.handle(Tick(T0 - 1)) == [DISABLE]


def test_keep_open_while_notes_are_unsaved_does_not_send_a_second_block() -> None:
    m = drafted("abc")
    assert m.handle(KeepOpenChanged(True, T0 + 1)) == []
    assert m.keep_open
    assert m.handle(KeepOpenChanged(False, T0 + 2)) == []  # notes still unsaved
    assert m.auto_close_blocked


def test_keep_open_survives_a_successful_save() -> None:
    m = saving("abc")
    m.handle(KeepOpenChanged(True, T0 + 2))
    assert m.handle(SaveSucceeded(1, T0 + 3, 1)) == [store("abc", 1, True)]
    assert m.auto_close_blocked
    assert m.handle(KeepOpenChanged(False, T0 + 4)) == [ENABLE]


def test_enable_is_only_sent_after_a_disable() -> None:
    m = machine()
    events = [
        KeepOpenChanged(False, T0),
        TextChanged("", T0),
        Tick(T0 + 10),
        BeforeClose(T0 + 11),
        CallEnded(T0 + 12),
        SaveSucceeded(1, T0 + 13, 1),
    ]
    assert [m.handle(e) for e in events] == [[]] * len(events)


def test_call_end_flushes_the_draft_and_renews_the_block() -> None:
    m = machine()
    m.handle(TextChanged("abc", T0))
    assert m.handle(CallEnded(T0 + 0.1)) == [store("abc"), DISABLE]
    assert m.handle(Tick(T0 + 40)) == []
    assert m.handle(Tick(T0 + 40.1)) == [DISABLE]


def test_call_end_does_not_save_by_itself() -> None:
    """The operator often writes the summary just after hanging up: saving happens on
    BeforeClose or on request, not when the call ends."""
    m = drafted("abc")
    assert m.handle(CallEnded(T0 + 5)) == [DISABLE]
    assert m.state is NotesState.DRAFT


def test_call_end_with_nothing_unsaved_does_nothing() -> None:
    assert machine().handle(CallEnded(T0)) == []
    m = saved("abc")
    assert m.handle(CallEnded(T0 + 20)) == []


# --------------------------------------------------------------------------- restored drafts


def test_restored_draft_is_a_draft_and_blocks_auto_close() -> None:
    m = machine()
    assert m.handle(DraftRestored(TARGET, "from before the reload", T0, header=HEADER)) == [
        SetText("from before the reload"),
        DISABLE,
    ]
    assert (m.state, m.text, m.auto_close_blocked) == (
        NotesState.DRAFT,
        "from before the reload",
        True,
    )
    assert m.handle(Tick(T0 + 5)) == []  # already in the store
    assert m.handle(SaveRequested(T0 + 6)) == [add("from before the reload")]


def test_restored_saved_note_is_saved_and_its_next_save_updates() -> None:
    m = machine()
    restored = DraftRestored(TARGET, "said before", T0, comment_id=42, saved=True, header=HEADER)
    assert m.handle(restored) == [SetText("said before")]
    assert (m.state, m.comment_id, m.auto_close_blocked) == (NotesState.SAVED, 42, False)
    m.handle(TextChanged("said before, and more", T0 + 1))
    assert UpdateComment(TARGET, 42, compose_comment(HEADER, "said before, and more", EN), 1) in (
        m.handle(SaveRequested(T0 + 2))
    )


def test_restored_draft_does_not_overwrite_text_typed_meanwhile() -> None:
    m = machine()
    m.handle(TextChanged("typed", T0))
    assert m.handle(DraftRestored(TARGET, "restored", T0 + 0.1, header=HEADER)) == [
        SetText("restored\n\ntyped"),
        store("restored\n\ntyped"),
    ]


def test_restored_draft_already_contained_in_the_text() -> None:
    m = machine()
    m.handle(TextChanged("restored and more", T0))
    assert m.handle(DraftRestored(TARGET, "restored", T0 + 0.1, header=HEADER)) == [
        store("restored and more")
    ]


def test_blank_restored_draft_is_removed() -> None:
    m = machine()
    assert m.handle(DraftRestored(TARGET, "  ", T0)) == [REMOVE]
    assert m.state is NotesState.EMPTY
    assert not m.auto_close_blocked


# --------------------------------------------------------------------------- effect order


def test_effects_come_out_safe_first() -> None:
    m = machine()
    m.handle(TextChanged("abc", T0))
    effects = m.handle(BeforeClose(T0 + 0.1))
    assert [type(e) for e in effects] == [StoreDraft, DisableAutoClose, AddComment]


def test_machine_uses_the_given_translator() -> None:
    m = machine(t=Translator("ru"))
    m.handle(TextChanged("Перезвонить", T0))
    (effect,) = [e for e in m.handle(SaveRequested(T0 + 1)) if isinstance(e, AddComment)]
    assert effect.comment.startswith("Входящий звонок, +79001234567, 24.11.2026 14:05\n\n")


def test_machine_without_header_sends_the_text_only() -> None:
    m = machine(header=None)
    m.handle(TextChanged(" note ", T0))
    assert AddComment(TARGET, "note", 1) in m.handle(SaveRequested(T0 + 1))


# --------------------------------------------------------------------------- a lost answer


def test_an_add_whose_answer_was_lost_is_looked_up_and_not_added_twice() -> None:
    m = saving("abc")
    m.handle(SaveFailed(TIMEOUT, T0 + 20, 1))  # the portal may have made the comment
    [find] = [e for e in m.handle(SaveRequested(T0 + 21)) if isinstance(e, FindComment)]
    assert find == FindComment(TARGET, compose_comment(HEADER, "abc", EN), 2)
    assert m.state is NotesState.SAVING
    assert m.handle(CommentFound(501, T0 + 22, 2)) == [store("abc", 501, True), ENABLE]
    assert m.state is NotesState.SAVED and m.comment_id == 501
    # Later saves update that comment.
    m.handle(TextChanged("abc, more", T0 + 30))
    assert m.handle(SaveRequested(T0 + 31))[-1] == update("abc, more", 3, 501)


def test_text_written_while_looking_goes_into_the_found_comment() -> None:
    m = saving("abc")
    m.handle(SaveFailed(TIMEOUT, T0 + 20, 1))
    m.handle(SaveRequested(T0 + 21))
    m.handle(TextChanged("abc and more", T0 + 21.5))
    out = m.handle(CommentFound(501, T0 + 22, 2))
    assert update("abc and more", 3, 501) in out


def test_a_lost_add_that_never_arrived_is_added_and_a_failed_look_is_tried_again() -> None:
    m = saving("abc")
    m.handle(SaveFailed(TIMEOUT, T0 + 20, 1))
    m.handle(SaveRequested(T0 + 21))
    m.handle(SaveFailed(TIMEOUT, T0 + 41, 2))  # the look itself got no answer
    [again] = [e for e in m.handle(SaveRequested(T0 + 42)) if isinstance(e, FindComment)]
    assert again.attempt == 3
    assert add("abc", 4) in m.handle(CommentFound(None, T0 + 43, 3))


def test_a_portal_error_is_no_lost_answer() -> None:
    """An error answer says the comment was not made: the next save adds at once."""
    m = saving("abc")
    m.handle(SaveFailed(SaveProblem.UNAVAILABLE, T0 + 20, 1))
    assert m.handle(SaveRequested(T0 + 21)) == [add("abc", 2)]


def test_the_look_reads_the_newest_comments_and_matches_the_text_as_stored() -> None:
    from callcard.comment import comment_with_text, list_params

    assert list_params(TARGET) == {"filter": {"ENTITY_ID": 17, "ENTITY_TYPE": "deal"},
                                   "select": ["ID", "COMMENT"], "order": {"ID": "DESC"}}
    rows = [{"ID": "9", "COMMENT": "other"}, {"ID": "8", "COMMENT": " line\r\n\r\nbody "},
            {"ID": "x", "COMMENT": "line\n\nbody"}, None, "junk"]
    assert comment_with_text(rows, "line\n\nbody") == 8
    for junk in (None, {}, "x", [{"ID": 3}]):
        assert comment_with_text(junk, "line") is None


def test_a_reload_after_a_lost_answer_looks_for_the_comment_before_adding() -> None:
    lost = compose_comment(HEADER, "abc", EN)
    m = machine()
    m.handle(DraftRestored(TARGET, "abc", T0, None, False, HEADER, lost))
    [find] = [e for e in m.handle(SaveRequested(T0 + 1)) if isinstance(e, FindComment)]
    assert find.comment == lost
    out = m.handle(CommentFound(501, T0 + 2, find.attempt))
    assert not [e for e in out if isinstance(e, UpdateComment)], "it holds this very text"
    assert m.state is NotesState.SAVED and m.comment_id == 501
    # The note was edited after that add: the comment found is updated with the new text.
    edited = machine()
    edited.handle(DraftRestored(TARGET, "abc, later", T0, None, False, HEADER, lost))
    [find] = [e for e in edited.handle(SaveRequested(T0 + 1)) if isinstance(e, FindComment)]
    out = edited.handle(CommentFound(501, T0 + 2, find.attempt))
    assert update("abc, later", find.attempt + 1, 501) in out
