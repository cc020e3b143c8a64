"""The install page's DOM: its status line, the list of steps and the retry button, as text.

Hooks for tests: ``install-status`` (with ``data-install-state`` = loading / checking /
binding / done / failed / outside), ``install-steps`` (one item per REST call made) and
``install-retry``.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import js

from bx24_bridge.dom import Listener, listen

__all__ = ["InstallView"]


class InstallView:
    """Writes what :class:`~callcard.install_page.InstallPage` says; decides nothing."""

    def __init__(self) -> None:
        self._status = js.document.querySelector('[data-testid="install-status"]')
        self._steps = js.document.querySelector('[data-testid="install-steps"]')
        self._retry: Listener | None = None

    def set_page(self, state: str, lang: str | None = None) -> None:
        """``<html data-app-state>`` (and ``lang``) for the page as a whole."""
        root = js.document.documentElement
        if lang:
            root.lang = lang
        root.dataset.appState = state

    def set_status(self, state: str, text: str) -> None:
        self._status.textContent = text
        self._status.dataset.installState = state

    def clear_steps(self) -> None:
        self._steps.replaceChildren()

    def add_step(self, text: str) -> None:
        item = js.document.createElement("li")
        item.textContent = text
        self._steps.appendChild(item)

    def offer_retry(self, label: str, on_retry: Callable[[], Any]) -> None:
        """A retry button after the status text (which ``set_status`` just wrote)."""
        retry = js.document.createElement("button")
        retry.type = "button"
        retry.textContent = label
        retry.dataset.testid = "install-retry"
        if self._retry is not None:
            self._retry.remove()
        self._retry = listen(retry, "click", lambda _event: on_retry())
        self._status.appendChild(js.document.createTextNode(" "))
        self._status.appendChild(retry)
