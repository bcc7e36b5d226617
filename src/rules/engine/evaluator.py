"""Evaluating a person under a policy: compute facts, fire rules, resolve, explain.

The evaluator names no programme: it runs the policy's programmes in rounds, each round the
programmes whose readings are decided (the stay limit, then its sanction and the check at
entry). In each round:

1. each programme evaluated for this record (``always``, or ``with_record`` when the record
   carries its section) becomes one engine fact holding the facts its rules read: inputs,
   computed facts (each computed once, on demand), mechanism facts, and the statuses of the
   programmes it reads;
2. every rule in force whose condition holds *fires* (durable-rules matches them);
3. a fired rule named in the ``overrides`` of another fired rule (or refined by it) is set
   aside, provided that rule is itself in effect (an exception beats its base rule, as in
   Catala);
4. among the remaining rules' statuses, the programme's ``precedence`` picks its status.

No fired rule with a status in a required programme means the policy does not decide the
case: an :class:`EvaluationError`, never a default.
"""

from __future__ import annotations

import datetime as dt
import os
import threading
import zoneinfo
from collections import OrderedDict
from collections.abc import Callable, Collection, Mapping, Sequence
from dataclasses import dataclass, field
from functools import partial
from typing import Any, Literal, NamedTuple

from models._fields import parse_day
from models.person import Person
from models.policy import Rule
from models.verdict import Decision, PolicyRef, ProgrammeSection, StayResult, Verdict, built
from rules.engine.case import AS_IS, Case, KeyPlan
from rules.engine.compiled import CompiledPolicy
from rules.engine.durable import CompiledRuleset, check_facts
from rules.engine.guards import FiringGuards
from rules.engine.inputs import parse_person, read_person
from rules.engine.patterns import FactKeys, compile_rule, encode_value
from rules.engine.sections import (
    Decided,
    decision,
    programme_section,
    programme_warnings,
    report_missing,
    rest_on,
)
from rules.engine.trace import trace_entry
from rules.errors import EngineError, EvaluationError, InputError, Problem
from rules.frozen import made
from rules.policy.loader import Policy, load_policy
from rules.policy.mechanisms import Derived, Mechanism
from rules.version import VERDICT_FORMAT, __version__

__all__ = ["Evaluation", "Evaluator", "evaluate", "evaluation_day", "evaluator_for", "parse_person", "today"]


#: Plans of a case kept by the programme sections of its record (see Evaluator._plan): a handful.
_PLANS_KEPT = 64


class _Plan(NamedTuple):
    """What evaluating a record involves that depends only on which programme sections it
    carries, not on their values: made once per such set, not for every case."""

    #: The programmes evaluated with a mechanism, in the policy's order.
    mechanisms: tuple[tuple[str, Mechanism], ...]
    #: Each round's programmes evaluated, and whether any of them has a guard.
    rounds: tuple[tuple[tuple[str, ...], bool], ...]
    #: The programmes evaluated that are reported in a slot of a section: name, section, slot.
    slotted: tuple[tuple[str, str, str], ...]
    #: The programmes evaluated that have a section of their own, with their mechanism if any.
    sectioned: tuple[tuple[str, Mechanism | None], ...]


#: Fact sets by class of their values whose firings an evaluator keeps for replay (see
#: :mod:`rules.engine.classes`): a population of 179,000 cases fell into 594 classes.
_CLASS_MEMO = 4096


