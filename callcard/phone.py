"""Phone numbers as people read them: ``+79001234567`` -> ``+7 900 123-45-67``.

Pure stdlib: the ``phonenumbers`` library is not in Pyodide and would be heavy to ship, so this
is a small table of country calling codes (found by longest prefix; E.164 codes are prefix-free)
with a grouping template for the countries whose national format is well known, and a generic
rule for the rest. It is for display only: it never raises, never drops or reorders a digit,
and leaves anything that is not a plain number (letters, SIP URIs, junk) as it came.
"""

# Its checks of what it is given stay, whatever the annotations say: callers outside the checker's
# view (host data through JavaScript) can pass anything.
# pyright: reportUnnecessaryIsInstance=false
from __future__ import annotations

import re
from typing import Final

from bx24_bridge.phone_numbers import CallerNumber

__all__ = ["caller_digits", "format_number"]


def caller_digits(number: CallerNumber | None) -> str:
    """The ASCII digits of a caller's number (``""`` when it is hidden or unknown): the host
    writes one number as ``+7900…`` in one place and ``7900…`` in another, so whether two
    numbers are one caller's is a question about their digits."""
    if number is None or number.kind != "number" or not number.value:
        return ""
    return "".join(char for char in number.value if char in "0123456789")

# ITU-T E.164 country calling codes. Not every code on Earth, but every region Bitrix24 users
# call: CIS, Europe, the Americas, the Middle East, Asia, Africa's larger markets.
_COUNTRY_CODES_TEXT: Final = """
    1 7 20 211 212 213 216 218 220 221 222 223 224 225 226 227 228 229 230 231 232 233 234 235
    236 237 238 239 240 241 242 243 244 245 248 249 250 251 252 253 254 255 256 257 258 260 261
    262 263 264 265 266 267 268 269 27 290 291 297 298 299 30 31 32 33 34 350 351 352 353 354
    355 356 357 358 359 36 370 371 372 373 374 375 376 377 378 379 380 381 382 383 385 386 387
    389 39 40 41 420 421 423 43 44 45 46 47 48 49 500 501 502 503 504 505 506 507 509 51 52 53
    54 55 56 57 58 591 592 593 595 597 598 599 60 61 62 63 64 65 66 670 673 675 676 677 678 679
    680 685 686 687 689 691 692 81 82 84 850 852 853 855 856 86 880 886 90 91 92 93 94 95 960
    961 962 963 964 965 966 967 968 970 971 972 973 974 975 976 977 98 992 993 994 995 996 998
"""
_COUNTRY_CODES: Final = frozenset(_COUNTRY_CODES_TEXT.split())
_LONGEST_CODE: Final = max(map(len, _COUNTRY_CODES))

# Grouping per country code, for the national (significant) number after the code: a list of
# (leading digits, template). The first rule whose leading digits match ("?" = any digit, ""
# = any number) and whose template fits the length wins. In a template each "X" takes one
# digit, and a final "*" takes all the remaining digits (for variable-length plans); the other
# characters are the separators. No rule fits -> the generic grouping.
_Rule = tuple[tuple[str, ...], str]
_ANY: Final = ("",)
_RULES: Final[dict[str, tuple[_Rule, ...]]] = {
    "1": ((_ANY, "XXX XXX-XXXX"),),  # NANP: +1 415 555-0132
    "7": ((_ANY, "XXX XXX-XX-XX"),),  # Russia, Kazakhstan: +7 900 123-45-67
    "30": ((_ANY, "XXX XXX XXXX"),),
    "31": ((("6",), "X XXXX XXXX"), (_ANY, "XX XXX XXXX")),
    "32": ((("4",), "XXX XX XX XX"), (_ANY, "X XXX XX XX")),
    "33": ((_ANY, "X XX XX XX XX"),),  # France: +33 1 23 45 67 89
    "34": ((_ANY, "XXX XXX XXX"),),
    "36": ((_ANY, "XX XXX XXXX"),),
    "351": ((_ANY, "XXX XXX XXX"),),
    "370": ((_ANY, "XXX XXXXX"),),
    "371": ((_ANY, "XXXX XXXX"),),
    "372": ((_ANY, "XXXX XXXX"), (_ANY, "XXX XXXX")),
    "373": ((_ANY, "XX XXX XXX"),),
    "374": ((_ANY, "XX XXXXXX"),),
    "375": ((_ANY, "XX XXX-XX-XX"),),  # Belarus: +375 29 123-45-67
    "380": ((_ANY, "XX XXX XXXX"),),  # Ukraine: +380 44 123 4567
    "39": ((("3",), "XXX XXX XXXX"), (("02", "06"), "XX XXXX XXXX")),
    "40": ((_ANY, "XXX XXX XXX"),),
    "41": ((_ANY, "XX XXX XX XX"),),
    "420": ((_ANY, "XXX XXX XXX"),),
    "421": ((_ANY, "XXX XXX XXX"),),
    "43": ((("6",), "XXX *"),),
    # UK: London and other 2x areas 2+4+4, mobiles 7xxx 4+6, cities 11x/1x1 3+3+4, other
    # geographic 1xxx 4+6, non-geographic 3xx/8xx/9xx 3+3+4: +44 20 7946 0958.
    "44": (
        (("2",), "XX XXXX XXXX"),
        (("7",), "XXXX XXXXXX"),
        (("11", "1?1", "3", "8", "9"), "XXX XXX XXXX"),
        (("1",), "XXXX XXXXXX"),
    ),
    "45": ((_ANY, "XX XX XX XX"),),
    "46": ((("7",), "XX XXX XX XX"), (("8",), "X XXX XXX XX")),
    "47": ((_ANY, "XXX XX XXX"),),
    "48": ((_ANY, "XXX XXX XXX"),),
    # Germany: numbers have no fixed length; the area code is kept apart from the rest. Big
    # cities have two digits, mobiles three, most "??1" areas three, the others four.
    "49": (
        (("30", "40", "69", "89"), "XX *"),
        (("15", "16", "17", "??1"), "XXX *"),
        (_ANY, "XXXX *"),
    ),
    "52": ((_ANY, "XX XXXX XXXX"),),
    "55": ((_ANY, "XX XXXXX-XXXX"), (_ANY, "XX XXXX-XXXX")),
    "61": ((("4",), "XXX XXX XXX"), (_ANY, "X XXXX XXXX")),
    "65": ((_ANY, "XXXX XXXX"),),
    "66": ((_ANY, "XX XXX XXXX"),),
    "81": ((("70", "80", "90"), "XX XXXX XXXX"),),
    "82": ((("10",), "XX XXXX XXXX"),),
    "86": ((("1",), "XXX XXXX XXXX"),),
    "90": ((_ANY, "XXX XXX XX XX"),),
    "91": ((_ANY, "XXXXX XXXXX"),),
    "971": ((_ANY, "XX XXX XXXX"),),
    "972": ((_ANY, "XX XXX XXXX"),),
    "992": ((_ANY, "XX XXX XXXX"),),
    "993": ((_ANY, "XX XXXXXX"),),
    "994": ((_ANY, "XX XXX XX XX"),),
    "995": ((_ANY, "XXX XX XX XX"),),
    "996": ((_ANY, "XXX XXX XXX"),),
    "998": ((_ANY, "XX XXX XX XX"),),
}

