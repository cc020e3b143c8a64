"""What the card shows, as plain strings: the pure step between a CallStatus and the DOM."""

from __future__ import annotations

from dataclasses import dataclass

from bx24_bridge.payloads import CallState, CallStatus

from .i18n import Translator


@dataclass(frozen=True, slots=True)
class CardText:
    """The card's visible text, one field per ui-contract hook."""

    caller_number: str
    call_direction: str
    call_state: str
    line: str


def caller_text(status: CallStatus, t: Translator) -> str:
    if status.phone.kind == "hidden":
        return t("number.hidden")
    if status.phone.kind == "unknown" or not status.phone.value:
        return t("number.unknown")
    return status.phone.value


def state_text(state: CallState | None, t: Translator) -> str:
    return t(f"state.{state.value}") if state is not None else t("state.unknown")


def present(status: CallStatus, t: Translator) -> CardText:
    """Turn a call status into the words of the card (never a raw host value)."""
    return CardText(
        caller_number=caller_text(status, t),
        call_direction=t(f"direction.{status.direction.value}"),
        call_state=state_text(status.state, t),
        line=status.line_name or status.line_number or t("line.none"),
    )