@dataclass(frozen=True)
class Evaluation:
    """One case evaluated (:meth:`Evaluator.evaluate_case`): its verdict, the values of the
    facts asked for, and the programmes a guard ruled out before computing their facts (an
    impact analysis reads from them what the case read of the law)."""

    verdict: Verdict
    facts: dict[str, Any]
    guarded: frozenset[str] = frozenset()
    _traced: Callable[[], Verdict] | None = field(default=None, repr=False, compare=False)
    _fact: Callable[[str], Any] | None = field(default=None, repr=False, compare=False)
    #: With ``undecided="omit"``: each required programme no rule decided, with the message the
    #: evaluation would have raised (the programme is left out of the verdict).
    undecided: Mapping[str, str] = field(default_factory=dict)
    #: What each mechanism derived for the case, by programme (an impact analysis counts a
    #: record again under another version from it: ``Mechanism.rederive``).
    derived: Mapping[str, Derived] = field(default_factory=dict, repr=False, compare=False)

    def traced(self) -> Verdict:
        """The verdict with its trace: the same verdict as an evaluation with ``trace=True``
        gives, built from this one's case without evaluating again."""
        return self.verdict if self._traced is None else self._traced()

    def fact(self, name: str) -> Any:
        """The value of fact ``name`` in this case (``None``: no value, no such fact, or a
        programme not evaluated for it), asked after the verdict was built: a fact the
        evaluation did not need is computed now, and the verdict is left as it was."""
        if self._fact is None:
            return self.facts.get(name)
        return self._fact(name)


