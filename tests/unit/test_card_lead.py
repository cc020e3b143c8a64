"""A lead for an unknown caller, made from the card (callcard/card_machine.py, callcard/new_lead.py,
callcard/app.py): offered only for an unbound call with a number, made once per press, shown as
the client afterwards (its notes go to it), kept against a host that does not know it, and
dropped as soon as the host moves the card to a real client or another caller."""

from __future__ import annotations

from aio import run, settle
from test_app import FakeBridge, FakeCard, World
from test_card_machine import NUMBER, OTHER_NUMBER, kinds, machine, status

from bx24_bridge.callcard_events import EntityChange
from bx24_bridge.crm_refs import CrmRef, EntityType
from bx24_bridge.errors import RestError, RestTimeout
from bx24_bridge.payloads import CallState
from bx24_bridge.phone_numbers import CallerNumber
from callcard.card_machine import (
    CardMachine,
    CreateLead,
    EntityChanged,
    LeadAnswered,
    LeadRequested,
    LoadClient,
    NotesStatus,
    Opened,
    RenderClient,
    StatusAnswered,
)
from callcard.new_lead import found_lead, lead_from_answer, lead_params, lead_problem

LEAD = CrmRef(EntityType.LEAD, 33)
IVAN = CrmRef(EntityType.CONTACT, 17)


def unbound_card() -> CardMachine:
    card = machine()
    card.handle(Opened(status(entity=None), 0.0))
    card.handle(StatusAnswered(1, status(entity=None), 0.1))
    return card


def card_with_its_lead() -> CardMachine:
    """An unbound call for which the card has made lead 33."""
    card = unbound_card()
    card.handle(LeadRequested(1.0))
    card.handle(LeadAnswered(1, LEAD, None, 2.0))
    return card


def test_an_unbound_call_with_a_number_offers_a_lead_and_one_press_makes_one() -> None:
    card = unbound_card()
    assert card.client_text().lead == "Create a lead"
    out = card.handle(LeadRequested(1.0))
    assert out[-1] == CreateLead(1, "+79001234567", "Call from +7 900 123-45-67")
    busy = out[0]
    assert isinstance(busy, RenderClient) and busy.client.lead_busy
    assert busy.client.lead == "Creating a lead…"
    assert card.handle(LeadRequested(1.1)) == []  # pressed again while it is on its way


def test_the_lead_becomes_the_client_and_the_notes_follow_it() -> None:
    card = unbound_card()
    card.handle(LeadRequested(1.0))
    out = card.handle(LeadAnswered(1, LEAD, None, 2.0))
    assert LoadClient(LEAD, (), False) in out
    assert NotesStatus(card.status) in out  # type: ignore[arg-type]
    assert card.status is not None and card.status.entity == LEAD
    assert card.client_text().lead is None
    text = card.text(2.0)
    assert text.crm_entity is not None and text.crm_entity.path == "/crm/lead/details/33/"


def test_a_host_that_does_not_know_the_lead_does_not_undo_it() -> None:
    card = card_with_its_lead()
    # A later getStatus (after a state change, say) still says "bound to nothing".
    card.handle(EntityChanged(EntityChange(NUMBER, None), 3.0))
    assert card.status is not None and card.status.entity == LEAD
    card.handle(StatusAnswered(2, status(entity=None, state=CallState.CONNECTED), 3.1))
    assert card.status.entity == LEAD


def test_the_host_s_own_client_or_another_caller_wins_over_the_lead() -> None:
    card = card_with_its_lead()
    card.handle(EntityChanged(EntityChange(NUMBER, IVAN), 3.0))
    assert card.status is not None and card.status.entity == IVAN
    card.handle(EntityChanged(EntityChange(NUMBER, None), 4.0))
    assert card.status.entity is None, "the lead is forgotten once the host moved on"

    other = card_with_its_lead()
    other.handle(EntityChanged(EntityChange(OTHER_NUMBER, None), 3.0))  # the dialer's next
    assert other.status is not None and other.status.entity is None
    assert other.client_text().lead == "Create a lead"


