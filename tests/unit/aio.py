"""Running asyncio scenarios from the unit tests.

``asyncio.run`` gets a thread of its own: a browser test run earlier in the same pytest worker
leaves Playwright's event loop running on the main thread, where a second loop cannot start.
"""

from __future__ import annotations

import asyncio
from collections.abc import Coroutine
from concurrent.futures import ThreadPoolExecutor
from typing import Any


def run(coroutine: Coroutine[Any, Any, None]) -> None:
    """``asyncio.run(coroutine)`` on a thread of its own."""
    with ThreadPoolExecutor(max_workers=1) as pool:
        pool.submit(asyncio.run, coroutine).result()


async def settle(turns: int = 10) -> None:
    """Let the tasks the scenario started run for a few turns of the loop."""
    for _ in range(turns):
        await asyncio.sleep(0)
