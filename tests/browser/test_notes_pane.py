"""Operator notes in the browser: drafts, saving, one comment per client, the dialer moving to
the next client, BeforeClose, and a card held open with an end.

The rules themselves are unit-tested on the pure machine (tests/unit/test_notes*.py); these
tests show the shell performs them against the host: localStorage, crm.timeline.comment.add and
.update, disableAutoClose / enableAutoClose, and the textarea.
"""

from __future__ import annotations

import json

import pytest
from conftest import CardPage
from playwright.sync_api import expect

NOTE = "Wants the annual plan; send the offer by Friday."
DRAFTS = "Object.keys(localStorage).filter(k => k.startsWith('callcard:draft:'))"
STORED = f"{DRAFTS}.map(k => JSON.parse(localStorage.getItem(k)))"


def notes_state(card: CardPage, state: str, timeout: int = 10_000) -> None:
    expect(card.page.get_by_test_id("notes-status")).to_have_attribute(
        "data-notes-state", state, timeout=timeout)


def comments(card: CardPage) -> list[dict]:
    return card.host("host.crm.comments")


def test_a_note_is_saved_to_the_timeline_and_remembered_with_its_comment(card: CardPage) -> None:
    card.open({"status": {"CALL_STATE": "connected"}})
    notes_state(card, "empty")
    card.page.get_by_test_id("notes").fill(NOTE)
    notes_state(card, "draft")
    assert card.text("notes-status") == "Not saved yet"
    card.page.wait_for_function(f"{DRAFTS}.length === 1")  # stored locally (debounced)
    # Unsaved work keeps the card open.
    card.page.wait_for_function("window.bx24Host.autoCloseDisabled === true")
    # The status line is a live region: the machine ticks four times a second, yet the line is
    # written only when its words change.
    card.page.evaluate("""() => {
        window.statusWrites = 0;
        const node = document.querySelector('[data-testid=notes-status]');
        new MutationObserver(rs => { window.statusWrites += rs.length; })
            .observe(node, {childList: true, characterData: true, subtree: true});
    }""")
    card.wait_for_notes_ticks(4)
    assert card.page.evaluate("window.statusWrites") == 0

    card.page.get_by_test_id("notes-save").click()
    notes_state(card, "saved")
    assert card.text("notes-status") == "Saved to the CRM timeline"
    assert card.page.evaluate("window.statusWrites") > 0  # the observer does see real changes
    [comment] = comments(card)
    assert comment["ENTITY_TYPE"] == "contact" and comment["ENTITY_ID"] == 17
    header, body = comment["COMMENT"].split("\n\n", 1)
    assert header.startswith("Incoming call, +79001234567, Ivan Petrov, ")  # names the client
    assert body == NOTE
    # The store keeps the saved text with its comment: a reload would update that comment.
    [stored] = card.page.evaluate(STORED)
    assert (stored["client"], stored["comment_id"], stored["saved"]) == ("contact-17", 1, True)
    # Nothing pending and keep-open off: the card may close again.
    card.page.wait_for_function("window.bx24Host.autoCloseDisabled === false")
    # The button kept the focus through the save (aria-disabled, not disabled).
    assert card.page.evaluate("document.activeElement.dataset.testid") == "notes-save"


def test_one_comment_per_client_through_re_saves_a_deletion_and_a_reload(card: CardPage) -> None:
    card.open()
    area, save = card.page.get_by_test_id("notes"), card.page.get_by_test_id("notes-save")
    lines = ["line 1", "line 1\nline 2", "line 1\nline 2\nline 3"]
    for text in lines:
        area.fill(text)
        save.click()
        notes_state(card, "saved")
    [comment] = comments(card)
    assert comment["COMMENT"].split("\n\n", 1)[1] == lines[-1]
    assert [e["name"] for e in card.host_log("rest") if "comment" in e["name"]] == [
        "crm.timeline.comment.add", "crm.timeline.comment.update", "crm.timeline.comment.update",
    ]
    # Someone deletes the comment in the portal: the next save adds it again.
    card.host("host.crm.comments.splice(0)")
    area.fill("first, again")
    save.click()
    notes_state(card, "saved")
    [comment] = comments(card)
    assert comment["COMMENT"].endswith("\n\nfirst, again")
    # After a reload the saved note is back, and a further save updates that same comment.
    card.page.reload()
    card.wait_settled()
    expect(area).to_have_value("first, again")
    notes_state(card, "saved")
    area.fill("first, again, and more")
    save.click()
    notes_state(card, "saved")
    [comment] = comments(card)
    assert comment["COMMENT"].endswith("\n\nfirst, again, and more")


