"""Checking rule conditions: every fact named, every operand of the fact's type, every rule
within the rules engine's limit.

A rule condition compares facts with constants (a literal or ``{param: NAME}``), so that it
compiles to a durable-rules pattern (:mod:`rules.engine.patterns`). A comparison of two facts,
arithmetic or a date calculation is a computed fact (:mod:`rules.policy.formulas`), which the
rule then compares. Types are checked here, before anything reaches the engine: durable-rules
would compare a string with a number as strings.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator, Mapping
from typing import Any

from models.policy import AllOf, AnyOf, Comparison, Condition, NotOf, Parameter, ParamRef
from rules.errors import did_you_mean
from rules.policy.types import FactSpec, ValueType

__all__ = ["LIST_SENTINEL", "MAX_ALTERNATIVES", "alternatives", "comparisons", "condition_problems"]

#: Alternatives (and/or expanded) one durable ruleset can hold: below the 64 that fail with
#: durable-rules error 303. A rule whose condition expands further is refused on load.
MAX_ALTERNATIVES = 48

#: A ``codes`` fact always carries this extra item in the engine, so that ``not contains``
#: (durable's ``$iall``, false on an empty list) holds for a person with no item at all.
LIST_SENTINEL = ""

_ORDERED = {"lt", "lte", "gt", "gte"}

Place = tuple[str | int, ...]


def comparisons(condition: Condition, place: Place = ()) -> Iterator[tuple[Comparison, Place]]:
    """Every comparison of a condition, with its place under the condition."""
    if isinstance(condition, AllOf):
        for index, child in enumerate(condition.all):
            yield from comparisons(child, (*place, "all", index))
    elif isinstance(condition, AnyOf):
        for index, child in enumerate(condition.any):
            yield from comparisons(child, (*place, "any", index))
    elif isinstance(condition, NotOf):
        yield from comparisons(condition.not_, (*place, "not"))
    else:
        yield condition, place


def _segments(operand: Any, parameters: Mapping[str, Parameter]) -> int:
    if isinstance(operand, ParamRef):
        parameter = parameters.get(operand.param)
        return max(1, sum(1 for v in parameter.values if v.value is not None)) if parameter else 1
    return 1


def alternatives(condition: Condition, parameters: Mapping[str, Parameter], negate: bool = False) -> int:
    """How many alternatives ``condition`` expands to in the engine (``any`` adds its branches,
    ``in`` its values, a dated parameter one per value; ``all`` multiplies)."""
    if isinstance(condition, NotOf):
        return alternatives(condition.not_, parameters, not negate)
    if isinstance(condition, AllOf | AnyOf):
        children = condition.all if isinstance(condition, AllOf) else condition.any
        counts = [alternatives(child, parameters, negate) for child in children]
        if isinstance(condition, AllOf) != negate:
            product = 1
            for count in counts:
                product *= count
            return product
        return sum(counts)
    operator = condition.operator
    if operator == "missing":
        return 1
    operand = condition.operand(operator)
    spread = _segments(operand, parameters)
    if (operator == "in" and not negate) or (operator == "not_in" and negate):
        values = operand if isinstance(operand, list) else [operand]
        if isinstance(operand, ParamRef):
            parameter = parameters.get(operand.param)
            sizes = (
                [len(v.value) for v in parameter.values if isinstance(v.value, list)] if parameter else [1]
            )
            return sum(sizes) or 1
        return len(values)
    return spread


def _type_of_literal(value: Any) -> str | None:
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int | float):
        return "number"
    if isinstance(value, dt.date):
        return "date"
    if isinstance(value, str):
        return "string"
    return None


def _literal_fits(value: Any, fact_type: ValueType) -> str | None:
    """Why ``value`` cannot be compared with a fact of ``fact_type`` (``None``: it can)."""
    kind = _type_of_literal(value)
    expected = {"integer": "number", "decimal": "number"}.get(fact_type.kind, fact_type.kind)
    if kind != expected:
        return f"the fact is of type {fact_type}; {value!r} is not"
    if fact_type.values is not None and value not in fact_type.values:
        hint = did_you_mean(str(value), fact_type.values)
        return f"{value!r} is not one of the fact's values {', '.join(sorted(fact_type.values))}{hint}"
    return None


def condition_problems(
    condition: Condition,
    programme: str,
    visible: Mapping[str, FactSpec],
    parameters: Mapping[str, Parameter],
    broken: frozenset[str],
    place: Place,
) -> list[tuple[Place, str]]:
    """Every problem of a rule's condition: unknown facts and parameters, operands of the wrong
    type, operators the fact's type does not take."""
    problems: list[tuple[Place, str]] = []
    for comparison, where in comparisons(condition, place):
        spec = visible.get(comparison.fact)
        if spec is None:
            if comparison.fact in broken:
                continue
            owner = comparison.fact.split(".", 1)[0]
            hint = did_you_mean(comparison.fact, visible)
            if owner not in {name.split(".", 1)[0] for name in visible}:
                problems.append(
                    (
                        (*where, "fact"),
                        f"a {programme!r} rule reads the facts of {programme} and of the programmes it "
                        f"reads ('reads' of the programme); {comparison.fact!r} is not one of them{hint}",
                    )
                )
                continue
            problems.append(((*where, "fact"), f"unknown fact {comparison.fact!r}{hint}"))
            continue
        operator = comparison.operator
        if operator == "missing":
            continue
        operand = comparison.operand(operator)
        said = [v for v in (operand if isinstance(operand, list) else [operand]) if v in spec.unknown_values]
        if said:
            problems.append(
                (
                    (*where, operator),
                    f"{said[0]!r} means the answer is not known yet: the fact then has no value; "
                    "test it with 'missing: true'",
                )
            )
            continue
        for message in _operand_problems(operator, operand, spec.type, parameters, broken):
            problems.append(((*where, operator), message))
    return problems


