"""An async Python API over ``window.BX24``: init, placement commands, events and REST.

Each call resolves with JSON-shaped Python data or raises a :mod:`bx24_bridge.errors` exception.
Nothing that leaves this module is a JS proxy, and nothing waits for ever: the host drops unknown
commands without answering and the library never calls back on an HTTP 5xx
(docs/host-contract.md#library, #rest), so every wait has a timeout.
"""

from __future__ import annotations

import asyncio
import inspect
import logging
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from . import _ffi
from .errors import (
    BridgeError,
    BridgeUnavailable,
    CommandTimeout,
    ParseError,
    RestError,
    RestTimeout,
)
from .payloads import check_placement_answer, normalise_event_args
from .rest import RestOutcome, rest_result

logger = logging.getLogger("bx24_bridge")

INIT_TIMEOUT = 10.0  # ui-contract: a library whose init never completes within 10 s means outside
COMMAND_TIMEOUT = 5.0  # the host answers known commands within milliseconds
# On an HTTP 5xx or a network error the library throws "Query error!" and never calls back: a
# wait is the only way to notice, and an operator on a call needs the answer within seconds.
# (That uncaught error names no request, so it cannot tell which pending call died.) Writes
# that must not be taken for dead while a slow portal still works pass a longer timeout.
REST_TIMEOUT = 8.0
MAX_PAGES = 50  # a runaway next() loop would hammer the portal

EventHandler = Callable[[list[Any]], Awaitable[None] | None]


@dataclass(frozen=True, slots=True)
class PlacementInfo:
    """Where the app was opened: ``placement`` is ``"DEFAULT"`` outside any placement."""

    placement: str
    options: Any  # JSON-shaped PLACEMENT_OPTIONS; parse with payloads.parse_options


@dataclass(frozen=True, slots=True)
class PlacementInterface:
    """What the current placement offers (empty sets outside a placement)."""

    commands: frozenset[str]
    events: frozenset[str]


