"""Shared test settings: the project root is importable (bx24_bridge, callcard, cardserver), and
Hypothesis judges inputs, never the machine's speed.

The suite runs its unit tests beside Chromium booting Pyodide on two cores: an example that takes
300 ms, or a strategy that draws slowly, says that the machine was busy, not that the code is
wrong. Hypothesis's timing checks (a 200 ms deadline per example, the too-slow health check) are
therefore off; every property keeps its examples and its shrinking.
"""

import sys
from pathlib import Path

from hypothesis import HealthCheck, settings

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

settings.register_profile(
    "callcard", deadline=None, suppress_health_check=[HealthCheck.too_slow]
)
settings.load_profile("callcard")
