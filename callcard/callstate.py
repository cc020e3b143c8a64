"""The call as the operator lives it: waiting, connecting, talking, ended; and the talk timer.

The host only reports ``idle`` / ``connecting`` / ``connected`` (docs/host-contract.md#status,
#events), and ``idle`` means both "nothing yet" and "over". :class:`CallTracker` turns that stream
into phases the card can name, remembers why a call failed, and measures talk time.

Time is injected: every method takes ``now``, float seconds from a monotonic clock owned by the
caller (``time.monotonic()`` or ``performance.now() / 1000``). Nothing here reads a clock, so the
timer is exact under test and reads the same after a browser tab was throttled: the elapsed time
is computed from timestamps, never by counting ticks.
"""

# Its checks of what it is given stay, whatever the annotations say: callers outside the checker's
# view (host data through JavaScript) can pass anything.
# pyright: reportUnnecessaryIsInstance=false
from __future__ import annotations

import enum
import math

from bx24_bridge.callcard_events import parse_failed_code
from bx24_bridge.payloads import CallState

__all__ = ["CallTracker", "Phase", "format_duration"]



class Phase(enum.StrEnum):
    """What the card says the call is doing."""

    WAITING = "waiting"
    """No connection yet (``idle`` before anything happened)."""
    CONNECTING = "connecting"
    TALKING = "talking"
    ENDED = "ended"
    """``idle`` after a connection attempt, or a failure reported while waiting."""


def _valid_code(code: object) -> str | None:
    """A failure code as the bridge reads one off the wire (a SIP code, 100-699); text only, since
    the bridge has already turned the wire's numbers into text."""
    return parse_failed_code(code) if isinstance(code, str) else None


class CallTracker:
    """The phase, the failure code and the talk timer of the call on the card.

    Built from the first status the card sees. If that status is already ``connected`` the timer
    starts at that first ``now``: the true moment of connection is unknown (the host does not
    report it), so talk time is counted from when the card learned of it.
    """

    __slots__ = ("_failed_code", "_phase", "_started", "_stopped")

    def __init__(self, state: CallState | None, now: float) -> None:
        self._phase = Phase.WAITING
        self._failed_code: str | None = None
        self._started: float | None = None
        self._stopped: float | None = None
        if state is CallState.CONNECTING:
            self._phase = Phase.CONNECTING
        elif state is CallState.CONNECTED:
            self._talk(now)

    @property
    def phase(self) -> Phase:
        return self._phase

    @property
    def never_connected(self) -> bool:
        """Ended without ever talking: the host has no word for it (no failedCode arrives over
        the real wire), so it is read from the states: connecting, then idle."""
        return self._phase is Phase.ENDED and self._started is None

    @property
    def failed_code(self) -> str | None:
        """The SIP code of the last failed call (three digits), kept until a new call starts."""
        return self._failed_code

    def elapsed(self, now: float) -> float:
        """Talk time in seconds: 0 before connecting, counting while talking, frozen once ended.

        Never negative (a ``now`` before the start, or NaN, gives 0).
        """
        if self._started is None:
            return 0.0
        end = now if self._stopped is None else self._stopped
        return max(0.0, end - self._started)

    def apply(self, state: CallState | None, failed_code: str | None, now: float) -> bool:
        """Take a new host state (with the failure code, if any); True when the card must redraw.

        ``None`` (a state this code does not know) changes nothing: the caller should re-read
        getStatus instead. Repeating the current state changes nothing either, since the host
        may report one state twice (an event, then getStatus).
        """
        if state is CallState.CONNECTING:
            return self._on_connecting()
        if state is CallState.CONNECTED:
            return self._on_connected(now)
        if state is CallState.IDLE:
            return self._on_idle(_valid_code(failed_code), now)
        return False

    # ------------------------------------------------------------------ transitions

    def _on_connecting(self) -> bool:
        if self._phase is Phase.CONNECTING:
            return False  # entering CONNECTING already cleared any failure
        # From WAITING this is the first attempt. After ENDED it is a new call (the dialer moves
        # on); from TALKING it is a new connection of its own (e.g. a transfer): either way the
        # previous talk time and failure no longer describe what is on the line.
        self._reset()
        self._phase = Phase.CONNECTING
        return True

    def _on_connected(self, now: float) -> bool:
        if self._phase is Phase.TALKING:
            return False  # a repeated "connected" must not restart the timer
        self._reset()
        self._talk(now)
        return True

    def _on_idle(self, code: str | None, now: float) -> bool:
        if self._phase is Phase.ENDED:
            # A late failure code for the call that already ended (event after getStatus).
            if code is not None and self._failed_code is None:
                self._failed_code = code
                return True
            return False
        if self._phase is Phase.WAITING and code is None:
            return False  # idle before anything happened: still waiting
        if self._phase is Phase.TALKING:
            self._stopped = now
        self._phase = Phase.ENDED
        self._failed_code = code
        return True

    def _talk(self, now: float) -> None:
        self._phase = Phase.TALKING
        self._started = now
        self._stopped = None

    def _reset(self) -> None:
        self._failed_code = None
        self._started = None
        self._stopped = None

    def __repr__(self) -> str:
        return f"CallTracker(phase={self._phase.value}, failed_code={self._failed_code!r})"


def format_duration(seconds: float) -> str:
    """``m:ss`` under an hour (``1:05``), ``h:mm:ss`` from an hour on (``1:00:00``).

    Floors to whole seconds (a timer never shows a second that has not passed); negative, NaN
    and infinite values show ``0:00``.
    """
    if not isinstance(seconds, int | float) or not math.isfinite(seconds) or seconds < 0:
        return "0:00"
    total = int(seconds)  # floor for non-negative values
    hours, rest = divmod(total, 3600)
    minutes, secs = divmod(rest, 60)
    if hours:
        return f"{hours}:{minutes:02d}:{secs:02d}"
    return f"{minutes}:{secs:02d}"
