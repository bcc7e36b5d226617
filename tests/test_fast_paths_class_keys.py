"""The engine's fast path of the fourteenth round of speed work, against the path it replaces.

An evaluator no longer builds its engine facts (``Case.engine_fact``) to make their class key
(``FactClasses.key``) and find it in the ruleset's class memo: it reads the key straight from
the case (``Case.engine_key``), asks the memo (``CompiledRuleset.replayed``), and builds and
fires the facts only when the memo does not answer. Checked:

* the key read from the case is the key of the facts the case builds, part for part, for every
  batch of every example case and of the benchmarks' generated persons (under amendments too),
  and for any values of any type in the shipped policy's facts (hypothesis);
* the rules fired, and so the verdicts and traces, are those of an evaluator without a class
  memo or a firing cache, whose every case durable-rules fires;
* a case the memo does not hold is fired and fills the memo, under the same key; a closed or
  poisoned ruleset refuses as before; an evaluator whose facts would fail the ruleset's check
  of ids takes the full path;
* the firing guards check each programme with as few rules as may be (a rule another implies
  left out, two that differ in the constants of one property made one): the same answer as
  every rule gives, for any rules and values (hypothesis) and for the shipped guards.
"""

from __future__ import annotations

import datetime as dt
import functools
from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from budget import examples
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import rules
from rules.engine import evaluator as evaluator_module
from rules.engine.case import Case
from rules.engine.classes import FactClasses
from rules.engine.computation import Val
from rules.engine.guards import FiringGuards, Requirement, _fewest
from rules.errors import EngineError

ROOT = Path(__file__).resolve().parents[1]
POLICY = ROOT / "policies" / "kz"
AMENDMENTS = ROOT / "examples" / "amendments"

from sample_cases import SampleCase, bench_evaluate, example_cases, generated_cases  # noqa: E402

SETTINGS = settings(max_examples=examples(300), deadline=None, suppress_health_check=[HealthCheck.too_slow])


# --- evaluators --------------------------------------------------------------------------------


def _policy(amendments: tuple[str, ...]) -> rules.Policy:
    return rules.load_policy(POLICY, amendments=[AMENDMENTS / name for name in amendments])


@functools.cache
def _fast(amendments: tuple[str, ...] = ()) -> rules.Evaluator:
    """An evaluator as shipped: the class memo answered from the key read from the case."""
    return rules.Evaluator(_policy(amendments), cache_size=0)


@functools.cache
def _plain(amendments: tuple[str, ...] = ()) -> rules.Evaluator:
    """An evaluator with neither a class memo nor a firing cache: durable-rules fires every case."""
    memo = evaluator_module._CLASS_MEMO
    evaluator_module._CLASS_MEMO = 0
    try:
        found = rules.Evaluator(_policy(amendments), cache_size=0)
    finally:
        evaluator_module._CLASS_MEMO = memo
    assert found._classes is None and found._ruleset.classes is None
    return found


def _generated_cases() -> Iterator[SampleCase]:
    return generated_cases(200, 200, 14, ("limit-60-days.yaml", "sanction-fines-doubled.yaml"))


def _all_cases() -> list[tuple[tuple[str, ...], Any, Any]]:
    return [*example_cases(), *_generated_cases()]


# --- the key read from the case is the key of the facts ------------------------------------------


class _Checking:
    """Stands in for an evaluator's ``_fired``: for every batch, the key read from the case must
    be the key of the facts the case builds (made after it, as the fast path makes them)."""

    def __init__(self, evaluator: rules.Evaluator) -> None:
        self.evaluator = evaluator
        self.fired = evaluator._fired
        self.batches = 0
        self.keyed = 0

    def __call__(self, asserted: tuple[str, ...], case: Case) -> tuple[str, ...]:
        evaluator = self.evaluator
        classes = evaluator._classes
        assert classes is not None
        plans = evaluator._batch_plan(asserted)
        assert len(plans) == len(asserted)  # every programme of the shipped policy is keyed
        direct = case.engine_key(plans, classes)
        facts = [case.engine_fact(name, evaluator._engine_plans[name]) for name in asserted]
        assert direct == classes.key(facts), (asserted, facts)
        self.batches += 1
        self.keyed += direct is not None
        return self.fired(asserted, case)


@pytest.mark.parametrize("amendments", [(), ("limit-60-days.yaml",), ("sanction-fines-doubled.yaml",)])
def test_the_key_read_from_the_case_is_the_key_of_its_facts(amendments: tuple[str, ...]) -> None:
    evaluator = rules.Evaluator(_policy(amendments), cache_size=0)
    checking = _Checking(evaluator)
    evaluator._fired = checking  # type: ignore[method-assign]
    for case_amendments, person, on in _all_cases():
        if case_amendments not in ((), amendments):
            continue
        try:
            evaluator.evaluate(person, on)
        except (rules.InputError, rules.EvaluationError):
            pass
    assert checking.batches > 500
    assert checking.keyed == checking.batches  # the shipped policy's values are all covered


