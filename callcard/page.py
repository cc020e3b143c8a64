"""The card page's wiring: the browser's bridge, CALL_CARD facade, view and notes, joined to the
controller (callcard/app.py). main.py runs :func:`run_card`; the browser tests' harness page runs
the same function, so what they test is what the page does.
"""

from __future__ import annotations

import time

from bx24_bridge import CallCard, default_bridge
from bx24_bridge.payloads import CallStatus

from .app import CallCardApp
from .i18n import Translator
from .ports import CardNotes, Spawn
from .view import CardView

__all__ = ["run_card"]


async def run_card() -> None:
    """Start the card in the page's ``<main id="card">``; never raises."""
    bridge = default_bridge()
    card = CallCard(bridge)
    view = CardView.mount()

    def notes(status: CallStatus, t: Translator, spawn: Spawn) -> CardNotes:
        from .notes_shell import NotesShell  # the card's largest import: made after ready

        return NotesShell(bridge=bridge, card=card, view=view, status=status, t=t,
                          portal=bridge.domain(), clock=time.monotonic, spawn=spawn)

    await CallCardApp(bridge=bridge, card=card, view=view, notes=notes).start()
