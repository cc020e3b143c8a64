"""The card's controller as a pure state machine: events in, effects out.

Why this shape: the hard questions of the card are about order. getStatus answers arrive after
the events the host sent meanwhile; an entity change asks for a new status while the previous
one is still on its way; a dialer floods the card with clients; client answers come in any order.
Here those rules are plain Python with no browser, no asyncio and no clock of its own, so every
interleaving can be tried under CPython (tests/unit/test_card_machine.py). The browser shell
(callcard/app.py) feeds :class:`CardMachine` the host's events and the answers to what it asked,
with a ``now`` in seconds from a monotonic clock, and performs the effects it returns in order:
drawing the card, asking the host, loading the client, telling the notes.

The rules everything here serves:

* the card shows a call as early as the data allows: from the placement options when they carry
  one, corrected by getStatus (docs/host-contract.md#status);
* only the answer to the latest getStatus counts: an older one may describe a client the card has
  already left;
* a CallStateChanged that arrived while getStatus was under way is at least as new as its answer
  (the host sends both in order, docs/host-contract.md#events), so its state wins;
* the client block shows only the client the card is on now (never the previous one);
* after the first render, the placement options are never used again: they would undo every
  state and client change since the card opened.
"""

# Its checks of what it is given stay, whatever the annotations say: callers outside the checker's
# view (host data through JavaScript) can pass anything.
# pyright: reportUnnecessaryIsInstance=false
from __future__ import annotations

from typing import TYPE_CHECKING, Final

from bx24_bridge.callcard_events import EntityChange
from bx24_bridge.crm_refs import CrmRef
from bx24_bridge.payloads import CallState, CallStatus
from bx24_bridge.phone_numbers import CallerNumber
from bx24_bridge.values import replace

from .callstate import CallTracker, Phase, format_duration
from .i18n import Translator
from .phone import caller_digits
from .present import CardText, ClientText, caller_text, offers_lead, present, present_client

if TYPE_CHECKING:  # the client module loads after the first render (callcard/app.py)
    from .client import ClientInfo

__all__ = [
    "AskStatus",
    "BeforeClose",
    "CardEffect",
    "CardEvent",
    "CardMachine",
    "ClientAnswered",
    "ClientRetryRequested",
    "CreateLead",
    "EntityChanged",
    "LeadAnswered",
    "LeadRequested",
    "LoadClient",
    "NotesBeforeClose",
    "NotesCallEnded",
    "NotesCallStarted",
    "NotesClientNamed",
    "NotesStatus",
    "Opened",
    "Render",
    "RenderClient",
    "RetryRequested",
    "ShowCard",
    "ShowError",
    "ShowTimer",
    "StartTicking",
    "StateChanged",
    "StatusAnswered",
    "StatusFailed",
    "Tick",
]

TICK_PAST_THE_SECOND: Final = 0.005
"""The talk timer wakes this long after each whole second, so the second has surely passed."""


class _Message:
    """Events and effects: value objects compared by their fields.

    Not dataclasses on purpose: these classes are made while the card starts, and a dataclass
    costs about 1.6 ms to create in Pyodide (its methods are generated and compiled at import)
    against a few microseconds for a plain class; twenty of them would add ~30 ms to every ring.
    Treat instances as immutable.
    """

    __slots__: tuple[str, ...] = ()

    def _fields(self) -> tuple[object, ...]:
        return tuple(getattr(self, name) for name in self.__slots__)

    def __eq__(self, other: object) -> bool:
        return (type(other) is type(self) and isinstance(other, _Message)
                and self._fields() == other._fields())

    def __hash__(self) -> int:
        return hash((type(self), self._fields()))

    def __repr__(self) -> str:
        fields = ", ".join(f"{name}={getattr(self, name)!r}" for name in self.__slots__)
        return f"{type(self).__name__}({fields})"


# --------------------------------------------------------------------------- events


class Opened(_Message):
    """The card is in CALL_CARD and subscribed to the host's events; ``early`` is the call the
    placement options carry (None when they carry none: then only getStatus can tell)."""

    __slots__ = ("early", "now")

    def __init__(self, early: CallStatus | None, now: float) -> None:
        self.early = early
        self.now = now


class StatusAnswered(_Message):
    """getStatus (asked by :class:`AskStatus` number ``request``) answered."""

    __slots__ = ("now", "request", "status")

    def __init__(self, request: int, status: CallStatus, now: float) -> None:
        self.request = request
        self.status = status
        self.now = now


class StatusFailed(_Message):
    """getStatus number ``request`` failed or timed out (the bridge said why, in the log)."""

    __slots__ = ("request",)

    def __init__(self, request: int) -> None:
        self.request = request