# --- the rules fired are those durable-rules fires ---------------------------------------------


def _outcome(evaluator: rules.Evaluator, person: Any, on: Any) -> tuple[Any, ...]:
    try:
        evaluation = evaluator.evaluate_case(person, on, trace=False)
    except rules.KzmigError as error:
        return (f"{type(error).__name__}: {error}",)
    assert evaluation._traced is not None
    fired = evaluation._traced.args[4]
    return (list(fired), evaluation.traced().model_dump_json(), sorted(evaluation.guarded))


def test_the_rules_fired_are_those_durable_rules_fires_for_every_case() -> None:
    replays = 0
    cases = _all_cases()
    for amendments, person, on in cases:
        fast = _fast(amendments)
        before = len(fast._ruleset._memo)
        assert _outcome(fast, person, on) == _outcome(_plain(amendments), person, on), (person, on)
        replays += len(fast._ruleset._memo) == before
    assert replays > len(cases) * 2 // 3  # most were answered by the memo (the path under test)


# --- any values ---------------------------------------------------------------------------------


def _constants(classes: FactClasses, key: str) -> tuple[list[str], list[Any]]:
    prop = classes._props.get(key)
    if prop is None:
        return [], []
    return sorted(prop.texts | prop.items), list(prop.numbers)


@st.composite
def _values(draw: st.DrawFn, texts: list[str], numbers: list[Any], kind: str, covered: bool) -> Any:
    """A value a fact of type ``kind`` could hold, near the constants its property is compared
    with, of every type the engine facts encode (dates, decimals, codes, records); ``covered``:
    only values the classes cover, else any (floats the engine misreads, lists of numbers, ...)."""
    near = [int(number) + delta for number in numbers for delta in (-1, 0, 1)]
    items = st.sampled_from(texts) if texts else st.text(max_size=3)
    scalar = st.one_of(
        st.none(),
        st.booleans(),
        st.integers(-3, 400),
        st.sampled_from(near) if near else st.integers(),
        st.integers(),
        items,
        st.text(max_size=4),
        st.decimals(places=2, allow_nan=False, allow_infinity=False, min_value=-500, max_value=500),
        st.dates(dt.date(2000, 1, 1), dt.date(2030, 12, 31)),
    )
    if covered:
        if kind == "codes":
            return draw(
                st.one_of(st.none(), st.lists(items, max_size=3), st.lists(items, max_size=3).map(tuple))
            )
        return draw(scalar)
    return draw(
        st.one_of(
            scalar,
            st.floats(allow_nan=True, allow_infinity=True),
            st.sampled_from([0.0, -0.0, 1e-05, 1.5, float(2**60)]),
            st.lists(items, max_size=3),
            st.lists(items, max_size=3).map(tuple),
            st.lists(st.one_of(items, st.integers()), max_size=3),
            st.dictionaries(st.text(max_size=2), st.integers(), max_size=2),
        )
    )


@st.composite
def _cases_of_values(draw: st.DrawFn, covered: bool = False) -> tuple[tuple[str, ...], Case]:
    evaluator = _fast()
    classes = evaluator._classes
    assert classes is not None
    names = list(evaluator.policy.programmes)
    asserted = tuple(draw(st.lists(st.sampled_from(names), min_size=1, max_size=len(names), unique=True)))
    on = draw(st.dates(dt.date(2015, 1, 1), dt.date(2035, 12, 31)))
    case = Case(evaluator.compiled, None, {}, on)  # type: ignore[arg-type]
    for programme in asserted:
        for name, key, value_type, where, _ in evaluator._engine_plans[programme]:
            texts, numbers = _constants(classes, key)
            value = draw(_values(texts, numbers, value_type.kind, covered))
            if where is not None:
                case.mechanism_facts.setdefault(where[0], {})[where[1]] = value
            elif name not in case.values:
                case.values[name] = Val(value)
    return asserted, case


@SETTINGS
@given(drawn=_cases_of_values(), forget=st.booleans())
def test_the_key_read_from_any_values_is_the_key_of_their_facts(
    drawn: tuple[tuple[str, ...], Case], forget: bool
) -> None:
    asserted, case = drawn
    evaluator = _fast()
    classes = evaluator._classes
    assert classes is not None
    if forget:  # the kept parts emptied (as when full): the same key, made again
        classes.items.clear()
    plans = evaluator._batch_plan(asserted)
    direct = _outcome_of(lambda: case.engine_key(plans, classes))
    built = _outcome_of(
        lambda: classes.key([case.engine_fact(name, evaluator._engine_plans[name]) for name in asserted])
    )
    if isinstance(built, str):  # a value its type cannot encode (codes that are no list)
        # fails alike, or the key gave up first on a value the classes do not cover: the
        # evaluator then builds the facts, and fails as before.
        assert direct in (built, None)
    else:
        assert direct == built
    assert _outcome_of(lambda: case.engine_key(plans, classes)) == direct  # again, from the kept parts


