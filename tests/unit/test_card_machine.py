"""The card machine's rules, one example each: what the card shows first, which getStatus answer
counts, how events that arrive meanwhile win, and that the client block never shows a client the
card has left. The races in every order are tests/unit/test_card_machine_races.py.
"""

from __future__ import annotations

from bx24_bridge.callcard_events import EntityChange
from bx24_bridge.crm_refs import CrmRef, EntityType
from bx24_bridge.payloads import CallDirection, CallState, CallStatus
from bx24_bridge.phone_numbers import CallerNumber
from callcard.callstate import Phase
from callcard.card_machine import (
    AskStatus,
    BeforeClose,
    CardEffect,
    CardMachine,
    ClientAnswered,
    ClientRetryRequested,
    EntityChanged,
    LoadClient,
    NotesBeforeClose,
    NotesCallEnded,
    NotesCallStarted,
    NotesClientNamed,
    NotesStatus,
    Opened,
    Render,
    RenderClient,
    RetryRequested,
    ShowCard,
    ShowError,
    ShowTimer,
    StartTicking,
    StateChanged,
    StatusAnswered,
    StatusFailed,
    Tick,
)
from callcard.client import ClientInfo
from callcard.i18n import Translator

IVAN = CrmRef(EntityType.CONTACT, 17)
ROMASHKA = CrmRef(EntityType.COMPANY, 5)
NUMBER = CallerNumber("number", "+79001234567")
OTHER_NUMBER = CallerNumber("number", "+79007654321")


def status(state: CallState | None = CallState.CONNECTING, entity: CrmRef | None = IVAN,
           bindings: tuple[CrmRef, ...] = ()) -> CallStatus:
    return CallStatus(call_id="call-1", phone=NUMBER, entity=entity, state=state,
                      bindings=bindings, direction=CallDirection.INCOMING)


def machine() -> CardMachine:
    return CardMachine(Translator("en"), "https://portal.bitrix24.ru")


def kinds(effects: list[CardEffect]) -> list[str]:
    return [type(effect).__name__ for effect in effects]


def opened_early(card: CardMachine, early: CallStatus | None = None) -> list[CardEffect]:
    return card.handle(Opened(early or status(), 0.0))


# --------------------------------------------------------------------------- first render


def test_options_with_a_call_draw_the_card_at_once_and_getstatus_goes_without_fallback() -> None:
    card = machine()
    effects = opened_early(card)
    assert kinds(effects) == ["ShowCard", "RenderClient", "LoadClient", "AskStatus"]
    show = effects[0]
    assert isinstance(show, ShowCard)
    assert show.text.caller_number == "+7 900 123-45-67"
    assert show.client.details == "Loading client details…"
    assert effects[2] == LoadClient(IVAN, (), False)
    # Once the card is up, the options must never stand in for getStatus again.
    assert effects[3] == AskStatus(1, fallback=False)
    assert card.phase is Phase.CONNECTING


def test_options_without_a_call_wait_for_getstatus_which_may_fall_back_to_them() -> None:
    card = machine()
    assert card.handle(Opened(None, 0.0)) == [AskStatus(1, fallback=True)]
    assert card.status is None
    effects = card.handle(StatusAnswered(1, status(), 0.1))
    assert kinds(effects)[0] == "ShowCard"
    assert card.status == status()


def test_a_first_getstatus_that_fails_shows_the_error_and_retry_asks_again() -> None:
    card = machine()
    card.handle(Opened(None, 0.0))
    assert card.handle(StatusFailed(1)) == [ShowError()]
    assert card.pending_request is None
    assert card.handle(RetryRequested(1.0)) == [AskStatus(2, fallback=True)]
    assert kinds(card.handle(StatusAnswered(2, status(), 1.1)))[0] == "ShowCard"


def test_a_later_getstatus_that_fails_keeps_the_card_as_it_is() -> None:
    card = machine()
    opened_early(card)
    assert card.handle(StatusFailed(1)) == []
    assert card.status == status()


def test_retry_after_the_card_was_shown_draws_it_anew_from_the_answer() -> None:
    card = machine()
    opened_early(card)
    card.handle(StatusAnswered(1, status(), 0.1))
    assert card.handle(RetryRequested(2.0)) == [AskStatus(2, fallback=True)]
    assert kinds(card.handle(StatusAnswered(2, status(CallState.CONNECTED), 2.1)))[:2] == [
        "ShowCard", "StartTicking"]


