"""The notes' shell under CPython: fakes of REST, the auto-close commands, the view and the draft
store (the ports of callcard/ports.py) show that it performs the notes machine's effects and
feeds their outcomes back: a save reaches the CRM once and its answer reaches the screen, a draft
survives the page, a browser that refuses storage is said so once, a retry's redraw shows the
same note without a second start. (The machine's own rules are tests/unit/test_notes*.py.)
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Coroutine, Mapping
from datetime import datetime
from typing import Any

from aio import run, settle

from bx24_bridge.crm_refs import CrmRef, EntityType
from bx24_bridge.errors import RestError, RestTimeout
from bx24_bridge.payloads import CallDirection, CallStatus
from bx24_bridge.phone_numbers import CallerNumber
from bx24_bridge.rest import RestOutcome
from callcard.comment import ADD_METHOD, UPDATE_METHOD
from callcard.drafts import DraftStore, MemoryStore
from callcard.i18n import Translator
from callcard.notes_shell import NotesShell
from callcard.ports import OtherNoteText

IVAN = CrmRef(EntityType.CONTACT, 17)
CALL = CallStatus(call_id="call-1", phone=CallerNumber("number", "+79001234567"), entity=IVAN,
                  direction=CallDirection.INCOMING)
EN = Translator("en")




class FakeRest:
    def __init__(self, answers: list[object] | None = None) -> None:
        self.calls: list[tuple[str, Mapping[str, Any] | None]] = []
        self.answers = list(answers or [])

    async def call_method(self, method: str, params: Mapping[str, Any] | None = None, *,
                          timeout: float = 8.0) -> Any:
        self.calls.append((method, params))
        answer = self.answers.pop(0) if self.answers else 100 + len(self.calls)
        if isinstance(answer, Exception):
            raise answer
        return answer

    async def call_batch(self, calls: Mapping[str, tuple[str, Mapping[str, Any]]], *,
                         timeout: float = 8.0) -> dict[str, RestOutcome]:
        self.calls.append(("batch", {key: list(call) for key, call in calls.items()}))
        answer = self.answers.pop(0) if self.answers else None
        if isinstance(answer, Exception):
            raise answer
        return {"me": RestOutcome(data={"ID": "7"}),
                "todo": RestOutcome(data={"id": 900 + len(self.calls)})}


class FakeCard:
    def __init__(self) -> None:
        self.commands: list[str] = []

    async def keep_open(self) -> None:
        self.commands.append("disableAutoClose")

    async def allow_close(self) -> None:
        self.commands.append("enableAutoClose")


class FakeScreen:
    def __init__(self) -> None:
        self.state: tuple[str, str] = ("", "")
        self.texts: list[str] = []
        self.keep_open = False
        self.drafts_notes: list[str] = []
        self.hold: str | None = None
        self.others: tuple[OtherNoteText, ...] = ()
        self.outcome: str | None = None
        self.callback: tuple[str | None, str | None] = (None, None)

    def set_outcome(self, outcome: str | None) -> None:
        self.outcome = outcome

    def set_callback(self, text: str | None, state: str | None) -> None:
        self.callback = (text, state)

    def set_notes_state(self, state: str, text: str, *, saving: bool) -> None:
        self.state = (state, text)

    def set_notes_text(self, text: str) -> None:
        self.texts.append(text)

    def set_keep_open(self, checked: bool) -> None:
        self.keep_open = checked

    def set_drafts_note(self, text: str) -> None:
        self.drafts_notes.append(text)

    def set_hold(self, text: str | None, *, close_now: bool) -> None:
        self.hold = text

    def set_other_notes(self, items: tuple[OtherNoteText, ...]) -> None:
        self.others = items


class RefusingStore(MemoryStore):
    """A sandboxed frame's storage: every write fails."""

    def set(self, key: str, value: str) -> None:
        raise OSError("localStorage is not available")


class Notes:
    def __init__(self, *, store: MemoryStore | None = None, rest: FakeRest | None = None,
                 local: datetime = datetime(2026, 12, 2, 10, 30),
                 utc_offset_at: Callable[[datetime], int] = lambda _when: 0) -> None:
        self.rest = rest or FakeRest()
        self.card = FakeCard()
        self.screen = FakeScreen()
        self.store = store if store is not None else MemoryStore()
        self.now = 10.0
        self.spawned = 0
        self.shell = NotesShell(
            rest=self.rest, card=self.card, view=self.screen, status=CALL, t=EN,
            portal="portal.bitrix24.ru", storage=self.store, clock=lambda: self.now,
            wall_clock=lambda: 1_780_000_000.0 + self.now,
            local_now=lambda after: local, spawn=self.spawn, utc_offset_at=utc_offset_at,
        )

    def spawn(self, coroutine: Coroutine[Any, Any, Any]) -> asyncio.Future[Any]:
        self.spawned += 1
        return asyncio.ensure_future(coroutine)


