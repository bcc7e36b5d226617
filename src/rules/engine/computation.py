"""Computing facts: the formulas of a policy, interpreted over one person on one date.

Each checked formula tree (:mod:`rules.policy.formulas`) is turned once into a Python closure;
evaluating a person calls the closures of the facts the rules and reports need, each at most
once. A value is a :class:`Val`:

* ``value``: the fact's value, or ``None`` when it has none;
* ``missing``: the input paths whose absence left it without a value (an *unknown* fact; the
  verdict lists them as missing facts, never a silent zero);
* ``gaps``: what the policy lacks to compute it (a parameter with no value on the day, a table
  without the row): also unknown, reported as warnings;
* ``provisional``: the provisional parameters and tables it was computed from.

A value with none of these is *none*: known to have no value (the earliest of no moves).
Conditions follow Kleene's logic: ``all`` is false as soon as one part is false, whatever the
others; ``any`` is true as soon as one part is true; otherwise an unknown part makes the
result unknown.
"""

from __future__ import annotations

import calendar
import datetime as dt
import decimal
import math
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from decimal import Decimal
from fractions import Fraction
from typing import Any, Protocol

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

__all__ = [
    "Entry",
    "Evaluate",
    "FactSource",
    "Val",
    "add_months",
    "add_years",
    "compile_formula",
    "json_value",
    "plain",
]

_DECIMALS = decimal.Context(prec=60, rounding=decimal.ROUND_HALF_EVEN)


_EMPTY: frozenset[str] = frozenset()


@dataclass(frozen=True, slots=True, init=False)
class Val:
    """A computed value, with why it may have none (see the module docstring)."""

    value: Any = None
    missing: frozenset[str] = _EMPTY
    gaps: tuple[str, ...] = ()
    provisional: frozenset[str] = _EMPTY

    def __init__(
        self,
        value: Any = None,
        missing: frozenset[str] = _EMPTY,
        gaps: tuple[str, ...] = (),
        provisional: frozenset[str] = _EMPTY,
    ) -> None:
        # The dataclass's own __init__ of a frozen class sets each field through
        # object.__setattr__; the slots' own setters are twice as fast (a value per fact).
        _set_value(self, value)
        _set_missing(self, missing)
        _set_gaps(self, gaps)
        _set_provisional(self, provisional)

    @property
    def known(self) -> bool:
        return self.value is not None

    @property
    def unknown(self) -> bool:
        """Without a value because an input is missing or the policy has a gap."""
        return self.value is None and bool(self.missing or self.gaps)


_set_value = Val.__dict__["value"].__set__
_set_missing = Val.__dict__["missing"].__set__
_set_gaps = Val.__dict__["gaps"].__set__
_set_provisional = Val.__dict__["provisional"].__set__

NONE = Val()
_TRUE = Val(True)
_FALSE = Val(False)

#: Values that carry nothing (no missing input, no gap, no provisional source), by the value's
#: type and the value: made once and shared (a Val is immutable), not made again per fact and
#: case, for the types whose equal values are alike in every way (a whole number, a truth, text,
#: a day; not a decimal, whose exponent equality ignores, nor a float, -0.0 == 0.0).
PLAIN_VALS: dict[type, dict[Any, Val]] = {int: {}, bool: {}, str: {}, dt.date: {}}
#: Values kept per type: emptied when full (the days and amounts of a population are unbounded).
_PLAIN_KEPT = 1 << 12


def plain(value: Any) -> Val:
    """``Val(value)``: equal, and the same object for an equal value of a type of
    :data:`PLAIN_VALS` (built once, then shared)."""
    memo = PLAIN_VALS.get(type(value))
    if memo is None:
        return Val(value)
    found = memo.get(value)
    if found is None:
        found = kept_plain(memo, value)
    return found


def kept_plain(memo: dict[Any, Val], value: Any) -> Val:
    """``Val(value)``, kept in ``memo`` (one of :data:`PLAIN_VALS`) for the next equal value."""
    if len(memo) >= _PLAIN_KEPT:
        memo.clear()
    found = memo[value] = Val(value)
    return found


@dataclass(frozen=True, slots=True)
class Entry:
    """One item of a list input: its fields and its path in the record (``x.support[2]``)."""

    fields: Mapping[str, Any]
    path: str


