"""Entry point of the call card page: wiring only (PyScript runs this with top-level await)."""

from bx24_bridge import default_bridge, log_to_console
from callcard.app import CallCardApp
from callcard.view import CardView

log_to_console()
await CallCardApp(bridge=default_bridge(), view=CardView.mount()).start()  # noqa: F704