def _operand_problems(
    operator: str,
    operand: Any,
    fact_type: ValueType,
    parameters: Mapping[str, Parameter],
    broken: frozenset[str],
) -> list[str]:
    if isinstance(operand, ParamRef):
        parameter = parameters.get(operand.param)
        if parameter is None:
            if operand.param in broken:
                return []
            return [f"unknown parameter {operand.param!r}{did_you_mean(operand.param, parameters)}"]
        messages = []
        for dated in parameter.values:
            if dated.value is not None:
                messages.extend(_operand_problems(operator, dated.value, fact_type, parameters, broken))
        return [f"parameter {operand.param!r}: {messages[0]}"] if messages else []
    if fact_type.kind in ("record", "list"):
        return [f"a {fact_type} takes only 'missing'; compare one of its fields or a computed fact"]
    if operator in {"in", "not_in"}:
        if not isinstance(operand, list) or not operand:
            return [f"'{operator}' takes a non-empty list"]
        if len(operand) > MAX_ALTERNATIVES:
            return [
                f"'{operator}' lists {len(operand)} values; at most {MAX_ALTERNATIVES} "
                "(the engine's limit: keep long lists in a table)"
            ]
        wrong = [v for v in operand if _literal_fits(v, fact_type) is not None]
        if wrong:
            message = _literal_fits(wrong[0], fact_type) or ""
            if message.startswith("the fact is of type"):
                return [f"'{operator}' values must be of type {fact_type}; {wrong[0]!r} is not"]
            return [message]
        return []
    if isinstance(operand, list):
        return [f"'{operator}' takes one value, not a list"]
    if operator == "contains":
        if fact_type.kind != "codes":
            return [f"'contains' applies to a list of codes; this fact is of type {fact_type}"]
        if not isinstance(operand, str) or operand == LIST_SENTINEL:
            return [f"'contains' takes a non-empty string, not {operand!r}"]
        return []
    if fact_type.kind == "codes":
        return [f"a list of codes takes 'contains' or 'missing', not '{operator}'"]
    if operator in _ORDERED and not fact_type.ordered:
        return [f"'{operator}' compares numbers or dates; this fact is of type {fact_type}"]
    unfit = _literal_fits(operand, fact_type)
    return [unfit] if unfit else []
