"""The notes attach after the first render: what the controller told the stand-in meanwhile reaches
the real notes in order, and the host's BeforeClose never waits."""

from __future__ import annotations

from typing import Any

from bx24_bridge.crm_refs import CrmRef, EntityType
from bx24_bridge.payloads import CallStatus
from callcard.pending_notes import NotesEvents, PendingNotes

FIRST = CallStatus(call_id="call-1")
IVAN = CrmRef(EntityType.CONTACT, 17)
MARIA = CrmRef(EntityType.CONTACT, 18)
NEXT = CallStatus(call_id="call-1", entity=MARIA)


class RecordingNotes:
    """The real notes as far as the controller can tell: every call, in order."""

    def __init__(self) -> None:
        self.calls: list[tuple[str, tuple[Any, ...]]] = []

    def status_changed(self, status: CallStatus) -> None:
        self.calls.append(("status_changed", (status,)))

    def client_named(self, ref: CrmRef, name: str) -> None:
        self.calls.append(("client_named", (ref, name)))

    def call_ended(self) -> None:
        self.calls.append(("call_ended", ()))

    def call_started(self) -> None:
        self.calls.append(("call_started", ()))

    def before_close(self) -> None:
        self.calls.append(("before_close", ()))


def _never_attached() -> NotesEvents:
    raise AssertionError("only BeforeClose may attach the notes at once")


def test_the_real_notes_get_what_happened_in_the_order_it_happened() -> None:
    pending = PendingNotes(FIRST, _never_attached)
    pending.call_started()
    pending.client_named(IVAN, "Ivan Petrov")
    pending.status_changed(NEXT)
    pending.call_ended()
    notes = RecordingNotes()
    pending.replay(notes)
    assert notes.calls == [
        ("call_started", ()),
        ("client_named", (IVAN, "Ivan Petrov")),
        ("status_changed", (NEXT,)),
        ("call_ended", ()),
    ]


def test_the_notes_start_from_the_first_render_s_status() -> None:
    pending = PendingNotes(FIRST, _never_attached)
    pending.status_changed(NEXT)
    assert pending.status is FIRST  # the client of the first render; the change comes after


def test_replay_hands_each_call_over_once() -> None:
    pending = PendingNotes(FIRST, _never_attached)
    pending.call_ended()
    first, second = RecordingNotes(), RecordingNotes()
    pending.replay(first)
    pending.replay(second)
    assert first.calls == [("call_ended", ())] and second.calls == []


def test_before_close_attaches_the_notes_at_once_and_goes_to_them() -> None:
    notes = RecordingNotes()

    def attach_now() -> NotesEvents:
        pending.replay(notes)  # as the controller does: made, then told what happened
        return notes

    pending = PendingNotes(FIRST, attach_now)
    pending.status_changed(NEXT)
    pending.before_close()
    assert notes.calls == [("status_changed", (NEXT,)), ("before_close", ())]
