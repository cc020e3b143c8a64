"""Who is calling: the CRM client's details for the card, following every entity change.

Pure Python (stdlib + asyncio, no ``js``/``pyodide``): it decides what to ask the portal for a
CRM item (:func:`plan_batch`), turns the answers into what the card shows (:func:`build_client`)
and, per card, caches those answers and makes sure a stale answer never wins
(:class:`ClientLoader`). The REST transport is injected, so tests run it under CPython.

Why so careful: ``CallCard::EntityChanged`` fires on every client change, including each next
client of a call list ("dialer mode", docs/host-contract.md#events), and REST answers arrive in any
order. A slow answer about the previous client must never overwrite the current one, and flapping
between clients must not hammer the portal (docs/host-contract.md#rest: the library paces REST
calls itself, so a flood delays everything else the card does).

Names and titles are untrusted portal text (docs/host-contract.md#untrusted-data): they come out of
here as plain, cleaned, capped strings for ``textContent``, never as markup.
"""

from __future__ import annotations

import asyncio
import logging
import time
import unicodedata
from collections.abc import Awaitable, Callable, Mapping, Sequence
from datetime import datetime
from typing import Final, TypeVar, cast

from bx24_bridge.crm_refs import CrmRef, EntityType
from bx24_bridge.errors import (
    NO_ACCESS_CODES,
    NOT_FOUND_CODES,
    BridgeError,
    ParseError,
    RestError,
    RestTimeout,
)
from bx24_bridge.rest import RestOutcome
from bx24_bridge.values import Value, replace

from .crm import (
    MAX_ACTIVITIES,
    Activity,
    CrmItem,
    OpenDeal,
    PortalUser,
    TimelineComment,
    parse_activities,
    parse_comments,
    parse_crm_item,
    parse_deals,
    parse_stage_names,
    parse_user,
)

__all__ = [
    "ALSO",
    "COMMENT",
    "COMPANY",
    "CONTACT",
    "DEALS",
    "FAILURE_RETRY_AFTER",
    "ITEM",
    "MAX_ALSO",
    "MAX_CACHED",
    "MAX_NAME_LEN",
    "PROBLEM_NOT_FOUND",
    "PROBLEM_NO_ACCESS",
    "PROBLEM_UNAVAILABLE",
    "STAGES",
    "USER",
    "ClientActivity",
    "ClientComment",
    "ClientDeal",
    "ClientInfo",
    "ClientLoader",
    "Fetch",
    "OnChange",
    "Plan",
    "build_client",
    "clean_text",
    "plan_batch",
    "problem_for",
]

logger = logging.getLogger(__name__)

PROBLEM_NOT_FOUND: Final = "client.not_found"
"""i18n key: the CRM item does not exist (deleted, merged, wrong id)."""
PROBLEM_NO_ACCESS: Final = "client.no_access"
"""i18n key: the operator (or the app's scopes) may not read the item."""
PROBLEM_UNAVAILABLE: Final = "client.unavailable"
"""i18n key: anything else, above all a timeout (HTTP 5xx / network never call back,
docs/host-contract.md#rest)."""

MAX_NAME_LEN: Final = 200
"""Longest name/title shown, ellipsis included: a client block is one or two short lines."""
FAILURE_RETRY_AFTER: Final = 30.0
"""Seconds a failed or partial answer is reused before that client is asked for again."""
MAX_CACHED: Final = 500
"""Clients remembered per card; a long call list evicts the oldest first."""

# Keys of the batch: one round trip per entity change.
ITEM: Final = "item"
COMPANY: Final = "company"
CONTACT: Final = "contact"
USER: Final = "user"
DEALS: Final = "deals"
"""The client's open deals (a contact's or a company's)."""
STAGES: Final = "stages"
"""The names of the deal stages, for those deals."""
LAST: Final = "last"
"""The client's latest activities (the last contact), and, keyed ``last_by0``/``last_by1``, the
names of the people responsible for them."""
COMMENT: Final = "comment"
"""The client's latest timeline comment (the last contact may be one), and, keyed
``comment_by``, its author's name."""
ALSO: Final = "also"
"""Prefix of the keys that read the other items the call is bound to (``also0``...), for the
names on their links."""
MAX_ALSO: Final = 3
"""Other bound items named per batch; the links of any more keep their number."""

