"""The call card as the operator sees it, driven through whole calls on the fake host.

Each test boots one page and walks a whole scenario on it: a Pyodide boot costs seconds.
"""

from __future__ import annotations

import pytest
from conftest import APP_STATE_JS, CardPage
from playwright.sync_api import expect

PORTAL = "https://example.bitrix24.com"


@pytest.mark.own_context  # page.clock
def test_a_whole_incoming_call_in_english(card: CardPage) -> None:
    card.page.clock.install()
    card.open({"status": {"CALL_STATE": "connecting"}})
    assert card.text("caller-number") == "+7 900 123-45-67"
    assert card.text("call-direction") == "Incoming call"
    assert card.text("call-state") == "Connecting"
    assert card.text("call-timer") == "0:00"
    assert card.text("line") == "Sales line"
    assert card.count("call-failure") == 0
    entity = card.page.get_by_test_id("crm-entity")
    assert entity.get_attribute("href") == f"{PORTAL}/crm/contact/details/17/"
    bindings = card.page.get_by_test_id("crm-bindings").get_by_role("link")
    assert bindings.count() == 1  # the primary contact is not repeated among the bindings
    assert bindings.first.get_attribute("href") == f"{PORTAL}/crm/company/details/5/"
    card.wait_text("client-name", "Ivan Petrov")

    card.host("host.setState('connected')")
    card.wait_text("call-state", "Talking")
    card.page.clock.run_for("01:05")
    card.wait_text("call-timer", "1:05")

    card.host("host.setState('idle')")
    card.wait_text("call-state", "Ended")
    frozen = card.text("call-timer")
    card.page.clock.run_for("00:30")
    assert card.text("call-timer") == frozen  # frozen at the end, not counting on
    assert card.count("call-failure") == 0
    # Every render that changed the height asked the host to fit the frame.
    assert card.host_log("command", "fitWindow")


def test_a_failed_call_says_why_in_russian_and_a_new_connection_clears_it(card: CardPage) -> None:
    card.open({"lang": "ru", "delivery": "two", "status": {"CALL_STATE": "connecting"}})
    assert card.text("call-direction") == "Входящий звонок"
    assert card.page.evaluate("document.documentElement.lang") == "ru"
    card.host("host.setState('idle', '486')")
    card.wait_text("call-failure", "Занято (486)")
    assert card.text("call-state") == "Звонок не состоялся"  # connecting, then idle
    card.host("host.setState('connecting')")
    card.wait_text("call-state", "Соединение")
    expect(card.page.get_by_test_id("call-failure")).to_have_count(0)
    card.host("host.setState('idle', '699')")
    card.wait_text("call-failure", "Звонок не удался (699)")


def test_over_the_real_wire_a_failure_code_never_arrives_and_nothing_breaks(
    card: CardPage,
) -> None:
    """One argument per event (the default): the state arrives, the code does not."""
    card.open({"status": {"CALL_STATE": "connecting"}})
    card.host("host.setState('idle', '486')")
    card.wait_text("call-state", "Not connected")  # read from connecting -> idle
    assert card.count("call-failure") == 0


@pytest.mark.parametrize(
    ("status", "number", "direction"),
    [
        ({"PHONE_NUMBER": "hidden", "CALL_DIRECTION": "callback", "CALL_LIST_MODE": True},
         "Hidden number", "Callback"),
        ({"PHONE_NUMBER": None, "CALL_DIRECTION": "outgoing", "LINE_NAME": ""},
         "Unknown number", "Outgoing call"),
    ],
)
def test_hidden_and_unknown_numbers_are_said_in_words(
    card: CardPage, status: dict, number: str, direction: str
) -> None:
    # None travels as null; the parser treats it like an absent key (unit tests cover absence).
    card.open({"status": status})
    assert card.text("caller-number") == number
    assert card.text("call-direction") == direction
    if status.get("CALL_LIST_MODE"):
        assert card.text("list-mode") == "Call list"
    else:
        assert card.page.get_by_test_id("list-mode").is_hidden()
        assert card.text("line") == "7 495 123-45-67"  # no line name: its number, formatted
    for testid in ("caller-number", "call-direction", "call-state", "line"):
        text = card.text(testid)
        assert not {"undefined", "None", "null", "hidden"} & set(text.split()), text


