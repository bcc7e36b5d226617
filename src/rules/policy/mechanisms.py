"""Mechanisms: the Python a programme may name where its law cannot be a formula.

The stay limit counts days of stay in a sliding window, pairs border crossings into trips and
finds working days in the Kazakh calendar: mechanisms, not law. A programme names its
mechanism (``mechanism: stay_limit``, see :mod:`rules.policy.registry`); the mechanism reads
the policy's parameters and tables (never a number of its own), supplies named, typed facts to
the programme's rules, and builds the programme's section of the verdict. Everything legal
stays in the policy. This module is the contract between the engine and a mechanism.

An impact analysis (:mod:`rules.analysis.impact`) also reads, where a mechanism has them:

* ``reads``: every parameter and table the mechanism reads (without it, it is taken to read
  them all), and ``keyed_reads``: the tables it looks up by the value of one of its facts only;
* ``counting_reads``: those of ``reads`` whose values reach a verdict only through what
  ``derive`` counts (and what ``rederive`` compares beside it), and ``rederive(derived, as_of,
  baseline, differing)``: that count made again under this mechanism's policy, for the record
  ``derived`` holds (made by ``baseline``, the same mechanism under another version of the
  policy; ``differing``: the items of ``counting_reads`` that differ, parameters and
  ``table[key]`` rows): ``None`` when any fact, figure or warning differs, otherwise the fields
  of the section that are the law in force (the stay section's limit and window) with this
  version's values. A record that only differences in ``counting_reads`` reach, and whose count
  is the same, is not evaluated again.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, ClassVar, Protocol

from pydantic import BaseModel

from rules.errors import Problem
from rules.policy.types import MechanismFact

if TYPE_CHECKING:
    from models.person import Person
    from models.policy import Rule
    from models.verdict import Decision, TraceEntry
    from rules.policy.loaded import Policy

__all__ = ["Derived", "Mechanism", "MechanismFact"]


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
    #: The rules of its programme the mechanism needs, by local name (``limit``: the rule
    #: ``<programme>.limit``); a policy without one is refused.
    required_rules: ClassVar[tuple[str, ...]]

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
