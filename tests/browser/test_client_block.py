"""Who is calling: the client block follows every entity change, in one batch each."""

from __future__ import annotations

import pytest
from conftest import CardPage
from playwright.sync_api import expect

# Fake CRM (simulator/bx24-fake.js): contacts 17-20, companies 5-7, leads 31-32, deals 9-10.
CLIENTS = [
    ("CONTACT", 18, "Мария Сергеевна Иванова"),
    ("COMPANY", 6, "ООО «Вектор-Плюс»"),
    ("CONTACT", 20, "Ольга Кузнецова"),
    ("COMPANY", 5, "Romashka LLC"),
    ("CONTACT", 17, "Ivan Petrov"),
]
ENTITY_TYPE_IDS = {"LEAD": 1, "DEAL": 2, "CONTACT": 3, "COMPANY": 4}


def change_entity(card: CardPage, entity_type: str, entity_id: int) -> None:
    card.host(f"host.changeEntity({{PHONE_NUMBER: 'unknown', CRM_ENTITY_TYPE: '{entity_type}',"
              f" CRM_ENTITY_ID: '{entity_id}'}})")


def batches(card: CardPage) -> list[dict]:
    return card.host_log("rest", "batch")


#: Records every client name the card shows from now on (a MutationObserver's callback runs
#: after each task that changed the page, so nothing shown for a moment is missed).
WATCH_NAMES = """() => {
  window.__namesShown = [];
  const seen = () => {
    const name = document.querySelector('[data-testid="client-name"]');
    window.__namesShown.push(name ? name.textContent : null);
  };
  new MutationObserver(seen).observe(
    document.body, {subtree: true, childList: true, characterData: true});
}"""


def names_shown(card: CardPage) -> set[str | None]:
    return set(card.page.evaluate("window.__namesShown"))


def load_a_later_client(card: CardPage, entity_type: str, entity_id: int, name: str) -> None:
    """The barrier's second half (CardPage.wait_delivered): the dialer moves to a client not
    loaded yet, and the card shows it. Its batch takes the same way through the app as every
    earlier answer, queued behind them: once its name is on screen, they have all been handled.
    """
    before = len(batches(card))
    change_entity(card, entity_type, entity_id)
    card.wait_text("client-name", name)
    asked = [batch["data"].get("item") for batch in batches(card)[before:]]
    assert asked == [item_call(entity_type, entity_id)], f"batches since then: {asked}"


def item_call(entity_type: str, entity_id: int) -> list:
    """A batch's call for the client's own CRM item."""
    return ["crm.item.get", {"entityTypeId": ENTITY_TYPE_IDS[entity_type], "id": entity_id}]


def test_the_client_company_and_responsible_come_in_one_round_trip(card: CardPage) -> None:
    card.open()
    card.wait_text("client-name", "Ivan Petrov")
    assert card.text("client-details") == "Company: Romashka LLC · Responsible: Anna Smirnova"
    [batch] = batches(card)
    assert batch["data"]["item"] == ["crm.item.get", {"entityTypeId": 3, "id": 17}]
    assert card.host_log("rest", "crm.item.get") == []  # nothing outside the batch


def test_a_slow_answer_for_an_old_client_never_wins(card: CardPage) -> None:
    card.open({"status": {"CALL_LIST_MODE": True}})
    card.wait_text("client-name", "Ivan Petrov")
    card.page.evaluate("window.bx24Host.config.restDelayMs = 1500")
    change_entity(card, "CONTACT", 18)
    card.page.wait_for_function(
        "window.bx24Host.log.filter(e => e.name === 'batch').length === 2")
    card.page.evaluate("window.bx24Host.config.restDelayMs = 0")
    change_entity(card, "COMPANY", 6)
    card.wait_text("client-name", "ООО «Вектор-Плюс»")
    card.page.evaluate(WATCH_NAMES)
    card.wait_delivered("rest", "batch")  # every answer, the slow one for contact 18 too
    assert card.text("client-name") == "ООО «Вектор-Плюс»"
    assert card.page.get_by_test_id("crm-entity").get_attribute("data-crm-id") == "6"
    load_a_later_client(card, "CONTACT", 20, "Ольга Кузнецова")
    assert "Мария Сергеевна Иванова" not in names_shown(card)  # not even for a moment


