"""Lever measurements: the app against variants that undo, add or change one thing.

Each lever is an A/B of two builds of the app served side by side (A: as shipped, or with a
common base change; B: A plus the lever's change) through bench/variants.py and, for server-side
levers, an ASGI wrapper around the app that changes how it answers. Runs alternate like the
budget run. The effect is the median of per-round ratios B / A (min–max), so "1.25" means B is
25 % slower or bigger than A; first
paint is given as a difference in ms. The decisions are written by hand from these numbers;
`make bench BENCH_ARGS=levers` re-measures them into bench/levers.md, which results.md includes.
"""

from __future__ import annotations

import contextlib
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from typing import Any

from playwright.sync_api import Playwright, sync_playwright

from cardserver.asgi import ASGIApp

from .browser import EMULATED, LOOPBACK, MeasuredPage, Network, fresh_browser
from .hints import hint_tag, startup_urls
from .report import LEVERS_MD
from .run import Run, Settings, Target, run_rounds
from .servers import ROOT, all_servers, app_site
from .stats import Spread, ratios, spread
from .summary import Metric, fcp, ready, transferred
from .variants import (
    Edit,
    inline_json_config,
    instrumented_main,
    package_stdlib,
    variant_root,
    with_head_links,
)

A, B = "A", "B"


def _with_accept_encoding(value: str | None) -> Callable[[ASGIApp], ASGIApp]:
    """The app as if the browser accepted only ``value`` (None: no compression at all)."""
    def wrap(app: ASGIApp) -> ASGIApp:
        async def answer(scope: Any, receive: Any, send: Any) -> None:
            if scope["type"] == "http":
                headers = [(k, v) for k, v in scope["headers"] if k != b"accept-encoding"]
                if value is not None:
                    headers.append((b"accept-encoding", value.encode()))
                scope = {**scope, "headers": headers}
            await app(scope, receive, send)
        return answer
    return wrap


def revalidating_runtime(app: ASGIApp) -> ASGIApp:
    """The app with its immutable files marked no-cache: a warm load then asks about every
    file again (304s)."""
    async def answer(scope: Any, receive: Any, send: Any) -> None:
        async def send_revalidating(message: dict[str, Any]) -> None:
            if message["type"] == "http.response.start":
                message = {**message, "headers": [
                    (k, b"no-cache" if k == b"cache-control" and b"immutable" in v else v)
                    for k, v in message.get("headers", [])]}
            await send(message)
        await app(scope, receive, send_revalidating)
    return answer


@dataclass(frozen=True)
class Lever:
    """One lever: A (shipped, plus `base`) against B (A plus `edits` / `handler`)."""

    what: str
    a: str
    b: str
    decision: str
    base: tuple[Edit, ...] = ()
    edits: tuple[Edit, ...] = ()
    wrap: Callable[[ASGIApp], ASGIApp] | None = None
    warm: bool = False
    networks: tuple[Network, ...] = (LOOPBACK, EMULATED)
    paint: bool = False


def levers(hints: list[str], hints_with_wasm: list[str]) -> tuple[Lever, ...]:
    """The levers of issue 9; `hints` are derived from a real load (bench/hints.py)."""
    return (
        Lever(
            what="Bytecode for the standard library's start-up modules (`make stdlib`)",
            a="shipped (bytecode zip)", b="Pyodide's own python_stdlib.zip (source)",
            decision="kept: compiling ~145 standard modules from source inside WebAssembly "
            "was about half of every load, cold and warm",
            edits=(package_stdlib,), warm=True,
        ),
        Lever(
            what="Pre-compressed runtime files (Brotli, gzip for other clients)",
            a="shipped (Brotli)", b="no compression",
            decision="kept (cardserver, copies made at install)",
            wrap=_with_accept_encoding(None),
        ),
        Lever(
            what="Brotli rather than gzip",
            a="shipped (Brotli)", b="gzip -9 only",
            decision="kept: fewer bytes (the budget's 0.45 line needs it); decoding costs "
            "nothing measurable; copies are made at install (quality 9 on the big files)",
            wrap=_with_accept_encoding("gzip"),
        ),
        Lever(
            what="Immutable caching of the versioned runtime",
            a="shipped (immutable)", b="runtime revalidated (no-cache)",
            decision="kept (cardserver): without it a warm load asks about every runtime file "
            "again, 1.3x slower on the emulated network; on loopback within the noise",
            wrap=revalidating_runtime, warm=True,
        ),
        Lever(
            what="Config format: pyscript.toml (one fetch + PyScript's TOML parser chunk)",
            a="shipped (TOML)", b="same config inline as JSON",
            decision="TOML kept: no saving above the noise (the parser chunk is 1 KB and the "
            "config fetch overlaps other start-up work); the manifest test and docs name "
            "pyscript.toml",
            edits=(inline_json_config,),
        ),
        Lever(
            what=f"Start-up hints in index.html ({len(hints)} preload/modulepreload links: "
            "PyScript chunks, config, pyodide.mjs/asm.mjs, stdlib, lock file, app .py files; "
            "not the wasm)",
            a="shipped (no hints)", b="with the hints",
            decision="not kept: a small gain on the emulated network only, paid with a later "
            "first paint (over the 200 ms budget) and no gain on loopback; hashed names would "
            "also go stale with each upgrade",
            edits=(with_head_links(hints),), warm=True, paint=True,
        ),
        Lever(
            what="Preloading the wasm too (`as=fetch crossorigin`)",
            a="the hints above", b="the hints + pyodide.asm.wasm",
            decision="not kept: the preloaded wasm is reused (no double download) but warm "
            "loads lose V8's cached compiled code",
            base=(with_head_links(hints),),
            edits=(with_head_links([tag for tag in hints_with_wasm if tag not in hints]),),
            warm=True, networks=(LOOPBACK,),
        ),
    )


