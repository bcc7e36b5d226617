"""The formulas' fast paths of the thirteenth round of speed work, each against the path it replaces.

A list operator (``sum``, ``count``, ``select``, ``first``, ``minimum``, ``maximum``) reads each
item's test and value through :func:`compile_quick` when it carries nothing (no missing input,
gap or provisional source), and through the general closures otherwise. For any list, facts,
parameters and table rows, known or unknown, provisional or not, it gives what the general
reading of every item as a Val gives (kept below as it was); and a quick reading gives either
the general closure's value, when that carries nothing, or asks for the general way.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from decimal import Decimal
from types import MappingProxyType, SimpleNamespace
from typing import Any

import pytest
from budget import examples
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from test_fast_paths_formula_shapes import SETTINGS

from rules.engine.case import Case
from rules.engine.computation import (
    _SLOW,
    NONE,
    Entry,
    Evaluate,
    FactSource,
    Val,
    _merge,
    _number,
    compile_formula,
    compile_quick,
)
from rules.policy.nodes import Aggregate, Arith, Compare, Item, Literal, Logic, Lookup, Node, Not, Param, Ref
from rules.policy.types import BOOLEAN, DATE, INTEGER, STRING, ValueType

LIST = ValueType("list")
TEXT = STRING

ON = dt.date(2026, 3, 1)
#: For the tests drawn once per operand shape: fewer examples each, as many in all.
EACH_SHAPE = settings(max_examples=examples(80), deadline=None, suppress_health_check=[HealthCheck.too_slow])


class _Source:
    """A fact source holding given facts, parameters (by name and day) and table rows."""

    def __init__(
        self, facts: dict[str, Val], parameters: dict[tuple[str, dt.date], Val], rows: dict[Any, Val]
    ) -> None:
        self.as_of = ON
        self.facts = facts
        self.parameters = parameters
        self.rows = rows

    def fact(self, name: str) -> Val:
        return self.facts[name]

    def parameter(self, name: str, day: dt.date) -> Val:
        found = self.parameters.get((name, day))
        return found if found is not None else Val(None, gaps=(f"parameter {name} has no value on {day}",))

    def row(self, table: str, key: str, day: dt.date) -> Val:
        return self.rows.get((table, key, day), NONE)


# --- the general closure, as it was before the fast path -------------------------------------------


def _general_aggregate(node: Aggregate) -> Evaluate:
    over = compile_formula(node.over)
    each = compile_formula(node.each) if node.each is not None else None
    where = compile_formula(node.where) if node.where is not None else None
    op = node.op

    def run(source: FactSource, item: Entry | None) -> Val:
        found = over(source, item)
        if found.value is None:
            return found
        parts = [found]
        chosen: list[tuple[Entry, Val | None]] = []
        for entry in found.value:
            if where is not None:
                test = where(source, entry)
                if test.value is None:
                    parts.append(test)
                    continue
                if not test.value:
                    continue
                if test.provisional:
                    parts.append(Val(provisional=test.provisional))
            chosen.append((entry, each(source, entry) if each is not None else None))
        unknown = [part for part in parts if part.value is None and (part.missing or part.gaps)]
        unknown += [value for _, value in chosen if value is not None and value.value is None]
        if unknown:
            return _merge(*parts, *unknown)
        values = [value for _, value in chosen if value is not None]
        if op == "count":
            result: Any = len(chosen)
        elif op == "select":
            result = tuple(entry for entry, _ in chosen)
        elif op == "first":
            ordered = [(entry, value) for entry, value in chosen]
            if each is not None and ordered:
                ordered.sort(key=lambda pair: _number(pair[1].value) if pair[1] is not None else 0)
            result = ordered[0][0] if ordered else None
        elif op == "sum":
            numbers = [_number(v.value) for v in values]
            result = sum(numbers, Decimal(0) if any(isinstance(n, Decimal) for n in numbers) else 0)
        elif not values:
            result = None
        elif op == "minimum":
            result = min(_number(v.value) for v in values)
        else:
            result = max(_number(v.value) for v in values)
        return _merge(*parts, *values, value=result)

    return run


# --- what is drawn ---------------------------------------------------------------------------------

_DAYS = [dt.date(2026, 1, 10), dt.date(2026, 2, 20), dt.date(2026, 3, 1), dt.date(2026, 4, 5)]
_KINDS = ["housing", "relocation", "employer"]
_texts = st.sampled_from(["x.a", "x.b", "parameter p", "table t", "a gap"])
_gaps = st.lists(_texts, min_size=1, max_size=2, unique=True).map(tuple)
_extras = st.one_of(
    # One of the three alone (a provisional value without a value is the rarest otherwise).
    st.tuples(st.frozensets(_texts, min_size=1, max_size=2), st.just(()), st.just(frozenset())),
    st.tuples(st.just(frozenset()), _gaps, st.just(frozenset())),
    st.tuples(st.just(frozenset()), st.just(()), st.frozensets(_texts, min_size=1, max_size=2)),
    st.tuples(
        st.frozensets(_texts, max_size=2),
        st.lists(_texts, max_size=2, unique=True).map(tuple),
        st.frozensets(_texts, max_size=2),
    ),
)


def _vals(values: st.SearchStrategy[Any], plain_only: bool) -> st.SearchStrategy[Val]:
    """Values known or not; unless ``plain_only``, each with or without what it lacks and rests on."""
    plain = st.one_of(values.map(Val), st.just(NONE))
    if plain_only:
        return st.one_of(values.map(Val), values.map(Val), values.map(Val), st.just(NONE))

    def made(value: Any, extras: tuple[frozenset[str], tuple[str, ...], frozenset[str]]) -> Val:
        return Val(value, *extras)

    return st.one_of(plain, plain, st.builds(made, st.one_of(st.none(), values), _extras))


_amounts = st.one_of(st.integers(0, 9), st.decimals(min_value=0, max_value=9, places=1, allow_nan=False))


@st.composite
def _cases(draw: st.DrawFn, plain_only: bool = False) -> tuple[_Source, tuple[Entry, ...]]:
    """A list of payments (fields possibly missing unless ``plain_only``) and what formulas read."""
    entries = []
    for index in range(draw(st.integers(0, 5))):
        fields: dict[str, Any] = {}
        for name, values in (
            ("kind", st.sampled_from(_KINDS)),
            ("amount", _amounts),
            ("paid_on", st.sampled_from(_DAYS)),
        ):
            if plain_only or draw(st.integers(0, 5)) > 0:
                fields[name] = draw(values)
        entries.append(Entry(fields, f"x.support[{index}]"))
    facts = {
        "support": draw(_vals(st.just(tuple(entries)), plain_only)),
        "as_of": draw(_vals(st.sampled_from(_DAYS), plain_only)),
        "signed": draw(_vals(st.sampled_from(_DAYS), plain_only)),
        "limit": draw(_vals(_amounts, plain_only)),
        "members": draw(_vals(st.integers(1, 3), plain_only)),
    }
    parameters = {}
    for day in _DAYS:
        for name in ("cap", "mci"):
            if plain_only or draw(st.booleans()) or draw(st.booleans()):
                parameters[(name, day)] = draw(_vals(_amounts, plain_only))
    rows = {}
    for kind in _KINDS:
        for day in _DAYS:
            rows_drawn = [None, {}, {"refundable": False}, {"refundable": True}, {"refundable": True}]
            row: Any = draw(st.sampled_from(rows_drawn))
            if plain_only:
                rows[("kinds", kind, day)] = Val(row) if row is not None else NONE
            else:
                rows[("kinds", kind, day)] = Val(
                    row, provisional=draw(st.sampled_from([frozenset(), frozenset({"table kinds"})]))
                )
    return _Source(facts, parameters, rows), tuple(entries)


def _item(name: str, kind: Any = INTEGER) -> Item:
    return Item(kind, name)


_AMOUNT, _PAID, _KIND = _item("amount"), _item("paid_on", DATE), _item("kind", TEXT)
_AS_OF, _SIGNED, _LIMIT = Ref(DATE, "as_of"), Ref(DATE, "signed"), Ref(INTEGER, "limit")
_CAP = Arith(
    INTEGER,
    "multiply",
    (Param(INTEGER, "cap", _PAID), Param(INTEGER, "mci", None), Ref(INTEGER, "members")),
)
_REFUNDABLE = Lookup(BOOLEAN, "kinds", _KIND, Literal(TEXT, "refundable"), _SIGNED, None)
_REFUNDABLE_OR_NOT = Lookup(BOOLEAN, "kinds", _KIND, Literal(TEXT, "refundable"), _AS_OF, False)

#: Tests of an item, of every operator with a quick reading, nested.
_WHERES: list[Node | None] = [
    None,
    Compare(BOOLEAN, "lte", _PAID, _AS_OF),
    Compare(BOOLEAN, "gt", _AMOUNT, _LIMIT),
    Compare(BOOLEAN, "eq", _KIND, Literal(TEXT, "housing")),
    Compare(BOOLEAN, "in", _KIND, ("housing", "employer")),
    Logic(
        BOOLEAN,
        "all",
        (
            Compare(BOOLEAN, "lte", _PAID, _AS_OF),
            Compare(BOOLEAN, "eq", _REFUNDABLE, Literal(BOOLEAN, True)),
        ),
    ),
    Logic(
        BOOLEAN,
        "any",
        (
            Compare(BOOLEAN, "eq", _KIND, Literal(TEXT, "relocation")),
            Not(BOOLEAN, Compare(BOOLEAN, "gt", _AMOUNT, _CAP)),
            _REFUNDABLE_OR_NOT,
        ),
    ),
    Logic(
        BOOLEAN,
        "all",
        (Compare(BOOLEAN, "ne", _KIND, Literal(TEXT, None)), Compare(BOOLEAN, "gte", _PAID, _SIGNED)),
    ),
    # Without a quick reading (a list operator within): the closure reads it.
    Compare(
        BOOLEAN, "gt", Aggregate(INTEGER, "count", Ref(LIST, "support"), None, None), Literal(INTEGER, 2)
    ),
]
_EACHES: list[Node | None] = [
    None,
    _AMOUNT,
    _PAID,
    Arith(INTEGER, "add", (_AMOUNT, _LIMIT)),
    Arith(INTEGER, "subtract", (_AMOUNT, Param(INTEGER, "cap", None))),
]
_OPS = ["sum", "count", "select", "first", "minimum", "maximum"]


def _outcome(run: Evaluate, source: _Source) -> Any:
    try:
        found = run(source, None)
    except Exception as error:  # noqa: BLE001 - the same error either way is the same answer
        return type(error)
    return found, type(found.value)


def _aggregate(op: str, each: Node | None, where: Node | None) -> Aggregate:
    if op in ("sum", "minimum", "maximum") and (each is None or (op == "sum" and each is _PAID)):
        each = _AMOUNT  # a number to add, or some value to compare
    return Aggregate(INTEGER, op, Ref(LIST, "support"), each, where)


@pytest.mark.parametrize("where", range(len(_WHERES)))
@EACH_SHAPE
@given(st.sampled_from(_OPS), st.sampled_from(_EACHES), _cases())
def test_a_list_operator_gives_what_the_general_reading_gives(
    where: int, op: str, each: Node | None, case: Any
) -> None:
    node = _aggregate(op, each, _WHERES[where])
    source, _ = case
    assert _outcome(compile_formula(node), source) == _outcome(_general_aggregate(node), source)


@pytest.mark.parametrize("each", range(len(_EACHES)))
@EACH_SHAPE
@given(st.sampled_from(_OPS), st.sampled_from(_WHERES), _cases())
def test_a_list_operator_gives_what_the_general_reading_gives_for_each_value(
    each: int, op: str, where: Node | None, case: Any
) -> None:
    node = _aggregate(op, _EACHES[each], where)
    source, _ = case
    assert _outcome(compile_formula(node), source) == _outcome(_general_aggregate(node), source)


@SETTINGS
@given(st.sampled_from(_OPS), st.sampled_from(_EACHES), st.sampled_from(_WHERES), _cases(plain_only=True))
def test_a_list_operator_of_plain_values_gives_what_the_general_reading_gives(
    op: str, each: Node | None, where: Node | None, case: Any
) -> None:
    node = _aggregate(op, each, where)
    source, _ = case
    assert _outcome(compile_formula(node), source) == _outcome(_general_aggregate(node), source)


def _quick_agrees(node: Node, source: _Source, entries: tuple[Entry, ...]) -> int:
    """Checks the quick reading of ``node`` on each item against its closure; how many items it
    read quickly."""
    quick, general = compile_quick(node), compile_formula(node)
    assert quick is not None
    read = 0
    for entry in entries:
        try:
            value = quick(source, entry)
        except TypeError:
            value = TypeError
        try:
            expected = general(source, entry)
        except TypeError:
            assert value is TypeError or value is _SLOW
            continue
        if value is _SLOW:
            continue
        read += 1
        assert not (expected.missing or expected.gaps or expected.provisional)
        assert value == expected.value
        assert type(value) is type(expected.value)
    return read


_READABLE = [node for node in (*_WHERES, *_EACHES) if node is not None and compile_quick(node) is not None]


@SETTINGS
@given(st.sampled_from(_READABLE), _cases())
def test_a_quick_reading_gives_the_closures_value_or_asks_for_it(node: Node, case: Any) -> None:
    source, entries = case
    _quick_agrees(node, source, entries)


@SETTINGS
@given(st.sampled_from(_READABLE), _cases(plain_only=True))
def test_a_quick_reading_of_plain_values_is_quick(node: Node, case: Any) -> None:
    """With nothing carried anywhere, every item is read quickly (bar a row without the field,
    which is a gap)."""
    source, entries = case
    read = _quick_agrees(node, source, entries)
    if node not in (_WHERES[5], _WHERES[6]):  # the lookups: a row may lack the field (a gap)
        assert read == len(entries)


def test_an_operator_without_a_quick_reading_has_none() -> None:
    assert compile_quick(_WHERES[-1]) is None
    assert compile_quick(_WHERES[1]) is not None


# --- an input read from its record ----------------------------------------------------------------


def _input_as_it_was(case: Any, name: str, spec: Any) -> Val:
    record, path = case.compiled.inputs[name]
    value: Any = case.sections.get(record)
    for part in path:
        if not isinstance(value, Mapping):
            value = None
            break
        value = value.get(part)
    if value is None or (isinstance(value, str) and value in spec.unknown_values):
        return Val(None, frozenset({spec.path or name}))
    return Val(value)


_leaves = st.one_of(
    st.none(), st.integers(0, 3), st.sampled_from(["a", "unknown"]), st.lists(st.integers(0, 2))
)
_records: Any = st.recursive(
    _leaves,
    lambda inner: st.one_of(
        st.dictionaries(st.sampled_from(["p", "q"]), inner, max_size=2),
        st.dictionaries(st.sampled_from(["p", "q"]), inner, max_size=2).map(MappingProxyType),
    ),
    max_leaves=6,
)


@SETTINGS
@given(_records, st.lists(st.sampled_from(["p", "q"]), max_size=3), st.sampled_from([None, "x.p"]))
def test_an_input_is_read_as_before(record: Any, path: list[str], spec_path: str | None) -> None:
    case = SimpleNamespace(
        compiled=SimpleNamespace(inputs={"fact": ("r", tuple(path))}), sections={"r": record}
    )
    spec = SimpleNamespace(path=spec_path, unknown_values=("unknown",))
    assert Case._input(case, "fact", spec) == _input_as_it_was(case, "fact", spec)  # type: ignore[arg-type]