@SETTINGS
@given(drawn=_cases_of_values(covered=True))
def test_the_key_read_from_covered_values_is_the_key_of_their_facts(
    drawn: tuple[tuple[str, ...], Case],
) -> None:
    asserted, case = drawn
    evaluator = _fast()
    classes = evaluator._classes
    assert classes is not None
    direct = case.engine_key(evaluator._batch_plan(asserted), classes)
    assert direct is not None
    assert direct == classes.key([case.engine_fact(name, evaluator._engine_plans[name]) for name in asserted])


def _outcome_of(call: Any) -> Any:
    try:
        return call()
    except Exception as error:
        return f"{type(error).__name__}: {error}"


def test_a_value_the_classes_do_not_cover_takes_the_full_path() -> None:
    evaluator = rules.Evaluator(_policy(()), cache_size=0)
    classes = evaluator._classes
    assert classes is not None
    case = Case(evaluator.compiled, None, {}, dt.date(2026, 3, 20))  # type: ignore[arg-type]
    name, _, _, where, _ = evaluator._engine_plans["stay"][0]
    assert where is not None
    case.mechanism_facts[where[0]] = {where[1]: [1, 2]}  # codes that are not text
    plans = evaluator._batch_plan(("stay",))
    assert case.engine_key(plans, classes) is None
    assert classes.key([case.engine_fact("stay", evaluator._engine_plans["stay"])]) is None


# --- the memo's misses, closed rulesets ---------------------------------------------------------


def test_a_case_the_memo_does_not_hold_is_fired_and_kept_under_the_same_key() -> None:
    evaluator = rules.Evaluator(_policy(()), cache_size=0)
    ruleset = evaluator._ruleset
    asked: list[tuple[tuple[Any, ...], tuple[str, ...] | None]] = []
    replayed = ruleset.replayed

    def recording(key: tuple[Any, ...]) -> tuple[str, ...] | None:
        found = replayed(key)
        asked.append((key, found))
        return found

    ruleset.replayed = recording  # type: ignore[method-assign]
    person, on = bench_evaluate.realistic_person(), bench_evaluate.AS_OF
    first = evaluator.evaluate(person, on)
    assert asked and all(found is None for _, found in asked)  # an empty memo: every batch fired
    assert set(ruleset._memo) == {key for key, _ in asked}  # each kept under the key asked
    kept = len(ruleset._memo)
    asked.clear()
    assert evaluator.evaluate(person, on) == first
    assert asked and all(found is not None for _, found in asked)  # now replayed
    assert len(ruleset._memo) == kept
    assert first == _plain().evaluate(person, on)


def test_a_closed_or_poisoned_ruleset_refuses_as_before() -> None:
    person, on = bench_evaluate.realistic_person(), bench_evaluate.AS_OF
    evaluator = rules.Evaluator(_policy(()), cache_size=0)
    evaluator.evaluate(person, on)
    evaluator._ruleset._poisoned = True
    with pytest.raises(EngineError, match="kept a session after a failure or a fork"):
        evaluator.evaluate(person, on)  # the memo holds the case: refused all the same
    evaluator._ruleset._poisoned = False
    evaluator.evaluate(person, on)
    evaluator._ruleset.close()
    with pytest.raises(EngineError, match="is closed"):
        evaluator.evaluate(person, on)


def test_facts_failing_the_check_of_ids_take_the_full_path(monkeypatch: pytest.MonkeyPatch) -> None:
    def refusing(facts: Any) -> None:
        raise EngineError("refused")

    monkeypatch.setattr(evaluator_module, "check_facts", refusing)
    evaluator = rules.Evaluator(_policy(()), cache_size=0)
    assert evaluator._classes is None and evaluator._ruleset.classes is not None
    monkeypatch.undo()
    for _, person, on in list(_generated_cases())[:40]:
        assert _outcome(evaluator, person, on) == _outcome(_plain(), person, on)
    assert evaluator._ruleset._memo  # the full path keeps its firings by class as before


def test_check_facts_refuses_reserved_and_colliding_ids() -> None:
    from rules.engine.durable import check_facts

    check_facts([{"id": name, "t": name} for name in _fast().policy.programmes])
    with pytest.raises(EngineError, match="reserved for the end marker"):
        check_facts([{"id": "__end__", "t": "stay"}])
    with pytest.raises(EngineError, match="would be one fact"):
        check_facts([{"id": "stay", "t": "stay"}, {"id": "stay", "t": "entry"}])


