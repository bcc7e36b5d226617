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
from rules.policy.nodes import operator_of, parameter_nodes, references

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
    for name in compiled.reads[rule_id]:
        value = case.fact(name).value
        if value is not None:
            facts[name] = json_value(value)
    facts["as_of"] = case.as_of.isoformat()
    mechanism = compiled.mechanisms.get(programme)
    if mechanism is not None and programme in derived:
        facts.update(mechanism.rule_facts(derived[programme], rule))
    decision = decided.get(programme)
    # Built from the checked policy and the case's own values: nothing to validate again.
    return built(
        TraceEntry,
        {
            "rule": rule_id,
            **compiled.trace_parts[rule_id],
            "facts": facts,
            "missing": report_missing(compiled, (rule,), case),
            "overridden_by": overridden_by,
            "decisive": overridden_by is None
            and decision is not None
            and rule.then.status == decision.status,
            "derivations": derivations(compiled, compiled.reads[rule_id], case),
        },
    )


def derivations(compiled: CompiledPolicy, names: tuple[str, ...], case: Case) -> tuple[Derivation, ...]:
    """How each computed fact behind ``names`` was computed, its operands first."""
    formulas = compiled.policy.catalogue.formulas
    if not compiled.any_formula(names):
        return ()  # none of the facts is computed: nothing to derive
    order: list[str] = []
    seen: set[str] = set()

    def visit(name: str) -> None:
        if name in seen or name not in formulas:
            return
        seen.add(name)
        node = _node(formulas[name], case.day)
        if node is not None:
            for operand in references(node)[0]:
                visit(operand)
        order.append(name)

    for name in names:
        visit(name)
    if not order:
        return ()
    result = []
    for name in order:
        node = _node(formulas[name], case.day)
        value = case.fact(name)
        facts, parameters, tables = references(node) if node is not None else ((), (), ())
        result.append(
            built(
                Derivation,
                {
                    "fact": name,
                    "value": json_value(value.value),
                    "formula": operator_of(node) if node is not None else "none",
                    "operands": {
                        **{operand: json_value(case.fact(operand).value) for operand in facts},
                        **_parameter_values(compiled, node, case),
                    },
                    "reads": (*(f"parameter {p}" for p in parameters), *(f"table {t}" for t in tables)),
                    "missing": tuple(sorted(value.missing)),
                    "provisional": tuple(sorted(value.provisional)),
                },
            )
        )
    return tuple(result)


def _parameter_values(compiled: CompiledPolicy, node: Any, case: Case) -> dict[str, Any]:
    """The value of each parameter a formula read, on the day it read it."""
    if node is None:
        return {}
    return {
        f"parameter {param.name}": json_value(compiled.closure(param)(case, None).value)
        for param in parameter_nodes(node)
    }


def _node(dated: tuple[tuple[int, Any], ...], day: int) -> Any:
    chosen = None
    for start, node in dated:
        if start <= day:
            chosen = node
    return chosen