class FactSource(Protocol):
    """What a formula reads besides its own operands: facts, parameters, tables, the date."""

    as_of: dt.date

    def fact(self, name: str) -> Val: ...

    def parameter(self, name: str, day: dt.date) -> Val: ...

    def row(self, table: str, key: str, day: dt.date) -> Val: ...


Evaluate = Callable[[FactSource, Entry | None], Val]


def _merge(*values: Val, value: Any = None) -> Val:
    for item in values:
        if item.missing or item.gaps or item.provisional:
            break
    else:  # nothing to carry over, the usual case: a plain value (shared when none or a truth)
        if value is None:
            return NONE
        if value is True:
            return _TRUE
        if value is False:
            return _FALSE
        memo = PLAIN_VALS.get(type(value))  # as plain() gives it, without the call
        if memo is None:
            return Val(value)
        found = memo.get(value)
        return found if found is not None else kept_plain(memo, value)
    missing: frozenset[str] = frozenset()
    gaps: tuple[str, ...] = ()
    provisional: frozenset[str] = frozenset()
    for item in values:
        if item.missing:
            missing = missing | item.missing
        if item.gaps:
            gaps = gaps + tuple(g for g in item.gaps if g not in gaps)
        if item.provisional:
            provisional = provisional | item.provisional
    return Val(value, missing, gaps, provisional)


def _number(value: Any) -> int | Decimal:
    if isinstance(value, float):
        return Decimal(str(value))
    return value  # type: ignore[no-any-return]


def _round(amount: Fraction, rounding: str, places: int) -> int | Decimal:
    scaled = amount * (10**places)
    floor = math.floor(scaled)
    remainder = scaled - floor
    if rounding == "floor":
        whole = floor
    elif rounding == "ceiling":
        whole = math.ceil(scaled)
    elif rounding == "down":
        whole = math.trunc(scaled)
    elif rounding == "up":
        whole = math.ceil(scaled) if scaled > 0 else math.floor(scaled)
    elif rounding == "half_up":
        half = Fraction(1, 2)
        whole = floor + 1 if remainder > half or (remainder == half and scaled > 0) else floor
    else:  # half_even
        half = Fraction(1, 2)
        if remainder > half or (remainder == half and floor % 2 == 1):
            whole = floor + 1
        else:
            whole = floor
    if places == 0:
        return int(whole)
    return Decimal(whole).scaleb(-places, _DECIMALS)


def _shift(day: dt.date, years: int, months: int, rounding: str) -> dt.date:
    """``day`` moved by whole years and months; a day the target month lacks (29 Feb, 31 Apr)
    becomes the last day of that month (``previous_day``) or the first of the next (``next_day``)."""
    month_index = day.year * 12 + (day.month - 1) + years * 12 + months
    year, month = divmod(month_index, 12)
    month += 1
    if not dt.MINYEAR <= year <= dt.MAXYEAR:
        raise OverflowError
    last = calendar.monthrange(year, month)[1]
    if day.day <= last:
        return dt.date(year, month, day.day)
    if rounding == "previous_day":
        return dt.date(year, month, last)
    return dt.date(year, month, last) + dt.timedelta(days=1)


def add_years(day: dt.date, years: int, rounding: str) -> dt.date:
    """``day`` plus whole years: 29 Feb + 1 year is 28 Feb (``previous_day``) or 1 Mar."""
    return _shift(day, years, 0, rounding)


def add_months(day: dt.date, months: int, rounding: str) -> dt.date:
    """``day`` plus whole months: 31 Jan + 1 month is 28/29 Feb (``previous_day``) or 1 Mar."""
    return _shift(day, 0, months, rounding)


def _years_between(start: dt.date, end: dt.date, rounding: str) -> int:
    """Whole years from ``start`` to ``end``: anniversaries reached (negative when ``end`` is earlier)."""
    years = end.year - start.year
    try:
        if years >= 0:
            if add_years(start, years, rounding) > end:
                years -= 1
        elif add_years(start, years, rounding) < end:
            years += 1
    except OverflowError:
        years -= 1 if years > 0 else -1
    return years


