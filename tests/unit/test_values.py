"""bx24_bridge.values: records that behave like frozen, slotted dataclasses."""

from __future__ import annotations

import copy
import dataclasses
import importlib
import inspect
import pickle
from typing import ClassVar

import pytest

from bx24_bridge.values import FrozenInstanceError, Value, field_names, replace


class Point(Value):
    x: int
    y: int = 0
    label: str | None = None
    ORIGIN_NAME: ClassVar[str] = "origin"

    @property
    def norm1(self) -> int:
        return abs(self.x) + abs(self.y)


class Checked(Value):
    kind: str

    def __post_init__(self) -> None:
        if self.kind not in ("a", "b"):
            raise ValueError("kind must be 'a' or 'b'")


class Labelled(Point):
    colour: str = "red"


def test_fields_in_order_with_defaults_and_class_vars_left_out() -> None:
    assert field_names(Point) == ("x", "y", "label")
    assert field_names(Point(1)) == ("x", "y", "label")
    assert Point.ORIGIN_NAME == "origin"
    assert Point.__match_args__ == ("x", "y", "label")
    point = Point(1)
    assert (point.x, point.y, point.label, point.norm1) == (1, 0, None, 1)


def test_positional_and_keyword_arguments() -> None:
    assert Point(1, 2, "a") == Point(x=1, label="a", y=2) == Point(1, label="a", y=2)


@pytest.mark.parametrize(("args", "kwargs", "message"), [
    ((), {}, "missing argument 'x'"),
    ((1, 2, "a", 4), {}, "takes 3 positional arguments but 4 were given"),
    ((1,), {"x": 2}, "multiple values for 'x'"),
    ((1,), {"z": 2}, "unexpected argument 'z'"),
])
def test_wrong_arguments_are_refused_as_a_call_would_be(
        args: tuple[object, ...], kwargs: dict[str, object], message: str) -> None:
    with pytest.raises(TypeError, match=message):
        Point(*args, **kwargs)  # type: ignore[misc]


def test_equality_and_hash_by_type_and_fields() -> None:
    assert Point(1, 2) == Point(1, 2)
    assert hash(Point(1, 2)) == hash(Point(1, 2))
    assert Point(1, 2) != Point(2, 1)
    assert Point(1, 2) != (1, 2, None)
    assert Point(1) != Labelled(1)  # another type, the same values
    assert len({Point(1), Point(1), Point(2)}) == 2


def test_repr_names_the_fields() -> None:
    assert repr(Point(1, label="<b>")) == "Point(x=1, y=0, label='<b>')"


def test_immutable_and_slotted() -> None:
    point = Point(1)
    with pytest.raises(FrozenInstanceError):
        point.x = 2  # type: ignore[misc]
    with pytest.raises(FrozenInstanceError):
        del point.x  # type: ignore[misc]
    with pytest.raises(FrozenInstanceError):
        point.other = 1  # type: ignore[attr-defined]
    assert not hasattr(point, "__dict__")
    assert Point.__slots__ == ("x", "y", "label")


def test_post_init_validates_the_complete_value() -> None:
    assert Checked("a").kind == "a"
    with pytest.raises(ValueError, match="kind must be"):
        Checked("c")
    with pytest.raises(ValueError, match="kind must be"):
        replace(Checked("a"), kind="c")


def test_replace_makes_a_changed_copy() -> None:
    point = Point(1, 2, "a")
    assert replace(point, y=5) == Point(1, 5, "a")
    assert point == Point(1, 2, "a")
    assert point.__replace__(label=None) == Point(1, 2)
    with pytest.raises(TypeError, match="no field 'z'"):
        replace(point, z=1)


def test_pattern_matching_by_position_and_name() -> None:
    match Point(3, 4):
        case Point(3, y=4, label=None):
            matched = True
        case _:
            matched = False
    assert matched


def test_subclass_adds_fields_after_its_base_s() -> None:
    assert field_names(Labelled) == ("x", "y", "label", "colour")
    assert Labelled(1, colour="blue") == Labelled(x=1, y=0, label=None, colour="blue")
    assert Labelled.__slots__ == ("colour",)


def test_a_field_without_default_after_one_with_a_default_is_refused() -> None:
    with pytest.raises(TypeError, match="'b' without a default"):
        type("Bad", (Value,), {"__annotations__": {"a": "int", "b": "int"}, "a": 1})


def test_string_annotations_are_required_where_annotations_are_lazy() -> None:
    # What a class body holds on Python 3.14 without `from __future__ import annotations`.
    with pytest.raises(TypeError, match="from __future__ import annotations"):
        type("Lazy", (Value,), {"__annotate__": lambda format: {"a": int}})


def test_copy_deepcopy_and_pickle() -> None:
    point = Labelled(1, 2, "a", "blue")
    assert copy.copy(point) is point
    assert copy.deepcopy(point) == point
    assert pickle.loads(pickle.dumps(point)) == point


def test_the_bridge_s_records_are_values() -> None:
    from bx24_bridge.crm_refs import CrmRef, EntityType
    from bx24_bridge.payloads import EMPTY_STATUS, CallStatus

    ref = CrmRef(EntityType.CONTACT, 17)
    assert replace(ref, id=18) == CrmRef(EntityType.CONTACT, 18)
    with pytest.raises(ValueError, match="positive int"):
        replace(ref, id=0)
    assert replace(EMPTY_STATUS, call_id="c1") == CallStatus(call_id="c1")


#: What the card imports once it is ready: the notes, and the client block's loader.
AFTER_READY = ("callcard.notes", "callcard.comment", "callcard.drafts", "callcard.callbacks",
               "callcard.notes_shell", "callcard.client", "callcard.crm", "callcard.ports")
#: Mutable state, not a record: a Value cannot be it.
STILL_DATACLASSES = {"callcard.callbacks.Reminder"}


def test_the_modules_imported_after_ready_define_values_not_dataclasses() -> None:
    """Each dataclass costs ~3 ms to define under Pyodide (bx24_bridge/values.py says why): the
    notes' and the client block's modules, imported once the card is ready, defined 45 of them
    (the notes attached ~50 ms later for it)."""
    found = set()
    for name in AFTER_READY:
        module = importlib.import_module(name)
        for cls_name, cls in inspect.getmembers(module, inspect.isclass):
            if cls.__module__ == name and dataclasses.is_dataclass(cls):
                found.add(f"{name}.{cls_name}")
    assert found == STILL_DATACLASSES


class Account(Value, kw_only=True):
    """Fields by name only, so a required one may follow one with a default."""

    id: int
    label: str = ""
    owner: str


def test_a_kw_only_value_takes_its_fields_by_name_only_and_copies_and_pickles() -> None:
    account = Account(owner="Ivan", id=7)
    assert (account.id, account.label, account.owner) == (7, "", "Ivan")
    with pytest.raises(TypeError, match="by name only"):
        Account(7, "", "Ivan")  # pyright: ignore[reportCallIssue] - the point of the test
    with pytest.raises(TypeError, match="missing argument 'owner'"):
        Account(id=7)  # pyright: ignore[reportCallIssue] - the point of the test
    assert Account.__match_args__ == ()  # as a kw_only dataclass: no positional patterns
    assert replace(account, label="main") == Account(id=7, label="main", owner="Ivan")
    assert copy.deepcopy(account) == account
    assert pickle.loads(pickle.dumps(account)) == account

    class Child(Account):  # kw_only is inherited
        extra: int = 0

    with pytest.raises(TypeError, match="by name only"):
        Child(7, "", "Ivan")  # pyright: ignore[reportCallIssue] - the point of the test
    assert Child(id=1, owner="x").extra == 0
