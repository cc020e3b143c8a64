"""The install page's controller under CPython, with a fake bridge and view: the steps it says,
what it tells the portal, and the retry after a failure. (The plan itself is
tests/unit/test_installer.py; the page in a browser is tests/browser/test_install.py.)
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Mapping
from typing import Any

from aio import run

from bx24_bridge.errors import BridgeUnavailable, RestError
from callcard.install_page import InstallPage

PAGE = "https://cards.example.com/callcard/install.html?DOMAIN=portal&AUTH_ID=secret"
HANDLER = "https://cards.example.com/callcard/"



class FakeBridge:
    def __init__(self, *, bindings: list[dict[str, Any]] | None = None,
                 failures: list[Exception] | None = None, inside: bool = True) -> None:
        self.bindings = bindings or []
        self.failures = list(failures or [])
        self.inside = inside
        self.calls: list[str] = []
        self.finished = 0

    async def init(self) -> None:
        if not self.inside:
            raise BridgeUnavailable("no BX24")

    def lang(self) -> str:
        return "en"

    async def call_method(self, method: str, params: Mapping[str, Any] | None = None) -> Any:
        self.calls.append(method)
        if self.failures:
            raise self.failures.pop(0)
        return self.bindings if method == "placement.get" else True

    def install_finish(self) -> None:
        self.finished += 1


class FakeView:
    def __init__(self) -> None:
        self.page: tuple[str, str | None] = ("loading", None)
        self.status: list[tuple[str, str]] = []
        self.steps: list[str] = []
        self.retry: Callable[[], Any] | None = None

    def set_page(self, state: str, lang: str | None = None) -> None:
        self.page = (state, lang)

    def set_status(self, state: str, text: str) -> None:
        self.status.append((state, text))

    def clear_steps(self) -> None:
        self.steps.clear()

    def add_step(self, text: str) -> None:
        self.steps.append(text)

    def offer_retry(self, label: str, on_retry: Callable[[], Any]) -> None:
        self.retry = on_retry


def test_a_fresh_portal_gets_the_tab_and_the_page_says_each_step() -> None:
    async def scenario() -> None:
        bridge, view = FakeBridge(), FakeView()
        await InstallPage(bridge=bridge, view=view, page_url=PAGE).run()
        assert bridge.calls == ["placement.get", "placement.bind"]
        assert bridge.finished == 1
        assert view.page == ("ready", "en")
        assert [state for state, _ in view.status] == ["checking", "binding", "done"]
        assert len(view.steps) == 1 and HANDLER in view.steps[0]
        assert "secret" not in " ".join(view.steps), "the page's tokens are never the handler"

    run(scenario())


def test_outside_bitrix24_the_page_says_so_and_calls_nothing() -> None:
    async def scenario() -> None:
        bridge, view = FakeBridge(inside=False), FakeView()
        await InstallPage(bridge=bridge, view=view, page_url=PAGE).run()
        assert view.page == ("outside", None)
        assert view.status[-1][0] == "outside"
        assert bridge.calls == [] and bridge.finished == 0

    run(scenario())


def test_a_failure_is_said_in_words_and_the_retry_runs_it_all_again() -> None:
    async def scenario() -> None:
        denied = RestError("placement.bind", "ACCESS_DENIED", "no rights")
        bridge, view = FakeBridge(failures=[denied]), FakeView()
        page = InstallPage(bridge=bridge, view=view, page_url=PAGE)
        await page.run()
        assert view.status[-1][0] == "failed" and bridge.finished == 0
        assert view.retry is not None
        view.retry()
        for _ in range(5):
            await asyncio.sleep(0)
        assert view.status[-1][0] == "done"
        assert bridge.calls == ["placement.get", "placement.get", "placement.bind"]
        assert bridge.finished == 1

    run(scenario())
