"""The notes state machine, one transition at a time: drafts, saving, auto-close, BeforeClose.

Times are plain seconds; ``t0`` is 100 so a clock that goes backwards can be tried.
"""

from __future__ import annotations

from datetime import datetime

import pytest

from bx24_bridge.payloads import (
    HIDDEN_NUMBER,
    UNKNOWN_NUMBER,
    CallDirection,
    CallerNumber,
    CallStatus,
    CrmRef,
    EntityType,
)
from callcard.i18n import Translator
from callcard.notes import (
    MAX_ERROR_LEN,
    MAX_NOTE_LEN,
    NO_TARGET,
    AddComment,
    BeforeClose,
    CallEnded,
    CommentHeader,
    CommentTarget,
    DisableAutoClose,
    DraftRestored,
    EnableAutoClose,
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
    choose_target,
    compose_comment,
)

T0 = 100.0
EN = Translator("en")
HEADER = CommentHeader(
    CallDirection.INCOMING, CallerNumber("number", "+79001234567"), datetime(2026, 11, 24, 14, 5)
)
TARGET = CommentTarget(EntityType.DEAL, 17)
OTHER = CommentTarget(EntityType.CONTACT, 5)
DISABLE, ENABLE, REMOVE = DisableAutoClose(), EnableAutoClose(), RemoveDraft()


def machine(**kwargs: object) -> NotesMachine:
    options: dict[str, object] = {"header": HEADER, "target": TARGET}
    options.update(kwargs)
    return NotesMachine(**options)  # type: ignore[arg-type]


def add(text: str, attempt: int = 1, target: CommentTarget = TARGET) -> AddComment:
    return AddComment(target, compose_comment(HEADER, text, EN), attempt)


def drafted(text: str = "Call back tomorrow", at: float = T0) -> NotesMachine:
    """A machine with ``text`` typed at ``at`` and its draft stored (debounce elapsed)."""
    m = machine()
    assert m.handle(TextChanged(text, at)) == [DISABLE]
    assert m.handle(Tick(at + 0.5)) == [StoreDraft(text)]
    return m


def saving(text: str = "Call back tomorrow") -> NotesMachine:
    m = drafted(text)
    assert m.handle(SaveRequested(T0 + 1)) == [add(text)]
    return m


def saved(text: str = "Call back tomorrow") -> NotesMachine:
    m = saving(text)
    assert m.handle(SaveSucceeded(501, T0 + 5)) == [REMOVE, ENABLE]
    return m


# --------------------------------------------------------------------------- states and enums


def test_state_values_are_the_ui_contract_strings() -> None:
    assert [s.value for s in NotesState] == ["empty", "draft", "saving", "saved", "failed"]
    assert NotesState.DRAFT == "draft"


def test_initial_state() -> None:
    m = machine()
    assert m.state is NotesState.EMPTY
    assert (m.text, m.saved_text, m.error, m.message_key) == ("", "", None, None)
    assert (m.keep_open, m.auto_close_blocked, m.comment_id, m.target) == (
        False,
        False,
        None,
        TARGET,
    )
    assert m.handle(Tick(T0)) == []