def test_a_draft_survives_a_reload_of_the_same_call(card: CardPage) -> None:
    card.open()
    card.page.get_by_test_id("notes").fill(NOTE)
    card.page.wait_for_function(f"{DRAFTS}.length === 1")
    card.page.reload()
    card.wait_settled()
    expect(card.page.get_by_test_id("notes")).to_have_value(NOTE)
    notes_state(card, "draft")
    card.page.wait_for_function("window.bx24Host.autoCloseDisabled === true")


def test_a_draft_of_the_earlier_format_is_kept_after_an_upgrade(card: CardPage) -> None:
    key = f"callcard:draft:v1:example.bitrix24.com:{card.call_id}"
    draft = "JSON.stringify({text: 'written before the upgrade', updated: Date.now() / 1000})"
    card.page.add_init_script(f"localStorage.setItem({json.dumps(key)}, {draft})")
    card.open()
    expect(card.page.get_by_test_id("notes")).to_have_value("written before the upgrade")
    card.page.wait_for_function(f"{DRAFTS}.every(k => k.includes(':v2:'))")


def test_in_the_dialer_a_note_goes_to_the_client_it_was_written_about(card: CardPage) -> None:
    card.open({"status": {"CALL_LIST_MODE": True, "CALL_DIRECTION": "outgoing",
                          "CALL_STATE": "connected"}})
    card.wait_text("client-name", "Ivan Petrov")
    card.page.get_by_test_id("notes").fill("Notes about Ivan Petrov")
    card.host("host.setState('idle')")
    card.host("host.changeEntity({PHONE_NUMBER: '+79005550018', CRM_ENTITY_TYPE: 'CONTACT',"
              " CRM_ENTITY_ID: 18})")
    card.wait_text("client-name", "Мария Сергеевна Иванова")
    # Maria's notes start empty; Ivan's are saved to Ivan, with Ivan's number.
    expect(card.page.get_by_test_id("notes")).to_have_value("")
    card.page.wait_for_function("window.bx24Host.crm.comments.length === 1")
    [ivan] = comments(card)
    assert (ivan["ENTITY_TYPE"], ivan["ENTITY_ID"]) == ("contact", 17)
    assert ivan["COMMENT"].startswith("Outgoing call, +79001234567, Ivan Petrov, ")
    assert ivan["COMMENT"].endswith("\n\nNotes about Ivan Petrov")
    expect(card.page.get_by_test_id("notes-others")).to_have_text(
        "Notes about other clients of this card" "Ivan Petrov: saved to the CRM timeline")
    notes_state(card, "empty")
    card.page.get_by_test_id("notes-save").click()
    card.save_a_later_note("Maria sends the invoice")
    # Nothing of Ivan's went to Maria: the save of her empty box wrote nothing.
    assert [write["name"] for write in card.comment_writes()] == ["crm.timeline.comment.add"] * 2
    maria = comments(card)[1]
    assert maria["ENTITY_ID"] == 18
    assert maria["COMMENT"].split("\n\n")[1] == "Maria sends the invoice"
    assert maria["COMMENT"].startswith("Outgoing call, +79005550018, Мария Сергеевна Иванова, ")