def test_a_saved_note_reaches_the_crm_once_and_its_answer_the_screen() -> None:
    async def scenario() -> None:
        notes = Notes()
        notes.shell.attach()
        assert notes.screen.state == ("empty", "No notes yet")
        notes.shell.handlers.on_input("Wants a call back on Monday")
        notes.shell.handlers.on_save()
        await settle()
        assert [method for method, _ in notes.rest.calls] == [ADD_METHOD]
        params = notes.rest.calls[0][1]
        assert params is not None
        fields = params["fields"]
        assert fields["ENTITY_TYPE"] == "contact" and fields["ENTITY_ID"] == 17
        assert "Wants a call back on Monday" in fields["COMMENT"]
        assert notes.screen.state == ("saved", "Saved to the CRM timeline")
        notes.now += 5
        notes.shell.handlers.on_input("Wants a call back on Monday, after 10")
        notes.shell.handlers.on_save()
        await settle()
        assert [method for method, _ in notes.rest.calls] == [ADD_METHOD, UPDATE_METHOD]
        second = notes.rest.calls[1][1]
        assert second is not None and second["id"] == 101, "the same comment, updated"

    run(scenario())


def test_a_failed_save_says_why_and_keeps_the_note() -> None:
    async def scenario() -> None:
        notes = Notes(rest=FakeRest([RestError(ADD_METHOD, "ACCESS_DENIED", "no")]))
        notes.shell.attach()
        notes.shell.handlers.on_input("Important")
        notes.shell.handlers.on_save()
        await settle()
        state, words = notes.screen.state
        assert state == "failed" and words
        assert notes.card.commands[:1] == ["disableAutoClose"], "unsaved: the card stays open"

    run(scenario())


def test_before_close_saves_what_was_typed() -> None:
    async def scenario() -> None:
        notes = Notes()
        notes.shell.attach()
        notes.shell.handlers.on_input("Typed during the call")
        notes.shell.before_close()
        await settle()
        assert [method for method, _ in notes.rest.calls] == [ADD_METHOD]

    run(scenario())


def test_a_draft_outlives_the_page_and_comes_back_on_the_next_one() -> None:
    async def scenario() -> None:
        store = MemoryStore()
        first = Notes(store=store)
        first.shell.attach()
        first.shell.handlers.on_input("Half a thought")
        for _ in range(4):  # past the draft's debounce, on the shell's own ticker
            first.now += 0.3
            await asyncio.sleep(0.26)
        drafts = DraftStore(store, "portal.bitrix24.ru").load("call-1")
        assert [draft.text for draft in drafts] == ["Half a thought"]
        second = Notes(store=store)  # the same call, the card opened again
        second.shell.attach()
        assert second.screen.texts[-1] == "Half a thought"
        assert second.screen.state[0] == "draft"

    run(scenario())


def test_a_browser_that_refuses_storage_is_said_so_once() -> None:
    async def scenario() -> None:
        notes = Notes(store=RefusingStore())
        notes.shell.attach()
        for text in ("a", "ab", "abc"):
            notes.shell.handlers.on_input(text)
            notes.now += 1.0
            notes.shell.handlers.on_save()
            await settle()
        assert len(notes.screen.drafts_notes) == 1
        assert "abc" in str(notes.rest.calls[-1][1]), "the note itself still goes to the CRM"

    run(scenario())


def test_a_redraw_shows_the_same_note_without_a_second_start() -> None:
    async def scenario() -> None:
        notes = Notes()
        notes.shell.attach()
        notes.shell.handlers.on_input("Keep me")
        started = notes.spawned
        notes.screen.state = ("", "")
        notes.shell.redrawn()
        assert notes.screen.texts[-1] == "Keep me"
        assert notes.screen.state[0] == "draft"
        assert notes.spawned == started, "no second ticker"

    run(scenario())