def json_value(value: Any) -> Any:
    """A computed value as JSON shows it: dates as ISO strings, decimals as numbers, list
    items as mappings."""
    kind = type(value)
    if kind is int or kind is str or kind is bool or kind is float or value is None:
        return value  # shown as it is: the common case, without the checks below
    if kind is dt.date:  # a day, and a record's fields (a trace's facts, a sanction's offence):
        return value.isoformat()  # without the checks of subclasses and abstract classes below
    if kind is dict:  # a record's fields (a sanction's offence): each shown as above, as a loop
        shown: dict[Any, Any] = {}
        for name, item in value.items():
            part = type(item)
            if part is int or part is str or part is bool or part is float or item is None:
                shown[name] = item
            elif part is dt.date:
                shown[name] = item.isoformat()
            else:
                shown[name] = json_value(item)
        return shown
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, Decimal):
        exponent = value.as_tuple().exponent
        whole = isinstance(exponent, int) and exponent >= 0 and value == value.to_integral_value()
        return int(value) if whole else float(value)
    if isinstance(value, tuple):
        return [json_value(item) for item in value]
    if isinstance(value, Entry):
        return {name: json_value(item) for name, item in value.fields.items()}
    if isinstance(value, Mapping):
        return {name: json_value(item) for name, item in value.items()}
    return value


def compile_formula(node: Node) -> Evaluate:
    """A closure computing ``node`` for a fact source (and the current list item, if any)."""
    compiler = _COMPILERS.get(type(node))
    if compiler is None:  # pragma: no cover - every node type has a compiler
        raise TypeError(f"no compiler for {type(node).__name__}")
    return compiler(node)


def _literal(node: Literal) -> Evaluate:
    result = Val(node.value)
    return lambda source, item: result


def _ref(node: Ref) -> Evaluate:
    name = node.name
    return lambda source, item: source.fact(name)


def _item(node: Item) -> Evaluate:
    name = node.name

    def run(source: FactSource, item: Entry | None) -> Val:
        if item is None:  # the checker allows 'item' only inside a list operator
            return Val(None, gaps=(f"'item' {name!r} read outside a list",))
        value = item.fields.get(name)
        if value is None:
            return Val(None, frozenset({f"{item.path}.{name}"}))
        memo = PLAIN_VALS.get(type(value))  # as plain() gives it, without the call
        if memo is None:
            return Val(value)
        found = memo.get(value)
        return found if found is not None else kept_plain(memo, value)

    return run


def _day(on: Evaluate | None, source: FactSource, item: Entry | None) -> tuple[dt.date | None, Val]:
    if on is None:
        return source.as_of, NONE
    found = on(source, item)
    return found.value, found


def _param(node: Param) -> Evaluate:
    name = node.name
    if node.on is None:  # on the evaluation date: the usual shape

        def run_on_the_day(source: FactSource, item: Entry | None) -> Val:
            day = source.as_of
            return source.parameter(name, day) if day is not None else NONE

        return run_on_the_day
    on = compile_formula(node.on)

    def run(source: FactSource, item: Entry | None) -> Val:
        when = on(source, item)  # as _day gives it, without the call
        day = when.value
        if day is None:
            return _merge(when)
        found = source.parameter(name, day)
        if not (when.missing or when.gaps or when.provisional):
            return found  # nothing of the day to carry over: what _merge would give, equal
        return _merge(when, found, value=found.value)

    return run


def _arithmetic(op: str, left: int | Decimal, right: int | Decimal) -> int | Decimal:
    """``left op right``: exact for whole numbers, and for decimals within 60 digits."""
    if isinstance(left, int) and isinstance(right, int):
        return left + right if op == "add" else left - right if op == "subtract" else left * right
    a, b = Decimal(left), Decimal(right)
    if op == "add":
        return _DECIMALS.add(a, b)
    if op == "subtract":
        return _DECIMALS.subtract(a, b)
    return _DECIMALS.multiply(a, b)


