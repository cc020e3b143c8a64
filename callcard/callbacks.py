"""Call-back reminders as a pure state machine: the operator picks "call back at…", the card
creates a to-do for the client in the CRM (``crm.activity.todo.add``) exactly once.

Why a machine of its own: a reminder is a promise to a client, kept by the same rules as the
notes (callcard/notes.py), and for the same reasons. It is written down locally before it goes
out (a reload, a crashed tab or a card that closes must not lose it), it holds the card open while
it is not in the CRM, and a passing failure is tried again. "Exactly once" is the hard part: a
REST call that times out may have reached the portal anyway (docs/host-contract.md#rest: on a 5xx
or a network error the library never calls back), so after a timeout, or after a reload that
finds a reminder not known to be created, the machine first *looks* for the to-do it may have
made (``crm.activity.list``, by owner, provider, subject and deadline) and adds one only if there
is none. A client has one reminder per card: choosing another time moves that to-do
(``crm.activity.todo.updateDeadline``) instead of adding a second one.

Pure Python: the shell (callcard/notes_shell.py) performs the effects and feeds the answers
back; times are the operator's local wall-clock minutes plus the UTC offset the browser gives.
"""

# Its checks of what it is given stay, whatever the annotations say: the store and the page can
# hand it anything.
# pyright: reportUnnecessaryIsInstance=false
from __future__ import annotations

import enum
import json
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from typing import Any, Final, cast

from bx24_bridge.rest import result_ref
from bx24_bridge.values import Value
from bx24_bridge.wire import as_object, parse_id

from .comment import CommentTarget, SaveProblem, target_from_key
from .drafts import MAX_AGE, KeyValueStore, key_part, store_keys

__all__ = [
    "CURRENT_USER",
    "FIND_METHOD",
    "MOVE_METHOD",
    "TODO_METHOD",
    "Choice",
    "CreateTodo",
    "FindTodo",
    "MoveTodo",
    "Reminder",
    "ReminderState",
    "ReminderStore",
    "Reminders",
    "StoredReminder",
    "create_plan",
    "deadline_text",
    "find_params",
    "found_todo",
    "move_params",
    "parse_choice",
    "reminder_time",
    "todo_params",
]

TODO_METHOD: Final = "crm.activity.todo.add"
"""Adds the to-do: ownerTypeId, ownerId, deadline, title, description, responsibleId
(api-reference/crm/timeline/activities/todo/crm-activity-todo-add.md); answers ``{"id": n}``."""
MOVE_METHOD: Final = "crm.activity.todo.updateDeadline"
"""Moves a to-do: ownerTypeId, ownerId, id, value (the new deadline)."""
FIND_METHOD: Final = "crm.activity.list"
"""Looks for a to-do this card may have added before an answer was lost."""
CURRENT_USER: Final = "user.current"
"""The operator: the call-back's to-do is theirs."""
TOMORROW_AT: Final = 10
""""Tomorrow morning" is 10:00 the next day, the operator's time."""
MAX_AHEAD: Final = timedelta(days=366)
"""A reminder further ahead than this is a typo."""
_MINUTE: Final = "%Y-%m-%dT%H:%M"
_TRANSIENT: Final = frozenset({SaveProblem.TIMEOUT, SaveProblem.UNAVAILABLE})


class Choice(enum.StrEnum):
    """The quick choices of the call-back control (``data-callback`` of its buttons)."""

    IN_HOUR = "hour"
    TOMORROW = "tomorrow"
    AT = "at"


def parse_choice(value: object) -> Choice | None:
    try:
        return Choice(value) if isinstance(value, str) else None
    except ValueError:
        return None


def reminder_time(choice: Choice, now: datetime, at: object = None) -> datetime | None:
    """When to call back, in the operator's local time to the minute: in an hour, tomorrow at
    10:00, or ``at`` (a ``datetime-local`` value, ``2026-12-03T15:30``). None when ``at`` is not
    a moment in the future (or is absurdly far ahead)."""
    now = now.replace(second=0, microsecond=0, tzinfo=None)
    if choice is Choice.IN_HOUR:
        return now + timedelta(hours=1)
    if choice is Choice.TOMORROW:
        return (now + timedelta(days=1)).replace(hour=TOMORROW_AT, minute=0)
    if not isinstance(at, str) or len(at) > 32:
        return None
    try:
        when = datetime.fromisoformat(at.strip())
    except ValueError:
        return None
    when = when.replace(second=0, microsecond=0, tzinfo=None)
    return when if now < when <= now + MAX_AHEAD else None


def deadline_text(when: datetime, offset_minutes: int) -> str:
    """The deadline as the portal reads it: ISO 8601 with the operator's UTC offset, so a portal
    in another time zone puts the to-do at the moment the operator meant."""
    zone = timezone(timedelta(minutes=offset_minutes))
    return when.replace(tzinfo=zone).isoformat(timespec="seconds")


