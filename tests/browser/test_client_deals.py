"""The client's context on the card (what the operator needs during the call): the open deals and
the last contact, read in the client's one batch and following every client."""

from __future__ import annotations

from conftest import CardPage
from playwright.sync_api import expect
from test_client_block import batches, change_entity

#: Each open deal the card lists: its link's name and the line after it.
DEALS = """() => [...document.querySelectorAll('[data-testid=client-deals] li')].map(item => [
  item.querySelector('[data-testid=client-deal] .crm-name').textContent,
  item.querySelector('[data-testid=client-deal-facts]').textContent])"""


def deals(card: CardPage) -> list[tuple[str, str]]:
    return [(name, facts) for name, facts in card.page.evaluate(DEALS)]


def test_the_client_s_open_deals_come_in_its_one_batch(card: CardPage) -> None:
    card.open()  # contact 17, Ivan Petrov: deals 9 and 12 in progress, 11 won
    card.wait_text("client-name", "Ivan Petrov")
    expect(card.page.get_by_test_id("client-deals-block")).to_be_visible()
    assert deals(card) == [
        ("Second licence pack <i>x</i>", "Stage: Preparing documents · ₽45,000.50"),
        ("Annual support — Romashka", "Stage: New · ₽120,000"),
    ]
    assert card.page.locator("[data-testid=client-deals] i").count() == 0, "text, never markup"
    assert card.page.evaluate("""() => [...document.querySelectorAll(
        '[data-testid=client-deals] > li')].map(item => item.dataset.dealId)""") == ["12", "9"]
    # The last contact before this call (activity 311 is the call on the card itself).
    expect(card.page.get_by_test_id("last-contact")).to_have_text(
        "Last contact: 28 Nov 2026, 14:05 · Outgoing call · Anna Smirnova")
    assert len(batches(card)) == 1, "no extra round trip for the context"


def test_a_deal_opens_in_the_portal(card: CardPage) -> None:
    card.open()
    card.wait_text("client-name", "Ivan Petrov")
    card.page.get_by_test_id("client-deal").first.click()
    card.page.wait_for_function("window.bx24Host.log.some(e => e.name === 'openPath')")
    assert card.host_log("command", "openPath")[0]["data"] == {"path": "/crm/deal/details/12/"}


def test_the_deals_follow_the_client_and_hide_for_a_lead(card: CardPage) -> None:
    card.open({"lang": "ru"})
    card.wait_text("client-name", "Ivan Petrov")
    change_entity(card, "CONTACT", 18)
    card.wait_text("client-name", "Мария Сергеевна Иванова")
    expect(card.page.get_by_test_id("client-deal")).to_have_count(1)
    assert deals(card) == [("Поставка оборудования",
                            "Стадия: Preparing documents · 845\u202f000 ₽")]
    expect(card.page.get_by_test_id("last-contact")).to_have_text(
        "Последний контакт: 25.11.2026, 16:00 · Встреча · Дмитрий Волков")
    change_entity(card, "CONTACT", 20)  # her last contact is a comment on her timeline
    card.wait_text("client-name", "Ольга Кузнецова")
    expect(card.page.get_by_test_id("last-contact")).to_have_text(
        "Последний контакт: 30.11.2026, 11:20 · Комментарий «Просила перезвонить после 15:00»"
        " · Emily Clark")
    change_entity(card, "LEAD", 31)
    card.wait_text("client-name", "Sergey Orlov")
    expect(card.page.get_by_test_id("client-deals-block")).to_be_hidden()
    assert deals(card) == []
    expect(card.page.get_by_test_id("last-contact")).to_be_hidden()  # the lead has no activity
