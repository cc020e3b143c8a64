"""The card's markup, once: a tree of elements that the server writes as HTML (the first paint,
from the handler POST) and the browser builds as DOM nodes when there was none to adopt.

Pure Python. A :class:`Node` is a tag, its attributes and its children (nodes or text). Text is
only ever text: :func:`to_html` escapes every text and attribute value, and the browser view sets
``textContent`` and ``setAttribute`` (never HTML), so portal data cannot become markup on either
side (docs/host-contract.md#untrusted-data). Every node the view later writes into carries its
``data-testid`` (ui-contract.md): that is how the browser finds the server's nodes and takes them
over instead of building a second copy.
"""

from __future__ import annotations

import html
from collections.abc import Iterator
from typing import Final

from bx24_bridge.values import Value

from .i18n import Translator
from .note_form import MAX_NOTE_LEN, Outcome
from .present import CardText, ClientText, CrmLink, DealText

__all__ = ["Node", "card_markup", "hook_names", "link_markup", "to_html"]

#: Elements that have no end tag in HTML.
_VOID: Final = frozenset({"input", "br", "img", "meta", "link"})


class Node(Value):
    """An element: ``attrs`` in order (a value of None is a boolean attribute, e.g. hidden)."""

    tag: str
    attrs: tuple[tuple[str, str | None], ...] = ()
    children: tuple[Node | str, ...] = ()

    def attr(self, name: str) -> str | None:
        return next((value for key, value in self.attrs if key == name), None)

    @property
    def testid(self) -> str | None:
        return self.attr("data-testid")


def _el(tag: str, *children: Node | str | None, **attrs: str | bool | None) -> Node:
    """``_el("p", "text", data_testid="x", hidden=True)``: underscores become dashes, a trailing
    one is dropped (``for_``), False and None attributes are left out."""
    pairs: list[tuple[str, str | None]] = []
    for name, value in attrs.items():
        if value is None or value is False:
            continue
        pairs.append((name.removesuffix("_").replace("_", "-"), None if value is True else value))
    return Node(tag, tuple(pairs), tuple(child for child in children if child is not None))


def link_markup(link: CrmLink, testid: str) -> Node:
    """A CRM link: the item's type in small words, then its name (or number)."""
    return _el("a", _el("span", link.kind, class_="crm-kind"), " ",
               _el("span", link.label, class_="crm-name"),
               href=link.href, target="_blank", rel="noopener noreferrer", data_testid=testid,
               data_crm_type=link.type, data_crm_id=str(link.id))


def _crm_entity(text: CardText) -> Node:
    if text.crm_entity is not None:
        inner = link_markup(text.crm_entity, "crm-entity")
    else:
        inner = _el("span", text.crm_unbound or "", data_testid="crm-unbound")
    return _el("p", inner, data_testid="crm-entity-slot")


def _bindings(text: CardText) -> Node:
    items = [_el("li", link_markup(link, "crm-binding")) for link in text.crm_bindings]
    return _el("ul", *items, class_="links", data_testid="crm-bindings", hidden=not items)


def _call(t: Translator, text: CardText) -> Node:
    failure = (_el("p", text.call_failure, data_testid="call-failure", role="alert",
                   class_="call-failure") if text.call_failure is not None else None)
    return _el(
        "section",
        _el("div",
            _el("p", text.caller_number, class_="caller-number", data_testid="caller-number",
                title=text.caller_number, elementtiming="caller"),
            # static/early-actions.js copies data-number: it works from the first paint on.
            _el("button", t("copy.number"), type="button", class_="copy-number",
                data_testid="copy-number", data_number=text.copy_number or "",
                data_label=t("copy.number"), data_done=t("copy.done"),
                data_failed=t("copy.failed"), title=t("copy.number.title"),
                hidden=text.copy_number is None),
            class_="call-top"),
        # What the host's own card shows too, in one line: direction · state · talk time.
        _el("p",
            _el("span", text.call_direction, class_="call-direction",
                data_testid="call-direction"),
            _el("span", " · ", aria_hidden="true"),
            _el("span", text.call_state, data_testid="call-state", class_="call-state"),
            _el("span", " · ", aria_hidden="true"),
            _el("span", text.call_timer, data_testid="call-timer", class_="call-timer",
                role="timer"),
            _el("span", text.list_mode or "", data_testid="list-mode", class_="badge",
                hidden=text.list_mode is None),
            class_="call-state-row"),
        _el("div", failure, data_testid="failure-slot", class_="failure-slot"),
        _el("dl", _el("dt", t("label.line")), _el("dd", text.line, data_testid="line",
                                                   title=text.line),
            class_="call-facts"),
        class_="call", aria_label=t("label.call"),
    )


def _client(t: Translator, client: ClientText, text: CardText) -> Node:
    return _el(
        "section",
        _el("p", client.name, class_="client-name", data_testid="client-name",
            title=client.name or None),
        _el("p", client.details, class_="client-details", data_testid="client-details"),
        _el("p", client.last or "", class_="client-last", data_testid="last-contact",
            hidden=client.last is None),
        _el("p", client.problem or "", class_="client-problem", data_testid="client-problem",
            hidden=client.problem is None),
        _el("button", t("client.retry"), type="button", class_="button-secondary",
            data_testid="client-retry", hidden=not client.retry),
        # static/early-actions.js marks a click before Python runs; the view performs it then.
        _el("button", client.lead or t("lead.create"), type="button", class_="button-secondary",
            data_testid="create-lead", hidden=client.lead is None,
            aria_disabled="true" if client.lead_busy else "false"),
        _el("nav", _crm_entity(text), _bindings(text), class_="crm", aria_label=t("label.crm")),
        _deals(t, client),  # after the client's own link: it stays the first stop of Tab
        class_="client", aria_label=t("label.client"),
    )


