"""The first paint: the caller is on the page the server sends, and Python takes that page over.

Bitrix24 opens the card with a form POST carrying the call; the server renders the call from it
(cardserver/first_paint.py), so the operator sees who is calling while Pyodide still boots. What
only a browser shows is tested here: the card is readable before Python runs, Python adopts the
very same elements without rewriting what was right, corrects what the host changed meanwhile,
and keeps what the operator typed, ticked or clicked before it was ready. What the server sends
for which POST is tested under CPython (tests/unit/test_server.py, test_first_view.py).
"""

from __future__ import annotations

import json
from collections.abc import Iterator

import pytest
from conftest import CardPage
from playwright.sync_api import Route, expect
from test_copy_number import install_clipboard

from callcard.i18n import CATALOGUE

EN = CATALOGUE["en"]
WASM = "**/pyodide.asm.wasm"
GUARD = "**/static/startup-guard.*.js"
CONFIG = "**/pyscript.*.toml"
FONTS = "**/*.woff2"
CALLER = "+7 900 123-45-67"  # the fake's default caller, +79001234567, as the card writes it
#: The sections Python must take over as they are. (Not the links: getStatus brings bindings the
#: options lack, and the client's name, once loaded, becomes the link's label.)
STEADY = ("caller-number", "call-direction", "call-state", "line")

#: Before the page's own scripts: remember the server's elements and every later change to them.
WATCH = """
window.__firstPaint = {nodes: {}, changed: []};
document.addEventListener("DOMContentLoaded", () => {
  const hooks = HOOKS;
  for (const hook of hooks) {
    window.__firstPaint.nodes[hook] = document.querySelector(`[data-testid="${hook}"]`);
  }
  const card = document.getElementById("card");
  if (!card) return;
  new MutationObserver((records) => {
    for (const record of records) {
      const target = record.target.nodeType === 1 ? record.target : record.target.parentElement;
      const hook = target && target.closest("[data-testid]");
      if (hook) window.__firstPaint.changed.push(hook.dataset.testid);
    }
  }).observe(card, {subtree: true, childList: true, characterData: true});
});
""".replace("HOOKS", json.dumps(STEADY))

#: Whether each of those hooks is still the very element the server sent.
SAME_NODES = """(hooks) => hooks.every(
  hook => window.__firstPaint.nodes[hook] === document.querySelector(`[data-testid="${hook}"]`))
"""


