"""Python's ``logging`` to the browser's console, and never onto the page.

Why: without a handler of its own, a warning goes through logging's last-resort handler to
``sys.stderr``, which PyScript writes into the page as a red box: an operator would read program
internals in the middle of a call card. Here each record becomes one ``console.*`` call at its
level, where developers look for it. (The page's ``pyscript.toml`` also switches off PyScript's
error plugin, which would otherwise copy stderr onto the page.)
"""

from __future__ import annotations

import logging
from typing import Final

import js

__all__ = ["ConsoleHandler", "log_to_console"]

_METHODS: Final = (
    (logging.ERROR, "error"),
    (logging.WARNING, "warn"),
    (logging.INFO, "info"),
)


class ConsoleHandler(logging.Handler):
    """Writes each record with ``console.error`` / ``warn`` / ``info`` / ``debug``."""

    def emit(self, record: logging.LogRecord) -> None:
        try:
            text = self.format(record)
            method = next((name for level, name in _METHODS if record.levelno >= level), "debug")
            getattr(js.console, method)(text)
        except Exception:  # logging must never break the app
            self.handleError(record)


def log_to_console(level: int = logging.INFO) -> None:
    """Send the page's logging to the console (once, however often it is called)."""
    root = logging.getLogger()
    if not any(isinstance(handler, ConsoleHandler) for handler in root.handlers):
        handler = ConsoleHandler()
        handler.setFormatter(logging.Formatter("%(name)s: %(message)s"))
        root.addHandler(handler)
    root.setLevel(level)
