"""The example app on the bridge (examples/deal-contacts): a CRM deal tab built from the wheel
alone, against the fake host (simulator/bx24-fake.js) in the CRM_DEAL_DETAIL_TAB placement."""

from __future__ import annotations

import re
from typing import Any

import pytest
from conftest import CardPage
from playwright.sync_api import expect

PATH = "examples/deal-contacts/"


def deal_tab(deal: object = "9", **extra: Any) -> dict[str, Any]:
    return {"placement": "CRM_DEAL_DETAIL_TAB", "options": {"ID": deal}, **extra}


#: Each contact the tab lists: its name and its phones, as the page shows them.
CONTACTS = """() => [...document.querySelectorAll('[data-testid=deal-contact]')].map(item => [
  item.querySelector('[data-testid=contact-name]').textContent,
  [...item.querySelectorAll('[data-testid=contact-phone]')].map(a => a.textContent)])"""


def contacts(card: CardPage) -> list[tuple[str, list[str]]]:
    return [(name, phones) for name, phones in card.page.evaluate(CONTACTS)]


def test_the_deal_s_contacts_and_their_phones_come_from_the_wheel(card: CardPage) -> None:
    requests: list[str] = []
    card.page.on("request", lambda request: requests.append(request.url))
    card.open(deal_tab(), path=PATH)
    assert card.app_state == "ready"
    assert card.text("deal-status") == "2 contacts"
    assert contacts(card) == [("Ivan Petrov", ["+79001234567"]),
                              ("Ольга Кузнецова", ["+79161112233", "+74951112233"])]
    assert card.page.get_by_test_id("contact-phone").first.get_attribute("href") == \
        "tel:+79001234567"
    # One call for the deal's contacts, one batch for the contacts themselves.
    assert [entry["name"] for entry in card.host_log("rest")] == [
        "crm.deal.contact.items.get", "batch"]
    # The bridge came from its wheel; nothing of the card's Python was loaded.
    # (PyScript's `packages`: micropip, from the runtime's own lock file, installs the wheel.)
    assert any(url.endswith("/micropip-0.11.1-py3-none-any.whl") for url in requests)
    assert any(re.search(r"/wheels/[0-9a-f]{12}/bx24_bridge-[^/]+-py3-none-any\.whl$", url)
               for url in requests)
    assert not any("app-bundle" in url for url in requests)
    assert card.errors == []


def test_portal_text_is_shown_as_text(card: CardPage) -> None:
    card.open(deal_tab("10"), path=PATH)
    names = [name for name, _ in contacts(card)]
    assert names == ["Мария Сергеевна Иванова", "John O'Neil <script>alert(1)</script>"]
    assert card.page.locator("[data-testid=deal-contacts] script").count() == 0


def test_a_deal_without_contacts_says_so(card: CardPage) -> None:
    card.open(deal_tab("9", rest={"crm.deal.contact.items.get": {"result": []}}), path=PATH)
    assert card.app_state == "ready"
    assert card.text("deal-status") == "No contacts on this deal."
    assert [entry["name"] for entry in card.host_log("rest")] == ["crm.deal.contact.items.get"]


def test_a_portal_error_is_a_sentence_on_the_tab(card: CardPage) -> None:
    card.open(deal_tab("404"), path=PATH)  # the fake CRM has no deal 404
    assert card.app_state == "error"
    assert card.text("deal-status") == "Bitrix24 answered: Not found."


@pytest.mark.expect_page_errors  # the real library throws "Query error!" and never calls back
@pytest.mark.own_context  # page.clock: the 8 s REST timeout passes at once
def test_a_portal_that_never_answers_ends_in_a_sentence(card: CardPage) -> None:
    card.page.clock.install()
    card.open(deal_tab(rest={"crm.deal.contact.items.get": {"fail": "500"}}), path=PATH,
              wait=False)
    card.page.wait_for_function("window.bx24Host && window.bx24Host.log.some("
                                "e => e.name === 'crm.deal.contact.items.get')")
    card.page.clock.run_for(9_000)
    card.wait_settled()
    assert card.app_state == "error"
    assert "did not answer" in card.text("deal-status")


def test_outside_a_deal_tab_the_page_says_where_it_belongs(card: CardPage) -> None:
    card.open({"placement": "CALL_CARD"}, path=PATH)
    assert card.app_state == "outside"
    expect(card.page.get_by_test_id("deal-status")).to_have_text(
        "This tab belongs on a deal's page.")
