"""The notes' shell: it performs what :class:`~callcard.notes.NotesMachine` decides.

The machine is pure and holds every rule (whose note is whose, what is unsaved, when to save,
when the card may close). This shell only turns its effects into actions (the draft store, the
REST saves, the auto-close commands, the textarea) and feeds the outcomes back as events, with
the clock's time; then it tells the view what to say. Everything it acts on is a port given by
the page's wiring (callcard/page.py): the browser's localStorage and clocks are in
callcard/browser_ports.py, so this module is pure and CPython runs it with fakes
(tests/unit/test_notes_shell.py).
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from datetime import datetime
from typing import Any

from bx24_bridge.crm_refs import CrmRef
from bx24_bridge.errors import BridgeError, RestError, RestTimeout
from bx24_bridge.payloads import CallStatus
from bx24_bridge.values import replace
from bx24_bridge.wire import as_object, parse_id

from .callbacks import (
    FIND_METHOD,
    MOVE_METHOD,
    CreateTodo,
    FindTodo,
    MoveTodo,
    Reminders,
    ReminderState,
    ReminderStore,
    Request,
    create_plan,
    find_params,
    found_todo,
    move_params,
    parse_choice,
    reminder_time,
)
from .comment import (
    ADD_METHOD,
    LIST_METHOD,
    MAX_NOTE_LEN,
    UPDATE_METHOD,
    CommentHeader,
    CommentTarget,
    Outcome,
    SaveProblem,
    choose_target,
    comment_with_text,
    header_fields,
    header_from_fields,
    list_params,
    number_words,
    parse_outcome,
    problem_for_code,
)
from .drafts import LEGACY_CLIENT, DraftStore, KeyValueStore, StoredNote
from .i18n import Translator
from .notes import (
    Activity,
    AddComment,
    BeforeClose,
    CallEnded,
    CallStarted,
    ClientChanged,
    ClientNamed,
    CloseNow,
    CommentFound,
    DisableAutoClose,
    DraftRestored,
    EnableAutoClose,
    Event,
    FindComment,
    KeepOpenChanged,
    NoteKey,
    NotesMachine,
    NotesState,
    OtherNote,
    OtherWork,
    OutcomeChosen,
    RemoveDraft,
    SaveFailed,
    SaveRequested,
    SaveSucceeded,
    SetText,
    StoreDraft,
    TextChanged,
    Tick,
    Unbound,
    UpdateComment,
    note_key_from_text,
)
from .ports import (
    AutoClose,
    Clock,
    LocalTime,
    NotesHandlers,
    NotesScreen,
    OtherNoteText,
    RestCalls,
    Spawn,
)
from .present import date_time_text

logger = logging.getLogger("callcard.notes")

TICK_SECONDS = 0.25  # drives the debounce, the auto-close renewals and the hold's end
SAVE_TIMEOUT = 20.0
ACTIVITY_EVERY = 1.0  # a key or click tells the machine at most this often that someone is there


def problem_for(error: BridgeError, *, updating: bool) -> SaveProblem:
    """What a failed save means for the operator (the REST details go to the console)."""
    if isinstance(error, RestTimeout):
        return SaveProblem.TIMEOUT
    if isinstance(error, RestError):
        return problem_for_code(error.code, updating=updating)
    return SaveProblem.UNAVAILABLE


class NotesShell:
    """Notes of one card: the machine, its draft store, and the view's notes controls."""

    def __init__(
        self, *, rest: RestCalls, card: AutoClose, view: NotesScreen, status: CallStatus,
        t: Translator, portal: str, storage: KeyValueStore, clock: Clock, wall_clock: Clock,
        local_now: LocalTime, spawn: Spawn,
        utc_offset_at: Callable[[datetime], int] = lambda _when: 0,
    ) -> None:
        """``clock`` is monotonic (the machine's time); ``wall_clock`` is seconds since the
        epoch, for draft ages (they outlive the page); ``local_now`` gives the operator's local
        time for comment headers, the hold's end and call-backs; ``utc_offset_at`` its offset
        from UTC in minutes at a given local time (that day's, across a daylight-saving change),
        so a to-do's deadline is the moment the operator meant."""
        self._bridge = rest
        self._card = card
        self._view = view
        self._t = t
        self._clock = clock
        self._wall_clock = wall_clock
        self._local_now = local_now
        self._spawn = spawn
        # The card's first CALL_ID names its notes: a dialer may start a new call under the
        # same card, and the notes of all its clients stay together.
        self._call_id = status.call_id
        self._drafts = DraftStore(storage, portal or "local")
        header = CommentHeader(direction=status.direction, number=status.phone,
                               started=local_now(0.0))
        self._machine = NotesMachine(header=header, target=choose_target(status), t=t)
        self._utc_offset_at = utc_offset_at
        self._phone = status.phone
        self._reminders = Reminders()
        self._reminder_store = ReminderStore(storage, portal or "local")
        self._reminder_note: str | None = None  # why the last choice made no reminder
        self._held_for_reminders = False
        self._legacy_draft = False  # an earlier version's draft waits to be stored anew
        self._drafts_refused = False  # the browser would not keep a draft: said once, quietly
        self._last_activity = float("-inf")
        self._ticker: asyncio.Future[None] | None = None
        self.handlers = NotesHandlers(
            on_input=lambda text: self._handle(TextChanged(text[:MAX_NOTE_LEN], self._clock())),
            on_save=lambda: self._handle(SaveRequested(self._clock())),
            on_keep_open=lambda checked: self._handle(KeepOpenChanged(checked, self._clock())),
            on_close_now=lambda: self._handle(CloseNow(self._clock())),
            on_activity=self._activity,
            on_outcome=self._outcome,
            on_callback=self._callback,
            max_length=MAX_NOTE_LEN,
        )

    # ------------------------------------------------------------------ lifecycle

    def attach(self) -> None:
        """After the view has the controls: restore this call's notes, prune old ones, tick."""
        try:
            self._drafts.prune(self._wall_clock())
        except Exception:  # a broken store must never stop the card
            logger.exception("pruning old drafts failed")
        for stored in self._drafts.load(self._call_id) if self._call_id else []:
            self._restore(stored)
        try:
            self._reminder_store.prune(self._wall_clock())
        except Exception:
            logger.exception("pruning old reminders failed")
        for reminder in self._reminder_store.load(self._call_id):
            self._send(self._reminders.restore(reminder))
        self._render()
        self._ticker = self._spawn(self._tick())

    def redrawn(self) -> None:
        """The view drew the notes controls anew (a retry after an error): they show this
        machine's text and state again. Nothing restarts: the drafts were restored once and the
        ticker runs on (a second would double every renewal)."""
        self._view.set_notes_text(self._machine.text)
        self._render()

    def _restore(self, stored: StoredNote) -> None:
        if stored.client == LEGACY_CLIENT:
            key: NoteKey | None = self._machine.client
            self._legacy_draft = True
        else:
            key = note_key_from_text(stored.client)
        if key is None:
            logger.warning("a stored note names no client; left in the store")
            return
        header = header_from_fields(dict(stored.header)) if stored.header else None
        lost = stored.lost
        if lost is None and stored.comment_id is None and self._call_id:
            # An add was on its way when the last page died: it may be in the CRM. Written into
            # the note's own draft (so a second reload knows too), then the mark goes.
            lost = self._drafts.adding(self._call_id, stored.client)
            if lost is not None and self._drafts.save(self._call_id, replace(stored, lost=lost)):
                self._drafts.clear_adding(self._call_id, stored.client)
        self._handle(DraftRestored(key, stored.text, self._clock(), stored.comment_id,
                                   stored.saved, header, lost))

    def status_changed(self, status: CallStatus) -> None:
        """The card may be about another client now (the dialer's next, a lead made from the
        card, a refreshed status): the machine keeps each client's notes apart."""
        if status.call_id and self._call_id and status.call_id != self._call_id:
            logger.info("a new CALL_ID under the same card; its notes stay with the card")
        self._phone = status.phone
        self._reminder_note = None
        self._handle(ClientChanged(choose_target(status), self._clock(), status.phone,
                                   self._local_now(0.0)))

    def client_named(self, ref: CrmRef, name: str) -> None:
        """The CRM answered with the client's name: comment headers and the list use it."""
        if name:
            self._handle(ClientNamed(CommentTarget.from_ref(ref), name))

    def call_ended(self) -> None:
        self._handle(CallEnded(self._clock()))

    def call_started(self) -> None:
        self._handle(CallStarted(self._clock()))

    def before_close(self) -> None:
        self._handle(BeforeClose(self._clock()))
        self._send(self._reminders.closing())

    def _outcome(self, value: str) -> None:
        outcome = parse_outcome(value)
        if outcome is None:
            logger.warning("an outcome button names no outcome: %r", value)
            return
        self._handle(OutcomeChosen(outcome, self._clock()))

    def _activity(self) -> None:
        now = self._clock()
        if now - self._last_activity >= ACTIVITY_EVERY:
            self._last_activity = now
            self._handle(Activity(now))

    async def _tick(self) -> None:
        while True:
            await asyncio.sleep(TICK_SECONDS)
            self._handle(Tick(self._clock()))
            due = self._reminders.tick(self._clock())
            if due:
                self._send(due)

    # ------------------------------------------------------------------ effects

    def _handle(self, event: Event) -> None:
        for effect in self._machine.handle(event):
            self._perform(effect)
        self._render()

    def _perform(self, effect: object) -> None:
        match effect:
            case StoreDraft():
                self._store(effect)
            case RemoveDraft(client=client):
                if self._call_id:
                    self._drafts.remove(self._call_id, client.key)
            case SetText():
                self._view.set_notes_text(self._machine.text)
            case DisableAutoClose():
                self._spawn(self._command(self._card.keep_open, "disableAutoClose"))
            case EnableAutoClose():
                self._spawn(self._command(self._card.allow_close, "enableAutoClose"))
            case AddComment() | UpdateComment():
                self._spawn(self._save(effect))
            case FindComment():
                self._spawn(self._find(effect))
            case _:
                logger.error("unknown notes effect %r", effect)

    def _store(self, effect: StoreDraft) -> None:
        if not self._call_id:
            return
        header = header_fields(effect.header) if effect.header is not None else None
        stored = StoredNote(effect.client.key, effect.text, self._wall_clock(), effect.comment_id,
                            effect.saved, header, effect.lost)
        if not self._drafts.save(self._call_id, stored):
            if not self._drafts_refused:
                logger.warning("the draft could not be stored locally")
                self._drafts_refused = True
                self._view.set_drafts_note(self._t("notes.drafts_off"))
        elif self._legacy_draft and effect.client == self._machine.client:
            self._legacy_draft = not self._drafts.remove(self._call_id, LEGACY_CLIENT)

    async def _command(self, command: Callable[[], Any], name: str) -> None:
        try:
            await command()
        except BridgeError as exc:  # the machine renews on its own schedule; just log
            logger.warning("%s failed: %s", name, exc)

    async def _save(self, effect: AddComment | UpdateComment) -> None:
        updating = isinstance(effect, UpdateComment)
        if isinstance(effect, UpdateComment):
            method = UPDATE_METHOD
            params: dict[str, Any] = {"id": effect.comment_id,
                                      "fields": {"COMMENT": effect.comment}}
        else:
            method, params = ADD_METHOD, {"fields": effect.target.fields(effect.comment)}
            if self._call_id:
                self._drafts.mark_adding(self._call_id, effect.target.key, effect.comment,
                                         self._wall_clock())
        try:
            answer = await self._bridge.call_method(method, params, timeout=SAVE_TIMEOUT)
        except BridgeError as exc:
            logger.warning("saving the notes of %s failed: %s", effect.target.key, exc)
            problem = problem_for(exc, updating=updating)
            self._handle(SaveFailed(problem, self._clock(), effect.attempt))
            self._added(effect)  # a lost add is in the note's draft now (StoreDraft.lost)
            return
        self._handle(SaveSucceeded(parse_id(answer), self._clock(), effect.attempt))
        self._added(effect)

    def _added(self, effect: AddComment | UpdateComment) -> None:
        if isinstance(effect, AddComment) and self._call_id:
            self._drafts.clear_adding(self._call_id, effect.target.key)

    async def _find(self, effect: FindComment) -> None:
        """Is the add whose answer never came on the client's timeline? (The newest page of
        its comments; the lost one is among the newest.)"""
        try:
            answer = await self._bridge.call_method(
                LIST_METHOD, list_params(effect.target), timeout=SAVE_TIMEOUT)
        except BridgeError as exc:
            logger.warning("looking for the lost note of %s failed: %s", effect.target.key, exc)
            self._handle(SaveFailed(problem_for(exc, updating=False), self._clock(),
                                    effect.attempt))
            return
        self._handle(CommentFound(comment_with_text(answer, effect.comment), self._clock(),
                                  effect.attempt))

    # ------------------------------------------------------------------ call-backs

    def _callback(self, choice_value: str, at: str | None = None) -> None:
        """A call-back choice: a to-do for the current client, or words saying why not."""
        choice = parse_choice(choice_value)
        if choice is None:
            logger.warning("a call-back button names no choice: %r", choice_value)
            return
        target = self._machine.target
        when = reminder_time(choice, self._local_now(0.0), at)
        if target is None:
            self._reminder_note = "callback.no_target"
        elif when is None and not (at or "").strip():
            self._reminder_note = "callback.no_time"  # "Remind me" with the date field empty
        elif when is None:
            self._reminder_note = "callback.past"
        else:
            self._reminder_note = None
            title = self._t.format("callback.todo", client=self._machine.client_label(target))
            text = self._t.format("callback.todo.text", number=number_words(self._phone, self._t))
            self._send(self._reminders.choose(target, when, self._utc_offset_at(when), title, text))
            return  # (_send renders)
        self._render()

    def _send(self, requests: list[Request]) -> None:
        """Perform the reminders' requests; then store them, and hold the card while any is
        not in the CRM."""
        for request in requests:
            self._spawn(self._remind(request))
        self._store_reminders()
        holding = self._reminders.holding
        if holding != self._held_for_reminders:
            self._held_for_reminders = holding
            self._handle(OtherWork(holding, self._clock()))
        else:
            self._render()

    async def _remind(self, request: Request) -> None:
        reminder, attempt, when = request.reminder, request.attempt, request.reminder.when
        try:
            if isinstance(request, CreateTodo):
                answers = await self._bridge.call_batch(create_plan(reminder),
                                                        timeout=SAVE_TIMEOUT)
                answer = answers["todo"].unwrap() if "todo" in answers else None
                todo_id = parse_id((as_object(answer) or {}).get("id"))
                self._send(self._reminders.created(attempt, todo_id, when))
            elif isinstance(request, FindTodo):
                answer = await self._bridge.call_method(FIND_METHOD, find_params(reminder),
                                                        timeout=SAVE_TIMEOUT)
                self._send(self._reminders.found(attempt, found_todo(answer, reminder), when))
            else:
                await self._bridge.call_method(MOVE_METHOD, move_params(reminder, when),
                                               timeout=SAVE_TIMEOUT)
                self._send(self._reminders.created(attempt, reminder.todo_id, when))
        except BridgeError as exc:
            logger.warning("the call-back of %s failed: %s", reminder.target.key, exc)
            problem = problem_for(exc, updating=isinstance(request, MoveTodo))
            self._send(self._reminders.failed(attempt, problem, self._clock()))

    def _store_reminders(self) -> None:
        dirty, self._reminders.dirty = self._reminders.dirty, set()
        for target in dirty:
            record = self._reminders.record(target, self._wall_clock())
            if record is None or not self._call_id or self._drafts_refused:
                continue
            if not self._reminder_store.save(self._call_id, record):
                logger.warning("the reminder could not be stored locally")
                self._drafts_refused = True
                self._view.set_drafts_note(self._t("notes.drafts_off"))

    def _reminder_text(self) -> tuple[str | None, str | None]:
        """The call-back status of the current client, and its state name."""
        if self._reminder_note is not None:
            return self._t(self._reminder_note), "refused"
        reminder = self._reminders.of(self._machine.target)
        if reminder is None:
            return None, None
        when = date_time_text(reminder.when, self._t.lang)
        if reminder.state is ReminderState.FAILED:
            problem = reminder.problem if reminder.problem is not None else SaveProblem.UNAVAILABLE
            words = self._t(f"callback.problem.{problem.name.lower()}")
            return self._t.format("callback.failed", when=when, problem=words), "failed"
        return self._t.format(f"callback.{reminder.state.value}", when=when), reminder.state.value

    # ------------------------------------------------------------------ view

    def _render(self) -> None:
        machine = self._machine
        state = machine.state
        if machine.message_key:
            text = self._t(machine.message_key)
        elif state is NotesState.FAILED:
            text = self._t(machine.error.value if machine.error else "notes.state.failed")
        else:
            text = self._t(f"notes.state.{state.value}")
        self._view.set_notes_state(state.value, text, saving=state is NotesState.SAVING)
        self._view.set_keep_open(machine.keep_open)
        outcome: Outcome | None = machine.outcome
        self._view.set_outcome(outcome.value if outcome is not None else None)
        self._view.set_callback(*self._reminder_text())
        self._view.set_other_notes(tuple(self._other_text(other) for other in machine.others))
        self._view.set_hold(self._hold_text(), close_now=machine.call_ended
                            and machine.auto_close_blocked)

    def _other_text(self, other: OtherNote) -> OtherNoteText:
        if other.state is NotesState.SAVED:
            words = self._t("notes.other.saved")
        elif other.state is NotesState.SAVING:
            words = self._t("notes.other.saving")
        elif isinstance(other.client, Unbound):
            words = self._t("notes.other.no_target")
            return OtherNoteText(self._t.format("notes.other", client=other.label, state=words),
                                 other.text)
        elif other.state is NotesState.FAILED and other.problem is not None and other.problem in (
            SaveProblem.NO_ACCESS, SaveProblem.ITEM_GONE
        ):
            words = self._t.format("notes.other.stuck", problem=self._t(other.problem.value))
        elif other.state is NotesState.FAILED:
            words = self._t("notes.other.failed")
        else:
            words = self._t("notes.other.draft")
        return OtherNoteText(self._t.format("notes.other", client=other.label, state=words), None)

    def _hold_text(self) -> str | None:
        machine = self._machine
        until = machine.held_until
        if until is not None:
            at = self._local_now(max(0.0, until - self._clock()))
            return self._t.format("hold.until", time=f"{at.hour:02d}:{at.minute:02d}")
        if machine.keep_open:
            return self._t("hold.during")
        return None
