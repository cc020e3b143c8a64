"""One page load in headless Chromium, measured, without disturbing what is measured.

The traps of ../shared/reference/measuring.md decide the shape of this module:

- Each run gets its own Chromium on an *empty temporary profile* (``launch_persistent_context``):
  the first load in it is cold, a second load of the same page is warm. An incognito context
  (``new_context``) would refuse to cache the 9.6 MB wasm and make "warm" half cold.
- Nothing is intercepted: no ``page.route``/``context.route`` (they switch the HTTP cache off).
  The BX24 library comes from a local server that Chromium's resolver rules put in place of
  api.bitrix24.com (bench/servers.py); request *listeners* only watch that nothing leaves
  loopback.
- The emulated network (latency, throughput) is set through CDP on the page before it navigates.
- The wait for "ready" polls a tiny expression every 50 ms over CDP (Runtime.evaluate), not
  every frame, and not through ``wait_for_function``, whose injected script would run in the
  page before its first frame.
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import signal
import tempfile
import threading
import time
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from playwright.sync_api import BrowserContext, CDPSession, Error, Page, Playwright

from tools.chromium import LAUNCH_ARGS, chromium_path
from tools.loopback import SUBMIT_FORM_JS

from .machine import OtherCpu

JS_DIR = Path(__file__).resolve().parent / "js"
HOOKS_JS = (JS_DIR / "hooks.js").read_text(encoding="utf-8")
EVENTS_JS = (JS_DIR / "events.js").read_text(encoding="utf-8")

ALLOWED_HOSTS = frozenset({"127.0.0.1", "api.bitrix24.com"})
LOAD_TIMEOUT_MS = 90_000
# True once the page's ready mark exists, or it has given up (outside / error). An expression,
# evaluated over CDP (MeasuredPage._wait_until_ready says why).
_READY_EXPRESSION = """performance.getEntriesByName({mark}).length > 0
    || ['outside', 'error'].includes(document.documentElement?.dataset.appState)"""
_READY_POLL_MS = 50
_TIMINGS_JS = """(mark) => {
  const ready = performance.getEntriesByName(mark)[0];
  const fcp = performance.getEntriesByName('first-contentful-paint')[0];
  const wasm = (window.__benchWasmMemories || []).reduce((n, m) => n + m.buffer.byteLength, 0);
  const marks = Object.fromEntries(
    performance.getEntriesByType('mark').map((m) => [m.name, m.startTime]));
  const caller = (window.__benchElementTimes || {}).caller;
  return { ready: ready ? ready.startTime : null, fcp: fcp ? fcp.startTime : null,
           caller: caller === undefined ? null : caller,
           state: document.documentElement?.dataset.appState || null, wasm, marks };
}"""
_OPENING_FIELDS_JS = """async (library) => {
  const script = document.createElement("script");
  script.src = library;
  script.dataset.fake = "wire-only";
  await new Promise((done, fail) => {
    script.onload = done;
    script.onerror = fail;
    document.head.append(script);
  });
  return window.BX24_FAKE_WIRE.openingFields({});
}"""


@dataclass(frozen=True)
class Network:
    """A network as the page sees it: loopback as is, or emulated through CDP."""

    name: str
    latency_ms: float = 0.0
    mbit_per_s: float = 0.0  # 0: not limited

    @property
    def emulated(self) -> bool:
        return self.latency_ms > 0 or self.mbit_per_s > 0

    def describe(self) -> str:
        if not self.emulated:
            return "loopback"
        return f"{self.latency_ms:g} ms RTT, {self.mbit_per_s:g} Mbit/s"


LOOPBACK = Network("loopback")
EMULATED = Network("emulated", latency_ms=40, mbit_per_s=50)


@dataclass
class Load:
    """What one page load measured (times in ms from navigation start)."""

    ready_ms: float
    fcp_ms: float | None
    bytes: int
    requests: int
    cached: int  # responses served from the browser's cache
    other_cpu_s: float | None
    js_heap_bytes: int | None = None
    wasm_bytes: int | None = None
    state: str | None = None
    leaks: list[str] = field(default_factory=list)
    #: URLs fetched more than once by this load (a preload that was not reused shows up here).
    duplicates: list[str] = field(default_factory=list)
    #: Console warnings about preloads (unused, or credentials mode not matching).
    preload_warnings: list[str] = field(default_factory=list)
    #: Uncaught page errors; a load with any is not a valid sample.
    errors: list[str] = field(default_factory=list)
    #: Every performance mark of the page (name -> ms from navigation start).
    marks: dict[str, float] = field(default_factory=dict)
    #: Every URL the load requested, with its HTTP status (0: no response).
    statuses: dict[str, int] = field(default_factory=dict)
    #: When the caller's number was first painted (Element Timing "caller"), if it was.
    caller_ms: float | None = None


class NetworkLog:
    """Bytes and requests of one page, from CDP's Network events (they include headers)."""

    def __init__(self, session: CDPSession) -> None:
        self.bytes = 0
        self.requests = 0
        self._cached: set[str] = set()
        self.leaks: list[str] = []
        self.urls: dict[str, int] = {}
        #: Per URL, the requests that went to the server (not answered by the browser's cache).
        self.downloads: dict[str, int] = {}
        self.statuses: dict[str, int] = {}
        self._in_flight: set[str] = set()
        self._url_of: dict[str, str] = {}
        session.on("Network.requestWillBeSent", self._sent)
        session.on("Network.loadingFinished", self._finished)
        session.on("Network.loadingFailed", self._failed)
        session.on("Network.requestServedFromCache", self._from_cache)
        session.on("Network.responseReceived", self._response)

    def _sent(self, event: dict[str, Any]) -> None:
        url = event["request"]["url"]
        if url.startswith(("data:", "blob:")):
            return
        if (urlsplit(url).hostname or "") not in ALLOWED_HOSTS:
            self.leaks.append(url)
        if event.get("redirectResponse") is None:
            self.requests += 1
            self.urls[url] = self.urls.get(url, 0) + 1
        self._in_flight.add(event["requestId"])
        self._url_of[event["requestId"]] = url

    def _response(self, event: dict[str, Any]) -> None:
        response = event.get("response", {})
        if "url" in response:
            self.statuses[response["url"]] = int(response.get("status") or 0)
        if response.get("fromDiskCache") or response.get("fromPrefetchCache"):
            self._cached.add(event["requestId"])

    def _from_cache(self, event: dict[str, Any]) -> None:
        self._cached.add(event["requestId"])

    @property
    def cached(self) -> int:
        """Requests answered from the browser's memory or disk cache."""
        return len(self._cached)

    def _finished(self, event: dict[str, Any]) -> None:
        self.bytes += int(event.get("encodedDataLength") or 0)
        self._in_flight.discard(event["requestId"])
        url = self._url_of.get(event["requestId"])
        if url is not None and event["requestId"] not in self._cached:
            self.downloads[url] = self.downloads.get(url, 0) + 1

    def _failed(self, event: dict[str, Any]) -> None:
        self._in_flight.discard(event["requestId"])

    @property
    def idle(self) -> bool:
        return not self._in_flight


