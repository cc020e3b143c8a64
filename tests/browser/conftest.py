"""Browser test rig: the real server, headless Chromium, and the one BX24 fake.

- The app is served by ``cardserver`` on loopback, exactly as ``make run`` serves it.
- The fake (simulator/bx24-fake.js) is delivered at the production URL of the Bitrix24 library,
  ``//api.bitrix24.com/api/v1/``, by request interception, so index.html stays untouched.
- Every request that would leave loopback is recorded, and a test that caused one fails; the
  browser's resolver also maps every other host to "not found", so none can actually leave.
  Only the library URL is intercepted: routing every request through Python costs about a
  second per page load.
- Page errors (uncaught exceptions) fail the test unless it declares them expected.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest
from playwright.sync_api import Browser, BrowserContext, Page, Request, Route

from cardserver import running
from tools.chromium import QUIET_NETWORK_ARGS, chromium_path

ROOT = Path(__file__).resolve().parents[2]
FAKE_JS = (ROOT / "simulator" / "bx24-fake.js").read_text(encoding="utf-8")
LIBRARY_URL = re.compile(r"^https?://api\.bitrix24\.com/api/v1/?(\?.*)?$")
LOOPBACK = {"127.0.0.1", "localhost", "[::1]", "::1"}
OUTSIDE_LIBRARY_ERROR = "Unable to initialize Bitrix24 JS library!"
BOOT_TIMEOUT_MS = 60_000  # a cold Pyodide boot is ~4 s here; allow for a loaded CI machine

pytestmark = pytest.mark.browser


@pytest.fixture(scope="session")
def browser_type_launch_args(browser_type_launch_args: dict[str, Any]) -> dict[str, Any]:
    args = dict(browser_type_launch_args)
    path = chromium_path()
    if path:
        args["executable_path"] = path
    # This machine's network is closed: keep Chromium from phoning home at start.
    args["args"] = [
        *args.get("args", []),
        *QUIET_NETWORK_ARGS,
        "--host-resolver-rules=MAP * ~NOTFOUND, EXCLUDE localhost, EXCLUDE 127.0.0.1",
    ]
    return args


@pytest.fixture(scope="session")
def app_url() -> Iterator[str]:
    with running(ROOT, "127.0.0.1", 0, quiet=True) as server:
        host, port = server.server_address[:2]
        yield f"http://{host}:{port}/"


@dataclass
class NetworkGuard:
    """Records what the page tried to fetch beyond loopback."""

    library: str = "fake"  # "fake" | "outside" (the real library's behaviour) | "missing"
    leaks: list[str] = field(default_factory=list)
    library_requests: int = 0

    def serve_library(self, route: Route) -> None:
        """The fake at the library's production URL (or a failure to load it)."""
        self.library_requests += 1
        if self.library == "missing":
            route.abort("connectionrefused")
        else:
            route.fulfill(status=200, content_type="text/javascript", body=FAKE_JS)

    def watch(self, request: Request) -> None:
        """Record any request that is neither loopback nor the (intercepted) library."""
        url = request.url
        if LIBRARY_URL.match(url) or url.startswith(("data:", "blob:")):
            return
        if (urlsplit(url).hostname or "") not in LOOPBACK:
            self.leaks.append(url)


class CardPage:
    """One app page in its own browser context, with the fake configured before it loads."""

    def __init__(self, context: BrowserContext, app_url: str, guard: NetworkGuard) -> None:
        self.context = context
        self.app_url = app_url
        self.guard = guard
        self.page: Page = context.new_page()
        self.errors: list[str] = []
        self.console: list[str] = []
        self.page.on("pageerror", lambda exc: self.errors.append(str(exc)))
        self.page.on("console", lambda msg: self.console.append(f"{msg.type}: {msg.text}"))

    def open(self, fake: dict[str, Any] | None = None, *, library: str = "fake",
             path: str = "", wait: bool = True) -> CardPage:
        """Load the app. ``fake`` becomes window.BX24_FAKE_CONFIG; library "outside" makes the
        fake behave like the real library outside Bitrix24, "missing" makes it fail to load."""
        config = dict(fake or {})
        if library == "outside":
            config["mode"] = "outside"
        self.guard.library = library
        self.page.add_init_script(f"window.BX24_FAKE_CONFIG = {json.dumps(config)};")
        self.page.goto(self.app_url + path)
        if wait:
            self.wait_settled()
        return self

    def wait_settled(self, timeout: int = BOOT_TIMEOUT_MS) -> str:
        """Wait until the page leaves ``loading``; return the state it reached."""
        self.page.wait_for_function(
            "document.documentElement.dataset.appState !== 'loading'", timeout=timeout
        )
        return self.app_state

    @property
    def app_state(self) -> str:
        return self.page.evaluate("document.documentElement.dataset.appState")

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

    def host(self, expression: str) -> Any:
        """Evaluate JS with the fake host in scope as ``host`` (fire events, read its log)."""
        script = f"(() => {{ const host = window.bx24Host; return {expression}; }})()"
        return self.page.evaluate(script)


def _page_in_fresh_context(
    cls: type[CardPage], browser: Browser, app_url: str, request: pytest.FixtureRequest,
) -> Iterator[CardPage]:
    """A page in its own context (own storage, own cache), checked for leaks and errors after."""
    guard = NetworkGuard()
    context = browser.new_context()
    context.route(LIBRARY_URL, guard.serve_library)
    context.on("request", guard.watch)
    card_page = cls(context, app_url, guard)
    yield card_page
    context.close()
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
def card(browser: Browser, app_url: str, request: pytest.FixtureRequest) -> Iterator[CardPage]:
    yield from _page_in_fresh_context(CardPage, browser, app_url, request)


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers", "expect_page_errors: the test provokes uncaught page errors on purpose"
    )


HARNESS_HTML = (Path(__file__).with_name("bridge_harness.html")).read_text(encoding="utf-8")


class Harness(CardPage):
    """The app's runtime and modules without main.py: tests run their own Python in the page."""

    def open_harness(self, fake: dict[str, Any] | None = None, *, library: str = "fake") -> Harness:
        url = self.app_url + "bridge-harness.html"
        self.page.route(
            url, lambda route: route.fulfill(content_type="text/html", body=HARNESS_HTML)
        )
        self.open(fake, library=library, path="bridge-harness.html")
        return self

    def run(self, source: str) -> Any:
        """Run ``source`` (which defines ``async def main()``) and return main()'s JSON result."""
        return json.loads(self.page.evaluate("(source) => window.pyRun(source)", source))


@pytest.fixture
def harness(browser: Browser, app_url: str, request: pytest.FixtureRequest) -> Iterator[Harness]:
    yield from _page_in_fresh_context(Harness, browser, app_url, request)  # type: ignore[misc]
