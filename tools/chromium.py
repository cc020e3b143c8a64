"""Which Chromium the browser tests and the benchmark drive, and the flags a closed network needs.

CHROMIUM_PATH wins; else Debian's package (/usr/bin/chromium); else None, and Playwright uses
its own build where one is installed. Without the background-networking flags Chromium keeps
trying to reach Google's hosts, which this machine's network refuses.
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path

QUIET_NETWORK_ARGS = (
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--disable-quic",
)


def chromium_path() -> str | None:
    """The Chromium executable to launch, or None for Playwright's default."""
    configured = os.environ.get("CHROMIUM_PATH")
    if configured:
        return configured
    for candidate in ("/usr/bin/chromium", shutil.which("chromium") or ""):
        if candidate and Path(candidate).exists():
            return candidate
    return None
