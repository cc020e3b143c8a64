"""DOM event listeners for Python handlers, with a lifetime the caller ends.

Why in the bridge: a Python function handed to ``addEventListener`` needs a Pyodide proxy that
someone must destroy, or every re-render leaks one. The bridge is the only code that deals in
``pyodide.ffi`` (a page's views and shells get plain handles), so the one place that creates and
destroys those proxies is here.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from pyodide.ffi import create_proxy


class Listener:
    """One handler listening on one node; ``remove()`` detaches it and frees its proxy."""

    __slots__ = ("_event", "_node", "_proxy")

    def __init__(self, node: Any, event: str, handler: Callable[[Any], Any]) -> None:
        self._node, self._event = node, event
        self._proxy: Any = create_proxy(handler)
        node.addEventListener(event, self._proxy)

    def remove(self) -> None:
        """Idempotent: a second call does nothing."""
        if self._proxy is None:
            return
        self._node.removeEventListener(self._event, self._proxy)
        self._proxy.destroy()
        self._proxy = None


def listen(node: Any, event: str, handler: Callable[[Any], Any]) -> Listener:
    """``node.addEventListener(event, handler)`` for a Python ``handler`` (it gets the event)."""
    return Listener(node, event, handler)
