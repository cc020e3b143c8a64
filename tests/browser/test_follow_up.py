"""What the operator records during and after the call, in the browser against the fake CRM:
the outcome in one click, a call-back to-do in one more, and a lead for an unknown caller that
the card then shows as the client and saves the notes to."""

from __future__ import annotations

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from conftest import CardPage
from playwright.sync_api import expect

UNBOUND = {"status": {"CRM_ENTITY_TYPE": "", "CRM_ENTITY_ID": 0, "CRM_BINDINGS": [],
                      "PHONE_NUMBER": "+79005550101"}}


def crm(card: CardPage, what: str) -> list[dict]:
    return card.host(f"host.crm.{what} || []")


def test_an_outcome_and_a_call_back_in_two_clicks(card: CardPage) -> None:
    card.open()
    card.wait_text("client-name", "Ivan Petrov")
    outcome = card.page.get_by_test_id("call-outcome")
    outcome.locator("[data-outcome=call-back]").click()
    expect(outcome.locator("[data-outcome=call-back]")).to_have_attribute("aria-pressed", "true")
    expect(outcome.locator("[aria-pressed=true]")).to_have_count(1)
    card.page.get_by_test_id("callback-at").get_by_role("button", name="In 1 hour").click()
    status = card.page.get_by_test_id("callback-status")
    expect(status).to_have_attribute("data-callback-state", "created")
    expect(status).to_contain_text("To-do created: call back")
    # The outcome is in the saved comment's header, at once: nothing else was pressed.
    expect(card.page.get_by_test_id("notes-status")).to_have_attribute("data-notes-state",
                                                                        "saved")
    [comment] = crm(card, "comments")
    assert comment["COMMENT"].endswith(". Call back"), comment
    # One to-do, for the client on the card, the operator (user 1) responsible.
    [todo] = crm(card, "todos")
    assert (todo["OWNER_TYPE_ID"], todo["OWNER_ID"], todo["RESPONSIBLE_ID"]) == ("3", "17", "1")
    assert todo["SUBJECT"] == "Call back Ivan Petrov"
    assert "+79001234567" in todo["DESCRIPTION"]
    # Another time moves that to-do; it never adds a second one.
    card.page.get_by_test_id("callback-at").get_by_role("button", name="Tomorrow 10:00").click()
    card.page.wait_for_function("window.bx24Host.log.some(e => e.kind === 'rest'"
                                " && e.name === 'crm.activity.todo.updateDeadline')")
    expect(status).to_have_attribute("data-callback-state", "created")
    [todo] = crm(card, "todos")
    assert "T10:00:00" in todo["DEADLINE"]