def test_an_unbound_call_says_so_and_follows_entity_changes(card: CardPage) -> None:
    card.open({"status": {"CRM_ENTITY_TYPE": "", "CRM_ENTITY_ID": 0, "CRM_BINDINGS": []}})
    assert card.text("crm-unbound") == "Not linked to CRM"
    assert card.text("client-name") == "New client"
    assert card.count("crm-entity") == 0
    # A lead is created from the card: the card follows it.
    card.host("host.changeEntity({PHONE_NUMBER: '+79001234567', CRM_ENTITY_TYPE: 'COMPANY',"
              " CRM_ENTITY_ID: '5'})")
    expect(card.page.get_by_test_id("crm-entity")).to_have_attribute(
        "href", f"{PORTAL}/crm/company/details/5/")
    card.wait_text("client-name", "Romashka LLC")
    assert card.count("crm-unbound") == 0


def test_links_open_in_a_slider_and_fall_back_to_a_new_tab(card: CardPage) -> None:
    card.page.add_init_script("window.__opened = []; window.open = (...a) => __opened.push(a);")
    card.open()
    card.page.get_by_test_id("crm-entity").click()
    card.page.wait_for_function("window.bx24Host.log.some(e => e.name === 'openPath')")
    assert card.host_log("command", "openPath")[0]["data"] == {"path": "/crm/contact/details/17/"}
    assert card.page.evaluate("window.__opened") == []
    # A host that cannot open the path answers an error: the link opens in a new tab instead.
    # (A block, not an expression: Playwright would call a function that evaluate returns.)
    card.page.evaluate("() => { window.BX24.openPath = (path, cb) => setTimeout(() => "
                       "cb({result: 'error', errorCode: 'PATH_NOT_AVAILABLE'}), 0); }")
    card.page.get_by_test_id("crm-binding").click()
    card.page.wait_for_function("window.__opened.length === 1")
    assert card.page.evaluate("window.__opened[0][0]") == f"{PORTAL}/crm/company/details/5/"


HOSTILE = '<img src=x onerror="window.__pwned=1">'


def test_hostile_portal_data_is_shown_as_text_and_never_run(card: CardPage) -> None:
    crm = {
        "users": {"1": {"ID": "1", "NAME": HOSTILE, "LAST_NAME": "\u202eevil"}},
        "items": {
            "contact": {"17": {"id": 17, "name": HOSTILE, "lastName": "<script>x</script>",
                               "companyId": 5, "assignedById": 1}},
            "company": {"5": {"id": 5, "title": "javascript:alert(1)"}},
            "lead": {}, "deal": {},
        },
        "comments": [],
    }
    card.open({"crm": crm, "status": {
        "LINE_NAME": HOSTILE, "PHONE_NUMBER": HOSTILE,
        "CRM_BINDINGS": [{"ENTITY_TYPE": "javascript:alert(1)", "ENTITY_ID": 5},
                         {"ENTITY_TYPE": "DEAL", "ENTITY_ID": "<b>7</b>"}],
    }})
    card.wait_text("client-name", f'{HOSTILE} <script>x</script>')
    assert card.text("line") == HOSTILE
    assert card.page.locator("#card img, #card script, #card b").count() == 0
    assert card.page.evaluate("window.__pwned") is None
    assert "javascript:alert(1)" in card.text("client-details")
    # Only an allowed entity type with a positive integer id becomes a link.
    hrefs = card.page.locator("#card a").evaluate_all("links => links.map(a => a.href)")
    assert hrefs == [f"{PORTAL}/crm/contact/details/17/"]