def test_stepping_quickly_through_ten_clients_ends_on_the_right_one(card: CardPage) -> None:
    card.open({"status": {"CALL_LIST_MODE": True}, "restDelayMs": 40})
    card.wait_text("client-name", "Ivan Petrov")
    steps = CLIENTS + CLIENTS[:4] + [CLIENTS[1]]
    for entity_type, entity_id, _ in steps:
        change_entity(card, entity_type, entity_id)
    card.wait_text("client-name", steps[-1][2])
    card.page.evaluate(WATCH_NAMES)
    card.wait_delivered("rest", "batch")  # every answer is in, the late ones too
    assert card.text("client-name") == steps[-1][2]
    # At most one round trip per entity change (plus the first load)...
    assert len(batches(card)) <= 1 + len(steps)
    load_a_later_client(card, "LEAD", 31, "Sergey Orlov")
    others = {name for _, _, name in CLIENTS} - {steps[-1][2]}
    assert names_shown(card) & others == set()  # no late answer showed its client
    # ...and returning to a client already loaded costs nothing: it comes from the card's cache.
    settled = len(batches(card))
    change_entity(card, "CONTACT", 17)
    card.wait_text("client-name", "Ivan Petrov")
    load_a_later_client(card, "COMPANY", 7, '<b>ACME</b> & "Sons"')  # its batch is the only one
    assert len(batches(card)) == settled + 1


#: The talk timer's reading in seconds.
TIMER_SECONDS = """document.querySelector('[data-testid="call-timer"]').textContent
  .split(":").reduce((seconds, part) => seconds * 60 + Number(part), 0)"""


def test_rest_errors_stay_in_the_client_block(card: CardPage) -> None:
    card.open({"rest": {"crm.item.get": {"error": "ACCESS_DENIED",
                                         "error_description": "Access denied"}}})
    card.wait_text("client-problem", "You have no access to this CRM item.")
    assert card.text("caller-number") == "+7 900 123-45-67"  # the rest of the card works
    card.host("host.setState('connected')")
    card.wait_text("call-state", "Talking")
    # Not found is said differently, and nothing is retried in a loop.
    card.page.evaluate("delete window.bx24Host.config.rest['crm.item.get']")
    change_entity(card, "LEAD", 404)
    card.wait_text("client-problem", "The CRM item was not found (deleted or merged).")
    count = len(batches(card))
    # The talk timer's ticks are what drives the card on its own: let two pass, then a later
    # client's load (queued behind whatever they and the answer set going) is the only batch.
    ticked = card.page.evaluate(TIMER_SECONDS) + 2
    card.page.wait_for_function(f"{TIMER_SECONDS} >= {ticked}")
    load_a_later_client(card, "CONTACT", 18, "Мария Сергеевна Иванова")
    assert len(batches(card)) == count + 1
    asked = [batch["data"].get("item") for batch in batches(card)]
    assert asked.count(item_call("LEAD", 404)) == 1  # not even once more before the count


@pytest.mark.own_context  # page.clock
def test_a_dead_rest_call_ends_within_seconds_and_can_be_retried(card: CardPage) -> None:
    card.page.clock.install()
    card.open({"rest": {"crm.item.get": {"fail": "500"}}})
    retry = card.page.get_by_test_id("client-retry")
    for fault, then in (("500", "network"), ("network", None)):
        card.advance_clock(9)  # the operator waits 8 s, not 20
        card.wait_text("client-problem", "Bitrix24 did not answer with the client's data.")
        # The fake failed the way the real library does: it threw, and never called back.
        assert fault in [e["data"]["kind"] for e in card.host_log("host", "query-error")]
        assert card.text("caller-number") == "+7 900 123-45-67"  # the rest of the card works
        expect(retry).to_be_visible()
        if then is not None:
            card.host(f"host.config.rest['crm.item.get'] = {{fail: '{then}'}}")
        else:
            card.page.evaluate("delete window.bx24Host.config.rest['crm.item.get']")
        retry.click()
    card.advance_clock(1)
    card.wait_text("client-name", "Ivan Petrov")
    expect(retry).to_be_hidden()


@pytest.mark.own_context  # page.clock
def test_a_rest_call_that_never_answers_ends_in_a_short_message(card: CardPage) -> None:
    card.page.clock.install()
    card.open({"rest": {"crm.item.get": {"never": True}}})
    card.page.clock.run_for("00:07")
    assert card.text("client-problem") == ""  # still waiting: the portal may be slow
    card.page.clock.run_for("00:02")
    card.wait_text("client-problem", "Bitrix24 did not answer with the client's data.")
