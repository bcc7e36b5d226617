"""The condition language of policy rules, checked and compiled to durable-rules patterns.

A condition speaks of the facts of its rule's programme (``stay.days_used``), which the
engine derives from the person's record; their names and types are declared in
:data:`FACTS`. Compilation:

* dates become integer day ordinals (durable-rules compares a string with a number as
  strings, so every value's type is checked here, before it reaches the engine);
* ``{param: name}`` becomes one alternative per dated value of the parameter, each limited to
  the evaluation dates on which that value is in force;
* ``not`` is pushed down to the comparisons (durable-rules has no negation); a comparison on a
  missing fact is false, and so is its negation;
* the rule's own ``from``/``to`` become bounds on ``as_of``: one compiled ruleset serves every
  evaluation date, and a rule decides nothing on a date it is not in force.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from typing import Any, Literal

from models.policy import AllOf, AnyOf, Comparison, Condition, NotOf, Parameter, ParamRef, Rule
from rules.engine.durable import MAX_ALTERNATIVES, alternatives
from rules.errors import did_you_mean

__all__ = [
    "FACTS",
    "LIST_SENTINEL",
    "FactType",
    "check_rule",
    "compile_rule",
    "decode_value",
    "encode_fact",
    "facts_read_by",
    "parameters_read_by",
]

FactType = Literal["date", "int", "bool", "str", "list"]

#: The facts each programme's rules may read, as derived by the engine.
FACTS: dict[str, dict[str, FactType]] = {
    "stay": {
        "as_of": "date",
        "citizenship": "str",
        "regime": "str",
        "subject": "bool",
        "trips_recorded": "bool",
        "present": "bool",
        "days_used": "int",
        "overstay_days": "int",
        "exempt_days": "int",
        "statuses": "list",
    },
    # The consequences of an overstay (Code of Administrative Offences art. 517); present only
    # when the stay limit counted the record.
    "sanction": {
        "as_of": "date",
        "stay_status": "str",
        "citizenship": "str",
        "overstay_days": "int",
        "period_days": "int",
        "period_end": "date",
    },
    # The check made at the border (Migration Law art. 48), on a day the person entered.
    "entry": {
        "as_of": "date",
        "stay_status": "str",
        "citizenship": "str",
        "entry_day": "bool",
        "over_limit": "bool",
    },
}

#: A list fact always carries this extra item, so that ``not contains`` (durable's ``$iall``,
#: false on an empty list) holds for a person with no item at all. ``contains ""`` is refused.
LIST_SENTINEL = ""

_NEGATED = {
    "eq": "ne",
    "ne": "eq",
    "lt": "gte",
    "gte": "lt",
    "lte": "gt",
    "gt": "lte",
    "in": "not_in",
    "not_in": "in",
    "contains": "not_contains",
    "not_contains": "contains",
}
_ORDERED = {"lt", "lte", "gt", "gte"}
_DURABLE_OP = {"ne": "$neq", "lt": "$lt", "lte": "$lte", "gt": "$gt", "gte": "$gte"}
Place = tuple[str | int, ...]


def _type_of(value: Any) -> FactType | None:
    if isinstance(value, bool):
        return "bool"
    if isinstance(value, int):
        return "int"
    if isinstance(value, dt.date):
        return "date"
    if isinstance(value, str):
        return "str"
    return None


def _comparisons(condition: Condition, place: Place) -> Iterator[tuple[Comparison, Place]]:
    if isinstance(condition, AllOf):
        for index, child in enumerate(condition.all):
            yield from _comparisons(child, (*place, "all", index))
    elif isinstance(condition, AnyOf):
        for index, child in enumerate(condition.any):
            yield from _comparisons(child, (*place, "any", index))
    elif isinstance(condition, NotOf):
        yield from _comparisons(condition.not_, (*place, "not"))
    else:
        yield condition, place


def facts_read_by(rule: Rule) -> tuple[str, ...]:
    """The fact properties a rule's condition reads (without the programme prefix), in order."""
    seen: dict[str, None] = {}
    if rule.when is not None:
        for comparison, _ in _comparisons(rule.when, ()):
            seen[comparison.fact.split(".", 1)[1]] = None
    return tuple(seen)