class BrowserHung(RuntimeError):
    """The browser of a run was killed because the run outlived its deadline."""


class Watchdog:
    """Kills the Chromium of one profile folder if it is still running after `deadline_s`.

    Why: every wait of a load has a deadline of its own, but a call into Playwright or CDP
    (an evaluate, a CDP send) has none, and once a run sat for five minutes with Chromium idle
    and nothing to say which call was waiting. Playwright's sync API cannot be interrupted from
    another thread; a browser that dies can: every call waiting on it then fails at once. The
    browser process is found by its profile folder (``--user-data-dir``, unique per run), so
    no other Chromium on the machine is touched; its renderers end with it."""

    def __init__(self, profile_folder: str, deadline_s: float) -> None:
        self.fired = False
        self._needle = f"--user-data-dir={profile_folder}".encode()
        self._timer = threading.Timer(deadline_s, self._kill)
        self._timer.daemon = True

    def __enter__(self) -> Watchdog:
        self._timer.start()
        return self

    def __exit__(self, *exc_info: object) -> None:
        self._timer.cancel()

    def _kill(self) -> None:
        self.fired = True
        for pid in self.pids():
            with contextlib.suppress(ProcessLookupError, PermissionError):
                os.kill(pid, signal.SIGKILL)

    def pids(self) -> list[int]:
        """Processes whose command line names this profile folder."""
        found = []
        for entry in Path("/proc").iterdir():
            if not entry.name.isdigit():
                continue
            try:
                arguments = (entry / "cmdline").read_bytes().split(b"\0")
            except OSError:  # gone meanwhile, or not ours to read
                continue
            if self._needle in arguments:
                found.append(int(entry.name))
        return found