def _arith(node: Arith) -> Evaluate:
    args = [compile_formula(arg) for arg in node.args]
    op = node.op

    def run(source: FactSource, item: Entry | None) -> Val:
        values = []
        known = True
        carries_nothing = True
        for arg in args:  # every operand, as a loop: no comprehension's frame per case
            value = arg(source, item)
            values.append(value)
            if value.value is None:
                known = False
            elif value.missing or value.gaps or value.provisional:
                carries_nothing = False
        if not known:
            return _merge(*values)
        result = _number(values[0].value)
        for value in values[1:]:
            result = _arithmetic(op, result, _number(value.value))
        if carries_nothing:  # nothing to carry over, the usual case: what _merge gives, without its loops
            if result is True or result is False:
                return _TRUE if result else _FALSE
            memo = PLAIN_VALS.get(type(result))  # as plain() gives it, without the call
            if memo is None:
                return Val(result)
            found = memo.get(result)
            return found if found is not None else kept_plain(memo, result)
        return _merge(*values, value=result)

    return run


def _divide(node: Divide) -> Evaluate:
    left, right = compile_formula(node.left), compile_formula(node.right)
    rounding, places = node.rounding, node.places

    def run(source: FactSource, item: Entry | None) -> Val:
        a, b = left(source, item), right(source, item)
        if a.value is None or b.value is None:
            return _merge(a, b)
        if b.value == 0:
            gap = Val(None, gaps=("a division by zero",))
            return _merge(a, b, gap)
        quotient = Fraction(_number(a.value)) / Fraction(_number(b.value))
        return _merge(a, b, value=_round(quotient, rounding, places))

    return run


def _round_node(node: Round) -> Evaluate:
    arg = compile_formula(node.arg)
    rounding, places = node.rounding, node.places

    def run(source: FactSource, item: Entry | None) -> Val:
        found = arg(source, item)
        if found.value is None:
            return found
        return _merge(found, value=_round(Fraction(_number(found.value)), rounding, places))

    return run


def _extreme(node: Extreme) -> Evaluate:
    args = [compile_formula(arg) for arg in node.args]
    pick = min if node.op == "min" else max

    def run(source: FactSource, item: Entry | None) -> Val:
        values = []
        numbers = []
        known = True
        carries_nothing = True
        for arg in args:  # every operand, as a loop: no comprehension's frame per case
            value = arg(source, item)
            values.append(value)
            if value.value is None:
                known = False
            else:
                numbers.append(_number(value.value))
                if value.missing or value.gaps or value.provisional:
                    carries_nothing = False
        if not known:
            return _merge(*values)
        result = pick(numbers)
        if carries_nothing:  # nothing to carry over, the usual case: what _merge gives, without its loops
            if result is True or result is False:
                return _TRUE if result else _FALSE
            memo = PLAIN_VALS.get(type(result))  # as plain() gives it, without the call
            if memo is None:
                return Val(result)
            found = memo.get(result)
            return found if found is not None else kept_plain(memo, result)
        return _merge(*values, value=result)

    return run


def _lookup(node: Lookup) -> Evaluate:
    table = node.table
    key = compile_formula(node.key)
    field = compile_formula(node.field) if node.field is not None else None
    on = compile_formula(node.on) if node.on is not None else None
    default = node.default

    def run(source: FactSource, item: Entry | None) -> Val:
        found_key = key(source, item)
        day, when = _day(on, source, item)
        found_field = field(source, item) if field is not None else NONE
        if found_key.value is None or day is None or (field is not None and found_field.value is None):
            return _merge(found_key, when, found_field)
        row = source.row(table, found_key.value, day)
        value = row.value
        where = f"table {table} row {found_key.value!r}"
        if value is not None and field is not None:
            value = value.get(found_field.value) if isinstance(value, Mapping) else None
            where += f" field {found_field.value!r}"
        if value is None:
            if default is not None:
                return _merge(
                    found_key, when, found_field, Val(provisional=row.provisional), value=_number(default)
                )
            gap = Val(None, gaps=(f"{where} has no value on {day}",))
            return _merge(found_key, when, found_field, gap, Val(provisional=row.provisional))
        return _merge(found_key, when, found_field, row, value=_number(value))

    return run