_ELLIPSIS: Final = "…"
_MAX_MARKS_IN_A_ROW: Final = 4
"""Combining marks kept on one base character: real scripts need few, "Zalgo" text piles
dozens that spill over the neighbouring lines of the card."""
# Zero-width (non-)joiners shape Persian/Indic text and emoji sequences: harmless, keep them.
_KEPT_FORMAT_CHARS: Final = frozenset("\u200c\u200d")

# --------------------------------------------------------------------------- text


def clean_text(value: object, limit: int = MAX_NAME_LEN) -> str:
    """Untrusted portal text as one plain display line (docs/host-contract.md#untrusted-data);
    ``""`` for a non-string.

    Control characters, line separators and whitespace runs become single spaces; invisible
    format characters are dropped, above all bidi overrides such as U+202E, which would let a
    name display as something else (and reorder the text around it); runs of combining marks
    are trimmed. A result longer than ``limit`` is cut and ends with "…". No escaping: the view
    sets ``textContent``.
    """
    if not isinstance(value, str):
        return ""
    kept: list[str] = []
    marks = 0
    for char in value:
        category = unicodedata.category(char)
        if category in ("Cc", "Zl", "Zp"):
            kept.append(" ")
        elif category in ("Cf", "Cs") and char not in _KEPT_FORMAT_CHARS:
            continue
        elif category in ("Mn", "Me"):
            marks += 1
            if marks <= _MAX_MARKS_IN_A_ROW:
                kept.append(char)
            continue
        else:
            kept.append(char)
        marks = 0
    text = " ".join("".join(kept).split())
    if len(text) > limit:
        text = text[: max(limit - 1, 0)].rstrip() + _ELLIPSIS
    return text


def _person_name(first: str, second: str, last: str) -> str:
    """Name, second name, last name ("Ivan Ivanovich Petrov"), as Bitrix24 itself shows it."""
    return clean_text(" ".join(clean_text(part) for part in (first, second, last)))


def _item_person(item: CrmItem) -> str:
    return _person_name(item.name, item.second_name, item.last_name)


# --------------------------------------------------------------------------- the result


class ClientDeal(Value):
    """One open deal of the client, as the card shows it: a cleaned title, the stage's name
    (``""`` when the portal did not name it), the amount (None: none given) and its currency."""

    ref: CrmRef
    title: str
    stage: str = ""
    amount: float | None = None
    currency: str = ""


class ClientActivity(Value):
    """One of the client's latest activities, for "last contact": its id (the call on the card
    is one of them), kind and direction as the portal numbers them, when (the portal's own
    wall-clock time, None when unreadable) and who was responsible (None when unknown)."""

    id: int
    kind: int | None
    direction: int | None
    when: datetime | None
    by: str | None


class ClientComment(Value):
    """The client's latest timeline comment, for "last contact": when (the portal's wall-clock
    time, None when unreadable), by whom (None when unknown), and its first line."""

    id: int
    when: datetime | None
    by: str | None
    line: str


class ClientInfo(Value, kw_only=True):
    """What the card shows about the client it is bound to.

    ``name`` is the client itself: a contact's or lead's person name, a company's, deal's (or
    nameless lead's) title; ``""`` when the item has none (the view shows a placeholder).
    ``company``/``contact`` are the linked company title and contact name, ``responsible`` the
    assigned user's name; None when absent. All strings are cleaned by :func:`clean_text`.

    ``problem`` is an i18n key (``client.not_found`` / ``client.no_access`` /
    ``client.unavailable``) when the item itself could not be read; then every other text field
    is empty. ``partial`` says that a linked record which exists could not be read (its field
    is None): the card shows what it has, and the loader asks again later.

    ``names`` holds the display name of every CRM item the batch read (the item, its company
    and contact, and the other items the call is bound to), for the card's links.

    ``deals`` are the open deals (in progress) of a contact or a company, newest first, at most
    :data:`~callcard.crm.MAX_DEALS`; a lead or a deal has none.
    """

    entity: CrmRef
    name: str = ""
    company: str | None = None
    contact: str | None = None
    responsible: str | None = None
    problem: str | None = None
    partial: bool = False
    names: tuple[tuple[CrmRef, str], ...] = ()
    deals: tuple[ClientDeal, ...] = ()
    recent: tuple[ClientActivity, ...] = ()
    """The client's latest activities, newest first (at most two)."""
    comment: ClientComment | None = None
    """The client's latest timeline comment, if any."""

    @property
    def worth_asking_again(self) -> bool:
        """Whether asking the portal again may help: it did not answer, or left parts out."""
        return self.problem == PROBLEM_UNAVAILABLE or (self.problem is None and self.partial)

    def name_of(self, ref: CrmRef) -> str | None:
        """The display name of ``ref`` if the batch read it, else None."""
        return next((name for known, name in self.names if known == ref), None)