def _owner(target: CommentTarget) -> tuple[int, int]:
    """The to-do's owner as the activity methods name it: (ownerTypeId, ownerId)."""
    return target.entity_type.entity_type_id, target.entity_id


def todo_params(reminder: Reminder, responsible: int | str | None) -> dict[str, Any]:
    """The parameters of :data:`TODO_METHOD` for ``reminder``; ``responsible`` is the operator
    (their id, or a batch reference to it)."""
    owner_type, owner_id = _owner(reminder.target)
    params: dict[str, Any] = {
        "ownerTypeId": owner_type, "ownerId": owner_id,
        "deadline": deadline_text(reminder.when, reminder.offset),
        "title": reminder.title, "description": reminder.text,
    }
    if responsible is not None:
        params["responsibleId"] = responsible
    return params


def create_plan(reminder: Reminder) -> dict[str, tuple[str, dict[str, Any]]]:
    """One batch for :class:`CreateTodo`: who the operator is (``me``), and the to-do that is
    theirs (``todo``, answering ``{"id": n}``)."""
    return {"me": (CURRENT_USER, {}),
            "todo": (TODO_METHOD, todo_params(reminder, result_ref("me", "ID")))}


def move_params(reminder: Reminder, when: datetime) -> dict[str, Any]:
    """The parameters of :data:`MOVE_METHOD`: the created to-do, to ``when``."""
    owner_type, owner_id = _owner(reminder.target)
    return {"ownerTypeId": owner_type, "ownerId": owner_id, "id": reminder.todo_id,
            "value": deadline_text(when, reminder.offset)}


def find_params(reminder: Reminder) -> dict[str, Any]:
    """The parameters of :data:`FIND_METHOD` that list the to-dos this card may have added."""
    owner_type, owner_id = _owner(reminder.target)
    return {
        "filter": {"OWNER_TYPE_ID": owner_type, "OWNER_ID": owner_id, "PROVIDER_ID": "CRM_TODO",
                   "SUBJECT": reminder.title},
        "select": ["ID", "DEADLINE", "SUBJECT"],
        "order": {"ID": "DESC"},
    }


def found_todo(answer: object, reminder: Reminder) -> int | None:
    """The id of the to-do in a :data:`FIND_METHOD` answer that is this reminder (same subject,
    same moment, whatever time zone the portal writes it in), or None."""
    rows = cast("list[object]", answer) if isinstance(answer, list) else []
    wanted = reminder.when.replace(tzinfo=timezone(timedelta(minutes=reminder.offset)))
    for row in rows:
        fields = as_object(row) or {}
        deadline = fields.get("DEADLINE")
        if fields.get("SUBJECT") != reminder.title or not isinstance(deadline, str):
            continue
        try:
            moment = datetime.fromisoformat(deadline)
        except ValueError:
            continue
        if moment.tzinfo is not None and moment.replace(second=0) == wanted:
            found = parse_id(fields.get("ID"))
            if found is not None:
                return found
    return None


class ReminderState(enum.StrEnum):
    """What the call-back status says (the value follows ``callback.`` in the i18n keys)."""

    CREATING = "creating"
    CREATED = "created"
    RETRYING = "retrying"
    FAILED = "failed"


@dataclass(slots=True)
class Reminder:
    """The call-back of one client: when, in words for the CRM, and how far it got."""

    target: CommentTarget
    when: datetime
    offset: int
    title: str
    text: str
    todo_id: int | None = None
    state: ReminderState = ReminderState.CREATING
    problem: SaveProblem | None = None
    attempt: int | None = None
    """The request under way (None: none)."""
    look_first: bool = False
    """An add may have reached the portal unanswered: look for it before adding again."""
    moved_to: datetime | None = None
    """The deadline the CRM's to-do has (None: not created yet)."""
    retry_at: float | None = None

    @property
    def pending(self) -> bool:
        """Whether the CRM does not hold this reminder as it is now (it holds the card)."""
        if self.state is ReminderState.FAILED:
            return False
        return self.todo_id is None or self.moved_to != self.when


# --------------------------------------------------------------------------- effects


class CreateTodo(Value):
    """Call :data:`TODO_METHOD` with :func:`todo_params`; answer ``created`` or ``failed``."""

    reminder: Reminder
    attempt: int


class FindTodo(Value):
    """Call :data:`FIND_METHOD` with :func:`find_params`; answer ``found`` (or ``failed``)."""

    reminder: Reminder
    attempt: int


class MoveTodo(Value):
    """Call :data:`MOVE_METHOD` for the created to-do; answer ``created`` or ``failed``."""

    reminder: Reminder
    attempt: int


