"""Which Chromium the browser tests and the benchmark drive, and the flags they launch it with.

CHROMIUM_PATH wins; else Debian's package (/usr/bin/chromium); else None, and Playwright uses
its own build where one is installed.

LAUNCH_ARGS are added to Playwright's own switches:
- Without the background-networking flags Chromium keeps trying to reach Google's hosts, which
  this machine's network refuses.
- Headless Chromium (156) builds its address bar's drop-down, a WebUI page of some 400
  chrome:// modules, in a renderer of its own beside the first page of every window: ~1 s of a
  core while the card boots. On a 2-core machine that is a third process fighting the card's
  main thread and its WebAssembly compile (`make bench`, 6 rounds: the caller painted at
  ~250 ms instead of ~140 on a cold load; both pages' ready ~100 ms later). An operator's
  browser has built its address bar long before a call comes in, so the benchmark and the
  tests switch it off.
- Chromium honours only the *last* --disable-features on its command line, and Playwright passes
  one of its own first: ours must repeat Playwright's list or silently undo it.
  tests/browser/test_chromium_args.py checks against the switches Playwright really passes, so an
  upgrade that adds to its list fails there instead of changing the browser under the tests.
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

#: What Playwright (pyproject's pin) disables itself; ours are added to it (see the docstring).
PLAYWRIGHT_DISABLED_FEATURES = (
    "AvoidUnnecessaryBeforeUnloadCheckSync",
    "DestroyProfileOnBrowserClose",
    "HttpsUpgrades",
    "HttpsFirstBalancedModeAutoEnable",
    "LensOverlay",
    "MediaRouter",
    "PaintHolding",
    "ThirdPartyStoragePartitioning",
    "AvoidCorsURLLoaderRestartOnRedirect",
    "TcpPortRandomizationWin",
    "OptimizationHints",
    "NetworkTimeServiceQuerying",
    "AimEnabled",
    "PreconnectToSearch",
    "msForceBrowserSignIn",
    "msEdgeUpdateLaunchServicesPreferredVersion",
)
#: The address bar's WebUI drop-down, in each of its forms.
OMNIBOX_WEBUI_FEATURES = ("WebUIOmniboxPopup", "WebUIOmniboxAimPopup", "WebUIOmniboxFullPopup")

LAUNCH_ARGS = (
    *QUIET_NETWORK_ARGS,
    "--disable-features=" + ",".join((*PLAYWRIGHT_DISABLED_FEATURES, *OMNIBOX_WEBUI_FEATURES)),
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
