"""What the card shows, as plain strings: the pure step between the call's data and the DOM.

:func:`present` turns a :class:`~bx24_bridge.payloads.CallStatus` and a
:class:`~callcard.callstate.CallTracker` into :class:`CardText`, one field per ui-contract hook.
Every field is text for a ``textContent`` sink (or a link built from validated parts only);
host strings pass through unchanged as text, never interpreted
(docs/host-contract.md#untrusted-data).
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import TYPE_CHECKING, Final

from bx24_bridge.crm_refs import CrmRef
from bx24_bridge.payloads import CallStatus
from bx24_bridge.values import Value

from .callstate import CallTracker, Phase, format_duration
from .i18n import Translator
from .phone import format_number
from .sip import failure_text

if TYPE_CHECKING:  # the client module loads after the first render (only its data is read here)
    from datetime import datetime

    from .client import ClientInfo

__all__ = [
    "CardText",
    "ClientText",
    "CrmLink",
    "DealText",
    "activity_words",
    "caller_text",
    "crm_link",
    "date_time_text",
    "format_amount",
    "last_contact",
    "line_text",
    "portal_origin",
    "present",
    "present_client",
    "present_deals",
    "theme_from_query",
]

# A hostname: dot-separated labels of ASCII letters, digits and inner dashes.
_LABEL: Final = r"[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?"
_HOST: Final = re.compile(rf"{_LABEL}(?:\.{_LABEL})*")
_PORT: Final = re.compile(r"[0-9]{1,5}")
_ORIGIN: Final = re.compile(r"(https?)://([^/]*)/?", re.IGNORECASE)
_MAX_HOST_LEN: Final = 253


class CrmLink(Value):
    """A link to one CRM item: ``label`` to show, ``href`` for the anchor, ``path`` for
    ``BX24.openPath`` (which opens it in the portal's slider)."""

    label: str
    """The item's name, or its number ("#17") until the CRM has named it."""
    kind: str
    """The item's type in small words ("contact"), shown before the name."""
    href: str
    path: str
    type: str
    """``lead`` / ``deal`` / ``contact`` / ``company``."""
    id: int


class CardText(Value):
    """The card's visible text, one field per ui-contract hook; the view writes it as is.

    ``call_failure``, ``list_mode``, ``crm_entity`` and ``crm_unbound`` are None when the card
    should not show that element at all.
    """

    caller_number: str
    call_direction: str
    call_state: str
    call_timer: str
    call_failure: str | None
    line: str
    list_mode: str | None
    crm_entity: CrmLink | None
    crm_bindings: tuple[CrmLink, ...]
    crm_unbound: str | None
    copy_number: str | None = None
    """The number as the host gave it (``+79001234567``), for the copy button; None when the
    caller's number is hidden or unknown."""
    after_call: bool = False
    """A call of a call list has ended: recording its outcome comes first, before the dialer
    moves on (the view puts the notes at the top)."""


# --------------------------------------------------------------------------- portal origin


def _host_port(text: str) -> str | None:
    """``text`` as a lower-case ``host[:port]``, or None if it is anything else.

    A Unicode hostname (a box portal on ``.рф``) is turned into its ASCII (punycode) form.
    """
    host, colon, port = text.rpartition(":")
    if not colon:
        host, port = text, ""
    if not host.isascii():
        try:
            host = host.encode("idna").decode("ascii")
        except (UnicodeError, ValueError):
            return None
    host = host.lower()
    if len(host) > _MAX_HOST_LEN or not _HOST.fullmatch(host):
        return None
    if colon:
        if not _PORT.fullmatch(port) or not 0 < int(port) <= 65535:
            return None
        return f"{host}:{int(port)}"
    return host


def portal_origin(domain: object, protocol_https: bool = True) -> str | None:
    """``https://<domain>`` from ``BX24.getDomain()`` (``"example.bitrix24.com"``), or None.

    Only a plain ``hostname[:port]`` is accepted: no scheme, path, user info, spaces or other
    characters, so the origin can be trusted to prefix a CRM link.
    """
    if not isinstance(domain, str):
        return None
    host = _host_port(domain.strip())
    if host is None:
        return None
    return f"{'https' if protocol_https else 'http'}://{host}"


def _checked_origin(portal: str | None) -> str | None:
    """``portal`` normalised when it is an ``http(s)://host[:port]`` origin, else None."""
    if not isinstance(portal, str):
        return None
    match = _ORIGIN.fullmatch(portal.strip())
    if match is None:
        return None
    return portal_origin(match.group(2), match.group(1).lower() == "https")


# --------------------------------------------------------------------------- theme


def theme_from_query(query: object) -> str:
    """``"dark"`` when the handler URL asks for it (``?theme=dark``), else ``"light"``.

    The portal does not tell a tab its theme, and Bitrix24's call card is light: following the
    operating system would put a dark block inside a light card. An integrator whose portal is
    dark registers the handler with ``?theme=dark``.
    """
    if not isinstance(query, str):
        return "light"
    pairs = (part.partition("=") for part in query.removeprefix("?").split("&"))
    return "dark" if any(k == "theme" and v.lower() == "dark" for k, _, v in pairs) else "light"


# --------------------------------------------------------------------------- fields


def caller_text(status: CallStatus, t: Translator) -> str:
    """The client's number, formatted; hidden or unknown numbers are said in words."""
    phone = status.phone
    if phone.kind == "hidden":
        return t("number.hidden")
    if phone.value is None or not phone.value.strip():
        return t("number.unknown")
    return format_number(phone.value)


def line_text(status: CallStatus, t: Translator) -> str:
    """The line's name; else its number, formatted; else words for "no line".

    The host fills an empty LINE_NAME with LINE_NUMBER (and the parser does the same), so a
    name equal to the number is the number and is formatted like one.
    """
    name, number = status.line_name, status.line_number
    if name and name != number:
        return name
    if number:
        return format_number(number)
    return t("line.none")


def crm_link(
    ref: CrmRef, t: Translator, origin: str | None, name: str | None = None
) -> CrmLink:
    """The link to ``ref``, labelled with its ``name`` when known; ``origin`` must already be
    validated (see :func:`portal_origin`)."""
    kind = ref.type.path_segment
    path = ref.path
    return CrmLink(
        label=name or t.format("crm.link.unnamed", id=ref.id),
        kind=t(f"crm.kind.{kind}"),
        href=path if origin is None else origin + path,
        path=path,
        type=kind,
        id=ref.id,
    )


def present(
    status: CallStatus,
    tracker: CallTracker,
    t: Translator,
    *,
    portal: str | None,
    now: float,
    names: Callable[[CrmRef], str | None] = lambda ref: None,
) -> CardText:
    """Turn the call's data into the words of the card (never a raw host value as markup).

    ``portal`` is the portal's origin (``https://example.bitrix24.com``, see
    :func:`portal_origin`); without a valid one, links carry the bare path. ``now`` is the same
    monotonic clock the tracker is fed with. ``names`` gives the CRM's name of an item, when it
    has answered (:meth:`~callcard.client.ClientInfo.name_of`).
    """
    origin = _checked_origin(portal)
    primary = status.entity
    bindings = tuple(dict.fromkeys(ref for ref in status.bindings if ref != primary))
    unbound = primary is None and not bindings
    return CardText(
        caller_number=caller_text(status, t),
        call_direction=t(f"direction.{status.direction.value}"),
        call_state=t("phase.not_connected" if tracker.never_connected
                     else f"phase.{tracker.phase.value}"),
        call_timer=format_duration(tracker.elapsed(now)),
        call_failure=failure_text(tracker.failed_code, t),
        line=line_text(status, t),
        list_mode=t("list_mode") if status.list_mode else None,
        crm_entity=None if primary is None else crm_link(primary, t, origin, names(primary)),
        crm_bindings=tuple(crm_link(ref, t, origin, names(ref)) for ref in bindings),
        crm_unbound=t("crm.unbound") if unbound else None,
        copy_number=status.phone.value if status.phone.kind == "number" else None,
        after_call=bool(status.list_mode) and tracker.phase is Phase.ENDED,
    )


class DealText(Value):
    """One open deal of the client: a link to it (its title as the label), and a line with its
    stage and amount (``""`` when the portal gave neither)."""

    link: CrmLink
    facts: str


class ClientText(Value):
    """The client block's words: ``client-name``, a details line, a problem line or None, and
    whether asking again may help (the portal did not answer: offer a retry); then the client's
    open deals."""

    name: str
    details: str
    problem: str | None
    retry: bool = False
    deals: tuple[DealText, ...] = ()
    last: str | None = None
    """The last contact with the client before this call, one line; None when there is none."""
    lead: str | None = None
    """The create-lead button's words for an unbound call with a number (None: no button)."""
    lead_busy: bool = False
    """The lead is being created: the button waits (pressing it again does nothing)."""


_CURRENCY_SIGNS: Final = {"RUB": "₽", "USD": "$", "EUR": "€", "KZT": "₸", "UAH": "₴",
                          "BYN": "Br", "GBP": "£", "CNY": "¥"}
_NARROW_SPACE: Final = "\u202f"  # the group separator Russian text uses, never broken


def format_amount(amount: float, currency: str, lang: str) -> str:
    """An amount as the operator reads it: ``120 000 ₽`` in Russian, ``₽120,000`` in English;
    kopecks only when there are some (``45 000,50 ₽``). An unknown currency keeps its code."""
    cents = round(amount * 100)
    whole, fraction = divmod(abs(cents), 100)
    code = currency.strip().upper()
    sign = _CURRENCY_SIGNS.get(code, code)
    if lang == "ru":
        number = f"{whole:,}".replace(",", _NARROW_SPACE) + (f",{fraction:02d}" if fraction else "")
        return f"{number} {sign}".strip()
    number = f"{whole:,}" + (f".{fraction:02d}" if fraction else "")
    if not sign:
        return number
    return f"{sign}{number}" if len(sign) == 1 else f"{number} {sign}"


def present_deals(
    info: ClientInfo | None, t: Translator, portal: str | None,
) -> tuple[DealText, ...]:
    """The client's open deals as links and one line of facts each."""
    if info is None:
        return ()
    origin = _checked_origin(portal)
    deals: list[DealText] = []
    for deal in info.deals:
        facts = [t.format("client.deal.stage", stage=deal.stage)] if deal.stage else []
        if deal.amount is not None:
            facts.append(format_amount(deal.amount, deal.currency, t.lang))
        link = crm_link(deal.ref, t, origin, deal.title or None)
        deals.append(DealText(link, " · ".join(facts)))
    return tuple(deals)


#: Activity TYPE_IDs and their words; calls and emails also by DIRECTION (1 in, 2 out).
_KINDS: Final = {1: "activity.meeting", 2: "activity.call", 3: "activity.task",
                 4: "activity.email"}
_DIRECTED: Final = {(2, 1): "activity.call.1", (2, 2): "activity.call.2",
                    (4, 1): "activity.email.1", (4, 2): "activity.email.2"}
_MONTHS_EN: Final = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov",
                     "Dec")