def test_a_failed_lead_says_why_and_may_be_tried_again() -> None:
    card = unbound_card()
    card.handle(LeadRequested(1.0))
    card.handle(LeadAnswered(1, None, "lead.no_access", 2.0))
    client = card.client_text()
    assert client.problem == "You may not create leads on this portal."
    assert client.lead == "Create a lead" and not client.lead_busy
    assert kinds(card.handle(LeadRequested(3.0)))[-1] == "CreateLead"
    assert card.handle(LeadAnswered(1, LEAD, None, 4.0)) == [], "a stale answer changes nothing"


def test_no_lead_is_offered_for_a_bound_or_a_hidden_caller() -> None:
    bound = machine()
    bound.handle(Opened(status(), 0.0))
    assert bound.client_text().lead is None and bound.handle(LeadRequested(1.0)) == []
    hidden = machine()
    hidden_status = status(entity=None)
    hidden.handle(Opened(type(hidden_status)(call_id="c", phone=CallerNumber("hidden")), 0.0))
    assert hidden.client_text().lead is None and hidden.handle(LeadRequested(1.0)) == []


def test_a_lead_answered_after_the_host_bound_the_call_is_left_alone() -> None:
    card = unbound_card()
    card.handle(LeadRequested(1.0))
    card.handle(EntityChanged(EntityChange(NUMBER, IVAN), 1.5))
    card.handle(LeadAnswered(1, LEAD, None, 2.0))
    assert card.status is not None and card.status.entity == IVAN


def test_the_rest_side_of_a_lead() -> None:
    assert lead_params("+79001234567", "Call from +7 900 123-45-67") == {"fields": {
        "TITLE": "Call from +7 900 123-45-67",
        "PHONE": [{"VALUE": "+79001234567", "VALUE_TYPE": "WORK"}], "SOURCE_ID": "CALL"}}
    assert lead_from_answer(33) == LEAD and lead_from_answer("33") == LEAD
    for junk in (None, 0, -1, "x", True, {"ID": 3}):
        assert lead_from_answer(junk) is None
    assert found_lead({"LEAD": [12, "33", None]}) == LEAD
    for junk in (None, [], {"LEAD": []}, {"LEAD": "33"}, {"CONTACT": [1]}):
        assert found_lead(junk) is None
    assert lead_problem("ACCESS_DENIED") == "lead.no_access"
    assert lead_problem("ERROR_CORE") == lead_problem(None) == "lead.failed"


# --------------------------------------------------------------------------- the shell


def press_create_lead(answers: list[object]) -> tuple[list[str], CardMachine]:
    """An unbound card whose portal answers the lead's calls with ``answers``: the operator
    presses Create a lead; the REST methods called, and the card's machine after."""
    bridge = FakeBridge()
    bridge.method_answers = answers
    world = World(bridge=bridge, card=FakeCard(options=status(entity=None),
                                               answers=[status(entity=None)]))
    machine: list[CardMachine] = []

    async def scenario() -> None:
        await world.app.start()
        world.view.on_create_lead()
        await settle()
        assert world.app.machine is not None
        machine.append(world.app.machine)

    run(scenario())
    return [method for method, _ in bridge.methods], machine[0]


def test_the_shell_creates_the_lead_and_looks_it_up_when_the_answer_is_lost() -> None:
    methods, machine = press_create_lead([RestTimeout("crm.lead.add", 20.0), {"LEAD": [33]}])
    assert methods == ["crm.lead.add", "crm.duplicate.findbycomm"]
    assert machine.status is not None
    assert machine.status.entity == LEAD


def test_the_shell_says_why_a_lead_was_refused() -> None:
    methods, machine = press_create_lead([RestError("crm.lead.add", "ACCESS_DENIED", "no")])
    assert methods == ["crm.lead.add"]
    assert machine.client_text().problem == "У вас нет права создавать лиды на этом портале."


def test_an_answer_that_names_no_lead_is_looked_up_too() -> None:
    methods, machine = press_create_lead([{"odd": "answer"}, {"LEAD": []}])
    assert methods == ["crm.lead.add", "crm.duplicate.findbycomm"]
    assert machine.status is not None
    assert machine.status.entity is None
    assert machine.client_text().problem is not None  # it says so; the button is back
    assert machine.client_text().lead is not None
