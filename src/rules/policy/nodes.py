"""The tree of a checked formula: one node per operator, each with the type of what it computes.

:mod:`rules.policy.formulas` builds it from YAML and checks it; :mod:`rules.engine.computation`
interprets it; the trace reads which facts and parameters a formula names
(:func:`references`, :func:`parameter_nodes`) and its operator (:func:`operator_of`).
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import FrozenInstanceError, dataclass
from typing import Any, ClassVar, dataclass_transform

from rules.policy.types import ValueType

__all__ = [
    "Aggregate",
    "Arith",
    "Band",
    "Compare",
    "DateAdd",
    "DateDiff",
    "Divide",
    "Extreme",
    "If",
    "Item",
    "Literal",
    "Logic",
    "Lookup",
    "Node",
    "Not",
    "Param",
    "RecordOf",
    "Ref",
    "ReportItem",
    "Round",
    "WarningCheck",
    "lookups_with_lists",
    "operator_of",
    "parameter_nodes",
    "references",
]


@dataclass_transform(eq_default=False, frozen_default=True)
class _Frozen:
    """An immutable record equal only to itself, whose fields are its annotations (its bases'
    first), set once by keyword or in order: what ``@dataclass(frozen=True, eq=False)`` makes,
    without its cost. A dataclass compiles four methods for each class, and every ``kzmig``
    command that loads a policy creates all the node classes: their dataclasses were a twentieth
    of a one-person check. Here each class costs a tuple of its field names."""

    #: The fields, in order (the bases' first).
    _fields: ClassVar[tuple[str, ...]] = ()

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        written = cls.__dict__.get("__annotations__", {})
        own = tuple(name for name, kind in written.items() if not _is_class_variable(kind))
        cls._fields = (*cls._fields, *own)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        names = self._fields
        if len(args) > len(names):
            raise TypeError(f"{type(self).__name__} takes {len(names)} fields, not {len(args)}")
        values = dict(zip(names, args, strict=False))
        for name, value in kwargs.items():
            if name not in names or name in values:
                raise TypeError(f"{type(self).__name__}: unexpected or repeated field {name!r}")
            values[name] = value
        if len(values) < len(names):
            missing = ", ".join(name for name in names if name not in values)
            raise TypeError(f"{type(self).__name__}: missing {missing}")
        self.__dict__.update(values)

    def __setattr__(self, name: str, value: Any) -> None:
        raise FrozenInstanceError(f"cannot assign to field {name!r}")

    def __delattr__(self, name: str) -> None:
        raise FrozenInstanceError(f"cannot delete field {name!r}")

    def __repr__(self) -> str:
        fields = ", ".join(f"{name}={self.__dict__[name]!r}" for name in self._fields)
        return f"{type(self).__qualname__}({fields})"


def _is_class_variable(annotation: Any) -> bool:
    """``ClassVar[...]``, written as text (``from __future__ import annotations``) or not."""
    return str(annotation).startswith(("ClassVar", "typing.ClassVar"))


class Node(_Frozen):
    """A checked formula node and the type of what it computes."""

    type: ValueType


class Literal(Node):
    """A literal: a number, boolean, date or string written in the formula."""

    value: Any


class Ref(Node):
    """The value of a fact of the case (``fact``)."""

    name: str


class Item(Node):
    """A field of the current item, inside an aggregate over a list (``item``)."""

    name: str


class Param(Node):
    """A parameter's value in force on the evaluation date, or on the day ``on`` gives (``param``)."""

    name: str
    on: Node | None


class Arith(Node):
    """The sum, difference or product of its arguments (``add``, ``subtract``, ``multiply``)."""

    op: str  # add, subtract, multiply
    args: tuple[Node, ...]


class Divide(Node):
    """The quotient, rounded as written (``divide``)."""

    left: Node
    right: Node
    rounding: str
    places: int


class Round(Node):
    """A value rounded to ``places`` (``round``)."""

    arg: Node
    rounding: str
    places: int


class Extreme(Node):
    """The smallest or largest of its arguments (``min``, ``max``)."""

    op: str  # min, max
    args: tuple[Node, ...]


class Lookup(Node):
    """A table's row in force on a day, or one field of it, by key (``lookup``)."""

    table: str
    key: Node
    field: Node | None
    on: Node | None
    default: Any  # None: no default


class Band(Node):
    """The value of the bracket of a scale parameter that a value falls in (``band``)."""

    scale: str
    of: Node
    on: Node | None


class DateDiff(Node):
    """Days or whole years between two dates (``days_between``, ``years_between``)."""

    op: str  # days_between, years_between
    start: Node
    end: Node
    rounding: str | None


