"""Shared test settings: the project root is importable (bx24_bridge, callcard, cardserver)."""

import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))