@contextlib.contextmanager
def fresh_browser(
    playwright: Playwright, resolver_rules: str, *, deadline_s: float | None = None
) -> Iterator[BrowserContext]:
    """Chromium on an empty temporary profile folder, removed afterwards. With `deadline_s`,
    a browser still in use after that long is killed and BrowserHung raised (Watchdog)."""
    folder = tempfile.mkdtemp(prefix="callcard-bench-profile-")
    watchdog = Watchdog(folder, deadline_s) if deadline_s is not None else None
    try:
        context = playwright.chromium.launch_persistent_context(
            folder,
            headless=True,
            executable_path=chromium_path(),
            args=[*LAUNCH_ARGS, f"--host-resolver-rules={resolver_rules}"],  # as the tests do
            viewport={"width": 480, "height": 720},
        )
        try:
            with watchdog or contextlib.nullcontext():
                context.add_init_script(HOOKS_JS)
                yield context
        except Exception as error:
            if watchdog and watchdog.fired:
                raise BrowserHung(f"the browser was still busy after {deadline_s:g} s") from error
            raise
        finally:
            try:
                context.close()
            except Exception:
                if not (watchdog and watchdog.fired):
                    raise  # a killed browser may make close() complain; it is gone either way
    finally:
        shutil.rmtree(folder, ignore_errors=True)


def opening_fields(playwright: Playwright, resolver_rules: str, library_url: str) -> dict[str, str]:
    """The form the host POSTs to open the card with the fake's default call: the fake's own
    openingFields (as the simulator and the browser tests post it), asked once per benchmark in
    a browser of its own, so no measured profile has the fake in its cache beforehand."""
    with fresh_browser(playwright, resolver_rules) as context:
        page = context.new_page()
        page.set_content("<!doctype html><title>fields</title>")
        return dict(page.evaluate(_OPENING_FIELDS_JS, library_url))


