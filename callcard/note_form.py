"""What the notes form needs to be drawn: the outcome choices and the length of a note.

Pure Python, and small on purpose: the card's markup (callcard/markup.py) draws the form in the
first render, and everything about saving a note (callcard/comment.py, callcard/notes.py) is
loaded only after it, so the caller is on screen sooner.
"""

from __future__ import annotations

import enum
from typing import Final

__all__ = ["MAX_NOTE_LEN", "Outcome", "parse_outcome"]

MAX_NOTE_LEN: Final = 10_000
"""The operator's text is cut here in the comment; give the textarea this ``maxlength`` so
nothing is cut silently."""


class Outcome(enum.StrEnum):
    """How the call went, in one click (ui-contract ``call-outcome``): the value is the button's
    ``data-outcome`` and, after ``outcome.``, the i18n key of its words."""

    REACHED = "reached"
    NO_ANSWER = "no-answer"
    CALL_BACK = "call-back"
    WRONG_NUMBER = "wrong-number"


def parse_outcome(value: object) -> Outcome | None:
    """An outcome from a button's ``data-outcome`` or the draft store; None for anything else."""
    try:
        return Outcome(value) if isinstance(value, str) else None
    except ValueError:
        return None
