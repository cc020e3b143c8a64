"""Copy number (the operator's context): a button beside the caller's number copies it as the
host gave it, from the first paint on, and falls back when the frame may not use the clipboard."""

from __future__ import annotations

from conftest import CardPage
from playwright.sync_api import expect
from test_client_block import change_entity

#: Records what reaches the clipboard API; ``refuse`` makes it reject, as a frame without the
#: clipboard-write permission does, and records what the selection copy then copies.
CLIPBOARD = """(refuse) => {
  window.__copied = [];
  const record = (text) => { window.__copied.push(text); };
  Object.defineProperty(navigator, "clipboard", {configurable: true, value: {
    writeText: (text) => refuse ? Promise.reject(new DOMException("denied", "NotAllowedError"))
                                : (record(text), Promise.resolve()),
  }});
  const execCommand = document.execCommand.bind(document);
  document.execCommand = (command, ...args) => {
    if (command !== "copy") return execCommand(command, ...args);
    record("selection:" + document.activeElement.value);
    return true;
  };
}"""


def install_clipboard(card: CardPage, *, refuse: bool = False) -> None:
    card.page.add_init_script(f"({CLIPBOARD})({'true' if refuse else 'false'})")


def test_the_number_is_copied_as_the_host_gave_it(card: CardPage) -> None:
    install_clipboard(card)
    card.open()
    button = card.page.get_by_test_id("copy-number")
    expect(button).to_have_text("Copy")
    button.click()
    expect(button).to_have_text("Copied")
    assert card.page.evaluate("window.__copied") == ["+79001234567"]
    # The dialer's next client has another number: the button copies that one, label back.
    card.host("host.changeEntity({PHONE_NUMBER: '+74951234567', CRM_ENTITY_TYPE: 'CONTACT',"
              " CRM_ENTITY_ID: '18'})")
    expect(button).to_have_text("Copy")
    button.click()
    expect(button).to_have_text("Copied")
    assert card.page.evaluate("window.__copied") == ["+79001234567", "+74951234567"]


def test_a_frame_without_the_clipboard_copies_a_selection(card: CardPage) -> None:
    install_clipboard(card, refuse=True)
    card.open()
    card.page.get_by_test_id("copy-number").click()
    expect(card.page.get_by_test_id("copy-number")).to_have_text("Copied")
    assert card.page.evaluate("window.__copied") == ["selection:+79001234567"]


def test_no_button_for_a_hidden_number(card: CardPage) -> None:
    card.open({"status": {"PHONE_NUMBER": "hidden"}})
    expect(card.page.get_by_test_id("copy-number")).to_be_hidden()
    change_entity(card, "CONTACT", 18)  # "unknown": the number stays hidden
    expect(card.page.get_by_test_id("copy-number")).to_be_hidden()