class Evaluator:
    """A policy compiled for evaluation. Build one per policy version and reuse it.

    Thread-safe; evaluations run one at a time inside the engine (durable-rules holds the
    GIL), so scale out with processes, each building its own evaluator.
    """

    def __init__(self, policy: Policy, *, cache_size: int = 0, guards: bool = True) -> None:
        """Compile ``policy``. ``cache_size`` > 0 keeps that many recent firings for reuse by
        identical fact sets (identical facts always fire identically). Off by default: the
        benchmark measured no gain over distinct persons, only when the same case repeats.

        ``guards``: skip a programme that cannot fire any rule in a case, as its cheap facts
        show, without computing the rest of its facts (:mod:`rules.engine.guards`). The
        verdict is the same either way; off only to check that."""
        self.policy = policy
        self.compiled = compiled = CompiledPolicy(policy)
        self.rules = compiled.rules
        self.mechanisms = compiled.mechanisms
        keys = FactKeys()
        self.keys = keys
        patterns = {}
        # Programme by programme, so that the engine's parts hold the rules of few programmes
        # and a round asserts its facts only into the parts of its own programmes.
        for programme_name in policy.programmes:
            mechanism = self.mechanisms.get(programme_name)
            exemption = mechanism.exemption_fact if mechanism is not None else None
            for rule_id, rule in self.rules.items():
                if rule.programme == programme_name:
                    patterns[rule_id] = compile_rule(rule, self.rules, policy.parameters, keys, exemption)
        # The facts each programme's engine fact carries: every fact its rules read.
        self.engine_facts: dict[str, tuple[str, ...]] = {name: () for name in policy.programmes}
        for rule_id, rule in self.rules.items():
            needed = dict.fromkeys((*self.engine_facts[rule.programme], *compiled.reads[rule_id]))
            mechanism = self.mechanisms.get(rule.programme)
            if rule.exempts is not None and mechanism is not None and mechanism.exemption_fact:
                needed[f"{rule.programme}.{mechanism.exemption_fact}"] = None
            self.engine_facts[rule.programme] = tuple(needed)
        self.engine_keys = {
            name: tuple((fact, keys[fact], policy.catalogue.facts[fact].type) for fact in facts)
            for name, facts in self.engine_facts.items()
        }
        # The same, with where a mechanism holds each fact and whether its value goes as it is.
        self._engine_plans = {
            name: tuple(
                (
                    fact,
                    key,
                    value_type,
                    compiled.mechanism_local.get(fact),
                    value_type.kind not in ("codes", "list", "record"),
                )
                for fact, key, value_type in keys
            )
            for name, keys in self.engine_keys.items()
        }
        self._ruleset = CompiledRuleset(
            f"{policy.name}@{policy.version}", patterns, cache_size=cache_size, class_memo=_CLASS_MEMO
        )
        # The class key of the engine facts read straight from the case (Case.engine_key), when
        # the ruleset keeps its firings by class and the facts' ids and types pass its check
        # (those of every programme at once, so those of any few): the facts are then built
        # only when its class memo does not answer (see _fired).
        self._classes = self._ruleset.classes
        self._key_plans: dict[str, KeyPlan] = {}
        self._batch_plans: dict[tuple[str, ...], tuple[KeyPlan, ...]] = {}
        if self._classes is not None:
            try:
                check_facts([{"id": name, "t": name} for name in policy.programmes])
            except EngineError:
                self._classes = None
        if self._classes is not None:
            for name, plan in self._engine_plans.items():
                id_part, type_part = self._classes.part("id", name), self._classes.part("t", name)
                if id_part is not None and type_part is not None:
                    self._key_plans[name] = (
                        id_part,
                        type_part,
                        tuple(
                            (fact, key, value_type, where, AS_IS if plain else frozenset())
                            for fact, key, value_type, where, plain in plan
                        ),
                    )
        # The facts a guard may read: known without a formula, and given to the engine as they are.
        fact_of_key = {key: fact for fact, key in keys.keys.items()}
        cheap = {
            key
            for key, fact in fact_of_key.items()
            if (spec := policy.catalogue.facts.get(fact)) is not None
            and spec.origin in ("mechanism", "status", "input", "as_of")
            and spec.type.kind not in ("codes", "list", "record")
        }
        self._fact_of_key = fact_of_key
        self._guards = FiringGuards(patterns, compiled.programme_of, cheap.__contains__) if guards else None
        self.rounds = _rounds(policy)
        self._ref = PolicyRef(name=policy.name, version=policy.version)
        # What a guard reads of each property: the fact, and where its mechanism holds it.
        self._guard_reads = {
            key: (fact, compiled.mechanism_local.get(fact)) for key, fact in fact_of_key.items()
        }
        self._batch_reads: dict[tuple[str, ...], tuple[tuple[str, str, tuple[str, str] | None], ...]] = {}
        self._status_of = {rule_id: rule.then.status for rule_id, rule in self.rules.items()}
        # The rules that override or refine another: only when one fires can a rule be set aside.
        self._overriding = frozenset(rule_id for rule_id, bases in compiled.bases.items() if bases)
        # The plan of a case by the programme sections its record carries (see _plan).
        self._plans: dict[tuple[str, ...], _Plan] = {}

    def mechanism(self, programme: str) -> Mechanism:
        """The mechanism of ``programme`` (a :class:`KeyError` when it has none)."""
        return self.mechanisms[programme]

    def evaluate(self, person: Person | Mapping[str, Any], on: dt.date | str | None = None) -> Verdict:
        """The verdict for ``person`` on ``on`` (a date or ``YYYY-MM-DD`` text; default:
        today), under this policy."""
        return self.evaluate_with_facts(person, on, ())[0]

    def evaluate_with_facts(
        self,
        person: Person | Mapping[str, Any],
        on: dt.date | str | None,
        names: Collection[str],
        *,
        trace: bool = True,
    ) -> tuple[Verdict, dict[str, Any]]:
        """The verdict, and the values of the facts ``names`` in the same case (``None``: the
        fact has no value, or the policy has no such fact). An impact analysis groups records
        by them (``stay.regime``, ``residence.points``) without evaluating twice.

        ``trace=False`` leaves the verdict's trace empty (every section, figure and warning is
        the same): an impact analysis compares the figures first, and asks for the trace of the
        few records that changed (see :meth:`evaluate_case`)."""
        found = self.evaluate_case(person, on, names, trace=trace)
        return found.verdict, found.facts

    def evaluate_case(
        self,
        person: Person | Mapping[str, Any],
        on: dt.date | str | None,
        names: Collection[str] = (),
        *,
        trace: bool = True,
        undecided: Literal["raise", "omit"] = "raise",
    ) -> Evaluation:
        """The case evaluated (see :meth:`evaluate_with_facts`): its verdict, the values of the
        facts ``names``, the programmes a guard ruled out (:meth:`guard_facts`), and, for a
        verdict built without its trace, the same verdict with it on demand
        (:meth:`Evaluation.traced`), without evaluating again.

        ``undecided="omit"``: a required programme that no rule decides in this case (an
        :class:`EvaluationError` otherwise) is left out of the verdict, with a warning, and
        named in :attr:`Evaluation.undecided`; the other programmes are judged without its
        status. An impact analysis compares so a version that decides a record with one that
        does not. A programme with a mechanism (its section is part of every verdict) still
        raises."""
        policy = self.policy
        compiled = self.compiled
        record, sections_read = read_person(person, policy)
        # A date, the usual argument, is the day itself (as evaluation_day gives it, without the calls).
        as_of = on if type(on) is dt.date else evaluation_day(on) if on is not None else today(policy)
        case = Case(compiled, record, sections_read, as_of)
        plan = self.plan(sections_read)
        derived: dict[str, Derived] = {}
        for name, mechanism in plan.mechanisms:
            found_derived = derived[name] = mechanism.derive(case.person, as_of)
            case.mechanism_facts[name] = found_derived.facts
            case.person = found_derived.person
        fired, guarded, decided, overridden_by, left_out = self.decided(plan.rounds, case, undecided)
        warnings: list[str] = []
        for found_derived in derived.values():  # as a loop: no comprehension's frame per case
            warnings.extend(found_derived.warnings)
        fired_ids = set(fired)
        slots: dict[str, dict[str, Decision]] = {}
        sections: dict[str, Any] = {}
        for name, target, slot in plan.slotted:
            found = decided.get(name)
            if found is not None:
                slots.setdefault(target, {})[slot] = decision(compiled, found, case, warnings)
        for name, own in plan.sectioned:
            found = decided.get(name)
            if found is None:
                continue
            if own is not None:
                sections[name] = own.section(
                    derived[name], found.status, found.missing, slots.get(name, {}), warnings
                )
            else:
                sections[name] = programme_section(
                    compiled, name, found, case, fired_ids, overridden_by, warnings
                )
        declared = compiled.warnings
        for name, found in decided.items():
            if found.gaps:
                warnings.extend(found.gaps)
            if declared.get(name):  # a programme that declares warnings (every one has its entry)
                warnings.extend(programme_warnings(compiled, name, case))
        warnings.extend(self._provisional_warnings(decided, case))
        warnings.extend(left_out.values())
        values: dict[str, Any] = {
            "format": VERDICT_FORMAT,
            "engine_version": __version__,
            "person_id": record.person_id,
            "as_of": as_of,
            "policy": self._ref,
            "trace": (),
            "warnings": tuple(dict.fromkeys(warnings)),
        }
        asked = {name: self._fact_value(case, name) for name in names} if names else {}
        fact = partial(self._fact_value, case)
        traced: Callable[[], Verdict] | None = None
        if trace:  # the verdict with its trace, built now (the usual call): nothing kept to build it
            verdict = self._traced(values, sections, case, decided, fired, overridden_by, derived)
        else:
            verdict = _verdict(values, sections)
            traced = partial(self._traced, values, sections, case, decided, fired, overridden_by, derived)
        return made(
            Evaluation,
            {
                "verdict": verdict,
                "facts": asked,
                "guarded": frozenset(guarded),
                "_traced": traced,
                "_fact": fact,
                "undecided": left_out,
                "derived": derived,
            },
        )

    def decided(
        self,
        rounds: Sequence[tuple[tuple[str, ...], bool]],
        case: Case,
        undecided: Literal["raise", "omit"] = "raise",
    ) -> tuple[list[str], set[str], dict[str, Decided], dict[str, str], dict[str, str]]:
        """The programmes of ``rounds`` (a plan's, see :meth:`evaluate_case`) decided for
        ``case``, round by round, each status set in the case for the rounds after: the rules
        fired (in the order the engine reported them), the programmes a guard ruled out, what
        each programme decided, the rules set aside (and by which), and the programmes left
        undecided with ``undecided="omit"`` (and why). The columnar path decides a combination of
        fact values so (``rules.columns.decisions``)."""
        policy = self.policy
        programme_of = self.compiled.programme_of
        fired: list[str] = []  # the rules fired, in the order the engine reported them
        fired_in: dict[str, list[str]] = {}  # the same, by programme
        guarded: set[str] = set()
        decided: dict[str, Decided] = {}
        overridden_by: dict[str, str] = {}
        left_out: dict[str, str] = {}
        for batch, has_guard in rounds:
            asserted = self._may_fire(batch, case) if has_guard else batch
            if len(asserted) < len(batch):
                for name in batch:  # as a loop: no generator's frame per case
                    if name not in asserted:
                        guarded.add(name)
            if asserted:
                for rule_id in self._fired(asserted, case):
                    fired.append(rule_id)
                    fired_in.setdefault(programme_of[rule_id], []).append(rule_id)
                if not self._overriding.isdisjoint(fired):  # else no exception fired: none set aside
                    overridden_by = self._set_aside(fired)
            for name in batch:
                its = fired_in.get(name)
                found = self._decide(name, its, overridden_by, case) if its is not None else None
                if found is None:
                    if policy.programmes[name].required:
                        message = (
                            f"policy {policy.name} ({policy.version}) decides no {name} status "
                            f"on {case.as_of}: no rule in force applies to this case"
                        )
                        if undecided == "raise" or name in self.mechanisms:
                            raise EvaluationError(message)
                        left_out[name] = message
                    continue
                decided[name] = found
                case.statuses[name] = found.status
        return fired, guarded, decided, overridden_by, left_out

    def _traced(
        self,
        values: dict[str, Any],
        sections: dict[str, Any],
        case: Case,
        decided: dict[str, Decided],
        fired: list[str],
        overridden_by: dict[str, str],
        derived: dict[str, Derived],
    ) -> Verdict:
        """The verdict of an evaluation with its trace. The trace reads the case as the
        evaluation left it and changes nothing of it."""
        compiled = self.compiled
        ordered = compiled.reading_order
        try:  # every rule fired has its place kept (the usual case): its key read without a call
            in_order = sorted(fired, key=ordered.__getitem__)
        except KeyError:
            in_order = sorted(fired, key=lambda rule_id: ordered.get(rule_id) or self._reading_order(rule_id))
        entries = []
        for rule_id in in_order:  # as a loop: no comprehension's frame per case
            entries.append(trace_entry(compiled, rule_id, overridden_by.get(rule_id), decided, case, derived))
        if derived:
            fired_ids = set(fired)
            for name, found_derived in derived.items():
                entries.extend(self.mechanisms[name].trace(found_derived, fired_ids))
        return _verdict({**values, "trace": tuple(entries)}, sections)

    def guard_facts(self, programme: str) -> tuple[str, ...] | None:
        """The facts whose values can rule ``programme`` out of a case before its own facts are
        computed (``None``: it has no guard and is always asserted)."""
        if self._guards is None or programme not in self._guards.guards:
            return None
        keys = dict.fromkeys(key for needs in self._guards.guards[programme] for key, _, _ in needs)
        return tuple(self._fact_of_key[key] for key in keys)

    def value_class(self, name: str, value: Any) -> Any:
        """The class of ``value`` (not ``None``) as fact ``name``'s value among the rules'
        patterns (:mod:`rules.engine.classes`): two values of one class fire the same rules
        with every other fact alike. The value itself when the classes do not cover it; the
        name alone for a fact no pattern reads."""
        classes = self._classes
        if classes is None:
            return ("=", value)
        parts = []
        for plan in self._engine_plans.values():
            for fact, key, value_type, _, _ in plan:
                if fact == name:
                    encoded = encode_value(value, value_type)
                    part = None if encoded is None else classes.part(key, encoded)
                    if part is None:
                        return ("=", value)
                    parts.append(part)
        return tuple(dict.fromkeys(parts))

    def plan(self, sections: Mapping[str, Any]) -> _Plan:
        """What evaluating a record carrying the programme sections ``sections`` involves (the
        mechanisms, the rounds of programmes, the sections and slots), kept per set of them."""
        return self._plans.get(tuple(sections)) or self._plan(sections)

    def _plan(self, sections: Mapping[str, Any]) -> _Plan:
        """The plan of a record carrying ``sections`` (kept by their names)."""
        programmes = self.policy.programmes
        evaluated = [
            name
            for name, programme in programmes.items()
            if programme.evaluated == "always" or programme.record in sections
        ]
        guards = self._guards.guards if self._guards is not None else {}
        rounds = []
        for round_programmes in self.rounds:
            batch = tuple(name for name in round_programmes if name in evaluated)
            if batch:
                rounds.append((batch, any(name in guards for name in batch)))
        slotted = []
        for name in evaluated:
            section = programmes[name].section
            if section is not None:
                target, _, slot = section.partition(".")
                slotted.append((name, target, slot))
        plan = _Plan(
            tuple((name, self.mechanisms[name]) for name in evaluated if name in self.mechanisms),
            tuple(rounds),
            tuple(slotted),
            tuple(
                (name, self.mechanisms.get(name)) for name in evaluated if programmes[name].section is None
            ),
        )
        if len(self._plans) < _PLANS_KEPT:
            self._plans[tuple(sections)] = plan
        return plan

    def _fired(self, asserted: tuple[str, ...], case: Case) -> tuple[str, ...]:
        """The rules the engine fires on the engine facts of the programmes ``asserted``: replayed
        from the ruleset's class memo by their class key, read straight from the case, when the
        memo holds it (nearly every case); else the facts are built and fired."""
        ruleset = self._ruleset
        classes = self._classes
        if classes is not None:
            plans = self._batch_plans.get(asserted)
            if plans is None:
                plans = self._batch_plan(asserted)
            if plans:
                key = case.engine_key(plans, classes)
                if key is not None:
                    replay = ruleset.replayed(key)
                    if replay is not None:
                        return replay
        engine_fact, engine_plans = case.engine_fact, self._engine_plans
        return ruleset.fired([engine_fact(name, engine_plans[name]) for name in asserted])

    def _batch_plan(self, asserted: tuple[str, ...]) -> tuple[KeyPlan, ...]:
        """The key plans of the programmes ``asserted``, kept (empty: a programme whose fact the
        classes cannot key without building it)."""
        plans = tuple(plan for name in asserted if (plan := self._key_plans.get(name)) is not None)
        if len(plans) < len(asserted):
            plans = ()
        if len(self._batch_plans) < _PLANS_KEPT:
            self._batch_plans[asserted] = plans
        return plans

    def _may_fire(self, batch: tuple[str, ...], case: Case) -> tuple[str, ...]:
        """The programmes of ``batch`` that may fire a rule in ``case`` (see :mod:`rules.engine.guards`)."""
        assert self._guards is not None
        reads = self._batch_reads.get(batch)
        if reads is None:
            reads = self._batch_read(batch)
        # Read once for the whole batch (programmes share facts), all at once: reading a fact a
        # guard reads costs no formula and changes nothing.
        value = case.engine_values(reads).get
        may_fire = self._guards.may_fire
        found = []
        for name in batch:  # as a loop: no comprehension's frame per case
            if may_fire(name, value):
                found.append(name)
        return tuple(found)

    def _batch_read(self, batch: tuple[str, ...]) -> tuple[tuple[str, str, tuple[str, str] | None], ...]:
        """What the guards of the programmes of ``batch`` read: each property once, with its
        fact and where its mechanism holds it (see Case.engine_values); kept."""
        assert self._guards is not None
        guard_reads = self._guard_reads
        keys = dict.fromkeys(key for name in batch for key in self._guards.reads.get(name, ()))
        reads = tuple((key, *guard_reads[key]) for key in keys)
        if len(self._batch_reads) < _PLANS_KEPT:
            self._batch_reads[batch] = reads
        return reads

    def _fact_value(self, case: Case, name: str) -> Any:
        if name not in self.compiled.specs:
            return None
        programme = self.compiled.specs[name].programme
        if programme in self.mechanisms and programme not in case.mechanism_facts:
            return None  # the programme was not evaluated for this record
        return case.fact(name).value

    def _set_aside(self, fired: list[str]) -> dict[str, str]:
        """Which fired rules an exception sets aside, and by which rule.

        Only an exception that is itself in effect sets its base rules aside: when a
        suspension overrides a refusal, the refusal no longer overrides anything (Catala's
        reading). The loader refuses cycles of ``overrides``, so this terminates.
        """
        overriders: dict[str, list[str]] = {}
        bases = self.compiled.bases
        for rule_id in fired:
            for base in bases[rule_id]:
                overriders.setdefault(base, []).append(rule_id)
        if not overriders:
            return {}  # no exception fired: the usual case
        by: dict[str, str | None] = {}

        def setter(rule_id: str) -> str | None:
            if rule_id not in by:
                by[rule_id] = next(
                    (other for other in overriders.get(rule_id, ()) if setter(other) is None), None
                )
            return by[rule_id]

        return {rule_id: found for rule_id in fired if (found := setter(rule_id)) is not None}

    def _decide(
        self, programme: str, fired: Collection[str], overridden_by: dict[str, str], case: Case
    ) -> Decided | None:
        """Exceptions set their base rules aside; the programme's precedence picks the status."""
        status_of = self._status_of
        deciding = []
        for rule_id in fired:  # as a loop: no comprehension's frame per programme and case
            if status_of[rule_id] is not None and rule_id not in overridden_by:
                deciding.append(rule_id)
        if not deciding:
            return None
        compiled = self.compiled
        if len(deciding) == 1:  # one rule decides: the usual case
            rule_id = deciding[0]
            status = status_of[rule_id] or ""  # a status is never empty (a Code)
            chosen: tuple[Rule, ...] = (self.rules[rule_id],)
            # A rule that lists no missing facts, or reads no computed fact, has none to report
            # or rest on: the calls are left out (the usual case).
            found = Decided(
                status,
                chosen,
                report_missing(compiled, chosen, case) if rule_id in compiled.missing_reads else (),
            )
            if compiled.computed_reads[rule_id]:
                rest_on(compiled, found, case)
            return found
        rank = compiled.rank[programme]
        status = min((its for rule_id in deciding if (its := status_of[rule_id])), key=rank.__getitem__)
        chosen = tuple(self.rules[rule_id] for rule_id in deciding if status_of[rule_id] == status)
        found = Decided(status, chosen, report_missing(compiled, chosen, case))
        rest_on(compiled, found, case)
        return found

    def _reading_order(self, rule_id: str) -> tuple[int, int, int]:
        """By programme; within one, rules that only apply (a base rule) first, then by the
        precedence of their status."""
        rule = self.rules[rule_id]
        status = rule.then.status
        rank = 0 if status is None else 1 + self.compiled.rank[rule.programme][status]
        return (self.compiled.order[rule.programme], rank, self.compiled.position[rule_id])

    def _provisional_warnings(self, decided: dict[str, Decided], case: Case) -> list[str]:
        """Every verdict that rests on a provisional rule, parameter or table says so."""
        warnings: list[str] = []
        provisional = self.compiled.provisional_warnings
        for found in decided.values():
            for rule in found.rules:
                warnings.extend(provisional[rule.id])
        for name, found in decided.items():
            if found.provisional_sources:
                warnings.append(
                    f"the {name} verdict rests on values the sources do not publish (provisional): "
                    + ", ".join(sorted(found.provisional_sources))
                )
        return warnings