def deal_markup(deal: DealText) -> Node:
    """One open deal: its link, then its stage and amount."""
    return _el("li", link_markup(deal.link, "client-deal"), " ",
               _el("span", deal.facts, class_="client-deal-facts", data_testid="client-deal-facts"),
               data_deal_id=str(deal.link.id))


def _deals(t: Translator, client: ClientText) -> Node:
    return _el("div", _el("p", t("client.deals"), class_="client-deals-title"),
               _el("ul", *(deal_markup(deal) for deal in client.deals), data_testid="client-deals"),
               class_="client-deals", data_testid="client-deals-block", hidden=not client.deals)


def outcome_markup(t: Translator) -> Node:
    """The outcome buttons (ui-contract ``call-outcome``): toggle buttons, one chosen at most."""
    buttons = [_el("button", t(f"outcome.{outcome.value}"), type="button",
                   class_="outcome-choice", data_outcome=outcome.value, aria_pressed="false")
               for outcome in Outcome]
    return _el("div", _el("span", t("outcome.title"), class_="outcome-title",
                          id="outcome-title"),
               *buttons, class_="outcome", role="group", aria_labelledby="outcome-title",
               data_testid="call-outcome")


def callback_markup(t: Translator) -> Node:
    """The call-back control (ui-contract ``callback-at``): quick choices, or a date and time."""
    def choice(key: str, value: str) -> Node:
        return _el("button", t(key), type="button", class_="callback-choice",
                   data_callback=value)

    return _el("div",
               _el("span", t("callback.title"), class_="callback-title", id="callback-title"),
               choice("callback.in_hour", "hour"), choice("callback.tomorrow", "tomorrow"),
               _el("span",
                   _el("input", type="datetime-local", class_="callback-when",
                       data_testid="callback-when", aria_label=t("callback.at")),
                   choice("callback.set", "at"), class_="callback-pair"),
               class_="callback", role="group", aria_labelledby="callback-title",
               data_testid="callback-at")


def _notes(t: Translator) -> Node:
    return _el(
        "section",
        outcome_markup(t),
        callback_markup(t),
        _el("p", class_="callback-status", aria_live="polite", data_testid="callback-status",
            hidden=True),
        _el("label", t("notes.label"), for_="notes-input"),
        _el("textarea", id="notes-input", rows="4", maxlength=str(MAX_NOTE_LEN),
            placeholder=t("notes.placeholder"), data_testid="notes"),
        _el("p", t("notes.state.empty"), class_="notes-status", aria_live="polite",
            data_testid="notes-status", data_notes_state="empty"),
        _el("p", class_="notes-drafts-off", data_testid="notes-drafts-off", hidden=True),
        _el("div", _el("p", t("notes.others"), class_="notes-others-title"), _el("ul"),
            class_="notes-others", role="status", data_testid="notes-others", hidden=True),
        _el("div",
            _el("button", t("notes.save"), type="button", class_="button-primary",
                data_testid="notes-save", aria_disabled="false"),
            _el("span",
                _el("input", type="checkbox", id="keep-open", data_testid="keep-open"),
                _el("label", t("notes.keep_open"), for_="keep-open"),
                class_="keep-open"),
            class_="notes-actions"),
        _el("p", class_="hold-status", aria_live="polite", data_testid="keep-open-status",
            hidden=True),
        _el("button", t("hold.close_now"), type="button", class_="button-secondary",
            data_testid="close-now", hidden=True),
        class_="notes", aria_label=t("label.notes"),
    )


def card_markup(t: Translator, text: CardText, client: ClientText, *,
                notes: bool = True) -> tuple[Node, ...]:
    """The card's sections, in order, as the first view shows them."""
    sections = [_call(t, text), _client(t, client, text)]
    if notes:
        sections.append(_notes(t))
    sections.append(_el("p", class_="visually-hidden", aria_live="polite",
                        data_testid="call-announcer"))
    return tuple(sections)


def hook_names(nodes: tuple[Node, ...] | Node) -> Iterator[str]:
    """Every ``data-testid`` in the tree, in document order."""
    for node in (nodes if isinstance(nodes, tuple) else (nodes,)):
        if node.testid is not None:
            yield node.testid
        for child in node.children:
            if isinstance(child, Node):
                yield from hook_names(child)


def to_html(nodes: tuple[Node, ...] | Node) -> str:
    """The tree as HTML; every text and attribute value escaped."""
    out: list[str] = []

    def write(node: Node) -> None:
        attrs = "".join(
            f" {name}" if value is None else f' {name}="{html.escape(value, quote=True)}"'
            for name, value in node.attrs
        )
        out.append(f"<{node.tag}{attrs}>")
        if node.tag in _VOID:
            return
        for child in node.children:
            if isinstance(child, Node):
                write(child)
            else:
                out.append(html.escape(child, quote=False))
        out.append(f"</{node.tag}>")

    for node in (nodes if isinstance(nodes, tuple) else (nodes,)):
        write(node)
    return "".join(out)
