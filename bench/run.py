"""Rounds of paired runs: two pages, alternated, each cold then warm in a fresh profile.

One *run* is one page on one network in its own Chromium with an empty profile: a cold load
(nothing cached), then, after the page has been open for a while like a real card during a
call, a warm load of the same page in a new tab (HTTP cache and V8's code cache filled).

Pairs alternate (A B, then B A; the network order flips too) so slow drift of the machine hits
both pages alike, and every ratio is taken within a round before the median is taken. Before each
load the runner waits briefly for the other processes on the machine to go quiet, records what
they used anyway, and repeats a run once if they took more than a set amount of CPU during it.
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field

from playwright.sync_api import Error as PlaywrightError
from playwright.sync_api import Playwright

from .browser import LOAD_TIMEOUT_MS, BrowserHung, Load, MeasuredPage, Network, fresh_browser
from .machine import wait_for_quiet

#: A run is two loads (each with its own deadline) plus a few seconds of settling, events and
#: the hold; past this its browser is killed (bench/browser.py's Watchdog says why).
RUN_DEADLINE_S = 2 * LOAD_TIMEOUT_MS / 1000 + 30


@dataclass(frozen=True)
class Target:
    """A page to load: where it is, which performance mark says it is ready, which resolver;
    with `form`, it is opened by a form POST of those fields (as Bitrix24 opens the card)."""

    name: str
    url: str
    mark: str
    resolver_rules: str
    form: Mapping[str, str] | None = None


@dataclass(frozen=True)
class Settings:
    """Knobs of a run; each has an environment variable (see from_env)."""

    rounds: int = 5
    events: int = 200
    #: The cold page stays open this long after its last activity (ready, or the events fired
    #: into it) before the warm load: a card is open for a whole call, and this lets the HTTP
    #: cache and V8's wasm code cache be written. Counted from ready alone, the page that gets
    #: the events (about 4 s of them) had no quiet time at all before its warm load.
    hold_s: float = 3.0
    #: Wait up to this long before a load for other processes to go quiet.
    quiet_wait_s: float = 5.0
    #: Repeat a run (once) if other processes used more CPU seconds than this during its loads,
    #: at most `max_retries` times per benchmark (-1: as many as there are rounds), so a machine
    #: that stays busy cannot stretch the run past its time budget.
    noisy_cpu_s: float = 1.0
    max_retries: int = -1
    warm: bool = True

    @classmethod
    def from_env(cls, **overrides: object) -> Settings:
        env = os.environ
        values: dict[str, object] = {
            "rounds": int(env.get("BENCH_ROUNDS", cls.rounds)),
            "events": int(env.get("BENCH_EVENTS", cls.events)),
            "hold_s": float(env.get("BENCH_HOLD_S", cls.hold_s)),
            "quiet_wait_s": float(env.get("BENCH_QUIET_WAIT_S", cls.quiet_wait_s)),
            "noisy_cpu_s": float(env.get("BENCH_NOISY_CPU_S", cls.noisy_cpu_s)),
            "max_retries": int(env.get("BENCH_MAX_RETRIES", cls.max_retries)),
        }
        values.update(overrides)
        return cls(**values)  # type: ignore[arg-type]


@dataclass
class Run:
    """One page on one network in one fresh profile: its cold and (optionally) warm load."""

    target: str
    network: Network
    round: int
    cold: Load
    warm: Load | None
    events: list[float | None] = field(default_factory=list)
    retries: int = 0
    #: 1 when the first attempt's tab crashed (or its browser hung) and this is the second.
    crashes: int = 0

    @property
    def other_cpu_s(self) -> float:
        loads = [self.cold, self.warm] if self.warm else [self.cold]
        return sum(load.other_cpu_s or 0.0 for load in loads)


Progress = Callable[[str], None]


def run_rounds(
    playwright: Playwright,
    targets: Sequence[Target],
    networks: Sequence[Network],
    settings: Settings,
    *,
    events_for: tuple[str, str] | None = None,
    progress: Progress = print,
) -> list[Run]:
    """All rounds; `events_for` = (target name, network name) whose cold page gets the events."""
    runs: list[Run] = []
    retries_left = settings.rounds if settings.max_retries < 0 else settings.max_retries
    for round_no in range(settings.rounds):
        ordered_networks = list(networks) if round_no % 2 == 0 else list(reversed(networks))
        for index, network in enumerate(ordered_networks):
            flip = (round_no + index) % 2 == 1
            for target in reversed(targets) if flip else targets:
                with_events = events_for == (target.name, network.name)
                run = run_surviving_a_crash(playwright, target, network, round_no, settings,
                                            with_events=with_events, progress=progress)
                if run.other_cpu_s > settings.noisy_cpu_s and retries_left > 0:
                    retries_left -= 1
                    again = run_surviving_a_crash(playwright, target, network, round_no,
                                                  settings, with_events=with_events,
                                                  progress=progress)
                    crashes = run.crashes + again.crashes
                    run = min((run, again), key=lambda candidate: candidate.other_cpu_s)
                    run.retries, run.crashes = 1, crashes
                runs.append(run)
                progress(_describe(run))
    return runs


def tab_crashed(error: BaseException) -> bool:
    """Playwright's words for a renderer process that died under the page ("Page crashed",
    "Target crashed"), as opposed to a page that misbehaved or a timeout."""
    return isinstance(error, PlaywrightError) and "crashed" in str(error)


def run_surviving_a_crash(
    playwright: Playwright, target: Target, network: Network, round_no: int,
    settings: Settings, *, with_events: bool = False, progress: Progress = print,
) -> Run:
    """run_once, repeated once in a new Chromium when its tab crashed or it hung.

    Why: on this shared 2-core machine headless Chromium's renderer dies now and then (a few
    times in a thousand loads; the browser suite sees the same "Target crashed"), with no error
    from the page. A crash says nothing about the page being measured, yet without a second
    attempt it threw away every round already measured. A run whose browser stopped answering
    (killed at RUN_DEADLINE_S) is the same kind of accident. A second one in the same run is not
    chance: it ends the benchmark."""
    try:
        return run_once(playwright, target, network, round_no, settings, with_events=with_events)
    except BrowserHung as error:
        what = str(error)
    except PlaywrightError as error:
        if not tab_crashed(error):
            raise
        what = f"tab crashed ({error.message.splitlines()[0]})"
    progress(f"  round {round_no + 1} {network.name:8} {target.name:10} {what}; "
             "measuring this run again")
    run = run_once(playwright, target, network, round_no, settings, with_events=with_events)
    run.crashes = 1
    return run


def run_once(
    playwright: Playwright, target: Target, network: Network, round_no: int,
    settings: Settings, *, with_events: bool = False,
) -> Run:
    """Cold load (then events, then a quiet hold), warm load in a new tab; one fresh Chromium."""
    with fresh_browser(playwright, target.resolver_rules, deadline_s=RUN_DEADLINE_S) as context:
        wait_for_quiet(settings.quiet_wait_s)
        page = MeasuredPage(context, network)
        cold = page.load(target.url, target.mark, target.form)
        ready_at = time.monotonic()
        cold = page.settle(cold)
        events: list[float | None] = []
        if with_events and settings.events:
            events = page.fire_events(settings.events, ["connected", "idle", "connecting"])
            ready_at = time.monotonic()  # the hold is quiet time, after the last event
        remaining = settings.hold_s - (time.monotonic() - ready_at)
        if settings.warm and remaining > 0:
            page.page.wait_for_timeout(remaining * 1000)
        page.close()
        warm = None
        if settings.warm:
            wait_for_quiet(settings.quiet_wait_s)
            page = MeasuredPage(context, network)
            warm = page.settle(page.load(target.url, target.mark, target.form))
            page.close()
    for load in (cold, warm):
        if load is not None and (load.leaks or load.errors):
            raise RuntimeError(
                f"{target.name} on {network.name}: invalid load "
                f"(left loopback: {load.leaks}; page errors: {load.errors})"
            )
    return Run(target.name, network, round_no, cold, warm, events)


def _describe(run: Run) -> str:
    warm = f", warm {run.warm.ready_ms:6.0f} ms" if run.warm else ""
    events = ""
    if run.events:
        seen = sorted(v for v in run.events if v is not None)
        if seen:
            events = f", events p50 {seen[len(seen) // 2]:.1f} ms"
    retry = " (repeated: noisy)" if run.retries else ""
    if run.crashes:
        retry += " (repeated: the tab crashed or the browser hung)"
    return (
        f"  round {run.round + 1} {run.network.name:8} {run.target:10} "
        f"cold {run.cold.ready_ms:6.0f} ms"
        f"{warm}, {run.cold.bytes / 1e6:5.2f} MB{events}; others used {run.other_cpu_s:.1f} s CPU"
        f"{retry}"
    )
