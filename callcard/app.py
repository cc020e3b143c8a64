"""The controller's shell: it runs :class:`~callcard.card_machine.CardMachine` in the browser.

Data flows one way, Bitrix24 -> bridge -> machine -> view. The machine decides everything about
the call, its client and the order of answers; this shell starts the bridge, decides the page
state before there is a call (outside Bitrix24, or not in CALL_CARD), feeds the machine the host's
events and the answers to what it asked, and performs the effects it returns against small ports
(callcard/ports.py): the view, the bridge, the client loader, the notes and the clock. It holds
no DOM code, parses no host payload and keeps no state about the call.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Coroutine, Mapping
from typing import TYPE_CHECKING, Any

from bx24_bridge.callcard_events import EntityChange
from bx24_bridge.crm_refs import CrmRef
from bx24_bridge.errors import BridgeError, BridgeUnavailable, RestError, RestTimeout
from bx24_bridge.payloads import CallState, CallStatus

from . import new_lead
from .card_machine import (
    AskStatus,
    BeforeClose,
    CardEffect,
    CardEvent,
    CardMachine,
    ClientAnswered,
    ClientRetryRequested,
    CreateLead,
    EntityChanged,
    LeadAnswered,
    LeadRequested,
    LoadClient,
    NotesBeforeClose,
    NotesCallEnded,
    NotesCallStarted,
    NotesClientNamed,
    NotesStatus,
    Opened,
    Render,
    RenderClient,
    RetryRequested,
    ShowCard,
    ShowError,
    ShowTimer,
    StartTicking,
    StateChanged,
    StatusAnswered,
    StatusFailed,
    Tick,
)
from .i18n import Translator, pick_language
from .pending_notes import PendingNotes
from .present import CrmLink, portal_origin

if TYPE_CHECKING:  # (types only: these modules load after the first render, or never)
    from .client import ClientInfo, ClientLoader
    from .ports import CardBridge, CardHost, CardNotes, CardScreen, Clock, NotesFactory

logger = logging.getLogger("callcard")

LEAD_TIMEOUT = 20.0


class CallCardApp:
    """Starts the card over a bridge, its CALL_CARD facade and a view; ``start()`` never raises.

    ``notes`` makes the card's notes once the call is on screen (main.py gives the browser's
    :class:`~callcard.notes_shell.NotesShell`; tests give fakes). Nothing here imports the
    browser: CPython runs this shell too (tests/unit/test_app.py).
    """

    def __init__(self, *, bridge: CardBridge, card: CardHost, view: CardScreen,
                 notes: NotesFactory, clock: Clock = time.monotonic) -> None:
        self._bridge = bridge
        self._view = view
        self._clock = clock
        self._card = card
        self._make_notes = notes
        self._started = False
        self._notes: CardNotes | PendingNotes | None = None
        self._asking: asyncio.Future[Any] | None = None
        self._t = Translator("en")
        self._machine: CardMachine | None = None
        self._timer: asyncio.Future[None] | None = None
        self._tasks: set[asyncio.Future[Any]] = set()
        self._client_loader: ClientLoader | None = None

    @property
    def machine(self) -> CardMachine | None:
        return self._machine

    # ------------------------------------------------------------------ start-up

    async def start(self) -> None:
        try:
            await self._start()
        except Exception:  # the last line of defence: a clear state, never a blank card
            logger.exception("the call card failed to start")
            self._view.show_error(self._t, self._retry)

    async def _start(self) -> None:
        if not self._bridge.available:
            self._view.show_outside(self._t)
            return
        try:
            await self._bridge.init()
        except BridgeUnavailable as exc:
            logger.warning("outside Bitrix24: %s", exc)
            self._view.show_outside(self._t)
            return
        self._t = Translator(pick_language(self._bridge.lang()))
        self._view.set_language(self._t)
        card = self._card
        if not card.in_call_card():
            self._view.show_outside(self._t)
            return
        if self._machine is None:
            self._machine = CardMachine(self._t, portal_origin(self._bridge.domain()))
            card.on_state_changed(self._on_state_changed)
            card.on_entity_changed(self._on_entity_changed)
            card.on_before_close(lambda: self._handle(BeforeClose()))
        self._started = True
        self._handle(Opened(card.options_status(), self._clock()))
        if self._asking is not None:
            await self._asking  # start() ends with the first answer (its failures are ours)

    def _retry(self) -> None:
        if not self._started:
            self._spawn(self.start())
        else:
            self._handle(RetryRequested(self._clock()))

    # ------------------------------------------------------------------ events in

    def _on_state_changed(self, state: CallState | None, failed_code: str | None) -> None:
        self._handle(StateChanged(state, failed_code, self._clock()))

    def _on_entity_changed(self, change: EntityChange) -> None:
        self._handle(EntityChanged(change, self._clock()))

    def _on_client(self, info: ClientInfo | None, ref: CrmRef | None) -> None:
        self._handle(ClientAnswered(info, ref, self._clock()))

    def _handle(self, event: CardEvent) -> None:
        if self._machine is None:
            return
        for effect in self._machine.handle(event):
            self._perform(effect)

    # ------------------------------------------------------------------ effects out

    def _perform(self, effect: CardEffect) -> None:
        match effect:
            case ShowCard(text=text, client=client):
                self._view.show_card(self._t, text, client, on_link=self._open_link,
                                     on_client_retry=self._retry_client,
                                     on_create_lead=self._create_lead, notes=True)
                self._notes_drawn()
                self._after_render()
            case Render(text=text):
                self._view.update(text)
            case RenderClient(client=client):
                self._view.update_client(client)
                self._after_render()
            case ShowTimer(timer=timer):
                self._view.update_timer(timer)
            case ShowError():
                self._view.show_error(self._t, self._retry)
            case AskStatus(request=request, fallback=fallback):
                self._asking = self._spawn(self._ask_status(request, fallback))
            case LoadClient(ref=ref, bindings=bindings, forget=forget):
                loader = self._loader()
                if forget and ref is not None:
                    loader.forget(ref)  # the host says the client's data changed
                self._spawn(loader.load(ref, bindings))
            case StartTicking():
                if self._timer is None or self._timer.done():
                    self._timer = self._spawn(self._tick())
            case NotesStatus(status=status):
                if self._notes is not None:
                    self._notes.status_changed(status)
            case NotesCallStarted():
                if self._notes is not None:
                    self._notes.call_started()
            case NotesCallEnded():
                if self._notes is not None:
                    self._notes.call_ended()
            case NotesClientNamed(ref=ref, name=name):
                if self._notes is not None:
                    self._notes.client_named(ref, name)
            case NotesBeforeClose():
                if self._notes is not None:
                    self._notes.before_close()
            case CreateLead():
                self._spawn(self._lead(effect))

    async def _ask_status(self, request: int, fallback: bool) -> None:
        try:
            status = await self._card.status(fallback=fallback)
        except BridgeError as exc:
            logger.warning("no call data: %s", exc)
            self._handle(StatusFailed(request))
            return
        self._handle(StatusAnswered(request, status, self._clock()))

    async def _tick(self) -> None:
        """The talk timer: the time is read from the clock, not counted."""
        machine = self._machine
        while machine is not None:
            self._handle(Tick(self._clock()))
            if not machine.talking:
                return
            await asyncio.sleep(machine.next_tick_in(self._clock()))

    def _after_render(self) -> None:
        if self._view.height_changed():
            self._bridge.fit_window()

    # ------------------------------------------------------------------ notes

    def _notes_drawn(self) -> None:
        """The card was drawn with its notes controls: the notes come (or come back) to them."""
        machine = self._machine
        assert machine is not None and machine.status is not None
        if self._notes is None:
            # The call is on screen (ready) without them: the notes attach a moment later
            # (callcard/pending_notes.py says why and how nothing is lost meanwhile).
            self._notes = PendingNotes(machine.status, self._attach_notes)
            self._spawn(self._attach_notes_soon())
        elif not isinstance(self._notes, PendingNotes):
            self._wire_notes(self._notes, again=True)  # drawn anew (a retry): wired again

    async def _attach_notes_soon(self) -> None:
        await asyncio.sleep(0)  # let the first render's task end (and the status request go)
        try:
            self._attach_notes()
        except Exception:  # as when the notes were part of the first render: a clear state
            logger.exception("the call card's notes failed to start")
            if isinstance(self._notes, PendingNotes):
                self._notes = None  # so that the retry's first render tries them again
            self._view.show_error(self._t, self._retry)

    def _attach_notes(self) -> CardNotes:
        """The notes, made now if they are still pending, with what happened meanwhile."""
        pending = self._notes
        if not isinstance(pending, PendingNotes):
            assert pending is not None
            return pending
        notes = self._new_notes(pending.status)
        self._notes = notes
        self._wire_notes(notes, again=False)
        pending.replay(notes)
        return notes

    def _new_notes(self, status: CallStatus) -> CardNotes:
        return self._make_notes(status, self._t, self._spawn)

    def _wire_notes(self, notes: CardNotes, *, again: bool) -> None:
        self._view.wire_notes(notes.handlers)
        if again:
            notes.redrawn()  # the same notes on new controls: their text, no second start
        else:
            notes.attach()
        self._view.perform_early_actions()

    # ------------------------------------------------------------------ client and links

    def _loader(self) -> ClientLoader:
        """The client loader, made when the first client is loaded: its modules (the CRM's
        records, the batch plan) are imported after the first render, not before it."""
        if self._client_loader is None:
            from .client import ClientLoader

            self._client_loader = ClientLoader(self._bridge_batch, on_change=self._on_client)
        return self._client_loader

    async def _bridge_batch(self, plan: Mapping[str, tuple[str, Mapping[str, Any]]]) -> Any:
        return await self._bridge.call_batch(plan)

    def _create_lead(self) -> None:
        self._handle(LeadRequested(self._clock()))

    async def _lead(self, effect: CreateLead) -> None:
        """``crm.lead.add``; when its answer is lost (or names no lead), the portal is asked
        whether the lead is there before the card says it failed: a second press would make a
        second lead."""
        lead, problem, look = None, None, False
        try:
            lead = new_lead.lead_from_answer(await self._bridge.call_method(
                new_lead.ADD_METHOD, new_lead.lead_params(effect.number, effect.title),
                timeout=LEAD_TIMEOUT))
            look = lead is None
        except RestTimeout:
            look = True
        except RestError as exc:
            logger.warning("the lead was not created: %s", exc)
            problem = new_lead.lead_problem(exc.code)
        except BridgeError as exc:
            logger.warning("the lead was not created: %s", exc)
        if look:
            logger.warning("no lead in the answer to crm.lead.add: looking for it")
            try:
                lead = new_lead.found_lead(await self._bridge.call_method(
                    new_lead.FIND_METHOD, new_lead.find_params(effect.number),
                    timeout=LEAD_TIMEOUT))
            except BridgeError as exc:
                logger.warning("looking for the lead failed: %s", exc)
        self._handle(LeadAnswered(effect.attempt, lead, problem, self._clock()))

    def _retry_client(self) -> None:
        """The operator asks again for a client the portal did not answer about."""
        self._handle(ClientRetryRequested(self._clock()))

    def _open_link(self, link: CrmLink) -> None:
        async def open_it() -> None:
            if not await self._bridge.open_path(link.path):
                self._view.open_in_new_tab(link.href)

        self._spawn(open_it())

    # ------------------------------------------------------------------ plumbing

    def _spawn(self, coro: Coroutine[Any, Any, Any]) -> asyncio.Future[Any]:
        task = asyncio.ensure_future(coro)
        self._tasks.add(task)
        task.add_done_callback(self._finished)
        return task

    def _finished(self, task: asyncio.Future[Any]) -> None:
        self._tasks.discard(task)
        if not task.cancelled() and task.exception() is not None:
            logger.error("background task failed", exc_info=task.exception())
