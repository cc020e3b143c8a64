"""Errors raised by the Bitrix24 bridge.

Every exception carries the facts an operator log needs as attributes and a one-line,
readable ``str(e)``. The host's behaviour behind each is in ``docs/host-contract.md``.

Hierarchy (the anchors are sections of ``docs/host-contract.md``)::

    BridgeError
    ├── BridgeUnavailable      BX24 is null / missing, or BX24.init never completed (#loading)
    ├── CommandTimeout         a placement command got no answer (the host drops unknown ones,
    │                          #library)
    ├── PlacementError         a placement command answered with an error array (#library)
    ├── RestError              BX24.callMethod reported an error (#rest)
    │   └── RestTimeout        BX24.callMethod never called back (HTTP 5xx / network, #rest)
    └── ParseError (+ValueError)  a host payload could not be understood
"""

from __future__ import annotations

from typing import Final

__all__ = [
    "NOT_FOUND_CODES",
    "NO_ACCESS_CODES",
    "BridgeError",
    "BridgeUnavailable",
    "CommandTimeout",
    "ParseError",
    "PlacementError",
    "RestError",
    "RestTimeout",
]


class BridgeError(Exception):
    """Base of every error the bridge raises; catch this to handle them all."""


class BridgeUnavailable(BridgeError):
    """The Bitrix24 JS library is not usable.

    Outside Bitrix24 the library sets ``window.BX24 = null`` (docs/host-contract.md#loading);
    inside it, ``BX24.init`` may never call back. Either way the app must say so plainly instead of
    hanging.
    """

    def __init__(self, reason: str) -> None:
        self.reason = reason
        super().__init__(f"Bitrix24 is not available: {reason}")


class CommandTimeout(BridgeError):
    """A placement command got no answer within ``timeout`` seconds.

    The host silently drops a command it does not know, or one sent from the wrong placement:
    its callback never runs (docs/host-contract.md#library). A timeout is the only way to notice.
    """

    def __init__(self, command: str, timeout: float) -> None:
        self.command = command
        self.timeout = timeout
        super().__init__(
            f"placement command {command!r}: the host never answered within {timeout:g} s "
            "(it silently drops commands it does not know or that belong to another placement)"
        )


class PlacementError(BridgeError):
    """A placement command answered with an error, e.g. ``"Call card is undefined"``
    (docs/host-contract.md#library)."""

    def __init__(self, command: str, code: str) -> None:
        self.command = command
        self.code = code
        super().__init__(f"placement command {command!r} failed: {code}")


class RestError(BridgeError):
    """A REST call (``BX24.callMethod``) answered with an error (docs/host-contract.md#rest).

    ``str(e)`` is ``"<method>: <code>: <description>"`` (just ``"<method>: <code>"`` when the
    host sent no description).
    """

    def __init__(self, method: str, code: str, description: str = "") -> None:
        self.method = method
        self.code = code
        self.description = description
        message = f"{method}: {code}: {description}" if description else f"{method}: {code}"
        super().__init__(message)


NOT_FOUND_CODES: Final = frozenset({"NOT_FOUND", "ERROR_NOT_FOUND", "404"})
"""REST error codes (upper case) that mean the item asked for does not exist."""
NO_ACCESS_CODES: Final = frozenset(
    {
        "ACCESS_DENIED",
        "ERROR_ACCESS_DENIED",
        "INSUFFICIENT_SCOPE",
        "INVALID_CREDENTIALS",
        "WRONG_AUTH_TYPE",
        "NO_AUTH_FOUND",
        "AUTHORIZATION_ERROR",
        "USER_ACCESS_ERROR",
        "ALLOWED_ONLY_INTRANET_USER",
        "401",
        "403",
    }
)
"""REST error codes (upper case) that mean the user or the app's scopes may not do this: the
portal writes some in lower case (``insufficient_scope``), so compare ``code.upper()``."""


class RestTimeout(RestError):
    """A REST call never called back within ``timeout`` seconds.

    It is a :class:`RestError` (code ``"TIMEOUT"``) on purpose: on an HTTP 5xx or a network
    error the JS library throws and never calls back (docs/host-contract.md#rest), so a timeout
    *is* how those REST failures show up. Code that handles "this REST call failed" then needs one
    ``except RestError`` and gets ``method``/``code``/``description`` either way; code that wants
    to retry only timeouts can still catch ``RestTimeout`` first.
    """

    CODE = "TIMEOUT"

    def __init__(self, method: str, timeout: float) -> None:
        self.timeout = timeout
        super().__init__(
            method,
            self.CODE,
            f"no answer within {timeout:g} s (HTTP 5xx or network error: "
            "the library never calls back)",
        )


class ParseError(BridgeError, ValueError):
    """A host payload could not be understood.

    ``what`` names the payload (e.g. ``"getStatus result"``), ``detail`` says what was wrong.
    It never embeds the raw payload: host data is untrusted and may be huge
    (docs/host-contract.md#untrusted-data).
    """

    def __init__(self, what: str, detail: str) -> None:
        self.what = what
        self.detail = detail
        super().__init__(f"cannot parse {what}: {detail}")
