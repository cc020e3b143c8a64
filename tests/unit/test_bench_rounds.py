"""The benchmark's rounds (bench/run.py): a crashed tab, or a browser killed because its run
hung, is measured again instead of ending `make bench` with every round already measured thrown
away (or never ending it); anything else still ends it."""

from __future__ import annotations

import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import Error as PlaywrightError

from bench import run as rounds
from bench.browser import LOAD_TIMEOUT_MS, BrowserHung, Load, Network, Watchdog
from bench.run import Run, Settings, Target

LOOPBACK = Network("loopback")
PAGE = Target("app", "http://card.test/", "callcard:ready", "MAP * ~NOTFOUND")
QUIET = Settings(rounds=2, events=0, quiet_wait_s=0, warm=False)


def load(ready_ms: float = 1000.0) -> Load:
    return Load(ready_ms=ready_ms, fcp_ms=None, bytes=0, requests=0, cached=0, other_cpu_s=0.0)


def scripted(monkeypatch: pytest.MonkeyPatch, outcomes: list[BaseException | None]) -> list[int]:
    """run_once answers from `outcomes` in turn: an exception is raised, None measures a run."""
    calls: list[int] = []

    def fake_run_once(playwright: Any, target: Target, network: Network, round_no: int,
                      settings: Settings, *, with_events: bool = False) -> Run:
        calls.append(round_no)
        outcome = outcomes.pop(0)
        if outcome is not None:
            raise outcome
        return Run(target.name, network, round_no, load(), None)

    monkeypatch.setattr(rounds, "run_once", fake_run_once)
    return calls


def test_a_crashed_tab_is_measured_again_and_counted(monkeypatch: pytest.MonkeyPatch) -> None:
    crash = PlaywrightError("Page.wait_for_timeout: Page crashed")
    calls = scripted(monkeypatch, [None, crash, None])
    said: list[str] = []

    runs = rounds.run_rounds(None, [PAGE], [LOOPBACK], QUIET, progress=said.append)  # type: ignore[arg-type]

    assert calls == [0, 1, 1]
    assert [run.round for run in runs] == [0, 1]
    assert [run.crashes for run in runs] == [0, 1]
    assert any("tab crashed" in line and "again" in line for line in said)


def test_a_second_crash_in_one_run_ends_the_benchmark(monkeypatch: pytest.MonkeyPatch) -> None:
    scripted(monkeypatch, [PlaywrightError("Target crashed"), PlaywrightError("Target crashed")])

    with pytest.raises(PlaywrightError, match="crashed"):
        rounds.run_rounds(None, [PAGE], [LOOPBACK], QUIET, progress=print)  # type: ignore[arg-type]


@pytest.mark.parametrize("error", [
    PlaywrightError("Timeout 60000ms exceeded"),
    TimeoutError("no 'callcard:ready' within 60000 ms"),
    RuntimeError("app on loopback: invalid load"),
])
def test_other_failures_are_not_retried(monkeypatch: pytest.MonkeyPatch, error: Exception) -> None:
    calls = scripted(monkeypatch, [error, None])

    with pytest.raises(type(error)):
        rounds.run_rounds(None, [PAGE], [LOOPBACK], QUIET, progress=print)  # type: ignore[arg-type]
    assert calls == [0]


def test_a_hung_browser_is_measured_again(monkeypatch: pytest.MonkeyPatch) -> None:
    calls = scripted(monkeypatch, [BrowserHung("the browser was still busy after 210 s"), None])
    said: list[str] = []

    runs = rounds.run_rounds(None, [PAGE], [LOOPBACK], Settings(rounds=1, events=0,
                             quiet_wait_s=0, warm=False), progress=said.append)  # type: ignore[arg-type]

    assert calls == [0, 0]
    assert runs[0].crashes == 1
    assert any("still busy" in line and "again" in line for line in said)


def test_the_run_deadline_outlasts_two_loads_that_time_out() -> None:
    assert rounds.RUN_DEADLINE_S > 2 * LOAD_TIMEOUT_MS / 1000


def _sleeper(profile: Path) -> subprocess.Popen[bytes]:
    """A stand-in for Chromium: a process whose command line names a profile folder."""
    return subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)",
                             f"--user-data-dir={profile}"])


def test_the_watchdog_kills_only_its_own_profiles_browser(tmp_path: Path) -> None:
    mine, other = _sleeper(tmp_path / "mine"), _sleeper(tmp_path / "other")
    try:
        with Watchdog(str(tmp_path / "mine"), deadline_s=0.2) as watchdog:
            assert mine.wait(timeout=10) == -9
        assert watchdog.fired
        assert other.poll() is None
    finally:
        for process in (mine, other):
            process.kill()
            process.wait()


def test_a_watchdog_left_in_time_kills_nothing(tmp_path: Path) -> None:
    process = _sleeper(tmp_path / "profile")
    try:
        with Watchdog(str(tmp_path / "profile"), deadline_s=0.2) as watchdog:
            pass
        time.sleep(0.4)
        assert not watchdog.fired
        assert process.poll() is None
    finally:
        process.kill()
        process.wait()