def activity_words(kind: int | None, direction: int | None, t: Translator) -> str:
    """What an activity was, in words: *Outgoing call*, *Email received*, *Meeting*..."""
    key = _DIRECTED.get((kind or 0, direction or 0)) or _KINDS.get(kind or 0)
    return t(key or "activity.other")


def date_time_text(when: datetime, lang: str) -> str:
    """A moment as the operator reads it: ``28 Nov 2026, 14:05`` / ``28.11.2026, 14:05``."""
    clock = f"{when.hour:02d}:{when.minute:02d}"
    if lang == "ru":
        return f"{when.day:02d}.{when.month:02d}.{when.year}, {clock}"
    return f"{when.day} {_MONTHS_EN[when.month - 1]} {when.year}, {clock}"


def last_contact(info: ClientInfo | None, t: Translator, current: int | None) -> str | None:
    """The client's last contact before this call: its latest activity (``current`` is the
    call's own activity, which the portal lists too) or its latest timeline comment, whichever
    is newer; None when the portal named neither."""
    if info is None:
        return None
    activity = next((activity for activity in info.recent
                     if activity.id != current and activity.when is not None), None)
    # This call's own activity tells when it began (the portal's time, as the comment's):
    # a comment from then on is about this call (the card's own note, say), not before it.
    began = next((item.when for item in info.recent if item.id == current), None)
    comment = info.comment if info.comment is not None and info.comment.when else None
    if comment is not None and began is not None and comment.when is not None \
            and comment.when >= began:
        comment = None
    if comment is not None and comment.when is not None and (
        activity is None or activity.when is None or comment.when > activity.when
    ):
        what = (t.format("activity.comment.line", line=comment.line) if comment.line
                else t("activity.comment"))
        when_text, by = date_time_text(comment.when, t.lang), comment.by
    elif activity is not None and activity.when is not None:
        what = activity_words(activity.kind, activity.direction, t)
        when_text, by = date_time_text(activity.when, t.lang), activity.by
    else:
        return None
    if by:
        return t.format("client.last.by", when=when_text, what=what, by=by)
    return t.format("client.last", when=when_text, what=what)