Plan = dict[str, tuple[str, dict[str, object]]]
"""Batch calls by key: ``{key: (method, params)}``, the shape ``call_batch`` takes."""
Fetch = Callable[[Plan], Awaitable[Mapping[str, RestOutcome]]]
"""Sends one batch, answers one :class:`RestOutcome` per key (``Bridge.call_batch``)."""
OnChange = Callable[[ClientInfo | None, CrmRef | None], None]
"""Told what the card should show: ``(info, ref)`` loaded, ``(None, ref)`` loading,
``(None, None)`` bound to nothing."""


# --------------------------------------------------------------------------- the request


def _ref_to_item(field: str) -> str:
    """A batch macro for a field of the main item: ``crm.item.get`` answers ``{"item": {...}}``."""
    return f"$result[{ITEM}][item][{field}]"


def _item_call(kind: EntityType, item_id: int | str) -> tuple[str, dict[str, object]]:
    return ("crm.item.get", {"entityTypeId": kind.entity_type_id, "id": item_id})


def also_refs(ref: CrmRef, bindings: Sequence[CrmRef]) -> tuple[CrmRef, ...]:
    """The other bound items whose names the batch reads: distinct, not ``ref``, at most
    :data:`MAX_ALSO`."""
    return tuple(dict.fromkeys(other for other in bindings if other != ref))[:MAX_ALSO]


_COMMENT_BY: Final = f"{COMMENT}_by"


def _responsible_key(index: int) -> str:
    """The batch key of the user responsible for the client's ``index``-th latest activity."""
    return f"{LAST}_by{index}"


#: The deal field that names a client, for the client's open deals.
_DEAL_OWNER: Final = {EntityType.CONTACT: "contactId", EntityType.COMPANY: "companyId"}


def plan_batch(ref: CrmRef, also: Sequence[CrmRef] = ()) -> Plan:
    """The ONE batch that reads everything the card shows about ``ref``, and the names of the
    other items the call is bound to (``also``, see :func:`also_refs`).

    Linked records are read in the same round trip with batch result macros
    (``$result[item][item][companyId]``): the portal substitutes the main item's field before
    running the dependent call. A contact needs its company and responsible user, a deal its
    company, contact and user, a lead and a company only their user. A contact's and a company's
    open deals come in it too, with the names of the deal stages.

    When the referenced field is empty or 0 (a contact without a company, or the main item
    failing) the dependent call fails with an error of its own: the portal refuses id 0/empty.
    That is expected, not a problem for the card: :func:`build_client` reads a linked record
    only when the main item names its id, and accepts it only if it is that very record.
    """
    plan: Plan = {ITEM: _item_call(ref.type, ref.id)}
    if ref.type in (EntityType.CONTACT, EntityType.DEAL):
        plan[COMPANY] = _item_call(EntityType.COMPANY, _ref_to_item("companyId"))
    if ref.type is EntityType.DEAL:
        plan[CONTACT] = _item_call(EntityType.CONTACT, _ref_to_item("contactId"))
    plan[USER] = ("user.get", {"ID": _ref_to_item("assignedById")})
    owner = _DEAL_OWNER.get(ref.type)
    if owner is not None:
        plan[DEALS] = ("crm.item.list", {
            "entityTypeId": EntityType.DEAL.entity_type_id,
            "filter": {owner: ref.id, "stageSemanticId": "P"},  # P: in progress
            "select": ["id", "title", "stageId", "opportunity", "currencyId"],
            "order": {"id": "desc"},
        })
        plan[STAGES] = ("crm.status.list", {"filter": {"ENTITY_ID": "DEAL_STAGE"}})
    plan[LAST] = ("crm.activity.list", {
        # A to-do (a call-back the card set, say) is a plan, not a contact: left out.
        "filter": {"OWNER_TYPE_ID": ref.type.entity_type_id, "OWNER_ID": ref.id,
                   "!PROVIDER_ID": "CRM_TODO"},
        "order": {"ID": "DESC"},
        "select": ["ID", "TYPE_ID", "DIRECTION", "SUBJECT", "CREATED", "RESPONSIBLE_ID"],
    })
    for index in range(MAX_ACTIVITIES):
        responsible = f"$result[{LAST}][{index}][RESPONSIBLE_ID]"
        plan[_responsible_key(index)] = ("user.get", {"ID": responsible})
    plan[COMMENT] = ("crm.timeline.comment.list", {
        "filter": {"ENTITY_ID": ref.id, "ENTITY_TYPE": ref.type.path_segment},
        "select": ["ID", "CREATED", "AUTHOR_ID", "COMMENT"],
        "order": {"CREATED": "DESC"},
    })
    plan[_COMMENT_BY] = ("user.get", {"ID": f"$result[{COMMENT}][0][AUTHOR_ID]"})
    for index, other in enumerate(also_refs(ref, also)):
        plan[f"{ALSO}{index}"] = _item_call(other.type, other.id)
    return plan