def parameters_read_by(rule: Rule) -> tuple[str, ...]:
    """The parameters a rule's condition compares with and its outcome reports, in order."""
    seen: dict[str, None] = {}
    if rule.when is not None:
        for comparison, _ in _comparisons(rule.when, ()):
            operand = comparison.operand(comparison.operator)
            if isinstance(operand, ParamRef):
                seen[operand.param] = None
    for value in rule.then.values.values():
        if isinstance(value, ParamRef):
            seen[value.param] = None
    return tuple(seen)


def check_rule(rule: Rule, parameters: dict[str, Parameter]) -> list[tuple[Place, str]]:
    """Every problem in a rule's condition, each with its place under the rule."""
    problems: list[tuple[Place, str]] = []
    facts = FACTS.get(rule.programme)
    if facts is None:
        return [(("id",), f"programme {rule.programme!r} has no facts the engine can derive")]
    for name, value in rule.then.values.items():
        if isinstance(value, ParamRef) and value.param not in parameters:
            problems.append((("then", "values", name), f"unknown parameter {value.param!r}"))
    if rule.when is None:
        return problems
    problems.extend(_comparison_problems(rule.programme, rule.when, facts, parameters))
    if not problems:
        size = alternatives(compile_rule(rule, parameters))
        if size > MAX_ALTERNATIVES:
            problems.append(
                (
                    ("when",),
                    f"the condition expands to {size} alternatives (each 'any', 'in' and dated "
                    f"parameter multiplies them); at most {MAX_ALTERNATIVES}: split it into rules",
                )
            )
    return problems


def _comparison_problems(
    programme_name: str,
    condition: Condition,
    facts: dict[str, FactType],
    parameters: dict[str, Parameter],
) -> list[tuple[Place, str]]:
    problems: list[tuple[Place, str]] = []
    for comparison, place in _comparisons(condition, ("when",)):
        programme, _, name = comparison.fact.partition(".")
        if programme != programme_name:
            problems.append(
                (
                    (*place, "fact"),
                    f"a {programme_name!r} rule can read only {programme_name}.* facts, "
                    f"not {comparison.fact!r}",
                )
            )
            continue
        fact_type = facts.get(name)
        if fact_type is None:
            hint = did_you_mean(comparison.fact, [f"{programme}.{fact}" for fact in facts])
            problems.append(
                (
                    (*place, "fact"),
                    f"unknown fact {comparison.fact!r}{hint}; known: {', '.join(facts)}",
                )
            )
            continue
        operator = comparison.operator
        if operator == "missing":
            continue
        operand = comparison.operand(operator)
        for message in _operand_problems(operator, operand, fact_type, parameters):
            problems.append(((*place, operator), message))
    return problems


def encode_fact(programme: str, fact: dict[str, Any]) -> dict[str, Any]:
    """The fact as the engine must see it: list facts carry :data:`LIST_SENTINEL`."""
    for name, fact_type in FACTS[programme].items():
        if fact_type == "list" and name in fact:
            fact[name] = [*fact[name], LIST_SENTINEL]
    return fact


def decode_value(programme: str, name: str, value: Any) -> Any:
    """A fact value as a person reads it: dates as ISO strings, lists without the sentinel."""
    fact_type = FACTS[programme].get(name)
    if fact_type == "date" and isinstance(value, int):
        return dt.date.fromordinal(value).isoformat()
    if fact_type == "list" and isinstance(value, list):
        return [item for item in value if item != LIST_SENTINEL]
    return value


def _operand_problems(
    operator: str, operand: Any, fact_type: FactType, parameters: dict[str, Parameter]
) -> list[str]:
    if isinstance(operand, ParamRef):
        parameter = parameters.get(operand.param)
        if parameter is None:
            return [f"unknown parameter {operand.param!r}"]
        values = [v.value for v in parameter.values if v.value is not None]
        messages = []
        for value in values:
            messages.extend(_operand_problems(operator, value, fact_type, parameters))
        return messages[:1]
    if operator in {"in", "not_in"}:
        if not isinstance(operand, list) or not operand:
            return [f"'{operator}' takes a non-empty list"]
        if len(operand) > MAX_ALTERNATIVES:
            return [
                f"'{operator}' lists {len(operand)} values; at most {MAX_ALTERNATIVES} "
                "(the engine's limit: keep long lists in a table)"
            ]
        wrong = [v for v in operand if _type_of(v) != fact_type]
        return [f"'{operator}' values must be of type {fact_type}; {wrong[0]!r} is not"] if wrong else []
    if isinstance(operand, list):
        return [f"'{operator}' takes one value, not a list"]
    if operator == "contains":
        if fact_type != "list":
            return [f"'contains' applies to a list fact; this fact is of type {fact_type}"]
        if not isinstance(operand, str) or operand == LIST_SENTINEL:
            return [f"'contains' takes a non-empty string, not {operand!r}"]
        return []
    if fact_type == "list":
        return [f"a list fact takes 'contains' or 'missing', not '{operator}'"]
    if operator in _ORDERED and fact_type not in {"int", "date"}:
        return [f"'{operator}' compares numbers or dates; this fact is of type {fact_type}"]
    if _type_of(operand) != fact_type:
        return [f"the fact is of type {fact_type}; {operand!r} is not"]
    return []


