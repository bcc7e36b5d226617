"""Formulas: the closed language of computed facts, parsed from YAML and type-checked on load.

A formula is plain YAML structure, never code. It is parsed here into a small tree of
:class:`Node` objects, each with its type, and every problem is reported at its YAML path
(``facts.residence.points.formulas[0].formula.add[2]``). The engine interprets the tree
(:mod:`rules.engine.computation`); nothing in a policy file can run anything else.

The forms (one operator key per mapping, with the keys that operator takes):

* literals: numbers, booleans, dates, strings; a string that reads like a fact name
  (``residence.points``) is a reference to that fact; ``{text: "a.b"}`` is a literal string
  with a dot; ``{fact: NAME}`` is a reference too;
* ``{param: NAME, on: DATE}``: a parameter's value on a date (default: the evaluation date);
* arithmetic: ``add``, ``subtract``, ``multiply`` (lists of numbers), ``divide`` and ``round``
  with an explicit ``rounding`` (``down``, ``up``, ``half_up``, ``half_even``, ``floor``,
  ``ceiling``) and ``places`` (default 0: a whole number); ``min``, ``max``;
* ``{lookup: TABLE, key: K, field: F, on: DATE, default: V}``: a table's row in force on a
  date (default: the evaluation date), or one field of it;
* ``{band: SCALE, of: X, on: DATE}``: the value of the bracket of a scale parameter that ``X``
  falls in;
* dates: ``days_between``, ``years_between`` (whole years, with ``rounding`` for 29 Feb),
  ``add_days``, ``add_years`` and ``add_months`` (with ``rounding``: ``previous_day`` or
  ``next_day``, what a day that does not exist in the target month becomes);
* lists of records: ``{sum: X, over: LIST, where: C}``, ``count``, ``minimum``, ``maximum``,
  ``select``, ``first`` (the item with the smallest ``by``, or the first in order); inside them
  ``{item: FIELD}`` is a field of the current item;
* conditions (booleans): ``{fact: F, lt: X}``, ``{item: F, eq: X}``, ``{value: X, gte: Y}``
  with ``eq ne lt lte gt gte in not_in``; ``all``, ``any``, ``not``; ``{if: C, then: X,
  else: Y}``;
* ``{record: {name: X, ...}}``: named values together (for a report).
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from typing import Any, TypeVar

from models.policy import Parameter, Table
from rules.errors import did_you_mean
from rules.policy.nodes import (
    Aggregate,
    Arith,
    Band,
    Compare,
    DateAdd,
    DateDiff,
    Divide,
    Extreme,
    If,
    Item,
    Literal,
    Logic,
    Lookup,
    Node,
    Not,
    Param,
    RecordOf,
    Ref,
    Round,
)
from rules.policy.types import (
    BOOLEAN,
    DATE,
    DECIMAL,
    INTEGER,
    STRING,
    FactSpec,
    ValueType,
    type_of_value,
    unify,
)

__all__ = [
    "DATE_ROUNDINGS",
    "NUMBER_ROUNDINGS",
    "OPERATORS",
    "Scope",
    "parse_formula",
    "scale_problem",
    "table_value_type",
]

NUMBER_ROUNDINGS = ("down", "up", "half_up", "half_even", "floor", "ceiling")
DATE_ROUNDINGS = ("previous_day", "next_day")
_COMPARISONS = ("eq", "ne", "lt", "lte", "gt", "gte", "in", "not_in")
_ORDERED = ("lt", "lte", "gt", "gte")
_FACT_NAME = re.compile(r"^[a-z][a-z0-9_]*(\.[a-z][a-z0-9_]*)+$")
_MAX_DEPTH = 40
_MAX_PLACES = 12

#: Every operator key of the language, with the other keys it takes.
OPERATORS: dict[str, tuple[str, ...]] = {
    "fact": (),
    "item": (),
    "value": (),
    "text": (),
    "param": ("on",),
    "add": (),
    "subtract": (),
    "multiply": (),
    "divide": ("rounding", "places"),
    "round": ("rounding", "places"),
    "min": (),
    "max": (),
    "lookup": ("key", "field", "on", "default"),
    "band": ("of", "on"),
    "days_between": (),
    "years_between": ("rounding",),
    "add_days": (),
    "add_years": ("rounding",),
    "add_months": ("rounding",),
    "sum": ("over", "where"),
    "count": ("where",),
    "minimum": ("over", "where"),
    "maximum": ("over", "where"),
    "select": ("where",),
    "first": ("by", "where"),
    "all": (),
    "any": (),
    "not": (),
    "if": ("then", "else"),
    "record": (),
}

Place = tuple[str | int, ...]


# --- parsing and checking ------------------------------------------------------------------------


@dataclass
class Scope:
    """What a formula may name: the visible facts, the policy's parameters and tables, and the
    item type inside a list operator. Names of items that failed their own validation are in
    ``broken``: a reference to them is not reported again."""

    facts: Mapping[str, FactSpec]
    parameters: Mapping[str, Parameter]
    tables: Mapping[str, Table]
    broken: frozenset[str] = frozenset()
    item: ValueType | None = None
    problems: list[tuple[Place, str]] = field(default_factory=list)

    def inside(self, item: ValueType) -> Scope:
        return Scope(self.facts, self.parameters, self.tables, self.broken, item, self.problems)


class _Failed(Exception):
    """A node that cannot be typed; its problem is already recorded."""


def parse_formula(data: Any, scope: Scope, place: Place) -> Node | None:
    """The checked tree of ``data``, or ``None`` when it has problems (recorded in ``scope``)."""
    before = len(scope.problems)
    try:
        node = _parse(data, scope, place, 0)
    except _Failed:
        return None
    return node if len(scope.problems) == before else None


def _fail(scope: Scope, place: Place, message: str) -> _Failed:
    scope.problems.append((place, message))
    return _Failed()


def _parse(data: Any, scope: Scope, place: Place, depth: int) -> Node:
    if depth > _MAX_DEPTH:
        raise _fail(scope, place, f"the formula nests deeper than {_MAX_DEPTH} levels")
    if isinstance(data, Mapping):
        return _parse_mapping(data, scope, place, depth)
    if isinstance(data, str) and _FACT_NAME.match(data):
        return _reference(data, scope, place)
    return _literal(data, scope, place)


def _literal(data: Any, scope: Scope, place: Place) -> Literal:
    if isinstance(data, float):
        try:
            number = Decimal(str(data))
        except InvalidOperation:
            raise _fail(scope, place, f"{data!r} is not a number") from None
        if not number.is_finite():
            raise _fail(scope, place, f"{data!r} is not a finite number")
        return Literal(DECIMAL, number)
    if isinstance(data, dt.datetime):
        raise _fail(scope, place, "a date and time is not a value of a formula; give a date")
    value_type = type_of_value(data)
    if value_type is None or not value_type.scalar:
        shown = "null" if data is None else type(data).__name__
        raise _fail(scope, place, f"a formula takes a number, boolean, date, string or operator, not {shown}")
    if value_type.kind == "string" and len(data) > 200:
        raise _fail(scope, place, "a literal string is at most 200 characters")
    return Literal(value_type, data)


def _reference(name: str, scope: Scope, place: Place) -> Ref:
    spec = scope.facts.get(name)
    if spec is None:
        if name in scope.broken:
            raise _Failed()
        hint = did_you_mean(name, scope.facts)
        raise _fail(scope, place, f"unknown fact {name!r}{hint}")
    return Ref(spec.type, name)


def _parse_mapping(data: Mapping[str, Any], scope: Scope, place: Place, depth: int) -> Node:
    keys = list(data)
    comparison = [key for key in keys if key in _COMPARISONS]
    subject = [key for key in keys if key in ("fact", "item", "value")]
    if comparison or ("value" in keys):
        return _comparison(data, subject, comparison, scope, place, depth)
    operators = [key for key in keys if key in OPERATORS]
    if len(operators) != 1:
        known = ", ".join(sorted(OPERATORS))
        if not operators:
            unknown = next((k for k in keys if k not in OPERATORS), None)
            hint = did_you_mean(str(unknown), OPERATORS) if unknown is not None else ""
            raise _fail(scope, place, f"unknown operator {unknown!r}{hint}; the operators are {known}")
        raise _fail(scope, place, f"one operator per mapping, found {', '.join(operators)}")
    operator = operators[0]
    extra = [key for key in keys if key != operator and key not in OPERATORS[operator]]
    if extra:
        allowed = ", ".join(OPERATORS[operator]) or "no other key"
        raise _fail(scope, (*place, extra[0]), f"'{operator}' takes {allowed}, not {extra[0]!r}")
    here = (*place, operator)
    sub = depth + 1
    argument = data[operator]

    if operator == "fact":
        if not isinstance(argument, str):
            raise _fail(scope, here, "'fact' names a fact")
        return _reference(argument, scope, here)
    if operator == "item":
        return _item(argument, scope, here)
    if operator == "text":
        if not isinstance(argument, str) or len(argument) > 200:
            raise _fail(scope, here, "'text' takes a string of at most 200 characters")
        return Literal(STRING, argument)
    if operator == "param":
        return _param(data, scope, place, sub)
    if operator in ("add", "subtract", "multiply"):
        args = _list(argument, scope, here, sub, minimum=2, exactly=2 if operator == "subtract" else None)
        return Arith(_numeric(args, scope, here, operator), operator, tuple(args))
    if operator == "divide":
        left, right = _list(argument, scope, here, sub, minimum=2, exactly=2)
        _numeric([left, right], scope, here, operator)
        rounding, places = _rounding(data, scope, place, NUMBER_ROUNDINGS)
        return Divide(INTEGER if places == 0 else DECIMAL, left, right, rounding, places)
    if operator == "round":
        arg = _parse(argument, scope, here, sub)
        _numeric([arg], scope, here, operator)
        rounding, places = _rounding(data, scope, place, NUMBER_ROUNDINGS)
        return Round(INTEGER if places == 0 else DECIMAL, arg, rounding, places)
    if operator in ("min", "max"):
        args = _list(argument, scope, here, sub, minimum=2)
        common = unify([arg.type for arg in args])
        if common is None or not common.ordered:
            raise _fail(scope, here, f"'{operator}' takes numbers or dates, all of one kind")
        return Extreme(common, operator, tuple(args))
    if operator == "lookup":
        return _lookup(data, scope, place, sub)
    if operator == "band":
        return _band(data, scope, place, sub)
    if operator in ("days_between", "years_between"):
        start, end = _list(argument, scope, here, sub, minimum=2, exactly=2)
        for index, node in enumerate((start, end)):
            if node.type.kind != "date":
                raise _fail(scope, (*here, index), f"'{operator}' takes two dates, not {node.type}")
        whole_years = (
            _rounding(data, scope, place, DATE_ROUNDINGS)[0] if operator == "years_between" else None
        )
        return DateDiff(INTEGER, operator, start, end, whole_years)
    if operator in ("add_days", "add_years", "add_months"):
        date, amount = _list(argument, scope, here, sub, minimum=2, exactly=2)
        if date.type.kind != "date":
            raise _fail(scope, (*here, 0), f"'{operator}' adds to a date, not to {date.type}")
        if amount.type.kind != "integer":
            raise _fail(scope, (*here, 1), f"'{operator}' adds a whole number, not {amount.type}")
        month_end = _rounding(data, scope, place, DATE_ROUNDINGS)[0] if operator != "add_days" else None
        return DateAdd(DATE, operator, date, amount, month_end)
    if operator in ("sum", "minimum", "maximum"):
        return _aggregate(data, operator, scope, place, sub)
    if operator in ("count", "select", "first"):
        return _aggregate(data, operator, scope, place, sub)
    if operator in ("all", "any"):
        args = _list(argument, scope, here, sub, minimum=1)
        for index, arg in enumerate(args):
            if arg.type.kind != "boolean":
                raise _fail(scope, (*here, index), f"'{operator}' takes conditions, not {_a(arg.type)}")
        return Logic(BOOLEAN, operator, tuple(args))
    if operator == "not":
        arg = _parse(argument, scope, here, sub)
        if arg.type.kind != "boolean":
            raise _fail(scope, here, f"'not' takes a condition, not {_a(arg.type)}")
        return Not(BOOLEAN, arg)
    if operator == "if":
        return _conditional(data, scope, place, sub)
    if operator == "record":
        if not isinstance(argument, Mapping) or not argument:
            raise _fail(scope, here, "'record' takes a mapping of names to formulas")
        fields = []
        for name, value in argument.items():
            fields.append((str(name), _parse(value, scope, (*here, str(name)), sub)))
        return RecordOf(ValueType("record", tuple((n, v.type) for n, v in fields)), tuple(fields))
    raise _fail(scope, here, f"operator {operator!r} is not implemented")  # pragma: no cover


def _list(
    data: Any, scope: Scope, place: Place, depth: int, minimum: int, exactly: int | None = None
) -> list[Node]:
    if not isinstance(data, list):
        raise _fail(scope, place, "expects a list")
    if exactly is not None and len(data) != exactly:
        raise _fail(scope, place, f"expects a list of {exactly}, not {len(data)}")
    if len(data) < minimum:
        raise _fail(scope, place, f"expects a list of at least {minimum}")
    nodes: list[Node] = []
    failed = False
    for index, item in enumerate(data):
        try:
            nodes.append(_parse(item, scope, (*place, index), depth))
        except _Failed:
            failed = True
    if failed:
        raise _Failed()
    return nodes


def _numeric(args: list[Node], scope: Scope, place: Place, operator: str) -> ValueType:
    for index, arg in enumerate(args):
        if not arg.type.numeric:
            where = (*place, index) if len(args) > 1 else place
            raise _fail(scope, where, f"'{operator}' takes numbers, not {_a(arg.type)}")
    common = unify([arg.type for arg in args])
    return common if common is not None else DECIMAL


def _rounding(data: Mapping[str, Any], scope: Scope, place: Place, modes: tuple[str, ...]) -> tuple[str, int]:
    rounding = data.get("rounding")
    if rounding is None:
        raise _fail(scope, (*place, "rounding"), f"state the rounding: one of {', '.join(modes)}")
    if rounding not in modes:
        raise _fail(scope, (*place, "rounding"), f"{rounding!r} is not one of {', '.join(modes)}")
    places = data.get("places", 0)
    if modes is NUMBER_ROUNDINGS:
        if isinstance(places, bool) or not isinstance(places, int) or not 0 <= places <= _MAX_PLACES:
            raise _fail(scope, (*place, "places"), f"places is a whole number from 0 to {_MAX_PLACES}")
    return str(rounding), int(places)


def _item(argument: Any, scope: Scope, place: Place) -> Item:
    if scope.item is None:
        raise _fail(scope, place, "'item' is read only inside sum, count, minimum, maximum or select")
    if not isinstance(argument, str):
        raise _fail(scope, place, "'item' names a field of the list's items")
    field_type = scope.item.field(argument)
    if field_type is None:
        names = scope.item.field_names()
        raise _fail(
            scope,
            place,
            f"the items have no field {argument!r}{did_you_mean(argument, names)}; "
            f"fields: {', '.join(names)}",
        )
    return Item(field_type, argument)


def _date_operand(data: Mapping[str, Any], key: str, scope: Scope, place: Place, depth: int) -> Node | None:
    if key not in data:
        return None
    node = _parse(data[key], scope, (*place, key), depth)
    if node.type.kind != "date":
        raise _fail(scope, (*place, key), f"'{key}' takes a date, not {_a(node.type)}")
    return node


_Named = TypeVar("_Named", Parameter, Table)


def _named(known: Mapping[str, _Named], name: Any, what: str, scope: Scope, place: Place) -> _Named:
    """The parameter or table a formula names; an unknown name is a problem (with a "did you
    mean"), unless it names an item that failed its own check."""
    found = known.get(name) if isinstance(name, str) else None
    if found is None:
        if isinstance(name, str) and name in scope.broken:
            raise _Failed()
        raise _fail(scope, place, f"unknown {what} {name!r}{did_you_mean(str(name), known)}")
    return found


def _param(data: Mapping[str, Any], scope: Scope, place: Place, depth: int) -> Param:
    name = data["param"]
    parameter = _named(scope.parameters, name, "parameter", scope, (*place, "param"))
    on = _date_operand(data, "on", scope, place, depth)
    types = _dated_types(parameter.values, scope, (*place, "param"), name)
    if not types:
        raise _fail(scope, (*place, "param"), _no_value("parameter", name))
    value_type = unify(types)
    if value_type is None:
        raise _fail(scope, (*place, "param"), f"the values of parameter {name!r} are not all of one type")
    return Param(value_type, name, on)


def _dated_types(values: list[Any], scope: Scope, place: Place, name: str) -> list[ValueType]:
    types = []
    for dated in values:
        if dated.value is None:
            continue
        value_type = type_of_value(dated.value)
        if value_type is None:
            raise _fail(scope, place, f"{name!r} holds a value a formula cannot read (a list)")
        types.append(value_type)
    return types


def table_value_type(table: Table, field_name: str | None) -> ValueType | None:
    """The type of a table's values (or of one field of its mapping rows); ``None`` when the
    rows disagree or hold something a formula cannot read."""
    types: list[ValueType] = []
    for values in table.rows.values():
        for dated in values:
            if dated.value is None:
                continue
            if field_name is None:
                value_type = type_of_value(dated.value)
            elif isinstance(dated.value, Mapping):
                if field_name not in dated.value or dated.value[field_name] is None:
                    continue
                value_type = type_of_value(dated.value[field_name])
            else:
                return None
            if value_type is None:
                return None
            types.append(value_type)
    return unify(types)


def _lookup(data: Mapping[str, Any], scope: Scope, place: Place, depth: int) -> Lookup:
    name = data["lookup"]
    table = _named(scope.tables, name, "table", scope, (*place, "lookup"))
    if "key" not in data:
        raise _fail(scope, (*place, "key"), "'lookup' needs the key of the row ('key')")
    key = _parse(data["key"], scope, (*place, "key"), depth)
    if key.type.kind != "string":
        raise _fail(scope, (*place, "key"), f"a table is keyed by strings, not by {_a(key.type)}")
    on = _date_operand(data, "on", scope, place, depth)
    field_node: Node | None = None
    if "field" in data:
        raw = data["field"]
        field_node = (
            Literal(STRING, raw)
            if isinstance(raw, str) and not _FACT_NAME.match(raw)
            else _parse(raw, scope, (*place, "field"), depth)
        )
        if field_node.type.kind != "string":
            raise _fail(scope, (*place, "field"), f"'field' names a field, not {_a(field_node.type)}")
    if isinstance(field_node, Literal):
        value_type = table_value_type(table, field_node.value)
        if value_type is None:
            raise _fail(
                scope,
                (*place, "field"),
                f"the rows of table {name!r} have no field {field_node.value!r} of one type",
            )
    elif field_node is not None:
        value_type = unify(
            [
                t
                for t in (
                    table_value_type(table, str(f))
                    for values in table.rows.values()
                    for dated in values
                    if isinstance(dated.value, Mapping)
                    for f in dated.value
                )
                if t is not None
            ]
        )
        if value_type is None:
            raise _fail(scope, (*place, "field"), f"the fields of table {name!r} are not all of one type")
    else:
        value_type = table_value_type(table, None)
        if value_type is None and all(dated.value is None for rows in table.rows.values() for dated in rows):
            raise _fail(scope, (*place, "lookup"), _no_value("table", name))
        if value_type is None:
            raise _fail(scope, (*place, "lookup"), f"the rows of table {name!r} are not all of one type")
    default = data.get("default")
    if "default" in data:
        default_type = type_of_value(default)
        if default_type is None or unify([default_type, value_type]) is None:
            raise _fail(scope, (*place, "default"), f"the default must be {_a(value_type)}, like the rows")
    return Lookup(value_type, name, key, field_node, on, default)


def _band(data: Mapping[str, Any], scope: Scope, place: Place, depth: int) -> Band:
    name = data["band"]
    parameter = _named(scope.parameters, name, "scale", scope, (*place, "band"))
    if name in scope.broken:
        raise _Failed()  # a scale refused at its own values (check_scales)
    if "of" not in data:
        raise _fail(scope, (*place, "of"), "'band' needs the amount to place in a bracket ('of')")
    amount = _parse(data["of"], scope, (*place, "of"), depth)
    if not amount.type.numeric:
        raise _fail(scope, (*place, "of"), f"'band' places a number, not {_a(amount.type)}")
    on = _date_operand(data, "on", scope, place, depth)
    types: list[ValueType] = []
    for index, dated in enumerate(parameter.values):
        if dated.value is None:
            continue
        found = scale_problem(dated.value)
        if found is not None:  # (checked first at the scale's own values: see check_scales)
            raise _fail(scope, (*place, "band"), f"scale {name!r}, value {index}: {found[1]}")
        types.extend(t for bracket in dated.value if (t := type_of_value(bracket["value"])) is not None)
    if all(dated.value is None for dated in parameter.values):
        raise _fail(scope, (*place, "band"), _no_value("scale", name))
    value_type = unify(types)
    if value_type is None:
        raise _fail(scope, (*place, "band"), f"the brackets of scale {name!r} are not all of one type")
    return Band(value_type, name, amount, on)


def scale_problem(value: Any) -> tuple[tuple[int, ...], str] | None:
    """What is wrong with a scale's value (a list of brackets), with the index of the bracket
    concerned (``()``: the whole value), or ``None``."""
    if not isinstance(value, list) or not value:
        return (), "a scale is a list of brackets {at_least: N, value: V}"
    previous = None
    for index, bracket in enumerate(value):
        if not isinstance(bracket, Mapping) or "value" not in bracket or set(bracket) - {"at_least", "value"}:
            return (index,), f"bracket {index} is not {{at_least: N, value: V}}"
        bound = bracket.get("at_least")
        if bound is None:
            if index:
                return (index,), f"only the first bracket may leave out at_least (bracket {index})"
            continue
        if isinstance(bound, bool) or not isinstance(bound, int | float):
            return (index,), f"at_least of bracket {index} is not a number"
        if previous is not None and bound <= previous:
            rise = f"bracket {index} starts at {bound}, not above {previous}"
            return (index,), f"the brackets must rise: {rise}"
        previous = bound
        if type_of_value(bracket["value"]) is None or not type_of_value(bracket["value"]).scalar:  # type: ignore[union-attr]
            return (index,), f"the value of bracket {index} is not a plain value"
    return None


def _no_value(what: str, name: str) -> str:
    return f"{what} {name!r} has no value on any day (each is null): a formula cannot read it"


def _aggregate(data: Mapping[str, Any], operator: str, scope: Scope, place: Place, depth: int) -> Aggregate:
    takes_each = operator in ("sum", "minimum", "maximum")
    list_key = "over" if takes_each else operator
    if list_key not in data:
        raise _fail(scope, (*place, list_key), f"'{operator}' needs the list it reads ('over')")
    over = _parse(data[list_key], scope, (*place, list_key), depth)
    if over.type.kind != "list":
        raise _fail(scope, (*place, list_key), f"'{operator}' reads a list of records, not {_a(over.type)}")
    inner = scope.inside(over.type)
    where = None
    if "where" in data:
        where = _parse(data["where"], inner, (*place, "where"), depth)
        if where.type.kind != "boolean":
            raise _fail(scope, (*place, "where"), f"'where' takes a condition, not {_a(where.type)}")
    each = None
    if operator == "first" and "by" in data:
        each = _parse(data["by"], inner, (*place, "by"), depth)
        if not each.type.ordered:
            raise _fail(scope, (*place, "by"), f"'by' orders by a number or a date, not {_a(each.type)}")
    if takes_each:
        each = _parse(data[operator], inner, (*place, operator), depth)
        if operator == "sum" and not each.type.numeric:
            raise _fail(scope, (*place, operator), f"'sum' adds numbers, not {_a(each.type)}")
        if operator != "sum" and not each.type.ordered:
            raise _fail(
                scope, (*place, operator), f"'{operator}' takes numbers or dates, not {_a(each.type)}"
            )
        value_type = each.type
    elif operator == "count":
        value_type = INTEGER
    elif operator == "first":
        value_type = ValueType("record", over.type.fields)
    else:
        value_type = over.type
    return Aggregate(value_type, operator, over, each, where)


def _conditional(data: Mapping[str, Any], scope: Scope, place: Place, depth: int) -> If:
    for key in ("then", "else"):
        if key not in data:
            raise _fail(scope, (*place, key), f"'if' needs '{key}'")
    condition = _parse(data["if"], scope, (*place, "if"), depth)
    if condition.type.kind != "boolean":
        raise _fail(scope, (*place, "if"), f"'if' takes a condition, not {_a(condition.type)}")
    then = _parse(data["then"], scope, (*place, "then"), depth)
    otherwise = _parse(data["else"], scope, (*place, "else"), depth)
    common = unify([then.type, otherwise.type])
    if common is None:
        raise _fail(
            scope, place, f"'then' gives {_a(then.type)} and 'else' {_a(otherwise.type)}: give one type"
        )
    return If(common, condition, then, otherwise)


def _comparison(
    data: Mapping[str, Any], subject: list[str], operators: list[str], scope: Scope, place: Place, depth: int
) -> Compare:
    if len(subject) != 1 or len(operators) != 1:
        raise _fail(
            scope,
            place,
            "a condition is {fact: F, OP: X}, {item: F, OP: X} or {value: X, OP: Y}, with one of "
            + ", ".join(_COMPARISONS),
        )
    extra = [key for key in data if key not in (*subject, *operators)]
    if extra:
        raise _fail(scope, (*place, extra[0]), f"a condition takes no {extra[0]!r}")
    key, operator = subject[0], operators[0]
    if key == "fact":
        if not isinstance(data[key], str):
            raise _fail(scope, (*place, key), "'fact' names a fact")
        left: Node = _reference(data[key], scope, (*place, key))
    elif key == "item":
        left = _item(data[key], scope, (*place, key))
    else:
        left = _parse(data[key], scope, (*place, key), depth)
    here = (*place, operator)
    if not left.type.scalar:
        raise _fail(scope, (*place, key), f"{_a(left.type)} is not compared; compare one of its fields")
    if operator in ("in", "not_in"):
        options = data[operator]
        if not isinstance(options, list) or not options:
            raise _fail(scope, here, f"'{operator}' takes a non-empty list of values")
        literals = tuple(_literal(option, scope, (*here, i)) for i, option in enumerate(options))
        for index, literal in enumerate(literals):
            _check_comparable(left, literal, scope, (*here, index))
        return Compare(BOOLEAN, operator, left, tuple(literal.value for literal in literals))
    right = _parse(data[operator], scope, here, depth)
    _check_comparable(left, right, scope, here)
    if operator in _ORDERED and not left.type.ordered:
        raise _fail(scope, here, f"'{operator}' compares numbers or dates, not {_a(left.type)}")
    return Compare(BOOLEAN, operator, left, right)


def _a(value_type: ValueType) -> str:
    """``a date``, ``an integer``: a type with its article, for a message."""
    text = str(value_type)
    return f"an {text}" if text[:1] in "aeiou" else f"a {text}"


def _check_comparable(left: Node, right: Node, scope: Scope, place: Place) -> None:
    if not left.type.comparable_with(right.type):
        raise _fail(scope, place, f"{_a(left.type)} is compared with {_a(right.type)}")
    allowed = left.type.values
    if isinstance(right, Literal) and allowed is not None and right.value not in allowed:
        hint = did_you_mean(str(right.value), allowed)
        raise _fail(
            scope, place, f"{right.value!r} is not one of the values {', '.join(sorted(allowed))}{hint}"
        )
