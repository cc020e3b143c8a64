"""A card that never hangs: the runtime failing to load, and a frame denied its storage.

Faults are injected the way a real browser meets them: runtime requests aborted or answered
with garbage (Playwright's routing, which also switches the page's HTTP cache off, so these
pages load uncached), and storage APIs that throw or reject (init scripts that replace them
before the page runs, as a browser that blocks third-party storage does).
"""

from __future__ import annotations

import pytest
from conftest import APP_STATE_JS, CardPage
from playwright.sync_api import Route, expect

FAILED_EN = "The call card could not start: part of it did not load."


def wait_state(card: CardPage, state: str, timeout: int = 20_000) -> None:
    card.page.wait_for_function(f"{APP_STATE_JS} === '{state}'", timeout=timeout)


# --------------------------------------------------------------------------- the runtime


@pytest.mark.expect_page_errors  # the runtime's own rejections, uncaught, as in the field
@pytest.mark.parametrize(
    "pattern",
    ["**/pyodide.asm.wasm", "**/python_stdlib.*.zip", "**/app-bundle.*.zip",
     "**/callcard-boot.*.mjs", "**/core.js"],
)
def test_a_runtime_file_that_does_not_arrive_ends_in_an_error_with_a_reload(
    card: CardPage, pattern: str
) -> None:
    card.page.route(pattern, lambda route: route.abort())
    card.open(wait=False)
    start = card.page.evaluate("performance.now()")
    wait_state(card, "error")
    assert (card.page.evaluate("performance.now()") - start) < 10_000  # seconds, not a timer
    expect(card.page.get_by_test_id("app-status")).to_contain_text(FAILED_EN)
    if "wasm" in pattern:  # (once is enough) the button reloads the card, which now starts
        card.page.unroute(pattern)
        card.page.get_by_test_id("retry").click()
        wait_state(card, "ready", timeout=60_000)
        assert card.text("caller-number") == "+7 900 123-45-67"


@pytest.mark.expect_page_errors
def test_a_webassembly_module_that_does_not_compile_ends_in_an_error(card: CardPage) -> None:
    card.page.route("**/pyodide.asm.wasm", lambda route: route.fulfill(
        status=200, body=b"\0asm\x01\0\0\0broken", content_type="application/wasm"))
    card.open({"lang": "ru"}, wait=False)
    wait_state(card, "error")
    expect(card.page.get_by_test_id("app-status")).to_contain_text(
        "Карточка звонка не запустилась")
    expect(card.page.get_by_test_id("retry")).to_have_text("Перезагрузить карточку")


@pytest.mark.expect_page_errors  # and the traceback in the console, where it belongs
def test_python_failing_before_its_first_render_ends_in_an_error(card: CardPage) -> None:
    card.page.route("**/main.*.py", lambda route: route.fulfill(
        status=200, body="raise RuntimeError('before the first render')",
        content_type="text/x-python"))
    card.open(wait=False)
    wait_state(card, "error")
    expect(card.page.get_by_test_id("app-status")).to_contain_text(FAILED_EN)
    assert "RuntimeError" not in card.page.inner_text("body")


@pytest.mark.own_context  # page.clock
def test_a_load_that_is_only_slow_says_so_and_is_no_error(card: CardPage) -> None:
    held: list[Route] = []
    card.page.clock.install()
    card.page.route("**/pyodide.asm.wasm", lambda route: held.append(route))  # never answered
    card.open(wait=False)
    card.page.wait_for_function("() => !!document.querySelector('[data-testid=app-status]')")
    card.page.clock.run_for("00:19")
    expect(card.page.get_by_test_id("app-status")).to_have_text("Loading the call card…")
    card.page.clock.run_for("00:02")
    expect(card.page.get_by_test_id("app-status")).to_contain_text(
        "Still loading the call card… A slow network")
    assert card.app_state == "loading"
    # The held download (if the page got that far) is never answered: aborting it here would
    # end the boot in an error racing the teardown; closing the test's own context drops it.


@pytest.mark.expect_page_errors
def test_a_card_rendered_by_the_server_keeps_the_caller_and_says_what_is_missing(
    card: CardPage,
) -> None:
    card.page.route("**/pyodide.asm.wasm", lambda route: route.abort())
    card.open_by_post(wait=False)  # as the portal opens it: the server paints the caller
    wait_state(card, "error")
    assert card.text("caller-number") == "+7 900 123-45-67"
    expect(card.page.get_by_test_id("app-status")).to_have_text(
        "Live updates and notes are unavailable: the call card could not start. Reload the card "
        "to try again.")
    expect(card.page.get_by_test_id("retry")).to_be_visible()


# --------------------------------------------------------------------------- storage

DENIED = "new DOMException('The operation is insecure.', 'SecurityError')"
DENY = {
    "localStorage": f"Object.defineProperty(window, 'localStorage', "
                    f"{{configurable: true, get() {{ throw {DENIED}; }}}});",
    "sessionStorage": f"Object.defineProperty(window, 'sessionStorage', "
                      f"{{configurable: true, get() {{ throw {DENIED}; }}}});",
    "indexedDB.open": f"IDBFactory.prototype.open = function () {{ throw {DENIED}; }};",
    "indexedDB getter": f"Object.defineProperty(window, 'indexedDB', "
                        f"{{configurable: true, get() {{ throw {DENIED}; }}}});",
    "indexedDB request": """IDBFactory.prototype.open = function () {
        const request = {};
        setTimeout(() => {
          request.error = DENIED_ERROR;
          if (request.onerror) request.onerror({target: request, preventDefault() {}});
        });
        return request;
      };""".replace("DENIED_ERROR", DENIED),
    "caches.open": f"CacheStorage.prototype.open = () => Promise.reject({DENIED});",
    "caches getter": f"Object.defineProperty(window, 'caches', "
                     f"{{configurable: true, get() {{ throw {DENIED}; }}}});",
}


@pytest.mark.parametrize("denied", [*DENY, "all of them"])
def test_a_frame_denied_its_storage_starts_and_saves_the_notes_once(
    card: CardPage, denied: str
) -> None:
    scripts = list(DENY.values()) if denied == "all of them" else [DENY[denied]]
    scripts = [s for s in scripts if "indexedDB getter" not in denied or "IDBFactory" not in s]
    for script in scripts:
        card.page.add_init_script(script)
    card.open({"status": {"CALL_STATE": "connected"}}, snapshot="caches" in denied)
    assert card.app_state == "ready"
    card.page.get_by_test_id("notes").fill("Saved despite the storage")
    drafts_off = card.page.get_by_test_id("notes-drafts-off")
    if denied in ("localStorage", "all of them"):
        expect(drafts_off).to_contain_text("This browser does not keep drafts for this app")
    card.host("host.setState('idle')")
    card.host("host.beforeClose()")
    card.host("host.fireRaw('CallCard::BeforeClose', [[]])")
    expect(card.page.get_by_test_id("notes-status")).to_have_attribute(
        "data-notes-state", "saved", timeout=10_000)
    comments = card.host("host.crm.comments")
    assert len(comments) == 1 and comments[0]["COMMENT"].endswith("Saved despite the storage")
    if denied not in ("localStorage", "all of them"):
        assert drafts_off.is_hidden()