class StateChanged(_Message):
    """CallCard::CallStateChanged; ``state`` None when the host sent a state nobody knows."""

    __slots__ = ("failed_code", "now", "state")

    def __init__(self, state: CallState | None, failed_code: str | None, now: float) -> None:
        self.state = state
        self.failed_code = failed_code
        self.now = now


class EntityChanged(_Message):
    """CallCard::EntityChanged: the dialer's next client, a lead made, a refresh."""

    __slots__ = ("change", "now")

    def __init__(self, change: EntityChange, now: float) -> None:
        self.change = change
        self.now = now


class ClientAnswered(_Message):
    """The client loader delivered ``info`` about ``ref`` (None: it is loading, or unbound)."""

    __slots__ = ("info", "now", "ref")

    def __init__(self, info: ClientInfo | None, ref: CrmRef | None, now: float) -> None:
        self.info = info
        self.ref = ref
        self.now = now


class ClientRetryRequested(_Message):
    """The operator asks again about a client the portal did not answer for."""

    __slots__ = ("now",)

    def __init__(self, now: float) -> None:
        self.now = now


class RetryRequested(_Message):
    """The operator pressed Retry on the error state."""

    __slots__ = ("now",)

    def __init__(self, now: float) -> None:
        self.now = now


class Tick(_Message):
    """The talk timer's beat (the shell sends it while :attr:`CardMachine.talking`)."""

    __slots__ = ("now",)

    def __init__(self, now: float) -> None:
        self.now = now


class BeforeClose(_Message):
    """CallCard::BeforeClose: the card is about to close."""

    __slots__ = ()


class LeadRequested(_Message):
    """The operator pressed "Create a lead" on an unbound call."""

    __slots__ = ("now",)

    def __init__(self, now: float) -> None:
        self.now = now


class LeadAnswered(_Message):
    """The :class:`CreateLead` number ``attempt`` is done: ``lead`` is the lead the portal made
    (None: it failed, and ``problem`` is the i18n key of why)."""

    __slots__ = ("attempt", "lead", "now", "problem")

    def __init__(self, attempt: int, lead: CrmRef | None, problem: str | None,
                 now: float) -> None:
        self.attempt = attempt
        self.lead = lead
        self.problem = problem
        self.now = now


CardEvent = (Opened | StatusAnswered | StatusFailed | StateChanged | EntityChanged
             | ClientAnswered | ClientRetryRequested | RetryRequested | Tick | BeforeClose
             | LeadRequested | LeadAnswered)


# --------------------------------------------------------------------------- effects


class ShowCard(_Message):
    """Draw the whole card (its first render, or again after an error) and mark it ready."""

    __slots__ = ("client", "text")

    def __init__(self, text: CardText, client: ClientText) -> None:
        self.text = text
        self.client = client


class Render(_Message):
    """Write the call's text (the view changes only what differs)."""

    __slots__ = ("text",)

    def __init__(self, text: CardText) -> None:
        self.text = text


class RenderClient(_Message):
    """Write the client block."""

    __slots__ = ("client",)

    def __init__(self, client: ClientText) -> None:
        self.client = client


class ShowTimer(_Message):
    """Write the talk timer only."""

    __slots__ = ("timer",)

    def __init__(self, timer: str) -> None:
        self.timer = timer


class ShowError(_Message):
    """The card cannot show the call: the error state, with Retry."""

    __slots__ = ()


class AskStatus(_Message):
    """Ask the host for getStatus; answer with :class:`StatusAnswered` / :class:`StatusFailed`
    carrying ``request``. ``fallback``: the placement options may stand in for an answer."""

    __slots__ = ("fallback", "request")

    def __init__(self, request: int, fallback: bool) -> None:
        self.request = request
        self.fallback = fallback


class LoadClient(_Message):
    """Load the client ``ref`` (None: bound to nothing) with the names of ``bindings``; first
    forget what is cached about it when ``forget`` (the host said its data changed)."""

    __slots__ = ("bindings", "forget", "ref")

    def __init__(self, ref: CrmRef | None, bindings: tuple[CrmRef, ...], forget: bool) -> None:
        self.ref = ref
        self.bindings = bindings
        self.forget = forget


class StartTicking(_Message):
    """The call is being talked: send :class:`Tick` until :attr:`CardMachine.talking` is
    False (a shell already ticking goes on)."""

    __slots__ = ()


class NotesStatus(_Message):
    """Tell the notes the call's status (they keep each client's note apart)."""

    __slots__ = ("status",)

    def __init__(self, status: CallStatus) -> None:
        self.status = status


