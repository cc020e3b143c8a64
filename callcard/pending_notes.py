"""The notes of a card whose first render did not wait for them.

Why: the notes' Python (the machine, its drafts, the comment rules: most of the app's classes) is
the largest import of the card, and nothing of it is needed to show the call. The controller
renders the card first, marks it ready, and attaches the notes a moment later. Until then the
operator's textarea, keep-open box and buttons are plain HTML: what is typed or ticked stays in
them and is handed over when the notes attach (callcard/view.py), as on a card the server rendered.

Meanwhile the controller keeps telling the notes what happens (a new client, the call's end, a
client's name), and this stand-in records it, in order, for the real notes to replay once they
exist: they end up exactly as if they had been attached at the first render. The one thing that
cannot wait is the host's BeforeClose, the operator's last chance to have the note saved: it
attaches the notes at once and goes straight to them.

Pure Python: no browser import (tests/unit/test_pending_notes.py).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, Protocol

from bx24_bridge.crm_refs import CrmRef
from bx24_bridge.payloads import CallStatus


class NotesEvents(Protocol):
    """What the controller tells the notes of a card (callcard/notes_shell.py's NotesShell)."""

    def status_changed(self, status: CallStatus) -> None: ...
    def client_named(self, ref: CrmRef, name: str) -> None: ...
    def call_ended(self) -> None: ...
    def call_started(self) -> None: ...
    def before_close(self) -> None: ...


class PendingNotes:
    """Stands in for the notes until ``attach_now()`` (given by the controller) makes them; a
    ``NotesEvents`` itself, so the controller talks to it as to the real ones."""

    def __init__(self, status: CallStatus, attach_now: Callable[[], NotesEvents]) -> None:
        #: The status of the first render: the real notes start from it, as they would have then.
        self.status = status
        self._attach_now = attach_now
        self._calls: list[tuple[str, tuple[Any, ...]]] = []

    def status_changed(self, status: CallStatus) -> None:
        self._calls.append(("status_changed", (status,)))

    def client_named(self, ref: CrmRef, name: str) -> None:
        self._calls.append(("client_named", (ref, name)))

    def call_ended(self) -> None:
        self._calls.append(("call_ended", ()))

    def call_started(self) -> None:
        self._calls.append(("call_started", ()))

    def before_close(self) -> None:
        """The card is closing: the notes must be there to save what the operator wrote."""
        self._attach_now().before_close()

    def replay(self, notes: NotesEvents) -> None:
        """Hand what happened meanwhile to the real notes, in the order it happened."""
        calls, self._calls = self._calls, []
        for name, args in calls:
            getattr(notes, name)(*args)
