"""A CRM deal tab (CRM_DEAL_DETAIL_TAB) in Python: the deal's contacts and their phones.

Built only on bx24-bridge, as its README shows: the placement says which deal the tab is on, one
REST call lists the deal's contacts, one batch reads them all, and the page writes what came
back as text. Every failure ends in a sentence on the page, never in "Loading…" for ever.
"""

import js

from bx24_bridge import BridgeUnavailable, default_bridge, log_to_console
from bx24_bridge.errors import (
    NO_ACCESS_CODES,
    NOT_FOUND_CODES,
    BridgeError,
    RestError,
    RestTimeout,
)
from bx24_bridge.wire import as_array, as_object, parse_id, wire_text

MAX_CONTACTS = 50  # one batch holds at most 50 calls

log_to_console()
document = js.document
status = document.querySelector('[data-testid="deal-status"]')
listing = document.querySelector('[data-testid="deal-contacts"]')


def say(text: str, state: str) -> None:
    status.textContent = text
    document.documentElement.dataset.appState = state


def element(tag: str, text: str = "", attributes: dict[str, str] | None = None):
    node = document.createElement(tag)
    node.textContent = text  # portal text is untrusted: text, never HTML
    for name, value in (attributes or {}).items():
        node.setAttribute(name, value)
    return node


def contact_name(contact: dict) -> str:
    parts = (wire_text(contact.get(key)) for key in ("NAME", "SECOND_NAME", "LAST_NAME"))
    return " ".join(part for part in parts if part) or f"Contact #{contact.get('ID')}"


def phones_of(contact: dict) -> list[str]:
    values = (wire_text(as_object(row).get("VALUE")) if as_object(row) else ""
              for row in as_array(contact.get("PHONE")))
    return [value for value in values if value]


def show(contacts: list[dict]) -> None:
    listing.replaceChildren()
    for contact in contacts:
        item = element("li", attributes={"data-testid": "deal-contact"})
        name = {"class": "name", "data-testid": "contact-name"}
        item.appendChild(element("span", contact_name(contact), name))
        phones = element("ul", attributes={"class": "phones"})
        for phone in phones_of(contact):
            line = element("li")
            line.appendChild(element("a", phone, {"href": "tel:" + phone,
                                                  "data-testid": "contact-phone"}))
            phones.appendChild(line)
        if not phones.hasChildNodes():
            phones.appendChild(element("li", "no phone", {"class": "none"}))
        item.appendChild(phones)
        listing.appendChild(item)


async def contacts_of(bridge, deal_id: int) -> list[dict]:
    links = await bridge.rest.call_method("crm.deal.contact.items.get", {"id": deal_id})
    ids = [parse_id(as_object(row).get("CONTACT_ID")) for row in as_array(links) if as_object(row)]
    ids = [contact_id for contact_id in ids if contact_id is not None][:MAX_CONTACTS]
    if not ids:
        return []
    calls = {f"c{index}": ("crm.contact.get", {"id": contact_id})
             for index, contact_id in enumerate(ids)}
    answers = await bridge.rest.call_batch(calls)
    contacts = []
    for index in range(len(ids)):
        outcome = answers[f"c{index}"]
        contact = as_object(outcome.data) if outcome.error is None else None
        if contact is not None:  # a contact deleted meanwhile, or hidden from this user: left out
            contacts.append(contact)
    return contacts


async def run() -> None:
    bridge = default_bridge()
    try:
        await bridge.init()
    except BridgeUnavailable:
        say("Open this page from a deal in Bitrix24.", "outside")
        return
    info = bridge.placement.info()
    deal_id = parse_id((as_object(info.options) or {}).get("ID"))
    if info.placement != "CRM_DEAL_DETAIL_TAB" or deal_id is None:
        say("This tab belongs on a deal's page.", "outside")
        return
    try:
        contacts = await contacts_of(bridge, deal_id)
    except RestTimeout:
        say("Bitrix24 did not answer. Reload the tab to try again.", "error")
        return
    except RestError as error:
        if error.code in NO_ACCESS_CODES:
            say("You may not see this deal's contacts.", "error")
        elif error.code in NOT_FOUND_CODES:
            say("This deal no longer exists.", "error")
        else:  # the portal's own words (they are text: written with textContent)
            say(f"Bitrix24 answered: {error.description or error.code}", "error")
        return
    except BridgeError:
        say("Bitrix24 did not answer. Reload the tab to try again.", "error")
        return
    show(contacts)
    count = len(contacts)
    say("No contacts on this deal." if not count
        else f"{count} contact{'s' if count != 1 else ''}", "ready")
    bridge.window.fit()


await run()  # noqa: F704
