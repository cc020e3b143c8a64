"""Why a call failed, in words: SIP final-response codes -> catalogue keys.

The host reports a failed call with ``failedCode``, a SIP code such as ``"486"``
(docs/host-contract.md#events). The operator sees a short reason with the code kept in brackets
("Busy (486)"), so support can still look the code up. Codes the table does not name get "Call
failed (code)".
"""

from __future__ import annotations

from typing import Final

from bx24_bridge.callcard_events import parse_failed_code

from .i18n import Translator

__all__ = ["failure_key", "failure_text"]

GENERIC_KEY: Final = "failure.generic"

# SIP codes (RFC 3261) plus the meanings Bitrix24 telephony gives a few of them in its
# CALL_FAILED_CODE table: 304 is a missed call, 423 a blocked direction.
_KEYS: Final = {
    "304": "failure.missed",
    "402": "failure.no_funds",
    "403": "failure.forbidden",
    "404": "failure.not_found",
    "410": "failure.not_found",
    "408": "failure.no_answer",
    "423": "failure.blocked",
    "480": "failure.unavailable",
    "484": "failure.incomplete",
    "486": "failure.busy",
    "600": "failure.busy",
    "487": "failure.cancelled",
    "503": "failure.line_down",
    "603": "failure.declined",
    "604": "failure.not_found",
}


def failure_key(code: str | None) -> str | None:
    """The catalogue key for a failed call's code, or None when there is no failure to show.

    Named codes get their own key; any other code from 400 to 699 (a SIP failure) gets
    :data:`GENERIC_KEY`. None, text that is not three ASCII digits, and codes outside the
    failure range (e.g. ``"200"``) give None.
    """
    if not isinstance(code, str):
        return None
    code = parse_failed_code(code)  # what a SIP code is, the bridge says (one definition)
    if code is None:
        return None
    key = _KEYS.get(code)
    if key is not None:
        return key
    return GENERIC_KEY if 400 <= int(code) <= 699 else None


def failure_text(code: str | None, t: Translator) -> str | None:
    """The words for a failed call, e.g. ``"Busy (486)"``, ``"Call failed (499)"``, or None."""
    key = failure_key(code)
    if key is None or code is None:
        return None
    return t.format(key, code=code.strip())