def test_an_outcome_click_is_saved_at_once_pressed_on_screen_and_kept_by_a_reload() -> None:
    async def scenario() -> None:
        store = MemoryStore()
        notes = Notes(store=store, rest=FakeRest([RestTimeout(ADD_METHOD, 20.0)]))
        notes.shell.attach()
        notes.shell.handlers.on_outcome("no-answer")
        assert notes.screen.outcome == "no-answer"
        await settle()
        comment = notes.rest.calls[0][1]["fields"]["COMMENT"]  # type: ignore[index]
        assert comment.endswith(". No answer")
        assert notes.screen.state[0] == "failed"
        notes.shell.handlers.on_outcome("<script>")  # not ours: ignored
        assert notes.screen.outcome == "no-answer"

        again = Notes(store=store)
        again.shell.attach()
        assert again.screen.outcome == "no-answer" and again.screen.state[0] == "draft"
        again.shell.before_close()
        await settle()
        # The add whose answer never came is looked for first (it is not there), then made.
        assert [method for method, _ in again.rest.calls] == ["crm.timeline.comment.list",
                                                             ADD_METHOD]
        assert again.rest.calls[1][1]["fields"]["COMMENT"].endswith(". No answer")  # type: ignore[index]

    run(scenario())


def berlin_offset(when: datetime) -> int:
    """Central European time: +01:00, and +02:00 from the last Sunday of March, 02:00 (2027:
    28 March) to the last Sunday of October (31 October), as the browser would answer."""
    summer = datetime(2027, 3, 28, 2, 0) <= when < datetime(2027, 10, 31, 3, 0)
    return 120 if summer else 60


def test_a_call_back_across_a_clock_change_is_due_at_the_hour_on_the_operators_clock() -> None:
    """Asked on Saturday evening for "tomorrow at 10:00" while the clocks go forward that night:
    the deadline carries Sunday's offset (+02:00), not Saturday's, or the to-do would be due at
    11:00 on the operator's clock."""
    async def scenario() -> None:
        asked: list[datetime] = []

        def offset_at(when: datetime) -> int:
            asked.append(when)
            return berlin_offset(when)

        notes = Notes(local=datetime(2027, 3, 27, 18, 40), utc_offset_at=offset_at)
        notes.shell.attach()
        notes.shell.client_named(IVAN, "Ivan Petrov")
        notes.shell.handlers.on_callback("tomorrow", None)
        await settle()
        [(_, plan)] = notes.rest.calls
        assert plan is not None
        assert plan["todo"][1]["deadline"] == "2027-03-28T10:00:00+02:00"
        assert asked == [datetime(2027, 3, 28, 10, 0)]
        # A time picked before the change keeps the winter offset.
        notes.shell.handlers.on_callback("at", "2027-03-27T21:15")
        await settle()
        moved = notes.rest.calls[-1][1]
        assert moved is not None and "2027-03-27T21:15:00+01:00" in repr(moved)

    run(scenario())


def test_a_call_back_is_one_batch_that_makes_the_operator_responsible() -> None:
    async def scenario() -> None:
        notes = Notes()
        notes.shell.attach()
        notes.shell.client_named(IVAN, "Ivan Petrov")
        notes.shell.handlers.on_callback("hour", None)
        assert notes.screen.callback == ("Creating a to-do for 2 Dec 2026, 11:30…", "creating")
        assert notes.card.commands == []  # not yet performed: spawned
        await settle()
        [(method, plan)] = notes.rest.calls
        assert method == "batch" and plan is not None
        assert plan["me"] == ["user.current", {}]
        todo_method, params = plan["todo"]
        assert todo_method == "crm.activity.todo.add"
        assert params == {"ownerTypeId": 3, "ownerId": 17,
                          "deadline": "2026-12-02T11:30:00+00:00",
                          "title": "Call back Ivan Petrov",
                          "description": "Call back +79001234567. Set from the call card.",
                          "responsibleId": "$result[me][ID]"}
        assert notes.screen.callback == ("To-do created: call back 2 Dec 2026, 11:30",
                                         "created")
        # It held the card while it was on its way, and lets go once it is in the CRM and the
        # operator's click is a few seconds old.
        assert notes.card.commands == ["disableAutoClose"]
        notes.now += 5
        notes.shell.handlers.on_activity()
        await settle()
        assert notes.card.commands == ["disableAutoClose", "enableAutoClose"]

    run(scenario())


