"""Browser test rig: the real server, headless Chromium, and the one BX24 fake.

- The app is built (cardserver.dist, into a folder of the session's own, so it is always the
  current sources) and served by ``cardserver`` under uvicorn on loopback, exactly as
  ``make run`` serves it.
- The fake (simulator/bx24-fake.js) answers the production URL of the Bitrix24 library,
  ``//api.bitrix24.com/api/v1/``, from a loopback server (tools/loopback.py) that Chromium's
  resolver rules point that host at, so index.html stays untouched. Every other name resolves
  to "not found", and every request that would leave loopback is recorded and fails the test.
- One persistent browser profile serves the whole session, and nothing is intercepted with
  ``route`` (which switches the HTTP cache off): the 9.6 MB interpreter is downloaded and
  compiled once, not once a test, which saves about 1.5 s a page. Each test still gets a new
  tab, the app origin's cookies and storage are wiped after it, and each tab's host is on a call
  of its own (CardPage.call_id), so what a test stored is never another test's draft.
- Page errors (uncaught exceptions) fail the test unless it declares them expected.
"""

from __future__ import annotations

import html
import json
import re
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest
from playwright.sync_api import BrowserContext, BrowserType, Page, Request
from starlette.requests import Request as HttpRequest
from starlette.responses import HTMLResponse
from starlette.routing import Route

from cardserver.asgi import Options, create_app
from cardserver.dist import Manifest, build, render_page
from cardserver.serve import running
from tools.chromium import LAUNCH_ARGS, chromium_path
from tools.loopback import SUBMIT_FORM_JS, FakeLibraryServer, resolver_rules, serving

ROOT = Path(__file__).resolve().parents[2]
LIBRARY_URL = re.compile(r"^https?://api\.bitrix24\.com/api/v1/?(\?.*)?$")
LOOPBACK = {"127.0.0.1", "localhost", "[::1]", "::1"}
OUTSIDE_LIBRARY_ERROR = "Unable to initialize Bitrix24 JS library!"
BOOT_TIMEOUT_MS = 60_000  # a cold Pyodide boot is ~4 s here; allow for a loaded CI machine
#: The card's data-app-state, as a page expression. A document just committed has no <html> yet
#: (a test that waits for a POST's commit polls it then): that is still loading, not an error.
APP_STATE_JS = "(document.documentElement?.dataset.appState ?? 'loading')"


@pytest.fixture(scope="session")
def library_server() -> Iterator[FakeLibraryServer]:
    """The fake at the library's production URL, for every page of the session."""
    server = FakeLibraryServer()
    with serving(server):
        yield server


@pytest.fixture(scope="session")
def browser_type_launch_args(
    browser_type_launch_args: dict[str, Any], library_server: FakeLibraryServer
) -> dict[str, Any]:
    args = dict(browser_type_launch_args)
    path = chromium_path()
    if path:
        args["executable_path"] = path
    # This machine's network is closed, and two cores: tools/chromium.py says which flags, why.
    args["args"] = [
        *args.get("args", []),
        *LAUNCH_ARGS,
        f"--host-resolver-rules={resolver_rules(library_server.port)}",
    ]
    return args


HARNESS_PATH = "/bridge-harness.html"
HARNESS_FILE = Path(__file__).with_name("bridge_harness.html")


