"""The card machine against a simulated host, in every order hypothesis can find.

The host (docs/host-contract.md#events, #status) keeps the call's state and client, updates them
before it tells the card, and sends events and getStatus answers to the frame in the order it
produces them (one postMessage channel). It answers getStatus whenever it gets round to it, so an
answer may describe the call before or after any event it crosses; sometimes it fails. In the
frame, an event reaches the machine as it arrives, but an answer only resolves the request's
future: the machine sees it when the awaiting task next runs, after any events that arrived
meanwhile. The client loader answers in any order at all, the stale answers included. The
operator presses Retry, and Create a lead (the portal answers with the lead, or fails).

What must hold:

* the client block never shows a client other than the card's (at any moment);
* an answer to an older getStatus never changes the card;
* once everything in flight has arrived, the card shows the host's state and client (or, while
  the host knows none, the lead the card made), and its client block the client's details.
"""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass, field

from hypothesis import settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, invariant, precondition, rule

from bx24_bridge.callcard_events import EntityChange
from bx24_bridge.crm_refs import CrmRef, EntityType
from bx24_bridge.payloads import CallDirection, CallState, CallStatus
from bx24_bridge.phone_numbers import CallerNumber
from callcard.card_machine import (
    AskStatus,
    CardEvent,
    CardMachine,
    ClientAnswered,
    CreateLead,
    EntityChanged,
    LeadAnswered,
    LeadRequested,
    LoadClient,
    Opened,
    RetryRequested,
    ShowCard,
    ShowError,
    StateChanged,
    StatusAnswered,
    StatusFailed,
)
from callcard.client import ClientInfo
from callcard.i18n import Translator

CLIENTS = (None, CrmRef(EntityType.CONTACT, 1), CrmRef(EntityType.COMPANY, 2),
           CrmRef(EntityType.LEAD, 3), CrmRef(EntityType.DEAL, 4))
STATES = tuple(CallState)
NUMBER = CallerNumber("number", "+79001234567")
MADE_LEAD = CrmRef(EntityType.LEAD, 99)


def name_of(ref: CrmRef) -> str:
    return f"{ref.type.value} {ref.id}"


@dataclass
class Host:
    state: CallState = CallState.CONNECTING
    entity: CrmRef | None = CLIENTS[1]
    #: Messages to the frame, in the order the host sent them.
    to_frame: deque[CardEvent] = field(default_factory=deque[CardEvent])
    #: getStatus requests the host has not handled yet, oldest first.
    asked: deque[int] = field(default_factory=deque[int])

    def status(self) -> CallStatus:
        return CallStatus(call_id="call-1", phone=NUMBER, entity=self.entity, state=self.state,
                          direction=CallDirection.OUTGOING)


