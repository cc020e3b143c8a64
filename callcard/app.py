"""The controller: data flows one way, Bitrix24 -> bridge -> model -> view.

It decides the page state (ready / outside / error), renders a first view as early as the data
allows (from the placement options, before getStatus answers), and keeps the card in step with
the host's events. It holds no DOM code and parses no host payload itself.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable, Coroutine
from dataclasses import replace
from typing import Any

from bx24_bridge.errors import BridgeError, BridgeUnavailable
from bx24_bridge.payloads import CallState, CallStatus, CrmRef, EntityChange

from .callstate import CallTracker, Phase, format_duration
from .client import ClientInfo, ClientLoader
from .i18n import Translator, pick_language
from .pending_notes import PendingNotes
from .present import ClientText, CrmLink, caller_text, portal_origin, present, present_client

logger = logging.getLogger("callcard")

Clock = Callable[[], float]


def _no_names(_ref: CrmRef) -> str | None:
    return None


class CallCardApp:
    """Starts the card over a bridge and a view; ``start()`` never raises."""

    def __init__(self, *, bridge: Any, view: Any, clock: Clock = time.monotonic) -> None:
        self._bridge = bridge
        self._view = view
        self._clock = clock
        self._notes: Any = None
        self._t = Translator("en")
        self._card: Any = None
        self._status: CallStatus | None = None
        self._tracker: CallTracker | None = None
        self._portal: str | None = None
        self._client: ClientInfo | None = None
        self._client_loading = False
        self._status_generation = 0
        self._state_events = 0  # valid CallStateChanged events seen: is a getStatus answer stale?
        self._early_state: tuple[CallState, str | None] | None = None
        self._timer: asyncio.Future[None] | None = None
        self._tasks: set[asyncio.Future[Any]] = set()
        self._loader = ClientLoader(self._bridge_batch, on_change=self._on_client)

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
        self._portal = portal_origin(self._bridge.domain())

        from bx24_bridge.callcard import CallCard  # needs the browser: imported after init

        self._card = CallCard(self._bridge)
        if not self._card.in_call_card():
            self._view.show_outside(self._t)
            return
        self._card.on_state_changed(self._on_state_changed)
        self._card.on_entity_changed(self._on_entity_changed)
        self._card.on_before_close(self._on_before_close)

        early = self._card.options_status()
        if early is not None:
            self._show_first(early)  # ready at once; getStatus corrects it below
        await self._load_status(first=early is None)

    async def _load_status(self, *, first: bool) -> None:
        generation = self._status_generation = self._status_generation + 1
        events_before = self._state_events
        try:
            # Only the first load may fall back to the placement options: later they would undo
            # every state and client change since the card opened.
            status = await self._card.status(fallback=first)
        except BridgeError as exc:
            logger.warning("no call data: %s", exc)
            if first:
                self._view.show_error(self._t, self._retry)
            return
        if generation != self._status_generation:
            return  # an entity change asked for a newer status meanwhile
        # A state event that arrived while getStatus was under way is at least as new as the
        # answer (the host sends both in order): it wins over the answer's CALL_STATE.
        newer_event = self._state_events != events_before
        if first or self._status is None:
            self._show_first(status)
            early, self._early_state = self._early_state, None
            if newer_event and early is not None:
                self._on_state_changed(*early)
        else:
            if newer_event:
                status = replace(status, state=self._status.state)
            self._correct(status)

    def _show_first(self, status: CallStatus) -> None:
        now = self._clock()
        self._status = status
        self._tracker = CallTracker(status.state, now)
        self._client_loading = status.entity is not None
        self._view.show_card(self._t, self._text(), self._client_text(), on_link=self._open_link,
                             on_client_retry=self._retry_client, notes=True)
        if self._notes is None:
            # The call is on screen (ready) without them: the notes attach a moment later
            # (callcard/pending_notes.py says why and how nothing is lost meanwhile).
            self._notes = PendingNotes(status, self._attach_notes)
            self._spawn(self._attach_notes_soon())
        elif not isinstance(self._notes, PendingNotes):
            self._wire_notes(self._notes)  # drawn anew (a retry): the same notes, wired again
        self._after_render()
        self._follow_timer()
        self._load_client(status.entity)

    async def _attach_notes_soon(self) -> None:
        await asyncio.sleep(0)  # let the first render's task end (and the status request go)
        try:
            self._attach_notes()
        except Exception:  # as when the notes were part of the first render: a clear state
            logger.exception("the call card's notes failed to start")
            if isinstance(self._notes, PendingNotes):
                self._notes = None  # so that the retry's first render tries them again
            self._view.show_error(self._t, self._retry)

    def _attach_notes(self) -> Any:
        """The notes, made now if they are still pending, with what happened meanwhile."""
        pending = self._notes
        if not isinstance(pending, PendingNotes):
            return pending
        from .notes_shell import NotesShell  # browser-only, like the view

        notes = NotesShell(
            bridge=self._bridge, card=self._card, view=self._view, status=pending.status,
            t=self._t, portal=self._bridge.domain(), clock=self._clock, spawn=self._spawn,
        )
        self._notes = notes
        self._wire_notes(notes)
        pending.replay(notes)
        return notes

    def _wire_notes(self, notes: Any) -> None:
        self._view.wire_notes(notes.handlers)
        notes.attach()
        self._view.perform_early_actions()

    def _correct(self, status: CallStatus) -> None:
        """getStatus answered after the first render: it wins over the placement options."""
        assert self._status is not None and self._tracker is not None
        known = (self._status.entity, self._status.bindings)
        self._status = status
        self._tracker.apply(status.state, None, self._clock())
        self._render()
        if (status.entity, status.bindings) != known:
            self._load_client(status.entity)  # (the bindings bring names for their links)
        if self._notes is not None:
            self._notes.status_changed(status)
        self._tell_notes_the_phase()

    def _retry(self) -> None:
        self._spawn(self.start() if self._card is None else self._load_status(first=True))

    # ------------------------------------------------------------------ host events

    def _on_state_changed(self, state: CallState | None, failed_code: str | None) -> None:
        """Follow CallCard::CallStateChanged, whatever shape it arrived in."""
        if state is None:
            return
        self._state_events += 1
        if self._status is None or self._tracker is None:
            self._early_state = (state, failed_code)  # applied once the first status is shown
            return
        self._status = replace(self._status, state=state)
        if self._tracker.apply(state, failed_code, self._clock()):
            self._render()
            self._follow_timer()
        self._tell_notes_the_phase()

    def _tell_notes_the_phase(self) -> None:
        """The notes hold the card with an end that counts only once the call is over."""
        if self._notes is None or self._tracker is None:
            return
        if self._tracker.phase is Phase.ENDED:
            self._notes.call_ended()
        elif self._tracker.phase in (Phase.CONNECTING, Phase.TALKING):
            self._notes.call_started()

    def _on_entity_changed(self, change: EntityChange) -> None:
        """A new client (next in the dialer, a lead created, a refresh): everything follows."""
        if self._status is None:
            return
        refreshed = change.entity is not None and change.entity == self._status.entity
        phone = change.phone if change.phone.kind == "number" else self._status.phone
        bindings = self._status.bindings if refreshed else ()
        self._status = replace(self._status, entity=change.entity, phone=phone, bindings=bindings)
        self._render()
        if refreshed and change.entity is not None:
            self._loader.forget(change.entity)  # the host says the client's data changed
        self._load_client(change.entity)
        if self._notes is not None:
            self._notes.status_changed(self._status)
        # The event carries no bindings: ask the host for the whole picture again.
        self._spawn(self._load_status(first=False))

    def _on_before_close(self) -> None:
        if self._notes is not None:
            self._notes.before_close()

    # ------------------------------------------------------------------ client

    async def _bridge_batch(self, plan: dict[str, tuple[str, dict[str, Any]]]) -> Any:
        return await self._bridge.call_batch(plan)

    def _load_client(self, ref: CrmRef | None) -> None:
        self._client_loading = ref is not None
        self._render_client()
        bindings = self._status.bindings if self._status is not None else ()
        self._spawn(self._loader.load(ref, bindings))

    def _retry_client(self) -> None:
        """The operator asks again for a client the portal did not answer about."""
        if self._status is None or self._status.entity is None:
            return
        self._loader.forget(self._status.entity)
        self._load_client(self._status.entity)

    def _on_client(self, info: ClientInfo | None, ref: CrmRef | None) -> None:
        self._client = info
        self._client_loading = info is None and ref is not None
        if info is not None and self._notes is not None:
            self._notes.client_named(info.entity, info.name)
        if info is not None and self._status is not None:
            self._view.update(self._text())  # the links take the names the CRM gave
        self._render_client()

    # ------------------------------------------------------------------ rendering

    def _text(self) -> Any:
        assert self._status is not None and self._tracker is not None
        client = self._client
        return present(self._status, self._tracker, self._t, portal=self._portal,
                       now=self._clock(), names=client.name_of if client else _no_names)

    def _render(self) -> None:
        self._view.update(self._text())
        self._render_client()

    def _client_text(self) -> ClientText:
        assert self._status is not None
        return present_client(
            self._client, self._t, bound=self._status.entity is not None,
            loading=self._client_loading, number=caller_text(self._status, self._t),
        )

    def _render_client(self) -> None:
        if self._status is None:
            return
        text = self._client_text()
        self._view.update_client(text.name, text.details, text.problem, text.retry)
        self._after_render()

    def _after_render(self) -> None:
        if self._view.height_changed():
            self._bridge.fit_window()

    def _follow_timer(self) -> None:
        """Tick the talk timer while talking; the time is read from the clock, not counted."""
        talking = self._tracker is not None and self._tracker.phase is Phase.TALKING
        if talking and (self._timer is None or self._timer.done()):
            self._timer = self._spawn(self._tick())

    async def _tick(self) -> None:
        while self._tracker is not None and self._tracker.phase is Phase.TALKING:
            elapsed = self._tracker.elapsed(self._clock())
            self._view.update_timer(format_duration(elapsed))
            await asyncio.sleep(1.0 - (elapsed % 1.0) + 0.005)  # wake just past the next second
        self._render()  # the frozen, final time

    # ------------------------------------------------------------------ links

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