@pytest.fixture(scope="session")
def published(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """This session's publish folder, built from the current sources (the compressed copies
    come from the build cache, so this takes a fraction of a second after `make dist`)."""
    dist = tmp_path_factory.mktemp("published") / "dist"
    build(ROOT, dist)
    return dist


def harness_route(dist: Path) -> Route:
    """The bridge harness page, which only tests may load, rendered for this build."""
    page = render_page(HARNESS_FILE.read_text(encoding="utf-8"), Manifest.load(dist),
                       HARNESS_FILE.name)

    async def harness(_request: HttpRequest) -> HTMLResponse:
        return HTMLResponse(page)

    return Route(HARNESS_PATH, harness)


@pytest.fixture(scope="session")
def app_url(published: Path) -> Iterator[str]:
    app = create_app(published, Options(dev=True), extra_routes=[harness_route(published)])
    with running(app) as url:
        yield url


@dataclass
class NetworkGuard:
    """Records what the page tried to fetch beyond loopback; sets how the library answers."""

    server: FakeLibraryServer
    leaks: list[str] = field(default_factory=list)
    _library: str = "fake"
    _requests_before: int = 0

    def __post_init__(self) -> None:
        self.library = "fake"

    @property
    def library(self) -> str:
        """"fake" | "outside" (the real library's behaviour) | "missing" (it fails to load)."""
        return self._library

    @library.setter
    def library(self, mode: str) -> None:
        self._library = mode
        self.server.available = mode != "missing"

    @property
    def library_requests(self) -> int:
        """How often the library was asked for since this guard began."""
        return self.server.requests - self._requests_before

    def begin(self) -> None:
        self._requests_before = self.server.requests

    def watch(self, request: Request) -> None:
        """Record any request that is neither loopback nor the (intercepted) library."""
        url = request.url
        if LIBRARY_URL.match(url) or url.startswith(("data:", "blob:")):
            return
        if (urlsplit(url).hostname or "") not in LOOPBACK:
            self.leaks.append(url)


#: The fake, loaded from the library's URL by a page that only needs its openingFields().
FAKE_LIBRARY_URL = "http://api.bitrix24.com/api/v1/"
POST_OPENER = '<!doctype html><script src="{library}" data-fake="wire-only"></script>'
#: The fake's own form for a call (openingFields in bx24-fake.js), with fields added or replaced.
OPENING_FIELDS = """([config, extra]) =>
  Object.assign(window.BX24_FAKE_WIRE.openingFields(config), extra)"""


#: Counts the notes machine's ticks from now on: under Pyodide its asyncio.sleep(0.25)
#: (TICK_SECONDS in callcard/notes_shell.py) is a 250 ms setTimeout, and each tick arms the next
#: one after it was handled, so n + 1 of them fired means n ticks handled since.
COUNT_NOTES_TICKS = """() => {
  window.__notesTicks = 0;
  const setTimeout = window.__setTimeout = window.setTimeout;
  window.setTimeout = function (callback, delay, ...args) {
    if (delay !== 250 || typeof callback !== "function") {
      return setTimeout.call(this, callback, delay, ...args);
    }
    return setTimeout.call(this, function (...given) {
      try { return callback.apply(this, given); } finally { window.__notesTicks += 1; }
    }, delay, ...args);
  };
}"""


class CardPage:
    """One app page (a new tab), with the fake configured before it loads."""

    def __init__(self, context: BrowserContext, app_url: str, guard: NetworkGuard) -> None:
        self.context = context
        self.app_url = app_url
        self.guard = guard
        #: The call this tab's host is on (the fake's status CALL_ID, unless a test sets one):
        #: its own, so no draft an earlier test stored under the fake's default call can turn up
        #: here. The origin's storage is wiped between tests, but a write of the last moment can
        #: land after the wipe (seen in CI: a note restored as saved, and never written).
        self.call_id = f"externalCall.{uuid.uuid4().hex}"
        self.page: Page = context.new_page()
        self.errors: list[str] = []
        self.console: list[str] = []
        self.page.on("pageerror", lambda exc: self.errors.append(str(exc)))
        self.page.on("console", lambda msg: self.console.append(f"{msg.type}: {msg.text}"))

    def another_tab(self) -> CardPage:
        """A second tab in the same profile: what the next call's card would find."""
        return CardPage(self.context, self.app_url, self.guard)

    def open(self, fake: dict[str, Any] | None = None, *, library: str = "fake",
             path: str = "", wait: bool = True, snapshot: bool = False) -> CardPage:
        """Load the app. ``fake`` becomes window.BX24_FAKE_CONFIG; library "outside" makes the
        fake behave like the real library outside Bitrix24, "missing" makes it fail to load.
        ``snapshot`` lets the page use and make interpreter snapshots (callcard-boot.mjs); off,
        every test starts the same way and no page boots a second interpreter in a worker."""
        config = dict(fake or {})
        if library == "outside":
            config["mode"] = "outside"
        self.guard.library = library
        self.page.add_init_script(self.open_script(self._on_own_call(config), snapshot=snapshot))
        self.page.goto(self.app_url + path)
        if wait:
            self.wait_settled()
        return self

    def open_by_post(self, fake: dict[str, Any] | None = None, *,
                     fields: dict[str, str] | None = None, action: str | None = None,
                     wait: bool = True) -> CardPage:
        """Load the app as Bitrix24 opens it: a form POST carrying the call. The form is the
        fake's own (openingFields in bx24-fake.js, as the simulator posts it) for ``fake``, so
        it tells the same call the fake answers with; ``fields`` adds or overrides fields (tokens,
        a different call); ``action`` is the handler URL (the app's by default)."""
        config = self._on_own_call(dict(fake or {}))
        self.page.add_init_script(self.open_script(config))
        self.page.set_content(POST_OPENER.format(library=html.escape(FAKE_LIBRARY_URL)))
        self.page.wait_for_function("() => !!window.BX24_FAKE_WIRE")
        with self.page.expect_navigation(wait_until="commit"):
            form = self.page.evaluate(OPENING_FIELDS, [config, fields or {}])
            self.page.evaluate(SUBMIT_FORM_JS, [action or self.app_url, form])
        if wait:
            self.wait_settled()
        return self

    def _on_own_call(self, config: dict[str, Any]) -> dict[str, Any]:
        """``config`` with this tab's call_id as the host's call, unless it names one."""
        status = dict(config.get("status") or {})
        status.setdefault("CALL_ID", self.call_id)
        return {**config, "status": status}

    @staticmethod
    def open_script(config: dict[str, Any], *, snapshot: bool = False) -> str:
        """What runs in every frame before the page's own scripts."""
        script = f"window.BX24_FAKE_CONFIG = {json.dumps(config)};"
        if not snapshot:
            script += "\nwindow.callcardInterpreterSnapshot = false;"
        return script

    def wait_settled(self, timeout: int = BOOT_TIMEOUT_MS) -> str:
        """Wait until the page leaves ``loading``; return the state it reached."""
        self.page.wait_for_function(
            f"{APP_STATE_JS} !== 'loading'", timeout=timeout
        )
        return self.app_state

    def describe(self) -> str:
        """The card's state, its notes and the host's last messages, and the console's tail,
        as text (for a failed test's report; never raises)."""
        try:
            state = json.dumps(self.page.evaluate(DESCRIBE_CARD), indent=1, ensure_ascii=False)
        except Exception as exc:  # a crashed or closed tab says so
            state = f"(the page could not be read: {exc})"
        console = "\n".join(line[:300] for line in self.console[-30:])
        return f"{state}\nconsole (last 30):\n{console}\npage errors: {self.errors}"

    @property
    def app_state(self) -> str:
        return self.page.evaluate(APP_STATE_JS)

    def text(self, testid: str) -> str:
        return self.page.get_by_test_id(testid).inner_text()

    def count(self, testid: str) -> int:
        return self.page.get_by_test_id(testid).count()

    def wait_text(self, testid: str, expected: str, timeout: int = 10_000) -> None:
        """Wait until the element's text equals ``expected`` (events arrive asynchronously)."""
        from playwright.sync_api import expect

        expect(self.page.get_by_test_id(testid)).to_have_text(expected, timeout=timeout)

    def host_log(self, kind: str | None = None, name: str | None = None) -> list[dict[str, Any]]:
        """The fake host's record of commands, events and REST calls, optionally filtered."""
        return [
            entry for entry in self.host("host.log")
            if (kind is None or entry["kind"] == kind) and (name is None or entry["name"] == name)
        ]

    def wait_delivered(self, kind: str, name: str, count: int | None = None,
                       timeout: int = 10_000) -> None:
        """Wait until the fake has handed the app ``count`` answers or events of this ``kind``
        and ``name`` (``bx24Host.delivered``, recorded once the app's callback has returned); by
        default as many as the host log holds: every request answered, every event delivered
        (a dropped command is never answered: give its count).

        This is the first half of a barrier before a check that something did NOT happen. The
        app handles a callback at once and queues the rest of its work on Pyodide's event loop,
        one first-in-first-out queue of macrotasks. The second half is a later action of the
        same kind whose result the test waits for (a later client's load, a later save): it is
        queued behind whatever the delivered answer or event set going, so once it is done,
        anything that answer or event would have done is done, and its absence means something.
        """
        self.page.wait_for_function(
            """([kind, name, count]) => {
              const host = window.bx24Host;
              const mine = (entry) => entry.kind === kind && entry.name === name;
              return host.delivered.filter(mine).length >= (count ?? host.log.filter(mine).length);
            }""",
            arg=[kind, name, count], timeout=timeout,
        )

    def comment_writes(self) -> list[dict[str, Any]]:
        """The app's writes to the CRM timeline (add, update), in the order they went out."""
        return [entry for entry in self.host_log("rest")
                if entry["name"] in ("crm.timeline.comment.add", "crm.timeline.comment.update")]

    def save_a_later_note(self, text: str) -> dict[str, Any]:
        """A barrier's second half for saves (see wait_delivered): the operator writes ``text``
        and saves it, and the card says it is saved. That save goes out the way every save
        does, behind any an earlier event set going. Returns its write."""
        from playwright.sync_api import expect

        self.page.get_by_test_id("notes").fill(text)
        self.page.get_by_test_id("notes-save").click()
        self.page.wait_for_function(
            """(text) => window.bx24Host.log.some(e => e.kind === 'rest'
                 && e.name.startsWith('crm.timeline.comment.')
                 && String(e.data.fields && e.data.fields.COMMENT).endsWith(text))""", arg=text)
        expect(self.page.get_by_test_id("notes-status")).to_have_attribute(
            "data-notes-state", "saved")
        write = self.comment_writes()[-1]
        assert write["data"]["fields"]["COMMENT"].endswith(text), write
        return write

    def wait_for_notes_ticks(self, ticks: int) -> None:
        """Wait until the notes machine has handled ``ticks`` more ticks (four a second; it
        drives the draft's debounce and the card's hold), however late a busy machine runs
        them. The page's own setTimeout is back afterwards."""
        self.page.evaluate(COUNT_NOTES_TICKS)
        try:
            self.page.wait_for_function(f"window.__notesTicks >= {ticks + 1}")
        finally:
            self.page.evaluate("window.setTimeout = window.__setTimeout")

    def advance_clock(self, seconds: int) -> None:
        """Run the page's fake clock on by ``seconds``, a second at a time. A timer that throws
        "Query error!" (the Bitrix24 library failing on a dead portal, as it does for real:
        uncaught) surfaces here through Playwright's clock: not fatal, anything else is."""
        from playwright.sync_api import Error as PlaywrightError

        for _ in range(seconds):
            try:
                self.page.clock.run_for(1000)
            except PlaywrightError as error:
                assert "Query error!" in str(error), error

    def host(self, expression: str) -> Any:
        """Evaluate JS with the fake host in scope as ``host`` (fire events, read its log)."""
        script = f"(() => {{ const host = window.bx24Host; return {expression}; }})()"
        return self.page.evaluate(script)


class SharedProfile:
    """The session's one browser profile, and which test's guard hears its requests."""

    #: What a test may leave behind that the next one could see (the HTTP cache stays).
    SITE_DATA = "cookies,local_storage,indexeddb,websql,service_workers,cache_storage,file_systems"

    def __init__(self, context: BrowserContext, library: FakeLibraryServer) -> None:
        self.context = context
        self.library = library
        self.guard: NetworkGuard | None = None
        # A blank tab that lives as long as the profile: its DevTools session wipes site data.
        self._keeper = context.pages[0] if context.pages else context.new_page()
        self._devtools = context.new_cdp_session(self._keeper)
        # One listener for the session; popups and frames of every page come through it too.
        context.on("request", self._heard)

    def _heard(self, request: Request) -> None:
        if self.guard is not None:
            self.guard.watch(request)

    def begin(self) -> NetworkGuard:
        self.guard = NetworkGuard(self.library)
        self.guard.begin()
        return self.guard

    def end(self, app_url: str) -> None:
        """Close the test's tabs and wipe what they stored, as a new context would start."""
        for page in self.context.pages:
            if page is not self._keeper:
                page.close()
        origin = "/".join(app_url.split("/", 3)[:3])
        self._devtools.send(
            "Storage.clearDataForOrigin", {"origin": origin, "storageTypes": self.SITE_DATA}
        )
        self.context.clear_cookies()
        self.guard = None
        self.library.available = True


@pytest.fixture(scope="session")
def profile(
    browser_type: BrowserType,
    browser_type_launch_args: dict[str, Any],
    library_server: FakeLibraryServer,
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[SharedProfile]:
    context = browser_type.launch_persistent_context(
        tmp_path_factory.mktemp("chromium-profile"), **browser_type_launch_args
    )
    yield SharedProfile(context, library_server)
    context.close()


def _page_in_shared_profile(
    cls: type[CardPage], profile: SharedProfile, app_url: str, request: pytest.FixtureRequest,
) -> Iterator[CardPage]:
    """A new tab with the origin's storage wiped, checked for leaks and errors after.

    A test marked ``own_context`` gets a fresh context instead (and a cold cache): Playwright
    installs ``page.clock`` on the whole context, where it would outlive the test.
    """
    guard = profile.begin()
    own = request.node.get_closest_marker("own_context") is not None
    context = request.getfixturevalue("browser").new_context() if own else profile.context
    if own:
        context.on("request", guard.watch)
    card_page = cls(context, app_url, guard)
    yield card_page
    clock_faked = False
    if own:
        context.close()
    elif not card_page.page.is_closed():
        clock_faked = not card_page.page.evaluate("String(setTimeout).includes('[native code]')")
    profile.end(app_url)
    assert not clock_faked, "this test faked the clock in the shared profile: mark it own_context"
    assert guard.leaks == [], f"requests left loopback: {guard.leaks}"
    errors = card_page.errors
    if guard.library == "outside":  # the real library throws this outside Bitrix24
        errors = [e for e in errors if OUTSIDE_LIBRARY_ERROR not in e]
    if not request.node.get_closest_marker("expect_page_errors"):
        assert errors == [], f"uncaught page errors: {errors}"
        # Python logs failures of background tasks instead of throwing: those count too.
        starts = [i for i, line in enumerate(card_page.console) if "Traceback" in line]
        shown = ["\n".join(card_page.console[i:i + 12]) for i in starts]  # with its error lines
        assert not shown, "Python tracebacks in the console:\n" + "\n---\n".join(shown)


@pytest.fixture
def card(
    profile: SharedProfile, app_url: str, request: pytest.FixtureRequest
) -> Iterator[CardPage]:
    yield from _page_in_shared_profile(CardPage, profile, app_url, request)


#: What a failed test's report shows of its card (CardPage.describe): a flaky failure on a CI
#: run is read from its log, so the log must say where the card stood.
DESCRIBE_CARD = """() => {
  const hook = (id) => document.querySelector(`[data-testid="${id}"]`);
  const attrs = (id) => {
    const node = hook(id);
    return node ? Object.fromEntries([...node.attributes].map(a => [a.name, a.value])) : null;
  };
  const host = window.bx24Host;
  return {
    url: location.href,
    appState: document.documentElement.dataset.appState,
    callState: hook("call-state") && hook("call-state").textContent,
    notes: hook("notes") && hook("notes").value,
    notesStatus: attrs("notes-status"),
    notesStatusText: hook("notes-status") && hook("notes-status").textContent,
    save: attrs("notes-save"),
    appStatus: hook("app-status") && hook("app-status").textContent,
    hostLog: host ? host.log.slice(-25).map(e => `${e.kind} ${e.name} `
      + JSON.stringify(e.data ?? null).slice(0, 160)) : null,
    delivered: host ? host.delivered.length : null,
  };
}"""


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(
    item: pytest.Item, call: pytest.CallInfo[None],
) -> Iterator[None]:
    """A failed browser test's report carries where its card stood (before the tab closes)."""
    report = yield
    if report.when == "call" and report.failed:
        page = getattr(item, "funcargs", {}).get("card")
        if isinstance(page, CardPage):
            report.sections.append(("where the card stood", page.describe()))
    return report


#: A browser test whose tab crashed ("Target crashed": the renderer process died; seen about once
#: in a few hundred page loads on this machine, in the suite and in `make bench` alike, on no
#: test in particular) runs once more (pytest-rerunfailures); any other failure fails at once,
#: and -ra lists every rerun. Only browser tests: the plugin's bookkeeping under xdist doubles
#: the unit tests' time when it is on for every test.
RERUN_A_CRASHED_TAB = pytest.mark.flaky(reruns=1, only_rerun=["Target crashed"])


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Every test in this folder is a browser test (``-m "not browser"`` leaves them out) and
    reruns a crashed tab. (A conftest's ``pytestmark`` would mark nothing.)"""
    here = Path(__file__).parent  # (the hook sees every item of the session, not only ours)
    for item in items:
        if here in item.path.parents:
            item.add_marker(pytest.mark.browser)
            item.add_marker(RERUN_A_CRASHED_TAB)


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers", "expect_page_errors: the test provokes uncaught page errors on purpose"
    )
    config.addinivalue_line(
        "markers", "own_context: the test needs a browser context of its own (page.clock)"
    )


#: Python for Harness.run: what main.py does, as a function, to start the real card in the
#: harness page (prepend it to a source whose main() awaits start_the_card()).
START_THE_CARD = """
import js
from callcard.page import run_card

async def start_the_card():
    root = js.document.createElement("main")
    root.id = "card"
    js.document.body.appendChild(root)
    await run_card()
"""


class Harness(CardPage):
    """The app's runtime and modules without main.py: tests run their own Python in the page."""

    def open_harness(self, fake: dict[str, Any] | None = None, *, library: str = "fake") -> Harness:
        self.open(fake, library=library, path=HARNESS_PATH.lstrip("/"))
        return self

    def run(self, source: str) -> Any:
        """Run ``source`` (which defines ``async def main()``) and return main()'s JSON result."""
        return json.loads(self.page.evaluate("(source) => window.pyRun(source)", source))


@pytest.fixture
def harness(
    profile: SharedProfile, app_url: str, request: pytest.FixtureRequest
) -> Iterator[Harness]:
    yield from _page_in_shared_profile(Harness, profile, app_url, request)  # type: ignore[misc]