@pytest.mark.parametrize(
    "kwargs",
    [{"debounce": -1}, {"renew_every": 0}, {"renew_every": float("nan")}, {"enable_grace": True}],
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
    assert m.handle(Tick(T0 + 0.8)) == [StoreDraft("Ca")]
    assert m.handle(Tick(T0 + 5)) == []  # stored once


def test_tick_long_after_the_keystroke_still_stores_once() -> None:
    m = machine()
    m.handle(TextChanged("abc", T0))
    assert m.handle(Tick(T0 + 30)) == [StoreDraft("abc")]
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
    assert m.handle(Tick(T0 + 11.5)) == [StoreDraft("new")]


def test_clock_going_backwards_does_not_postpone_the_draft() -> None:
    m = machine()
    m.handle(TextChanged("abc", T0))
    assert m.handle(Tick(T0 - 50)) == [StoreDraft("abc"), DISABLE]


# --------------------------------------------------------------------------- saving


def test_save_success() -> None:
    m = drafted("abc")
    assert m.handle(SaveRequested(T0 + 1)) == [add("abc")]
    assert m.state is NotesState.SAVING
    assert m.handle(SaveSucceeded(501, T0 + 5)) == [REMOVE, ENABLE]
    assert m.state is NotesState.SAVED
    assert (m.saved_text, m.comment_id, m.auto_close_blocked) == ("abc", 501, False)


def test_save_request_flushes_a_pending_draft_first() -> None:
    m = machine()
    m.handle(TextChanged("abc", T0))
    assert m.handle(SaveRequested(T0 + 0.1)) == [StoreDraft("abc"), add("abc")]


def test_enable_after_success_waits_out_the_grace_after_typing() -> None:
    m = machine()
    m.handle(TextChanged("abc", T0))
    m.handle(SaveRequested(T0 + 0.1))
    assert m.handle(SaveSucceeded(None, T0 + 1)) == [REMOVE]
    assert m.state is NotesState.SAVED
    assert m.handle(Tick(T0 + 3)) == [ENABLE]


def test_save_failure_then_retry() -> None:
    m = saving("abc")
    assert m.handle(SaveFailed("  NETWORK\nerror ", T0 + 5)) == [DISABLE]
    assert m.state is NotesState.FAILED
    assert m.error == "NETWORK error"
    assert m.auto_close_blocked
    assert m.handle(SaveRequested(T0 + 6)) == [add("abc", attempt=2)]
    assert (m.state, m.error) == (NotesState.SAVING, None)
    assert m.handle(SaveSucceeded(7, T0 + 7)) == [REMOVE, ENABLE]
    assert m.state is NotesState.SAVED


def test_failure_stores_the_draft_if_it_was_not_yet_stored() -> None:
    m = machine()
    m.handle(TextChanged("abc", T0))
    m.handle(BeforeClose(T0 + 0.1))  # flushes
    m.handle(TextChanged("abc!", T0 + 0.2))
    assert m.handle(SaveFailed("timeout", T0 + 0.3)) == [StoreDraft("abc!"), DISABLE]


def test_attempts_keep_counting_until_a_success() -> None:
    m = saving("abc")
    for attempt in (2, 3):
        m.handle(SaveFailed("x", T0 + attempt))
        assert m.handle(SaveRequested(T0 + attempt)) == [add("abc", attempt)]
    m.handle(SaveSucceeded(1, T0 + 10))
    m.handle(TextChanged("more", T0 + 20))
    assert m.handle(SaveRequested(T0 + 21)) == [StoreDraft("more"), add("more", 1)]


def test_empty_reason_still_reports_an_error_and_long_one_is_capped() -> None:
    m = saving()
    m.handle(SaveFailed("", T0 + 2))
    assert m.error == "error"
    m.handle(SaveRequested(T0 + 3))
    m.handle(SaveFailed("x" * 5000, T0 + 4))
    assert m.error is not None
    assert len(m.error) == MAX_ERROR_LEN


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
    assert m.handle(SaveSucceeded(1, T0 + 10)) == []
    assert m.handle(SaveFailed("late", T0 + 11)) == []
    assert m.state is NotesState.SAVED


def test_answer_to_an_older_attempt_is_ignored() -> None:
    m = saving("abc")
    m.handle(SaveFailed("timeout", T0 + 2, attempt=1))
    m.handle(SaveRequested(T0 + 3))  # attempt 2
    assert m.handle(SaveFailed("late answer of attempt 1", T0 + 4, attempt=1)) == []
    assert m.state is NotesState.SAVING
    assert m.handle(SaveRequested(T0 + 5)) == []  # still no second save in flight
    assert m.handle(SaveSucceeded(9, T0 + 6, attempt=2)) == [REMOVE, ENABLE]


def test_saved_text_is_not_sent_again_after_typing_back_to_it() -> None:
    m = saved("abc")
    assert m.handle(TextChanged("abcd", T0 + 10)) == [DISABLE]
    assert m.state is NotesState.DRAFT
    assert m.handle(TextChanged("abc", T0 + 10.2)) == []
    assert m.state is NotesState.SAVED
    assert m.handle(SaveRequested(T0 + 10.3)) == []
    assert m.handle(Tick(T0 + 13.2)) == [ENABLE]


def test_an_older_saved_text_is_not_saved_twice_either() -> None:
    m = saved("first")
    m.handle(TextChanged("second", T0 + 10))
    m.handle(SaveRequested(T0 + 11))
    m.handle(SaveSucceeded(2, T0 + 12))
    m.handle(TextChanged("first", T0 + 20))
    assert m.state is NotesState.SAVED
    assert m.handle(SaveRequested(T0 + 21)) == []


def test_trailing_whitespace_does_not_make_a_saved_note_unsaved() -> None:
    m = saved("abc")
    assert m.handle(TextChanged("abc\n", T0 + 10)) == []
    assert m.state is NotesState.SAVED


def test_typing_after_a_failure_is_a_draft_again() -> None:
    m = saving("abc")
    m.handle(SaveFailed("boom", T0 + 2))
    assert m.handle(TextChanged("abc, fixed", T0 + 3)) == []
    assert (m.state, m.error) == (NotesState.DRAFT, None)


# --------------------------------------------------------------------------- typing during a save


def test_typing_during_a_save_keeps_the_newer_text_as_a_draft() -> None:
    m = saving("abc")
    assert m.handle(TextChanged("abc and more", T0 + 2)) == []
    assert m.state is NotesState.SAVING
    assert m.handle(Tick(T0 + 2.5)) == [StoreDraft("abc and more")]
    assert m.handle(SaveSucceeded(1, T0 + 3)) == []  # draft kept, card kept open
    assert m.state is NotesState.DRAFT
    assert (m.text, m.saved_text) == ("abc and more", "abc")
    assert m.auto_close_blocked
    assert m.handle(SaveRequested(T0 + 4)) == [add("abc and more")]


def test_new_text_typed_during_a_save_is_stored_at_once_on_success() -> None:
    m = saving("abc")
    m.handle(TextChanged("abc!", T0 + 2))
    assert m.handle(SaveSucceeded(1, T0 + 2.1)) == [StoreDraft("abc!")]


def test_typing_back_to_the_sent_text_during_a_save_ends_saved() -> None:
    m = saving("abc")
    m.handle(TextChanged("abcd", T0 + 2))
    m.handle(TextChanged("abc", T0 + 2.1))
    assert m.handle(SaveSucceeded(1, T0 + 2.2)) == [REMOVE]
    assert m.state is NotesState.SAVED


def test_text_cleared_during_a_save_is_brought_back_if_the_save_fails() -> None:
    m = saving("abc")
    assert m.handle(TextChanged("", T0 + 2)) == []
    assert m.state is NotesState.SAVING
    assert m.handle(Tick(T0 + 3)) == []  # the draft keeps "abc" while it is in flight
    assert m.handle(SaveFailed("timeout", T0 + 4)) == [SetText("abc"), DISABLE]
    assert (m.state, m.text) == (NotesState.FAILED, "abc")


def test_text_cleared_during_a_save_ends_empty_if_the_save_succeeds() -> None:
    m = saving("abc")
    m.handle(TextChanged("", T0 + 2))
    assert m.handle(SaveSucceeded(1, T0 + 3)) == [REMOVE]
    assert m.state is NotesState.EMPTY
    assert m.handle(Tick(T0 + 5)) == [ENABLE]


def test_text_replaced_during_a_failed_save_keeps_both_notes() -> None:
    m = saving("first note")
    m.handle(TextChanged("second", T0 + 2))
    assert m.handle(Tick(T0 + 3)) == [StoreDraft("first note\n\nsecond")]
    assert m.handle(SaveFailed("timeout", T0 + 4)) == [SetText("first note\n\nsecond"), DISABLE]
    assert m.state is NotesState.FAILED
    assert m.handle(SaveRequested(T0 + 5)) == [add("first note\n\nsecond", 2)]


# --------------------------------------------------------------------------- no target


def test_no_target_keeps_the_draft_and_says_so() -> None:
    m = machine(target=None)
    m.handle(TextChanged("abc", T0))
    assert m.handle(SaveRequested(T0 + 0.1)) == [StoreDraft("abc")]
    assert (m.state, m.message_key) == (NotesState.DRAFT, NO_TARGET)
    assert m.auto_close_blocked
    assert m.handle(BeforeClose(T0 + 1)) == [DISABLE]  # kept open, nothing sent
    assert m.message_key == NO_TARGET


def test_a_target_arriving_clears_the_message_and_allows_the_save() -> None:
    m = machine(target=None)
    m.handle(TextChanged("abc", T0))
    m.handle(SaveRequested(T0 + 0.1))
    assert m.handle(TargetChanged(OTHER)) == []
    assert (m.message_key, m.target) == (None, OTHER)
    assert m.handle(SaveRequested(T0 + 1)) == [add("abc", target=OTHER)]


def test_target_lost_before_saving() -> None:
    m = drafted("abc")
    m.handle(TargetChanged(None))
    assert m.handle(SaveRequested(T0 + 1)) == []
    assert m.message_key == NO_TARGET


def test_message_is_hidden_once_the_text_is_cleared() -> None:
    m = machine(target=None)
    m.handle(TextChanged("abc", T0))
    m.handle(SaveRequested(T0 + 0.1))
    m.handle(TextChanged("", T0 + 1))
    assert m.message_key is None


def test_target_change_during_a_save_does_not_resend() -> None:
    m = saving("abc")
    assert m.handle(TargetChanged(OTHER)) == []
    assert m.handle(SaveSucceeded(1, T0 + 5)) == [REMOVE, ENABLE]
    assert m.target == OTHER


# --------------------------------------------------------------------------- BeforeClose


def test_before_close_saves_unsaved_notes_and_keeps_the_card_open() -> None:
    m = drafted("abc")
    assert m.handle(BeforeClose(T0 + 10)) == [DISABLE, add("abc")]
    assert m.state is NotesState.SAVING


def test_before_close_flushes_the_debounced_draft_first() -> None:
    m = machine()
    m.handle(TextChanged("abc", T0))
    assert m.handle(BeforeClose(T0 + 0.1)) == [StoreDraft("abc"), DISABLE, add("abc")]


def test_before_close_twice_after_a_success_does_nothing() -> None:
    m = drafted("abc")
    m.handle(BeforeClose(T0 + 10))
    assert m.handle(SaveSucceeded(1, T0 + 11)) == [REMOVE, ENABLE]
    assert m.handle(BeforeClose(T0 + 12)) == []
    assert m.handle(BeforeClose(T0 + 70)) == []


def test_before_close_during_a_save_sends_nothing_new() -> None:
    m = saving("abc")
    # The block is re-asserted (host counts from now); the comment is not sent again.
    assert m.handle(BeforeClose(T0 + 2)) == [DISABLE]
    assert m.handle(BeforeClose(T0 + 3)) == [DISABLE]
    assert m.handle(SaveSucceeded(1, T0 + 4)) == [REMOVE, ENABLE]


def test_before_close_then_failure_then_second_before_close_retries_once() -> None:
    """Decision: every BeforeClose that finds unsaved text and no save in flight starts one save.
    After a failure the host's second BeforeClose therefore retries once; there is no retry loop."""
    m = drafted("abc")
    assert m.handle(BeforeClose(T0 + 10)) == [DISABLE, add("abc", 1)]
    assert m.handle(SaveFailed("timeout", T0 + 40)) == [DISABLE]
    assert m.state is NotesState.FAILED
    assert m.handle(Tick(T0 + 60)) == []
    assert m.handle(BeforeClose(T0 + 75)) == [DISABLE, add("abc", 2)]
    assert m.handle(BeforeClose(T0 + 76)) == [DISABLE]  # in flight: no third send
    assert m.handle(SaveSucceeded(3, T0 + 77)) == [REMOVE, ENABLE]
    assert m.handle(BeforeClose(T0 + 78)) == []


def test_failure_after_before_close_keeps_renewing() -> None:
    m = drafted("abc")
    m.handle(BeforeClose(T0 + 10))
    m.handle(SaveFailed("timeout", T0 + 20))  # renewed at +20
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
        1: [StoreDraft("abc")],
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
    assert m.handle(SaveSucceeded(1, T0 + 3)) == [REMOVE]
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
        SaveSucceeded(1, T0 + 13),
    ]
    assert [m.handle(e) for e in events] == [[]] * len(events)


