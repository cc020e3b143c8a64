"""The install page registers exactly one CALL_CARD tab, explains failures, and finishes."""

from __future__ import annotations

import json
import re
import urllib.request

from conftest import CardPage
from playwright.sync_api import expect

TITLES = {"en": {"TITLE": "Call notes"}, "ru": {"TITLE": "Заметки звонка"}}


def install(card: CardPage, fake: dict | None = None, *, library: str = "fake") -> str:
    """Open the install page and wait for it to finish; return its final install state."""
    card.open({"placement": "DEFAULT", **(fake or {})}, library=library, path="install.html")
    status = card.page.get_by_test_id("install-status")
    expect(status).to_have_attribute("data-install-state", re.compile("^(done|failed|outside)$"))
    return status.get_attribute("data-install-state") or ""


def test_a_fresh_install_binds_the_tab_and_a_second_install_changes_nothing(
    card: CardPage,
) -> None:
    assert install(card) == "done"
    [bind] = card.host_log("rest", "placement.bind")
    assert bind["data"] == {"PLACEMENT": "CALL_CARD", "HANDLER": card.app_url,
                            "TITLE": "Call notes", "LANG_ALL": TITLES}
    assert card.host_log("command", "installFinish")
    bound = card.host("host.config.placements")
    assert [b["handler"] for b in bound] == [card.app_url]

    # Install again on the same portal: nothing is bound twice.
    card.page.add_init_script(
        f"window.BX24_FAKE_CONFIG.placements = {json.dumps(bound)};")
    card.page.reload()
    expect(card.page.get_by_test_id("install-status")).to_have_attribute(
        "data-install-state", "done")
    assert card.host_log("rest", "placement.bind") == []
    assert card.host_log("rest", "placement.unbind") == []
    assert card.host_log("command", "installFinish")


def test_a_stale_handler_of_the_app_is_replaced(card: CardPage) -> None:
    stale = {"placement": "CALL_CARD", "handler": "https://old.example.com/cc/",
             "title": "Call notes", "userId": 0, "options": []}
    other = {"placement": "CRM_DEAL_DETAIL_TAB", "handler": "https://old.example.com/deal/",
             "title": "Deal", "userId": 0, "options": []}
    assert install(card, {"placements": [stale, other]}) == "done"
    bound = card.host("host.config.placements")
    assert sorted((b["placement"], b["handler"]) for b in bound) == [
        ("CALL_CARD", card.app_url), ("CRM_DEAL_DETAIL_TAB", "https://old.example.com/deal/")]
    steps = card.page.get_by_test_id("install-steps").inner_text()
    assert "Removed an old tab: https://old.example.com/cc/" in steps


def test_errors_are_explained_and_the_install_can_be_retried(card: CardPage) -> None:
    no_telephony = {"error": "ERROR_PLACEMENT_NOT_FOUND", "error_description": "Not found"}
    assert install(card, {"rest": {"placement.bind": no_telephony}}) == "failed"
    status = card.page.get_by_test_id("install-status")
    expect(status).to_contain_text("no access to telephony")
    assert card.host_log("command", "installFinish") == []

    card.page.evaluate("() => { window.bx24Host.config.rest['placement.bind'] ="
                       " {error: 'SOMETHING_NEW', error_description: 'x'}; }")
    card.page.get_by_test_id("install-retry").click()
    expect(status).to_contain_text("The installation failed.")
    expect(status).to_contain_text("this code: SOMETHING_NEW.")

    card.page.evaluate("delete window.bx24Host.config.rest['placement.bind']")
    card.page.get_by_test_id("install-retry").click()
    expect(status).to_have_attribute("data-install-state", "done")
    assert card.host_log("command", "installFinish")


def test_wrong_auth_is_explained(card: CardPage) -> None:
    wrong = {"error": "WRONG_AUTH_TYPE", "error_description": "Application context required"}
    assert install(card, {"rest": {"placement.get": wrong}}) == "failed"
    expect(card.page.get_by_test_id("install-status")).to_contain_text("not by a webhook")


def test_outside_bitrix24_the_install_page_says_where_to_open_it(card: CardPage) -> None:
    assert install(card, library="outside") == "outside"
    expect(card.page.get_by_test_id("install-status")).to_contain_text("Open it from Bitrix24")


def test_served_headers_let_pyodide_run_inside_a_bitrix24_frame(app_url: str) -> None:
    for page in ("", "install.html"):
        with urllib.request.urlopen(app_url + page) as response:
            csp = response.headers["Content-Security-Policy"]
            assert "'wasm-unsafe-eval'" in csp
            assert "frame-ancestors 'self' https://*.bitrix24.ru" in csp
            assert response.headers["X-Frame-Options"] is None
            assert response.headers["X-Content-Type-Options"] == "nosniff"
