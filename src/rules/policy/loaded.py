"""A loaded, checked policy: what the loader makes of a directory of YAML files and amendments.

The engine, the mechanisms, the reports and the impact analysis read a policy through
:class:`Policy`; only :mod:`rules.policy.loader` makes one (and :mod:`rules.policy.cache` reads
one back). Kept apart from the loader so that what the loader calls (the cache, the checks and
the rule titles they read) can name the policy without importing the loader in turn.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any

from models.policy import ComputedFact, Parameter, Programme, Rule, StatusKind, Table
from rules.errors import EvaluationError
from rules.policy.catalogue import Catalogue
from rules.policy.documents import Document
from rules.policy.nodes import Node, ReportItem, WarningCheck
from rules.policy.timeline import Timeline
from rules.policy.types import FactSpec

__all__ = ["Policy"]


@dataclass(frozen=True)
class Policy:
    """A loaded, checked policy. Immutable; compile it once and evaluate many cases with it.

    ``programmes`` are in the order verdicts list them (the header's ``order``, then the order
    written); the engine decides them in rounds, each after the programmes it reads."""

    name: str
    title: str
    version: str
    files: tuple[str, ...]
    programmes: dict[str, Programme]
    parameters: dict[str, Parameter]
    tables: dict[str, Table]
    status_kinds: dict[str, StatusKind]
    facts: dict[str, ComputedFact]
    rules: tuple[Rule, ...]
    catalogue: Catalogue = field(repr=False, default_factory=Catalogue)
    rule_values: dict[str, dict[str, Node]] = field(repr=False, default_factory=dict)
    reports: dict[str, dict[str, ReportItem]] = field(repr=False, default_factory=dict)
    warnings: dict[str, tuple[WarningCheck, ...]] = field(repr=False, default_factory=dict)
    _parameter_timelines: dict[str, Timeline] = field(repr=False, default_factory=dict)
    _row_timelines: dict[tuple[str, str], Timeline] = field(repr=False, default_factory=dict)
    _documents: dict[tuple[str | int, ...], Document] = field(repr=False, default_factory=dict)
    _rule_places: dict[str, tuple[Document, int]] = field(repr=False, default_factory=dict)
    broken: frozenset[str] = field(repr=False, default=frozenset())

    def where(self, section: str, name: str, *path: str | int) -> str:
        """``file:line at section.name...``: where an item of the policy is written (a table
        row may come from an amendment, so the longest known prefix decides the file)."""
        if section == "rules" and name in self._rule_places:
            document, index = self._rule_places[name]
            return document.where(("rules", index, *path))
        full = (section, name, *path)
        for length in range(len(full), 1, -1):
            found = self._documents.get(full[:length])
            if found is not None:
                return found.where(full)
        return f"policy {self.name} at {section}.{name}"

    def parameter(self, name: str, on: dt.date | int) -> Any:
        """The dated value of parameter ``name`` in force on ``on``; an error if none is."""
        timeline = self._parameter_timelines.get(name)
        if timeline is None:
            raise EvaluationError(f"policy {self.name} has no parameter {name!r}")
        found = timeline.at(on)
        if found is None:
            day = on if isinstance(on, dt.date) else dt.date.fromordinal(on)
            raise EvaluationError(f"parameter {name!r} of policy {self.name} has no value on {day}")
        return found

    def dated_parameter(self, name: str, on: dt.date | int) -> Any:
        """The dated value of parameter ``name`` on ``on``; ``None`` if the policy has none then."""
        timeline = self._parameter_timelines.get(name)
        return timeline.at(on) if timeline is not None else None

    def parameter_timeline(self, name: str) -> Timeline:
        return self._parameter_timelines[name]

    def row(self, table: str, key: str, on: dt.date | int) -> Any:
        """The dated value of ``table[key]`` on ``on``; ``None`` for an unknown key or date."""
        timeline = self._row_timelines.get((table, key))
        return timeline.at(on) if timeline is not None else None

    def rules_of(self, programme: str) -> tuple[Rule, ...]:
        return tuple(rule for rule in self.rules if rule.programme == programme)

    def fact(self, name: str) -> FactSpec | None:
        """The declaration of fact ``name`` (an input, a computed or a mechanism fact)."""
        return self.catalogue.facts.get(name)
