"""The Chromium every test and the benchmark launch (tools/chromium.py) is the one we think.

Two promises of LAUNCH_ARGS only a real launch can check: the address bar's WebUI drop-down gets
no renderer of its own beside the page (it costs a core for about a second on every new window),
and our --disable-features, the one Chromium honours because it comes last, still switches off
everything Playwright's own switch does.
"""

from __future__ import annotations

import time
import uuid
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import BrowserType

from tools.chromium import OMNIBOX_WEBUI_FEATURES

PROC = Path("/proc")


def _command_lines(marker: str) -> list[list[str]]:
    """The command lines of the running processes that carry `marker`."""
    found = []
    for entry in PROC.iterdir():
        if not entry.name.isdigit():
            continue
        try:
            words = (entry / "cmdline").read_bytes().split(b"\0")
        except OSError:  # the process ended meanwhile, or is not ours to read
            continue
        if marker.encode() in words:
            found.append([word.decode(errors="replace") for word in words if word])
    return found


def _features(switches: list[str], name: str) -> list[set[str]]:
    """Each `name` switch's features, in command-line order."""
    prefix = f"{name}="
    return [set(word[len(prefix):].split(",")) for word in switches if word.startswith(prefix)]


def test_our_disabled_features_are_the_last_and_keep_playwrights_own(
    browser_type: BrowserType, browser_type_launch_args: dict[str, Any]
) -> None:
    if not PROC.is_dir():
        pytest.skip("reads the browser's command line from /proc")
    marker = f"--callcard-test-launch={uuid.uuid4().hex}"  # Chromium ignores switches it lacks
    args = dict(browser_type_launch_args)
    browser = browser_type.launch(**{**args, "args": [*args.get("args", []), marker]})
    try:
        lines = [line for line in _command_lines(marker) if "--type" not in " ".join(line)]
    finally:
        browser.close()
    assert len(lines) == 1, "the browser process (not one of its children) carries the marker"
    switches = _features(lines[0], "--disable-features")
    assert len(switches) >= 2, "Playwright's own switch, then ours"
    playwrights, ours = switches[0], switches[-1]
    assert playwrights <= ours, f"ours would re-enable {sorted(playwrights - ours)}"
    assert set(OMNIBOX_WEBUI_FEATURES) <= ours


def test_no_address_bar_renderer_loads_beside_the_page(
    browser_type: BrowserType, browser_type_launch_args: dict[str, Any]
) -> None:
    browser = browser_type.launch(**browser_type_launch_args)
    try:
        browser.start_tracing(categories=["loading", "devtools.timeline"])
        page = browser.new_page()
        page.set_content("<!doctype html><title>one page</title><p>the page")
        time.sleep(1.5)  # without the flags the drop-down's ~400 modules load in this second
        trace = browser.stop_tracing()
    finally:
        browser.close()
    assert b"chrome://omnibox-popup" not in trace