def _band(node: Band) -> Evaluate:
    scale = node.scale
    of = compile_formula(node.of)
    on = compile_formula(node.on) if node.on is not None else None

    def run(source: FactSource, item: Entry | None) -> Val:
        amount = of(source, item)
        day, when = _day(on, source, item)
        if amount.value is None or day is None:
            return _merge(amount, when)
        brackets = source.parameter(scale, day)
        if brackets.value is None:
            return _merge(amount, when, brackets)
        chosen = None
        for bracket in brackets.value:
            bound = bracket.get("at_least")
            if bound is None or _number(amount.value) >= _number(bound):
                chosen = bracket["value"]
            else:
                break
        if chosen is None:
            gap = Val(None, gaps=(f"{amount.value} is below the first bracket of scale {scale} on {day}",))
            return _merge(amount, when, brackets, gap)
        return _merge(amount, when, brackets, value=_number(chosen))

    return run


def _date_diff(node: DateDiff) -> Evaluate:
    start, end = compile_formula(node.start), compile_formula(node.end)
    op, rounding = node.op, node.rounding

    def run(source: FactSource, item: Entry | None) -> Val:
        a, b = start(source, item), end(source, item)
        if a.value is None or b.value is None:
            return _merge(a, b)
        if op == "days_between":
            result = (b.value - a.value).days
        else:
            result = _years_between(a.value, b.value, rounding or "previous_day")
        return _merge(a, b, value=result)

    return run


def _date_add(node: DateAdd) -> Evaluate:
    date, amount = compile_formula(node.date), compile_formula(node.amount)
    op, rounding = node.op, node.rounding or "previous_day"

    def run(source: FactSource, item: Entry | None) -> Val:
        day, count = date(source, item), amount(source, item)
        if day.value is None or count.value is None:
            return _merge(day, count)
        try:
            if op == "add_days":
                result = day.value + dt.timedelta(days=count.value)
            elif op == "add_years":
                result = add_years(day.value, count.value, rounding)
            else:
                result = add_months(day.value, count.value, rounding)
        except (OverflowError, ValueError):
            gap = Val(None, gaps=(f"{op} of {count.value} to {day.value} leaves the calendar",))
            return _merge(day, count, gap)
        if not (day.missing or day.gaps or day.provisional) and not (
            count.missing or count.gaps or count.provisional
        ):
            return plain(result)  # nothing to carry over, the usual case: a day, as _merge gives it
        return _merge(day, count, value=result)

    return run


def _aggregate(node: Aggregate) -> Evaluate:
    over = compile_formula(node.over)
    each = compile_formula(node.each) if node.each is not None else None
    where = compile_formula(node.where) if node.where is not None else None
    # Per item, the value as a plain value when it carries nothing (see compile_quick): no Val
    # per item and operand in the usual case; the closures above when it may carry something.
    each_quick = compile_quick(node.each) if node.each is not None else None
    where_quick = compile_quick(node.where) if node.where is not None else None
    op = node.op

    def run(source: FactSource, item: Entry | None) -> Val:
        found = over(source, item)
        if found.value is None:
            return found
        # What the general reading (a Val per item, merged in order) keeps of each part, less
        # the parts that carry nothing and so add nothing to a merge: ``parts`` the list, the
        # tests without a value and the provisional sources of the tests passed; ``numbers``
        # the value of each item chosen; ``carried`` the values of 'each' that carry something;
        # ``without`` those of them with no value (unknown: the result has none).
        parts = [found] if found.missing or found.gaps or found.provisional else []
        chosen: list[Entry] = []
        numbers: list[Any] = []
        carried: list[Val] = []
        without: list[Val] = []
        unknown = False
        # Once an item's quick reading asks for the general way, the next items are read the
        # general way too: what made it ask (a provisional table, a missing fact) is most often
        # common to the whole list, and reading twice costs more than reading once.
        test_quickly, read_quickly = where_quick, each_quick
        for entry in found.value:
            if where is not None:
                passed = test_quickly(source, entry) if test_quickly is not None else _SLOW
                if passed is _SLOW:
                    test_quickly = None
                    test = where(source, entry)
                    if test.value is None:
                        if test.missing or test.gaps:
                            parts.append(test)
                            unknown = True
                        elif test.provisional:
                            parts.append(test)
                        continue
                    if not test.value:
                        continue
                    if test.provisional:  # what the test rests on is provisional: so is the result
                        parts.append(Val(provisional=test.provisional))
                elif not passed:  # false or none (a plain none adds nothing)
                    continue
            chosen.append(entry)
            if each is not None:
                number = read_quickly(source, entry) if read_quickly is not None else _SLOW
                if number is _SLOW:
                    read_quickly = None
                    value = each(source, entry)
                    number = value.value
                    if value.missing or value.gaps or value.provisional:
                        carried.append(value)
                        if number is None:
                            without.append(value)
                if number is None:
                    unknown = True
                numbers.append(number)
        if unknown:
            unknown_parts = [part for part in parts if part.value is None and (part.missing or part.gaps)]
            return _merge(*parts, *unknown_parts, *without)
        if op == "count":
            result: Any = len(chosen)
        elif op == "select":
            result = tuple(chosen)
        elif op == "first":
            # The item with the smallest 'by' (the first such in the list), or the first item.
            if each is not None and chosen:
                ordered = sorted(zip(chosen, numbers, strict=True), key=lambda pair: _number(pair[1]))
                result = ordered[0][0]
            else:
                result = chosen[0] if chosen else None
        elif op == "sum":
            numbers = [_number(number) for number in numbers]
            result = sum(numbers, Decimal(0) if any(isinstance(n, Decimal) for n in numbers) else 0)
        elif not numbers:
            result = None  # the earliest of nothing: none
        elif op == "minimum":
            result = min(_number(number) for number in numbers)
        else:
            result = max(_number(number) for number in numbers)
        return _merge(*parts, *carried, value=result)

    return run


