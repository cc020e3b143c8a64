"""The DOM side of the card: it writes text into elements and nothing else.

Portal data only ever reaches the page through ``textContent`` (call-card.md, section 8): no
string from the host is parsed as HTML here. Elements carry the ``data-testid`` hooks of
ui-contract.md, which tests and outside checks rely on.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import js  # type: ignore[import-not-found]
from pyodide.ffi import create_proxy  # type: ignore[import-not-found]

from .i18n import Translator
from .present import CardText

APP_STATES = ("loading", "ready", "outside", "error")
SIMULATOR_PATH = "./simulator/"


def _element(tag: str, text: str | None = None, **attrs: str) -> Any:
    node = js.document.createElement(tag)
    for name, value in attrs.items():
        node.setAttribute(name.replace("_", "-"), value)
    if text is not None:
        node.textContent = text
    return node


class CardView:
    """Renders into ``<main id="card">``; one instance per page."""

    def __init__(self, root: Any) -> None:
        self._root = root
        self._fields: dict[str, Any] = {}
        self._listeners: list[Any] = []

    @classmethod
    def mount(cls) -> CardView:
        return cls(js.document.getElementById("card"))

    # -------------------------------------------------------------- page state

    def set_app_state(self, state: str) -> None:
        """Flip ``<html data-app-state>`` once the DOM is updated, as ui-contract.md asks."""
        if state not in APP_STATES:
            raise ValueError(f"unknown app state {state!r}")
        html = js.document.documentElement
        if html.dataset.appState == state:
            return
        html.dataset.appState = state
        if state == "ready":
            js.performance.mark("callcard:ready")

    def set_language(self, t: Translator) -> None:
        js.document.documentElement.lang = t.lang
        js.document.title = t("card.title")

    # -------------------------------------------------------------- whole-card states

    def show_outside(self, t: Translator) -> None:
        status = _element("p", t("status.outside"), data_testid="app-status", role="status")
        hint = _element("p", t("status.outside.hint") + " ")
        hint.appendChild(_element("a", t("status.outside.link"), href=SIMULATOR_PATH))
        self._replace(status, hint)
        self.set_app_state("outside")

    def show_error(self, t: Translator, on_retry: Callable[[], Any]) -> None:
        status = _element("p", t("status.error"), data_testid="app-status", role="alert")
        retry = _element("button", t("status.retry"), type="button", data_testid="retry")
        listener = create_proxy(lambda _event: on_retry())
        self._listeners.append(listener)
        retry.addEventListener("click", listener)
        self._replace(status, retry)
        self.set_app_state("error")

    def show_card(self, t: Translator, text: CardText) -> None:
        """First render of the call, or a full re-render; later changes use :meth:`update`."""
        rows = _element("dl", None, **{"class": "call-facts"})
        fields: dict[str, Any] = {}
        for key, label in (
            ("caller-number", "label.caller"),
            ("call-direction", "label.direction"),
            ("call-state", "label.state"),
            ("line", "label.line"),
        ):
            rows.appendChild(_element("dt", t(label)))
            value = _element("dd", None, data_testid=key)
            rows.appendChild(value)
            fields[key] = value
        announcer = _element("p", None, **{"class": "visually-hidden", "aria-live": "polite"})
        fields["announcer"] = announcer
        self._replace(rows, announcer)
        self._fields = fields
        self.update(text)
        self.set_app_state("ready")

    def update(self, text: CardText) -> None:
        """Write the card's text fields (only those whose text changed)."""
        for key, value in (
            ("caller-number", text.caller_number),
            ("call-direction", text.call_direction),
            ("call-state", text.call_state),
            ("line", text.line),
        ):
            node = self._fields.get(key)
            if node is not None and node.textContent != value:
                node.textContent = value
                if key == "call-state":
                    self._fields["announcer"].textContent = value

    # -------------------------------------------------------------- helpers

    def _replace(self, *children: Any) -> None:
        self._fields.clear()
        for listener in self._listeners:
            listener.destroy()
        self._listeners.clear()
        self._root.replaceChildren(*children)