def _encode(value: Any) -> Any:
    return value.toordinal() if isinstance(value, dt.date) else value


def _segments(operand: Any, parameters: dict[str, Parameter]) -> list[tuple[int | None, int | None, Any]]:
    """(first as_of ordinal, last as_of ordinal, literal value) alternatives for an operand."""
    if not isinstance(operand, ParamRef):
        return [(None, None, operand)]
    from rules.policy.loader import Timeline

    timeline = Timeline.of(parameters[operand.param].values)
    return [(start, end, value.value) for start, end, value in timeline.segments()]


def _comparison(comparison: Comparison, negate: bool, parameters: dict[str, Parameter]) -> dict[str, Any]:
    prop = comparison.fact.split(".", 1)[1]
    operator = comparison.operator
    if operator == "missing":
        missing = bool(comparison.missing) != negate
        return {"$nex" if missing else "$ex": {prop: 1}}
    if negate:
        operator = _NEGATED[operator]
    alternatives = []
    for start, end, value in _segments(comparison.operand(comparison.operator), parameters):
        pattern = _literal(prop, operator, value)
        bounds = []
        if start is not None:
            bounds.append({"$gte": {"as_of": start}})
        if end is not None:
            bounds.append({"$lte": {"as_of": end}})
        alternatives.append({"$and": [*bounds, pattern]} if bounds else pattern)
    if not alternatives:  # a parameter with no value in force at any date: never holds
        return {"$nex": {"as_of": 1}}
    return alternatives[0] if len(alternatives) == 1 else {"$or": alternatives}


def _literal(prop: str, operator: str, value: Any) -> dict[str, Any]:
    if operator == "eq":
        return {prop: _encode(value)}
    if operator in _DURABLE_OP:
        return {_DURABLE_OP[operator]: {prop: _encode(value)}}
    if operator == "in":
        options = [{prop: _encode(v)} for v in value]
        return options[0] if len(options) == 1 else {"$or": options}
    if operator == "not_in":
        options = [{"$neq": {prop: _encode(v)}} for v in value]
        return options[0] if len(options) == 1 else {"$and": options}
    if operator == "contains":
        return {"$iany": {prop: {"$i": value}}}
    if operator == "not_contains":
        return {"$iall": {prop: {"$neq": {"$i": value}}}}
    raise ValueError(f"operator {operator!r}")  # unreachable: operators are checked on load


def _compile(condition: Condition, negate: bool, parameters: dict[str, Parameter]) -> dict[str, Any]:
    if isinstance(condition, NotOf):
        return _compile(condition.not_, not negate, parameters)
    if isinstance(condition, AllOf | AnyOf):
        children = condition.all if isinstance(condition, AllOf) else condition.any
        joins_all = isinstance(condition, AllOf) != negate  # De Morgan
        parts = [_compile(child, negate, parameters) for child in children]
        if len(parts) == 1:
            return parts[0]
        return {"$and" if joins_all else "$or": parts}
    return _comparison(condition, negate, parameters)


def compile_rule(rule: Rule, parameters: dict[str, Parameter]) -> dict[str, Any]:
    """The durable-rules pattern of a checked rule (type discriminator and dates included)."""
    parts: list[dict[str, Any]] = [{"t": rule.programme}]
    parts.append({"$gte": {"as_of": rule.start.toordinal()}})
    if rule.end is not None:
        parts.append({"$lte": {"as_of": rule.end.toordinal()}})
    if rule.exempts is not None:
        parts.append({"$iany": {"statuses": {"$i": rule.exempts}}})
    if rule.when is not None:
        parts.append(_compile(rule.when, False, parameters))
    return {"$and": parts}
