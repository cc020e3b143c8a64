"""The bridge's only contact with JavaScript: value conversion and callback lifetimes.

Everything the host sends has already been through JSON (docs/host-contract.md#library), so the
bridge converts by the same route: ``JSON.stringify`` on the JS side, ``json.loads`` on ours. That
yields plain dicts, lists and scalars, never a ``JsProxy`` that would outlive its JS object, and it
reads ``undefined`` keys as absent exactly as the real wire does.

Callbacks lent to JS are wrapped in :class:`LentCallback`, which counts the live ones. A proxy that
JS still holds keeps its wrapper alive, so the count is the number of proxies we have not released,
which is what the leak test measures.
"""

from __future__ import annotations

import json
import weakref
from collections.abc import Callable
from typing import Any, ClassVar

import js
from pyodide.ffi import JsNull, create_once_callable, create_proxy

from .wire import MAX_JSON_DEPTH, json_too_deep

JSONValue = Any


def is_nullish(value: object) -> bool:
    """True for Python None (JS undefined) and JS null, which Pyodide keeps apart."""
    return value is None or isinstance(value, JsNull)


def to_python(value: object) -> JSONValue:
    """Turn a JS value into JSON-shaped Python data, the way the host's wire would.

    Raises ``ValueError`` when JS cannot serialise it (cycles, BigInt) or it nests deeper than
    ``MAX_JSON_DEPTH``: such a value never comes from the real host, so it is bad input, not a
    reason to crash. (A few thousand levels would overflow the stack in ``json.loads`` and end
    the interpreter itself, so the depth is checked first.)
    """
    if is_nullish(value):
        return None
    if isinstance(value, bool | int | float | str):
        return value
    try:
        text = js.JSON.stringify(value)
    except Exception as exc:  # JsException: the value is not JSON
        raise ValueError(f"value cannot be read as JSON: {exc}") from exc
    if is_nullish(text):  # undefined, a function, a symbol
        return None
    if json_too_deep(text):
        raise ValueError(f"value nests deeper than {MAX_JSON_DEPTH} levels")
    return json.loads(text)


def to_js(data: JSONValue) -> object:
    """Python data -> a plain JS object (no Map, no proxy), as the library expects params."""
    return js.JSON.parse(json.dumps(data if data is not None else {}))


def global_bx24() -> object | None:
    """``window.BX24``, or None when it is missing or null (outside Bitrix24)."""
    value = getattr(js.window, "BX24", None)
    return None if is_nullish(value) else value


def js_method(obj: object, name: str) -> Callable[..., Any] | None:
    """A method of a JS object, or None when the object lacks it (an old or broken library)."""
    if is_nullish(obj):
        return None
    method = getattr(obj, name, None)
    return None if is_nullish(method) or not callable(method) else method


class LentCallback:
    """A Python callable handed to JavaScript, with its proxy's lifetime made explicit.

    ``once=True`` (placement commands, REST) uses a once-callable that Pyodide releases after
    its first call. A callback the host never calls (a dropped command) cannot be destroyed
    safely, because a late call would hit a dead proxy inside the library; instead
    :meth:`detach` drops the Python target so only an empty shell stays behind.
    """

    _live: ClassVar[weakref.WeakSet[LentCallback]] = weakref.WeakSet()

    def __init__(self, target: Callable[..., Any], *, once: bool) -> None:
        self._target: Callable[..., Any] | None = target
        self._once = once
        self.proxy = create_once_callable(self) if once else create_proxy(self)
        LentCallback._live.add(self)

    def __call__(self, *args: Any) -> None:
        target = self._target
        if self._once:
            self._target = None
        if target is not None:
            target(*args)

    def detach(self) -> None:
        """Stop delivering to Python; the JS side may still call the (now empty) proxy."""
        self._target = None

    def release(self) -> None:
        """Destroy a persistent proxy once JS will not call it again."""
        self._target = None
        if not self._once:
            self.proxy.destroy()

    @classmethod
    def live_count(cls) -> int:
        """How many lent callbacks JavaScript still holds (for leak tests and diagnostics)."""
        return len(cls._live)
