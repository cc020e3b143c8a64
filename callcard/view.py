"""The DOM side of the card: it writes text into elements and nothing else.

Portal data only ever reaches the page through ``textContent`` and attribute values set one by
one (call-card.md, section 8): no string from the host is parsed as HTML here. Elements carry
the ``data-testid`` hooks of ui-contract.md, which tests and outside checks rely on. The view
calls back into the controller for user actions (``on_*`` callables) and decides nothing.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import js  # type: ignore[import-not-found]
from pyodide.ffi import create_proxy  # type: ignore[import-not-found]

from .i18n import Translator
from .present import CardText, CrmLink, theme_from_query

APP_STATES = ("loading", "ready", "outside", "error")
SIMULATOR_PATH = "./simulator/"
CUT_TO_ONE_LINE = frozenset({"caller-number", "client-name", "line"})
"""Hooks whose text the stylesheet cuts with an ellipsis: they carry the whole text as a
``title`` too, so it can still be read."""


def element(tag: str, text: str | None = None, **attrs: str) -> Any:
    """A new element; ``data_testid="x"`` becomes ``data-testid="x"``; text via textContent."""
    node = js.document.createElement(tag)
    for name, value in attrs.items():
        node.setAttribute(name.removesuffix("_").replace("_", "-"), value)
    if text is not None:
        node.textContent = text
    return node


class CardView:
    """Renders into ``<main id="card">``; one instance per page."""

    def __init__(self, root: Any) -> None:
        self._root = root
        # The page's heading (main is labelled by it) stays whatever the card shows.
        self._heading = js.document.getElementById("card-title")
        self._nodes: dict[str, Any] = {}
        self._listeners: list[Any] = []
        self._link_listeners: list[Any] = []
        self._links_shown: object = None
        self._others_shown: tuple[OtherNoteText, ...] = ()
        self._height = 0

    @classmethod
    def mount(cls) -> CardView:
        """The view over the page's card, in the theme the handler URL asks for."""
        theme = theme_from_query(str(js.location.search))
        if theme != "light":
            js.document.documentElement.dataset.theme = theme
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
        if self._heading is not None:
            self._heading.textContent = t("card.title")

    def height_changed(self) -> bool:
        """True when the content's height differs from the last time this was asked."""
        height = int(js.document.documentElement.scrollHeight)
        changed, self._height = height != self._height, height
        return changed

    # -------------------------------------------------------------- whole-card states

    def show_outside(self, t: Translator) -> None:
        self._clear()
        status = element("p", t("status.outside"), data_testid="app-status", role="status")
        hint = element("p", t("status.outside.hint") + " ", **{"class": "hint"})
        hint.appendChild(element("a", t("status.outside.link"), href=SIMULATOR_PATH))
        self._replace(status, hint)
        self.set_app_state("outside")

    def show_error(self, t: Translator, on_retry: Callable[[], Any]) -> None:
        self._clear()
        status = element("p", t("status.error"), data_testid="app-status", role="alert")
        retry = element("button", t("status.retry"), type="button", data_testid="retry")
        self._listen(retry, "click", lambda _event: on_retry())
        self._replace(status, retry)
        self.set_app_state("error")

    def show_card(self, t: Translator, text: CardText, *, on_link: Callable[[CrmLink], Any],
                  on_client_retry: Callable[[], Any] = lambda: None,
                  notes: NotesHandlers | None = None) -> None:
        """Build the card once (first render), then fill it; later changes use the update_*."""
        self._clear()
        self._on_link = on_link
        nodes: dict[str, Any] = {}

        def slot(key: str, tag: str = "span", **attrs: str) -> Any:
            nodes[key] = element(tag, None, data_testid=key, **attrs)
            return nodes[key]

        call = element("section", None, **{"class": "call", "aria-label": t("label.call")})
        top = element("div", None, **{"class": "call-top"})
        top.append(slot("caller-number", "p", **{"class": "caller-number"}),
                   slot("call-direction", "p", **{"class": "call-direction"}))
        nodes["list-mode"] = element("p", None, data_testid="list-mode", **{"class": "badge"})
        state_row = element("p", None, **{"class": "call-state-row"})
        state_row.append(slot("call-state"), element("span", " · ", aria_hidden="true"),
                         slot("call-timer", **{"class": "call-timer", "role": "timer"}))
        nodes["failure-slot"] = element("div", None, **{"class": "failure-slot"})
        facts = element("dl", None, **{"class": "call-facts"})
        facts.append(element("dt", t("label.line")), slot("line", "dd"))
        call.append(top, nodes["list-mode"], state_row, nodes["failure-slot"], facts)

        client = element("section", None, **{"class": "client", "aria-label": t("label.client")})
        client.append(slot("client-name", "p", **{"class": "client-name"}),
                      slot("client-details", "p", **{"class": "client-details"}),
                      slot("client-problem", "p", **{"class": "client-problem"}))
        retry = slot("client-retry", "button", type="button", **{"class": "button-secondary"})
        retry.textContent = t("client.retry")
        retry.hidden = True
        self._listen(retry, "click", lambda _e: on_client_retry())
        client.append(retry)
        crm = element("nav", None, **{"class": "crm", "aria-label": t("label.crm")})
        crm.append(slot("crm-entity-slot", "p"), slot("crm-bindings", "ul", **{"class": "links"}))
        client.append(crm)

        sections = [call, client]
        if notes is not None:
            sections.append(self._notes_section(t, notes, slot))
            self._listen(self._root, "pointerdown", lambda _e: notes.on_activity())
            self._listen(self._root, "keydown", lambda _e: notes.on_activity())
        announcer = element("p", None, **{"class": "visually-hidden", "aria-live": "polite"})
        nodes["announcer"] = announcer
        self._replace(*sections, announcer)
        self._nodes = nodes
        self.update(text)
        self.set_app_state("ready")

    # -------------------------------------------------------------- updates

    def update(self, text: CardText) -> None:
        """Write the call's text (only what changed) and announce a new state politely."""
        self._set("caller-number", text.caller_number)
        self._set("call-direction", text.call_direction)
        self._set("line", text.line)
        self._set("call-timer", text.call_timer)
        if self._set("call-state", text.call_state):
            self._nodes["announcer"].textContent = text.call_state
        list_mode = self._nodes.get("list-mode")
        if list_mode is not None:
            list_mode.textContent = text.list_mode or ""
            list_mode.hidden = text.list_mode is None
        self._show_failure(text.call_failure)
        self._show_links(text)

    def open_in_new_tab(self, href: str) -> None:
        """The fallback when Bitrix24 cannot open the item in a slider."""
        js.window.open(href, "_blank", "noopener,noreferrer")

    def update_timer(self, timer: str) -> None:
        self._set("call-timer", timer)

    def update_client(self, name: str, details: str, problem: str | None,
                      retry: bool = False) -> None:
        """The client block: a name, a line of details, a short problem line if any, and a
        retry button when asking the portal again may help."""
        self._set("client-name", name)
        self._set("client-details", details)
        node = self._nodes.get("client-problem")
        if node is not None:
            self._set("client-problem", problem or "")
            if node.hidden != (problem is None):
                node.hidden = problem is None
        button = self._nodes.get("client-retry")
        if button is not None and button.hidden != (not retry):
            button.hidden = not retry

    # -------------------------------------------------------------- notes

    def _notes_section(self, t: Translator, handlers: NotesHandlers,
                       slot: Callable[..., Any]) -> Any:
        section = element("section", None, **{"class": "notes", "aria-label": t("label.notes")})
        label = element("label", t("notes.label"), for_="notes-input")
        area = slot("notes", "textarea", id="notes-input", rows="4",
                    maxlength=str(handlers.max_length), placeholder=t("notes.placeholder"))
        status = slot("notes-status", "p", **{"class": "notes-status", "aria-live": "polite"})
        status.dataset.notesState = "empty"
        save = slot("notes-save", "button", type="button", **{"class": "button-primary"})
        save.textContent = t("notes.save")
        keep = slot("keep-open", "input", type="checkbox", id="keep-open")
        keep_label = element("label", t("notes.keep_open"), for_="keep-open")
        row = element("div", None, **{"class": "notes-actions"})
        row.append(save, element("span", None, **{"class": "keep-open"}))
        row.lastChild.append(keep, keep_label)
        hold = slot("keep-open-status", "p", **{"class": "hold-status", "aria-live": "polite"})
        hold.hidden = True
        close = slot("close-now", "button", type="button", **{"class": "button-secondary"})
        close.textContent = t("hold.close_now")
        close.hidden = True
        drafts_off = slot("notes-drafts-off", "p", **{"class": "notes-drafts-off"})
        drafts_off.hidden = True
        others = slot("notes-others", "div", **{"class": "notes-others", "role": "status"})
        others.hidden = True
        others.append(element("p", t("notes.others"), **{"class": "notes-others-title"}),
                      element("ul", None))
        section.append(label, area, status, drafts_off, others, row, hold, close)
        self._listen(area, "input", lambda _e: handlers.on_input(str(area.value)))
        self._listen(area, "keydown", lambda e: self._maybe_save(e, handlers))
        self._listen(save, "click", lambda _e: self._save_unless_busy(save, handlers))
        self._listen(keep, "change", lambda _e: handlers.on_keep_open(bool(keep.checked)))
        self._listen(close, "click", lambda _e: handlers.on_close_now())
        return section

    def _maybe_save(self, event: Any, handlers: NotesHandlers) -> None:
        if event.key == "Enter" and (event.ctrlKey or event.metaKey):
            event.preventDefault()
            handlers.on_save()

    @staticmethod
    def _save_unless_busy(button: Any, handlers: NotesHandlers) -> None:
        # aria-disabled, not disabled: a disabled button drops the focus to <body> mid-save.
        if button.getAttribute("aria-disabled") != "true":
            handlers.on_save()

    def set_notes_state(self, state: str, text: str, *, saving: bool) -> None:
        status = self._nodes.get("notes-status")
        if status is None:
            return
        self._set("notes-status", text)  # a live region: written only when it changes
        if status.dataset.notesState != state:
            status.dataset.notesState = state
        busy = "true" if saving else "false"
        save = self._nodes["notes-save"]
        if save.getAttribute("aria-disabled") != busy:
            save.setAttribute("aria-disabled", busy)

    def set_notes_text(self, text: str) -> None:
        area = self._nodes.get("notes")
        if area is not None and area.value != text:
            area.value = text

    def set_keep_open(self, checked: bool) -> None:
        box = self._nodes.get("keep-open")
        if box is not None and bool(box.checked) != checked:
            box.checked = checked

    def set_drafts_note(self, text: str) -> None:
        """Say (once: the shell calls this once) that the browser keeps no drafts."""
        node = self._nodes.get("notes-drafts-off")
        if node is not None:
            self._set("notes-drafts-off", text)
            node.hidden = False

    def set_hold(self, text: str | None, *, close_now: bool) -> None:
        """What holding the card means (it also holds new incoming calls), until when, and the
        button that ends it."""
        hold, close = self._nodes.get("keep-open-status"), self._nodes.get("close-now")
        if hold is None or close is None:
            return
        self._set("keep-open-status", text or "")
        if hold.hidden != (text is None):
            hold.hidden = text is None
        if close.hidden != (not close_now):
            close.hidden = not close_now

    def set_other_notes(self, items: tuple[OtherNoteText, ...]) -> None:
        """The unsaved notes of clients the card has moved on from, one line each."""
        box = self._nodes.get("notes-others")
        if box is None or items == self._others_shown:
            return
        self._others_shown = items
        rows = []
        for item in items:
            row = element("li", item.line)
            if item.text is not None:
                row.appendChild(element("blockquote", item.text, **{"class": "other-text"}))
            rows.append(row)
        box.lastChild.replaceChildren(*rows)
        box.hidden = not rows

    # -------------------------------------------------------------- helpers

    def _set(self, key: str, value: str) -> bool:
        node = self._nodes.get(key)
        if node is None or node.textContent == value:
            return False
        node.textContent = value
        if key in CUT_TO_ONE_LINE:
            node.title = value
        return True

    def _show_failure(self, failure: str | None) -> None:
        """``call-failure`` exists only while there is a failure (ui-contract: absent when none)."""
        slot = self._nodes.get("failure-slot")
        if slot is None:
            return
        current = self._nodes.get("call-failure")
        if failure is None:
            if current is not None:
                current.remove()
                del self._nodes["call-failure"]
            return
        if current is None:
            current = element("p", None, data_testid="call-failure", role="alert",
                              **{"class": "call-failure"})
            slot.appendChild(current)
            self._nodes["call-failure"] = current
        current.textContent = failure

    def _show_links(self, text: CardText) -> None:
        """Rebuild the CRM links only when they change (each link holds a click listener)."""
        entity_slot = self._nodes.get("crm-entity-slot")
        bindings = self._nodes.get("crm-bindings")
        shown = (text.crm_entity, text.crm_bindings, text.crm_unbound)
        if entity_slot is None or bindings is None or shown == self._links_shown:
            return
        self._links_shown = shown
        self._release(self._link_listeners)
        if text.crm_entity is not None:
            entity_slot.replaceChildren(self._link(text.crm_entity, "crm-entity"))
        else:
            entity_slot.replaceChildren(element("span", text.crm_unbound or "",
                                                data_testid="crm-unbound"))
        items = []
        for link in text.crm_bindings:
            item = element("li")
            item.appendChild(self._link(link, "crm-binding"))
            items.append(item)
        bindings.replaceChildren(*items)
        bindings.hidden = not items

    def _link(self, link: CrmLink, testid: str) -> Any:
        anchor = element("a", None, href=link.href, target="_blank",
                         rel="noopener noreferrer", data_testid=testid)
        anchor.append(element("span", link.kind, **{"class": "crm-kind"}), " ",
                      element("span", link.label, **{"class": "crm-name"}))
        anchor.dataset.crmType = link.type
        anchor.dataset.crmId = str(link.id)

        def on_click(event: Any) -> None:
            if event.ctrlKey or event.metaKey or event.shiftKey or event.button != 0:
                return  # the operator asked for a tab or window: let the browser do it
            event.preventDefault()
            self._on_link(link)

        self._listen(anchor, "click", on_click, into=self._link_listeners)
        return anchor

    def _listen(self, node: Any, event: str, handler: Callable[[Any], Any], *,
                into: list[Any] | None = None) -> None:
        proxy = create_proxy(handler)
        (self._listeners if into is None else into).append((node, event, proxy))
        node.addEventListener(event, proxy)

    @staticmethod
    def _release(listeners: list[Any]) -> None:
        for node, event, proxy in listeners:
            node.removeEventListener(event, proxy)
            proxy.destroy()
        listeners.clear()

    def _clear(self) -> None:
        """Release the listeners of what is on screen; call before building its replacement."""
        self._release(self._listeners)
        self._release(self._link_listeners)
        self._links_shown = None
        self._others_shown: tuple[OtherNoteText, ...] = ()
        self._nodes.clear()

    def _replace(self, *children: Any) -> None:
        heading = [self._heading] if self._heading is not None else []
        self._root.replaceChildren(*heading, *children)


@dataclass(frozen=True, slots=True)
class NotesHandlers:
    """What the notes controls call: plain callables, so the view stays free of logic."""

    on_input: Callable[[str], Any]
    on_save: Callable[[], Any]
    on_keep_open: Callable[[bool], Any]
    on_close_now: Callable[[], Any]
    on_activity: Callable[[], Any]
    max_length: int = 10_000


@dataclass(frozen=True, slots=True)
class OtherNoteText:
    """One line about another client's unsaved note, and its text when it has nowhere to go
    (so the operator can copy it)."""

    line: str
    text: str | None = None