class NotesCallStarted(_Message):
    """Tell the notes a call is connecting or talking."""

    __slots__ = ()


class NotesCallEnded(_Message):
    """Tell the notes the call is over (their hold counts from now)."""

    __slots__ = ()


class NotesClientNamed(_Message):
    """Tell the notes the CRM's name of a client."""

    __slots__ = ("name", "ref")

    def __init__(self, ref: CrmRef, name: str) -> None:
        self.ref = ref
        self.name = name


class NotesBeforeClose(_Message):
    """Tell the notes the card is closing: their last chance to save."""

    __slots__ = ()


class CreateLead(_Message):
    """Create a lead for the caller (``crm.lead.add``) with ``number`` and ``title``; answer
    with :class:`LeadAnswered` carrying ``attempt``, always (a lost answer must be looked up
    before saying it failed: the lead may exist)."""

    __slots__ = ("attempt", "number", "title")

    def __init__(self, attempt: int, number: str, title: str) -> None:
        self.attempt = attempt
        self.number = number
        self.title = title


CardEffect = (ShowCard | Render | RenderClient | ShowTimer | ShowError | AskStatus | LoadClient
              | StartTicking | NotesStatus | NotesCallStarted | NotesCallEnded
              | NotesClientNamed | NotesBeforeClose | CreateLead)


def _no_names(_ref: CrmRef) -> str | None:
    return None


def _same_caller(one: CallerNumber, other: CallerNumber) -> bool:
    """Whether two numbers are one caller's (:func:`~callcard.phone.caller_digits`)."""
    return one.kind == other.kind and caller_digits(one) == caller_digits(other)


