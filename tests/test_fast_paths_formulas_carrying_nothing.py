"""The formulas' fast paths of the twelfth round of speed work, each against the path it replaces.

Arithmetic, the least or greatest of values, a record of values, a condition of several parts, a
date moved by years, months or days and a parameter on a computed day skip :func:`_merge` when
no operand carries anything over (no missing input, gap or provisional source): each gives the
value the general closure gives, for any operands, unknown and provisional ones too, of the same
type (a whole number stays whole, a decimal a decimal) and, for none and the truths, the shared
value. (A record is tested against the general closure by round 10's test.)
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from hypothesis import given
from hypothesis import strategies as st
from test_fast_paths_formula_shapes import SETTINGS, _general_arith, _general_logic, _Source, _vals

from rules.engine.computation import (
    NONE,
    Entry,
    Evaluate,
    FactSource,
    Val,
    _day,
    _merge,
    _number,
    compile_formula,
)
from rules.policy.nodes import Arith, DateAdd, Extreme, Logic, Param, Ref
from rules.policy.types import BOOLEAN, INTEGER, ValueType

#: Numbers as round 10's tests draw them, and truths and floats too.
_numbers = st.one_of(
    st.integers(-5, 5),
    st.booleans(),
    st.decimals(min_value=-5, max_value=5, places=2, allow_nan=False, allow_infinity=False),
    st.floats(-5, 5, allow_nan=False, allow_infinity=False),
)


def _same(left: Val, right: Val) -> None:
    assert left == right
    assert type(left.value) is type(right.value)
    if right.value is None or right.value is True or right.value is False:
        if not (right.missing or right.gaps or right.provisional):
            assert left is right  # the shared value, as _merge gives it


def _refs(count: int) -> tuple[Ref, ...]:
    return tuple(Ref(INTEGER, f"x{index}") for index in range(count))


# --- the general closures, as they were before the fast paths --------------------------------------


def _general_extreme(node: Extreme) -> Evaluate:
    args = [compile_formula(arg) for arg in node.args]
    pick = min if node.op == "min" else max

    def run(source: FactSource, item: Entry | None) -> Val:
        values = [arg(source, item) for arg in args]
        if any(v.value is None for v in values):
            return _merge(*values)
        return _merge(*values, value=pick(_number(v.value) for v in values))

    return run


def _general_date_add(node: DateAdd) -> Evaluate:
    date, amount = compile_formula(node.date), compile_formula(node.amount)
    general = compile_formula(node)

    def run(source: FactSource, item: Entry | None) -> Val:
        day, count = date(source, item), amount(source, item)
        found = general(source, item)
        if day.value is None or count.value is None or found.value is None:
            return found  # unknown or off the calendar: not a fast path
        return _merge(day, count, value=found.value)

    return run


def _general_param(node: Param) -> Evaluate:
    assert node.on is not None
    on = compile_formula(node.on)

    def run(source: FactSource, item: Entry | None) -> Val:
        day, when = _day(on, source, item)
        if day is None:
            return _merge(when)
        found = source.parameter(node.name, day)
        return _merge(when, found, value=found.value) if when is not NONE else found

    return run


# --- each shape against the general closure ------------------------------------------------------


@SETTINGS
@given(st.sampled_from(["add", "subtract", "multiply"]), st.lists(_vals(_numbers), min_size=1, max_size=4))
def test_arithmetic_without_anything_to_carry_is_the_general_arithmetic(op: str, operands: list[Val]) -> None:
    node = Arith(INTEGER, op, _refs(len(operands)))
    source = _Source({f"x{index}": value for index, value in enumerate(operands)})
    _same(compile_formula(node)(source, None), _general_arith(node)(source, None))


@SETTINGS
@given(st.sampled_from(["min", "max"]), st.lists(_vals(_numbers), min_size=1, max_size=4))
def test_the_least_or_greatest_without_anything_to_carry_is_the_general(op: str, operands: list[Val]) -> None:
    node = Extreme(INTEGER, op, _refs(len(operands)))
    source = _Source({f"x{index}": value for index, value in enumerate(operands)})
    found, general = compile_formula(node)(source, None), _general_extreme(node)(source, None)
    _same(found, general)
    if found.value is not None:  # of equal operands (1 and 1.00), the same one is picked
        assert str(found.value) == str(general.value)


def test_the_least_of_whole_numbers_and_decimals_keeps_its_type() -> None:
    node = Extreme(INTEGER, "min", _refs(2))
    found = compile_formula(node)(_Source({"x0": Val(3), "x1": Val(Decimal("2.50"))}), None)
    assert found == Val(Decimal("2.50"))
    found = compile_formula(node)(_Source({"x0": Val(2), "x1": Val(2.0)}), None)
    assert type(found.value) is int  # the first of equals, as min gives it


@SETTINGS
@given(st.sampled_from(["all", "any"]), st.lists(_vals(st.booleans()), min_size=1, max_size=5))
def test_a_condition_without_anything_to_carry_is_the_general_condition(op: str, parts: list[Val]) -> None:
    node = Logic(BOOLEAN, op, _refs(len(parts)))
    source = _Source({f"x{index}": value for index, value in enumerate(parts)})
    _same(compile_formula(node)(source, None), _general_logic(node)(source, None))


_days = st.dates(dt.date(1, 1, 1), dt.date(9999, 12, 31))


@SETTINGS
@given(
    st.sampled_from(["add_days", "add_years", "add_months"]),
    _vals(_days),
    _vals(st.integers(-400, 400)),
)
def test_a_date_moved_without_anything_to_carry_is_the_general_date(op: str, day: Val, count: Val) -> None:
    node = DateAdd(ValueType("date"), op, Ref(ValueType("date"), "x0"), Ref(INTEGER, "x1"), None)
    source = _Source({"x0": day, "x1": count})
    _same(compile_formula(node)(source, None), _general_date_add(node)(source, None))


@SETTINGS
@given(_vals(_days), st.one_of(st.none(), _vals(_numbers)))
def test_a_parameter_on_a_day_without_anything_to_carry_is_the_general_parameter(
    day: Val, parameter: Val | None
) -> None:
    node = Param(INTEGER, "p", Ref(ValueType("date"), "x0"))
    source = _Source({"x0": day}, {} if parameter is None else {"p": parameter})
    found, general = compile_formula(node)(source, None), _general_param(node)(source, None)
    assert found == general
    assert type(found.value) is type(general.value)