_MAX_E164_DIGITS: Final = 15
_MAX_EXTENSION_DIGITS: Final = 6
# Separators people type between digit groups; they are dropped and the groups redone.
_SEPARATORS: Final = re.compile(r"[ \t\u00a0().\-]")
_PLAIN_NUMBER: Final = re.compile(r"\+?[0-9]+")


def _prefix_matches(digits: str, prefix: str) -> bool:
    if len(digits) < len(prefix):
        return False
    return all(want in ("?", have) for want, have in zip(prefix, digits, strict=False))


def _fill(template: str, digits: str) -> str | None:
    """``digits`` poured into ``template``, or None when the lengths do not fit."""
    slots = template.count("X")
    open_ended = template.endswith("*")
    if len(digits) < slots + open_ended or (not open_ended and len(digits) != slots):
        return None
    out: list[str] = []
    rest = iter(digits)
    for char in template:
        if char == "X":
            out.append(next(rest))
        elif char == "*":
            out.extend(rest)
        else:
            out.append(char)
    return "".join(out)


def _generic(digits: str) -> str:
    """Groups of three, the last group four (the shortest group comes first): ``12 345 6789``."""
    if len(digits) <= 4:
        return digits
    head, tail = digits[:-4], digits[-4:]
    first = len(head) % 3 or 3
    groups = [head[:first]] + [head[i : i + 3] for i in range(first, len(head), 3)]
    return " ".join([*groups, tail])


def _national(code: str, digits: str) -> str:
    for prefixes, template in _RULES.get(code, ()):
        if any(_prefix_matches(digits, prefix) for prefix in prefixes):
            filled = _fill(template, digits)
            if filled is not None:
                return filled
    return _generic(digits)


def _country_code(digits: str) -> str | None:
    for size in range(min(_LONGEST_CODE, len(digits)), 0, -1):
        if digits[:size] in _COUNTRY_CODES:
            return digits[:size]
    return None


def _international(digits: str) -> str:
    code = _country_code(digits) if len(digits) <= _MAX_E164_DIGITS else None
    if code is None:
        return "+" + _generic(digits)
    rest = digits[len(code) :]
    return f"+{code} {_national(code, rest)}" if rest else f"+{code}"


def _domestic(digits: str) -> str:
    if len(digits) <= _MAX_EXTENSION_DIGITS:
        return digits  # an internal extension: "101"
    if len(digits) == 11 and digits[0] in "78":
        # Russian number dialled with its trunk prefix kept: 8 900 123-45-67.
        return f"{digits[0]} {_national('7', digits[1:])}"
    return _generic(digits)


def format_number(number: str) -> str:
    """A phone number in readable international form, for display only.

    ``+`` numbers are grouped per country (``+44 20 7946 0958``); bare digits are Russian when
    they are 11 digits starting with 7 or 8, kept as-is when they look like an extension (six
    digits or fewer), else grouped generically. Spaces, dots, dashes and brackets between digits
    are regrouped; anything else (letters, ``*``, ``#``, SIP addresses) comes back stripped but
    otherwise unchanged. Never raises; the digits of the result are those of the input, in order.
    """
    if not isinstance(number, str):
        return ""
    text = number.strip()
    compact = _SEPARATORS.sub("", text)
    if not _PLAIN_NUMBER.fullmatch(compact):
        return text
    if compact.startswith("+"):
        return _international(compact[1:])
    return _domestic(compact)