class DateAdd(Node):
    """A date moved by days, months or years (``add_days``, ``add_months``, ``add_years``)."""

    op: str  # add_days, add_years, add_months
    date: Node
    amount: Node
    rounding: str | None


class Aggregate(Node):
    """Over a list of records: ``sum``, ``count``, ``minimum``, ``maximum``, ``select``, ``first``."""

    op: str  # sum, count, minimum, maximum, select
    over: Node
    each: Node | None
    where: Node | None


class Compare(Node):
    """A condition: ``eq``, ``ne``, ``lt``, ``lte``, ``gt``, ``gte``, ``in``, ``not_in``."""

    op: str
    left: Node
    right: Node | tuple[Any, ...]


class Logic(Node):
    """All or any of its conditions (``all``, ``any``)."""

    op: str  # all, any
    args: tuple[Node, ...]


class Not(Node):
    """The negation of a condition (``not``)."""

    arg: Node


class If(Node):
    """One of two values, by a condition (``if``)."""

    condition: Node
    then: Node
    otherwise: Node


class RecordOf(Node):
    """A record of named values (``record``)."""

    fields: tuple[tuple[str, Node], ...]


@dataclass(frozen=True)
class ReportItem:
    """One checked item of a programme's report: a formula (shown for every status, or only
    for ``when_status``), or the rules of a status (``rules_with_status`` / ``checklist``)."""

    node: Node | None = None
    when_status: tuple[str, ...] = ()
    rules_with_status: str | None = None
    checklist: str | None = None
    timeline: tuple[tuple[str, Node], ...] = ()


@dataclass(frozen=True)
class WarningCheck:
    """A checked warning of a programme: its condition, its text, the items it lists."""

    when: Node
    text: str
    items: Node | None = None


def _children(node: Node) -> Iterator[Node]:
    for value in vars(node).values():
        if isinstance(value, Node):
            yield value
        elif isinstance(value, tuple):
            for item in value:
                if isinstance(item, Node):
                    yield item
                elif isinstance(item, tuple) and len(item) == 2 and isinstance(item[1], Node):
                    yield item[1]


def parameter_nodes(node: Node) -> list[Param]:
    """The ``param`` nodes of a formula, in order of appearance."""
    found: list[Param] = []
    stack = [node]
    while stack:
        current = stack.pop()
        if isinstance(current, Param):
            found.append(current)
        stack.extend(reversed(list(_children(current))))
    return found


def lookups_with_lists(node: Node) -> list[tuple[Lookup, Node | None]]:
    """The ``lookup`` nodes of a formula, each with the list its ``item`` reads: the ``over``
    of the innermost list operator whose ``each`` or ``where`` holds it (``None`` outside one)."""
    found: list[tuple[Lookup, Node | None]] = []
    stack: list[tuple[Node, Node | None]] = [(node, None)]
    while stack:
        current, over = stack.pop()
        if isinstance(current, Lookup):
            found.append((current, over))
        if isinstance(current, Aggregate):
            inner = [child for child in (current.each, current.where) if child is not None]
            stack.extend((child, current.over) for child in reversed(inner))
            stack.append((current.over, over))
        else:
            stack.extend((child, over) for child in reversed(list(_children(current))))
    return found


def references(node: Node) -> tuple[tuple[str, ...], tuple[str, ...], tuple[str, ...]]:
    """The facts, parameters and tables a formula reads directly, each in order of appearance."""
    facts: dict[str, None] = {}
    params: dict[str, None] = {}
    tables: dict[str, None] = {}
    stack = [node]
    while stack:
        current = stack.pop()
        if isinstance(current, Ref):
            facts[current.name] = None
        elif isinstance(current, Param):
            params[current.name] = None
        elif isinstance(current, Band):
            params[current.scale] = None
        elif isinstance(current, Lookup):
            tables[current.table] = None
        stack.extend(reversed(list(_children(current))))
    return tuple(facts), tuple(params), tuple(tables)


_OPERATOR_NAMES: dict[type[Node], str] = {
    Literal: "value",
    Ref: "fact",
    Item: "item",
    Param: "param",
    Divide: "divide",
    Round: "round",
    Lookup: "lookup",
    Band: "band",
    Not: "not",
    If: "if",
    RecordOf: "record",
}


def operator_of(node: Node) -> str:
    """The operator a node was written with (``add``, ``lookup``, ``lt``, ...)."""
    op = getattr(node, "op", None)
    return op if isinstance(op, str) else _OPERATOR_NAMES.get(type(node), type(node).__name__.lower())