# --------------------------------------------------------------------------- the answers


def problem_for(error: BaseException) -> str:
    """The i18n key that explains why the client's item could not be read.

    Error codes are matched case-insensitively (the portal writes ``insufficient_scope`` but
    ``ACCESS_DENIED``). A timeout, a non-REST bridge error and any unknown code are
    "unavailable": trying again later may work.
    """
    if isinstance(error, RestTimeout) or not isinstance(error, RestError):
        return PROBLEM_UNAVAILABLE
    code = error.code.strip().upper()
    if code in NOT_FOUND_CODES:
        return PROBLEM_NOT_FOUND
    if code in NO_ACCESS_CODES:
        return PROBLEM_NO_ACCESS
    return PROBLEM_UNAVAILABLE


def _outcome(outcomes: object, key: str) -> RestOutcome | None:
    if not isinstance(outcomes, Mapping):
        return None
    value: object = cast(Mapping[str, object], outcomes).get(key)
    return value if isinstance(value, RestOutcome) else None


_Record = TypeVar("_Record", CrmItem, PortalUser)


def _linked(
    outcomes: object, key: str, wanted_id: int | None, parse: Callable[[object], _Record]
) -> tuple[_Record | None, bool]:
    """A linked record of the batch, and whether it exists but could not be read.

    ``wanted_id`` None means the main item links to nothing: whatever that sub-call answered
    (an error, as a rule) is ignored. A record that is not the one asked for is refused: a macro
    the portal could not substitute must never show some other company or user.
    """
    if wanted_id is None:
        return None, False
    outcome = _outcome(outcomes, key)
    if outcome is None or outcome.error is not None:
        return None, True
    try:
        record = parse(outcome.data)
    except ParseError:
        return None, True
    if record.id != wanted_id:
        return None, True
    return record, False


def _title(record: CrmItem | None) -> str | None:
    return (clean_text(record.title) or None) if record is not None else None


def _failed(ref: CrmRef, problem: str, names: tuple[tuple[CrmRef, str], ...] = ()) -> ClientInfo:
    return ClientInfo(entity=ref, problem=problem, names=names)


def display_name(kind: EntityType, item: CrmItem) -> str:
    """How the card names an item: a person's name for a contact (a lead: its person, else its
    title), the title of a deal or company."""
    if kind is EntityType.CONTACT:
        return _item_person(item)
    if kind is EntityType.LEAD:
        return _item_person(item) or clean_text(item.title)
    return clean_text(item.title)