def test_getstatus_corrects_what_the_options_said() -> None:
    card = machine()
    opened_early(card, status(CallState.CONNECTING))
    effects = card.handle(StatusAnswered(1, status(CallState.CONNECTED), 0.2))
    assert card.phase is Phase.TALKING
    # The answer may be the first to say "connected": the timer must start then too.
    assert StartTicking() in effects
    assert NotesStatus(status(CallState.CONNECTED)) in effects
    assert effects[-1] == NotesCallStarted()


def test_new_bindings_in_an_answer_load_the_client_again_for_their_names() -> None:
    card = machine()
    opened_early(card)
    effects = card.handle(StatusAnswered(1, status(bindings=(ROMASHKA,)), 0.2))
    assert LoadClient(IVAN, (ROMASHKA,), False) in effects


# --------------------------------------------------------------------------- stale answers


def test_an_answer_to_an_older_getstatus_is_dropped() -> None:
    card = machine()
    opened_early(card)
    effects = card.handle(EntityChanged(EntityChange(OTHER_NUMBER, ROMASHKA), 0.5))
    assert effects[-1] == AskStatus(2, fallback=False)
    # Request 1 was answered before the host moved on: it describes Ivan.
    assert card.handle(StatusAnswered(1, status(entity=IVAN), 0.6)) == []
    assert card.status is not None and card.status.entity == ROMASHKA
    card.handle(StatusAnswered(2, status(entity=ROMASHKA), 0.7))
    assert card.status is not None and card.status.entity == ROMASHKA
    assert card.handle(StatusAnswered(2, status(entity=IVAN), 0.8)) == [], "answered twice"


def test_a_state_event_during_getstatus_wins_over_its_answer() -> None:
    card = machine()
    opened_early(card, status(CallState.CONNECTING))
    card.handle(StateChanged(CallState.CONNECTED, None, 0.3))
    card.handle(StatusAnswered(1, status(CallState.CONNECTING), 0.4))
    assert card.phase is Phase.TALKING
    assert card.status is not None and card.status.state is CallState.CONNECTED


def test_a_state_event_before_the_first_status_is_applied_once_it_is_shown() -> None:
    card = machine()
    card.handle(Opened(None, 0.0))
    assert card.handle(StateChanged(CallState.CONNECTED, None, 0.1)) == []
    effects = card.handle(StatusAnswered(1, status(CallState.CONNECTING), 0.2))
    assert kinds(effects)[0] == "ShowCard"
    assert card.phase is Phase.TALKING
    assert StartTicking() in effects


def test_a_state_event_before_the_request_does_not_override_its_answer() -> None:
    card = machine()
    opened_early(card, status(CallState.CONNECTING))
    card.handle(StatusAnswered(1, status(), 0.1))
    card.handle(StateChanged(CallState.CONNECTED, None, 0.2))
    card.handle(EntityChanged(EntityChange(NUMBER, IVAN), 0.3))  # asks request 2
    card.handle(StatusAnswered(2, status(CallState.IDLE), 0.4))
    assert card.phase is Phase.ENDED


def test_an_unknown_state_changes_nothing() -> None:
    card = machine()
    opened_early(card)
    assert card.handle(StateChanged(None, None, 0.1)) == []
    assert card.phase is Phase.CONNECTING


# --------------------------------------------------------------------------- entity changes


def test_an_entity_change_follows_the_client_and_asks_for_the_whole_status() -> None:
    card = machine()
    opened_early(card, status(bindings=(ROMASHKA,)))
    effects = card.handle(EntityChanged(EntityChange(OTHER_NUMBER, ROMASHKA), 0.5))
    assert kinds(effects) == ["Render", "RenderClient", "LoadClient", "NotesStatus", "AskStatus"]
    assert effects[2] == LoadClient(ROMASHKA, (), False)  # the event carries no bindings
    moved = card.status
    assert moved is not None and moved.phone == OTHER_NUMBER and moved.entity == ROMASHKA


def test_an_entity_change_to_the_same_client_is_a_refresh_that_forgets_its_cache() -> None:
    card = machine()
    opened_early(card, status(bindings=(ROMASHKA,)))
    effects = card.handle(EntityChanged(EntityChange(CallerNumber("unknown"), IVAN), 0.5))
    assert LoadClient(IVAN, (ROMASHKA,), True) in effects
    assert card.status is not None and card.status.phone == NUMBER  # "unknown" keeps the number


def test_an_entity_change_before_any_status_waits_for_it_then_wins_over_an_older_answer() -> None:
    card = machine()
    card.handle(Opened(None, 0.0))
    assert card.handle(EntityChanged(EntityChange(NUMBER, ROMASHKA), 0.1)) == []
    # The answer was on its way before the host moved on: it still names Ivan.
    effects = card.handle(StatusAnswered(1, status(entity=IVAN), 0.2))
    assert kinds(effects)[0] == "ShowCard"
    assert card.status is not None and card.status.entity == ROMASHKA
    assert effects[-1] == AskStatus(2, fallback=False)


