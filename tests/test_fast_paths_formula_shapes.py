"""The engine's fast paths of the tenth round of speed work, each against the path it replaces.

* formulas of a common shape get a closure of their own (a comparison with a constant, a
  parameter on the evaluation date, parts evaluated in a loop rather than comprehensions): each
  gives the value the general closure gives, for any operands, unknown and provisional ones too;
* the record keys a policy declares are kept per policy, not made again for every record.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from budget import examples
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import rules
from models.person import Person
from rules.engine import computation
from rules.engine.computation import NONE, Entry, Evaluate, FactSource, Val, _merge, _number, compile_formula
from rules.engine.inputs import _records, read_sections
from rules.errors import InputError
from rules.policy.nodes import Arith, Compare, Literal, Logic, Param, RecordOf, Ref
from rules.policy.types import BOOLEAN, INTEGER, ValueType

SETTINGS = settings(max_examples=examples(300), deadline=None, suppress_health_check=[HealthCheck.too_slow])
ON = dt.date(2025, 6, 1)


class _Source:
    """A fact source holding given values: facts by name, parameters by name (any day)."""

    def __init__(self, facts: dict[str, Val], parameters: dict[str, Val] | None = None) -> None:
        self.as_of = ON
        self.facts = facts
        self.parameters = parameters or {}
        self.asked: list[tuple[str, dt.date]] = []

    def fact(self, name: str) -> Val:
        return self.facts[name]

    def parameter(self, name: str, day: dt.date) -> Val:
        self.asked.append((name, day))
        return self.parameters.get(name, Val(None, gaps=(f"parameter {name} has no value on {day}",)))

    def row(self, table: str, key: str, day: dt.date) -> Val:  # pragma: no cover - not read here
        return NONE


_texts = st.sampled_from(["a.b", "c", "x.y[0]", "parameter p", "table t"])
_extras = st.tuples(
    st.frozensets(_texts, max_size=2),
    st.lists(_texts, max_size=2, unique=True).map(tuple),
    st.frozensets(_texts, max_size=2),
)
_numbers = st.one_of(
    st.integers(-5, 5),
    st.decimals(min_value=-5, max_value=5, places=2, allow_nan=False, allow_infinity=False),
)


def _vals(values: st.SearchStrategy[Any]) -> st.SearchStrategy[Val]:
    """Values with or without a value, each with or without what it lacks and rests on."""

    def made(value: Any, extras: tuple[frozenset[str], tuple[str, ...], frozenset[str]]) -> Val:
        missing, gaps, provisional = extras
        return Val(value, missing, gaps, provisional)

    plain = values.map(Val)
    return st.one_of(plain, st.builds(made, st.one_of(st.none(), values), _extras), st.just(NONE))


def _same(left: Val, right: Val) -> None:
    assert left == right
    assert type(left.value) is type(right.value)


# --- the general closures, as they were before the shapes got their own -------------------------


def _general_compare(node: Compare) -> Evaluate:
    left, right = compile_formula(node.left), compile_formula(node.right)  # type: ignore[arg-type]
    compare = computation._COMPARISONS[node.op]

    def run(source: FactSource, item: Entry | None) -> Val:
        a, b = left(source, item), right(source, item)
        if a.value is None or b.value is None:
            return _merge(a, b)
        result = compare(_number(a.value), _number(b.value))
        return _merge(a, b, value=result)

    return run


def _general_arith(node: Arith) -> Evaluate:
    args = [compile_formula(arg) for arg in node.args]

    def run(source: FactSource, item: Entry | None) -> Val:
        values = [arg(source, item) for arg in args]
        if any(v.value is None for v in values):
            return _merge(*values)
        numbers = [_number(v.value) for v in values]
        result = numbers[0]
        for number in numbers[1:]:
            result = computation._arithmetic(node.op, result, number)
        return _merge(*values, value=result)

    return run


def _general_logic(node: Logic) -> Evaluate:
    args = [compile_formula(arg) for arg in node.args]
    decisive = node.op == "any"

    def run(source: FactSource, item: Entry | None) -> Val:
        values = [arg(source, item) for arg in args]
        settling = [v for v in values if v.value is decisive]
        if settling:
            return _merge(*settling, value=decisive)
        if any(v.value is None for v in values):
            return _merge(*(v for v in values if v.value is None))
        return _merge(*values, value=not decisive)

    return run


def _general_record(node: RecordOf) -> Evaluate:
    fields = [(name, compile_formula(value)) for name, value in node.fields]

    def run(source: FactSource, item: Entry | None) -> Val:
        values = {name: field(source, item) for name, field in fields}
        return _merge(*values.values(), value={name: value.value for name, value in values.items()})

    return run


# --- each shape against the general closure ------------------------------------------------------


@SETTINGS
@given(
    st.sampled_from(["eq", "ne", "lt", "lte", "gt", "gte"]),
    _vals(_numbers),
    st.one_of(_numbers, st.floats(-5, 5, allow_nan=False, allow_infinity=False)),
)
def test_a_comparison_with_a_constant_is_the_general_comparison(op: str, left: Val, constant: Any) -> None:
    node = Compare(BOOLEAN, op, Ref(INTEGER, "x"), Literal(INTEGER, constant))
    source = _Source({"x": left})
    _same(compile_formula(node)(source, None), _general_compare(node)(source, None))


@SETTINGS
@given(st.sampled_from(["eq", "ne"]), _vals(st.sampled_from(["a", "b"])), st.sampled_from(["a", "c"]))
def test_a_comparison_of_text_with_a_constant_is_the_general_comparison(
    op: str, left: Val, constant: str
) -> None:
    node = Compare(BOOLEAN, op, Ref(INTEGER, "x"), Literal(INTEGER, constant))
    source = _Source({"x": left})
    _same(compile_formula(node)(source, None), _general_compare(node)(source, None))


@SETTINGS
@given(st.one_of(st.none(), _vals(_numbers)))
def test_a_parameter_on_the_evaluation_date_is_the_parameter_on_that_day(value: Val | None) -> None:
    parameters = {} if value is None else {"p": value}
    today, on_a_day = _Source({}, parameters), _Source({"day": Val(ON)}, parameters)
    found = compile_formula(Param(INTEGER, "p", None))(today, None)
    general = compile_formula(Param(INTEGER, "p", Ref(ValueType("date"), "day")))(on_a_day, None)
    _same(found, general)
    assert today.asked == on_a_day.asked == [("p", ON)]


@SETTINGS
@given(st.sampled_from(["add", "subtract", "multiply"]), st.lists(_vals(_numbers), min_size=1, max_size=4))
def test_arithmetic_in_a_loop_is_the_general_arithmetic(op: str, operands: list[Val]) -> None:
    node = Arith(INTEGER, op, tuple(Ref(INTEGER, f"x{index}") for index in range(len(operands))))
    source = _Source({f"x{index}": value for index, value in enumerate(operands)})
    _same(compile_formula(node)(source, None), _general_arith(node)(source, None))


@SETTINGS
@given(st.sampled_from(["all", "any"]), st.lists(_vals(st.booleans()), min_size=1, max_size=5))
def test_a_condition_in_a_loop_is_the_general_condition(op: str, parts: list[Val]) -> None:
    node = Logic(BOOLEAN, op, tuple(Ref(BOOLEAN, f"x{index}") for index in range(len(parts))))
    source = _Source({f"x{index}": value for index, value in enumerate(parts)})
    _same(compile_formula(node)(source, None), _general_logic(node)(source, None))


@SETTINGS
@given(st.lists(st.tuples(st.sampled_from(["a", "b", "c"]), _vals(_numbers)), min_size=1, max_size=4))
def test_a_record_in_a_loop_is_the_general_record(fields: list[tuple[str, Val]]) -> None:
    # Names may repeat: the last value of a name counts, as in the general closure.
    node = RecordOf(
        ValueType("record"),
        tuple((name, Ref(INTEGER, f"x{index}")) for index, (name, _) in enumerate(fields)),
    )
    source = _Source({f"x{index}": value for index, (_, value) in enumerate(fields)})
    found, general = compile_formula(node)(source, None), _general_record(node)(source, None)
    _same(found, general)
    assert list(found.value) == list(general.value)


def test_a_literal_decimal_constant_is_compared_as_a_number() -> None:
    node = Compare(BOOLEAN, "gte", Ref(INTEGER, "x"), Literal(INTEGER, 2.5))
    assert compile_formula(node)(_Source({"x": Val(Decimal("2.5"))}), None).value is True
    assert compile_formula(node)(_Source({"x": Val(2)}), None).value is False


@pytest.fixture(scope="module")
def evaluator() -> rules.Evaluator:
    return rules.Evaluator(rules.load_policy())


# --- reading records -------------------------------------------------------------------------------

AMENDMENT = Path(__file__).resolve().parents[1] / "examples" / "amendments" / "residence-language-b1.yaml"


def test_the_record_keys_are_each_policys_own(evaluator: rules.Evaluator) -> None:
    policy = evaluator.policy
    declared = {
        programme.record: programme
        for programme in policy.programmes.values()
        if programme.record is not None
    }
    assert _records(policy) == declared
    assert _records(policy) is _records(policy)  # kept, not made again
    other = rules.load_policy(amendments=[AMENDMENT])
    assert _records(other) is not _records(policy)
    assert _records(other) == {
        programme.record: programme for programme in other.programmes.values() if programme.record is not None
    }


def test_a_code_of_a_table_is_read_and_another_refused(evaluator: rules.Evaluator) -> None:
    def read(region: str) -> dict[str, Any]:
        person = Person.model_validate(
            {"person_id": "p", "social_contract": {"host_region": region, "signed": "2025-01-10"}}
        )
        return read_sections(person, evaluator.policy)

    region = next(iter(evaluator.policy.tables["country.regions"].rows))
    assert read(region)["social_contract"]["host_region"] == region
    with pytest.raises(InputError) as refused:
        read("atlantis")
    (problem,) = refused.value.problems
    assert problem.where == "social_contract.host_region"
    assert "'atlantis' is not one of" in problem.message