#: The parameter naming the zone of Kazakhstan's calendar day.
TIME_ZONE = "country.time_zone"


def evaluation_day(value: object, name: str = "on") -> dt.date:
    """The evaluation date from a :class:`datetime.date` or ``YYYY-MM-DD`` text; an
    :class:`InputError` at ``name`` for anything else (a date and time, a day that does not
    exist, another type), so that a library caller gets the message a command-line user gets."""
    try:
        return parse_day(value)
    except ValueError as error:
        raise InputError(f"the evaluation date is not valid: {error}", [Problem(name, str(error))]) from None


def today(policy: Policy) -> dt.date:
    """Today's date in Kazakhstan: the calendar day in the zone of the policy's
    ``country.time_zone`` (read on today's date in UTC), not the server's own day. A policy
    without the parameter falls back to UTC."""
    now = dt.datetime.now(dt.UTC)
    dated = policy.dated_parameter(TIME_ZONE, now.date())
    if dated is None or not isinstance(dated.value, str):
        return now.date()
    try:
        return now.astimezone(zoneinfo.ZoneInfo(dated.value)).date()
    except (zoneinfo.ZoneInfoNotFoundError, ValueError):
        return now.date()


#: The fields of a verdict: a section of the same name is refused by its validation.
_VERDICT_FIELDS = frozenset(Verdict.model_fields)


