"""The benchmark's watchdog on a real Chromium: a run that hangs inside a Playwright call (which
has no deadline of its own) ends, with BrowserHung, once its browser is killed."""

from __future__ import annotations

import time

import pytest
from playwright.sync_api import Playwright

from bench.browser import BrowserHung, fresh_browser


def test_a_call_that_never_returns_ends_when_the_deadline_kills_the_browser(
    playwright: Playwright,
) -> None:
    started = time.monotonic()
    with (
        pytest.raises(BrowserHung, match="still busy"),
        fresh_browser(playwright, "MAP * ~NOTFOUND", deadline_s=3) as context,
    ):
        page = context.new_page()
        page.evaluate("new Promise(() => {})")  # never settles; no timeout applies
    assert time.monotonic() - started < 30


def test_a_run_within_its_deadline_is_left_alone(playwright: Playwright) -> None:
    with fresh_browser(playwright, "MAP * ~NOTFOUND", deadline_s=30) as context:
        page = context.new_page()
        assert page.evaluate("1 + 1") == 2