class MeasuredPage:
    """A page opened on a network profile, whose load is measured."""

    def __init__(self, context: BrowserContext, network: Network) -> None:
        self.page: Page = context.new_page()
        self.errors: list[str] = []
        self.warnings: list[str] = []
        self.page.on("pageerror", lambda exc: self.errors.append(str(exc)))
        self.page.on("console", self._console)
        self.cdp = context.new_cdp_session(self.page)
        self.cdp.send("Network.enable")
        self.cdp.send("Performance.enable")
        if network.emulated:
            rate = network.mbit_per_s * 1e6 / 8 if network.mbit_per_s else -1
            self.cdp.send(
                "Network.emulateNetworkConditions",
                {
                    "offline": False,
                    "latency": network.latency_ms,
                    "downloadThroughput": rate,
                    "uploadThroughput": rate,
                },
            )
        self.log = NetworkLog(self.cdp)

    def load(self, url: str, mark: str, form: Mapping[str, str] | None = None) -> Load:
        """Navigate and wait for `mark`; CPU of other processes is taken over the same span.
        With `form`, the page is opened as Bitrix24 opens the handler: a form POST of it."""
        if form is not None:
            self.page.set_content("<!doctype html><title>opener</title>")
        cpu = OtherCpu()
        cpu.start()
        if form is None:
            self.page.goto(url, wait_until="commit", timeout=LOAD_TIMEOUT_MS)
        else:
            with self.page.expect_navigation(wait_until="commit", timeout=LOAD_TIMEOUT_MS):
                self.page.evaluate(SUBMIT_FORM_JS, [url, dict(form)])
        self._wait_until_ready(mark)
        other = cpu.stop()
        timings = self.page.evaluate(_TIMINGS_JS, mark)
        if timings["ready"] is None:
            raise RuntimeError(f"{url} ended in state {timings['state']!r}: {self.errors}")
        return Load(
            ready_ms=timings["ready"],
            fcp_ms=timings["fcp"],
            bytes=0,
            requests=0,
            cached=0,
            other_cpu_s=other,
            state=timings["state"],
            marks=timings["marks"],
            caller_ms=timings["caller"],
        )

    def _wait_until_ready(self, mark: str) -> None:
        """Poll the page for `mark` with CDP's Runtime.evaluate of one small expression.

        Not ``page.wait_for_function``: that evaluates Playwright's injected script (~300 KB)
        in the new document the moment it commits, ~13 ms of the renderer's main thread
        before the card's first frame (seen in a trace), which is the very time measured as
        "caller visible". Runtime.evaluate brings nothing into the page. Its answer before
        the document has an execution context is an error, and then the poll goes on."""
        expression = _READY_EXPRESSION.format(mark=json.dumps(mark))
        deadline = time.monotonic() + LOAD_TIMEOUT_MS / 1000
        while time.monotonic() < deadline:
            try:
                reply = self.cdp.send(
                    "Runtime.evaluate", {"expression": expression, "returnByValue": True}
                )
            except Error:  # no context yet (between commit and the new document)
                reply = {}
            if reply.get("result", {}).get("value") is True:
                return
            self.page.wait_for_timeout(_READY_POLL_MS)  # a timer in Playwright, not in the page
        raise TimeoutError(f"no {mark!r} within {LOAD_TIMEOUT_MS} ms")

    def settle(self, load: Load, timeout_s: float = 5.0) -> Load:
        """Wait for the network to go quiet, then fill in bytes, requests and memory."""
        deadline = time.monotonic() + timeout_s
        quiet_since: float | None = None
        while time.monotonic() < deadline:
            self.page.wait_for_timeout(50)  # lets Playwright dispatch the CDP events
            if self.log.idle:
                quiet_since = quiet_since or time.monotonic()
                if time.monotonic() - quiet_since >= 0.3:
                    break
            else:
                quiet_since = None
        reply = self.cdp.send("Performance.getMetrics")
        metrics = {m["name"]: m["value"] for m in reply["metrics"]}
        load.bytes = self.log.bytes
        load.requests = self.log.requests
        load.cached = self.log.cached
        load.leaks = list(self.log.leaks)
        load.duplicates = sorted(url for url, n in self.log.downloads.items() if n > 1)
        load.statuses = {url: self.log.statuses.get(url, 0) for url in self.log.urls}
        load.preload_warnings = list(self.warnings)
        load.errors = list(self.errors)
        heap = metrics.get("JSHeapUsedSize")
        load.js_heap_bytes = int(heap) if heap is not None else None
        load.wasm_bytes = int(self.page.evaluate(_TIMINGS_JS, "-")["wasm"]) or None
        return load

    def _console(self, message: Any) -> None:
        if message.type in ("warning", "error") and "preload" in message.text.lower():
            self.warnings.append(message.text)

    def fire_events(self, count: int, states: list[str]) -> list[float | None]:
        return self.page.evaluate(
            EVENTS_JS, {"count": count, "states": states, "timeoutMs": 2000}
        )

    def close(self) -> None:
        with contextlib.suppress(Exception):
            self.cdp.detach()
        self.page.close()
