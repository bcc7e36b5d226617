"""The trace: each rule that fired, what it saw, how the facts it read were computed, the law.

Every entry is built from the checked policy and the case's own values, so nothing is
validated again: the trace is the cheapest honest account of a verdict. What no case changes
is made once per policy (a rule's template of its entry, with its source, outcome and note;
each derivation step's parameter reads and their labels); an evaluation fills in its values.
"""

from __future__ import annotations

from typing import Any

from models.verdict import Derivation, TraceEntry, built_whole
from rules.engine.case import Case
from rules.engine.compiled import CompiledPolicy
from rules.engine.computation import json_value
from rules.engine.sections import Decided, report_missing
from rules.policy.mechanisms import Derived

__all__ = ["derivations", "trace_entry"]


def trace_entry(
    compiled: CompiledPolicy,
    rule_id: str,
    overridden_by: str | None,
    decided: dict[str, Decided],
    case: Case,
    derived: dict[str, Derived],
) -> TraceEntry:
    """The trace entry of a fired rule."""
    rule, programme, reads, template, templated, lists_missing, derives = compiled.trace_shapes[rule_id]
    facts: dict[str, Any] = {}
    fact = case.fact
    for name in reads:
        value = fact(name).value
        if value is not None:
            kind = type(value)  # a whole number, text or truth is shown as it is: no call
            facts[name] = value if kind is int or kind is str or kind is bool else json_value(value)
    facts["as_of"] = case.as_of.isoformat()
    if programme in derived:
        facts.update(compiled.mechanisms[programme].rule_facts(derived[programme], rule))
    fields = template.copy()  # in the order of the model's fields
    if templated:
        fields["title"] = compiled.title(rule_id, case)
    fields["facts"] = facts
    decision = decided.get(programme)
    if lists_missing:
        if decision is not None and decision.rules == (rule,):
            fields["missing"] = decision.missing  # what the rule found missing when it decided
        else:
            fields["missing"] = report_missing(compiled, (rule,), case)
    if overridden_by is not None:
        fields["overridden_by"] = overridden_by
    else:
        fields["decisive"] = decision is not None and rule.then.status == decision.status
    if derives is not None:
        fields["derivations"] = _derived(compiled, derives, case)  # a formula computes one of them
    return built_whole(TraceEntry, fields)


def derivations(compiled: CompiledPolicy, names: tuple[str, ...], case: Case) -> tuple[Derivation, ...]:
    """How each computed fact behind ``names`` was computed, its operands first."""
    if not compiled.any_formula(names):
        return ()  # none of the facts is computed: nothing to derive
    return _derived(compiled, names, case)


def _derived(compiled: CompiledPolicy, names: tuple[str, ...], case: Case) -> tuple[Derivation, ...]:
    """The derivations of ``names``, some of which a formula computes."""
    result = []
    fact = case.fact
    for step in compiled.derivation_plan(names, case.day):
        value = fact(step.fact)
        operands: dict[str, Any] = {}
        for operand in step.operands:
            shown = fact(operand).value
            kind = type(shown)  # a whole number, text or truth is shown as it is: no call
            operands[operand] = shown if kind is int or kind is str or kind is bool else json_value(shown)
        for name, label, on, closure in step.parameters:
            if on is None:  # on the evaluation date: named as the policy names it
                operands[label] = json_value(closure(case, None).value)
                continue
            # On the day its 'on' gives: named with that day, read on it (as its closure does).
            day = on(case, None).value
            if day is None:
                operands[f"{label} on an unknown day"] = None
            else:
                operands[f"{label} on {json_value(day)}"] = json_value(case.parameter(name, day).value)
        fields = {
            "fact": step.fact,
            "value": json_value(value.value),
            "formula": step.formula,
            "operands": operands,
            "reads": step.reads,
            "missing": tuple(sorted(value.missing)) if value.missing else (),
            "provisional": tuple(sorted(value.provisional)) if value.provisional else (),
        }
        result.append(built_whole(Derivation, fields))
    return tuple(result)
