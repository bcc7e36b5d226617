"""A policy compiled for evaluation, once: what every case of it reads.

Formulas become closures (:mod:`rules.engine.computation`); each input gets its place in a
record; each rule the facts and parameters it reads (with the rules it refines), the facts it
tests for absence and its source; each programme with a mechanism an instance of it. The
evaluator, the sections and the trace all read from here.
"""

from __future__ import annotations

import bisect
import datetime as dt
from typing import Any, NamedTuple, cast

from models.policy import Rule
from models.verdict import SourceRef
from rules.engine.computation import Evaluate, FactSource, Val, compile_formula
from rules.engine.patterns import chain, facts_read_by, parameters_read_by
from rules.policy.conditions import comparisons
from rules.policy.loaded import Policy
from rules.policy.mechanisms import Mechanism
from rules.policy.nodes import Node, ReportItem, operator_of, parameter_nodes, references
from rules.policy.registry import mechanism_class
from rules.policy.titles import Slot, rule_title, slots
from rules.policy.types import FactSpec

__all__ = ["CompiledPolicy", "DerivationStep", "ParameterRead", "TraceShape"]

#: The origins of facts a case reads as they are, without a formula (see Case._compute).
_READ = frozenset({"as_of", "status", "mechanism", "input"})

#: Look-ups of parameters and table rows by day kept per policy (see CompiledPolicy.remember).
_MEMO_SIZE = 1 << 16


class ParameterRead(NamedTuple):
    """A parameter node a derivation shows, with what is known of it before any case."""

    name: str
    label: str  # "parameter NAME" (on a day its 'on' gives: "parameter NAME on DAY")
    on: Evaluate | None  # the closure of its 'on' (None: on the evaluation date)
    closure: Evaluate  # the closure of the node


class DerivationStep(NamedTuple):
    """One computed fact of a trace entry's derivations, as its formula in force reads it."""

    fact: str
    formula: str  # the operator it was written with ("none": no formula in force)
    operands: tuple[str, ...]  # the facts it reads directly
    parameters: tuple[ParameterRead, ...]  # its parameter nodes, in order of appearance
    reads: tuple[str, ...]  # "parameter NAME" and "table NAME", in order of appearance


class TraceShape(NamedTuple):
    """What a fired rule's trace entry needs of the policy, made once per rule."""

    rule: Rule
    programme: str
    reads: tuple[str, ...]  # the facts its condition reads (with the rules it refines)
    #: Its entry's fields in the order TraceEntry declares them: the parts no case changes
    #: (source, in force, outcome, note; the title of a rule quoting no parameter) and the
    #: defaults of those a case fills.
    template: dict[str, Any]
    templated: bool  # its title quotes parameters: rendered for the case (see title())
    lists_missing: bool  # it can list missing facts (see missing_reads)
    derives: tuple[str, ...] | None  # the facts its derivations show (None: it has none)


