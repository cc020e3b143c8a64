"""The benchmark's rounds (bench/run.py): a crashed tab is measured again instead of ending
`make bench` with every round already measured thrown away; anything else still ends it."""

from __future__ import annotations

from typing import Any

import pytest
from playwright.sync_api import Error as PlaywrightError

from bench import run as rounds
from bench.browser import Load, Network
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
