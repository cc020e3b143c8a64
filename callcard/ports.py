"""What the card's shell needs from the world, as small typed ports.

The controller (callcard/app.py) runs :class:`~callcard.card_machine.CardMachine`'s effects
against these, so it can be driven under CPython by fakes that keep the same shape: the bridge
(``bx24_bridge.Bridge``), the CALL_CARD facade (``bx24_bridge.callcard.CallCard``) and the view
(``callcard.view.CardView``) satisfy them structurally. Pure: no browser import.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Coroutine, Mapping
from datetime import datetime
from typing import Any, Protocol

from bx24_bridge.callcard_events import EntityChange
from bx24_bridge.payloads import CallState, CallStatus
from bx24_bridge.rest import RestOutcome
from bx24_bridge.values import Value

from .i18n import Translator
from .pending_notes import NotesEvents
from .present import CardText, ClientText, CrmLink

__all__ = [
    "AutoClose",
    "CardBridge",
    "CardHost",
    "CardNotes",
    "CardScreen",
    "Clock",
    "LocalTime",
    "NotesFactory",
    "NotesHandlers",
    "NotesScreen",
    "OtherNoteText",
    "RestCalls",
    "Spawn",
]

Clock = Callable[[], float]
"""Seconds from a monotonic clock."""

LocalTime = Callable[[float], datetime]
"""The operator's local date and time, to the minute, so many seconds from now."""

Spawn = Callable[[Coroutine[Any, Any, Any]], "asyncio.Future[Any]"]
"""Runs a coroutine in the background, owned (and its failures logged) by the controller."""


class CardBridge(Protocol):
    """The parts of ``bx24_bridge.Bridge`` the card uses."""

    @property
    def available(self) -> bool: ...
    async def init(self) -> None: ...
    def lang(self) -> str: ...
    def domain(self) -> str: ...
    def fit_window(self) -> None: ...
    async def open_path(self, path: str) -> bool: ...
    async def call_batch(self, plan: Mapping[str, tuple[str, Mapping[str, Any]]]) -> Any: ...
    async def call_method(self, method: str, params: Mapping[str, Any] | None = None, *,
                          timeout: float = ...) -> Any: ...


class CardHost(Protocol):
    """The CALL_CARD placement (``bx24_bridge.callcard.CallCard``)."""

    def in_call_card(self) -> bool: ...
    def options_status(self) -> CallStatus | None: ...
    async def status(self, *, fallback: bool = True) -> CallStatus: ...
    def on_state_changed(
        self, callback: Callable[[CallState | None, str | None], Awaitable[None] | None],
    ) -> object: ...
    def on_entity_changed(
        self, callback: Callable[[EntityChange], Awaitable[None] | None],
    ) -> object: ...
    def on_before_close(self, callback: Callable[[], Awaitable[None] | None]) -> object: ...


class CardNotes(NotesEvents, Protocol):
    """The notes of a card (``callcard.notes_shell.NotesShell``), as the controller drives them:
    what it tells them (:class:`~callcard.pending_notes.NotesEvents`), and their start."""

    @property
    def handlers(self) -> NotesHandlers:
        """What the view wires to the notes controls (:class:`NotesHandlers`)."""
        ...

    def attach(self) -> None:
        """Once, when the view first has the controls: restore, then start."""
        ...

    def redrawn(self) -> None:
        """The view drew the controls anew (a retry): show the notes on them again."""
        ...



NotesFactory = Callable[[CallStatus, Translator, Spawn], CardNotes]
"""Makes the notes of a card from the status of its first render, in the portal's language,
spawning their background work through the controller."""


class CardScreen(Protocol):
    """The card's view (``callcard.view.CardView``)."""

    def set_language(self, t: Translator) -> None: ...
    def show_outside(self, t: Translator) -> None: ...
    def show_error(self, t: Translator, on_retry: Callable[[], Any]) -> None: ...
    def show_card(self, t: Translator, text: CardText, client: ClientText, *,
                  on_link: Callable[[CrmLink], Any],
                  on_client_retry: Callable[[], Any] = ...,
                  on_create_lead: Callable[[], Any] = ..., notes: bool = ...) -> None: ...
    def update(self, text: CardText) -> None: ...
    def update_timer(self, timer: str) -> None: ...
    def update_client(self, client: ClientText) -> None: ...
    def height_changed(self) -> bool: ...
    def open_in_new_tab(self, href: str) -> None: ...
    def wire_notes(self, notes: NotesHandlers) -> None: ...
    def perform_early_actions(self) -> None: ...


class RestCalls(Protocol):
    """REST calls (``bx24_bridge.Bridge.call_method`` and ``call_batch``)."""

    async def call_method(self, method: str, params: Mapping[str, Any] | None = None, *,
                          timeout: float = ...) -> Any: ...
    async def call_batch(self, calls: Mapping[str, tuple[str, Mapping[str, Any]]], *,
                         timeout: float = ...) -> Mapping[str, RestOutcome]: ...


class AutoClose(Protocol):
    """The card's auto-close commands (``bx24_bridge.callcard.CallCard``)."""

    async def keep_open(self) -> None: ...
    async def allow_close(self) -> None: ...


class NotesHandlers(Value):
    """What the notes controls call: plain callables, so the view stays free of logic."""

    on_input: Callable[[str], Any]
    on_save: Callable[[], Any]
    on_keep_open: Callable[[bool], Any]
    on_close_now: Callable[[], Any]
    on_activity: Callable[[], Any]
    on_outcome: Callable[[str], Any] = lambda _value: None
    """An outcome button was pressed, with its ``data-outcome``."""
    on_callback: Callable[[str, str | None], Any] = lambda _choice, _at: None
    """A call-back choice (``data-callback``), with the date field's value for "at"."""
    max_length: int = 10_000


class OtherNoteText(Value):
    """One line about another client's unsaved note, and its text when it has nowhere to go
    (so the operator can copy it)."""

    line: str
    text: str | None = None


class NotesScreen(Protocol):
    """The notes controls of the view (``callcard.view.CardView``)."""

    def set_notes_state(self, state: str, text: str, *, saving: bool) -> None: ...
    def set_notes_text(self, text: str) -> None: ...
    def set_outcome(self, outcome: str | None) -> None: ...
    def set_callback(self, text: str | None, state: str | None) -> None: ...
    def set_keep_open(self, checked: bool) -> None: ...
    def set_drafts_note(self, text: str) -> None: ...
    def set_hold(self, text: str | None, *, close_now: bool) -> None: ...
    def set_other_notes(self, items: tuple[OtherNoteText, ...]) -> None: ...