#: Each comparison operator as a function of two values, chosen once when a formula is compiled.
_COMPARISONS: dict[str, Callable[[Any, Any], bool]] = {
    "eq": lambda left, right: bool(left == right),
    "ne": lambda left, right: bool(left != right),
    "lt": lambda left, right: bool(left < right),
    "lte": lambda left, right: bool(left <= right),
    "gt": lambda left, right: bool(left > right),
    "gte": lambda left, right: bool(left >= right),
    "in": lambda left, right: left in right,
    "not_in": lambda left, right: left not in right,
}


def _compare(node: Compare) -> Evaluate:
    left = compile_formula(node.left)
    compare = _COMPARISONS[node.op]
    if type(node.right) is Literal and node.right.value is not None:
        # With a constant (the usual shape): its value and number made once, not per case.
        constant = Val(node.right.value)
        number = _number(constant.value)

        def run_constant(source: FactSource, item: Entry | None) -> Val:
            a = left(source, item)
            if a.value is None:
                return _merge(a, constant)
            result = compare(_number(a.value), number)
            if not (a.missing or a.gaps or a.provisional):
                return _TRUE if result else _FALSE  # nothing to carry over, the usual case
            return _merge(a, constant, value=result)

        return run_constant
    if isinstance(node.right, tuple):
        options = tuple(_number(option) for option in node.right)

        def run_in(source: FactSource, item: Entry | None) -> Val:
            found = left(source, item)
            if found.value is None:
                return found
            return _merge(found, value=compare(_number(found.value), options))

        return run_in
    right = compile_formula(node.right)

    def run(source: FactSource, item: Entry | None) -> Val:
        a, b = left(source, item), right(source, item)
        if a.value is None or b.value is None:
            return _merge(a, b)
        result = compare(_number(a.value), _number(b.value))
        if not (a.missing or a.gaps or a.provisional or b.missing or b.gaps or b.provisional):
            return _TRUE if result else _FALSE  # nothing to carry over, the usual case
        return _merge(a, b, value=result)

    return run


def _logic(node: Logic) -> Evaluate:
    args = [compile_formula(arg) for arg in node.args]
    decisive = node.op == "any"  # the value that settles the result: true for any, false for all

    def run(source: FactSource, item: Entry | None) -> Val:
        values = []
        settling = []
        unknown = []
        carries_nothing = True
        for arg in args:  # every part, as a loop: no comprehension's frame per case
            value = arg(source, item)
            values.append(value)
            if value.value is decisive:
                settling.append(value)
            elif value.value is None:
                unknown.append(value)
            elif value.missing or value.gaps or value.provisional:
                carries_nothing = False
        if settling:
            return _merge(*settling, value=decisive)
        if unknown:
            return _merge(*unknown)
        if carries_nothing:  # nothing to carry over, the usual case: the shared truth, as _merge gives it
            return _FALSE if decisive else _TRUE
        return _merge(*values, value=not decisive)

    return run


