"""The card is held open with an end: keep-open, "Close now", and letting go after the operator
has been away for ``hold_limit`` once the call has ended (the host blocks new incoming calls
while the card is held)."""

from __future__ import annotations

from datetime import datetime

from bx24_bridge.crm_refs import EntityType
from bx24_bridge.payloads import CallDirection
from bx24_bridge.phone_numbers import CallerNumber
from callcard.comment import CommentHeader, CommentTarget, SaveProblem
from callcard.notes import (
    Activity,
    AddComment,
    CallEnded,
    CallStarted,
    ClientChanged,
    CloseNow,
    DisableAutoClose,
    EnableAutoClose,
    KeepOpenChanged,
    NotesMachine,
    NotesState,
    SaveFailed,
    SaveSucceeded,
    TextChanged,
    Tick,
)

HEADER = CommentHeader(
    CallDirection.INCOMING, CallerNumber("number", "+79001234567"), datetime(2026, 11, 24, 14, 5)
)
TARGET = CommentTarget(EntityType.CONTACT, 17)
LIMIT = 600.0
DISABLE, ENABLE = DisableAutoClose(), EnableAutoClose()


def machine() -> NotesMachine:
    return NotesMachine(header=HEADER, target=TARGET, hold_limit=LIMIT)


def run(m: NotesMachine, start: float, end: float, step: float = 1.0) -> dict[float, list]:
    """Tick from ``start`` to ``end``; the non-empty effects by time."""
    out: dict[float, list] = {}
    now = start
    while now <= end:
        effects = m.handle(Tick(now))
        if effects:
            out[now] = effects
        now += step
    return out


def commands(effects: dict[float, list]) -> dict[float, list]:
    return {at: [e for e in es if isinstance(e, DisableAutoClose | EnableAutoClose)]
            for at, es in effects.items()}


def test_keep_open_lets_go_after_ten_idle_minutes_after_the_call() -> None:
    m = machine()
    m.handle(KeepOpenChanged(True, 0.0))
    assert m.held_until is None  # the call is on: nothing counts down yet
    m.handle(CallEnded(100.0))
    assert m.held_until == 100.0 + LIMIT
    effects = run(m, 101.0, 100.0 + LIMIT + 5)
    assert effects[100.0 + LIMIT] == [ENABLE]
    assert (m.keep_open, m.auto_close_blocked, m.held_until) == (False, False, None)
    # Renewed meanwhile, inside the host's window.
    renewals = [at for at, es in effects.items() if es == [DISABLE]]
    gaps = [b - a for a, b in zip([100.0, *renewals], renewals, strict=False)]
    assert renewals and max(gaps) <= 40


def test_the_operators_input_pushes_the_end_back() -> None:
    m = machine()
    m.handle(KeepOpenChanged(True, 0.0))
    m.handle(CallEnded(100.0))
    m.handle(Activity(400.0))
    assert m.held_until == 400.0 + LIMIT
    assert not any(ENABLE in es for es in run(m, 401.0, 999.0, 2.0).values())
    assert run(m, 1000.0, 1000.0) == {1000.0: [ENABLE]}


def test_typing_counts_as_input_too() -> None:
    m = machine()
    m.handle(KeepOpenChanged(True, 0.0))
    m.handle(CallEnded(100.0))
    m.handle(TextChanged("abc", 650.0))
    assert m.held_until == 650.0 + LIMIT


def test_nothing_counts_down_while_a_call_is_on() -> None:
    m = machine()
    m.handle(KeepOpenChanged(True, 0.0))
    m.handle(CallEnded(10.0))
    m.handle(CallStarted(20.0))  # the dialer's next call
    assert m.held_until is None
    assert not any(ENABLE in es for es in run(m, 21.0, 2000.0, 10.0).values())


def test_unsaved_notes_are_saved_one_last_time_at_the_end_and_the_card_let_go() -> None:
    m = machine()
    m.handle(TextChanged("abc", 0.0))
    m.handle(CallEnded(100.0))
    end = run(m, 101.0, 100.0 + LIMIT)
    [save] = [e for e in end[100.0 + LIMIT] if isinstance(e, AddComment)]
    assert m.auto_close_blocked  # until the save answers
    assert m.handle(SaveFailed(SaveProblem.TIMEOUT, 701.0, save.attempt))[-1] == ENABLE
    # The text is not lost: still in the machine (and the store), the state says so.
    assert (m.state, m.text) == (NotesState.FAILED, "abc")


def test_a_clock_that_goes_backwards_never_ends_the_hold_early() -> None:
    m = machine()
    m.handle(KeepOpenChanged(True, 0.0))
    m.handle(CallEnded(100.0))
    assert ENABLE not in m.handle(Tick(50.0))


def test_close_now_saves_what_is_pending_then_lets_go() -> None:
    m = machine()
    m.handle(KeepOpenChanged(True, 0.0))
    m.handle(TextChanged("abc", 1.0))
    m.handle(CallEnded(5.0))
    effects = m.handle(CloseNow(6.0))
    [save] = [e for e in effects if isinstance(e, AddComment)]
    assert not m.keep_open and ENABLE not in effects
    # No typing grace: the operator asked to close.
    assert m.handle(SaveSucceeded(9, 6.5, save.attempt))[-1] == ENABLE


def test_close_now_with_nothing_pending_lets_go_at_once() -> None:
    m = machine()
    m.handle(KeepOpenChanged(True, 0.0))
    m.handle(CallEnded(5.0))
    assert m.handle(CloseNow(6.0)) == [ENABLE]


def test_close_now_stays_when_the_save_fails_so_the_operator_sees_it() -> None:
    m = machine()
    m.handle(TextChanged("abc", 1.0))
    m.handle(CallEnded(5.0))
    [save] = [e for e in m.handle(CloseNow(6.0)) if isinstance(e, AddComment)]
    assert m.handle(SaveFailed(SaveProblem.NO_ACCESS, 7.0, save.attempt)) == [DISABLE]
    assert m.state is NotesState.FAILED and m.auto_close_blocked


def test_close_now_does_not_wait_for_notes_that_have_nowhere_to_go() -> None:
    m = NotesMachine(header=HEADER, target=None)
    m.handle(TextChanged("about an unknown caller", 1.0))
    m.handle(CallEnded(5.0))
    assert m.handle(CloseNow(10.0)) == [ENABLE]  # kept in the store, not holding the card


def test_close_now_while_the_previous_client_is_saving_waits_for_it() -> None:
    m = machine()
    m.handle(TextChanged("Ivan", 1.0))
    m.handle(ClientChanged(CommentTarget(EntityType.CONTACT, 18), 2.0))
    m.handle(CallEnded(5.0))
    assert ENABLE not in m.handle(CloseNow(6.0))
    assert m.handle(SaveSucceeded(1, 7.0, 1))[-1] == ENABLE
