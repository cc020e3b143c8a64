"""From the runs of one benchmark to the figures the report and the budget use.

Every ratio is computed within a round (app and baseline loaded back to back, on the same
network) and then summarised by its median, so a machine that slowed down between rounds
does not show up as a slower app.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

from .browser import Load, Network
from .run import Run
from .stats import Spread, percentile, ratios, spread

APP = "app"
#: A bare PyScript page on node_modules' runtime, byte for byte, on a plain static host: what
#: PyScript costs before anyone tunes it (what the serving and bytecode lines are measured on).
BASELINE = "baseline"
#: The same bare page on the files the app serves, from the app's own server (the compiled
#: standard library, the boot module, Brotli, caching): the ratio to it is what the app adds.
SAME_RUNTIME = "same-runtime"
TARGETS = (APP, SAME_RUNTIME, BASELINE)
PHASES = ("cold", "warm")

Metric = Callable[[Load], float | None]


def ready(load: Load) -> float | None:
    return load.ready_ms


def fcp(load: Load) -> float | None:
    return load.fcp_ms


def caller(load: Load) -> float | None:
    """Navigation start to the caller's number painted (Element Timing)."""
    return load.caller_ms


def caller_share(load: Load) -> float | None:
    """Caller visible as a share of the same load's time to ready."""
    if load.caller_ms is None or not load.ready_ms:
        return None
    return load.caller_ms / load.ready_ms


def transferred(load: Load) -> float | None:
    return float(load.bytes)


@dataclass(frozen=True)
class EventStats:
    count: int
    lost: int
    p50: float
    p95: float
    worst: float
    round_p95: Spread


@dataclass
class Summary:
    runs: Sequence[Run]
    networks: Sequence[Network]
    rounds: int

    def load(self, target: str, network: str, phase: str, round_no: int) -> Load | None:
        for run in self.runs:
            if (run.target, run.network.name, run.round) == (target, network, round_no):
                return run.cold if phase == "cold" else run.warm
        return None

    def per_round(
        self, target: str, network: str, phase: str, metric: Metric
    ) -> list[float | None]:
        """One value per round (None where the load is missing), in round order."""
        values: list[float | None] = []
        for round_no in range(self.rounds):
            load = self.load(target, network, phase, round_no)
            values.append(metric(load) if load is not None else None)
        return values

    def spread(self, target: str, network: str, phase: str, metric: Metric) -> Spread:
        return spread(self.per_round(target, network, phase, metric))

    def loads(self, target: str, network: str, phase: str) -> list[Load]:
        found = (self.load(target, network, phase, r) for r in range(self.rounds))
        return [load for load in found if load is not None]

    def ratio(
        self, top: tuple[str, str, str], bottom: tuple[str, str, str], metric: Metric = ready
    ) -> Spread:
        """Median (and range) of per-round ratios; each side is (target, network, phase)."""
        return ratios(self.per_round(*top, metric), self.per_round(*bottom, metric))

    def events(self) -> EventStats | None:
        with_events = [run for run in self.runs if run.events]
        if not with_events:
            return None
        pooled = [v for run in with_events for v in run.events if v is not None]
        lost = sum(1 for run in with_events for v in run.events if v is None)
        per_round = [
            percentile([v for v in run.events if v is not None], 95) for run in with_events
        ]
        return EventStats(
            count=len(pooled) + lost,
            lost=lost,
            p50=percentile(pooled, 50),
            p95=percentile(pooled, 95),
            worst=max(pooled) if pooled else float("nan"),
            round_p95=spread(per_round),
        )

    def retries(self) -> int:
        return sum(run.retries for run in self.runs)

    def crashes(self) -> int:
        return sum(run.crashes for run in self.runs)