def test_an_entity_change_before_the_request_was_asked_is_in_its_answer() -> None:
    card = machine()
    card.handle(Opened(None, 0.0))
    card.handle(EntityChanged(EntityChange(NUMBER, ROMASHKA), 0.1))
    card.handle(StatusFailed(1))
    card.handle(RetryRequested(0.5))
    effects = card.handle(StatusAnswered(2, status(entity=ROMASHKA), 0.6))
    assert AskStatus(3, fallback=False) not in effects
    assert card.status is not None and card.status.entity == ROMASHKA


def test_an_unbound_card_loads_no_client_and_says_new_client() -> None:
    card = machine()
    effects = opened_early(card, status(entity=None))
    assert LoadClient(None, (), False) in effects
    show = effects[0]
    assert isinstance(show, ShowCard) and show.client.name == "New client"


# --------------------------------------------------------------------------- client answers


def test_the_client_answer_names_the_client_and_its_links() -> None:
    card = machine()
    opened_early(card)
    info = ClientInfo(entity=IVAN, name="Ivan Petrov", names=((IVAN, "Ivan Petrov"),))
    effects = card.handle(ClientAnswered(info, IVAN, 0.3))
    assert kinds(effects) == ["NotesClientNamed", "Render", "RenderClient"]
    assert effects[0] == NotesClientNamed(IVAN, "Ivan Petrov")
    render = effects[1]
    assert isinstance(render, Render) and render.text.crm_entity is not None
    assert render.text.crm_entity.label == "Ivan Petrov"
    assert effects[2] == RenderClient(card.client_text())
    assert card.client_text().name == "Ivan Petrov"
    assert not card.client_loading


def test_an_answer_about_the_client_the_card_left_is_dropped() -> None:
    card = machine()
    opened_early(card)
    card.handle(EntityChanged(EntityChange(OTHER_NUMBER, ROMASHKA), 0.5))
    assert card.handle(ClientAnswered(ClientInfo(entity=IVAN, name="Ivan Petrov"), IVAN, 0.6)) == []
    assert card.client is None and card.client_loading


def test_an_answer_whose_info_names_another_item_is_dropped() -> None:
    card = machine()
    opened_early(card)
    romashka = ClientInfo(entity=ROMASHKA, name="Romashka")
    assert card.handle(ClientAnswered(romashka, IVAN, 0.3)) == []


def test_leaving_a_client_clears_its_details_at_once() -> None:
    card = machine()
    opened_early(card)
    card.handle(ClientAnswered(ClientInfo(entity=IVAN, name="Ivan Petrov"), IVAN, 0.3))
    effects = card.handle(EntityChanged(EntityChange(OTHER_NUMBER, ROMASHKA), 0.5))
    render_client = effects[1]
    assert isinstance(render_client, RenderClient)
    assert render_client.client.name == "" and card.client is None


def test_the_client_retry_forgets_and_loads_the_current_client() -> None:
    card = machine()
    opened_early(card)
    effects = card.handle(ClientRetryRequested(1.0))
    assert effects[-1] == LoadClient(IVAN, (), True)
    unbound = machine()
    opened_early(unbound, status(entity=None))
    assert unbound.handle(ClientRetryRequested(1.0)) == []


# --------------------------------------------------------------------------- timer and close


def test_the_timer_ticks_while_talking_and_freezes_at_the_end() -> None:
    card = machine()
    opened_early(card, status(CallState.CONNECTED))
    assert card.talking
    assert card.handle(Tick(65.2)) == [ShowTimer("1:05")]
    assert abs(card.next_tick_in(65.2) - 0.805) < 1e-9
    effects = card.handle(StateChanged(CallState.IDLE, None, 70.0))
    assert NotesCallEnded() in effects and not card.talking
    final = card.handle(Tick(71.0))
    assert kinds(final) == ["Render", "RenderClient"]
    render = final[0]
    assert isinstance(render, Render) and render.text.call_timer == "1:10"


def test_before_close_goes_to_the_notes() -> None:
    card = machine()
    assert card.handle(BeforeClose()) == [NotesBeforeClose()]


def test_events_and_effects_compare_by_value_and_read_well() -> None:
    assert AskStatus(1, fallback=True) == AskStatus(1, True)
    assert AskStatus(1, fallback=True) != AskStatus(2, fallback=True)
    assert AskStatus(1, True) != LoadClient(None, (), True)
    assert hash(AskStatus(1, True)) == hash(AskStatus(1, True))
    assert repr(AskStatus(3, False)) == "AskStatus(fallback=False, request=3)"