def _also_names(
    ref: CrmRef, outcomes: Mapping[str, RestOutcome], also: Sequence[CrmRef]
) -> list[tuple[CrmRef, str]]:
    names: list[tuple[CrmRef, str]] = []
    for index, other in enumerate(also_refs(ref, also)):
        record, _ = _linked(outcomes, f"{ALSO}{index}", other.id, parse_crm_item)
        name = display_name(other.type, record) if record is not None else ""
        if name:
            names.append((other, name))
    return names


def build_client(
    ref: CrmRef, outcomes: Mapping[str, RestOutcome], also: Sequence[CrmRef] = ()
) -> ClientInfo:
    """Turn the answers to :func:`plan_batch` into what the card shows. Never raises.

    The main item decides: its error (or an answer that is not that item) sets ``problem``.
    A linked company, contact or user that exists but failed only leaves its field None and
    sets ``partial``.
    """
    others = tuple(_also_names(ref, outcomes, also))
    main = _outcome(outcomes, ITEM)
    if main is None:
        return _failed(ref, PROBLEM_UNAVAILABLE, others)
    if main.error is not None:
        return _failed(ref, problem_for(main.error), others)
    try:
        item = parse_crm_item(main.data)
    except ParseError:
        return _failed(ref, PROBLEM_UNAVAILABLE, others)
    if item.id is not None and item.id != ref.id:
        return _failed(ref, PROBLEM_UNAVAILABLE, others)

    missing = False
    name = ""
    company: str | None = None
    contact: str | None = None

    if ref.type is EntityType.CONTACT:
        name = _item_person(item)
        company = clean_text(item.company_title) or None
        if company is None:
            record, missing = _linked(outcomes, COMPANY, item.company_id, parse_crm_item)
            company = _title(record)
    elif ref.type is EntityType.DEAL:
        name = clean_text(item.title)
        record, missing_company = _linked(outcomes, COMPANY, item.company_id, parse_crm_item)
        company = _title(record)
        person, missing_contact = _linked(outcomes, CONTACT, item.contact_id, parse_crm_item)
        contact = (_item_person(person) or None) if person is not None else None
        missing = missing_company or missing_contact
    elif ref.type is EntityType.LEAD:
        name = _item_person(item) or clean_text(item.title)
        company = clean_text(item.company_title) or None
    else:  # COMPANY
        name = clean_text(item.title)

    user, missing_user = _linked(outcomes, USER, item.assigned_by_id, parse_user)
    responsible = (clean_text(user.full_name) or None) if user is not None else None
    deals, missing_deals = _deals(outcomes) if ref.type in _DEAL_OWNER else ((), False)

    names: dict[CrmRef, str] = dict(others)
    if name:
        names[ref] = name
    if company and item.company_id is not None:
        names.setdefault(CrmRef(EntityType.COMPANY, item.company_id), company)
    if contact and item.contact_id is not None:
        names.setdefault(CrmRef(EntityType.CONTACT, item.contact_id), contact)
    for deal in deals:
        if deal.title:
            names.setdefault(deal.ref, deal.title)
    return ClientInfo(
        entity=ref,
        name=name,
        company=company,
        contact=contact,
        responsible=responsible,
        partial=missing or missing_user or missing_deals,
        names=tuple(names.items()),
        deals=deals,
        recent=_recent(outcomes),
        comment=_comment(outcomes),
    )


def _comment(outcomes: Mapping[str, RestOutcome]) -> ClientComment | None:
    """The client's latest comment; None when there is none or the portal did not list them
    (like the activities, context only)."""
    listed = _outcome(outcomes, COMMENT)
    if listed is None or listed.error is not None:
        return None
    try:
        found: TimelineComment | None = parse_comments(listed.data)
    except ParseError:
        return None
    if found is None:
        return None
    user, _ = _linked(outcomes, _COMMENT_BY, found.author_id, parse_user)
    by = (clean_text(user.full_name) or None) if user is not None else None
    return ClientComment(found.id, _when(found.created), by, found.line)


def _when(text: str) -> datetime | None:
    """CREATED (``2026-11-28T14:05:00+03:00``) as the portal's wall-clock time."""
    try:
        return datetime.fromisoformat(text).replace(tzinfo=None) if text else None
    except ValueError:
        return None


