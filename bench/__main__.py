"""`python -m bench [budget|levers]`: the call card's performance benchmark.

budget (the default, what `make bench` runs): the app (opened by the portal's form POST) against
the bare baseline page on the same runtime and on a plain host, cold and warm, on loopback and on
an emulated network; prints the results table and the budget verdicts,
writes bench/results.md, exits 1 if a budget line fails.

levers: A/B runs of the app against variants that undo, add or change one lever (stdlib bytecode,
compression, Brotli, caching, config format, start-up hints, wasm preload) and a breakdown of
the app's own Python time;
writes bench/levers.md, which results.md includes.

Environment: BENCH_ROUNDS (default 5; levers default 3), BENCH_EVENTS (200), BENCH_HOLD_S (3),
BENCH_QUIET_WAIT_S (5), BENCH_NOISY_CPU_S (1.0), BENCH_MAX_RETRIES (-1: one per round),
CHROMIUM_PATH.
"""

from __future__ import annotations

import argparse
import sys
import time
from collections.abc import Sequence

from playwright.sync_api import sync_playwright

from .browser import EMULATED, LOOPBACK, chromium_path, opening_fields
from .budget import budget_lines
from .machine import chromium_version, machine_info
from .report import render, write_results
from .run import Settings, Target, run_rounds
from .servers import all_servers
from .summary import APP, BASELINE, SAME_RUNTIME, TARGETS, Summary

NETWORKS = (LOOPBACK, EMULATED)


def budget_run(settings: Settings) -> int:
    machine = machine_info(chromium_version(chromium_path()))
    print(f"Benchmark: {settings.rounds} rounds x 2 networks x ({', '.join(TARGETS)}), "
          "cold + warm")
    started = time.monotonic()
    with all_servers() as endpoints, sync_playwright() as playwright:
        rules = endpoints.resolver_rules
        form = opening_fields(playwright, rules, endpoints.library)
        targets = (
            Target(APP, endpoints.app, "callcard:ready", rules, form),
            Target(SAME_RUNTIME, endpoints.same_runtime, "baseline:ready", rules),
            Target(BASELINE, endpoints.baseline, "baseline:ready", rules),
        )
        runs = run_rounds(
            playwright, targets, NETWORKS, settings, events_for=(APP, LOOPBACK.name)
        )
    summary = Summary(runs, NETWORKS, settings.rounds)
    lines = budget_lines(summary)
    text = render(summary, lines, machine, settings)
    path = write_results(text)
    print()
    print(text)
    print(f"Written to {path} in {(time.monotonic() - started) / 60:.1f} min.")
    for line in lines:
        print(f"{line.verdict}  {line.label}: {line.show_value()} ({line.show_limit()})")
    return 0 if all(line.passed for line in lines) else 1


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__.split("\n")[0])
    parser.add_argument("mode", nargs="?", default="budget", choices=("budget", "levers"))
    parser.add_argument("--rounds", type=int, help="rounds per configuration (BENCH_ROUNDS)")
    args = parser.parse_args(argv)
    overrides: dict[str, object] = {}
    if args.rounds:
        overrides["rounds"] = args.rounds
    if args.mode == "levers":
        from .levers import levers_run

        return levers_run(overrides)
    return budget_run(Settings.from_env(**overrides))


if __name__ == "__main__":
    sys.exit(main())
