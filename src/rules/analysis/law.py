"""What differs between two policy versions on a date, and what each rule and programme reads.

An amendment changes a few items of the law: a parameter's value, a row of a table, a rule, a
computed fact's formula, a programme. :func:`law_differences` lists those that may reach a
verdict given on one evaluation date (in force on it, or on an earlier or a later day that a
verdict reads), each with its value before and after. :class:`Readings` knows, for one
policy, which parameters, tables, rules and computed facts each rule and each programme reads
(through the computed facts it reads, down to the parameters), so that an analysis can say,
for one changed record, which of the differences could have moved it.

Names of law items: a parameter or computed fact by its name (``stay.limit_days``), a table
row as ``table[key]`` (``stay.regime_of_citizenship[UZ]``), a rule as ``rule <id>``, a
programme as ``programme <name>``, a status kind a record may hold as ``status kind <name>``
(declared by one version only).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, replace
from typing import Any, Literal

from models.policy import InputField, TableValues
from rules.analysis.figures import plain
from rules.engine.evaluator import Evaluator
from rules.engine.patterns import chain, parameters_read_by
from rules.policy.loaded import Policy
from rules.policy.nodes import Item as ItemNode
from rules.policy.nodes import Literal as LiteralNode
from rules.policy.nodes import Node, Ref, lookups_with_lists, references

__all__ = ["LawDifference", "Readings", "law_differences"]

Kind = Literal["parameter", "table row", "computed fact", "rule", "programme", "status kind"]


@dataclass(frozen=True)
class LawDifference:
    """One item of the law that differs between the versions on a date.

    ``before`` and ``after`` are the values in force (``None``: none, or no such item). For a
    rule, a computed fact or a programme they say ``"in force"``, ``"not in force"`` or
    ``None``, and ``changed`` lists the keys of its definition that differ. ``start`` is set
    for a difference not in force on the evaluation date: the first day it differs. ``end`` is
    set for one that differs only before the evaluation date (a verdict judges a past day by
    the law of that day): the last day of its first run of days that differ. One that begins
    only after the evaluation date has a ``start`` and no ``end`` (a figure that looks ahead,
    such as the latest day to leave, reads the law of later days).
    """

    kind: Kind
    name: str
    before: Any
    after: Any
    changed: tuple[str, ...] = ()
    start: dt.date | None = None
    end: dt.date | None = None

    def to_json(self) -> dict[str, Any]:
        shown: dict[str, Any] = {
            "kind": self.kind,
            "name": self.name,
            "before": plain(self.before),
            "after": plain(self.after),
        }
        if self.changed:
            shown["changed"] = list(self.changed)
        if self.start is not None:
            shown["from"] = self.start.isoformat()
        if self.end is not None:
            shown["to"] = self.end.isoformat()
        return shown


def law_differences(baseline: Policy, amended: Policy, on: dt.date) -> tuple[LawDifference, ...]:
    """Every item of the law that differs between ``baseline`` and ``amended`` and may reach a
    verdict given on ``on``.

    First those in force on ``on``. Then those that differ only on earlier days, each with the
    first and the last day of its first run of days that differ (``start``, ``end``): a verdict
    judges a past day by the law of that day (an overstay of 2024 by the limit then in force, a
    fine by the MCI of the offence's day), so a change to the law of the past reaches verdicts
    given today. Then those that differ only from a later day, each with its first day
    (``start``): a figure that looks ahead, such as the latest day to leave, reads the law of
    later days. Each item is listed once.
    """
    versions = _Versions(baseline, amended)
    found = list(versions.differences(on))
    seen = {difference.name for difference in found}
    days = _change_days(baseline, amended)
    earlier = [day for day in days if day < on]
    runs: dict[str, LawDifference] = {}
    for index, day in enumerate(earlier):
        # Values only change on these days: each holds until the day before the next one.
        last = (earlier[index + 1] if index + 1 < len(earlier) else on) - dt.timedelta(days=1)
        differing = {difference.name: difference for difference in versions.differences(day)}
        for name, run in list(runs.items()):
            if name in differing and run.end == day - dt.timedelta(days=1):
                runs[name] = replace(run, end=last)  # the run goes on
        for name, difference in differing.items():
            if name not in seen and name not in runs:
                runs[name] = replace(difference, start=day, end=last)
    found += runs.values()
    seen.update(runs)
    for day in (day for day in days if day > on):
        for difference in versions.differences(day):
            if difference.name not in seen:
                seen.add(difference.name)
                found.append(replace(difference, start=day))
    return tuple(found)


def _change_days(baseline: Policy, amended: Policy) -> list[dt.date]:
    """Every day on which some dated item of either version starts or ends, in order."""
    days: set[dt.date] = set()
    for policy in (baseline, amended):
        for parameter in policy.parameters.values():
            days.update(value.start for value in parameter.values)
        for table in policy.tables.values():
            days.update(value.start for values in table.rows.values() for value in values)
        for fact in policy.facts.values():
            days.update(formula.start for formula in fact.formulas)
        for rule in policy.rules:
            days.add(rule.start)
            if rule.end is not None and rule.end < dt.date.max:
                days.add(rule.end + dt.timedelta(days=1))
    return sorted(days)


class _Versions:
    """The two versions side by side: what differs between them on one day (:meth:`differences`).

    Rules, programmes and status kinds are compared once, when built: their definitions do not
    depend on the day, only whether a rule is in force does. Parameters, table rows and
    formulas are compared on each day asked for."""

    def __init__(self, baseline: Policy, amended: Policy) -> None:
        self.baseline, self.amended = baseline, amended
        old_rules = {rule.id: rule for rule in baseline.rules}
        new_rules = {rule.id: rule for rule in amended.rules}
        #: Each rule whose definition differs: its two versions and the keys that differ.
        self.rules: list[tuple[str, Any, Any, tuple[str, ...]]] = []
        for rule_id in _union(old_rules, new_rules):
            old_rule, new_rule = old_rules.get(rule_id), new_rules.get(rule_id)
            old_dump = old_rule.model_dump(mode="json") if old_rule is not None else None
            new_dump = new_rule.model_dump(mode="json") if new_rule is not None else None
            if old_dump != new_dump:
                self.rules.append((rule_id, old_rule, new_rule, _changed_keys(old_dump, new_dump)))
        #: The programmes and status kinds that differ, the same on every day.
        self.undated: list[LawDifference] = []
        for name in _union(baseline.programmes, amended.programmes):
            old_programme, new_programme = baseline.programmes.get(name), amended.programmes.get(name)
            old_dump = old_programme.model_dump(mode="json") if old_programme is not None else None
            new_dump = new_programme.model_dump(mode="json") if new_programme is not None else None
            if old_dump != new_dump:
                self.undated.append(
                    LawDifference(
                        "programme",
                        f"programme {name}",
                        "in force" if old_dump is not None else None,
                        "in force" if new_dump is not None else None,
                        _changed_keys(old_dump, new_dump),
                    )
                )
        for name in _union(baseline.status_kinds, amended.status_kinds):
            old_kind, new_kind = baseline.status_kinds.get(name), amended.status_kinds.get(name)
            if (old_kind is None) != (new_kind is None):
                self.undated.append(
                    LawDifference(
                        "status kind",
                        f"status kind {name}",
                        "declared" if old_kind is not None else None,
                        "declared" if new_kind is not None else None,
                    )
                )

    def differences(self, on: dt.date) -> tuple[LawDifference, ...]:
        """Every item of the law in force on ``on`` that differs between the versions."""
        baseline, amended = self.baseline, self.amended
        found: list[LawDifference] = []
        for name in _union(baseline.parameters, amended.parameters):
            before = _value(baseline.dated_parameter(name, on))
            after = _value(amended.dated_parameter(name, on))
            if before != after:
                found.append(LawDifference("parameter", name, before, after))
        for table in _union(baseline.tables, amended.tables):
            old, new = baseline.tables.get(table), amended.tables.get(table)
            keys = _union(old.rows if old is not None else {}, new.rows if new is not None else {})
            for key in keys:
                before, after = _value(baseline.row(table, key, on)), _value(amended.row(table, key, on))
                if before != after:
                    found.append(LawDifference("table row", f"{table}[{key}]", before, after))
        for name in _union(baseline.facts, amended.facts):
            old_fact, new_fact = baseline.facts.get(name), amended.facts.get(name)
            old_formula = _formula_on(old_fact, on) if old_fact is not None else None
            new_formula = _formula_on(new_fact, on) if new_fact is not None else None
            if old_formula != new_formula:
                found.append(
                    LawDifference(
                        "computed fact",
                        name,
                        "in force" if old_formula is not None else None,
                        "in force" if new_formula is not None else None,
                        ("formula",) if old_formula is not None and new_formula is not None else (),
                    )
                )
        for rule_id, old_rule, new_rule, changed in self.rules:
            old_state = _rule_state(old_rule, on)
            new_state = _rule_state(new_rule, on)
            if old_state != "in force" and new_state != "in force":
                continue  # neither is the law on this date
            found.append(LawDifference("rule", f"rule {rule_id}", old_state, new_state, changed))
        found += self.undated
        return tuple(found)


def _union(*mappings: Iterable[str]) -> list[str]:
    return list(dict.fromkeys(name for mapping in mappings for name in mapping))


def _value(dated: Any) -> Any:
    return None if dated is None else dated.value


def _formula_on(fact: Any, on: dt.date) -> Any:
    current = None
    for dated in fact.formulas:
        if dated.start <= on:
            current = dated.formula
    return current


def _rule_state(rule: Any, on: dt.date) -> str | None:
    if rule is None:
        return None
    return "in force" if rule.in_force(on) else "not in force"


def _changed_keys(old: dict[str, Any] | None, new: dict[str, Any] | None) -> tuple[str, ...]:
    if old is None or new is None:
        return ()
    return tuple(key for key in _union(old, new) if old.get(key) != new.get(key))


@dataclass(frozen=True)
class _Keys:
    """The keys a table is looked up by: the values of these facts, these constants, and the
    values of a field of each item of these lists (``(list fact, field)``)."""

    facts: frozenset[str] = frozenset()
    constants: frozenset[Any] = frozenset()
    items: frozenset[tuple[str, str]] = frozenset()


class Readings:
    """The law items each rule and each programme of one policy reads (see the module doc).

    A programme reads the items of its rules, its report, its warnings and, for a programme
    with a mechanism, the parameters and tables the mechanism declares in ``reads``; a rule
    reading a mechanism's fact reads those too. A mechanism that declares none is taken to read
    every parameter and table of the policy: an over-approximation, never a miss. A programme
    that a guard ruled out of a case read less (``of_guard``): its definition, its rules, and
    what its guard's facts read. A programme also reads the rows of the tables whose keys are
    its inputs' allowed values.

    Which row of a table a case reads depends on the case: :meth:`keys` says by what keys the
    policy looks each table up, so that an analysis can keep, for one record, only the rows
    its cases may have read.
    """

    def __init__(self, evaluator: Evaluator, *, through_mechanisms: bool = True) -> None:
        """``through_mechanisms=False``: what each rule and programme reads *beside* its
        mechanisms, leaving out the parameters and tables only a mechanism reads (what a rule
        reads of a mechanism's facts comes from them): an analysis counts again, rather than
        evaluating again, a record that only differences read by a mechanism's count reach."""
        policy = evaluator.policy
        self._policy = policy
        self._facts: dict[str, frozenset[str]] = {}
        #: What keys each table's look-ups (see :meth:`keys`); a table left out is read by a
        #: key that cannot be told from the case's facts.
        self._keys: dict[str, _Keys] = {}
        self._unkeyed: set[str] = set()
        everything = {
            *policy.parameters,
            *(f"{table}[{key}]" for table, spec in policy.tables.items() for key in spec.rows),
        }
        self._mechanism: dict[str, frozenset[str]] = {}
        for name, mechanism in evaluator.mechanisms.items():
            declared = getattr(mechanism, "reads", None)
            if not through_mechanisms:
                self._mechanism[name] = frozenset()
            elif declared is None:
                self._mechanism[name] = frozenset(everything)
            else:
                items = {item for item in declared if item in policy.parameters}
                keyed: Mapping[str, str] = getattr(mechanism, "keyed_reads", {})
                for table in declared:
                    if table in policy.tables:
                        items.update(f"{table}[{key}]" for key in policy.tables[table].rows)
                        if table in keyed:  # looked up by the value of one of its facts
                            self._keyed(table, "facts", f"{name}.{keyed[table]}")
                        else:  # by keys of its own
                            self._unkeyed.add(table)
                self._mechanism[name] = frozenset(items)
        if any(getattr(mechanism, "reads", None) is None for mechanism in evaluator.mechanisms.values()):
            self._unkeyed.update(policy.tables)
        rules = evaluator.rules
        self.of_rule: dict[str, frozenset[str]] = {}
        for rule_id, rule in rules.items():
            items = {f"rule {rule_id}", *(f"rule {base}" for base in rule.bases)}
            items.update(parameters_read_by(rule, rules))
            for fact in evaluator.compiled.reads[rule_id]:
                items |= self._fact(fact)
            for node in policy.rule_values.get(rule_id, {}).values():
                items |= self._node(node)
            self.of_rule[rule_id] = frozenset(items)
        self.of_programme: dict[str, frozenset[str]] = {}
        for name in policy.programmes:
            items = {f"programme {name}", *self._mechanism.get(name, ())}
            for rule_id, rule in rules.items():
                if rule.programme == name:
                    items |= self.of_rule[rule_id]
            for item in policy.reports.get(name, {}).values():
                if item.node is not None:
                    items |= self._node(item.node)
                for _, node in item.timeline:
                    items |= self._node(node)
            for check in policy.warnings.get(name, ()):
                items |= self._node(check.when)
                if check.items is not None:
                    items |= self._node(check.items)
            items |= self._inputs(name, policy.programmes[name].inputs or {})
            self.of_programme[name] = frozenset(items)
        # What a programme its guard ruled out of a case read (Evaluator.guard_facts): its
        # definition, its rules with those they refine or set aside, and what the facts of its
        # guard read. Not its parameters, tables or formulas: none of them was computed.
        self.of_guard: dict[str, frozenset[str]] = {}
        for name in policy.programmes:
            guard = evaluator.guard_facts(name)
            if guard is None:
                continue
            items = {f"programme {name}"}
            for rule in rules.values():
                if rule.programme == name:
                    items.update(f"rule {link.id}" for link in chain(rule, rules))
                    items.update(f"rule {base}" for base in rule.bases)
            for fact in guard:
                spec = policy.catalogue.facts.get(fact)
                if spec is not None:
                    items.add(f"programme {spec.programme}")  # an input is declared there
                items |= self._fact(fact)
            self.of_guard[name] = frozenset(items)

    def keys(self, table: str) -> _Keys | None:
        """What keys the look-ups of ``table`` in this policy: the facts whose values, the
        constants, and the fields of the items of the lists, they look it up by. ``None`` when
        some look-up's key is none of these (a computed expression, an item of a list that is
        not a fact) or a mechanism reads the table by keys of its own: any row may be read."""
        return None if table in self._unkeyed else self._keys.get(table, _Keys())

    def _keyed(self, table: str, kind: Literal["facts", "constants", "items"], key: Any) -> None:
        """Note that ``table`` is looked up by ``key``, one of its facts, constants or items."""
        known = self._keys.get(table, _Keys())
        self._keys[table] = replace(known, **{kind: getattr(known, kind) | {key}})

    def _inputs(
        self,
        prefix: str,
        inputs: Mapping[str, InputField],
        *,
        item_of: str | None = None,
        nested: bool = False,
    ) -> set[str]:
        """The rows of the tables whose keys are the allowed values of an input (a record is
        accepted or not by them), keyed by the input's fact, or by a field of each item of a
        list input (``item_of``); deeper in a list, by no key that can be told (``nested``)."""
        items: set[str] = set()
        for name, spec in inputs.items():
            fact = f"{prefix}.{name}"
            if isinstance(spec.values, TableValues):
                table = spec.values.table
                rows = self._policy.tables[table].rows if table in self._policy.tables else {}
                items.update(f"{table}[{key}]" for key in rows)
                if nested:
                    self._unkeyed.add(table)
                elif item_of is not None:
                    self._keyed(table, "items", (item_of, name))
                else:
                    self._keyed(table, "facts", fact)
            if spec.fields:
                inside = nested or item_of is not None
                if spec.type == "list" and not inside:
                    items |= self._inputs(fact, spec.fields, item_of=fact)
                else:
                    items |= self._inputs(fact, spec.fields, nested=inside)
        return items

    def _node(self, node: Node) -> set[str]:
        for lookup, over in lookups_with_lists(node):
            key = lookup.key
            if isinstance(key, Ref):
                self._keyed(lookup.table, "facts", key.name)
            elif isinstance(key, LiteralNode):
                self._keyed(lookup.table, "constants", key.value)
            elif isinstance(key, ItemNode) and isinstance(over, Ref):
                self._keyed(lookup.table, "items", (over.name, key.name))
            else:
                self._unkeyed.add(lookup.table)
        facts, params, tables = references(node)
        items: set[str] = set(params)
        for table in tables:
            spec = self._policy.tables.get(table)
            items.update(f"{table}[{key}]" for key in (spec.rows if spec is not None else ()))
        for fact in facts:
            items |= self._fact(fact)
        return items

    def _fact(self, name: str) -> frozenset[str]:
        """A fact's items: its formulas and what they read, down to parameters and tables."""
        found = self._facts.get(name)
        if found is not None:
            return found
        self._facts[name] = frozenset()  # the loader refuses cycles; this guards the walk
        items: set[str] = set()
        dated = self._policy.catalogue.formulas.get(name)
        if dated is not None:
            items.add(name)
            for _, node in dated:
                if node is not None:
                    items |= self._node(node)
        spec = self._policy.catalogue.facts.get(name)
        if spec is not None and spec.origin == "mechanism":
            items.add(f"programme {spec.programme}")
            items |= self._mechanism.get(spec.programme, frozenset())
        self._facts[name] = result = frozenset(items)
        return result