def test_a_previous_clients_failed_note_is_listed_and_kept(card: CardPage) -> None:
    card.open({"rest": {"crm.timeline.comment.add": {
        "error": "ACCESS_DENIED", "error_description": "Access denied!"}}})
    card.page.get_by_test_id("notes").fill("Notes about Ivan")
    card.host("host.changeEntity({PHONE_NUMBER: '+79005550018', CRM_ENTITY_TYPE: 'CONTACT',"
              " CRM_ENTITY_ID: 18})")
    others = card.page.get_by_test_id("notes-others")
    expect(others).to_contain_text("Ivan Petrov: not saved: No permission to write")
    assert "crm." not in others.inner_text() and "ACCESS_DENIED" not in others.inner_text()
    assert card.host("host.autoCloseDisabled") is True
    assert any("Notes about Ivan" in s["text"] for s in card.page.evaluate(STORED))


def test_before_close_saves_exactly_once_even_when_it_fires_twice(card: CardPage) -> None:
    card.open({"status": {"CALL_STATE": "connected"}})
    card.page.get_by_test_id("notes").fill(NOTE)
    notes_state(card, "draft")
    card.host("host.setState('idle')")
    card.host("host.beforeClose()")
    card.host("host.fireRaw('CallCard::BeforeClose', [[]])")  # again, during the save
    notes_state(card, "saved")
    card.host("host.fireRaw('CallCard::BeforeClose', [])")  # and once more after it
    card.wait_delivered("event", "CallCard::BeforeClose")
    card.save_a_later_note(NOTE + " More.")  # the next write is this one
    assert [write["name"] for write in card.comment_writes()] == [
        "crm.timeline.comment.add", "crm.timeline.comment.update"]
    assert len(comments(card)) == 1
    card.page.wait_for_function("window.bx24Host.autoCloseDisabled === false")


@pytest.mark.parametrize(
    ("lang", "words"),
    [("en", "No permission to write to this client's timeline"),
     ("ru", "Нет прав на запись в таймлайн этого клиента")],
)
def test_a_failed_save_says_what_to_do_keeps_the_card_and_can_be_retried(
    card: CardPage, lang: str, words: str
) -> None:
    card.open({"lang": lang, "rest": {"crm.timeline.comment.add": {
        "error": "ACCESS_DENIED", "error_description": "Access denied!"}}})
    card.page.get_by_test_id("notes").fill(NOTE)
    card.host("host.beforeClose()")
    notes_state(card, "failed")
    status = card.text("notes-status")
    assert status.startswith(words)
    for internal in ("crm.timeline", "ACCESS_DENIED", "Access denied", "RestError"):
        assert internal not in card.page.inner_text("body")
    assert card.page.evaluate(f"{DRAFTS}.length") == 1
    assert card.host("host.autoCloseDisabled") is True
    assert comments(card) == []
    card.page.evaluate("delete window.bx24Host.config.rest['crm.timeline.comment.add']")
    card.page.get_by_test_id("notes-save").click()
    notes_state(card, "saved")
    assert len(comments(card)) == 1


