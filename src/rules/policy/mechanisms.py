"""Mechanisms: the Python a programme may name where its law cannot be a formula.

The stay limit counts days of stay in a sliding window, pairs border crossings into trips and
finds working days in the Kazakh calendar: mechanisms, not law. A programme names its
mechanism (``mechanism: stay_limit``); the mechanism reads the policy's parameters and tables
(never a number of its own), supplies named, typed facts to the programme's rules, and builds
the programme's section of the verdict. Everything legal stays in the policy.

The registry below maps each name a policy may use to the class that implements it; the class
is imported only when a policy names it, so the policy format does not depend on any one
mechanism.
"""

from __future__ import annotations

import datetime as dt
import importlib
from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, ClassVar, Protocol

from pydantic import BaseModel

from rules.errors import Problem
from rules.policy.types import ValueType

if TYPE_CHECKING:
    from models.person import Person
    from models.policy import Rule
    from models.verdict import Decision, TraceEntry
    from rules.policy.loader import Policy

__all__ = ["MECHANISMS", "Derived", "Mechanism", "MechanismFact", "mechanism_class"]

#: Every mechanism a policy may name, and where its class lives.
MECHANISMS: dict[str, str] = {
    "stay_limit": "rules.stay.limit:StayLimit",
}


@dataclass(frozen=True)
class MechanismFact:
    """A fact a mechanism supplies: its type, what it means, and the path a verdict lists when
    the fact is missing."""

    type: ValueType
    description: str
    path: str | None = None


@dataclass(frozen=True)
class Derived:
    """What a mechanism derived from one record on one date.

    ``facts`` holds the known values by local name (absent: unknown); ``person`` is the record
    as the mechanism read it (trips paired from crossings, say); ``state`` is the mechanism's
    own, passed back to it when the section is built."""

    facts: Mapping[str, Any]
    person: Person
    warnings: tuple[str, ...] = ()
    state: Any = None


class Mechanism(Protocol):
    """The contract between the engine and a mechanism."""

    #: The facts the mechanism supplies, by local name (the programme's prefix is added).
    facts: ClassVar[Mapping[str, MechanismFact]]
    #: Slots of its section that hold the decisions of programmes reported inside it.
    slots: ClassVar[tuple[str, ...]]
    #: The local name of the fact listing the status kinds valid on the evaluation date, read
    #: by rules that ``exempt`` a status kind (``None``: the mechanism has no exemptions).
    exemption_fact: ClassVar[str | None]

    def __init__(self, policy: Policy, programme: str) -> None: ...

    @classmethod
    def problems(cls, policy: Policy, programme: str) -> list[Problem]:
        """What the policy lacks for this mechanism, each at its file and line."""
        ...

    def derive(self, person: Person, as_of: dt.date) -> Derived: ...

    def section(
        self,
        derived: Derived,
        status: str,
        missing: tuple[str, ...],
        slots: Mapping[str, Decision],
        warnings: list[str],
    ) -> BaseModel: ...

    def rule_facts(self, derived: Derived, rule: Rule) -> dict[str, Any]:
        """What the trace shows beside the facts a fired rule read (an exemption's days)."""
        ...

    def trace(self, derived: Derived, fired: set[str]) -> list[TraceEntry]:
        """Trace entries of its own beyond the fired rules (exemptions used on earlier days)."""
        ...


def mechanism_class(name: str) -> type[Mechanism] | None:
    """The class of mechanism ``name`` (``None`` for a name not in :data:`MECHANISMS`)."""
    target = MECHANISMS.get(name)
    if target is None:
        return None
    module_name, _, attribute = target.partition(":")
    cls: type[Mechanism] = getattr(importlib.import_module(module_name), attribute)
    return cls
