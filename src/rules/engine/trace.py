"""The trace: each rule that fired, what it saw, how the facts it read were computed, the law.

Every entry is built from the checked policy and the case's own values, so nothing is
validated again: the trace is the cheapest honest account of a verdict.
"""

from __future__ import annotations

from typing import Any

from models.verdict import Derivation, TraceEntry, built
from rules.engine.case import Case
from rules.engine.compiled import CompiledPolicy
from rules.engine.computation import json_value
from rules.engine.sections import Decided, report_missing
from rules.policy.mechanisms import Derived
from rules.policy.nodes import Param

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
    rule = compiled.rules[rule_id]
    programme = compiled.programme_of[rule_id]
    facts: dict[str, Any] = {}
    fact = case.fact
    for name in compiled.reads[rule_id]:
        value = fact(name).value
        if value is not None:
            kind = type(value)  # a whole number, text or truth is shown as it is: no call
            facts[name] = value if kind is int or kind is str or kind is bool else json_value(value)
    facts["as_of"] = case.as_of.isoformat()
    if programme in derived:
        facts.update(compiled.mechanisms[programme].rule_facts(derived[programme], rule))
    decision = decided.get(programme)
    # Built from the checked policy and the case's own values: nothing to validate again.
    return built(
        TraceEntry,
        {
            "rule": rule_id,
            "title": compiled.title(rule_id, case),
            **compiled.trace_parts[rule_id],
            "facts": facts,
            "missing": report_missing(compiled, (rule,), case) if rule_id in compiled.missing_reads else (),
            "overridden_by": overridden_by,
            "decisive": overridden_by is None
            and decision is not None
            and rule.then.status == decision.status,
            "derivations": (
                derivations(compiled, compiled.derives[rule_id], case) if rule_id in compiled.deriving else ()
            ),
        },
    )


def derivations(compiled: CompiledPolicy, names: tuple[str, ...], case: Case) -> tuple[Derivation, ...]:
    """How each computed fact behind ``names`` was computed, its operands first."""
    if not compiled.any_formula(names):
        return ()  # none of the facts is computed: nothing to derive
    result = []
    fact = case.fact
    for step in compiled.derivation_plan(names, case.day):
        value = fact(step.fact)
        operands = {operand: json_value(fact(operand).value) for operand in step.operands}
        for param in step.parameters:
            read = _parameter_read(compiled, param, case)
            operands[read] = json_value(compiled.closure(param)(case, None).value)
        result.append(
            built(
                Derivation,
                {
                    "fact": step.fact,
                    "value": json_value(value.value),
                    "formula": step.formula,
                    "operands": operands,
                    "reads": step.reads,
                    "missing": tuple(sorted(value.missing)) if value.missing else (),
                    "provisional": tuple(sorted(value.provisional)) if value.provisional else (),
                },
            )
        )
    return tuple(result)


def _parameter_read(compiled: CompiledPolicy, param: Param, case: Case) -> str:
    """How a derivation names a parameter it read: ``parameter NAME`` on the evaluation date,
    ``parameter NAME on DAY`` on the day its ``on`` gives (a formula may read both)."""
    if param.on is None:
        return f"parameter {param.name}"
    day = compiled.closure(param.on)(case, None).value
    return f"parameter {param.name} on {json_value(day) if day is not None else 'an unknown day'}"