def test_a_call_back_on_the_other_side_of_a_clock_change_keeps_the_operator_s_hour(
    card: CardPage,
) -> None:
    """An operator in Berlin picks a day when the clocks differ from today's (summer time or
    not): the to-do's deadline carries that day's offset, so it is due at the hour they chose
    and not an hour off (the offset of today would move it)."""
    berlin = ZoneInfo("Europe/Berlin")
    today = datetime.now(berlin)
    day = next(today + timedelta(days=n) for n in range(30, 330)
               if (today + timedelta(days=n)).utcoffset() != today.utcoffset())
    chosen = day.replace(hour=12, minute=0, second=0, microsecond=0)
    offset = chosen.utcoffset()
    assert offset is not None
    hours, minutes = divmod(int(offset.total_seconds()) // 60, 60)
    devtools = card.context.new_cdp_session(card.page)
    devtools.send("Emulation.setTimezoneOverride", {"timezoneId": "Europe/Berlin"})
    card.open()
    card.wait_text("client-name", "Ivan Petrov")
    card.page.get_by_test_id("callback-when").fill(chosen.strftime("%Y-%m-%dT%H:%M"))
    card.page.get_by_test_id("callback-at").get_by_role("button", name="Remind me").click()
    expect(card.page.get_by_test_id("callback-status")).to_have_attribute(
        "data-callback-state", "created")
    [todo] = crm(card, "todos")
    assert todo["DEADLINE"] == chosen.strftime("%Y-%m-%dT%H:%M:00") + f"+{hours:02d}:{minutes:02d}"


def test_a_call_back_that_cannot_go_anywhere_says_so(card: CardPage) -> None:
    card.open(UNBOUND)
    card.wait_text("client-name", "New client")
    card.page.get_by_test_id("callback-at").get_by_role("button", name="In 1 hour").click()
    status = card.page.get_by_test_id("callback-status")
    expect(status).to_have_attribute("data-callback-state", "refused")
    expect(status).to_contain_text("Link the call to a client first")
    card.page.get_by_test_id("callback-when").fill("2020-01-01T10:00")
    card.page.get_by_test_id("callback-at").get_by_role("button", name="Remind me").click()
    assert crm(card, "todos") == []


def test_a_lead_for_an_unknown_caller_becomes_the_client_and_gets_the_notes(
    card: CardPage,
) -> None:
    card.open(UNBOUND)
    card.wait_text("client-name", "New client")
    card.page.get_by_test_id("notes").fill("Wants a quote for 20 seats")
    # Pressed twice: the second press, while the first is on its way, makes nothing.
    card.page.get_by_test_id("create-lead").evaluate("b => { b.click(); b.click(); }")
    card.wait_text("client-name", "Call from +7 900 555-01-01")
    expect(card.page.get_by_test_id("create-lead")).to_be_hidden()
    entity = card.page.get_by_test_id("crm-entity")
    expect(entity).to_have_attribute("href", "https://example.bitrix24.com/crm/lead/details/33/")
    adds = card.host_log("rest", "crm.lead.add")
    assert len(adds) == 1
    assert adds[0]["data"]["fields"]["PHONE"][0]["VALUE"] == "+79005550101"
    # The caller's note went with them to the lead, and is saved there.
    write = card.save_a_later_note("Wants a quote for 20 seats, call on Friday")
    assert write["data"]["fields"]["ENTITY_TYPE"] == "lead"
    assert write["data"]["fields"]["ENTITY_ID"] == 33
    # The host still knows no client for the call: a state change does not undo the lead.
    card.host("host.setState('connected')")
    card.wait_text("call-state", "Talking")
    card.wait_delivered("command", "getStatus")
    expect(entity).to_have_attribute("href", "https://example.bitrix24.com/crm/lead/details/33/")


def test_after_a_call_of_a_call_list_the_outcome_comes_first(card: CardPage) -> None:
    card.open({"status": {"CALL_LIST_MODE": True, "CALL_STATE": "connected"}})
    card.wait_text("call-state", "Talking")
    root = card.page.locator("#card")
    assert root.get_attribute("data-after-call") is None
    card.host("host.setState('idle')")
    card.wait_text("call-state", "Ended")
    expect(root).to_have_attribute("data-after-call", "")
    top = card.page.evaluate("""() => {
      const y = (id) => document.querySelector(`[data-testid=${id}]`).getBoundingClientRect().top;
      return [y('call-outcome'), y('caller-number')];
    }""")
    assert top[0] < top[1], "the outcome row is above the call's details"


#: Where the parts of the card are, in CSS pixels from the top of the page.
LAYOUT = """() => {
  const box = (id) => document.querySelector(`[data-testid=${id}]`).getBoundingClientRect();
  const root = document.documentElement;
  return {tooWide: root.scrollWidth > root.clientWidth,
          callTop: box('caller-number').top, callBottom: box('line').bottom,
          notesTop: box('notes').top,
          rights: ['call-outcome', 'callback-at', 'notes', 'client-deals'].map(
            (id) => box(id).right)};
}"""


def test_a_360_px_tab_shows_the_client_and_the_notes_without_scrolling_sideways(
    card: CardPage,
) -> None:
    card.page.set_viewport_size({"width": 360, "height": 640})
    card.open()
    card.wait_text("client-name", "Ivan Petrov")
    expect(card.page.get_by_test_id("client-deal")).to_have_count(2)
    layout = card.page.evaluate(LAYOUT)
    assert not layout["tooWide"]
    assert max(layout["rights"]) <= 360
    # What the host's own card shows too takes three short lines...
    assert layout["callBottom"] - layout["callTop"] <= 80, layout
    # ...so the client with two deals, the outcome, the call-back and the notes fit the tab.
    assert layout["notesTop"] < 640, layout


def test_a_click_between_the_choices_chooses_nothing(card: CardPage) -> None:
    card.open()
    card.wait_text("client-name", "Ivan Petrov")
    for row in ("call-outcome", "callback-at"):
        card.page.get_by_test_id(row).click(position={"x": 2, "y": 2})  # on the row's title
    card.page.get_by_test_id("callback-when").click()
    card.save_a_later_note("Still here")  # a barrier: everything the clicks set going is done
    assert card.errors == []
    expect(card.page.get_by_test_id("call-outcome").locator("[aria-pressed=true]")).to_have_count(0)
    assert card.host("host.crm.todos || []") == []
    assert not card.comment_writes()[-1]["data"]["fields"]["COMMENT"].split("\n")[0].endswith(
        ("Reached", "No answer", "Call back", "Wrong number"))
