"""The install page's controller: registers the CALL_CARD tab through REST and says every step.

Pure: what it decides (the plan, the words, the retry) is here, and what it acts on are two
ports: the bridge (init, language, REST, installFinish) and the page's view
(callcard/install_view.py, the only part that touches the DOM). CPython runs it with fakes
(tests/unit/test_install_page.py); install.py wires it to the browser.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Mapping
from typing import Any, Protocol

from bx24_bridge.errors import BridgeError, BridgeUnavailable, RestError

from .i18n import Translator, pick_language
from .installer import derive_handler_url, error_key, parse_bindings, plan_install

__all__ = ["InstallBridge", "InstallPage", "InstallScreen"]

logger = logging.getLogger("callcard.install")


class InstallBridge(Protocol):
    """The parts of ``bx24_bridge.Bridge`` the install page uses."""

    async def init(self) -> None: ...
    def lang(self) -> str: ...
    async def call_method(self, method: str, params: Mapping[str, Any] | None = None) -> Any: ...
    def install_finish(self) -> None: ...


class InstallScreen(Protocol):
    """The install page's view (``callcard.install_view.InstallView``)."""

    def set_page(self, state: str, lang: str | None = None) -> None: ...
    def set_status(self, state: str, text: str) -> None: ...
    def clear_steps(self) -> None: ...
    def add_step(self, text: str) -> None: ...
    def offer_retry(self, label: str, on_retry: Callable[[], Any]) -> None: ...


class InstallPage:
    """Runs the install once; on failure it offers a retry that runs it again."""

    def __init__(self, *, bridge: InstallBridge, view: InstallScreen, page_url: str,
                 handler_override: str = "") -> None:
        self._bridge = bridge
        self._view = view
        self._handler = derive_handler_url(page_url, handler_override)
        self._t = Translator("en")
        self._task: asyncio.Future[None] | None = None

    async def run(self) -> None:
        try:
            await self._bridge.init()
        except BridgeUnavailable as exc:
            logger.warning("install page outside Bitrix24: %s", exc)
            self._view.set_status("outside", self._t("install.outside"))
            self._view.set_page("outside")
            return
        self._t = Translator(pick_language(self._bridge.lang()))
        self._view.set_page("ready", self._t.lang)
        await self._install()

    async def _install(self) -> None:
        self._view.clear_steps()
        try:
            self._view.set_status("checking", self._t("install.checking"))
            existing = parse_bindings(await self._bridge.call_method("placement.get"))
            steps = plan_install(existing, self._handler)
            if not steps:
                self._view.add_step(self._t.format("install.step.kept", url=self._handler))
            self._view.set_status("binding", self._t("install.binding"))
            for step in steps:
                await self._bridge.call_method(step.method, dict(step.params))
                key = "install.step.bound" if step.kind == "bind" else "install.step.unbound"
                self._view.add_step(self._t.format(key, url=str(step.params.get("HANDLER", ""))))
            self._bridge.install_finish()
        except RestError as exc:
            self._fail(exc.code, exc.description)
            return
        except BridgeError as exc:
            self._fail("", str(exc))
            return
        self._view.set_status("done", self._t("install.done"))

    def _fail(self, code: str, detail: str) -> None:
        key = error_key(code)
        message = self._t(key) if key else self._t.format("install.error.other", code=code or "?")
        logger.warning("install failed: %s %s", code, detail)
        self._view.set_status("failed", message)
        self._view.offer_retry(self._t("status.retry"), self._start_retry)

    def _start_retry(self) -> None:
        self._task = asyncio.ensure_future(self._install())