def _not(node: Not) -> Evaluate:
    arg = compile_formula(node.arg)

    def run(source: FactSource, item: Entry | None) -> Val:
        found = arg(source, item)
        return found if found.value is None else _merge(found, value=not found.value)

    return run


def _if(node: If) -> Evaluate:
    condition, then, otherwise = (
        compile_formula(node.condition),
        compile_formula(node.then),
        compile_formula(node.otherwise),
    )

    def run(source: FactSource, item: Entry | None) -> Val:
        test = condition(source, item)
        if test.value is None:
            return test
        chosen = (then if test.value else otherwise)(source, item)
        return _merge(test, chosen, value=chosen.value)

    return run


def _record(node: RecordOf) -> Evaluate:
    fields = [(name, compile_formula(value)) for name, value in node.fields]

    if len({name for name, _ in fields}) < len(fields):  # a name twice: the last value counts

        def run_named_twice(source: FactSource, item: Entry | None) -> Val:
            values = {name: field(source, item) for name, field in fields}
            return _merge(*values.values(), value={name: value.value for name, value in values.items()})

        return run_named_twice

    def run(source: FactSource, item: Entry | None) -> Val:
        parts = []
        record = {}
        carries_nothing = True
        for name, field in fields:  # as a loop: no comprehension's frame per case
            value = field(source, item)
            parts.append(value)
            record[name] = value.value
            if value.missing or value.gaps or value.provisional:
                carries_nothing = False
        # Nothing to carry over, the usual case: the record as _merge gives it, without its loops.
        return Val(record) if carries_nothing else _merge(*parts, value=record)

    return run


_COMPILERS: dict[type[Node], Callable[[Any], Evaluate]] = {
    Literal: _literal,
    Ref: _ref,
    Item: _item,
    Param: _param,
    Arith: _arith,
    Divide: _divide,
    Round: _round_node,
    Extreme: _extreme,
    Lookup: _lookup,
    Band: _band,
    DateDiff: _date_diff,
    DateAdd: _date_add,
    Aggregate: _aggregate,
    Compare: _compare,
    Logic: _logic,
    Not: _not,
    If: _if,
    RecordOf: _record,
}


# --- quick readings: a formula's value when it carries nothing ------------------------------------
#
# Inside a list operator, a formula is computed once per item: with a Val per operand and item,
# most of that is making Vals that carry nothing. A *quick* reading of a formula gives the value
# the closure of compile_formula would give, as it is, when that Val would carry nothing (no
# missing input, no gap, no provisional source), and _SLOW otherwise (or when it cannot tell
# cheaply): then the closure computes it again, the general way. A quick reading reads the
# operands in the closure's order and stops at the first _SLOW; what it reads (facts computed
# once per case, parameters and table rows) is what the closure reads.

_SLOW: Any = object()  # a quick reading's answer: compute it the general way

Quick = Callable[[FactSource, Entry | None], Any]


def compile_quick(node: Node) -> Quick | None:
    """The quick reading of ``node`` (see above), or ``None`` when it has none (some operator
    within has no quick reading: only the closure computes it)."""
    compiler = _QUICK_COMPILERS.get(type(node))
    return compiler(node) if compiler is not None else None


def _quick_literal(node: Literal) -> Quick:
    result = node.value
    return lambda source, item: result


def _quick_ref(node: Ref) -> Quick:
    name = node.name

    def read(source: FactSource, item: Entry | None) -> Any:
        found = source.fact(name)
        return _SLOW if found.missing or found.gaps or found.provisional else found.value

    return read


def _quick_item(node: Item) -> Quick:
    name = node.name

    def read(source: FactSource, item: Entry | None) -> Any:
        if item is None:
            return _SLOW  # a gap
        value = item.fields.get(name)
        return _SLOW if value is None else value  # none: a missing input

    return read