def offers_lead(status: CallStatus) -> bool:
    """Whether the card offers to create a lead: the call is bound to nothing and the caller's
    number is known (a lead needs the number it is about)."""
    return (status.entity is None and not status.bindings and status.phone.kind == "number"
            and bool(status.phone.value))


def present_client(
    info: ClientInfo | None, t: Translator, *, bound: bool, loading: bool, number: str,
    portal: str | None = None, current_activity: int | None = None,
    offer_lead: bool = False, lead_busy: bool = False, lead_problem: str | None = None,
) -> ClientText:
    """What the card says about the client, from whatever the loader has now.

    Unbound calls say "new client" with the number, and offer a lead (``offer_lead``; while
    ``lead_busy`` the button waits; ``lead_problem`` is the i18n key of why the last try
    failed); while an item loads the name stays empty (never the previous client's); a failed
    load keeps what it has and adds a short line.
    """
    if not bound:
        lead = (t("lead.creating") if lead_busy else t("lead.create")) if offer_lead else None
        problem = t(lead_problem) if lead_problem and offer_lead else None
        return ClientText(t("client.new"), number, problem, lead=lead, lead_busy=lead_busy)
    if loading or info is None:
        return ClientText("", t("client.loading"), None)
    details: list[str] = []
    if info.contact:
        details.append(f"{t('label.contact')}: {info.contact}")
    if info.company:
        details.append(f"{t('label.company')}: {info.company}")
    if info.responsible:
        details.append(f"{t('label.responsible')}: {info.responsible}")
    problem = t(info.problem) if info.problem else (t("client.partial") if info.partial else None)
    name = info.name or ("" if info.problem else t("client.unnamed"))
    retry = info.worth_asking_again
    return ClientText(name, " · ".join(details), problem, retry, present_deals(info, t, portal),
                      last_contact(info, t, current_activity))