def test_first_render_comes_from_the_options_while_get_status_is_silent(card: CardPage) -> None:
    card.open({"silentCommands": ["getStatus"]})
    assert card.app_state == "ready"
    assert card.text("caller-number") == "+7 900 123-45-67"
    assert card.host_log("command", "getStatus")


def test_no_call_data_at_all_shows_an_error_with_a_working_retry(card: CardPage) -> None:
    card.open({"options": [], "commandErrors": {"getStatus": "Call card is undefined"}})
    assert card.app_state == "error"
    assert card.text("app-status") == (
        "The call data could not be loaded. Check the connection and try again."
    )
    card.page.evaluate("delete window.bx24Host.config.commandErrors.getStatus")
    card.page.get_by_test_id("retry").click()
    card.page.wait_for_function(f"{APP_STATE_JS} === 'ready'")
    assert card.text("caller-number") == "+7 900 123-45-67"


def test_the_card_is_labelled_and_usable_from_the_keyboard(card: CardPage) -> None:
    card.open()
    assert card.page.get_by_label("Call notes").count() == 1
    assert card.page.get_by_label("Keep the card open after the call").count() == 1
    assert card.page.locator("[aria-live=polite]").count() >= 1
    order = []
    for _ in range(2):
        card.page.keyboard.press("Tab")
        order.append(card.page.evaluate("document.activeElement.dataset.testid"))
    assert order == ["copy-number", "crm-entity"]  # the caller's number first, then the client


@pytest.mark.own_context  # page.clock
def test_log_lines_go_to_the_console_never_onto_the_page(card: CardPage) -> None:
    """A host that never answers: the app logs it, and the operator reads none of it."""
    card.page.clock.install()
    card.open({"silentCommands": ["getStatus", "disableAutoClose"]})
    card.page.get_by_test_id("notes").fill("typed while the host is silent")
    card.page.clock.run_for("00:06")  # both commands time out after 5 s
    wanted = ("no call data", "disableAutoClose failed")
    card.page.wait_for_function("true")  # let the console events arrive
    logged = "\n".join(card.console)
    assert all(line in logged for line in wanted), logged
    body = card.page.inner_text("body")
    for internal in ("placement command", "disableAutoClose", "getStatus", "Traceback"):
        assert internal not in body
    assert card.page.locator(".py-error").count() == 0
    # Outside the card there is nothing but the page's own scripts.
    extra = card.page.evaluate(
        "[...document.body.children].filter(e => !['MAIN', 'SCRIPT', 'SCRIPT-PY']"
        ".includes(e.tagName)).map(e => e.tagName)")
    assert extra == []


def test_links_name_their_items_cut_text_can_be_read_and_the_heading_stays(
    card: CardPage,
) -> None:
    card.open({"lang": "ru"})
    card.wait_text("client-name", "Ivan Petrov")
    entity = card.page.get_by_test_id("crm-entity")
    expect(entity).to_have_text("контакт Ivan Petrov")
    binding = card.page.get_by_test_id("crm-bindings").get_by_role("link")
    expect(binding).to_have_text("компания Romashka LLC")
    # The landmark is labelled by the heading, which the first render keeps.
    label = card.page.evaluate(
        "document.getElementById(document.getElementById('card')"
        ".getAttribute('aria-labelledby'))?.textContent")
    assert label == "Карточка звонка"
    assert card.page.get_by_role("heading", name="Карточка звонка").count() == 1
    # A new client: its link is named too.
    card.host("host.changeEntity({PHONE_NUMBER: '+79001234567', CRM_ENTITY_TYPE: 'DEAL',"
              " CRM_ENTITY_ID: 10})")
    expect(card.page.get_by_test_id("crm-entity")).to_have_text("сделка Поставка оборудования")
    for testid in ("caller-number", "client-name", "line"):
        node = card.page.get_by_test_id(testid)
        assert node.get_attribute("title") == node.inner_text(), testid
