"""REST through the library: one call, all pages of a list, and batches.

``BX24.callMethod`` and ``BX24.callBatch`` answer through callbacks with the library's
``ajaxResult`` objects (docs/host-contract.md#library, #rest). Here they become Python data or a
:class:`~bx24_bridge.errors.RestError`, and every wait has a timeout: on an HTTP 5xx or a network
error the library throws "Query error!" and never calls back.
"""

from __future__ import annotations

import asyncio
from collections.abc import Mapping
from typing import Any

from . import _ffi
from .errors import BridgeError, RestError, RestTimeout
from .library import Library, settle
from .rest import RestOutcome, join_pages, rest_result

__all__ = ["MAX_PAGES", "REST_TIMEOUT", "RestClient"]

# An operator on a call needs the answer within seconds, and a wait is the only way to notice a
# dead request (the library's uncaught error names no request). Writes that must not be taken for
# dead while a slow portal still works pass a longer timeout.
REST_TIMEOUT = 8.0
MAX_PAGES = 50  # a runaway next() loop would hammer the portal


class RestClient:
    """The portal's REST API over an initialised :class:`~bx24_bridge.library.Library`."""

    def __init__(self, library: Library) -> None:
        self._library = library

    async def call_method(
        self, method: str, params: Mapping[str, Any] | None = None, *,
        timeout: float = REST_TIMEOUT, all_pages: bool = False,
    ) -> Any:
        """``BX24.callMethod``: the result's data, or :class:`RestError`.

        With ``all_pages`` the list results of every page (``next()``) are joined; the whole
        walk shares one timeout and stops after ``MAX_PAGES``.
        """
        self._library.require_init()
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
                done.set_result(join_pages(pages) if all_pages else data)

        callback = _ffi.LentCallback(on_result, once=not all_pages)
        call = self._library.method(("callMethod",))
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
        self._library.require_init()
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
            settle(done, outcomes)

        payload = {key: [method, dict(params)] for key, (method, params) in calls.items()}
        callback = _ffi.LentCallback(on_results, once=True)
        self._library.method(("callBatch",))(_ffi.to_js(payload), callback.proxy)
        try:
            return await asyncio.wait_for(done, timeout)
        except TimeoutError:
            callback.detach()
            raise RestTimeout("batch", timeout) from None


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