def test_a_call_back_needs_a_client_and_a_future_time() -> None:
    async def scenario() -> None:
        notes = Notes()
        notes.shell.attach()
        notes.shell.handlers.on_callback("at", "2020-01-01T10:00")
        assert notes.screen.callback == ("Choose a time in the future.", "refused")
        notes.shell.handlers.on_callback("at", "")
        assert notes.screen.callback == ("Choose the date and time to call back first.", "refused")
        notes.shell.status_changed(CallStatus(call_id="call-1", phone=CALL.phone))
        notes.shell.handlers.on_callback("tomorrow", None)
        assert notes.screen.callback[1] == "refused"
        assert "Link the call to a client" in (notes.screen.callback[0] or "")
        await settle()
        assert notes.rest.calls == []

    run(scenario())


def test_a_call_back_that_timed_out_survives_a_reload_and_is_not_added_twice() -> None:
    async def scenario() -> None:
        store = MemoryStore()
        notes = Notes(store=store, rest=FakeRest([RestTimeout("batch", 20.0)]))
        notes.shell.attach()
        notes.shell.handlers.on_callback("tomorrow", None)
        await settle()
        assert notes.screen.callback[1] == "retrying"
        again = Notes(store=store, rest=FakeRest([[{
            "ID": "955", "SUBJECT": "Call back contact 17",
            "DEADLINE": "2026-12-03T10:00:00+00:00"}]]))
        again.shell.attach()
        await settle()
        assert [method for method, _ in again.rest.calls] == ["crm.activity.list"]
        assert again.screen.callback == ("To-do created: call back 3 Dec 2026, 10:00",
                                         "created")

    run(scenario())


def test_a_call_back_in_a_browser_that_refuses_storage_still_reaches_the_crm() -> None:
    async def scenario() -> None:
        notes = Notes(store=RefusingStore())
        notes.shell.attach()
        notes.shell.handlers.on_callback("hour", None)
        await settle()
        assert [method for method, _ in notes.rest.calls] == ["batch"]
        assert notes.screen.callback[1] == "created"
        assert notes.screen.drafts_notes == [EN("notes.drafts_off")], "said once"

    run(scenario())


def test_a_save_whose_answer_was_lost_finds_its_comment_instead_of_adding_a_second() -> None:
    async def scenario() -> None:
        rest = FakeRest([RestTimeout(ADD_METHOD, 20.0)])
        notes = Notes(rest=rest)
        notes.shell.attach()
        notes.shell.handlers.on_input("Wants the offer by Friday")
        notes.shell.handlers.on_save()
        await settle()
        sent = rest.calls[0][1]["fields"]["COMMENT"]  # type: ignore[index]
        rest.answers.append([{"ID": "77", "COMMENT": sent + "\r\n"}])  # the portal has it
        notes.shell.handlers.on_save()
        await settle()
        assert [method for method, _ in rest.calls] == [ADD_METHOD, "crm.timeline.comment.list"]
        assert notes.screen.state[0] == "saved"
        notes.shell.handlers.on_input("Wants the offer by Friday, 10 seats")
        notes.shell.handlers.on_save()
        await settle()
        assert rest.calls[-1][0] == UPDATE_METHOD and rest.calls[-1][1]["id"] == 77  # type: ignore[index]

    run(scenario())


class HangingRest(FakeRest):
    """A portal whose answer never comes while the page is alive (it dies first)."""

    async def call_method(self, method: str, params: Mapping[str, Any] | None = None, *,
                          timeout: float = 8.0) -> Any:
        self.calls.append((method, params))
        await asyncio.Event().wait()


def test_a_page_that_dies_during_an_add_leaves_the_next_one_looking_for_it() -> None:
    async def scenario() -> None:
        store = MemoryStore()
        dying = Notes(store=store, rest=HangingRest())
        dying.shell.attach()
        dying.shell.handlers.on_input("Call me after lunch")
        dying.shell.handlers.on_save()
        await settle()
        sent = dying.rest.calls[0][1]["fields"]["COMMENT"]  # type: ignore[index]
        # The page is gone. The next card of this call looks before adding.
        again = Notes(store=store, rest=FakeRest([[{"ID": "88", "COMMENT": sent}]]))
        again.shell.attach()
        again.shell.before_close()
        await settle()
        assert [method for method, _ in again.rest.calls] == ["crm.timeline.comment.list"]
        assert again.screen.state[0] == "saved"
        assert not [key for key in list(store.keys()) if key.startswith("callcard:draft:adding:")]

    run(scenario())
