"""The browser's side of the ports: ``localStorage`` as a key-value store, the wall clock and the
operator's local time. The page's wiring (callcard/page.py) hands them to the notes' shell.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import js

if TYPE_CHECKING:  # imported where it is made: the notes (its only user) start after ready
    from datetime import datetime

__all__ = ["BrowserStorage", "local_now", "utc_offset_at", "wall_clock"]


class BrowserStorage:
    """``window.localStorage`` as a KeyValueStore; a sandboxed iframe may refuse it entirely."""

    def __init__(self) -> None:
        try:
            self._storage = js.window.localStorage
        except Exception:  # SecurityError: storage disabled for this frame
            self._storage = None

    def get(self, key: str) -> str | None:
        value = self._storage.getItem(key) if self._storage is not None else None
        return value if isinstance(value, str) else None

    def set(self, key: str, value: str) -> None:
        if self._storage is None:
            raise OSError("localStorage is not available")
        self._storage.setItem(key, value)

    def remove(self, key: str) -> None:
        if self._storage is not None:
            self._storage.removeItem(key)

    def keys(self) -> list[str]:
        if self._storage is None:
            return []
        return [str(self._storage.key(i)) for i in range(int(self._storage.length))]


def wall_clock() -> float:
    """Seconds since the epoch, for draft ages (they outlive the page)."""
    return float(js.Date.now()) / 1000.0


def utc_offset_at(when: datetime) -> int:
    """The operator's offset from UTC at the local time ``when``, in minutes (east positive),
    from the browser: the offset of that day, not today's, so a call-back set across a
    daylight-saving change is due at the hour on the operator's clock."""
    moment = js.Date.new(when.year, when.month - 1, when.day, when.hour, when.minute)
    return -int(moment.getTimezoneOffset())


def local_now(after: float = 0.0) -> datetime:
    """The operator's local date and time, to the minute, ``after`` seconds from now (Pyodide's
    own time zone is UTC, so the browser's clock is asked)."""
    from datetime import datetime

    now = js.Date.new(float(js.Date.now()) + after * 1000.0)
    return datetime(int(now.getFullYear()), int(now.getMonth()) + 1, int(now.getDate()),
                    int(now.getHours()), int(now.getMinutes()))
