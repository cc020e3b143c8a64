"""The install page: registers the CALL_CARD tab through REST and shows every step as text.

Hooks for tests: ``install-status`` (with ``data-install-state`` = loading / checking /
binding / done / failed / outside) and ``install-steps`` (one item per REST call made).
"""

from __future__ import annotations

import asyncio
import logging
from typing import Any

import js

from bx24_bridge.dom import listen
from bx24_bridge.errors import BridgeError, BridgeUnavailable, RestError

from .i18n import Translator, pick_language
from .installer import derive_handler_url, error_key, parse_bindings, plan_install

logger = logging.getLogger("callcard.install")


class InstallPage:
    """Runs the install once; on failure it offers a retry that runs it again."""

    def __init__(self, *, bridge: Any, page_url: str, handler_override: str = "") -> None:
        self._bridge = bridge
        self._handler = derive_handler_url(page_url, handler_override)
        self._t = Translator("en")
        self._status = js.document.querySelector('[data-testid="install-status"]')
        self._steps = js.document.querySelector('[data-testid="install-steps"]')
        self._retry_listener: Any = None
        self._task: asyncio.Future[None] | None = None

    async def run(self) -> None:
        try:
            await self._bridge.init()
        except BridgeUnavailable as exc:
            logger.warning("install page outside Bitrix24: %s", exc)
            self._set_status("outside", self._t("install.outside"))
            js.document.documentElement.dataset.appState = "outside"
            return
        self._t = Translator(pick_language(self._bridge.lang()))
        js.document.documentElement.lang = self._t.lang
        js.document.documentElement.dataset.appState = "ready"
        await self._install()

    async def _install(self) -> None:
        self._steps.replaceChildren()
        try:
            self._set_status("checking", self._t("install.checking"))
            existing = parse_bindings(await self._bridge.call_method("placement.get"))
            steps = plan_install(existing, self._handler)
            if not steps:
                self._add_step(self._t.format("install.step.kept", url=self._handler))
            self._set_status("binding", self._t("install.binding"))
            for step in steps:
                await self._bridge.call_method(step.method, dict(step.params))
                key = "install.step.bound" if step.kind == "bind" else "install.step.unbound"
                self._add_step(self._t.format(key, url=str(step.params.get("HANDLER", ""))))
            self._bridge.install_finish()
        except RestError as exc:
            self._fail(exc.code, exc.description)
            return
        except BridgeError as exc:
            self._fail("", str(exc))
            return
        self._set_status("done", self._t("install.done"))

    def _fail(self, code: str, detail: str) -> None:
        key = error_key(code)
        message = self._t(key) if key else self._t.format("install.error.other", code=code or "?")
        logger.warning("install failed: %s %s", code, detail)
        self._set_status("failed", message)
        retry = js.document.createElement("button")
        retry.type = "button"
        retry.textContent = self._t("status.retry")
        retry.dataset.testid = "install-retry"
        if self._retry_listener is not None:
            self._retry_listener.remove()
        self._retry_listener = listen(retry, "click", lambda _event: self._start_retry())
        self._status.appendChild(js.document.createTextNode(" "))
        self._status.appendChild(retry)

    def _start_retry(self) -> None:
        self._task = asyncio.ensure_future(self._install())

    def _set_status(self, state: str, text: str) -> None:
        self._status.textContent = text
        self._status.dataset.installState = state

    def _add_step(self, text: str) -> None:
        item = js.document.createElement("li")
        item.textContent = text
        self._steps.appendChild(item)
