"""The tree of a checked formula: one node per operator, each with the type of what it computes.

:mod:`rules.policy.formulas` builds it from YAML and checks it; :mod:`rules.engine.computation`
interprets it; the trace reads which facts and parameters a formula names
(:func:`references`, :func:`parameter_nodes`) and its operator (:func:`operator_of`).
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

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
    "operator_of",
    "parameter_nodes",
    "references",
]


@dataclass(frozen=True, eq=False)
class Node:
    """A checked formula node and the type of what it computes."""

    type: ValueType


@dataclass(frozen=True, eq=False)
class Literal(Node):
    value: Any


@dataclass(frozen=True, eq=False)
class Ref(Node):
    name: str


@dataclass(frozen=True, eq=False)
class Item(Node):
    name: str


@dataclass(frozen=True, eq=False)
class Param(Node):
    name: str
    on: Node | None


@dataclass(frozen=True, eq=False)
class Arith(Node):
    op: str  # add, subtract, multiply
    args: tuple[Node, ...]


@dataclass(frozen=True, eq=False)
class Divide(Node):
    left: Node
    right: Node
    rounding: str
    places: int


@dataclass(frozen=True, eq=False)
class Round(Node):
    arg: Node
    rounding: str
    places: int


@dataclass(frozen=True, eq=False)
class Extreme(Node):
    op: str  # min, max
    args: tuple[Node, ...]


@dataclass(frozen=True, eq=False)
class Lookup(Node):
    table: str
    key: Node
    field: Node | None
    on: Node | None
    default: Any  # None: no default


@dataclass(frozen=True, eq=False)
class Band(Node):
    scale: str
    of: Node
    on: Node | None


@dataclass(frozen=True, eq=False)
class DateDiff(Node):
    op: str  # days_between, years_between
    start: Node
    end: Node
    rounding: str | None


@dataclass(frozen=True, eq=False)
class DateAdd(Node):
    op: str  # add_days, add_years, add_months
    date: Node
    amount: Node
    rounding: str | None


@dataclass(frozen=True, eq=False)
class Aggregate(Node):
    op: str  # sum, count, minimum, maximum, select
    over: Node
    each: Node | None
    where: Node | None


@dataclass(frozen=True, eq=False)
class Compare(Node):
    op: str
    left: Node
    right: Node | tuple[Any, ...]


@dataclass(frozen=True, eq=False)
class Logic(Node):
    op: str  # all, any
    args: tuple[Node, ...]


@dataclass(frozen=True, eq=False)
class Not(Node):
    arg: Node


@dataclass(frozen=True, eq=False)
class If(Node):
    condition: Node
    then: Node
    otherwise: Node


@dataclass(frozen=True, eq=False)
class RecordOf(Node):
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
