"""The markdown report: printed, and written to bench/results.md with the machine and date."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from .browser import Load
from .budget import WHY_IT_FAILS, Line
from .machine import MachineInfo
from .run import Settings
from .stats import Spread, spread
from .summary import (
    APP,
    BASELINE,
    PHASES,
    SAME_RUNTIME,
    TARGETS,
    Summary,
    caller,
    fcp,
    ready,
    transferred,
)

BENCH_DIR = Path(__file__).resolve().parent
RESULTS = BENCH_DIR / "results.md"
LEVERS_MD = BENCH_DIR / "levers.md"


def _mb(value: float) -> str:
    return f"{value / 1e6:.2f}"


def _spread_of(loads: Sequence[Load], attr: str) -> Spread:
    return spread(getattr(load, attr) for load in loads)


def _or_dash(found: Spread) -> str:
    return found.show() if found.n else "—"


def loads_table(summary: Summary) -> list[str]:
    rows = [
        "| Network | Load | Page | Ready, ms | Caller visible, ms | FCP, ms | Transferred, MB"
        " | Requests (from cache) | JS heap, MB | Wasm memory, MB | Others' CPU, s |",
        "|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    for network in summary.networks:
        for phase in PHASES:
            for target in TARGETS:
                loads = summary.loads(target, network.name, phase)
                if not loads:
                    continue
                requests = _spread_of(loads, "requests")
                cached = _spread_of(loads, "cached")
                heap = _spread_of(loads, "js_heap_bytes")
                wasm = _spread_of(loads, "wasm_bytes")
                cpu = _spread_of(loads, "other_cpu_s")
                rows.append(
                    f"| {network.describe()} | {phase} | {target} "
                    f"| {summary.spread(target, network.name, phase, ready).show()} "
                    f"| {_or_dash(summary.spread(target, network.name, phase, caller))} "
                    f"| {summary.spread(target, network.name, phase, fcp).show()} "
                    f"| {_mb(summary.spread(target, network.name, phase, transferred).median)} "
                    f"| {requests.median:.0f} ({cached.median:.0f}) "
                    f"| {heap.median / 1e6:.1f} | {wasm.median / 1e6:.1f} "
                    f"| {cpu.show('{:.1f}')} |"
                )
    return rows


def ratios_table(summary: Summary) -> list[str]:
    names = [network.name for network in summary.networks]
    rows = [
        "| Ratio (median of per-round ratios, min–max) | "
        + " | ".join(network.describe() for network in summary.networks) + " |",
        "|---|" + "---|" * len(names),
    ]
    specs = [
        ("Cold ready: app / same-runtime", (APP, "cold"), (SAME_RUNTIME, "cold"), ready),
        ("Warm ready: app / same-runtime", (APP, "warm"), (SAME_RUNTIME, "warm"), ready),
        ("Cold ready: app / plain baseline", (APP, "cold"), (BASELINE, "cold"), ready),
        ("Warm ready: app / plain baseline", (APP, "warm"), (BASELINE, "warm"), ready),
        ("Cold ready: same-runtime / plain baseline (what the runtime work wins)",
         (SAME_RUNTIME, "cold"), (BASELINE, "cold"), ready),
        ("Warm / cold ready: app", (APP, "warm"), (APP, "cold"), ready),
        ("Warm / cold ready: same-runtime (reference)", (SAME_RUNTIME, "warm"),
         (SAME_RUNTIME, "cold"), ready),
        ("Warm / cold ready: plain baseline (reference)", (BASELINE, "warm"), (BASELINE, "cold"),
         ready),
        ("Bytes, cold: app / plain baseline", (APP, "cold"), (BASELINE, "cold"), transferred),
        ("First contentful paint, cold: app / plain baseline", (APP, "cold"), (BASELINE, "cold"),
         fcp),
    ]
    for label, (top_target, top_phase), (bottom_target, bottom_phase), metric in specs:
        cells = [
            summary.ratio(
                (top_target, name, top_phase), (bottom_target, name, bottom_phase), metric
            ).show("{:.2f}")
            for name in names
        ]
        rows.append(f"| {label} | " + " | ".join(cells) + " |")
    return rows


def budget_table(lines: Sequence[Line]) -> list[str]:
    rows = ["| Budget line | Measured | Limit | Verdict | Notes |", "|---|---|---|---|---|"]
    for line in lines:
        rows.append(
            f"| {line.label} | {line.show_value()} | {line.show_limit()} | **{line.verdict}** "
            f"| {line.detail} |"
        )
    failing = [line for line in lines if not line.passed and line.label in WHY_IT_FAILS]
    if failing:
        rows += ["", "Why the failing lines fail (as far as the measurements show):", ""]
        rows += [f"- {line.label}: {WHY_IT_FAILS[line.label]}" for line in failing]
    return rows


def checks(summary: Summary) -> list[str]:
    every = [load for run in summary.runs for load in (run.cold, run.warm) if load is not None]
    duplicates = sorted({url for load in every for url in load.duplicates})
    warnings = sorted({text for load in every for text in load.preload_warnings})
    lines = [
        f"- Requests beyond loopback: none (checked on every load; Chromium resolves no other "
        f"name). Page errors: none. Runs repeated because others were busy: "
        f"{summary.retries()}; because the tab crashed or the browser hung (the renderer died, or "
        f"a run outlived its deadline; measured again in a new Chromium): {summary.crashes()}.",
        "- URLs downloaded twice within one load (from the server, not the browser's cache: a "
        "preload or prefetch not reused would show here): "
        + (", ".join(duplicates) if duplicates else "none") + ".",
        "- Console warnings about preloads (unused / credentials mismatch): "
        + ("; ".join(warnings) if warnings else "none") + ".",
    ]
    return lines


def render(
    summary: Summary, lines: Sequence[Line], machine: MachineInfo, settings: Settings,
    extra_checks: Sequence[str] = (),
) -> str:
    events = summary.events()
    verdict = "all lines PASS" if all(line.passed for line in lines) else "some lines FAIL"
    out = [
        "# Call card benchmark: time to ready, payload, event latency",
        "",
        "Written by `make bench` (bench/__main__.py); do not edit by hand.",
        "",
        *machine.lines(),
        f"- Rounds: {settings.rounds} per configuration, the pages' order alternated "
        f"(A B C / C B A); {settings.events} events; cold page held {settings.hold_s:g} s (quiet, "
        "after ready and any events) before the warm load.",
        "",
        f"## Budget: {verdict}",
        "",
        *budget_table(lines),
        "",
        "## Loads (median, min–max)",
        "",
        *loads_table(summary),
        "",
        "## Ratios",
        "",
        *ratios_table(summary),
        "",
        "## Event -> DOM latency",
        "",
    ]
    if events is None:
        out.append("Not measured.")
    else:
        out += [
            f"{events.count} `CallCard::CallStateChanged` events (connected, idle, connecting...) "
            "fired through `window.bx24Host.setState`, timed from the call to the "
            "MutationObserver that sees the new `call-state` text, on the cold loopback page "
            "of each round.",
            "",
            "| p50 | p95 | max | lost | p95 per round |",
            "|---|---|---|---|---|",
            f"| {events.p50:.1f} ms | {events.p95:.1f} ms | {events.worst:.1f} ms | {events.lost} "
            f"| {events.round_p95.show('{:.1f}', ' ms')} |",
        ]
    out += ["", "## Checks", "", *checks(summary), *extra_checks, ""]
    out += levers_section()
    out += method_notes()
    return "\n".join(out) + "\n"


def levers_section() -> list[str]:
    if not LEVERS_MD.exists():
        return ["## Levers", "", "Not measured yet: run `make bench BENCH_ARGS=levers`.", ""]
    return [LEVERS_MD.read_text(encoding="utf-8").rstrip(), ""]


def method_notes() -> list[str]:
    return [
        "## How it is measured",
        "",
        "- Ready: `performance.mark('callcard:ready')` (Python has taken the card over: its "
        "first render of the call is on screen) and `baseline:ready` (the hello text is on "
        "screen), in ms from navigation start.",
        "- Caller visible: Element Timing (`elementtiming=\"caller\"` on the caller's number), "
        "navigation start to the number's first paint. The app is opened as Bitrix24 opens it, "
        "by a form POST carrying the call (the fake's own opening form, bx24-fake.js "
        "openingFields), so the server paints the caller before Python has booted.",
        "- Plain baseline: bench/baseline/ (a bare PyScript page, one inline `import js` script, "
        "TOML config) on node_modules' runtime files byte for byte, served by Python's stock "
        "`SimpleHTTPRequestHandler`: no compression, no Cache-Control (the browser caches by the "
        "Last-Modified heuristic); HTTP/1.1 keep-alive with TCP_NODELAY and correct MIME types, "
        "as any real static host has.",
        "- Same-runtime baseline: the same page pointed at the files the app publishes (PyScript's "
        "core.js, the interpreter module the app's pyscript.toml names, hence the compiled "
        "standard library and the interpreter snapshot on warm loads), served by the app's own "
        "server at /bench/same-runtime/. App / same-runtime is what the app itself adds.",
        "- App: the publish folder `make dist` builds, served by `cardserver` (Starlette, "
        "ServeStatic, uvicorn) as `make run` serves it. The BX24 library is the fake "
        "(simulator/bx24-fake.js, default config) served as http://api.bitrix24.com/api/v1/ by a "
        "local server that `--host-resolver-rules` puts in place; every other name resolves to "
        "nothing. No request interception, so the HTTP cache works as in production. The fake "
        "library is sent no-cache + ETag (the real one's caching is not ours to know), like the "
        "app's pages (no-cache + ETag, so a deploy shows at once): a warm load revalidates them "
        "(304s); every other file is content-addressed or versioned and comes from the cache "
        "without a request.",
        "- Cold: first load in a Chromium on an empty temporary profile "
        "(`launch_persistent_context`). Warm: the same page again in a new tab of that profile "
        "after the cold page was open and quiet for the hold time (HTTP cache and V8's wasm code "
        "cache written; V8 writes its cache of compiled JavaScript during the warm load and uses "
        "it from the third load on).",
        "- Emulated network: CDP `Network.emulateNetworkConditions`, 40 ms latency, 50 Mbit/s "
        "both ways, set on the page before it navigates.",
        "- Transferred: CDP `encodedDataLength` of every request of the page (headers included). "
        "JS heap: CDP `Performance.getMetrics` JSHeapUsedSize once the network is quiet after "
        "ready. Wasm memory: the byte length of the WebAssembly memories the page instantiated.",
        "- Others' CPU: CPU seconds used during the load by processes outside the benchmark's own "
        "tree (/proc; hypervisor steal time counts as others'). A run where they took more than "
        "the threshold is repeated once (at most once per round overall) and the quieter attempt "
        "kept.",
        "- Event latency is measured on the cold loopback page after the network went quiet; "
        "events are spaced 8–20 ms apart, never queued.",
        "",
    ]


def write_results(text: str) -> Path:
    RESULTS.write_text(text, encoding="utf-8")
    return RESULTS
