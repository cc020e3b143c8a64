"""Any placement's interface: where the app was opened, its commands and its events.

``BX24.placement`` works the same for every placement (docs/host-contract.md#library): ``info()``
names it and carries its options, ``getInterface`` lists what it offers, ``call`` runs a command
and ``bindEvent`` subscribes to an event. The CALL_CARD facade (bx24_bridge/callcard.py) is built
on this; so is any other placement's.
"""

from __future__ import annotations

import asyncio
import inspect
import logging
from collections.abc import Awaitable, Callable, Mapping
from typing import Any

from . import _ffi
from .errors import ParseError
from .library import Library
from .placement_wire import check_placement_answer, normalise_event_args
from .values import Value
from .wire import as_array, as_object

__all__ = [
    "COMMAND_TIMEOUT",
    "EventHandler",
    "Placement",
    "PlacementInfo",
    "PlacementInterface",
    "Subscription",
]

logger = logging.getLogger("bx24_bridge")

COMMAND_TIMEOUT = 5.0  # the host answers known commands within milliseconds

EventHandler = Callable[[list[Any]], Awaitable[None] | None]


class PlacementInfo(Value):
    """Where the app was opened: ``placement`` is ``"DEFAULT"`` outside any placement."""

    placement: str
    options: Any  # JSON-shaped PLACEMENT_OPTIONS; parse with payloads.parse_options


class PlacementInterface(Value):
    """What the current placement offers (empty sets outside a placement)."""

    commands: frozenset[str]
    events: frozenset[str]


class Subscription:
    """Returned by :meth:`Placement.bind_event`; ``cancel()`` stops delivery to that handler.

    The library has no unbind, so the JS listener stays; we simply stop fanning out to it.
    """

    def __init__(self, handlers: list[EventHandler], handler: EventHandler) -> None:
        self._handlers = handlers
        self._handler = handler

    @property
    def active(self) -> bool:
        return self._handler in self._handlers

    def cancel(self) -> None:
        if self._handler in self._handlers:
            self._handlers.remove(self._handler)


class Placement:
    """``BX24.placement`` over an initialised :class:`~bx24_bridge.library.Library`."""

    def __init__(self, library: Library) -> None:
        self._library = library
        self._handlers: dict[str, list[EventHandler]] = {}
        self._listeners: dict[str, _ffi.LentCallback] = {}
        self._background: set[asyncio.Future[Any]] = set()

    def info(self) -> PlacementInfo:
        """``BX24.placement.info()``: the placement name and its options, as Python data."""
        self._library.require_init()
        info = self._library.method(("placement", "info"))()
        data = as_object(_ffi.to_python(info)) if info is not None else None
        if data is None:
            return PlacementInfo(placement="DEFAULT", options=[])
        name = data.get("placement")
        return PlacementInfo(
            placement=name if isinstance(name, str) and name else "DEFAULT",
            options=data.get("options", []),
        )

    async def get_interface(self, *, timeout: float = COMMAND_TIMEOUT) -> PlacementInterface:
        """``BX24.placement.getInterface``: the commands and events this placement offers."""
        raw = await self._library.await_callback(("placement", "getInterface"), (),
                                                 "getInterface", timeout)
        raw = as_object(raw) or {}
        return PlacementInterface(
            commands=frozenset(_strings(raw.get("command"))),
            events=frozenset(_strings(raw.get("event"))),
        )

    async def call(
        self, command: str, params: Mapping[str, Any] | None = None, *,
        timeout: float = COMMAND_TIMEOUT,
    ) -> Any:
        """``BX24.placement.call``: the answer as Python data.

        Raises :class:`~bx24_bridge.errors.CommandTimeout` when the host never answers (how it
        treats a command it does not know) and :class:`~bx24_bridge.errors.PlacementError` when
        it answers with an error array.
        """
        args = (command, _ffi.to_js(dict(params or {})))
        raw = await self._library.await_callback(("placement", "call"), args, command, timeout)
        return check_placement_answer(command, raw)

    def bind_event(self, name: str, handler: EventHandler) -> Subscription:
        """Deliver event ``name`` to ``handler`` as a list of normalised arguments.

        Whatever shape the host uses (one argument, two, or one array;
        docs/host-contract.md#one-argument), the handler gets the same list. Sync and async
        handlers are both fine; an exception in one is logged and never reaches the library or the
        other handlers.
        """
        self._library.require_init()
        handlers = self._handlers.setdefault(name, [])
        handlers.append(handler)
        if name not in self._listeners:
            listener = _ffi.LentCallback(lambda *args: self._dispatch(name, args), once=False)
            self._listeners[name] = listener
            self._library.method(("placement", "bindEvent"))(name, listener.proxy)
        return Subscription(handlers, handler)

    def _dispatch(self, name: str, js_args: tuple[Any, ...]) -> None:
        try:
            args = normalise_event_args(tuple(_ffi.to_python(a) for a in js_args))
        except (ParseError, ValueError) as exc:
            logger.warning("ignored %s with unreadable arguments: %s", name, exc)
            return
        for handler in list(self._handlers.get(name, ())):
            self._run_handler(name, handler, args)

    def _run_handler(self, name: str, handler: EventHandler, args: list[Any]) -> None:
        try:
            result = handler(list(args))
        except Exception:
            logger.exception("handler for %s failed", name)
            return
        if inspect.isawaitable(result):
            task = asyncio.ensure_future(result)
            self._background.add(task)
            task.add_done_callback(lambda t: self._finish_background(name, t))

    def _finish_background(self, name: str, task: asyncio.Future[Any]) -> None:
        self._background.discard(task)
        if not task.cancelled() and task.exception() is not None:
            logger.error("async handler for %s failed", name, exc_info=task.exception())


def _strings(value: object) -> list[str]:
    return [item for item in as_array(value) if isinstance(item, str)]