def _quick_param(node: Param) -> Quick | None:
    name = node.name
    if node.on is None:

        def read_on_the_day(source: FactSource, item: Entry | None) -> Any:
            day = source.as_of
            if day is None:
                return None
            found = source.parameter(name, day)
            return _SLOW if found.missing or found.gaps or found.provisional else found.value

        return read_on_the_day
    on = compile_quick(node.on)
    if on is None:
        return None

    def read(source: FactSource, item: Entry | None) -> Any:
        day = on(source, item)
        if day is _SLOW or day is None:
            return day
        found = source.parameter(name, day)
        return _SLOW if found.missing or found.gaps or found.provisional else found.value

    return read


def _quick_arith(node: Arith) -> Quick | None:
    args = [compile_quick(arg) for arg in node.args]
    if any(arg is None for arg in args):
        return None
    readers: list[Quick] = [arg for arg in args if arg is not None]
    op = node.op

    def read(source: FactSource, item: Entry | None) -> Any:
        values = []
        known = True
        for arg in readers:
            value = arg(source, item)
            if value is _SLOW:
                return _SLOW
            if value is None:
                known = False
            values.append(value)
        if not known:
            return None
        result = _number(values[0])
        for value in values[1:]:
            result = _arithmetic(op, result, _number(value))
        return result

    return read


def _quick_lookup(node: Lookup) -> Quick | None:
    table = node.table
    key = compile_quick(node.key)
    field = compile_quick(node.field) if node.field is not None else None
    on = compile_quick(node.on) if node.on is not None else None
    if key is None or (node.field is not None and field is None) or (node.on is not None and on is None):
        return None
    default = node.default

    def read(source: FactSource, item: Entry | None) -> Any:
        found_key = key(source, item)
        if found_key is _SLOW:
            return _SLOW
        day = on(source, item) if on is not None else source.as_of
        if day is _SLOW:
            return _SLOW
        found_field = field(source, item) if field is not None else None
        if found_field is _SLOW:
            return _SLOW
        if found_key is None or day is None or (field is not None and found_field is None):
            return None
        row = source.row(table, found_key, day)
        if row.missing or row.gaps or row.provisional:
            return _SLOW
        value = row.value
        if value is not None and field is not None:
            value = value.get(found_field) if type(value) is dict or isinstance(value, Mapping) else None
        if value is None:
            return _number(default) if default is not None else _SLOW  # no default: a gap
        return _number(value)

    return read


def _quick_compare(node: Compare) -> Quick | None:
    left = compile_quick(node.left)
    if left is None:
        return None
    compare = _COMPARISONS[node.op]
    if isinstance(node.right, tuple):
        options = tuple(_number(option) for option in node.right)

        def read_in(source: FactSource, item: Entry | None) -> Any:
            found = left(source, item)
            if found is _SLOW or found is None:
                return found
            return compare(_number(found), options)

        return read_in
    right = compile_quick(node.right)
    if right is None:
        return None

    def read(source: FactSource, item: Entry | None) -> Any:
        a = left(source, item)
        if a is _SLOW:
            return _SLOW
        b = right(source, item)
        if b is _SLOW:
            return _SLOW
        if a is None or b is None:
            return None
        return compare(_number(a), _number(b))

    return read


def _quick_logic(node: Logic) -> Quick | None:
    args = [compile_quick(arg) for arg in node.args]
    if any(arg is None for arg in args):
        return None
    readers: list[Quick] = [arg for arg in args if arg is not None]
    decisive = node.op == "any"

    def read(source: FactSource, item: Entry | None) -> Any:
        settled = False
        unknown = False
        for arg in readers:  # every part, as the closure reads them
            value = arg(source, item)
            if value is _SLOW:
                return _SLOW
            if value is decisive:
                settled = True
            elif value is None:
                unknown = True
        if settled:
            return decisive
        return None if unknown else not decisive

    return read


def _quick_not(node: Not) -> Quick | None:
    arg = compile_quick(node.arg)
    if arg is None:
        return None

    def read(source: FactSource, item: Entry | None) -> Any:
        found = arg(source, item)
        return found if found is _SLOW or found is None else not found

    return read


_QUICK_COMPILERS: dict[type[Node], Callable[[Any], Quick | None]] = {
    Literal: _quick_literal,
    Ref: _quick_ref,
    Item: _quick_item,
    Param: _quick_param,
    Arith: _quick_arith,
    Lookup: _quick_lookup,
    Compare: _quick_compare,
    Logic: _quick_logic,
    Not: _quick_not,
}
