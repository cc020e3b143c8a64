"""callcard.callstate: every transition of the call's phases, and the talk timer."""

from __future__ import annotations

import math

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bx24_bridge.payloads import CallState
from callcard.callstate import CallTracker, Phase, format_duration

IDLE, CONNECTING, CONNECTED = CallState.IDLE, CallState.CONNECTING, CallState.CONNECTED


# --------------------------------------------------------------------------- first status


@pytest.mark.parametrize(
    ("state", "phase"),
    [(None, Phase.WAITING), (IDLE, Phase.WAITING), (CONNECTING, Phase.CONNECTING)],
)
def test_start_before_talking(state: CallState | None, phase: Phase) -> None:
    tracker = CallTracker(state, now=100.0)
    assert tracker.phase is phase
    assert tracker.failed_code is None
    assert tracker.elapsed(500.0) == 0.0


def test_start_already_connected_counts_from_first_sight() -> None:
    tracker = CallTracker(CONNECTED, now=100.0)
    assert tracker.phase is Phase.TALKING
    assert tracker.elapsed(100.0) == 0.0
    assert tracker.elapsed(165.5) == 65.5


def test_phase_values_name_the_catalogue_keys() -> None:
    assert [p.value for p in Phase] == ["waiting", "connecting", "talking", "ended"]


# --------------------------------------------------------------------------- whole calls


def test_ring_connect_talk_end() -> None:
    tracker = CallTracker(IDLE, now=0.0)
    assert tracker.apply(CONNECTING, None, now=1.0) is True
    assert tracker.phase is Phase.CONNECTING
    assert tracker.elapsed(5.0) == 0.0
    assert tracker.apply(CONNECTED, None, now=10.0) is True
    assert tracker.phase is Phase.TALKING
    assert tracker.elapsed(75.0) == 65.0
    assert format_duration(tracker.elapsed(75.0)) == "1:05"
    assert tracker.apply(IDLE, None, now=3610.0) is True
    assert tracker.phase is Phase.ENDED
    assert tracker.failed_code is None
    assert format_duration(tracker.elapsed(3610.0)) == "1:00:00"
    assert tracker.elapsed(99_999.0) == 3600.0  # frozen


def test_failed_call_keeps_its_code() -> None:
    tracker = CallTracker(CONNECTING, now=0.0)
    assert tracker.apply(IDLE, "486", now=4.0) is True
    assert tracker.phase is Phase.ENDED
    assert tracker.failed_code == "486"
    assert tracker.elapsed(60.0) == 0.0


def test_failure_after_talking_is_kept() -> None:
    tracker = CallTracker(CONNECTED, now=0.0)
    assert tracker.apply(IDLE, "503", now=30.0) is True
    assert (tracker.phase, tracker.failed_code, tracker.elapsed(90.0)) == (Phase.ENDED, "503", 30.0)


def test_failed_before_connecting() -> None:
    tracker = CallTracker(IDLE, now=0.0)
    assert tracker.apply(IDLE, "480", now=2.0) is True
    assert tracker.phase is Phase.ENDED
    assert tracker.failed_code == "480"


def test_idle_while_waiting_stays_waiting() -> None:
    tracker = CallTracker(None, now=0.0)
    assert tracker.apply(IDLE, None, now=1.0) is False
    assert tracker.phase is Phase.WAITING


@pytest.mark.parametrize("code", ["", "48", "4860", "abc", "٤٨٦", 486, None])
def test_invalid_failure_codes_are_ignored(code: object) -> None:
    waiting = CallTracker(IDLE, now=0.0)
    assert waiting.apply(IDLE, code, now=1.0) is False  # type: ignore[arg-type]
    assert waiting.phase is Phase.WAITING
    connecting = CallTracker(CONNECTING, now=0.0)
    assert connecting.apply(IDLE, code, now=1.0) is True  # type: ignore[arg-type]
    assert (connecting.phase, connecting.failed_code) == (Phase.ENDED, None)


def test_failure_code_is_stripped() -> None:
    tracker = CallTracker(CONNECTING, now=0.0)
    tracker.apply(IDLE, " 486 ", now=1.0)
    assert tracker.failed_code == "486"


def test_new_call_after_end_resets_timer_and_failure() -> None:
    tracker = CallTracker(CONNECTED, now=0.0)
    tracker.apply(IDLE, "487", now=20.0)
    assert tracker.apply(CONNECTING, None, now=100.0) is True
    assert tracker.phase is Phase.CONNECTING
    assert tracker.failed_code is None
    assert tracker.elapsed(150.0) == 0.0
    assert tracker.apply(CONNECTED, None, now=200.0) is True
    assert tracker.elapsed(205.0) == 5.0


def test_connected_straight_after_end_is_a_new_call() -> None:
    tracker = CallTracker(CONNECTING, now=0.0)
    tracker.apply(IDLE, "486", now=5.0)
    assert tracker.apply(CONNECTED, None, now=50.0) is True
    assert (tracker.phase, tracker.failed_code, tracker.elapsed(53.0)) == (Phase.TALKING, None, 3.0)