class CardMachine:
    """One card's call, client and requests; :meth:`handle` never raises on odd events.

    ``t`` is the portal's language and ``portal`` its origin (for the CRM links), both known
    once the bridge is up.
    """

    def __init__(self, t: Translator, portal: str | None) -> None:
        self._t = t
        self._portal = portal
        self._status: CallStatus | None = None
        self._tracker: CallTracker | None = None
        self._client: ClientInfo | None = None
        self._client_loading = False
        self._requests = 0  # the number of the latest AskStatus
        self._waiting = False  # for the answer to that request
        self._asked_first = False  # that request may draw the card anew (its first status)
        self._events_at_ask = 0
        self._state_events = 0  # valid state events seen: is a getStatus answer stale?
        self._early_state: tuple[CallState, str | None] | None = None
        self._early_entity: EntityChange | None = None  # likewise, for EntityChanged
        self._entity_events = 0
        self._entity_events_at_ask = 0
        self._now = 0.0
        self._leads = 0  # the number of the latest CreateLead
        self._lead_busy = False
        self._lead_problem: str | None = None
        self._made_lead: CrmRef | None = None
        """A lead the card created for this caller: the host's status does not know it (the
        call stays bound to nothing there), so the card keeps it as the client until the host
        moves the card to another client or caller."""

    # ------------------------------------------------------------------ what the card shows

    @property
    def status(self) -> CallStatus | None:
        """The call on the card; None until the first status is shown."""
        return self._status

    @property
    def phase(self) -> Phase | None:
        return self._tracker.phase if self._tracker is not None else None

    @property
    def talking(self) -> bool:
        return self._tracker is not None and self._tracker.phase is Phase.TALKING

    @property
    def client(self) -> ClientInfo | None:
        """The client block's info (only ever the card's current client's)."""
        return self._client

    @property
    def client_loading(self) -> bool:
        return self._client_loading

    @property
    def pending_request(self) -> int | None:
        """The getStatus whose answer the machine waits for, if any."""
        return self._requests if self._waiting else None

    def text(self, now: float) -> CardText:
        """The call's text as of ``now`` (the timer reads the clock)."""
        assert self._status is not None and self._tracker is not None
        client = self._client
        return present(self._status, self._tracker, self._t, portal=self._portal, now=now,
                       names=client.name_of if client else _no_names)

    def client_text(self) -> ClientText:
        assert self._status is not None
        return present_client(
            self._client, self._t, bound=self._status.entity is not None,
            loading=self._client_loading, number=caller_text(self._status, self._t),
            portal=self._portal, current_activity=self._status.activity_id,
            offer_lead=offers_lead(self._status), lead_busy=self._lead_busy,
            lead_problem=self._lead_problem,
        )

    def next_tick_in(self, now: float) -> float:
        """Seconds until the talk timer shows its next second."""
        if self._tracker is None:
            return 1.0
        elapsed = self._tracker.elapsed(now)
        return 1.0 - (elapsed % 1.0) + TICK_PAST_THE_SECOND

    # ------------------------------------------------------------------ events

    def handle(self, event: CardEvent) -> list[CardEffect]:
        """Take one event; the effects to perform, in order."""
        out: list[CardEffect] = []
        match event:
            case Opened(early=early, now=now):
                self._now = now
                if early is not None:
                    self._show_first(early, out)  # at once; getStatus corrects it
                self._ask(first=early is None, out=out)
            case StatusAnswered(request=request, status=status, now=now):
                self._now = now
                self._answered(request, status, out)
            case StatusFailed(request=request):
                if request == self._requests and self._waiting:
                    self._waiting = False
                    if self._asked_first:
                        out.append(ShowError())  # no call to show (or to show again)
            case StateChanged(state=state, failed_code=code, now=now):
                self._now = now
                self._state_changed(state, code, out)
            case EntityChanged(change=change, now=now):
                self._now = now
                self._entity_changed(change, out)
            case ClientAnswered(info=info, ref=ref, now=now):
                self._now = now
                self._client_answered(info, ref, out)
            case ClientRetryRequested(now=now):
                self._now = now
                if self._status is not None and self._status.entity is not None:
                    self._load_client(self._status.entity, out, forget=True)
            case RetryRequested(now=now):
                self._now = now
                self._ask(first=True, out=out)
            case Tick(now=now):
                self._now = now
                if self._tracker is None or self._status is None:
                    pass
                elif self.talking:
                    out.append(ShowTimer(format_duration(self._tracker.elapsed(now))))
                else:
                    self._render(out)  # the frozen, final time
            case BeforeClose():
                out.append(NotesBeforeClose())
            case LeadRequested(now=now):
                self._now = now
                self._lead_requested(out)
            case LeadAnswered(attempt=attempt, lead=lead, problem=problem, now=now):
                self._now = now
                self._lead_answered(attempt, lead, problem, out)
            case _:
                pass
        return out

    # ------------------------------------------------------------------ status

    def _ask(self, *, first: bool, out: list[CardEffect]) -> None:
        self._requests += 1
        self._waiting = True
        self._asked_first = first
        self._events_at_ask = self._state_events
        self._entity_events_at_ask = self._entity_events
        # Only a first load may fall back to the placement options (see the module's rules).
        out.append(AskStatus(self._requests, fallback=first))

    def _answered(self, request: int, status: CallStatus, out: list[CardEffect]) -> None:
        if request != self._requests or not self._waiting:
            return  # a newer status was asked for meanwhile (an entity change)
        self._waiting = False
        first = self._asked_first
        newer_event = self._state_events != self._events_at_ask
        if first or self._status is None:
            self._show_first(status, out)
            early, self._early_state = self._early_state, None
            if newer_event and early is not None:
                self._state_changed(*early, out)
            moved, self._early_entity = self._early_entity, None
            if moved is not None and self._entity_events != self._entity_events_at_ask:
                self._entity_changed(moved, out)  # the answer predates it: follow, ask again
            return
        if newer_event:
            status = replace(status, state=self._status.state)
        self._correct(self._with_made_lead(status), out)

    def _show_first(self, status: CallStatus, out: list[CardEffect]) -> None:
        self._status = status
        self._tracker = CallTracker(status.state, self._now)
        self._client_loading = status.entity is not None
        out.append(ShowCard(self.text(self._now), self.client_text()))
        if self.talking:
            out.append(StartTicking())
        self._load_client(status.entity, out)

    def _correct(self, status: CallStatus, out: list[CardEffect]) -> None:
        """getStatus answered after the first render: it wins over what the card had."""
        assert self._status is not None and self._tracker is not None
        known = (self._status.entity, self._status.bindings)
        self._status = status
        self._tracker.apply(status.state, None, self._now)
        if (status.entity, status.bindings) != known:
            # (the bindings bring names for their links)
            self._load_client(status.entity, out, render_call=True)
        else:
            self._render(out)
        if self.talking:
            out.append(StartTicking())
        out.append(NotesStatus(status))
        self._tell_notes_the_phase(out)

    # ------------------------------------------------------------------ host events

    def _state_changed(self, state: CallState | None, code: str | None,
                       out: list[CardEffect]) -> None:
        if not isinstance(state, CallState):
            return  # a state nobody knows changes nothing (getStatus will say)
        self._state_events += 1
        if self._status is None or self._tracker is None:
            self._early_state = (state, code)  # applied once the first status is shown
            return
        self._status = replace(self._status, state=state)
        if self._tracker.apply(state, code, self._now):
            self._render(out)
            if self.talking:
                out.append(StartTicking())
        self._tell_notes_the_phase(out)

    def _tell_notes_the_phase(self, out: list[CardEffect]) -> None:
        """The notes hold the card with an end that counts only once the call is over."""
        phase = self.phase
        if phase is Phase.ENDED:
            out.append(NotesCallEnded())
        elif phase in (Phase.CONNECTING, Phase.TALKING):
            out.append(NotesCallStarted())

    def _entity_changed(self, change: EntityChange, out: list[CardEffect]) -> None:
        """A new client (next in the dialer, a lead created, a refresh): everything follows."""
        if not isinstance(change, EntityChange):
            return
        self._entity_events += 1
        if self._status is None:
            self._early_entity = change  # applied once the first status is shown
            return
        phone = change.phone if change.phone.kind == "number" else self._status.phone
        entity = change.entity
        if entity is None and self._made_lead is not None and _same_caller(phone,
                                                                            self._status.phone):
            entity = self._made_lead  # the host refreshed the same caller: still our lead
        elif entity != self._made_lead:
            self._made_lead = None  # another client or caller: the lead stays in the CRM
        self._lead_problem = None
        refreshed = entity is not None and entity == self._status.entity
        bindings = self._status.bindings if refreshed else ()
        self._status = replace(self._status, entity=entity, phone=phone, bindings=bindings)
        self._load_client(entity, out, forget=refreshed, render_call=True)
        out.append(NotesStatus(self._status))
        # The event carries no bindings: ask the host for the whole picture again.
        self._ask(first=False, out=out)

    # ------------------------------------------------------------------ a new lead

    def _lead_requested(self, out: list[CardEffect]) -> None:
        status = self._status
        if status is None or self._lead_busy or not offers_lead(status):
            return  # (a second press while the first is on its way creates nothing)
        self._lead_busy = True
        self._lead_problem = None
        self._leads += 1
        number = status.phone.value or ""
        title = self._t.format("lead.title", number=caller_text(status, self._t))
        out.append(RenderClient(self.client_text()))
        out.append(CreateLead(self._leads, number, title))

    def _lead_answered(self, attempt: int, lead: CrmRef | None, problem: str | None,
                       out: list[CardEffect]) -> None:
        if attempt != self._leads or not self._lead_busy or self._status is None:
            return
        self._lead_busy = False
        if lead is None:
            self._lead_problem = problem or "lead.failed"
            out.append(RenderClient(self.client_text()))
            return
        if not offers_lead(self._status):
            # The host bound the call meanwhile (or the dialer moved on): the card follows
            # the host; the lead stays in the CRM.
            out.append(RenderClient(self.client_text()))
            return
        self._made_lead = lead
        self._status = replace(self._status, entity=lead)
        self._load_client(lead, out, render_call=True)
        out.append(NotesStatus(self._status))

    def _with_made_lead(self, status: CallStatus) -> CallStatus:
        """A status from the host, with the lead the card made for this caller when the host
        still knows no client for the call (a client it knows, or another caller, wins)."""
        lead, before = self._made_lead, self._status
        if lead is None or before is None:
            return status
        if status.entity is not None or status.bindings or not _same_caller(status.phone,
                                                                           before.phone):
            self._made_lead = None
            return status
        return replace(status, entity=lead)

    # ------------------------------------------------------------------ client

    def _load_client(self, ref: CrmRef | None, out: list[CardEffect], *,
                     forget: bool = False, render_call: bool = False) -> None:
        assert self._status is not None
        if self._client is not None and self._client.entity != ref:
            self._client = None  # never the previous client's details, even for a moment
        self._client_loading = ref is not None
        if render_call:
            out.append(Render(self.text(self._now)))
        out.append(RenderClient(self.client_text()))
        out.append(LoadClient(ref, self._status.bindings, forget and ref is not None))

    def _client_answered(self, info: ClientInfo | None, ref: CrmRef | None,
                         out: list[CardEffect]) -> None:
        if self._status is None or ref != self._status.entity:
            return  # about a client the card has left (the loader's answer crossed a change)
        if info is not None and info.entity != ref:
            return
        self._client = info
        self._client_loading = info is None and ref is not None
        if info is not None:
            if info.name:
                out.append(NotesClientNamed(info.entity, info.name))
            out.append(Render(self.text(self._now)))  # the links take the names the CRM gave
        out.append(RenderClient(self.client_text()))

    # ------------------------------------------------------------------ rendering

    def _render(self, out: list[CardEffect]) -> None:
        out.append(Render(self.text(self._now)))
        out.append(RenderClient(self.client_text()))

