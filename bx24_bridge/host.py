"""One Bitrix24 frame seen from Python: the library, its placement, REST and window, together.

:class:`Bridge` is what an app holds. Each concern lives in a module of its own, in the way the
official JS SDK keeps one manager per concern: the library and its callbacks
(bx24_bridge/library.py), any placement's commands and events (placement.py), REST
(rest_client.py) and the frame's helpers (window.py). The bridge joins them behind one object,
with a shortcut for each call apps make most. Each call resolves with JSON-shaped Python data or
raises a :mod:`bx24_bridge.errors` exception; nothing that leaves the bridge is a JS proxy.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from .library import INIT_TIMEOUT, Library
from .placement import (
    COMMAND_TIMEOUT,
    EventHandler,
    Placement,
    PlacementInfo,
    PlacementInterface,
    Subscription,
)
from .rest import RestOutcome
from .rest_client import MAX_PAGES, REST_TIMEOUT, RestClient
from .window import Window

__all__ = [
    "COMMAND_TIMEOUT",
    "INIT_TIMEOUT",
    "MAX_PAGES",
    "REST_TIMEOUT",
    "Bridge",
    "EventHandler",
    "PlacementInfo",
    "PlacementInterface",
    "Subscription",
]


class Bridge:
    """One BX24 library instance. Create it, ``await init()``, then use it.

    ``placement``, ``rest`` and ``window`` are its three parts; the methods below are shortcuts
    to them.
    """

    def __init__(self, bx24: object | None = None, *, init_timeout: float = INIT_TIMEOUT) -> None:
        self._library = Library(bx24, init_timeout=init_timeout)
        self.placement = Placement(self._library)
        self.rest = RestClient(self._library)
        self.window = Window(self._library)

    @property
    def available(self) -> bool:
        """False when the page was opened outside Bitrix24 (the library set BX24 to null)."""
        return self._library.available

    async def init(self) -> None:
        """Resolve once the library has its init data from the host (``BX24.init``);
        :class:`~bx24_bridge.errors.BridgeUnavailable` outside Bitrix24 or on timeout."""
        await self._library.init()

    # ------------------------------------------------------------------ placement

    def placement_info(self) -> PlacementInfo:
        """See :meth:`Placement.info`."""
        return self.placement.info()

    async def get_interface(self, *, timeout: float = COMMAND_TIMEOUT) -> PlacementInterface:
        """See :meth:`Placement.get_interface`."""
        return await self.placement.get_interface(timeout=timeout)

    async def call(self, command: str, params: Mapping[str, Any] | None = None, *,
                   timeout: float = COMMAND_TIMEOUT) -> Any:
        """See :meth:`Placement.call`."""
        return await self.placement.call(command, params, timeout=timeout)

    def bind_event(self, name: str, handler: EventHandler) -> Subscription:
        """See :meth:`Placement.bind_event`."""
        return self.placement.bind_event(name, handler)

    # ------------------------------------------------------------------ REST

    async def call_method(self, method: str, params: Mapping[str, Any] | None = None, *,
                          timeout: float = REST_TIMEOUT, all_pages: bool = False) -> Any:
        """See :meth:`RestClient.call_method`."""
        return await self.rest.call_method(method, params, timeout=timeout, all_pages=all_pages)

    async def call_batch(self, calls: Mapping[str, tuple[str, Mapping[str, Any]]], *,
                         timeout: float = REST_TIMEOUT) -> dict[str, RestOutcome]:
        """See :meth:`RestClient.call_batch`."""
        return await self.rest.call_batch(calls, timeout=timeout)

    # ------------------------------------------------------------------ window

    def lang(self) -> str:
        """See :meth:`Window.lang`."""
        return self.window.lang()

    def domain(self) -> str:
        """See :meth:`Window.domain`."""
        return self.window.domain()

    def fit_window(self) -> None:
        """See :meth:`Window.fit`."""
        self.window.fit()

    async def open_path(self, path: str, *, timeout: float = COMMAND_TIMEOUT) -> bool:
        """See :meth:`Window.open_path`."""
        return await self.window.open_path(path, timeout=timeout)

    def install_finish(self) -> None:
        """See :meth:`Window.install_finish`."""
        self.window.install_finish()