def test_decimal_and_date_values_are_keyed_as_encoded() -> None:
    evaluator = _fast()
    classes = evaluator._classes
    assert classes is not None
    case = Case(evaluator.compiled, None, {}, dt.date(2026, 3, 20))  # type: ignore[arg-type]
    for programme in ("host", "social_contract"):
        for name, _, _, where, _ in evaluator._engine_plans[programme]:
            value: Any = dt.date(2026, 1, 5) if "on" in name or "ends" in name else Decimal("12.50")
            if where is not None:
                case.mechanism_facts.setdefault(where[0], {})[where[1]] = value
            else:
                case.values[name] = Val(value)
    plans = evaluator._batch_plan(("host", "social_contract"))
    facts = [case.engine_fact(name, evaluator._engine_plans[name]) for name in ("host", "social_contract")]
    assert case.engine_key(plans, classes) == classes.key(facts)


# --- the guards' checks: as few rules as may be, the same answer ---------------------------------


def _passes(needs: tuple[Requirement, ...], value: Any) -> bool:
    """A rule may match: no property it requires is missing or of the constants' type and equal
    to none of them (the guards' reading, written out)."""
    for key, kind, constants in needs:
        found = value(key)
        if found is None or (type(found) is kind and found not in constants):
            return False
    return True


def _may_fire_by_every_rule(guards: FiringGuards, programme: str, value: Any) -> bool:
    """FiringGuards.may_fire as it was: over every rule of the programme."""
    rules_of = guards.guards.get(programme)
    return rules_of is None or any(_passes(needs, value) for needs in rules_of)


_guard_keys = st.sampled_from(["a", "b", "c"])
_guard_constants = st.one_of(
    st.tuples(st.just(str), st.frozensets(st.sampled_from(["x", "y", "z"]), max_size=2)),
    st.tuples(st.just(bool), st.frozensets(st.booleans(), max_size=1)),
)


@st.composite
def _guard_rules(draw: st.DrawFn) -> tuple[tuple[Requirement, ...], ...]:
    """Rules over few properties and constants, so that many imply or merge with another."""
    rules_drawn = []
    for _ in range(draw(st.integers(1, 6))):
        keys = draw(
            st.lists(_guard_keys, unique=True, min_size=draw(st.sampled_from([0, 1, 1, 1])), max_size=2)
        )
        rules_drawn.append(tuple((key, *draw(_guard_constants)) for key in keys))
    return tuple(rules_drawn)


_guard_values = st.one_of(st.none(), st.sampled_from(["x", "y", "z", "w"]), st.booleans(), st.integers(0, 1))


@settings(SETTINGS, max_examples=examples(2000))
@given(rules_drawn=_guard_rules(), values=st.fixed_dictionaries({key: _guard_values for key in "abc"}))
def test_the_fewest_rules_may_fire_exactly_when_one_of_the_rules_may(
    rules_drawn: tuple[tuple[Requirement, ...], ...], values: dict[str, Any]
) -> None:
    fewest = _fewest(rules_drawn)
    assert len(fewest) <= len(rules_drawn)
    assert any(_passes(needs, values.get) for needs in fewest) == any(
        _passes(needs, values.get) for needs in rules_drawn
    )


def test_the_shipped_guards_are_one_rule_each() -> None:
    guards = _fast()._guards
    assert guards is not None
    assert {programme: len(checks) for programme, checks in guards.checks.items()} == {
        "sanction": 1,
        "entry": 1,
    }
    assert len(guards.guards["sanction"]) > 1 and len(guards.guards["entry"]) > 1


@SETTINGS
@given(data=st.data())
def test_the_shipped_guards_answer_as_every_rule_does(data: st.DataObject) -> None:
    amendments = data.draw(st.sampled_from([(), ("limit-60-days.yaml",), ("sanction-fines-doubled.yaml",)]))
    guards = _fast(amendments)._guards
    assert guards is not None
    constants: dict[str, list[Any]] = {}
    for checks in guards.guards.values():
        for needs in checks:
            for key, _, values in needs:
                constants.setdefault(key, []).extend(sorted(values, key=repr))
    values = {
        key: data.draw(st.one_of(st.none(), st.sampled_from(found), st.booleans(), st.text(max_size=2)))
        for key, found in constants.items()
    }
    for programme in guards.guards:
        assert set(guards.reads[programme]) <= set(constants)
        assert guards.may_fire(programme, values.get) == _may_fire_by_every_rule(
            guards, programme, values.get
        )
