"""The CALL_CARD placement as typed Python: status, auto-close control and the three events.

Code above this facade sees :class:`~bx24_bridge.payloads.CallStatus`,
:class:`~bx24_bridge.callcard_events.EntityChange` and plain strings, never a host payload.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from typing import Any

from .callcard_events import EntityChange, parse_entity_event, parse_state_event
from .errors import BridgeError, ParseError
from .host import Bridge
from .payloads import CallState, CallStatus, parse_options, parse_status
from .placement import COMMAND_TIMEOUT, Subscription

logger = logging.getLogger("bx24_bridge.callcard")

PLACEMENT = "CALL_CARD"
STATE_CHANGED = "CallCard::CallStateChanged"
ENTITY_CHANGED = "CallCard::EntityChanged"
BEFORE_CLOSE = "CallCard::BeforeClose"

Result = Awaitable[None] | None


class CallCard:
    """One call card. Build it from an initialised :class:`Bridge`."""

    def __init__(self, bridge: Bridge, *, status_timeout: float = COMMAND_TIMEOUT) -> None:
        self._bridge = bridge
        self._status_timeout = status_timeout

    @property
    def bridge(self) -> Bridge:
        return self._bridge

    def in_call_card(self) -> bool:
        """True when the host opened this page as the CALL_CARD placement."""
        return self._bridge.placement_info().placement == PLACEMENT

    def options_status(self) -> CallStatus | None:
        """The call as PLACEMENT_OPTIONS describe it: known at once, before any round trip.

        None when the options carry no call (opened outside the placement, or unreadable).
        """
        try:
            status = parse_options(self._bridge.placement_info().options)
        except ParseError as exc:
            logger.warning("placement options unreadable: %s", exc)
            return None
        return status if status.call_id else None

    async def status(self, *, fallback: bool = True) -> CallStatus:
        """The call's status from ``getStatus``.

        Fallback: when getStatus answers an error, never answers, or answers something
        unreadable, the placement options stand in (they describe the same call as it was when
        the card opened). When they hold no call either, the original error is raised.

        ``fallback=False`` raises instead: for a refresh once the card is up, the options are a
        snapshot from the load and would undo every state and client change since.
        """
        try:
            raw = await self._bridge.call("getStatus", timeout=self._status_timeout)
            return parse_status(raw)
        except BridgeError as exc:
            options = self.options_status() if fallback else None
            if options is None:
                raise
            logger.warning("getStatus failed (%s); using the placement options", exc)
            return options

    async def keep_open(self) -> None:
        """``disableAutoClose``: the card stays open (about 65 s more; call again to extend)."""
        await self._bridge.call("disableAutoClose")

    async def allow_close(self) -> None:
        """``enableAutoClose``: the card may close, at once if the call has already ended."""
        await self._bridge.call("enableAutoClose")

    def on_state_changed(
        self, callback: Callable[[CallState | None, str | None], Result],
    ) -> Subscription:
        """``callback(state, failed_code)`` on each call-state change, whatever its shape."""

        def handler(args: list[Any]) -> Result:
            change = parse_state_event(tuple(args))
            return callback(change.state, change.failed_code)

        return self._bridge.bind_event(STATE_CHANGED, handler)

    def on_entity_changed(self, callback: Callable[[EntityChange], Result]) -> Subscription:
        """``callback(change)`` when the card's CRM client changes (or is created, or refreshed).

        An event without a readable payload (``[]``, ``null``, a bare string) names no client:
        it is logged and dropped, and the card keeps showing the client it has.
        """

        def handler(args: list[Any]) -> Result:
            try:
                change = parse_entity_event(tuple(args))
            except ParseError as exc:
                logger.warning("ignored %s: %s", ENTITY_CHANGED, exc)
                return None
            return callback(change)

        return self._bridge.bind_event(ENTITY_CHANGED, handler)

    def on_before_close(self, callback: Callable[[], Result]) -> Subscription:
        """``callback()`` when Bitrix24 tries to close the card (may fire twice: be idempotent)."""
        return self._bridge.bind_event(BEFORE_CLOSE, lambda _args: callback())
