"""The library under the bridge: one ``window.BX24`` object, its start and its callbacks.

Every other layer (placement, REST, window) reaches the library through :class:`Library`: a
method looked up by its path (``placement.call``), a synchronous call, or a call whose last
argument is a one-shot callback that is awaited with a timeout. Nothing waits for ever: the host
drops unknown commands without answering and the library never calls back on an HTTP 5xx
(docs/host-contract.md#library, #rest).
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Sequence
from typing import Any

from . import _ffi
from .errors import BridgeError, BridgeUnavailable, CommandTimeout, ParseError

__all__ = ["INIT_TIMEOUT", "Library", "settle"]

INIT_TIMEOUT = 10.0  # ui-contract: a library whose init never completes within 10 s means outside


def settle(future: asyncio.Future[Any], value: Any) -> None:
    """Resolve ``future`` unless it already is (a late or repeated callback)."""
    if not future.done():
        future.set_result(value)


class Library:
    """``window.BX24`` (or the object given), initialised once."""

    def __init__(self, bx24: object | None = None, *, init_timeout: float = INIT_TIMEOUT) -> None:
        self.bx24 = bx24 if bx24 is not None else _ffi.global_bx24()
        self._init_timeout = init_timeout
        self._initialised = False

    @property
    def available(self) -> bool:
        """False when the page was opened outside Bitrix24 (the library set BX24 to null)."""
        return self.bx24 is not None

    async def init(self) -> None:
        """Resolve once the library has its init data from the host (``BX24.init``)."""
        if self._initialised:
            return
        init = _ffi.js_method(self.bx24, "init")
        if init is None:
            raise BridgeUnavailable("window.BX24 is missing: the page is not inside Bitrix24")
        done = asyncio.get_running_loop().create_future()
        callback = _ffi.LentCallback(lambda *_: settle(done, None), once=True)
        init(callback.proxy)
        try:
            await asyncio.wait_for(done, self._init_timeout)
        except TimeoutError:
            callback.detach()
            raise BridgeUnavailable(
                f"BX24.init did not complete within {self._init_timeout:g} s"
            ) from None
        self._initialised = True

    def require_init(self) -> None:
        if not self._initialised:
            raise BridgeError("BX24 is not initialised yet: await init() first")

    def method(self, path: Sequence[str]) -> Callable[..., Any]:
        """The library function at ``path``; :class:`BridgeUnavailable` when it lacks one."""
        obj: object | None = self.bx24
        for name in path[:-1]:
            obj = getattr(obj, name, None) if not _ffi.is_nullish(obj) else None
        method = _ffi.js_method(obj, path[-1])
        if method is None:
            raise BridgeUnavailable(f"BX24.{'.'.join(path)} is missing from the library")
        return method

    def optional(self, name: str) -> Callable[..., Any] | None:
        """A top-level library function that some versions lack (``getLang``, ``fitWindow``)."""
        return _ffi.js_method(self.bx24, name)

    async def await_callback(
        self, path: Sequence[str], args: tuple[Any, ...], what: str, timeout: float,
    ) -> Any:
        """Call a library function whose last argument is a one-shot callback; await its answer
        as Python data (:class:`CommandTimeout` after ``timeout``)."""
        self.require_init()
        done: asyncio.Future[Any] = asyncio.get_running_loop().create_future()

        def on_answer(*js_args: Any) -> None:
            # The library calls back with exactly one argument: the answer
            # (docs/host-contract.md#one-argument).
            try:
                value = _ffi.to_python(js_args[0]) if js_args else None
            except ValueError as exc:
                if not done.done():
                    done.set_exception(ParseError(what, str(exc)))
                return
            settle(done, value)

        callback = _ffi.LentCallback(on_answer, once=True)
        self.method(path)(*args, callback.proxy)
        try:
            return await asyncio.wait_for(done, timeout)
        except TimeoutError:
            callback.detach()
            raise CommandTimeout(what, timeout) from None
