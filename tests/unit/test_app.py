"""The controller's shell under CPython: fakes of the bridge, the CALL_CARD facade, the view and
the notes (the ports of callcard/ports.py) show that it performs the card machine's effects as the
page needs them: the page states before there is a call, one first render, notes attached once
(also across a retry), host events reaching the card, and a start that never raises.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Mapping
from typing import Any

from aio import run, settle

from bx24_bridge.callcard_events import EntityChange
from bx24_bridge.crm_refs import CrmRef, EntityType
from bx24_bridge.errors import BridgeUnavailable, CommandTimeout
from bx24_bridge.payloads import CallState, CallStatus
from bx24_bridge.phone_numbers import CallerNumber
from bx24_bridge.rest import RestOutcome
from callcard.app import CallCardApp
from callcard.i18n import Translator
from callcard.ports import Spawn
from callcard.present import CardText, ClientText, CrmLink

IVAN = CrmRef(EntityType.CONTACT, 17)
ROMASHKA = CrmRef(EntityType.COMPANY, 5)
CALL = CallStatus(call_id="call-1", phone=CallerNumber("number", "+79001234567"), entity=IVAN,
                  state=CallState.CONNECTING)




class FakeBridge:
    def __init__(self, *, available: bool = True, init_error: Exception | None = None) -> None:
        self.available = available
        self._init_error = init_error
        self.batches: list[Mapping[str, Any]] = []
        self.opened: list[str] = []
        self.open_answer = True
        self.fits = 0
        self.methods: list[tuple[str, Mapping[str, Any] | None]] = []
        self.method_answers: list[object] = []

    async def init(self) -> None:
        if self._init_error is not None:
            raise self._init_error

    def lang(self) -> str:
        return "ru"

    def domain(self) -> str:
        return "portal.bitrix24.ru"

    def fit_window(self) -> None:
        self.fits += 1

    async def open_path(self, path: str) -> bool:
        self.opened.append(path)
        return self.open_answer

    async def call_batch(self, plan: Mapping[str, tuple[str, Mapping[str, Any]]]) -> Any:
        self.batches.append(plan)
        return {key: RestOutcome(data=None) for key in plan}

    async def call_method(self, method: str, params: Mapping[str, Any] | None = None, *,
                          timeout: float = 8.0) -> Any:
        self.methods.append((method, params))
        answer = self.method_answers.pop(0) if self.method_answers else None
        if isinstance(answer, Exception):
            raise answer
        return answer


Callback = Callable[..., Awaitable[None] | None]


class FakeCard:
    """CALL_CARD: getStatus answers come from ``answers`` (an exception is raised)."""

    def __init__(self, *, options: CallStatus | None = CALL, placement: bool = True,
                 answers: list[CallStatus | Exception] | None = None) -> None:
        self._options = options
        self._placement = placement
        self.answers = list(answers if answers is not None else [CALL])
        self.asked: list[bool] = []
        self.handlers: dict[str, Callback] = {}
        self.gate: asyncio.Event | None = None

    def in_call_card(self) -> bool:
        return self._placement

    def options_status(self) -> CallStatus | None:
        return self._options

    async def status(self, *, fallback: bool = True) -> CallStatus:
        self.asked.append(fallback)
        if self.gate is not None:
            await self.gate.wait()
        answer = self.answers.pop(0) if self.answers else CALL
        if isinstance(answer, Exception):
            raise answer
        return answer

    def on_state_changed(self, callback: Callback) -> object:
        self.handlers["state"] = callback
        return object()

    def on_entity_changed(self, callback: Callback) -> object:
        self.handlers["entity"] = callback
        return object()

    def on_before_close(self, callback: Callback) -> object:
        self.handlers["close"] = callback
        return object()


class FakeView:
    def __init__(self, *, fail_show: int = 0) -> None:
        self.calls: list[str] = []
        self.texts: list[CardText] = []
        self.clients: list[tuple[str, str]] = []
        self.timers: list[str] = []
        self.retry: Callable[[], Any] | None = None
        self.on_link: Callable[[CrmLink], Any] | None = None
        self.new_tabs: list[str] = []
        self._fail_show = fail_show

    def set_language(self, t: Translator) -> None:
        self.calls.append(f"language {t.lang}")

    def show_outside(self, t: Translator) -> None:
        self.calls.append("outside")

    def show_error(self, t: Translator, on_retry: Callable[[], Any]) -> None:
        self.calls.append("error")
        self.retry = on_retry

    def show_card(self, t: Translator, text: CardText, client: ClientText, *,
                  on_link: Callable[[CrmLink], Any],
                  on_client_retry: Callable[[], Any] = lambda: None,
                  on_create_lead: Callable[[], Any] = lambda: None,
                  notes: bool = False) -> None:
        if self._fail_show:
            self._fail_show -= 1
            raise RuntimeError("the DOM said no")
        self.calls.append("card")
        self.texts.append(text)
        self.on_link = on_link
        self.on_create_lead = on_create_lead

    def update(self, text: CardText) -> None:
        self.texts.append(text)

    def update_timer(self, timer: str) -> None:
        self.timers.append(timer)

    def update_client(self, client: ClientText) -> None:
        self.clients.append((client.name, client.details))

    def height_changed(self) -> bool:
        return True

    def open_in_new_tab(self, href: str) -> None:
        self.new_tabs.append(href)

    def wire_notes(self, notes: Any) -> None:
        self.calls.append("wire notes")

    def perform_early_actions(self) -> None:
        self.calls.append("early actions")


class FakeNotes:
    made: list[FakeNotes]

    def __init__(self, status: CallStatus) -> None:
        self.status = status
        self.handlers = object()
        self.calls: list[str] = []

    def attach(self) -> None:
        self.calls.append("attach")

    def redrawn(self) -> None:
        self.calls.append("redrawn")

    def status_changed(self, status: CallStatus) -> None:
        self.calls.append(f"status {status.entity}")

    def client_named(self, ref: CrmRef, name: str) -> None:
        self.calls.append(f"named {name}")

    def call_ended(self) -> None:
        self.calls.append("ended")

    def call_started(self) -> None:
        self.calls.append("started")

    def before_close(self) -> None:
        self.calls.append("before close")


class World:
    def __init__(self, *, bridge: FakeBridge | None = None, card: FakeCard | None = None,
                 view: FakeView | None = None) -> None:
        self.bridge = bridge or FakeBridge()
        self.card = card or FakeCard()
        self.view = view or FakeView()
        self.notes: list[FakeNotes] = []
        self.now = 100.0
        self.app = CallCardApp(bridge=self.bridge, card=self.card, view=self.view,
                               notes=self.make_notes, clock=lambda: self.now)

    def make_notes(self, status: CallStatus, t: Translator, spawn: Spawn) -> FakeNotes:
        notes = FakeNotes(status)
        self.notes.append(notes)
        return notes


# --------------------------------------------------------------------------- page states


def test_no_library_means_outside() -> None:
    async def scenario() -> None:
        world = World(bridge=FakeBridge(available=False))
        await world.app.start()
        assert world.view.calls == ["outside"]

    run(scenario())


def test_an_init_that_never_completes_means_outside() -> None:
    async def scenario() -> None:
        world = World(bridge=FakeBridge(init_error=BridgeUnavailable("no answer")))
        await world.app.start()
        assert world.view.calls == ["outside"]

    run(scenario())


def test_another_placement_means_outside_in_the_portal_s_language() -> None:
    async def scenario() -> None:
        world = World(card=FakeCard(placement=False))
        await world.app.start()
        assert world.view.calls == ["language ru", "outside"]
        assert world.card.handlers == {}

    run(scenario())


# --------------------------------------------------------------------------- first render


def test_the_card_is_drawn_from_the_options_before_getstatus_answers() -> None:
    async def scenario() -> None:
        world = World()
        world.card.gate = asyncio.Event()
        start = asyncio.ensure_future(world.app.start())
        await settle()
        assert world.view.calls[:2] == ["language ru", "card"]
        assert world.card.asked == [False]  # once drawn, the options never stand in again
        assert world.view.texts[0].caller_number == "+7 900 123-45-67"
        # The notes come a moment after the card, once.
        assert len(world.notes) == 1 and world.notes[0].calls[0] == "attach"
        assert not start.done(), "start() ends with the first getStatus answer"
        world.card.gate.set()
        await start
        assert world.bridge.fits > 0

    run(scenario())


def test_a_failed_first_getstatus_shows_the_error_and_retry_draws_the_card() -> None:
    async def scenario() -> None:
        world = World(card=FakeCard(options=None, answers=[CommandTimeout("getStatus", 5.0), CALL]))
        await world.app.start()
        assert world.view.calls[-1] == "error"
        assert world.card.asked == [True]
        assert world.view.retry is not None
        world.view.retry()
        await settle()
        assert world.view.calls[-1] != "error" and "card" in world.view.calls
        assert world.card.asked == [True, True]
        assert len(world.notes) == 1 and world.notes[0].calls == ["attach"]

    run(scenario())


def test_a_first_render_that_raises_shows_the_error_and_start_does_not_raise() -> None:
    async def scenario() -> None:
        world = World(view=FakeView(fail_show=1))
        await world.app.start()
        assert world.view.calls[-1] == "error"
        assert world.view.retry is not None
        world.view.retry()
        await settle()
        assert "card" in world.view.calls

    run(scenario())


def test_a_retry_with_notes_attached_redraws_them_without_a_second_start() -> None:
    async def scenario() -> None:
        world = World(card=FakeCard(answers=[CALL, CALL]))
        await world.app.start()
        await settle()
        notes = world.notes[0]
        assert notes.calls.count("attach") == 1
        world.app._retry()  # what the error state's button does
        await settle()
        assert world.view.calls.count("card") == 2
        assert len(world.notes) == 1, "the same notes stay"
        assert notes.calls.count("attach") == 1 and notes.calls.count("redrawn") == 1

    run(scenario())


# --------------------------------------------------------------------------- host events


def test_host_events_reach_the_card_and_the_notes() -> None:
    async def scenario() -> None:
        world = World()
        await world.app.start()
        await settle()
        notes = world.notes[0]
        world.now = 101.0
        world.card.handlers["state"](CallState.CONNECTED, None)
        assert world.view.texts[-1].call_state == "Разговор"
        assert notes.calls[-1] == "started"
        world.now = 103.5
        await asyncio.sleep(0.02)
        world.card.handlers["entity"](EntityChange(CallerNumber("number", "+74950000000"),
                                                   ROMASHKA))
        assert world.view.texts[-1].caller_number == "+7 495 000-00-00"
        assert f"status {ROMASHKA}" in notes.calls
        await settle()
        assert world.card.asked == [False, False], "the entity change asks for the status"
        world.card.handlers["close"]()
        assert notes.calls[-1] == "before close"

    run(scenario())


def test_before_close_before_the_notes_attach_attaches_them_at_once() -> None:
    async def scenario() -> None:
        world = World()
        world.card.gate = asyncio.Event()
        start = asyncio.ensure_future(world.app.start())
        for _ in range(3):  # up to the first render, not the next task's attach
            if "card" in world.view.calls:
                break
            await asyncio.sleep(0)
        assert "card" in world.view.calls and world.notes == []
        world.card.handlers["close"]()
        assert len(world.notes) == 1
        assert world.notes[0].calls == ["attach", "before close"]
        world.card.gate.set()
        await start
        await settle()
        assert len(world.notes) == 1 and world.notes[0].calls.count("attach") == 1

    run(scenario())


def test_the_talk_timer_ticks_from_the_clock() -> None:
    async def scenario() -> None:
        talking = CallStatus(call_id="call-1", entity=IVAN, state=CallState.CONNECTED)
        world = World(card=FakeCard(options=talking, answers=[talking]))
        await world.app.start()
        world.now = 165.0
        await asyncio.sleep(1.1)
        assert world.view.timers and world.view.timers[-1] == "1:05"
        world.now = 166.5
        world.card.handlers["state"](CallState.IDLE, None)
        assert world.view.texts[-1].call_timer == "1:06"  # frozen at the end

    run(scenario())


def test_a_link_opens_in_the_portal_or_else_in_a_new_tab() -> None:
    async def scenario() -> None:
        world = World()
        await world.app.start()
        link = world.view.texts[0].crm_entity
        assert link is not None and world.view.on_link is not None
        world.view.on_link(link)
        await settle()
        assert world.bridge.opened == [link.path] and world.view.new_tabs == []
        world.bridge.open_answer = False
        world.view.on_link(link)
        await settle()
        assert world.view.new_tabs == [link.href]

    run(scenario())
