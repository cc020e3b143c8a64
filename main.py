"""Entry point of the call card page: wiring only (PyScript runs this with top-level await)."""

from bx24_bridge import log_to_console
from callcard.page import run_card

log_to_console()
await run_card()  # noqa: F704
