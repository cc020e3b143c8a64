"""Operator notes in the browser: drafts, saving, BeforeClose and the card's auto-close.

The rules themselves are unit-tested on the pure machine (tests/unit/test_notes*.py); these
tests show the shell performs them against the host: localStorage, crm.timeline.comment.add,
disableAutoClose / enableAutoClose, and the textarea.
"""

from __future__ import annotations

import pytest
from conftest import CardPage
from playwright.sync_api import expect

NOTE = "Wants the annual plan; send the offer by Friday."
DRAFTS = "Object.keys(localStorage).filter(k => k.startsWith('callcard:draft:'))"


def notes_state(card: CardPage, state: str, timeout: int = 10_000) -> None:
    expect(card.page.get_by_test_id("notes-status")).to_have_attribute(
        "data-notes-state", state, timeout=timeout)


def comments(card: CardPage) -> list[dict]:
    return card.host("host.crm.comments")


def test_a_note_is_saved_to_the_timeline_and_its_draft_removed(card: CardPage) -> None:
    card.open({"status": {"CALL_STATE": "connected"}})
    notes_state(card, "empty")
    card.page.get_by_test_id("notes").fill(NOTE)
    notes_state(card, "draft")
    assert card.text("notes-status") == "Not saved yet"
    card.page.wait_for_function(f"{DRAFTS}.length === 1")  # stored locally (debounced)
    # Unsaved work keeps the card open.
    card.page.wait_for_function("window.bx24Host.autoCloseDisabled === true")

    card.page.get_by_test_id("notes-save").click()
    notes_state(card, "saved")
    [comment] = comments(card)
    assert comment["ENTITY_TYPE"] == "contact" and comment["ENTITY_ID"] == 17
    header, body = comment["COMMENT"].split("\n\n", 1)
    assert header.startswith("Incoming call, +79001234567, ")
    assert body == NOTE
    assert card.page.evaluate(f"{DRAFTS}.length") == 0
    # Nothing pending and keep-open off: the card may close again.
    card.page.wait_for_function("window.bx24Host.autoCloseDisabled === false")


def test_a_draft_survives_a_reload_of_the_same_call(card: CardPage) -> None:
    card.open()
    card.page.get_by_test_id("notes").fill(NOTE)
    card.page.wait_for_function(f"{DRAFTS}.length === 1")
    card.page.reload()
    card.wait_settled()
    expect(card.page.get_by_test_id("notes")).to_have_value(NOTE)
    notes_state(card, "draft")
    card.page.wait_for_function("window.bx24Host.autoCloseDisabled === true")


def test_before_close_saves_exactly_once_even_when_it_fires_twice(card: CardPage) -> None:
    card.open({"status": {"CALL_STATE": "connected"}})
    card.page.get_by_test_id("notes").fill(NOTE)
    notes_state(card, "draft")
    card.host("host.setState('idle')")
    card.host("host.beforeClose()")
    card.host("host.fireRaw('CallCard::BeforeClose', [[]])")  # again, during the save
    notes_state(card, "saved")
    card.host("host.fireRaw('CallCard::BeforeClose', [])")  # and once more after it
    card.page.wait_for_timeout(300)
    assert len(comments(card)) == 1
    card.page.wait_for_function("window.bx24Host.autoCloseDisabled === false")


def test_a_failed_save_keeps_the_card_open_and_the_draft_and_can_be_retried(
    card: CardPage,
) -> None:
    card.open({"rest": {"crm.timeline.comment.add": {
        "error": "ACCESS_DENIED", "error_description": "Access denied"}}})
    card.page.get_by_test_id("notes").fill(NOTE)
    card.host("host.beforeClose()")
    notes_state(card, "failed")
    assert "Could not save" in card.text("notes-status")
    assert card.page.evaluate(f"{DRAFTS}.length") == 1
    assert card.host("host.autoCloseDisabled") is True
    assert comments(card) == []
    card.page.evaluate("delete window.bx24Host.config.rest['crm.timeline.comment.add']")
    card.page.get_by_test_id("notes-save").click()
    notes_state(card, "saved")
    assert len(comments(card)) == 1
    assert card.page.evaluate(f"{DRAFTS}.length") == 0


@pytest.mark.own_context  # page.clock
def test_auto_close_stays_disabled_while_notes_are_unsaved_or_keep_open_is_ticked(
    card: CardPage,
) -> None:
    card.page.clock.install()
    card.open()
    card.page.get_by_test_id("notes").fill(NOTE)
    card.page.wait_for_function("window.bx24Host.autoCloseDisabled === true")
    renewals = len(card.host_log("command", "disableAutoClose"))
    card.page.clock.run_for("02:10")  # the host's window is ~60-65 s: renew well inside it
    assert len(card.host_log("command", "disableAutoClose")) >= renewals + 3

    card.page.get_by_test_id("notes-save").click()
    notes_state(card, "saved")
    card.page.get_by_test_id("keep-open").check()
    card.page.clock.run_for("00:05")
    card.page.wait_for_function("window.bx24Host.autoCloseDisabled === true")
    card.page.get_by_test_id("keep-open").uncheck()
    card.page.clock.run_for("00:05")
    card.page.wait_for_function("window.bx24Host.autoCloseDisabled === false")


def test_an_unbound_call_keeps_the_note_and_says_there_is_nowhere_to_save(
    card: CardPage,
) -> None:
    card.open({"status": {"CRM_ENTITY_TYPE": "", "CRM_ENTITY_ID": 0, "CRM_BINDINGS": []}})
    card.page.get_by_test_id("notes").fill(NOTE)
    card.page.get_by_test_id("notes-save").click()
    expect(card.page.get_by_test_id("notes-status")).to_contain_text("not linked to a CRM item")
    assert comments(card) == []
    card.page.wait_for_function(f"{DRAFTS}.length === 1")
    # A client is bound from the card: now the note can go there.
    card.host("host.changeEntity({PHONE_NUMBER: '+79001234567', CRM_ENTITY_TYPE: 'LEAD',"
              " CRM_ENTITY_ID: 31})")
    card.page.get_by_test_id("notes-save").click()
    notes_state(card, "saved")
    [comment] = comments(card)
    assert (comment["ENTITY_TYPE"], comment["ENTITY_ID"]) == ("lead", 31)