Request = CreateTodo | FindTodo | MoveTodo


class StoredReminder(Value):
    """What the store keeps of a reminder: enough to finish it after a reload."""

    client: str
    when: str
    offset: int
    title: str
    text: str
    todo_id: int | None
    done: bool
    updated: float


# --------------------------------------------------------------------------- the machine


class Reminders:
    """The call-backs of one card, one per client. Feed it what happens; perform what it
    returns (a list of requests); read :meth:`of` and :attr:`holding` after each call.

    ``retry_every``: how soon a reminder whose request failed for a passing reason is tried
    again (also on the card's close).
    """

    def __init__(self, *, retry_every: float = 30.0) -> None:
        self._retry_every = retry_every
        self._by_client: dict[CommentTarget, Reminder] = {}
        self._attempts = 0
        self.dirty: set[CommentTarget] = set()
        """Clients whose stored reminder must be written (the shell clears it)."""

    def of(self, target: CommentTarget | None) -> Reminder | None:
        return self._by_client.get(target) if target is not None else None

    @property
    def holding(self) -> bool:
        """Whether any reminder is not in the CRM yet and may still get there."""
        return any(reminder.pending for reminder in self._by_client.values())

    def all(self) -> tuple[Reminder, ...]:
        return tuple(self._by_client.values())

    # ----------------------------------------------------------------- events

    def choose(self, target: CommentTarget, when: datetime, offset: int, title: str,
               text: str) -> list[Request]:
        """The operator asked to call ``target`` back at ``when``."""
        reminder = self._by_client.get(target)
        if reminder is None:
            reminder = Reminder(target, when, offset, title, text)
            self._by_client[target] = reminder
        else:
            reminder.when, reminder.offset = when, offset
            reminder.title, reminder.text = title, text
            reminder.problem = None
        reminder.state = ReminderState.CREATING
        reminder.retry_at = None
        self.dirty.add(target)
        return self._next(reminder)

    def created(self, attempt: int, todo_id: int | None, when: datetime) -> list[Request]:
        """The add or the move with ``attempt`` succeeded (``todo_id``: what the add answered;
        ``when``: the deadline that request carried)."""
        reminder = self._answered(attempt)
        if reminder is None:
            return []
        if reminder.todo_id is None:
            reminder.todo_id = todo_id
        reminder.moved_to = when
        reminder.look_first = False
        if reminder.todo_id is None:  # the portal named no id: it is there, but cannot move
            reminder.moved_to = reminder.when
        self.dirty.add(reminder.target)
        return self._next(reminder)

    def found(self, attempt: int, todo_id: int | None, when: datetime) -> list[Request]:
        """The look with ``attempt`` answered: the to-do that carries ``when`` (None: none)."""
        reminder = self._answered(attempt)
        if reminder is None:
            return []
        reminder.look_first = False
        if todo_id is not None:
            reminder.todo_id, reminder.moved_to = todo_id, when
            self.dirty.add(reminder.target)
        return self._next(reminder)

    def failed(self, attempt: int, problem: SaveProblem, now: float) -> list[Request]:
        reminder = self._answered(attempt)
        if reminder is None:
            return []
        if problem is SaveProblem.COMMENT_GONE and reminder.todo_id is not None:
            # The to-do to move was deleted in the CRM: the call-back is still wanted.
            reminder.todo_id = reminder.moved_to = None
            self.dirty.add(reminder.target)
            return self._next(reminder)
        reminder.problem = problem
        if problem is SaveProblem.TIMEOUT and reminder.todo_id is None:
            reminder.look_first = True  # the add may have reached the portal
        if problem in _TRANSIENT:
            reminder.state = ReminderState.RETRYING
            reminder.retry_at = now + self._retry_every
        else:
            reminder.state = ReminderState.FAILED
        self.dirty.add(reminder.target)
        return []

    def tick(self, now: float) -> list[Request]:
        out: list[Request] = []
        for reminder in self._by_client.values():
            due = reminder.retry_at
            if due is not None and (now >= due or now < due - self._retry_every):
                out += self._next(reminder)
        return out

    def closing(self) -> list[Request]:
        """The card is closing: every reminder still on its way gets one more try now."""
        out: list[Request] = []
        for reminder in self._by_client.values():
            if reminder.state is ReminderState.RETRYING:
                out += self._next(reminder)
        return out

    def restore(self, stored: StoredReminder) -> list[Request]:
        """A reminder this call stored before a reload: finished as if it was never gone. One
        not known to be created is looked for before it is added again."""
        target = target_from_key(stored.client)
        try:
            when = datetime.strptime(stored.when, _MINUTE)
        except (TypeError, ValueError):
            return []
        if target is None or target in self._by_client:
            return []
        reminder = Reminder(target, when, stored.offset, stored.title, stored.text,
                            todo_id=stored.todo_id, look_first=stored.todo_id is None)
        if stored.done:
            reminder.state, reminder.moved_to = ReminderState.CREATED, when
        elif stored.todo_id is not None:
            reminder.moved_to = None  # created, then moved: move it again (moving is idempotent)
        self._by_client[target] = reminder
        return self._next(reminder) if reminder.pending else []

    # ----------------------------------------------------------------- helpers

    def _answered(self, attempt: int) -> Reminder | None:
        for reminder in self._by_client.values():
            if reminder.attempt == attempt:
                reminder.attempt = None
                return reminder
        return None

    def _next(self, reminder: Reminder) -> list[Request]:
        """What to send for ``reminder`` now: nothing while a request is under way (its answer
        decides), nothing once the CRM holds it as it is."""
        if reminder.attempt is not None:
            return []
        if not reminder.pending:
            if reminder.state is not ReminderState.FAILED:
                reminder.state, reminder.problem = ReminderState.CREATED, None
            reminder.retry_at = None
            return []
        if reminder.state is not ReminderState.RETRYING:
            reminder.state = ReminderState.CREATING
        reminder.retry_at = None
        self._attempts += 1
        reminder.attempt = self._attempts
        if reminder.todo_id is not None:
            return [MoveTodo(reminder, reminder.attempt)]
        if reminder.look_first:
            return [FindTodo(reminder, reminder.attempt)]
        return [CreateTodo(reminder, reminder.attempt)]

    def record(self, target: CommentTarget, updated: float) -> StoredReminder | None:
        """What the store should hold for ``target``'s reminder (None: nothing)."""
        reminder = self._by_client.get(target)
        if reminder is None:
            return None
        return StoredReminder(target.key, reminder.when.strftime(_MINUTE), reminder.offset,
                              reminder.title, reminder.text, reminder.todo_id,
                              not reminder.pending, updated)


