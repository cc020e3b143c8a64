"""The DOM side of the card: it writes text into elements and nothing else.

Portal data only ever reaches the page through ``textContent`` and attribute values set one by
one (docs/host-contract.md#untrusted-data): no string from the host is parsed as HTML here.
Elements carry the ``data-testid`` hooks of ui-contract.md, which tests and outside checks rely on.
The view calls back into the controller for user actions (``on_*`` callables) and decides nothing.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

import js

from bx24_bridge.dom import Listener, listen

from .i18n import Translator
from .markup import Node, card_markup, deal_markup, hook_names, link_markup
from .present import CardText, ClientText, CrmLink, DealText, theme_from_query

if TYPE_CHECKING:  # types only: the ports module is the notes' (it loads after the first render)
    from .ports import NotesHandlers, OtherNoteText

APP_STATES = ("loading", "ready", "outside", "error")
SIMULATOR_PATH = "./simulator/"
CUT_TO_ONE_LINE = frozenset({"caller-number", "client-name", "line"})
"""Hooks whose text the stylesheet cuts with an ellipsis: they carry the whole text as a
``title`` too, so it can still be read."""


#: Hooks the markup has only for some calls (a failure, links): not needed to adopt a card.
_DEPENDS_ON_THE_CALL = frozenset({"call-failure", "crm-entity", "crm-binding", "crm-unbound",
                                  "client-deal", "client-deal-facts"})


def build(node: Node) -> Any:
    """A DOM element from the markup tree: attributes one by one, text as text nodes."""
    made = js.document.createElement(node.tag)
    for name, value in node.attrs:
        made.setAttribute(name, "" if value is None else value)
    for child in node.children:
        made.append(child if isinstance(child, str) else build(child))
    return made


def _hide(node: Any, hidden: bool) -> None:
    """``node.hidden = hidden``, written only when it changes (and nothing for no node)."""
    if node is not None and bool(node.hidden) != hidden:
        node.hidden = hidden


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
        self._listeners: list[Listener] = []
        self._link_listeners: list[Listener] = []
        self._links_shown: object = None
        self._deal_listeners: list[Listener] = []
        self._deals_shown: tuple[DealText, ...] = ()
        self._others_shown: tuple[OtherNoteText, ...] = ()
        self._early_notes: NotesHandlers | None = None
        self._on_create_lead: Callable[[], Any] = lambda: None
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

    def show_card(self, t: Translator, text: CardText, client: ClientText, *,
                  on_link: Callable[[CrmLink], Any],
                  on_client_retry: Callable[[], Any] = lambda: None,
                  on_create_lead: Callable[[], Any] = lambda: None,
                  notes: bool = False) -> None:
        """The card's first render. A card the server already rendered from the handler POST
        (``data-prerendered``) is taken over node by node, so nothing that was right changes;
        otherwise the same markup (callcard/markup.py) is built here. Then it is filled. The
        notes controls are drawn (``notes``) but come alive with ``wire_notes``."""
        self._clear()
        self._on_link = on_link
        self._on_create_lead = on_create_lead
        tree = card_markup(t, text, client, notes=notes)
        if not self._adopt(tree, text):
            self._replace(*(build(node) for node in tree))
            self._index()
        self._wire(on_client_retry)
        self.update(text)
        self.update_client(client)
        self.set_app_state("ready")

    def _index(self) -> None:
        """Every node with a hook, by its data-testid."""
        found = self._root.querySelectorAll("[data-testid]")
        self._nodes = {str(found.item(i).dataset.testid): found.item(i)
                       for i in range(int(found.length))}

    def _adopt(self, tree: tuple[Node, ...], text: CardText) -> bool:
        """Take over the server's card when it has every hook this markup has."""
        if not js.document.documentElement.hasAttribute("data-prerendered"):
            return False
        self._index()
        wanted = set(hook_names(tree)) - _DEPENDS_ON_THE_CALL
        if not wanted <= set(self._nodes):
            self._nodes.clear()
            return False  # another markup (an older page?): build ours instead
        anchors = self._root.querySelectorAll("[data-testid=crm-entity], "
                                              "[data-testid=crm-binding]")
        links = [link for link in (text.crm_entity, *text.crm_bindings) if link is not None]
        if self._links_match(anchors, links):
            self._links_shown = (text.crm_entity, text.crm_bindings, text.crm_unbound)
            for index, link in enumerate(links):
                self._listen_link(anchors.item(index), link)
        return True

    @staticmethod
    def _links_match(anchors: Any, links: list[CrmLink]) -> bool:
        """Whether the server's links are the ones this render would show."""
        expected = [(link.href, link.kind, link.label) for link in links]
        found: list[tuple[str, str, str]] = []
        for index in range(int(anchors.length)):
            anchor = anchors.item(index)
            kind, name = anchor.querySelector(".crm-kind"), anchor.querySelector(".crm-name")
            found.append((str(anchor.getAttribute("href")),
                          str(kind.textContent) if kind else "",
                          str(name.textContent) if name else ""))
        return found == expected

    def _wire(self, on_client_retry: Callable[[], Any]) -> None:
        """The card's own listeners (the notes' come with ``wire_notes``; until then
        static/early-actions.js marks a click on Save or Close now, and it is done then)."""
        retry = self._nodes.get("client-retry")
        if retry is not None:
            self._listen(retry, "click", lambda _e: on_client_retry())
        lead = self._nodes.get("create-lead")
        if lead is not None:
            self._listen(lead, "click", lambda _e: self._on_create_lead())
            lead.setAttribute("data-wired", "")

    def wire_notes(self, notes: NotesHandlers) -> None:
        """The notes controls' listeners; then what the operator did before (typed a note,
        ticked keep-open) is handed over as if it happened now."""
        area, save = self._nodes["notes"], self._nodes["notes-save"]
        keep, close = self._nodes["keep-open"], self._nodes["close-now"]
        outcome = self._nodes.get("call-outcome")
        self._listen(area, "input", lambda _e: notes.on_input(str(area.value)))
        if outcome is not None:
            self._listen(outcome, "click", lambda e: self._outcome_clicked(e, notes))
        callback = self._nodes.get("callback-at")
        if callback is not None:
            self._listen(callback, "click", lambda e: self._callback_clicked(e, notes))
        for row in (outcome, callback):
            if row is not None:
                row.setAttribute("data-wired", "")  # choices are ours now, not the guard's
        self._listen(area, "keydown", lambda e: self._maybe_save(e, notes))
        self._listen(save, "click", lambda _e: self._save_unless_busy(save, notes))
        self._listen(keep, "change", lambda _e: notes.on_keep_open(bool(keep.checked)))
        self._listen(close, "click", lambda _e: notes.on_close_now())
        self._listen(self._root, "pointerdown", lambda _e: notes.on_activity())
        self._listen(self._root, "keydown", lambda _e: notes.on_activity())
        for button in (save, close):
            button.setAttribute("data-wired", "")  # clicks are ours now, not the guard's
        # Read both first: handing one over renders the notes, which writes the other.
        typed, kept = str(area.value), bool(keep.checked)
        if typed:
            notes.on_input(typed)
        if kept:
            notes.on_keep_open(True)
        self._early_notes = notes

    def perform_early_actions(self) -> None:
        """A Save or Close now clicked before the notes were wired (marked data-requested): done
        now, once the notes have restored what this call stored (the machine merges that with the
        typed text). Save first: Close now saves what is pending anyway."""
        notes, self._early_notes = self._early_notes, None
        save, close = self._nodes.get("notes-save"), self._nodes.get("close-now")
        area, lead = self._nodes.get("notes"), self._nodes.get("create-lead")
        if lead is not None and lead.hasAttribute("data-requested"):
            lead.removeAttribute("data-requested")
            self._on_create_lead()  # the notes are there: the caller's note follows the lead
        if notes is None:
            return
        self._hand_over_choices(notes)
        if save is not None and save.hasAttribute("data-requested"):
            save.removeAttribute("data-requested")
            if area is not None and str(area.value):
                self._save_unless_busy(save, notes)
        if close is not None and close.hasAttribute("data-requested"):
            close.removeAttribute("data-requested")
            notes.on_close_now()

    # -------------------------------------------------------------- updates

    def update(self, text: CardText) -> None:
        """Write the call's text (only what changed) and announce a new state politely."""
        self._set("caller-number", text.caller_number)
        self._show_copy(text.copy_number)
        self._set("call-direction", text.call_direction)
        self._set("line", text.line)
        self._set("call-timer", text.call_timer)
        if self._set("call-state", text.call_state):
            self._nodes["call-announcer"].textContent = text.call_state
        self._show_text("list-mode", text.list_mode)
        self._show_failure(text.call_failure)
        self._show_links(text)
        if self._root.hasAttribute("data-after-call") != text.after_call:
            self._root.toggleAttribute("data-after-call", text.after_call)

    def _show_copy(self, number: str | None) -> None:
        """The copy button carries the number it copies (static/early-actions.js does the
        copying); a new number puts its label back."""
        button = self._nodes.get("copy-number")
        if button is None:
            return
        wanted = number or ""
        if str(button.getAttribute("data-number") or "") != wanted:
            button.setAttribute("data-number", wanted)
            button.removeAttribute("data-copied")
            button.textContent = str(button.getAttribute("data-label") or button.textContent)
        _hide(button, number is None)

    def open_in_new_tab(self, href: str) -> None:
        """The fallback when Bitrix24 cannot open the item in a slider."""
        js.window.open(href, "_blank", "noopener,noreferrer")

    def update_timer(self, timer: str) -> None:
        self._set("call-timer", timer)

    def update_client(self, client: ClientText) -> None:
        """The client block: a name, a line of details, the last contact, a short problem line
        if any, a retry button when asking the portal again may help, and the open deals."""
        name, details, problem, retry = client.name, client.details, client.problem, client.retry
        self._set("client-name", name)
        self._set("client-details", details)
        self._show_text("last-contact", client.last)
        self._show_text("client-problem", problem)
        _hide(self._nodes.get("client-retry"), not retry)
        self._show_lead(client)
        self._show_deals(client.deals)

    def _show_lead(self, client: ClientText) -> None:
        """The create-lead button: shown for an unbound call, waiting while the lead is made."""
        button = self._nodes.get("create-lead")
        if button is None:
            return
        if client.lead is not None:
            self._set("create-lead", client.lead)
        _hide(button, client.lead is None)
        busy = "true" if client.lead_busy else "false"
        if button.getAttribute("aria-disabled") != busy:
            button.setAttribute("aria-disabled", busy)

    def _show_deals(self, deals: tuple[DealText, ...]) -> None:
        """Rebuild the deals only when they change (each link holds a click listener)."""
        block, listing = self._nodes.get("client-deals-block"), self._nodes.get("client-deals")
        if block is None or listing is None or deals == self._deals_shown:
            return
        self._deals_shown = deals
        self._release(self._deal_listeners)
        items = []
        for deal in deals:
            item = build(deal_markup(deal))
            anchor = item.querySelector("a")
            if anchor:
                self._listen_link(anchor, deal.link, into=self._deal_listeners)
            items.append(item)
        listing.replaceChildren(*items)
        block.hidden = not items

    # -------------------------------------------------------------- notes

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

    def _hand_over_choices(self, notes: NotesHandlers) -> None:
        """An outcome or a call-back chosen before the notes were wired (early-actions.js keeps
        the last choice on its row): chosen now, once the notes have restored this call's (a
        draft's outcome is not toggled off by the same choice made again)."""
        outcome, callback = self._nodes.get("call-outcome"), self._nodes.get("callback-at")
        if outcome is not None and outcome.hasAttribute("data-requested"):
            wanted = str(outcome.getAttribute("data-requested"))
            outcome.removeAttribute("data-requested")
            pressed = outcome.querySelector("[data-outcome][aria-pressed=true]")
            current = str(pressed.getAttribute("data-outcome")) if pressed else ""  # (JS null)
            if wanted and wanted != current:
                notes.on_outcome(wanted)
        if callback is not None and callback.hasAttribute("data-requested"):
            choice = str(callback.getAttribute("data-requested"))
            callback.removeAttribute("data-requested")
            notes.on_callback(choice, self._callback_at(choice))

    @staticmethod
    def _outcome_clicked(event: Any, handlers: NotesHandlers) -> None:
        # closest() answers JS null (falsy, not None) for a click between the buttons.
        button = event.target.closest("[data-outcome]") if event.target else None
        if button:
            handlers.on_outcome(str(button.getAttribute("data-outcome")))

    def _callback_clicked(self, event: Any, handlers: NotesHandlers) -> None:
        button = event.target.closest("[data-callback]") if event.target else None
        if not button:  # (JS null: a click between the buttons, or on the date field)
            return
        choice = str(button.getAttribute("data-callback"))
        handlers.on_callback(choice, self._callback_at(choice))

    def _callback_at(self, choice: str) -> str | None:
        """The date field's value for "at" (the other choices need none)."""
        field = self._nodes.get("callback-when")
        return str(field.value) if choice == "at" and field is not None else None

    def set_callback(self, text: str | None, state: str | None) -> None:
        """The call-back's status line (``data-callback-state``: creating, created, retrying,
        failed, refused), hidden when there is none."""
        node = self._show_text("callback-status", text)
        if node is None:
            return
        wanted = state or ""
        if str(node.getAttribute("data-callback-state") or "") != wanted:
            node.setAttribute("data-callback-state", wanted)

    def set_outcome(self, outcome: str | None) -> None:
        """Press the chosen outcome's button, release the others."""
        row = self._nodes.get("call-outcome")
        if row is None:
            return
        buttons = row.querySelectorAll("[data-outcome]")
        for index in range(int(buttons.length)):
            button = buttons.item(index)
            pressed = "true" if button.getAttribute("data-outcome") == outcome else "false"
            if button.getAttribute("aria-pressed") != pressed:
                button.setAttribute("aria-pressed", pressed)

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
        self._show_text("keep-open-status", text)
        _hide(self._nodes.get("close-now"), not close_now)

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

    def _show_text(self, key: str, text: str | None) -> Any:
        """Write ``text`` into the hook ``key`` and show it; None empties and hides it. The
        node, or None when this card has no such hook."""
        node = self._nodes.get(key)
        if node is not None:
            self._set(key, text or "")
            _hide(node, text is None)
        return node

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
        if current.textContent != failure:
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
        anchor = build(link_markup(link, testid))
        self._listen_link(anchor, link)
        return anchor

    def _listen_link(self, anchor: Any, link: CrmLink, *,
                     into: list[Listener] | None = None) -> None:
        def on_click(event: Any) -> None:
            if event.ctrlKey or event.metaKey or event.shiftKey or event.button != 0:
                return  # the operator asked for a tab or window: let the browser do it
            event.preventDefault()
            self._on_link(link)

        self._listen(anchor, "click", on_click,
                     into=self._link_listeners if into is None else into)

    def _listen(self, node: Any, event: str, handler: Callable[[Any], Any], *,
                into: list[Listener] | None = None) -> None:
        (self._listeners if into is None else into).append(listen(node, event, handler))

    @staticmethod
    def _release(listeners: list[Listener]) -> None:
        for listener in listeners:
            listener.remove()
        listeners.clear()

    def _clear(self) -> None:
        """Release the listeners of what is on screen; call before building its replacement."""
        self._release(self._listeners)
        self._release(self._link_listeners)
        self._release(self._deal_listeners)
        self._links_shown = None
        self._deals_shown = ()
        self._others_shown: tuple[OtherNoteText, ...] = ()
        self._nodes.clear()

    def _replace(self, *children: Any) -> None:
        heading = [self._heading] if self._heading is not None else []
        self._root.replaceChildren(*heading, *children)