def _recent(outcomes: Mapping[str, RestOutcome]) -> tuple[ClientActivity, ...]:
    """The client's latest activities; none when the portal did not list them (the last contact
    is context, not a reason to call the client's data partial)."""
    listed = _outcome(outcomes, LAST)
    if listed is None or listed.error is not None:
        return ()
    try:
        found: tuple[Activity, ...] = parse_activities(listed.data)
    except ParseError:
        return ()
    recent: list[ClientActivity] = []
    for index, activity in enumerate(found):
        user, _ = _linked(outcomes, _responsible_key(index), activity.responsible_id, parse_user)
        by = (clean_text(user.full_name) or None) if user is not None else None
        recent.append(ClientActivity(activity.id, activity.kind, activity.direction,
                                     _when(activity.created), by))
    return tuple(recent)


def _deals(outcomes: Mapping[str, RestOutcome]) -> tuple[tuple[ClientDeal, ...], bool]:
    """The client's open deals, and whether the portal failed to list them. Stage names that
    could not be read leave the stages unnamed (the deals still show)."""
    listed = _outcome(outcomes, DEALS)
    if listed is None:
        return (), False  # not asked for
    if listed.error is not None:
        return (), True
    try:
        found: tuple[OpenDeal, ...] = parse_deals(listed.data)
    except ParseError:
        return (), True
    stages = _outcome(outcomes, STAGES)
    names = parse_stage_names(stages.data) if stages is not None and stages.error is None else {}
    return tuple(
        ClientDeal(CrmRef(EntityType.DEAL, deal.id), clean_text(deal.title),
                   clean_text(names.get(deal.stage_id, "")), deal.amount, deal.currency)
        for deal in found
    ), False


# --------------------------------------------------------------------------- the loader