class CardRaces(RuleBasedStateMachine):
    def __init__(self) -> None:
        super().__init__()
        self.host = Host()
        self.card = CardMachine(Translator("en"), None)
        self.now = 0.0
        self.loads: list[CrmRef] = []  # the client loads the card asked for, in any order later
        self.latest_request = 0
        self.error_shown = False
        #: Answers the frame has received whose awaiting tasks have not run yet, oldest first.
        self.resolved: deque[StatusAnswered | StatusFailed] = deque()
        self.leads_asked: list[int] = []  # CreateLead attempts the portal has not answered
        self.lead_made = False

    # ------------------------------------------------------------------ plumbing

    def feed(self, event: CardEvent) -> None:
        self.now += 0.01
        before = self.card.status
        effects = self.card.handle(event)
        if isinstance(event, StatusAnswered) and event.request != self.latest_request:
            assert effects == [], f"a stale answer changed the card: {effects}"
            assert self.card.status == before
        for effect in effects:
            if isinstance(effect, AskStatus):
                assert effect.request > self.latest_request
                self.latest_request = effect.request
                self.host.asked.append(effect.request)
            elif isinstance(effect, LoadClient) and effect.ref is not None:
                self.loads.append(effect.ref)
            elif isinstance(effect, ShowError):
                self.error_shown = True
            elif isinstance(effect, ShowCard):
                self.error_shown = False
            elif isinstance(effect, CreateLead):
                assert self.card.status is not None and self.card.status.entity is None
                self.leads_asked.append(effect.attempt)

    # ------------------------------------------------------------------ the world

    @rule(early=st.booleans())
    @precondition(lambda self: self.latest_request == 0)
    def open_the_card(self, early: bool) -> None:
        self.feed(Opened(self.host.status() if early else None, self.now))

    @rule(state=st.sampled_from(STATES))
    def host_changes_the_state(self, state: CallState) -> None:
        self.host.state = state
        self.host.to_frame.append(StateChanged(state, None, 0.0))

    @rule(entity=st.sampled_from(CLIENTS))
    def host_moves_to_a_client(self, entity: CrmRef | None) -> None:
        self.host.entity = entity
        self.host.to_frame.append(EntityChanged(EntityChange(NUMBER, entity), 0.0))

    @rule(fails=st.booleans())
    @precondition(lambda self: bool(self.host.asked))
    def host_answers_getstatus(self, fails: bool) -> None:
        request = self.host.asked.popleft()
        self.host.to_frame.append(
            StatusFailed(request) if fails else StatusAnswered(request, self.host.status(), 0.0))

    @rule()
    @precondition(lambda self: bool(self.host.to_frame))
    def frame_receives(self) -> None:
        message = self.host.to_frame.popleft()
        if isinstance(message, StatusAnswered | StatusFailed):
            self.resolved.append(message)  # the awaiting task runs later
            return
        if isinstance(message, StateChanged):
            message = StateChanged(message.state, message.failed_code, self.now)
        elif isinstance(message, EntityChanged):
            message = EntityChanged(message.change, self.now)
        self.feed(message)

    @rule()
    @precondition(lambda self: bool(self.resolved))
    def awaiting_task_runs(self) -> None:
        message = self.resolved.popleft()
        if isinstance(message, StatusAnswered):
            message = StatusAnswered(message.request, message.status, self.now)
        self.feed(message)

    @rule(data=st.data())
    @precondition(lambda self: bool(self.loads))
    def loader_answers(self, data: st.DataObject) -> None:
        ref = self.loads.pop(data.draw(st.integers(0, len(self.loads) - 1)))
        self.feed(ClientAnswered(ClientInfo(entity=ref, name=name_of(ref)), ref, self.now))

    @rule()
    @precondition(lambda self: self.card.status is not None)
    def operator_creates_a_lead(self) -> None:
        self.feed(LeadRequested(self.now))

    @rule(made=st.booleans())
    @precondition(lambda self: bool(self.leads_asked))
    def portal_answers_the_lead(self, made: bool) -> None:
        attempt = self.leads_asked.pop(0)
        self.lead_made = self.lead_made or made
        self.feed(LeadAnswered(attempt, MADE_LEAD if made else None,
                               None if made else "lead.failed", self.now))

    @rule()
    @precondition(lambda self: self.error_shown)
    def operator_retries(self) -> None:
        self.feed(RetryRequested(self.now))

    # ------------------------------------------------------------------ what must hold

    @invariant()
    def the_client_block_shows_only_the_cards_client(self) -> None:
        client, shown = self.card.client, self.card.status
        if client is not None:
            assert shown is not None and client.entity == shown.entity

    def teardown(self) -> None:
        """Let everything in flight arrive (answers succeed now), then compare with the host."""
        if self.latest_request == 0:
            return
        for _ in range(3):  # a retry after an error, then its answer
            while self.host.asked or self.host.to_frame or self.resolved:
                if self.host.asked:
                    self.host_answers_getstatus(fails=False)
                while self.host.to_frame:
                    self.frame_receives()
                while self.resolved:
                    self.awaiting_task_runs()
            if self.error_shown:
                self.operator_retries()
        while self.loads:
            ref = self.loads.pop(0)  # in the order asked: the current client's comes last
            self.feed(ClientAnswered(ClientInfo(entity=ref, name=name_of(ref)), ref, self.now))
        while self.leads_asked:
            self.portal_answers_the_lead(made=False)
        shown = self.card.status
        assert not self.error_shown
        assert shown is not None
        if self.host.entity is not None or not self.lead_made:
            assert shown.entity == self.host.entity  # the host's own client always wins
        else:
            assert shown.entity in (None, MADE_LEAD)
        assert shown.state is self.host.state
        assert self.card.pending_request is None
        if shown.entity is None:
            assert self.card.client is None and not self.card.client_loading
        else:
            assert self.card.client is not None and self.card.client.entity == shown.entity
            assert self.card.client_text().name == name_of(shown.entity)


CardRaces.TestCase.settings = settings(max_examples=300, stateful_step_count=40, deadline=None)
TestCardRaces = CardRaces.TestCase
