"""The types of facts and inputs, and the catalogue of facts each programme may read.

A fact is named ``<programme>.<name>`` and has one of these types:

* ``integer``, ``decimal`` (numbers: an integer and a decimal compare and add), ``boolean``,
  ``string`` (optionally with its allowed values), ``date``;
* ``record``: named fields (an input such as ``residence.language_test``; its fields are facts
  of their own, ``residence.language_test.level``);
* ``list``: a list of records with typed fields (the moves or the payments of a contract),
  read by the list operators of formulas (``sum``, ``count``, ``minimum``, ...);
* ``codes``: a list of strings, read by ``contains`` (the kinds of the statuses a person holds).

Where a fact comes from (its *origin*): the evaluation date (``<programme>.as_of``), the status
another programme decided (``<programme>.status``), an input of the record, a formula of the
policy (a computed fact), or a Python mechanism (the stay limit's day counting).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass
from decimal import Decimal
from typing import Any, ClassVar, Literal, Protocol

__all__ = [
    "BOOLEAN",
    "CODES",
    "DATE",
    "DECIMAL",
    "INTEGER",
    "STRING",
    "FactSpec",
    "Kind",
    "MechanismFact",
    "MechanismTraits",
    "Origin",
    "ValueType",
    "type_of_value",
    "unify",
]

Kind = Literal["integer", "decimal", "boolean", "string", "date", "record", "list", "codes"]
Origin = Literal["as_of", "status", "input", "computed", "mechanism"]


@dataclass(frozen=True)
class ValueType:
    """A type: its kind, the fields of a record or of a list's items, the allowed strings."""

    kind: Kind
    fields: tuple[tuple[str, ValueType], ...] = ()
    values: frozenset[str] | None = None

    @property
    def numeric(self) -> bool:
        return self.kind in ("integer", "decimal")

    @property
    def scalar(self) -> bool:
        return self.kind in ("integer", "decimal", "boolean", "string", "date")

    @property
    def ordered(self) -> bool:
        return self.kind in ("integer", "decimal", "date")

    def field(self, name: str) -> ValueType | None:
        return dict(self.fields).get(name)

    def field_names(self) -> tuple[str, ...]:
        return tuple(name for name, _ in self.fields)

    def comparable_with(self, other: ValueType) -> bool:
        """Whether two values of these types may be compared (numbers with numbers)."""
        if self.numeric and other.numeric:
            return True
        return self.kind == other.kind and self.scalar

    def __str__(self) -> str:
        if self.kind == "list" and self.fields:
            return "list of {" + ", ".join(self.field_names()) + "}"
        if self.kind == "record" and self.fields:
            return "record {" + ", ".join(self.field_names()) + "}"
        return self.kind


INTEGER = ValueType("integer")
DECIMAL = ValueType("decimal")
BOOLEAN = ValueType("boolean")
STRING = ValueType("string")
DATE = ValueType("date")
CODES = ValueType("codes")


def unify(types: list[ValueType]) -> ValueType | None:
    """The common type of several values: numbers unify (any decimal makes a decimal); other
    kinds must agree. ``None`` when they do not."""
    if not types:
        return None
    if all(t.numeric for t in types):
        return DECIMAL if any(t.kind == "decimal" for t in types) else INTEGER
    first = types[0]
    if all(t.kind == first.kind for t in types):
        if first.kind == "string":
            allowed = [t.values for t in types]
            if all(a is not None for a in allowed):
                return ValueType("string", values=frozenset().union(*[a for a in allowed if a is not None]))
            return STRING
        return first
    return None


def type_of_value(value: Any) -> ValueType | None:
    """The type of a plain value written in a policy file (a parameter or table value)."""
    if isinstance(value, bool):
        return BOOLEAN
    if isinstance(value, int):
        return INTEGER
    if isinstance(value, float | Decimal):
        return DECIMAL
    if isinstance(value, dt.date):
        return DATE
    if isinstance(value, str):
        return STRING
    if isinstance(value, Mapping):
        fields = []
        for name, item in value.items():
            item_type = type_of_value(item)
            if item_type is None:
                return None
            fields.append((str(name), item_type))
        return ValueType("record", tuple(fields))
    return None


@dataclass(frozen=True)
class FactSpec:
    """A fact a programme's formulas and rules may read.

    ``path`` is what a verdict lists when the fact is missing: the input path in the person
    record (``residence_application.interview``), or what a mechanism names. An input's
    ``unknown_values`` are answers that mean "not known yet" (``pending``): the fact then has
    no value.
    """

    name: str
    programme: str
    type: ValueType
    origin: Origin
    description: str
    unit: str | None = None
    path: str | None = None
    unknown_values: frozenset[str] = frozenset()


@dataclass(frozen=True)
class MechanismFact:
    """A fact a mechanism supplies: its type, what it means, and the path a verdict lists when
    the fact is missing."""

    type: ValueType
    description: str
    path: str | None = None


class MechanismTraits(Protocol):
    """What the loader reads of a mechanism, before any policy exists: the facts it supplies
    (by local name), the slots of its section, the fact listing the status kinds a rule
    may ``exempt`` (``None``: it has no exemptions), and the rules of its programme it needs
    (by local name). The full contract is :class:`rules.policy.mechanisms.Mechanism`."""

    facts: ClassVar[Mapping[str, MechanismFact]]
    slots: ClassVar[tuple[str, ...]]
    exemption_fact: ClassVar[str | None]
    required_rules: ClassVar[tuple[str, ...]]

    @classmethod
    def problems(cls, policy: Any, programme: str) -> list[Any]:
        """What a loaded policy lacks for the mechanism (a list of ``Problem``)."""
        ...