@dataclass
class LeverResult:
    lever: Lever
    runs: list[Run] = field(default_factory=list)
    #: Why the lever could not be measured (a crashed page, a variant that no longer applies).
    error: str | None = None

    def values(self, target: str, network: str, phase: str, metric: Metric) -> list[float | None]:
        by_round = {
            run.round: (run.cold if phase == "cold" else run.warm)
            for run in self.runs if run.target == target and run.network.name == network
        }
        return [
            metric(load) if (load := by_round.get(r)) is not None else None
            for r in sorted(by_round)
        ]

    def ratio(self, network: str, phase: str, metric: Metric = ready) -> Spread:
        return ratios(
            self.values(B, network, phase, metric), self.values(A, network, phase, metric)
        )

    def paint_difference(self, network: str) -> Spread:
        pairs = zip(self.values(B, network, "cold", fcp), self.values(A, network, "cold", fcp),
                    strict=True)
        return spread(b - a for b, a in pairs if a is not None and b is not None)

    def effect(self) -> str:
        if self.error is not None:
            return f"not measured: {self.error}"
        parts = []
        for network in self.lever.networks:
            for phase in ("cold", "warm") if self.lever.warm else ("cold",):
                found = self.ratio(network.name, phase).show("{:.2f}")
                parts.append(f"ready {phase} {network.name} {found}")
            if self.lever.paint:
                paint = self.paint_difference(network.name).show("{:+.0f}")
                parts.append(f"first paint {network.name} {paint} ms")
        size = self.ratio(self.lever.networks[0].name, "cold", transferred)
        if abs(size.median - 1) > 0.005:
            parts.append(f"bytes {size.median:.2f}")
        return "; ".join(parts)


def measure_lever(playwright: Playwright, lever: Lever, settings: Settings) -> LeverResult:
    with contextlib.ExitStack() as stack:
        root_a = stack.enter_context(variant_root(*lever.base))
        root_b = stack.enter_context(variant_root(*lever.base, *lever.edits))
        ends_a = stack.enter_context(all_servers(stack.enter_context(app_site(root_a))))
        site_b = stack.enter_context(app_site(root_b, lever.wrap))
        ends_b = stack.enter_context(all_servers(site_b))
        targets = (
            Target(A, ends_a.app, "callcard:ready", ends_a.resolver_rules),
            Target(B, ends_b.app, "callcard:ready", ends_b.resolver_rules),
        )
        runs = run_rounds(
            playwright, targets, lever.networks,
            replace(settings, warm=lever.warm, events=0), progress=lambda _line: None,
        )
    return LeverResult(lever, runs)


def probe_startup_urls(playwright: Playwright) -> tuple[list[str], list[str]]:
    """One cold load of the shipped app: the hint tags for its start-up requests (without and
    with the wasm)."""
    index_html = (ROOT / "index.html").read_text(encoding="utf-8")
    with all_servers() as endpoints, fresh_browser(playwright, endpoints.resolver_rules) as context:
        page = MeasuredPage(context, LOOPBACK)
        load = page.settle(page.load(endpoints.app, "callcard:ready"))
        page.close()
    tags = []
    for wasm in (False, True):
        urls = startup_urls(load, endpoints.app, index_html, wasm=wasm)
        tags.append([hint_tag(url, endpoints.app) for url in urls])
    return tags[0], tags[1]


