"""The app's frame in the portal: its language and domain, its height, sliders, the install end.

These library functions differ between library versions (docs/host-contract.md#library): some
lack ``openPath``; ``fitWindow`` can grow the frame but not shrink it. Each helper says what it
does when the function is missing, and none of them raises for that.
"""

from __future__ import annotations

from . import _ffi
from .errors import BridgeUnavailable, CommandTimeout
from .library import Library
from .placement import COMMAND_TIMEOUT
from .wire import as_object

__all__ = ["Window"]


class Window:
    """The frame's helpers over a :class:`~bx24_bridge.library.Library`."""

    def __init__(self, library: Library) -> None:
        self._library = library

    def lang(self) -> str:
        """The portal's language code (``"ru"``, ``"en"``, ...), or ``""`` when unknown."""
        get_lang = self._library.optional("getLang")
        value = _ffi.to_python(get_lang()) if get_lang is not None else None
        return value.strip().lower() if isinstance(value, str) else ""

    def domain(self) -> str:
        """The portal's host name (``BX24.getDomain()``), or ``""`` when the library lacks it."""
        get_domain = self._library.optional("getDomain")
        value = _ffi.to_python(get_domain()) if get_domain is not None else None
        return value.strip() if isinstance(value, str) else ""

    def fit(self) -> None:
        """Let the host resize the iframe to the content; harmless if the library lacks it."""
        fit = self._library.optional("fitWindow")
        if fit is not None:
            fit()

    async def open_path(self, path: str, *, timeout: float = COMMAND_TIMEOUT) -> bool:
        """Open a portal path in a Bitrix24 slider; False when the host or the library cannot.

        The host answers ``{result: "close"}`` when the slider closes (which may be long after
        it opened), or ``{result: "error", errorCode: ...}`` at once on a path it cannot show
        or on mobile. So: an error answer within ``timeout`` means it failed; silence means
        the slider is open, which counts as success. A library without ``openPath`` gives False.
        """
        try:
            answer = await self._library.await_callback(("openPath",), (path,), "openPath",
                                                        timeout)
        except CommandTimeout:
            return True
        except BridgeUnavailable:
            return False
        answer = as_object(answer)
        return not (answer is not None and answer.get("result") == "error")

    def install_finish(self) -> None:
        """``BX24.installFinish()``: tell the portal the install page is done."""
        self._library.method(("installFinish",))()