@pytest.mark.own_context  # page.clock
def test_auto_close_is_held_while_notes_are_unsaved_or_keep_open_and_close_now_ends_it(
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
    expect(card.page.get_by_test_id("keep-open-status")).to_have_text(
        "After the call this card stays open, and new incoming calls wait until it closes.")
    card.page.get_by_test_id("keep-open").uncheck()
    card.page.clock.run_for("00:05")
    card.page.wait_for_function("window.bx24Host.autoCloseDisabled === false")
    expect(card.page.get_by_test_id("keep-open-status")).to_be_hidden()

    # Held again after the call, with a note: Close now saves it and lets the host close.
    card.page.get_by_test_id("keep-open").check()
    card.page.get_by_test_id("notes").fill("One more thing")
    card.host("host.setState('idle')")
    card.host("host.beforeClose()")
    card.page.clock.run_for("00:05")
    expect(card.page.get_by_test_id("close-now")).to_be_visible()
    card.page.get_by_test_id("close-now").click()
    card.page.clock.run_for("00:02")
    card.page.wait_for_function("window.bx24Host.closed === true")
    [comment] = comments(card)
    assert comment["COMMENT"].endswith("\n\nOne more thing")  # the one comment, updated


@pytest.mark.own_context  # page.clock
def test_keep_open_ends_ten_idle_minutes_after_the_call(card: CardPage) -> None:
    card.page.clock.install(time="2026-12-01T10:00:00")
    card.open({"status": {"CALL_STATE": "connected"}})
    card.page.get_by_test_id("keep-open").check()
    card.page.clock.run_for("00:30")
    card.host("host.setState('idle')")
    card.host("host.beforeClose()")  # the host tries to close: held
    card.page.clock.run_for("00:02")
    status = card.page.get_by_test_id("keep-open-status")
    expect(status).to_have_text("This card stays open, and new incoming calls wait, until 10:10.")
    expect(card.page.get_by_test_id("close-now")).to_be_visible()
    card.page.clock.run_for("09:20")
    assert card.host("host.closed") is False and card.host("host.autoCloseDisabled") is True
    card.page.clock.run_for("00:40")
    card.page.wait_for_function("window.bx24Host.closed === true")
    expect(card.page.get_by_test_id("keep-open")).not_to_be_checked()


def test_an_unbound_call_keeps_the_note_and_says_there_is_nowhere_to_save(
    card: CardPage,
) -> None:
    card.open({"status": {"CRM_ENTITY_TYPE": "", "CRM_ENTITY_ID": 0, "CRM_BINDINGS": []}})
    card.page.get_by_test_id("notes").fill(NOTE)
    card.page.get_by_test_id("notes-save").click()
    expect(card.page.get_by_test_id("notes-status")).to_contain_text("not linked to a CRM item")
    assert comments(card) == []
    card.page.wait_for_function(f"{DRAFTS}.length === 1")
    # A lead is made from the card for this caller: the note goes with it.
    card.host("host.changeEntity({PHONE_NUMBER: '+79001234567', CRM_ENTITY_TYPE: 'LEAD',"
              " CRM_ENTITY_ID: 31})")
    expect(card.page.get_by_test_id("notes")).to_have_value(NOTE)
    card.page.get_by_test_id("notes-save").click()
    notes_state(card, "saved")
    [comment] = comments(card)
    assert (comment["ENTITY_TYPE"], comment["ENTITY_ID"]) == ("lead", 31)


@pytest.mark.own_context  # page.clock (which swallows the library's "Query error!" throws)
def test_a_save_into_a_dead_portal_keeps_the_note_and_says_what_to_do(card: CardPage) -> None:
    card.page.clock.install()
    card.open({"rest": {"crm.timeline.comment.add": {"fail": "500"}}})
    card.page.get_by_test_id("notes").fill(NOTE)
    card.host("host.beforeClose()")
    notes_state(card, "saving")
    card.advance_clock(21)  # a write waits longer than a read before giving up
    notes_state(card, "failed")
    assert card.text("notes-status").startswith("Bitrix24 did not answer in time.")
    assert card.host("host.autoCloseDisabled") is True
    assert any(NOTE in s["text"] for s in card.page.evaluate(STORED))
    card.page.evaluate("delete window.bx24Host.config.rest['crm.timeline.comment.add']")
    card.page.get_by_test_id("notes-save").click()
    notes_state(card, "saved")
    assert len(comments(card)) == 1


@pytest.mark.own_context  # page.clock: the save's 20 s timeout passes at once
def test_a_save_whose_answer_is_lost_makes_one_comment(card: CardPage) -> None:
    """The portal makes the comment but its answer never arrives: after the timeout the card
    looks for it before adding, so the timeline holds the note once and later saves update it."""
    card.page.clock.install()
    card.open({"rest": {"crm.timeline.comment.add": {"lost": 1}}})
    card.page.get_by_test_id("notes").fill(NOTE)
    card.page.get_by_test_id("notes-save").click()
    card.page.wait_for_function("window.bx24Host.crm.comments.length === 1")  # made, unanswered
    card.advance_clock(21)
    notes_state(card, "failed")
    card.page.get_by_test_id("notes-save").click()
    notes_state(card, "saved")
    assert [entry["name"] for entry in card.comment_writes()] == ["crm.timeline.comment.add"]
    assert len(card.host_log("rest", "crm.timeline.comment.list")) == 1
    card.save_a_later_note(NOTE + " And the invoice.")
    assert len(comments(card)) == 1
    assert card.comment_writes()[-1]["name"] == "crm.timeline.comment.update"
