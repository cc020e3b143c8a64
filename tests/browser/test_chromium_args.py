"""The Chromium every test and the benchmark launch (tools/chromium.py) is the one we think.

Two promises of LAUNCH_ARGS only a real launch can check: the address bar's WebUI drop-down gets
no renderer of its own beside the page (it costs a core for about a second on every new window),
and our --disable-features, the one Chromium honours because it comes last, still switches off
everything Playwright's own switch does.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
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


@dataclass(frozen=True)
class Launch:
    """One browser as the tests launch it: its command line, and what it runs with one page."""

    command_line: list[str]
    targets: list[dict[str, Any]]


@pytest.fixture(scope="module")
def launch(browser_type: BrowserType, browser_type_launch_args: dict[str, Any]) -> Launch:
    if not PROC.is_dir():
        pytest.skip("reads the browser's command line from /proc")
    marker = f"--callcard-test-launch={uuid.uuid4().hex}"  # Chromium ignores switches it lacks
    args = dict(browser_type_launch_args)
    browser = browser_type.launch(**{**args, "args": [*args.get("args", []), marker]})
    try:
        lines = [line for line in _command_lines(marker) if "--type" not in " ".join(line)]
        page = browser.new_page()
        page.set_content("<!doctype html><title>one page</title><p>the page")
        # The browser's own WebUI pages are targets too ("browser_ui"), from the window's start.
        targets = browser.new_browser_cdp_session().send("Target.getTargets")["targetInfos"]
    finally:
        browser.close()
    assert len(lines) == 1, "the browser process (not one of its children) carries the marker"
    return Launch(lines[0], targets)


def test_our_disabled_features_are_the_last_and_keep_playwrights_own(launch: Launch) -> None:
    switches = _features(launch.command_line, "--disable-features")
    assert len(switches) >= 2, "Playwright's own switch, then ours"
    playwrights, ours = switches[0], switches[-1]
    assert playwrights <= ours, f"ours would re-enable {sorted(playwrights - ours)}"
    assert set(OMNIBOX_WEBUI_FEATURES) <= ours


def test_no_browser_webui_loads_beside_the_page(launch: Launch) -> None:
    """Without the flags: chrome://omnibox-popup.top-chrome/ and its AI-mode page."""
    assert [t["url"] for t in launch.targets if t["type"] == "browser_ui"] == []
    assert [t["type"] for t in launch.targets] == ["page"]