def test_connecting_while_talking_starts_a_new_connection() -> None:
    tracker = CallTracker(CONNECTED, now=0.0)
    assert tracker.apply(CONNECTING, None, now=40.0) is True
    assert tracker.phase is Phase.CONNECTING
    assert tracker.elapsed(45.0) == 0.0


def test_waiting_straight_to_connected() -> None:
    tracker = CallTracker(IDLE, now=0.0)
    assert tracker.apply(CONNECTED, None, now=7.0) is True
    assert tracker.elapsed(8.0) == 1.0


def test_failure_while_waiting_then_a_call() -> None:
    tracker = CallTracker(IDLE, now=0.0)
    tracker.apply(IDLE, "603", now=1.0)
    assert tracker.apply(CONNECTING, None, now=2.0) is True
    assert tracker.failed_code is None


# --------------------------------------------------------------------------- repeats and noise


def test_repeated_states_change_nothing() -> None:
    tracker = CallTracker(CONNECTING, now=0.0)
    assert tracker.apply(CONNECTING, None, now=1.0) is False
    assert tracker.apply(CONNECTED, None, now=10.0) is True
    assert tracker.apply(CONNECTED, None, now=20.0) is False  # the timer is not restarted
    assert tracker.elapsed(30.0) == 20.0
    assert tracker.apply(IDLE, None, now=40.0) is True
    assert tracker.apply(IDLE, None, now=50.0) is False
    assert tracker.elapsed(60.0) == 30.0


def test_late_failure_code_for_an_ended_call() -> None:
    tracker = CallTracker(CONNECTING, now=0.0)
    tracker.apply(IDLE, None, now=1.0)
    assert tracker.apply(IDLE, "486", now=2.0) is True
    assert tracker.failed_code == "486"
    assert tracker.apply(IDLE, "480", now=3.0) is False  # the first reason stands
    assert tracker.failed_code == "486"


@pytest.mark.parametrize("start", [None, IDLE, CONNECTING, CONNECTED])
def test_none_state_is_ignored(start: CallState | None) -> None:
    tracker = CallTracker(start, now=0.0)
    before = (tracker.phase, tracker.failed_code, tracker.elapsed(9.0))
    assert tracker.apply(None, "486", now=5.0) is False
    assert (tracker.phase, tracker.failed_code, tracker.elapsed(9.0)) == before


def test_failed_code_ignored_on_connecting_and_connected() -> None:
    tracker = CallTracker(IDLE, now=0.0)
    tracker.apply(CONNECTING, "486", now=1.0)
    assert tracker.failed_code is None
    tracker.apply(CONNECTED, "486", now=2.0)
    assert tracker.failed_code is None


def test_elapsed_is_never_negative() -> None:
    tracker = CallTracker(CONNECTED, now=100.0)
    assert tracker.elapsed(50.0) == 0.0
    assert tracker.elapsed(math.nan) == 0.0


def test_repr_is_short() -> None:
    assert repr(CallTracker(CONNECTING, now=0.0)) == (
        "CallTracker(phase=connecting, failed_code=None)"
    )


# --------------------------------------------------------------------------- format_duration


@pytest.mark.parametrize(
    ("seconds", "shown"),
    [
        (0, "0:00"),
        (0.999, "0:00"),
        (1, "0:01"),
        (59.9, "0:59"),
        (60, "1:00"),
        (65, "1:05"),
        (65.99, "1:05"),
        (3599.999, "59:59"),
        (3600, "1:00:00"),
        (3661, "1:01:01"),
        (36_000, "10:00:00"),
        (-1, "0:00"),
        (-0.5, "0:00"),
        (math.nan, "0:00"),
        (math.inf, "0:00"),
        (-math.inf, "0:00"),
    ],
)
def test_format_duration(seconds: float, shown: str) -> None:
    assert format_duration(seconds) == shown


# --------------------------------------------------------------------------- properties

states = st.sampled_from([None, IDLE, CONNECTING, CONNECTED])
codes = st.none() | st.sampled_from(["486", "480", "603", " 487 ", "", "abc", "99"])
steps = st.lists(
    st.tuples(states, codes, st.floats(min_value=0, max_value=10_000, allow_nan=False)),
    max_size=30,
)


@settings(max_examples=300, deadline=None)
@given(states, steps)
def test_tracker_timer_properties(first: CallState | None, moves: list) -> None:
    now = 0.0
    tracker = CallTracker(first, now)
    for state, code, step in moves:
        phase_before = tracker.phase
        elapsed_before = tracker.elapsed(now)
        now += step
        changed = tracker.apply(state, code, now)
        assert isinstance(changed, bool)
        if phase_before is Phase.TALKING and tracker.phase is Phase.TALKING:
            assert tracker.elapsed(now) >= elapsed_before  # never decreases while talking
        if tracker.phase is Phase.ENDED:
            frozen = tracker.elapsed(now)
            assert tracker.elapsed(now + 1000.0) == frozen
        if tracker.phase in (Phase.WAITING, Phase.CONNECTING):
            assert tracker.elapsed(now + 1000.0) == 0.0
        if not changed:
            assert tracker.phase is phase_before
        assert tracker.failed_code is None or len(tracker.failed_code) == 3
        assert format_duration(tracker.elapsed(now)).count(":") in (1, 2)
