"""The controller: data flows one way, Bitrix24 -> bridge -> model -> view.

It decides the page state (ready / outside / error), renders a first view as early as the data
allows, and keeps the card in step with the host's events.
"""

from __future__ import annotations

import asyncio
import logging
from dataclasses import replace
from typing import Any

from bx24_bridge.errors import BridgeError, BridgeUnavailable

from .i18n import Translator, pick_language
from .present import present

logger = logging.getLogger("callcard")


class CallCardApp:
    """Starts the card over a bridge and a view; ``start()`` never raises."""

    def __init__(self, *, bridge: Any, view: Any) -> None:
        self._bridge = bridge
        self._view = view
        self._t = Translator("en")
        self._card: Any = None
        self._status: Any = None
        self._tasks: set[asyncio.Future[None]] = set()

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

        from bx24_bridge.callcard import CallCard  # needs the browser: imported after init

        self._card = CallCard(self._bridge)
        if not self._card.in_call_card():
            self._view.show_outside(self._t)
            return
        self._card.on_state_changed(self._on_state_changed)
        await self._load_status()

    async def _load_status(self) -> None:
        try:
            self._status = await self._card.status()
        except BridgeError as exc:
            logger.warning("no call data: %s", exc)
            self._view.show_error(self._t, self._retry)
            return
        self._view.show_card(self._t, present(self._status, self._t))
        self._bridge.fit_window()

    def _retry(self) -> None:
        task = asyncio.ensure_future(self.start() if self._card is None else self._load_status())
        self._tasks.add(task)  # keep a reference until it ends, or it may be collected mid-way
        task.add_done_callback(self._tasks.discard)

    def _on_state_changed(self, state: Any, failed_code: str | None) -> None:
        """Follow CallCard::CallStateChanged: the new state replaces the old in the status."""
        if self._status is None or state is None:
            return
        self._status = replace(self._status, state=state)
        self._view.update(present(self._status, self._t))