class CompiledPolicy:
    """What is compiled once per policy: each formula as a closure, where each input lives in a
    record, the rules with what they read, the programmes' mechanisms and precedence."""

    def __init__(self, policy: Policy) -> None:
        self.policy = policy
        self.specs: dict[str, FactSpec] = policy.catalogue.facts
        self.formulas: dict[str, tuple[tuple[int, ...], tuple[Evaluate | None, ...]]] = {
            name: (
                tuple(start for start, _ in dated),
                tuple(compile_formula(node) if node is not None else None for _, node in dated),
            )
            for name, dated in policy.catalogue.formulas.items()
        }
        self.rule_values: dict[str, dict[str, Evaluate]] = {
            rule_id: {name: compile_formula(node) for name, node in values.items()}
            for rule_id, values in policy.rule_values.items()
        }
        self.reports: dict[str, dict[str, tuple[ReportItem, Evaluate | None]]] = {
            programme: {
                name: (item, compile_formula(item.node) if item.node is not None else None)
                for name, item in items.items()
            }
            for programme, items in policy.reports.items()
        }
        self.inputs: dict[str, tuple[str, tuple[str, ...]]] = {}
        for name, spec in self.specs.items():
            if spec.origin == "input" and spec.path is not None:
                record, *path = spec.path.split(".")
                self.inputs[name] = (record, tuple(path))
        self.provisional_parameters = frozenset(
            name for name, parameter in policy.parameters.items() if parameter.provisional
        )
        self.provisional_tables = frozenset(
            name for name, table in policy.tables.items() if table.provisional
        )
        self.warnings: dict[str, tuple[tuple[str, Evaluate, Evaluate | None], ...]] = {
            programme: tuple(
                (
                    check.text,
                    compile_formula(check.when),
                    compile_formula(check.items) if check.items else None,
                )
                for check in checks
            )
            for programme, checks in policy.warnings.items()
        }
        self._closures: dict[int, Evaluate] = {}
        self._any_formula: dict[tuple[str, ...], bool] = {}
        # Every day on which some formula changes: between two of them, the formulas in force,
        # and so the derivation plan of a trace entry, are the same (see derivation_plan).
        self._formula_changes = sorted({start for starts, _ in self.formulas.values() for start in starts})
        self._derivation_plans: dict[tuple[tuple[str, ...], int], tuple[DerivationStep, ...]] = {}
        # What a case reads of a parameter or a table row on a day, kept: the policy is
        # immutable, so the same look-up always gives the same value (see Case.parameter).
        self.parameter_memo: dict[tuple[str, dt.date], Val] = {}
        self.row_memo: dict[tuple[str, Any, dt.date], Val] = {}
        self.mechanisms: dict[str, Mechanism] = {}
        for name, programme in policy.programmes.items():
            if programme.mechanism is not None:
                cls = mechanism_class(programme.mechanism)
                if cls is not None:  # the loader refused an unknown name
                    self.mechanisms[name] = cast("type[Mechanism]", cls)(policy, name)
        self.rules: dict[str, Rule] = {rule.id: rule for rule in policy.rules}
        self.programme_of = {rule_id: rule.programme for rule_id, rule in self.rules.items()}
        self.bases = {rule_id: rule.bases for rule_id, rule in self.rules.items()}
        # Where each mechanism fact is found among its mechanism's derived facts.
        self.mechanism_local = {
            name: (spec.programme, name[len(spec.programme) + 1 :])
            for name, spec in self.specs.items()
            if spec.origin == "mechanism"
        }
        self.reads = {rule_id: facts_read_by(rule, self.rules) for rule_id, rule in self.rules.items()}
        #: Per rule, the facts it reads that a formula computes: a value read from a record, a
        #: mechanism, the date or a status is never provisional nor left without a value by a
        #: gap of the policy, so only these can make a verdict resting on the rule so (rest_on).
        self.computed_reads = {
            rule_id: tuple(
                name for name in reads if name not in self.specs or self.specs[name].origin not in _READ
            )
            for rule_id, reads in self.reads.items()
        }
        #: What a trace entry derives: the facts the rule's condition reads, then those its values
        #: read (the measure a sanction applies may be a computed fact).
        self.derives = {
            rule_id: tuple(
                dict.fromkeys(
                    (
                        *reads,
                        *(
                            fact
                            for node in policy.rule_values.get(rule_id, {}).values()
                            for fact in references(node)[0]
                        ),
                    )
                )
            )
            for rule_id, reads in self.reads.items()
        }
        #: The rules whose trace entry has derivations: a fact it derives is computed by a formula.
        self.deriving = frozenset(
            rule_id
            for rule_id, names in self.derives.items()
            if any(name in policy.catalogue.formulas for name in names)
        )
        self.parameters = {
            rule_id: parameters_read_by(rule, self.rules) for rule_id, rule in self.rules.items()
        }
        self.position = {rule_id: index for index, rule_id in enumerate(self.rules)}
        # The rules of each programme that decide each status, in the policy's order: a
        # section's checklist and its list of rules with a status read them.
        self.deciding: dict[tuple[str, str], tuple[str, ...]] = {}
        for rule_id, rule in self.rules.items():
            if rule.then.status is not None:
                key = (self.programme_of[rule_id], rule.then.status)
                self.deciding[key] = (*self.deciding.get(key, ()), rule_id)
        self.sources = {
            rule_id: SourceRef(title=rule.source.title, href=rule.source.href, date=rule.source.date)
            for rule_id, rule in self.rules.items()
        }
        # The facts each rule tests with 'missing: true' (with the rules it refines): a deciding
        # rule lists those that have no value.
        self.missing_tests: dict[str, tuple[str, ...]] = {
            rule_id: tuple(
                dict.fromkeys(
                    comparison.fact
                    for link in chain(rule, self.rules)
                    if link.when is not None
                    for comparison, _ in comparisons(link.when)
                    if comparison.missing is True
                )
            )
            for rule_id, rule in self.rules.items()
        }
        # What a verdict resting on each rule says of its provisional parts: the rule itself,
        # then each provisional parameter its condition reads.
        self.provisional_warnings: dict[str, tuple[str, ...]] = {
            rule_id: (
                *(
                    (f"rule {rule_id} is provisional: the sources do not publish it as encoded",)
                    if rule.provisional
                    else ()
                ),
                *(
                    f"parameter {name} is provisional: the sources do not publish it"
                    for name in self.parameters[rule_id]
                    if policy.parameters[name].provisional
                ),
            )
            for rule_id, rule in self.rules.items()
        }
        #: The rules a verdict resting on is provisional: provisional themselves, or reading a
        #: provisional parameter (those with a warning above).
        self.provisional_rules = frozenset(
            rule_id for rule_id, said in self.provisional_warnings.items() if said
        )
        #: Per rule that can list missing facts: the facts it names in ``then.missing`` and those
        #: it tests with ``missing: true`` (see sections.report_missing); the others list none.
        self.missing_reads: dict[str, tuple[tuple[str, ...], tuple[str, ...]]] = {
            rule_id: (tuple(rule.then.missing), self.missing_tests[rule_id])
            for rule_id, rule in self.rules.items()
            if rule.then.missing or self.missing_tests[rule_id]
        }
        #: Per rule, the days it is in force on: those its own dates and the dates of the rules
        #: it refines all cover, from the latest first day to the earliest last (None: no end).
        self.in_force: dict[str, tuple[dt.date, dt.date | None]] = {}
        for rule_id, rule in self.rules.items():
            links = tuple(chain(rule, self.rules))
            ends = [link.end for link in links if link.end is not None]
            self.in_force[rule_id] = (max(link.start for link in links), min(ends) if ends else None)
        self.order = {name: index for index, name in enumerate(policy.programmes)}
        self.rank = {
            name: {status: index for index, status in enumerate(programme.precedence)}
            for name, programme in policy.programmes.items()
        }
        # Each rule's place in the trace: by programme; within one, rules that only apply (a
        # base rule) first, then by the precedence of their status; then as the policy lists them.
        self.reading_order: dict[str, tuple[int, int, int]] = {
            rule_id: (
                self.order[rule.programme],
                0 if rule.then.status is None else 1 + self.rank[rule.programme][rule.then.status],
                self.position[rule_id],
            )
            for rule_id, rule in self.rules.items()
            if rule.then.status is None or rule.then.status in self.rank[rule.programme]
        }
        # The rules whose titles quote parameters (see rules.policy.titles), and their titles
        # as rendered on a day.
        self.templated = frozenset(rule_id for rule_id, rule in self.rules.items() if slots(rule.title))
        # Per rule, the facts whose days its title's slots are read on (see rules.policy.titles).
        self._title_days: dict[str, tuple[str, ...]] = {
            rule_id: tuple(
                dict.fromkeys(on for slot in slots(self.rules[rule_id].title) if (on := Slot.of(slot).on))
            )
            for rule_id in self.templated
        }
        self._titles: dict[tuple[str, dt.date, tuple[Any, ...]], str] = {}
        #: Per rule, what its trace entry needs, in one look-up (see rules.engine.trace).
        self.trace_shapes: dict[str, TraceShape] = {
            rule_id: TraceShape(
                rule,
                rule.programme,
                self.reads[rule_id],
                {
                    "rule": rule_id,
                    "title": rule.title,
                    "source": self.sources[rule_id],
                    "in_force": (rule.start, rule.end),
                    "outcome": rule.then.status or "applies",
                    "facts": None,
                    "missing": (),
                    "overridden_by": None,
                    "decisive": False,
                    "note": rule.then.note or rule.note,
                    "derivations": (),
                },
                rule_id in self.templated,
                rule_id in self.missing_reads,
                self.derives[rule_id] if rule_id in self.deriving else None,
            )
            for rule_id, rule in self.rules.items()
        }

    def title(self, rule_id: str, case: FactSource) -> str:
        """The title of rule ``rule_id`` in ``case``: with the values of the parameters it
        quotes in force on the evaluation date, or on the day of the fact a slot names (see
        :mod:`rules.policy.titles`)."""
        named = self._title_days.get(rule_id)
        if named is None:  # a title quoting no parameter: the policy's own
            return self.rules[rule_id].title
        days = tuple(case.fact(name).value for name in named) if named else ()
        key = (rule_id, case.as_of, days)
        found = self._titles.get(key)
        if found is None:
            known = dict(zip(named, days, strict=True))
            found = rule_title(self.policy, self.rules[rule_id], case.as_of, fact=known.get)
            if len(self._titles) >= _MEMO_SIZE:
                self._titles.clear()
            self._titles[key] = found
        return found

    @staticmethod
    def remember(memo: dict[Any, Val], key: Any, value: Val) -> None:
        """Keep ``value`` in ``memo`` (emptied when it holds :data:`_MEMO_SIZE` values: a day
        read from a record, an item's date, makes the keys of a long run unbounded)."""
        if len(memo) >= _MEMO_SIZE:
            memo.clear()
        memo[key] = value

    def any_formula(self, names: tuple[str, ...]) -> bool:
        """Whether any of the facts ``names`` is computed by a formula (kept per tuple of names:
        the trace asks it of the facts each rule reads)."""
        found = self._any_formula.get(names)
        if found is None:
            formulas = self.policy.catalogue.formulas
            found = any(name in formulas for name in names)
            if len(self._any_formula) < _MEMO_SIZE:
                self._any_formula[names] = found
        return found

    def derivation_plan(self, names: tuple[str, ...], day: int) -> tuple[DerivationStep, ...]:
        """The computed facts behind ``names`` on ``day``, operands first, each with what its
        formula reads: what a trace entry's derivations show, less the case's values.

        It depends only on the formulas in force, so it is made once per tuple of names and
        period between two formula changes, not walked again for every case."""
        key = (names, bisect.bisect_right(self._formula_changes, day))
        plan = self._derivation_plans.get(key)
        if plan is None:
            plan = self._plan_derivations(names, day)
            if len(self._derivation_plans) < _MEMO_SIZE:
                self._derivation_plans[key] = plan
        return plan

    def _plan_derivations(self, names: tuple[str, ...], day: int) -> tuple[DerivationStep, ...]:
        formulas = self.policy.catalogue.formulas
        order: list[str] = []
        seen: set[str] = set()

        def in_force(name: str) -> Node | None:
            chosen = None
            for start, node in formulas[name]:
                if start <= day:
                    chosen = node
            return chosen

        def visit(name: str) -> None:
            if name in seen or name not in formulas:
                return
            seen.add(name)
            node = in_force(name)
            if node is not None:
                for operand in references(node)[0]:
                    visit(operand)
            order.append(name)

        for name in names:
            visit(name)
        steps = []
        for name in order:
            node = in_force(name)
            if node is None:
                steps.append(DerivationStep(name, "none", (), (), ()))
                continue
            facts, parameters, tables = references(node)
            steps.append(
                DerivationStep(
                    name,
                    operator_of(node),
                    facts,
                    tuple(
                        ParameterRead(
                            param.name,
                            f"parameter {param.name}",
                            self.closure(param.on) if param.on is not None else None,
                            self.closure(param),
                        )
                        for param in parameter_nodes(node)
                    ),
                    (*(f"parameter {p}" for p in parameters), *(f"table {t}" for t in tables)),
                )
            )
        return tuple(steps)

    def closure(self, node: Node) -> Evaluate:
        """A closure of one node of a formula (a parameter the trace shows), compiled once."""
        found = self._closures.get(id(node))
        if found is None:
            found = self._closures[id(node)] = compile_formula(node)
        return found

    def formula(self, name: str, day: int) -> Evaluate | None:
        """The closure of fact ``name`` in force on ``day`` (``None``: no formula then)."""
        starts, closures = self.formulas[name]
        index = bisect.bisect_right(starts, day) - 1
        return closures[index] if index >= 0 else None