def _verdict(values: dict[str, Any], sections: dict[str, Any]) -> Verdict:
    """The verdict of ``values`` and the programmes' ``sections``: built without validating
    again when every part is already what validation keeps (the usual case), else validated."""
    stay = sections.get("stay")
    if stay is not None and len(sections) == 1:  # the stay section alone (most records)
        others: dict[str, Any] = {}
    else:
        others = {name: section for name, section in sections.items() if name != "stay"}
    if (
        type(stay) is StayResult
        and type(values["as_of"]) is dt.date
        and (
            not others
            or all(
                type(section) is ProgrammeSection and name not in _VERDICT_FIELDS
                for name, section in others.items()
            )
        )
    ):
        return built(Verdict, {**values, "stay": stay}, others)
    return Verdict(**values, **sections)


def _rounds(policy: Policy) -> list[list[str]]:
    """The programmes in rounds: each round holds those whose readings earlier rounds decide
    (the loader refuses programmes that read each other in a cycle)."""
    level: dict[str, int] = {}

    def depth(name: str) -> int:
        if name not in level:
            reads = [read for read in policy.programmes[name].reads if read in policy.programmes]
            level[name] = 1 + max((depth(read) for read in reads), default=-1)
        return level[name]

    for name in policy.programmes:
        depth(name)
    rounds: list[list[str]] = [[] for _ in range(max(level.values(), default=-1) + 1)]
    for name, found in level.items():
        rounds[found].append(name)
    return rounds