class ClientLoader:
    """Loads client details for one card and delivers only those of the latest entity.

    * Every :meth:`load` takes a generation number; an answer that arrives after a newer
      :meth:`load` started is never delivered (no ``on_change``, ``load`` returns None), but it
      is still cached: it is correct data for its own entity.
    * A complete answer is kept for the card's lifetime: going back to a client costs nothing.
      A failed or partial one is kept :data:`FAILURE_RETRY_AFTER` seconds (``now`` is the
      clock), so flapping between clients does not hammer the portal while a later visit
      retries. Nothing is ever retried on its own.
    * Two loads of the same entity while its batch is in flight share that one batch.
    * ``fetch`` errors become a :class:`ClientInfo` with a ``problem``; they never propagate.
    """

    def __init__(
        self,
        fetch: Fetch,
        *,
        on_change: OnChange | None = None,
        now: Callable[[], float] = time.monotonic,
        retry_after: float = FAILURE_RETRY_AFTER,
        max_cached: int = MAX_CACHED,
    ) -> None:
        self._fetch = fetch
        self._on_change = on_change
        self._now = now
        self._retry_after = retry_after
        self._max_cached = max(1, max_cached)
        # ref -> (info, expiry on the ``now`` clock, or None for "kept for good")
        self._cache: dict[CrmRef, tuple[ClientInfo, float | None]] = {}
        self._in_flight: dict[CrmRef, asyncio.Task[ClientInfo]] = {}
        self._names_asked: dict[CrmRef, set[CrmRef]] = {}
        self._generation = 0
        self._current: ClientInfo | None = None
        self._current_ref: CrmRef | None = None

    @property
    def current(self) -> ClientInfo | None:
        """The delivered info of :attr:`current_ref`; None while it loads or when unbound."""
        return self._current

    @property
    def current_ref(self) -> CrmRef | None:
        """The entity the card is bound to: the ref of the latest :meth:`load`."""
        return self._current_ref

    async def load(self, ref: CrmRef | None, also: Sequence[CrmRef] = ()) -> ClientInfo | None:
        """Show the client ``ref`` (None: bound to nothing) and return its info; ``also`` are
        the other items the call is bound to, whose names come in the same batch.

        Returns None when unbound or when a newer :meth:`load` started meanwhile (even of the
        same ref: that newer call delivers it). Before fetching, ``on_change(None, ref)`` tells
        the view to stop showing the previous client; when only re-fetching the client already
        shown (an expired failure), the old info stays up until the new one arrives.
        """
        self._generation += 1
        generation = self._generation
        previous_ref, self._current_ref = self._current_ref, ref
        if ref is None:
            self._deliver(None, None)
            return None
        cached = self._cached(ref)
        if cached is None:
            if ref != previous_ref or self._current is None:
                self._deliver(None, ref)
            task = self._in_flight.get(ref)
            if task is None:
                task = asyncio.create_task(self._fetch_info(ref, also))
                self._in_flight[ref] = task
            # shield: a cancelled caller must not cancel a batch others (or the cache) await.
            cached = await asyncio.shield(task)
            if generation != self._generation:
                return None
        self._deliver(cached, ref)
        named = await self._name_the_others(cached, also)
        if named is cached or generation != self._generation:
            return cached
        self._deliver(named, ref)
        return named

    def forget(self, ref: CrmRef) -> None:
        """Drop what is cached for ``ref``, so the next :meth:`load` of it asks the portal.

        For the controller to call when it knows the client's data changed (EntityChanged also
        fires when the card refreshes client data, docs/host-contract.md#events); an in-flight
        batch is left alone.
        """
        self._cache.pop(ref, None)

    # ------------------------------------------------------------------ internals

    def _deliver(self, info: ClientInfo | None, ref: CrmRef | None) -> None:
        self._current = info
        if self._on_change is not None:
            self._on_change(info, ref)

    def _cached(self, ref: CrmRef) -> ClientInfo | None:
        entry = self._cache.get(ref)
        if entry is None:
            return None
        info, expiry = entry
        if expiry is not None and self._now() >= expiry:
            del self._cache[ref]
            return None
        return info

    def _remember(self, ref: CrmRef, info: ClientInfo) -> None:
        lasting = info.problem is None and not info.partial
        expiry = None if lasting else self._now() + self._retry_after
        self._cache.pop(ref, None)  # re-insert: the dict's order is the eviction order
        self._cache[ref] = (info, expiry)
        while len(self._cache) > self._max_cached:
            del self._cache[next(iter(self._cache))]

    async def _name_the_others(self, info: ClientInfo, also: Sequence[CrmRef]) -> ClientInfo:
        """``info`` with the names of bound items its batch did not read (the call's bindings
        became known after it was sent): one small batch, asked once per item and client."""
        ref = info.entity
        asked = self._names_asked.setdefault(ref, set())
        missing = [other for other in also_refs(ref, also)
                   if info.name_of(other) is None and other not in asked]
        if not missing:
            return info
        asked.update(missing)
        plan = {f"{ALSO}{i}": _item_call(other.type, other.id) for i, other in enumerate(missing)}
        try:
            outcomes = await self._fetch(plan)
        except Exception as exc:  # names are a nicety: the links keep their numbers
            logger.warning("names of %s: %s", ref.path, type(exc).__name__)
            return info
        extra = _also_names(ref, {ITEM: RestOutcome(), **outcomes}, missing)
        if not extra:
            return info
        named = replace(info, names=(*info.names, *extra))
        if self._cached(ref) is info:
            self._remember(ref, named)
        return named

    async def _fetch_info(self, ref: CrmRef, also: Sequence[CrmRef] = ()) -> ClientInfo:
        """One batch for ``ref``, turned into info and cached; never raises (but cancels)."""
        self._names_asked[ref] = set(also_refs(ref, also))
        try:
            outcomes = await self._fetch(plan_batch(ref, also))
            info = build_client(ref, outcomes, also)
        except BridgeError as exc:
            logger.warning("client %s: %s (%s)", ref.path, type(exc).__name__, _error_code(exc))
            info = _failed(ref, problem_for(exc))
        except Exception:
            logger.exception("client %s: loading failed unexpectedly", ref.path)
            info = _failed(ref, PROBLEM_UNAVAILABLE)
        finally:
            self._in_flight.pop(ref, None)
        self._remember(ref, info)
        return info


def _error_code(error: BridgeError) -> str:
    """A log-safe summary: codes only, never descriptions (portal text,
    docs/host-contract.md#untrusted-data)."""
    return error.code if isinstance(error, RestError) else "-"
