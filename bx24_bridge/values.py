"""Immutable value classes that cost nothing to define: the bridge's records and the card's.

Why not ``@dataclass(frozen=True, slots=True)``: a dataclass writes the source of its methods
and compiles it when its class statement runs, and slots make it build the class a second time.
Under Pyodide that is about 3 ms per class (measured in the page, Python 3.14, 2 cores), and the
card defines about a dozen of these records before it can render: ~35 ms on every ring. A
subclass of :class:`Value` gets the same behaviour from methods written once, here: no code is
generated, and the class is built once with its slots.

What a subclass gets, as with a frozen, slotted dataclass:

- fields from its annotations, in order (``ClassVar`` excluded), with defaults from the class
  body; ``__slots__`` made from them;
- ``__init__`` taking the fields by position or by name (by name only for a class defined with
  ``kw_only=True``, whose fields may then come in any order of defaults), then
  ``__post_init__`` if it has one (for validation: the instance is already complete);
- ``__eq__`` and ``__hash__`` by type and fields, ``__repr__``, ``__match_args__``;
- immutability: assigning or deleting a field raises :class:`dataclasses.FrozenInstanceError`;
- :func:`replace` (and ``copy.replace`` on Python 3.13+), :func:`field_names`, copy and pickle.

Type checkers see subclasses as frozen dataclasses (``typing.dataclass_transform``). A module
that defines a Value needs ``from __future__ import annotations`` (the field list is read from
the class body's annotations without evaluating them); anything else is refused at definition.
Defaults must be immutable values: there is no ``default_factory``.
"""

from __future__ import annotations

from dataclasses import FrozenInstanceError
from typing import Any, ClassVar, TypeVar, cast, dataclass_transform

__all__ = ["FrozenInstanceError", "Value", "field_names", "replace"]

_V = TypeVar("_V", bound="Value")
_MISSING: Any = object()


def _is_class_var(annotation: object) -> bool:
    text = str(annotation).strip()
    return text == "ClassVar" or text.startswith(("ClassVar[", "typing.ClassVar", "t.ClassVar"))


@dataclass_transform(frozen_default=True, eq_default=True)
class _ValueType(type):
    """Builds a Value subclass: its fields, their defaults and its slots, from the class body."""

    def __new__(mcs, name: str, bases: tuple[type, ...], namespace: dict[str, Any],
                *, kw_only: bool | None = None, **kwargs: Any) -> _ValueType:
        inherited: tuple[str, ...] = ()
        defaults: dict[str, Any] = {}
        if kw_only is None:
            kw_only = any(getattr(base, "_kw_only", False) for base in bases)
        for base in reversed(bases):
            for field in getattr(base, "_fields", ()):
                if field not in inherited:
                    inherited += (field,)
            defaults.update(getattr(base, "_defaults", {}))
        annotations: dict[str, object] | None = namespace.get("__annotations__")
        if annotations is None:
            if any(key.startswith("__annotate") for key in namespace):
                raise TypeError(f"{name}: a Value's module needs 'from __future__ import "
                                "annotations' (its fields are read from string annotations)")
            annotations = {}
        own = tuple(field for field, annotation in annotations.items()
                    if not _is_class_var(annotation) and field not in inherited)
        for field in own:
            if field in namespace:
                defaults[field] = namespace.pop(field)
        fields = inherited + own
        seen_default = False
        for field in fields:
            if field in defaults:
                seen_default = True
            elif seen_default and not kw_only:
                raise TypeError(f"{name}: field {field!r} without a default follows one with it")
        namespace["__slots__"] = own
        namespace["__match_args__"] = () if kw_only else fields  # as a kw_only dataclass's
        namespace["_fields"] = fields
        namespace["_defaults"] = defaults
        namespace["_kw_only"] = kw_only
        return super().__new__(mcs, name, bases, namespace, **kwargs)

    def __init__(cls, name: str, bases: tuple[type, ...], namespace: dict[str, Any],
                 *, kw_only: bool | None = None, **kwargs: Any) -> None:
        super().__init__(name, bases, namespace, **kwargs)


class Value(metaclass=_ValueType):
    """Base of an immutable record: see the module's docstring."""

    __slots__ = ()
    _fields: ClassVar[tuple[str, ...]] = ()
    _defaults: ClassVar[dict[str, Any]] = {}
    _kw_only: ClassVar[bool] = False

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        fields = self._fields
        if args and self._kw_only:
            raise TypeError(f"{type(self).__name__}() takes its fields by name only")
        if len(args) > len(fields):
            raise TypeError(f"{type(self).__name__}() takes {len(fields)} positional "
                            f"arguments but {len(args)} were given")
        put = object.__setattr__
        for field, value in zip(fields, args, strict=False):
            if field in kwargs:
                raise TypeError(f"{type(self).__name__}() got multiple values for {field!r}")
            put(self, field, value)
        for field in fields[len(args):]:
            value = kwargs.pop(field, _MISSING)
            if value is _MISSING:
                value = self._defaults.get(field, _MISSING)
                if value is _MISSING:
                    raise TypeError(f"{type(self).__name__}() missing argument {field!r}")
            put(self, field, value)
        if kwargs:  # what is left names no field
            raise TypeError(f"{type(self).__name__}() got an unexpected argument "
                            f"{next(iter(kwargs))!r}")
        post_init = getattr(self, "__post_init__", None)
        if post_init is not None:
            post_init()

    def _values(self) -> tuple[Any, ...]:
        return tuple(getattr(self, field) for field in self._fields)

    def __eq__(self, other: object) -> bool:
        if type(other) is not type(self):
            return NotImplemented
        return self._values() == cast("Value", other)._values()

    def __hash__(self) -> int:
        return hash((type(self), self._values()))

    def __repr__(self) -> str:
        shown = ", ".join(f"{field}={getattr(self, field)!r}" for field in self._fields)
        return f"{type(self).__qualname__}({shown})"

    def __setattr__(self, name: str, value: object) -> None:
        raise FrozenInstanceError(f"cannot assign to field {name!r}")

    def __delattr__(self, name: str) -> None:
        raise FrozenInstanceError(f"cannot delete field {name!r}")

    def __replace__(self: _V, **changes: Any) -> _V:
        values = {field: getattr(self, field) for field in self._fields}
        unknown = set(changes) - set(values)
        if unknown:
            raise TypeError(f"{type(self).__name__} has no field {sorted(unknown)[0]!r}")
        values.update(changes)
        return type(self)(**values)

    def __copy__(self: _V) -> _V:
        return self  # immutable: a copy is the value itself

    def __deepcopy__(self: _V, memo: dict[int, Any]) -> _V:
        from copy import deepcopy

        return _rebuilt(type(self), tuple(deepcopy(value, memo) for value in self._values()))

    def __reduce__(self) -> tuple[Any, ...]:
        return (_rebuilt, (type(self), self._values()))


def _rebuilt(cls: type[_V], values: tuple[Any, ...]) -> _V:
    """``cls`` from its fields' values in order (by name, so a kw_only class takes them too);
    what copy and pickle call."""
    return cls(**dict(zip(field_names(cls), values, strict=True)))


def replace(value: _V, /, **changes: Any) -> _V:
    """A copy of ``value`` with some fields changed (``dataclasses.replace`` for Values)."""
    return value.__replace__(**changes)


def field_names(cls: type[Value] | Value) -> tuple[str, ...]:
    """The fields of a Value class (or instance), in order."""
    return cls._fields  # pyright: ignore[reportPrivateUsage] - the module's own record