_default_lock = threading.Lock()
_evaluators: OrderedDict[tuple[str, str], Evaluator] = OrderedDict()
_KEPT_EVALUATORS = 8  # policy versions kept compiled by evaluate(); older ones are freed


def _after_fork_in_child() -> None:
    """A forked child starts with a free lock and no kept evaluator: one the parent was using in
    another thread could be mid-case (see :mod:`rules.engine.durable`); the child compiles its own."""
    global _default_lock
    _default_lock = threading.Lock()
    _evaluators.clear()


if hasattr(os, "register_at_fork"):  # not on Windows, which does not fork
    os.register_at_fork(after_in_child=_after_fork_in_child)


def evaluator_for(policy: Policy | None) -> Evaluator:
    """The compiled evaluator of ``policy`` (default: the shipped one), kept for reuse: the
    last few policy versions stay compiled."""
    with _default_lock:
        key = ("", "") if policy is None else (policy.name, policy.version)
        evaluator = _evaluators.get(key)
        if evaluator is None or (policy is not None and evaluator.policy != policy):
            evaluator = Evaluator(load_policy() if policy is None else policy)
            _evaluators[key] = evaluator
            if len(_evaluators) > _KEPT_EVALUATORS:
                _evaluators.popitem(last=False)
        _evaluators.move_to_end(key)
        return evaluator


def evaluate(
    person: Person | Mapping[str, Any], on: dt.date | str | None = None, policy: Policy | None = None
) -> Verdict:
    """The verdict for ``person`` on ``on`` (a date or ``YYYY-MM-DD`` text; default: today in
    Kazakhstan) under ``policy`` (default: the shipped one).

    Accepts a :class:`models.Person` or a plain dict of the same shape. Compiled policies are
    kept per version, so repeated calls cost only the evaluation.
    """
    return evaluator_for(policy).evaluate(person, on)