def test_call_end_flushes_the_draft_and_renews_the_block() -> None:
    m = machine()
    m.handle(TextChanged("abc", T0))
    assert m.handle(CallEnded(T0 + 0.1)) == [StoreDraft("abc"), DISABLE]
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
    assert m.handle(DraftRestored("from before the reload", T0)) == [
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


def test_restored_draft_does_not_overwrite_text_typed_meanwhile() -> None:
    m = machine()
    m.handle(TextChanged("typed", T0))
    assert m.handle(DraftRestored("restored", T0 + 0.1)) == [
        SetText("restored\n\ntyped"),
        StoreDraft("restored\n\ntyped"),
    ]


def test_restored_draft_already_contained_in_the_text() -> None:
    m = machine()
    m.handle(TextChanged("restored and more", T0))
    assert m.handle(DraftRestored("restored", T0 + 0.1)) == [StoreDraft("restored and more")]


def test_blank_restored_draft_is_removed() -> None:
    m = machine()
    assert m.handle(DraftRestored("  ", T0)) == [REMOVE]
    assert m.state is NotesState.EMPTY
    assert not m.auto_close_blocked


# --------------------------------------------------------------------------- effect order


def test_effects_come_out_safe_first() -> None:
    m = machine()
    m.handle(TextChanged("abc", T0))
    effects = m.handle(BeforeClose(T0 + 0.1))
    assert [type(e) for e in effects] == [StoreDraft, DisableAutoClose, AddComment]


# --------------------------------------------------------------------------- the comment


def test_target_fields_are_exactly_the_rest_fields() -> None:
    assert CommentTarget(EntityType.CONTACT, 5).fields("hi") == {
        "ENTITY_ID": 5,
        "ENTITY_TYPE": "contact",
        "COMMENT": "hi",
    }
    assert TARGET.fields("x")["ENTITY_TYPE"] == "deal"


@pytest.mark.parametrize("entity_id", [0, -1, True, 2**53, "5"])
def test_target_rejects_bad_ids(entity_id: object) -> None:
    with pytest.raises(ValueError):
        CommentTarget(EntityType.LEAD, entity_id)  # type: ignore[arg-type]


def test_target_rejects_a_plain_string_type() -> None:
    with pytest.raises(ValueError):
        CommentTarget("lead", 5)  # type: ignore[arg-type]


def test_choose_target_prefers_the_primary_item_then_the_first_binding() -> None:
    deal, contact, company = (
        CrmRef(EntityType.DEAL, 1),
        CrmRef(EntityType.CONTACT, 2),
        CrmRef(EntityType.COMPANY, 3),
    )
    assert choose_target(CallStatus(entity=deal, bindings=(contact,))) == CommentTarget(
        EntityType.DEAL, 1
    )
    assert choose_target(CallStatus(bindings=(company, contact))) == CommentTarget(
        EntityType.COMPANY, 3
    )
    assert choose_target(CallStatus()) is None
    assert CommentTarget.from_ref(contact) == CommentTarget(EntityType.CONTACT, 2)


def test_compose_comment_header_and_body() -> None:
    text = "  Client asks for a callback.\n\nTomorrow, after 10.  \n"
    assert compose_comment(HEADER, text, EN) == (
        "Incoming call, +79001234567, 24.11.2026 14:05\n\n"
        "Client asks for a callback.\n\nTomorrow, after 10."
    )


def test_compose_comment_in_russian() -> None:
    header = CommentHeader(CallDirection.OUTGOING, HIDDEN_NUMBER, datetime(2026, 1, 2, 3, 4))
    assert compose_comment(header, "Перезвонить", Translator("ru")) == (
        "Исходящий звонок, Скрытый номер, 02.01.2026 03:04\n\nПерезвонить"
    )


@pytest.mark.parametrize(
    ("direction", "number", "line"),
    [
        (CallDirection.CALLBACK, UNKNOWN_NUMBER, "callback, number.unknown"),
        (CallDirection.INCOMING_TRANSFER, HIDDEN_NUMBER, "incomingTransfer, number.hidden"),
        (CallDirection.UNKNOWN, CallerNumber("number", "101"), "unknown, 101"),
    ],
)
def test_compose_comment_uses_the_catalogue_keys(
    direction: CallDirection, number: CallerNumber, line: str
) -> None:
    def keys(key: str) -> str:
        return key.removeprefix("direction.")

    header = CommentHeader(direction, number, datetime(2026, 11, 24, 9, 7))
    assert compose_comment(header, "x", keys) == f"{line}, 24.11.2026 09:07\n\nx"


def test_compose_comment_without_header_and_capped() -> None:
    assert compose_comment(None, " just text ", EN) == "just text"
    long = "a" * (MAX_NOTE_LEN + 50)
    assert compose_comment(None, long, EN) == "a" * MAX_NOTE_LEN
    assert compose_comment(HEADER, "  ", EN) == "Incoming call, +79001234567, 24.11.2026 14:05"


def test_machine_uses_the_given_translator() -> None:
    m = machine(t=Translator("ru"))
    m.handle(TextChanged("Перезвонить", T0))
    (effect,) = [e for e in m.handle(SaveRequested(T0 + 1)) if isinstance(e, AddComment)]
    assert effect.comment.startswith("Входящий звонок, +79001234567, 24.11.2026 14:05\n\n")


def test_machine_without_header_sends_the_text_only() -> None:
    m = machine(header=None)
    m.handle(TextChanged(" note ", T0))
    assert AddComment(TARGET, "note", 1) in m.handle(SaveRequested(T0 + 1))
