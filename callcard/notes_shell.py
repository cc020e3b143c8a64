"""The browser half of the notes: it performs what :class:`~callcard.notes.NotesMachine` decides.

The machine is pure and holds every rule (what is unsaved, when to save, when the card may
close). This shell only turns its effects into actions (localStorage, the REST save, the
auto-close commands, the textarea) and feeds the outcomes back as events, with the clock's time.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Coroutine
from datetime import datetime
from typing import Any

import js  # type: ignore[import-not-found]

from bx24_bridge.errors import BridgeError
from bx24_bridge.payloads import CallStatus, parse_id

from .drafts import DraftStore
from .i18n import Translator
from .notes import (
    COMMENT_METHOD,
    MAX_NOTE_LEN,
    AddComment,
    BeforeClose,
    CallEnded,
    CommentHeader,
    DisableAutoClose,
    DraftRestored,
    EnableAutoClose,
    Event,
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
)
from .view import NotesHandlers

logger = logging.getLogger("callcard.notes")

TICK_SECONDS = 0.25  # drives the debounce and the auto-close renewals
SAVE_TIMEOUT = 20.0


class BrowserStorage:
    """``window.localStorage`` as a KeyValueStore; a sandboxed iframe may refuse it entirely."""

    def __init__(self) -> None:
        try:
            self._storage = js.window.localStorage
        except Exception:  # SecurityError: storage disabled for this frame
            self._storage = None

    def get(self, key: str) -> str | None:
        value = self._storage.getItem(key) if self._storage is not None else None
        return value if isinstance(value, str) else None

    def set(self, key: str, value: str) -> None:
        if self._storage is None:
            raise OSError("localStorage is not available")
        self._storage.setItem(key, value)

    def remove(self, key: str) -> None:
        if self._storage is not None:
            self._storage.removeItem(key)

    def keys(self) -> list[str]:
        if self._storage is None:
            return []
        return [str(self._storage.key(i)) for i in range(int(self._storage.length))]


def wall_clock() -> float:
    """Seconds since the epoch, for draft ages (they outlive the page)."""
    return float(js.Date.now()) / 1000.0


def local_now() -> datetime:
    """The operator's local date and time (Pyodide's own time zone is UTC)."""
    now = js.Date.new()
    return datetime(int(now.getFullYear()), int(now.getMonth()) + 1, int(now.getDate()),
                    int(now.getHours()), int(now.getMinutes()))


class NotesShell:
    """Notes of one call: the machine, its draft store, and the view's notes controls."""

    def __init__(
        self, *, bridge: Any, card: Any, view: Any, status: CallStatus, t: Translator,
        portal: str, clock: Callable[[], float],
        spawn: Callable[[Coroutine[Any, Any, Any]], asyncio.Future[Any]],
    ) -> None:
        self._bridge = bridge
        self._card = card
        self._view = view
        self._t = t
        self._clock = clock
        self._spawn = spawn
        self._call_id = status.call_id
        self._drafts = DraftStore(BrowserStorage(), portal or "local")
        header = CommentHeader(direction=status.direction, number=status.phone,
                               started=local_now())
        self._machine = NotesMachine(header=header, target=choose_target(status), t=t)
        self._ticker: asyncio.Future[None] | None = None
        self.handlers = NotesHandlers(
            on_input=lambda text: self._handle(TextChanged(text[:MAX_NOTE_LEN], self._clock())),
            on_save=lambda: self._handle(SaveRequested(self._clock())),
            on_keep_open=lambda checked: self._handle(KeepOpenChanged(checked, self._clock())),
        )

    # ------------------------------------------------------------------ lifecycle

    def attach(self) -> None:
        """After the view has the controls: restore this call's draft, prune old ones, tick."""
        try:
            self._drafts.prune(wall_clock())
        except Exception:  # a broken store must never stop the card
            logger.exception("pruning old drafts failed")
        draft = self._drafts.load(self._call_id) if self._call_id else None
        if draft is not None:
            self._handle(DraftRestored(draft.text, self._clock()))
        self._render()
        self._ticker = self._spawn(self._tick())

    def status_changed(self, status: CallStatus) -> None:
        """The CRM item to attach to may change (a lead created from the card, a refresh)."""
        if status.call_id and self._call_id and status.call_id != self._call_id:
            logger.warning("the call changed under the notes (%s); keeping them with the first",
                           "new CALL_ID")
            return
        self._handle(TargetChanged(choose_target(status)))

    def call_ended(self) -> None:
        self._handle(CallEnded(self._clock()))

    def before_close(self) -> None:
        self._handle(BeforeClose(self._clock()))

    async def _tick(self) -> None:
        while True:
            await asyncio.sleep(TICK_SECONDS)
            self._handle(Tick(self._clock()))

    # ------------------------------------------------------------------ effects

    def _handle(self, event: Event) -> None:
        for effect in self._machine.handle(event):
            self._perform(effect)
        self._render()

    def _perform(self, effect: object) -> None:
        match effect:
            case StoreDraft(text=text):
                if self._call_id and not self._drafts.save(self._call_id, text, wall_clock()):
                    logger.warning("the draft could not be stored locally")
            case RemoveDraft():
                if self._call_id:
                    self._drafts.remove(self._call_id)
            case SetText():
                self._view.set_notes_text(self._machine.text)
            case DisableAutoClose():
                self._spawn(self._command(self._card.keep_open, "disableAutoClose"))
            case EnableAutoClose():
                self._spawn(self._command(self._card.allow_close, "enableAutoClose"))
            case AddComment():
                self._spawn(self._save(effect))
            case _:
                logger.error("unknown notes effect %r", effect)

    async def _command(self, command: Callable[[], Any], name: str) -> None:
        try:
            await command()
        except BridgeError as exc:  # the machine renews on its own schedule; just log
            logger.warning("%s failed: %s", name, exc)

    async def _save(self, effect: AddComment) -> None:
        params = {"fields": effect.target.fields(effect.comment)}
        try:
            answer = await self._bridge.call_method(COMMENT_METHOD, params, timeout=SAVE_TIMEOUT)
        except BridgeError as exc:
            self._handle(SaveFailed(str(exc), self._clock(), effect.attempt))
            return
        self._handle(SaveSucceeded(parse_id(answer), self._clock(), effect.attempt))

    # ------------------------------------------------------------------ view

    def _render(self) -> None:
        state = self._machine.state
        if self._machine.message_key:
            text = self._t(self._machine.message_key)
        elif state is NotesState.FAILED:
            text = self._t.format("notes.state.failed", reason=self._machine.error or "?")
        else:
            text = self._t(f"notes.state.{state.value}")
        self._view.set_notes_state(state.value, text, saving=state is NotesState.SAVING)
        self._view.set_keep_open(self._machine.keep_open)
