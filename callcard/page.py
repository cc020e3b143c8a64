"""The card page's wiring: the browser's bridge, CALL_CARD facade, view and notes, joined to the
controller (callcard/app.py). main.py runs :func:`run_card`; the browser tests' harness page runs
the same function, so what they test is what the page does.
"""

from __future__ import annotations

import time
from typing import TYPE_CHECKING

from bx24_bridge import CallCard, default_bridge
from bx24_bridge.payloads import CallStatus

from .app import CallCardApp
from .browser_ports import BrowserStorage, local_now, utc_offset_at, wall_clock
from .i18n import Translator
from .view import CardView

if TYPE_CHECKING:  # types only: the ports module is the notes' (it loads after the first render)
    from .ports import CardNotes, Spawn

__all__ = ["run_card"]


async def run_card() -> None:
    """Start the card in the page's ``<main id="card">``; never raises."""
    bridge = default_bridge()
    card = CallCard(bridge)
    view = CardView.mount()

    def notes(status: CallStatus, t: Translator, spawn: Spawn) -> CardNotes:
        from .notes_shell import NotesShell  # the card's largest import: made after ready

        return NotesShell(rest=bridge, card=card, view=view, status=status, t=t,
                          portal=bridge.domain(), storage=BrowserStorage(), clock=time.monotonic,
                          wall_clock=wall_clock, local_now=local_now, spawn=spawn,
                          utc_offset_at=utc_offset_at)

    await CallCardApp(bridge=bridge, card=card, view=view, notes=notes).start()
