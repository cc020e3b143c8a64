"""Small statistics for few, noisy samples: medians with their range, and percentiles.

Five rounds are too few for means and standard deviations to say anything on a shared machine;
a median with its min-max range says what was typical and how wide the noise was.
"""

from __future__ import annotations

import math
import statistics
from collections.abc import Iterable, Sequence
from dataclasses import dataclass


@dataclass(frozen=True)
class Spread:
    """Median of a sample with its range."""

    median: float
    low: float
    high: float
    n: int

    def show(self, fmt: str = "{:.0f}", unit: str = "") -> str:
        if self.n == 0 or math.isnan(self.median):
            return "–"
        middle = fmt.format(self.median) + unit
        if self.n == 1:
            return middle
        return f"{middle} ({fmt.format(self.low)}–{fmt.format(self.high)})"


def spread(values: Iterable[float | None]) -> Spread:
    """Median and range of the values that are not None (NaN when there are none)."""
    kept = [v for v in values if v is not None]
    if not kept:
        return Spread(math.nan, math.nan, math.nan, 0)
    return Spread(statistics.median(kept), min(kept), max(kept), len(kept))


def percentile(values: Sequence[float], p: float) -> float:
    """The p-th percentile (0-100) by the nearest-rank method: always an observed value."""
    if not values:
        return math.nan
    ordered = sorted(values)
    rank = max(1, math.ceil(p / 100 * len(ordered)))
    return ordered[rank - 1]


def ratios(numerators: Sequence[float | None], denominators: Sequence[float | None]) -> Spread:
    """Per-pair ratios (pairs from the same round), summarised: drift between rounds cancels."""
    pairs = [
        n / d for n, d in zip(numerators, denominators, strict=True)
        if n is not None and d not in (None, 0)
    ]
    return spread(pairs)
