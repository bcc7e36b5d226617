"""Rule conditions compiled to durable-rules patterns, and facts encoded for the engine.

Each programme is matched as one engine fact of type ``t: <programme>``: its evaluation date
(``as_of``, a day ordinal) and one property per fact its rules read, its own and those of the
programmes it reads. Properties get short keys (``f0``, ``f1``, ...) chosen once per compiled
policy, so fact names never meet durable-rules' own syntax (dots are its paths). Compilation:

* dates become integer day ordinals and decimals floats (durable-rules compares a string with
  a number as strings, so every value's type is checked on load, before it reaches the engine);
* ``{param: name}`` becomes one alternative per dated value of the parameter, each limited to
  the evaluation dates on which that value is in force;
* ``not`` is pushed down to the comparisons (durable-rules has no negation); a comparison on a
  missing fact is false, and so is its negation;
* the rule's own ``from``/``to`` become bounds on ``as_of``, and so do those of the rule it
  refines, whose condition it adds to its own: one compiled ruleset serves every evaluation
  date, and a rule decides nothing on a date it is not in force;
* ``exempts: KIND`` adds ``{fact: <programme>.<status list>, contains: KIND}``.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator, Mapping
from decimal import Decimal
from typing import Any

from models.policy import AllOf, AnyOf, Comparison, Condition, NotOf, Parameter, ParamRef, Rule
from rules.policy.conditions import LIST_SENTINEL, comparisons
from rules.policy.timeline import Timeline
from rules.policy.types import ValueType

__all__ = ["FactKeys", "chain", "compile_rule", "encode_value", "facts_read_by", "parameters_read_by"]

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
_DURABLE_OP = {"ne": "$neq", "lt": "$lt", "lte": "$lte", "gt": "$gt", "gte": "$gte"}


class FactKeys:
    """The engine property of each fact name: ``f0``, ``f1``, ... in order of first use."""

    def __init__(self) -> None:
        self.keys: dict[str, str] = {}

    def __getitem__(self, name: str) -> str:
        key = self.keys.get(name)
        if key is None:
            key = self.keys[name] = f"f{len(self.keys)}"
        return key


def chain(rule: Rule, rules: Mapping[str, Rule]) -> Iterator[Rule]:
    """The rule, then the rule it refines, and so on (the loader refuses cycles)."""
    seen: set[str] = set()
    current: Rule | None = rule
    while current is not None and current.id not in seen:
        seen.add(current.id)
        yield current
        current = rules.get(current.refines) if current.refines else None


def facts_read_by(rule: Rule, rules: Mapping[str, Rule]) -> tuple[str, ...]:
    """The facts a rule's condition reads (with those of the rules it refines), in order."""
    seen: dict[str, None] = {}
    for link in reversed(list(chain(rule, rules))):
        if link.when is not None:
            for comparison, _ in comparisons(link.when):
                seen[comparison.fact] = None
    return tuple(seen)


def parameters_read_by(rule: Rule, rules: Mapping[str, Rule]) -> tuple[str, ...]:
    """The parameters a rule's condition compares with (the refined rules' too), in order."""
    seen: dict[str, None] = {}
    for link in reversed(list(chain(rule, rules))):
        if link.when is not None:
            for comparison, _ in comparisons(link.when):
                operand = comparison.operand(comparison.operator)
                if isinstance(operand, ParamRef):
                    seen[operand.param] = None
    return tuple(seen)


def encode_value(value: Any, value_type: ValueType) -> Any:
    """A fact's value as the engine compares it (``None``: leave the property out)."""
    if value is None:
        return None
    if isinstance(value, dt.date):
        return value.toordinal()
    if isinstance(value, Decimal):
        return float(value)
    kind = value_type.kind
    if kind == "codes":
        return [*value, LIST_SENTINEL]
    if kind in ("list", "record"):
        return True  # only 'missing' reads them: their presence is what the engine sees
    return value


def _encode(value: Any) -> Any:
    if isinstance(value, dt.date):
        return value.toordinal()
    if isinstance(value, float | Decimal):
        return float(value)
    return value


def _segments(operand: Any, parameters: Mapping[str, Parameter]) -> list[tuple[int | None, int | None, Any]]:
    """(first as_of ordinal, last as_of ordinal, literal value) alternatives for an operand."""
    if not isinstance(operand, ParamRef):
        return [(None, None, operand)]
    timeline = Timeline.of(parameters[operand.param].values)
    return [(start, end, value.value) for start, end, value in timeline.segments()]


def _comparison(
    comparison: Comparison, negate: bool, parameters: Mapping[str, Parameter], keys: FactKeys
) -> dict[str, Any]:
    prop = keys[comparison.fact]
    operator = comparison.operator
    if operator == "missing":
        missing = bool(comparison.missing) != negate
        return {"$nex" if missing else "$ex": {prop: 1}}
    if negate:
        operator = _NEGATED[operator]
    options = []
    for start, end, value in _segments(comparison.operand(comparison.operator), parameters):
        pattern = _literal(prop, operator, value)
        bounds = []
        if start is not None:
            bounds.append({"$gte": {"as_of": start}})
        if end is not None:
            bounds.append({"$lte": {"as_of": end}})
        options.append({"$and": [*bounds, pattern]} if bounds else pattern)
    if not options:  # a parameter with no value in force at any date: never holds
        return {"$nex": {"as_of": 1}}
    return options[0] if len(options) == 1 else {"$or": options}


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


def _compile(
    condition: Condition, negate: bool, parameters: Mapping[str, Parameter], keys: FactKeys
) -> dict[str, Any]:
    if isinstance(condition, NotOf):
        return _compile(condition.not_, not negate, parameters, keys)
    if isinstance(condition, AllOf | AnyOf):
        children = condition.all if isinstance(condition, AllOf) else condition.any
        joins_all = isinstance(condition, AllOf) != negate  # De Morgan
        parts = [_compile(child, negate, parameters, keys) for child in children]
        if len(parts) == 1:
            return parts[0]
        return {"$and" if joins_all else "$or": parts}
    return _comparison(condition, negate, parameters, keys)


def compile_rule(
    rule: Rule,
    rules: Mapping[str, Rule],
    parameters: Mapping[str, Parameter],
    keys: FactKeys,
    exemption_fact: str | None = None,
) -> dict[str, Any]:
    """The durable-rules pattern of a checked rule: its programme's type, the dates in force
    and the conditions of the rule and of the rules it refines."""
    parts: list[dict[str, Any]] = [{"t": rule.programme}]
    for link in chain(rule, rules):
        parts.append({"$gte": {"as_of": link.start.toordinal()}})
        if link.end is not None:
            parts.append({"$lte": {"as_of": link.end.toordinal()}})
        if link.exempts is not None and exemption_fact is not None:
            prop = keys[f"{link.programme}.{exemption_fact}"]
            parts.append({"$iany": {prop: {"$i": link.exempts}}})
        if link.when is not None:
            parts.append(_compile(link.when, False, parameters, keys))
    return {"$and": parts}
