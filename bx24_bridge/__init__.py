"""bx24_bridge: Bitrix24's ``BX24`` JavaScript library as an async Python API (Pyodide).

Typical use in a PyScript page::

    import bx24_bridge

    await bx24_bridge.init()                    # BridgeUnavailable outside Bitrix24
    card = bx24_bridge.CallCard(bx24_bridge.default_bridge())
    status = await card.status()                # a frozen CallStatus
    card.on_state_changed(lambda state, failed_code: ...)

The error types and payload parsers are pure Python and import under CPython; the names that
need the browser (``Bridge``, ``CallCard``, ``init``, ``call``, ...) are loaded on first use,
so unit tests can import this package without Pyodide.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

__version__ = "0.3.0"

from .errors import (
    BridgeError,
    BridgeUnavailable,
    CommandTimeout,
    ParseError,
    PlacementError,
    RestError,
    RestTimeout,
)
from .rest import RestOutcome

if TYPE_CHECKING:  # for checkers only: at run time these come from __getattr__, when asked
    from .callcard import CallCard
    from .host import Bridge
    from .placement import PlacementInfo, PlacementInterface, Subscription

__all__ = [
    "Bridge",
    "BridgeError",
    "BridgeUnavailable",
    "CallCard",
    "CommandTimeout",
    "ParseError",
    "PlacementError",
    "PlacementInfo",
    "PlacementInterface",
    "RestError",
    "RestOutcome",
    "RestTimeout",
    "Subscription",
    "bind_event",
    "call",
    "call_batch",
    "call_method",
    "default_bridge",
    "get_interface",
    "init",
    "log_to_console",
    "placement_info",
]

_BROWSER_NAMES = {
    "Bridge": "host",
    "PlacementInfo": "placement",
    "PlacementInterface": "placement",
    "Subscription": "placement",
    "CallCard": "callcard",
}

_default: Any = None


def __getattr__(name: str) -> Any:
    module_name = _BROWSER_NAMES.get(name)
    if module_name is None:
        raise AttributeError(f"module 'bx24_bridge' has no attribute {name!r}")
    import importlib

    return getattr(importlib.import_module(f".{module_name}", __name__), name)


def default_bridge() -> Any:
    """The page's one :class:`Bridge` over ``window.BX24`` (created on first use)."""
    global _default
    if _default is None:
        from .host import Bridge

        _default = Bridge()
    return _default


async def init() -> None:
    """Wait for ``BX24.init``; raises :class:`BridgeUnavailable` outside Bitrix24 or on timeout."""
    await default_bridge().init()


def log_to_console(level: int = 20) -> None:
    """Send the page's ``logging`` to the browser console, never onto the page (INFO and up by
    default); see :mod:`bx24_bridge.console`."""
    from .console import log_to_console as install

    install(level)


def placement_info() -> Any:
    """Placement name and options (see :class:`PlacementInfo`)."""
    return default_bridge().placement_info()


async def get_interface(**kwargs: Any) -> Any:
    """Commands and events of the current placement (see :class:`PlacementInterface`)."""
    return await default_bridge().get_interface(**kwargs)


async def call(command: str, params: dict[str, Any] | None = None, **kwargs: Any) -> Any:
    """A placement command; see :meth:`Bridge.call`."""
    return await default_bridge().call(command, params, **kwargs)


def bind_event(name: str, handler: Any) -> Any:
    """Subscribe to a placement event; see :meth:`Bridge.bind_event`."""
    return default_bridge().bind_event(name, handler)


async def call_method(method: str, params: dict[str, Any] | None = None, **kwargs: Any) -> Any:
    """A REST call; see :meth:`Bridge.call_method`."""
    return await default_bridge().call_method(method, params, **kwargs)


async def call_batch(calls: dict[str, Any], **kwargs: Any) -> Any:
    """Several REST calls in one request; see :meth:`Bridge.call_batch`."""
    return await default_bridge().call_batch(calls, **kwargs)