class Subscription:
    """Returned by :meth:`Bridge.bind_event`; ``cancel()`` stops delivery to that handler.

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


class Bridge:
    """One BX24 library instance seen from Python. Create it, ``await init()``, then use it."""

    def __init__(self, bx24: object | None = None, *, init_timeout: float = INIT_TIMEOUT) -> None:
        self._bx24 = bx24 if bx24 is not None else _ffi.global_bx24()
        self._init_timeout = init_timeout
        self._initialised = False
        self._handlers: dict[str, list[EventHandler]] = {}
        self._listeners: dict[str, _ffi.LentCallback] = {}
        self._background: set[asyncio.Future[Any]] = set()

    # ------------------------------------------------------------------ start-up

    @property
    def available(self) -> bool:
        """False when the page was opened outside Bitrix24 (the library set BX24 to null)."""
        return self._bx24 is not None

    async def init(self) -> None:
        """Resolve once the library has its init data from the host (``BX24.init``)."""
        if self._initialised:
            return
        init = _ffi.js_method(self._bx24, "init")
        if init is None:
            raise BridgeUnavailable("window.BX24 is missing: the page is not inside Bitrix24")
        done = asyncio.get_running_loop().create_future()
        callback = _ffi.LentCallback(lambda *_: _settle(done, None), once=True)
        init(callback.proxy)
        try:
            await asyncio.wait_for(done, self._init_timeout)
        except TimeoutError:
            callback.detach()
            raise BridgeUnavailable(
                f"BX24.init did not complete within {self._init_timeout:g} s"
            ) from None
        self._initialised = True

    def _require_init(self) -> None:
        if not self._initialised:
            raise BridgeError("BX24 is not initialised yet: await init() first")

    # ------------------------------------------------------------------ placement

    def placement_info(self) -> PlacementInfo:
        """``BX24.placement.info()``: the placement name and its options, as Python data."""
        self._require_init()
        info = self._call_sync(("placement", "info"))
        data = _ffi.to_python(info) if info is not None else None
        if not isinstance(data, dict):
            return PlacementInfo(placement="DEFAULT", options=[])
        name = data.get("placement")
        return PlacementInfo(
            placement=name if isinstance(name, str) and name else "DEFAULT",
            options=data.get("options", []),
        )

    async def get_interface(self, *, timeout: float = COMMAND_TIMEOUT) -> PlacementInterface:
        """``BX24.placement.getInterface``: the commands and events this placement offers."""
        raw = await self._await_callback(("placement", "getInterface"), (), "getInterface", timeout)
        raw = raw if isinstance(raw, dict) else {}
        return PlacementInterface(
            commands=frozenset(_strings(raw.get("command"))),
            events=frozenset(_strings(raw.get("event"))),
        )

    async def call(
        self, command: str, params: Mapping[str, Any] | None = None, *,
        timeout: float = COMMAND_TIMEOUT,
    ) -> Any:
        """``BX24.placement.call``: the answer as Python data.

        Raises :class:`CommandTimeout` when the host never answers (how it treats a command it
        does not know) and :class:`PlacementError` when it answers with an error array.
        """
        args = (command, _ffi.to_js(dict(params or {})))
        raw = await self._await_callback(("placement", "call"), args, command, timeout)
        return check_placement_answer(command, raw)

    def bind_event(self, name: str, handler: EventHandler) -> Subscription:
        """Deliver event ``name`` to ``handler`` as a list of normalised arguments.

        Whatever shape the host uses (one argument, two, or one array;
        docs/host-contract.md#one-argument), the handler gets the same list. Sync and async
        handlers are both fine; an exception in one is logged and never reaches the library or the
        other handlers.
        """
        self._require_init()
        handlers = self._handlers.setdefault(name, [])
        handlers.append(handler)
        if name not in self._listeners:
            listener = _ffi.LentCallback(lambda *args: self._dispatch(name, args), once=False)
            self._listeners[name] = listener
            bind = self._method(("placement", "bindEvent"))
            bind(name, listener.proxy)
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

    # ------------------------------------------------------------------ REST

    async def call_method(
        self, method: str, params: Mapping[str, Any] | None = None, *,
        timeout: float = REST_TIMEOUT, all_pages: bool = False,
    ) -> Any:
        """``BX24.callMethod``: the result's data, or :class:`RestError`.

        With ``all_pages`` the list results of every page (``next()``) are joined; the whole
        walk shares one timeout and stops after ``MAX_PAGES``.
        """
        self._require_init()
        loop = asyncio.get_running_loop()
        done: asyncio.Future[Any] = loop.create_future()
        pages: list[Any] = []

        def on_result(result: Any) -> None:
            if done.done():
                return
            try:
                data = _decode_ajax_result(method, result)
            except BridgeError as exc:
                done.set_exception(exc)
                return
            pages.append(data)
            more = _ffi.js_method(result, "more")
            if all_pages and more is not None and more() and len(pages) < MAX_PAGES:
                result.next()
            else:
                done.set_result(_join_pages(pages) if all_pages else data)

        callback = _ffi.LentCallback(on_result, once=not all_pages)
        call = self._method(("callMethod",))
        call(method, _ffi.to_js(dict(params or {})), callback.proxy)
        try:
            return await asyncio.wait_for(done, timeout)
        except TimeoutError:
            raise RestTimeout(method, timeout) from None
        finally:
            if not done.done():
                callback.detach()  # the library may still call it: leave an empty shell
            elif all_pages:
                loop.call_soon(callback.release)  # no further next(): safe to destroy

    async def call_batch(
        self, calls: Mapping[str, tuple[str, Mapping[str, Any]]], *,
        timeout: float = REST_TIMEOUT,
    ) -> dict[str, RestOutcome]:
        """``BX24.callBatch``: several REST calls in one round trip, each answered on its own."""
        self._require_init()
        done: asyncio.Future[dict[str, RestOutcome]] = asyncio.get_running_loop().create_future()
        methods = {key: method for key, (method, _) in calls.items()}

        def on_results(results: Any) -> None:
            outcomes: dict[str, RestOutcome] = {}
            for key, method in methods.items():
                item = getattr(results, key, None) if not _ffi.is_nullish(results) else None
                if _ffi.is_nullish(item):
                    outcomes[key] = RestOutcome(data=None)
                    continue
                try:
                    outcomes[key] = RestOutcome(data=_decode_ajax_result(method, item))
                except RestError as exc:
                    outcomes[key] = RestOutcome(error=exc)
            _settle(done, outcomes)

        payload = {key: [method, dict(params)] for key, (method, params) in calls.items()}
        callback = _ffi.LentCallback(on_results, once=True)
        self._method(("callBatch",))(_ffi.to_js(payload), callback.proxy)
        try:
            return await asyncio.wait_for(done, timeout)
        except TimeoutError:
            callback.detach()
            raise RestTimeout("batch", timeout) from None

    # ------------------------------------------------------------------ small library helpers

    def lang(self) -> str:
        """The portal's language code (``"ru"``, ``"en"``, ...), or ``""`` when unknown."""
        get_lang = _ffi.js_method(self._bx24, "getLang")
        value = _ffi.to_python(get_lang()) if get_lang is not None else None
        return value.strip().lower() if isinstance(value, str) else ""

    def fit_window(self) -> None:
        """Let the host resize the iframe to the content; harmless if the library lacks it."""
        fit = _ffi.js_method(self._bx24, "fitWindow")
        if fit is not None:
            fit()

    def domain(self) -> str:
        """The portal's host name (``BX24.getDomain()``), or ``""`` when the library lacks it."""
        get_domain = _ffi.js_method(self._bx24, "getDomain")
        value = _ffi.to_python(get_domain()) if get_domain is not None else None
        return value.strip() if isinstance(value, str) else ""

    async def open_path(self, path: str, *, timeout: float = COMMAND_TIMEOUT) -> bool:
        """Open a portal path in a Bitrix24 slider; False when the host refuses or is silent.

        The host answers ``{result: "close"}`` when the slider closes (which may be long after
        it opened), or ``{result: "error", errorCode: ...}`` at once on a path it cannot show
        or on mobile. So: an error answer within ``timeout`` means it failed; silence means
        the slider is open, which counts as success.
        """
        try:
            answer = await self._await_callback(("openPath",), (path,), "openPath", timeout)
        except CommandTimeout:
            return True
        except BridgeUnavailable:
            return False
        return not (isinstance(answer, dict) and answer.get("result") == "error")

    def install_finish(self) -> None:
        """``BX24.installFinish()``: tell the portal the install page is done."""
        self._method(("installFinish",))()

    # ------------------------------------------------------------------ plumbing

    def _method(self, path: Sequence[str]) -> Callable[..., Any]:
        obj: object | None = self._bx24
        for name in path[:-1]:
            obj = getattr(obj, name, None) if not _ffi.is_nullish(obj) else None
        method = _ffi.js_method(obj, path[-1])
        if method is None:
            raise BridgeUnavailable(f"BX24.{'.'.join(path)} is missing from the library")
        return method

    def _call_sync(self, path: Sequence[str], *args: Any) -> Any:
        return self._method(path)(*args)

    async def _await_callback(
        self, path: Sequence[str], args: tuple[Any, ...], what: str, timeout: float,
    ) -> Any:
        """Call a library function whose last argument is a one-shot callback; await it."""
        self._require_init()
        done: asyncio.Future[Any] = asyncio.get_running_loop().create_future()

        def on_answer(*js_args: Any) -> None:
            # The library calls back with exactly one argument: the answer (section 3).
            try:
                value = _ffi.to_python(js_args[0]) if js_args else None
            except ValueError as exc:
                if not done.done():
                    done.set_exception(ParseError(what, str(exc)))
                return
            _settle(done, value)

        callback = _ffi.LentCallback(on_answer, once=True)
        self._method(path)(*args, callback.proxy)
        try:
            return await asyncio.wait_for(done, timeout)
        except TimeoutError:
            callback.detach()
            raise CommandTimeout(what, timeout) from None


def _settle(future: asyncio.Future[Any], value: Any) -> None:
    if not future.done():
        future.set_result(value)


def _strings(value: Any) -> list[str]:
    return [v for v in value if isinstance(v, str)] if isinstance(value, list) else []


def _decode_ajax_result(method: str, result: Any) -> Any:
    """Read the library's ajaxResult.

    ``error()`` returns an ajaxError whose ``ex`` is the answer itself, and the answer points
    back at the ajaxError: the structure is circular, so read its two fields, never the whole.
    """
    get_error = _ffi.js_method(result, "error")
    error = get_error() if get_error is not None else None
    if not _ffi.is_nullish(error) and error is not False:
        ex = getattr(error, "ex", None)
        if _ffi.is_nullish(ex):
            detail: Any = str(error)
        else:
            detail = {
                "error": _ffi.to_python(getattr(ex, "error", None)),
                "error_description": _ffi.to_python(getattr(ex, "error_description", None)),
            }
        description = _ffi.js_method(result, "error_description")
        rest_result(
            method,
            error=detail,
            error_description=_ffi.to_python(description()) if description else None,
            data=None,
        )
    get_data = _ffi.js_method(result, "data")
    if get_data is None:
        raise RestError(method, "BAD_ANSWER", "the library answered without data()")
    try:
        return _ffi.to_python(get_data())
    except ValueError as exc:  # not JSON, or nested absurdly deep: not an answer to read
        raise RestError(method, "BAD_ANSWER", str(exc)) from None


def _join_pages(pages: list[Any]) -> Any:
    """Join paged list results; ``crm.item.list``-style ``{"items": [...]}`` pages too."""
    if all(isinstance(p, list) for p in pages):
        return [row for page in pages for row in page]
    if all(isinstance(p, dict) and len(p) == 1 for p in pages):
        (key,) = pages[0].keys()
        if all(isinstance(p.get(key), list) for p in pages):
            return {key: [row for page in pages for row in page[key]]}
    return pages[-1] if len(pages) == 1 else pages
