"""REST answers as data: the outcome of one call of a batch, and the error decoding of
``BX24.callMethod`` results (docs/host-contract.md#rest). Pure Python; the calls themselves are
made by bx24_bridge/rest_client.py.
"""

# Its checks of what it is given stay, whatever the annotations say: callers outside the checker's
# view (host data through JavaScript) can pass anything.
# pyright: reportUnnecessaryIsInstance=false
from __future__ import annotations

import re
from typing import Any

from .errors import RestError
from .values import Value
from .wire import MAX_CODE_LEN, as_array, as_object, wire_text

__all__ = ["RestOutcome", "join_pages", "rest_result", "result_ref"]

_REF_PART = re.compile(r"[A-Za-z0-9_.\-]+")
_REST_ERROR_TEXT = re.compile(r"([A-Za-z0-9_.\-]+)(?::\s*(.*?))?(?:\s*\(([0-9]{3})\))?", re.DOTALL)


class RestOutcome(Value):
    """One answer of a batch: either ``data`` or ``error``, so one failure spoils nothing else."""

    data: Any = None
    error: RestError | None = None

    def unwrap(self) -> Any:
        if self.error is not None:
            raise self.error
        return self.data


def _rest_error_parts(error: object) -> tuple[str, str]:
    """(code, description) of a ``result.error()`` value; ``("", "")`` when none can be read."""
    mapping = as_object(error)
    if mapping is not None:
        nested = as_object(mapping.get("ex"))
        if "error" not in mapping and nested is not None:
            mapping = nested
        return (
            wire_text(mapping.get("error"), MAX_CODE_LEN),
            wire_text(mapping.get("error_description")),
        )
    if isinstance(error, str):
        text = wire_text(error)
        match = _REST_ERROR_TEXT.fullmatch(text)
        if match is None:
            return "", text
        return match.group(1)[:MAX_CODE_LEN], (match.group(2) or "").strip()
    return wire_text(error, MAX_CODE_LEN), ""


def _is_error(error: object, code: str, description: str) -> bool:
    """Whether ``result.error()`` reported an error (falsy means success,
    docs/host-contract.md#library)."""
    mapping = as_object(error)
    if mapping is None and not isinstance(error, str):
        return bool(error)
    if code or description:
        return True
    if mapping is None:
        return False  # a blank string
    # {"error": ""} is an explicit "no error"; an object of unknown shape is an error.
    return bool(mapping) and "error" not in mapping and "ex" not in mapping


def rest_result(
    method: str,
    *,
    error: object,
    error_description: object = None,
    data: object = None,
) -> object:
    """``data`` of a ``BX24.callMethod`` result, or raise :class:`RestError`
    (docs/host-contract.md#library, #rest).

    ``error`` is what ``result.error()`` gave: falsy (None, ``""``, ``{}``, ``[]``...) means
    success. Otherwise it may be a code string (``"NOT_FOUND"``), the error object's text
    (``"ERROR_CORE: message (500)"``), or ``{"error": code, "error_description": text}``.
    ``error_description`` is ``result.error_description()`` and wins over a parsed description.
    """
    code, description = _rest_error_parts(error)
    if not _is_error(error, code, description):
        return data
    description = wire_text(error_description) or description
    raise RestError(method, code or "UNKNOWN_ERROR", description)


def join_pages(pages: list[Any]) -> Any:
    """The pages of a list method, joined into one answer: lists into one list, and
    ``crm.item.list``-style ``{"items": [...]}`` pages into one such object; anything else is
    left as it came (one page as itself, several as a list of pages)."""
    if all(isinstance(page, list) for page in pages):
        return [row for page in pages for row in page]
    objects = [as_object(page) for page in pages]
    if pages and all(page is not None and len(page) == 1 for page in objects):
        keys = {key for page in objects if page is not None for key in page}
        (key,) = keys if len(keys) == 1 else ("",)
        values = [page.get(key) for page in objects if page is not None]
        if key and all(isinstance(value, list) for value in values):
            return {key: [item for value in values for item in as_array(value)]}
    return pages[-1] if len(pages) == 1 else pages


def result_ref(key: str, *path: str | int) -> str:
    """A batch parameter that stands for part of an earlier call's answer in the same batch:
    ``result_ref("deal", "CONTACT_ID")`` is ``"$result[deal][CONTACT_ID]"``, which the portal
    replaces with that value before it runs the later call (its batch method resolves it, in
    the order the calls were given; docs/host-contract.md#rest).

    ``key`` and each step of ``path`` (a field name or a list index) may hold letters, digits,
    ``_``, ``-`` and ``.``: the portal's syntax has no escaping, so anything else is refused.
    """
    parts = (key, *path)
    for part in parts:
        text = str(part)
        if isinstance(part, bool) or not text or not _REF_PART.fullmatch(text):
            raise ValueError(f"not a batch reference step: {part!r}")
    return "$result" + "".join(f"[{part}]" for part in parts)