@dataclass(frozen=True)
class PythonTime:
    """Where the app's own Python time goes before the first render (ms, medians)."""

    main_start: Spread
    imports: Spread
    start_to_ready: Spread
    ready: Spread


def measure_python_time(playwright: Playwright, settings: Settings) -> PythonTime:
    """Cold loopback loads of an instrumented main.py (marks around its imports)."""
    with (variant_root(instrumented_main) as root, app_site(root) as site,
          all_servers(site) as endpoints):
        target = Target("instrumented", endpoints.app, "callcard:ready", endpoints.resolver_rules)
        runs = run_rounds(
            playwright, (target,), (LOOPBACK,), replace(settings, warm=False, events=0),
            progress=lambda _line: None,
        )
    marks = [run.cold.marks for run in runs]
    return PythonTime(
        main_start=spread(m.get("bench:main-start") for m in marks),
        imports=spread(_between(m, "bench:main-start", "bench:imports-done") for m in marks),
        start_to_ready=spread(_between(m, "bench:imports-done", "callcard:ready") for m in marks),
        ready=spread(m.get("callcard:ready") for m in marks),
    )


def _between(marks: dict[str, float], first: str, last: str) -> float | None:
    if first in marks and last in marks:
        return marks[last] - marks[first]
    return None


def render_levers(results: Sequence[LeverResult], python: PythonTime, rounds: int) -> str:
    stamp = time.strftime("%Y-%m-%d %H:%M %Z")
    rows = [
        "## Levers",
        "",
        f"Measured by `make bench BENCH_ARGS=levers` on {stamp}, {rounds} rounds per lever, A and "
        "B alternated. Effect = B / A, median of per-round ratios (min–max): above 1 means B is "
        "slower or bigger. First paint: B − A in ms. Decisions are written from these numbers "
        "and the exploration noted in the report; on this shared 2-core machine effects under "
        "~10 % are within the noise of 3 rounds.",
        "",
        "| Lever | A | B | Effect (B / A) | Decision |",
        "|---|---|---|---|---|",
    ]
    for result in results:
        lever = result.lever
        rows.append(
            f"| {lever.what} | {lever.a} | {lever.b} | {result.effect()} | {lever.decision} |"
        )
    rows += [
        "| App Python before the first render (imports deferred past it) | shipped | "
        "instrumented main.py (marks only), loopback, cold | "
        f"main.py starts at {python.main_start.show()} ms; its imports take "
        f"{python.imports.show()} ms; from there to the first render "
        f"{python.start_to_ready.show()} ms; ready at {python.ready.show()} ms "
        "| bytecode kept (make bytecode): the app's modules and PyScript's package come as "
        "checked-hash .pyc in app-bundle.zip, one request instead of 18 (exploration A/B, 4 "
        "rounds: ready cold 2.6 -> 2.1 s, warm 1.5 -> 1.2 s; the bundle without bytecode saved "
        "nothing measurable). Imports not deferred: bx24_bridge.callcard and notes_shell are "
        "imported inside start(), still before the first render |",
        "| No package installs at start-up | — | — | no `packages` in pyscript.toml; no package "
        "requests in any load | kept (already) |",
        "| First render from the placement options | — | — | not A/B-measured: app code "
        "(callcard/), outside this change | kept (already) |",
        "",
    ]
    return "\n".join(rows) + "\n"


def levers_run(overrides: dict[str, object]) -> int:
    settings = Settings.from_env(**{"rounds": 3, **overrides})
    results: list[LeverResult] = []
    with sync_playwright() as playwright:
        hints, hints_with_wasm = probe_startup_urls(playwright)
        for lever in levers(hints, hints_with_wasm):
            print(f"Lever: {lever.what}\n  A: {lever.a}; B: {lever.b}", flush=True)
            try:
                results.append(measure_lever(playwright, lever, settings))
            except Exception as error:  # one broken lever must not lose the others' numbers
                first_line = (str(error).splitlines() or [""])[0]
                results.append(LeverResult(lever, error=f"{type(error).__name__}: {first_line}"))
            print(f"  effect: {results[-1].effect()}", flush=True)
        print("App Python time before the first render", flush=True)
        python = measure_python_time(playwright, settings)
    text = render_levers(results, python, settings.rounds)
    LEVERS_MD.write_text(text, encoding="utf-8")
    print()
    print(text)
    print(f"Written to {LEVERS_MD}; `make bench` includes it in bench/results.md.")
    return 0