# --------------------------------------------------------------------------- the store


class ReminderStore:
    """The reminders of one portal's calls in the browser's key-value store, one per call and
    client: ``callcard:todo:v1:<portal>:<call id>:<client>``. Like the drafts' store it never
    raises because of the store (an iframe may refuse it): failures are return values."""

    PREFIX: Final = "callcard:todo:v1:"

    def __init__(self, store: KeyValueStore, portal: str) -> None:
        self._store = store
        self._portal = key_part(portal, fold_case=True)

    def _call_prefix(self, call_id: str) -> str:
        return f"{self.PREFIX}{self._portal}:{key_part(call_id)}:"

    def save(self, call_id: str, reminder: StoredReminder) -> bool:
        if not call_id:
            return False
        record = {"client": reminder.client, "when": reminder.when, "offset": reminder.offset,
                  "title": reminder.title, "text": reminder.text, "todo_id": reminder.todo_id,
                  "done": reminder.done, "updated": reminder.updated}
        try:
            self._store.set(self._call_prefix(call_id) + key_part(reminder.client),
                            json.dumps(record))
        except Exception:  # quota exceeded, storage disabled, SecurityError...
            return False
        return True

    def load(self, call_id: str) -> list[StoredReminder]:
        if not call_id:
            return []
        prefix = self._call_prefix(call_id)
        found: list[StoredReminder] = []
        for key in self._keys():
            if key.startswith(prefix):
                reminder = _decode(self._get(key))
                if reminder is not None:
                    found.append(reminder)
        return found

    def prune(self, now: float) -> None:
        """Forget reminders older than a week (and anything unreadable under our prefix)."""
        for key in self._keys():
            if not key.startswith(self.PREFIX):
                continue
            reminder = _decode(self._get(key))
            if reminder is None or not 0 <= now - reminder.updated <= MAX_AGE:  # drafts' week
                try:
                    self._store.remove(key)
                except Exception:
                    return

    def _keys(self) -> list[str]:
        return store_keys(self._store)

    def _get(self, key: str) -> str | None:
        try:
            return self._store.get(key)
        except Exception:
            return None


def _decode(raw: object) -> StoredReminder | None:
    try:
        value = as_object(json.loads(raw)) if isinstance(raw, str) else None
    except ValueError:
        return None
    if value is None:
        return None
    texts = [value.get(name) for name in ("client", "when", "title", "text")]
    offset, updated = value.get("offset"), value.get("updated")
    if not all(isinstance(text, str) for text in texts):
        return None
    if isinstance(offset, bool) or not isinstance(offset, int) or abs(offset) > 16 * 60:
        return None
    if isinstance(updated, bool) or not isinstance(updated, int | float):
        return None
    client, when, title, text = (str(text) for text in texts)
    return StoredReminder(client, when, offset, title, text, parse_id(value.get("todo_id")),
                          value.get("done") is True, float(updated))