class HeldRuntime:
    """Holds Pyodide's WebAssembly download, so a test can act while Python cannot have run."""

    def __init__(self, card: CardPage) -> None:
        self.page = card.page
        self.held: list[Route] = []
        self.patterns: list[str] = []
        self._hold(WASM)

    def hold_the_guard(self) -> None:
        """Holds static/startup-guard.js too (and so every deferred script after it): what the
        operator does then happens before any script file of ours has run, as on a cold load
        whose caller is painted before the guard's answer is in."""
        self._hold(GUARD)

    def hold_the_config(self) -> None:
        """Holds the card's pyscript.toml: PyScript cannot get as far as starting Pyodide."""
        self._hold(CONFIG)

    def hold_the_fonts(self) -> None:
        """Holds the Open Sans faces: the font set stays "loading" (static/app.css)."""
        self._hold(FONTS)

    def requested(self, pattern: str, timeout_ms: int = 20_000) -> bool:
        """Whether a request for a URL ending in `pattern` reached the hold within the time."""
        for _ in range(timeout_ms // 50):
            if any(route.request.url.endswith(pattern) for route in self.held):
                return True
            self.page.wait_for_timeout(50)  # lets Playwright dispatch the route's event
        return False

    def _hold(self, pattern: str) -> None:
        self.patterns.append(pattern)
        self.page.route(pattern, lambda route: self.held.append(route))

    def release(self) -> None:
        for route in self.held:
            route.continue_()
        for pattern in self.patterns:
            self.page.unroute(pattern)


@pytest.fixture
def held(card: CardPage) -> Iterator[HeldRuntime]:
    card.page.add_init_script(WATCH)
    yield HeldRuntime(card)


def test_the_caller_is_painted_before_python_and_python_takes_the_same_page_over(
    card: CardPage, held: HeldRuntime,
) -> None:
    card.open_by_post(wait=False)
    page = card.page
    expect(page.get_by_test_id("caller-number")).to_have_text(CALLER)
    assert card.app_state == "loading"
    assert page.get_attribute("html", "data-prerendered") is not None
    assert card.text("call-direction") == EN["direction.incoming"]
    assert card.text("call-state") == EN["phase.connecting"]
    assert card.text("line") == "Sales line"
    expect(page.get_by_test_id("crm-entity")).to_have_attribute(
        "href", "https://example.bitrix24.com/crm/contact/details/17/")
    assert page.get_by_test_id("app-status").count() == 0  # no "Loading…" over the call

    held.release()
    assert card.wait_settled() == "ready"
    card.wait_text("client-name", "Ivan Petrov")
    assert page.evaluate(SAME_NODES, list(STEADY)), "Python replaced the server's elements"
    changed = set(page.evaluate("window.__firstPaint.changed")) & set(STEADY)
    assert not changed, f"Python rewrote what the server had right: {changed}"
    # The server's link is live now: a click opens the item in the portal's slider.
    page.get_by_test_id("crm-entity").click()
    page.wait_for_function("window.bx24Host.log.some(e => e.name === 'openPath')")
    assert card.host_log("command", "openPath")[0]["data"] == {"path": "/crm/contact/details/17/"}


def test_what_the_operator_did_before_python_was_ready_is_kept_and_saved_once(
    card: CardPage, held: HeldRuntime,
) -> None:
    held.hold_the_guard()
    card.open_by_post({"status": {"CALL_STATE": "connected"}}, wait=False)
    page = card.page
    expect(page.get_by_test_id("caller-number")).to_have_text(CALLER)
    page.get_by_test_id("notes").press_sequentially("Early words")
    page.get_by_test_id("keep-open").check()
    page.get_by_test_id("notes-save").click()
    assert card.app_state == "loading"

    held.release()
    assert card.wait_settled() == "ready"
    expect(page.get_by_test_id("notes")).to_have_value("Early words")
    expect(page.get_by_test_id("keep-open")).to_be_checked()
    expect(page.get_by_test_id("notes-status")).to_have_attribute("data-notes-state", "saved")
    comments = card.host("host.crm.comments")
    assert len(comments) == 1 and "Early words" in comments[0]["COMMENT"]
    # Keep-open was handed over: the host was asked to keep the card.
    page.wait_for_function("window.bx24Host.autoCloseDisabled === true")
    card.host("host.beforeClose()")
    card.wait_delivered("event", "CallCard::BeforeClose")
    assert not page.get_by_test_id("notes-save").get_attribute("data-requested")
    # Closing saves nothing twice: the next write is the operator's later save.
    card.save_a_later_note("Early words, and a later line")
    assert [write["name"] for write in card.comment_writes()] == [
        "crm.timeline.comment.add", "crm.timeline.comment.update"]
    assert len(card.host("host.crm.comments")) == 1


def test_ctrl_enter_before_python_is_a_save_done_once_python_is_there(
    card: CardPage, held: HeldRuntime,
) -> None:
    held.hold_the_guard()
    card.open_by_post({"status": {"CALL_STATE": "connected"}}, wait=False)
    page = card.page
    notes = page.get_by_test_id("notes")
    notes.press_sequentially("Said before Python")
    notes.press("Control+Enter")
    expect(notes).to_have_value("Said before Python")  # the shortcut adds no line break
    assert card.app_state == "loading"
    held.release()
    assert card.wait_settled() == "ready"
    expect(page.get_by_test_id("notes-status")).to_have_attribute("data-notes-state", "saved")
    comments = card.host("host.crm.comments")
    assert len(comments) == 1 and "Said before Python" in comments[0]["COMMENT"]


def test_python_corrects_a_first_paint_the_host_has_moved_past(card: CardPage) -> None:
    """The POST told one client; by the time Python asks, the host's call is bound to another
    (the dialer moved on, a lead was made): Python's first render shows the host's truth."""
    stale = json.dumps({"CALL_ID": card.call_id, "PHONE_NUMBER": "+74951112233",
                        "CRM_ENTITY_TYPE": "COMPANY", "CRM_ENTITY_ID": "6",
                        "CALL_DIRECTION": "outgoing", "CALL_STATE": "idle",
                        "LINE_NUMBER": "74951234567", "CALL_LIST_MODE": "false"})
    card.open_by_post(fields={"PLACEMENT_OPTIONS": stale}, wait=False)
    page = card.page
    expect(page.get_by_test_id("caller-number")).to_have_text("+7 495 111-22-33")
    assert card.wait_settled() == "ready"
    card.wait_text("caller-number", CALLER)
    card.wait_text("client-name", "Ivan Petrov")
    assert card.text("call-direction") == EN["direction.incoming"]
    expect(page.get_by_test_id("crm-entity")).to_have_attribute(
        "href", "https://example.bitrix24.com/crm/contact/details/17/")


def test_a_post_that_is_no_call_card_gets_the_loading_page(card: CardPage) -> None:
    card.open_by_post(fields={"PLACEMENT": "DEFAULT"}, wait=False)
    page = card.page
    assert page.get_attribute("html", "data-prerendered") is None
    assert card.wait_settled() == "ready"  # Python renders the call as it always did
    card.wait_text("caller-number", CALLER)


#: At the moment the card turns ready (a microtask after that render's task, so before any later
#: task of Python's): type a note and click Save, and record whether the click was remembered.
IN_THE_GAP = """
new MutationObserver((records, observer) => {
  if (document.documentElement?.dataset.appState !== "ready") return;
  observer.disconnect();
  const area = document.querySelector('[data-testid="notes"]');
  const save = document.querySelector('[data-testid="notes-save"]');
  area.value = "Words in the gap";
  area.dispatchEvent(new Event("input", {bubbles: true}));
  save.click();
  window.__gap = {remembered: save.hasAttribute("data-requested")};
}).observe(document, {subtree: true, attributes: true, attributeFilter: ["data-app-state"]});
"""


def test_the_notes_attach_after_the_first_render_and_keep_what_came_before(
    card: CardPage,
) -> None:
    """The card is ready before its notes are (their Python waits until the call is on screen):
    a note typed and a Save clicked in that moment are handed over and saved, once."""
    card.page.add_init_script(IN_THE_GAP)
    card.open_by_post({"status": {"CALL_STATE": "connected"}}, wait=False)
    page = card.page
    assert card.wait_settled() == "ready"
    page.wait_for_function("window.__gap !== undefined")
    assert page.evaluate("window.__gap.remembered"), "Save was clicked after the notes attached"
    expect(page.get_by_test_id("notes-status")).to_have_attribute("data-notes-state", "saved")
    comments = card.host("host.crm.comments")
    assert len(comments) == 1 and "Words in the gap" in comments[0]["COMMENT"]
    assert not page.get_by_test_id("notes-save").get_attribute("data-requested")


#: When the caller's number was first painted (Element Timing; the markup marks it "caller").
PAINT_TIMES = """
window.__paints = {};
new PerformanceObserver((list) => {
  for (const entry of list.getEntries()) {
    window.__paints[entry.identifier] = entry.renderTime || entry.loadTime;
  }
}).observe({type: "element", buffered: true});
// The page's first frame: its animation-frame callbacks run just before it is painted, in the
// order they were asked for, so this one (asked for before any of the page's) runs first.
requestAnimationFrame(() => { window.__firstFrame = performance.now(); });
"""
BUNDLE_FETCHES = """() => performance.getEntriesByType("resource")
  .filter(e => /\\/app-bundle\\.[0-9a-f]+\\.zip$/.test(e.name))
  .map(e => ({start: e.startTime, transferred: e.transferSize}))"""


def test_the_archive_is_fetched_once_after_the_first_paint_beside_the_runtime(
    card: CardPage, held: HeldRuntime,
) -> None:
    """The app's archive is asked for once the caller is on screen, while the runtime still
    downloads (the interpreter module's early start: callcard-boot.mjs), and only then: it is
    mounted for zipimport, so nothing fetches or unpacks it again once Python runs."""
    card.page.add_init_script(PAINT_TIMES)
    card.open_by_post(wait=False)
    page = card.page
    page.wait_for_function("window.__paints && window.__paints.caller > 0")
    page.wait_for_function(f"({BUNDLE_FETCHES})().length === 1")  # the runtime is still held
    [early] = page.evaluate(BUNDLE_FETCHES)
    # The fetch waits for the page's first frame. (Element Timing's time for the caller is when
    # that frame was presented, which under load can lag by more than a frame: it is no barrier.)
    # A fetch from the page's start would begin ~100 ms before the first frame.
    assert early["start"] >= page.evaluate("window.__firstFrame"), "before the first frame"
    assert early["transferred"] > 0

    held.release()
    assert card.wait_settled() == "ready"
    assert len(page.evaluate(BUNDLE_FETCHES)) == 1


#: Counts the interpreters the page starts: Pyodide streams its runtime's wasm into
#: instantiateStreaming once per interpreter (its tiny feature-check modules go through
#: instantiate from bytes).
COUNT_INSTANCES = """
window.__wasmInstances = 0;
const streamed = WebAssembly.instantiateStreaming;
WebAssembly.instantiateStreaming = function (...args) {
  window.__wasmInstances += 1;
  return streamed.apply(this, args);
};
"""
EARLY_START = "performance.getEntriesByName('callcard:interpreter-early-start')"


def test_the_interpreter_starts_after_the_first_frame_without_waiting_for_pyscript(
    card: CardPage, held: HeldRuntime,
) -> None:
    """The start-up guard starts Pyodide once the caller is painted (cardserver/callcard-boot.mjs,
    "the early start"); PyScript, which cannot even read its config meanwhile, later gets that
    very interpreter: one runtime instantiated, one card."""
    card.page.add_init_script(PAINT_TIMES)
    card.page.add_init_script(COUNT_INSTANCES)
    held.hold_the_config()
    card.open_by_post(wait=False)
    page = card.page
    assert held.requested("/pyodide.asm.wasm"), "the runtime waited for PyScript"
    assert held.requested(".toml") and page.evaluate(f"{EARLY_START}.length") == 1
    assert page.evaluate(f"{EARLY_START}[0].startTime") >= page.evaluate("window.__firstFrame")

    held.release()
    assert card.wait_settled() == "ready"
    assert card.text("caller-number") == CALLER
    assert page.evaluate("window.__wasmInstances") == 1


#: The boxes of these hooks, and the date-and-time field's content-visibility, in the first
#: frame that has the field (the start-up guard's mark comes after the fonts and a frame).
FIRST_FRAME_BOXES = """
(() => {
  const hooks = HOOKS;
  const look = () => {
    const field = document.querySelector('[data-testid="callback-when"]');
    if (!field || document.documentElement.hasAttribute("data-text-painted")) {
      if (!window.__firstFrameBoxes) requestAnimationFrame(look);
      return;
    }
    window.__firstFrameBoxes = {
      contentVisibility: getComputedStyle(field).contentVisibility,
      boxes: hooks.map(window.__box),
    };
  };
  requestAnimationFrame(look);
})();
window.__box = (hook) => {
  const r = document.querySelector(`[data-testid="${hook}"]`).getBoundingClientRect();
  return [r.x, r.y, r.width, r.height];
};
"""
BOXED = ("callback-when", "callback-at", "notes", "notes-save")


def test_the_date_field_fills_in_after_the_text_without_moving_anything(
    card: CardPage, held: HeldRuntime,
) -> None:
    """The call-back's date-and-time field is the dearest element of the frames the caller
    waits for (static/app.css): they draw its box, a later one its contents. Python cannot run
    here (its config is held): the start-up guard's mark alone brings the contents in."""
    card.page.add_init_script(FIRST_FRAME_BOXES.replace("HOOKS", json.dumps(BOXED)))
    held.hold_the_config()
    card.open_by_post(wait=False)
    page = card.page
    page.wait_for_function("() => !!window.__firstFrameBoxes")
    page.wait_for_function("() => document.documentElement.hasAttribute('data-text-painted')")
    first = page.evaluate("window.__firstFrameBoxes")
    assert first["contentVisibility"] == "hidden"
    assert card.app_state == "loading"
    field = page.get_by_test_id("callback-when")
    assert field.evaluate("(f) => getComputedStyle(f).contentVisibility") == "visible"
    assert page.evaluate(f"{json.dumps(BOXED)}.map(window.__box)") == first["boxes"]
    held.release()
    assert card.wait_settled() == "ready"


#: When <html data-text-painted> appeared (ms from navigation start).
TEXT_PAINTED_AT = """
new MutationObserver((records, observer) => {  // on the document: no <html> yet
  if (!document.documentElement.hasAttribute("data-text-painted")) return;
  window.__textPaintedAt = performance.now();
  observer.disconnect();
}).observe(document, {subtree: true, attributes: true, attributeFilter: ["data-text-painted"]});
"""


def test_the_date_field_waits_for_the_fonts_but_not_for_ever(
    card: CardPage, held: HeldRuntime,
) -> None:
    """A warm load paints its first frame without text while the faces come from the cache, so
    the start-up guard brings the field's contents in only after the fonts have settled: with
    the faces held, not before its 500 ms limit after the first frame, and then without them."""
    card.page.add_init_script(PAINT_TIMES)
    card.page.add_init_script(TEXT_PAINTED_AT)
    held.hold_the_config()
    held.hold_the_fonts()
    card.open_by_post(wait=False)
    page = card.page
    assert held.requested(".woff2"), "the first frame asked for no face"
    page.wait_for_function("() => window.__textPaintedAt !== undefined")
    assert page.evaluate("window.__textPaintedAt - window.__firstFrame") >= 500
    assert page.evaluate("document.fonts.status") == "loading", "a face arrived meanwhile"
    assert card.app_state == "loading"
    held.release()
    assert card.wait_settled() == "ready"


def test_the_number_can_be_copied_before_python(card: CardPage, held: HeldRuntime) -> None:
    """The copy button is the server's markup and its copying plain JavaScript in the page
    (static/early-actions.js): it works from the first paint, before any script file of ours."""
    install_clipboard(card)
    held.hold_the_guard()
    card.open_by_post(wait=False)
    button = card.page.get_by_test_id("copy-number")
    button.click()
    expect(button).to_have_text("Copied")
    assert card.app_state == "loading"
    assert card.page.evaluate("window.__copied") == ["+79001234567"]
    held.release()
    assert card.wait_settled() == "ready"
    expect(button).to_have_text("Copied")  # Python's first render keeps what was right


def test_a_lead_asked_for_before_python_is_made_once_with_the_early_note(
    card: CardPage, held: HeldRuntime,
) -> None:
    unbound = {"status": {"CRM_ENTITY_TYPE": "", "CRM_ENTITY_ID": 0, "CRM_BINDINGS": [],
                          "PHONE_NUMBER": "+79005550101"}}
    held.hold_the_guard()
    card.open_by_post(unbound, wait=False)
    page = card.page
    lead = page.get_by_test_id("create-lead")
    expect(lead).to_be_visible()  # offered from the first paint
    page.get_by_test_id("notes").press_sequentially("Asked for a quote")
    lead.click()
    assert card.app_state == "loading"
    held.release()
    assert card.wait_settled() == "ready"
    card.wait_text("client-name", "Call from +7 900 555-01-01")
    assert len(card.host_log("rest", "crm.lead.add")) == 1
    write = card.save_a_later_note("Asked for a quote by Friday")
    assert write["data"]["fields"]["ENTITY_TYPE"] == "lead"


def test_an_outcome_and_a_call_back_chosen_before_python_are_recorded_once(
    card: CardPage, held: HeldRuntime,
) -> None:
    held.hold_the_guard()
    card.open_by_post({"status": {"CALL_STATE": "connected"}}, wait=False)
    page = card.page
    outcome = page.get_by_test_id("call-outcome")
    outcome.locator("[data-outcome=reached]").click()
    outcome.locator("[data-outcome=no-answer]").click()  # changed their mind: the last one
    expect(outcome.locator("[data-outcome=no-answer]")).to_have_attribute("aria-pressed", "true")
    expect(outcome.locator("[aria-pressed=true]")).to_have_count(1)
    page.get_by_test_id("callback-at").get_by_role("button", name="In 1 hour").click()
    assert card.app_state == "loading"
    held.release()
    assert card.wait_settled() == "ready"
    status = page.get_by_test_id("callback-status")
    expect(status).to_have_attribute("data-callback-state", "created")
    expect(page.get_by_test_id("notes-status")).to_have_attribute("data-notes-state", "saved")
    [comment] = card.host("host.crm.comments")
    assert comment["COMMENT"].endswith(". No answer")
    assert len(card.host("host.crm.todos")) == 1
    expect(outcome.locator("[data-outcome=no-answer]")).to_have_attribute("aria-pressed", "true")
