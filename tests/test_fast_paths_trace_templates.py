"""The trace's and the sections' fast paths of the eleventh round of speed work, each against
the path it replaces.

* A trace entry is filled into a template made once per rule (its fields in the model's order,
  the parts no case changes already in place) and built without the general steps of
  ``models.verdict.built``; a derivation's parameter reads are planned once with their labels,
  and one read on the day a fact gives evaluates that day once; the rule that alone decided its
  programme shows the missing facts found when it decided, not looked up again. Every entry of
  the example cases and of the benchmarks' generated persons is built again the general way
  (the code these paths replace, below) and must be the same to the last field: the same
  values, in the same order, the same fields given, the same JSON.
* A day or a record is shown (json_value) without the checks of subclasses: the same JSON value
  as the general checks give, for any value.
* A checklist item and a rule named in a section are built without validation: each is what
  validation makes of its fields; a rule's days in force are one span, the days its own dates
  and those of every rule it refines cover.
"""

from __future__ import annotations

import datetime as dt
import functools
from collections.abc import Iterator, Mapping
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from budget import examples
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from pydantic import BaseModel

import rules
from models.verdict import ChecklistItem, Derivation, RuleRef, TraceEntry, built
from rules.engine.case import Case
from rules.engine.compiled import CompiledPolicy
from rules.engine.computation import Entry, json_value
from rules.engine.patterns import chain
from rules.engine.sections import Decided, report_missing
from rules.engine.trace import derivations, trace_entry
from rules.policy.mechanisms import Derived
from rules.policy.nodes import Param, parameter_nodes

ROOT = Path(__file__).resolve().parents[1]
POLICY = ROOT / "policies" / "kz"
AMENDMENTS = ROOT / "examples" / "amendments"

from sample_cases import CASES, SampleCase, example_cases, generated_cases  # noqa: E402

# --- the general path: the trace as it was built before these fast paths -----------------------


def _general_entry(compiled: CompiledPolicy, rule_id: str, evaluated: tuple[Any, ...]) -> TraceEntry:
    """``rule_id``'s entry in the case of ``evaluated`` (what the evaluation left to its trace)."""
    case: Case = evaluated[2]
    decided: dict[str, Decided] = evaluated[3]
    overridden_by: str | None = evaluated[5].get(rule_id)
    derived: dict[str, Derived] = evaluated[6]
    rule = compiled.rules[rule_id]
    programme = compiled.programme_of[rule_id]
    facts: dict[str, Any] = {}
    for name in compiled.reads[rule_id]:
        value = case.fact(name).value
        if value is not None:
            facts[name] = json_value(value)
    facts["as_of"] = case.as_of.isoformat()
    if programme in derived:
        facts.update(compiled.mechanisms[programme].rule_facts(derived[programme], rule))
    decision = decided.get(programme)
    return built(
        TraceEntry,
        {
            "rule": rule_id,
            "title": compiled.title(rule_id, case),
            "source": compiled.sources[rule_id],
            "in_force": (rule.start, rule.end),
            "outcome": rule.then.status or "applies",
            "note": rule.then.note or rule.note,
            "facts": facts,
            "missing": report_missing(compiled, (rule,), case),
            "overridden_by": overridden_by,
            "decisive": overridden_by is None
            and decision is not None
            and rule.then.status == decision.status,
            "derivations": _general_derivations(compiled, compiled.derives[rule_id], case),
        },
    )


def _general_derivations(
    compiled: CompiledPolicy, names: tuple[str, ...], case: Case
) -> tuple[Derivation, ...]:
    formulas = compiled.policy.catalogue.formulas
    result = []
    for step in compiled._plan_derivations(names, case.day):  # planned again: nothing kept
        value = case.fact(step.fact)
        in_force = [node for start, node in formulas[step.fact] if start <= case.day][-1:]
        params = parameter_nodes(in_force[0]) if in_force and in_force[0] is not None else []
        operands = {operand: json_value(case.fact(operand).value) for operand in step.operands}
        for param in params:
            operands[_parameter_read(compiled, param, case)] = json_value(
                compiled.closure(param)(case, None).value
            )
        result.append(
            built(
                Derivation,
                {
                    "fact": step.fact,
                    "value": json_value(value.value),
                    "formula": step.formula,
                    "operands": operands,
                    "reads": step.reads,
                    "missing": tuple(sorted(value.missing)),
                    "provisional": tuple(sorted(value.provisional)),
                },
            )
        )
    return tuple(result)


def _parameter_read(compiled: CompiledPolicy, param: Param, case: Case) -> str:
    if param.on is None:
        return f"parameter {param.name}"
    day = compiled.closure(param.on)(case, None).value
    return f"parameter {param.name} on {json_value(day) if day is not None else 'an unknown day'}"


def _general_json_value(value: Any) -> Any:
    """json_value as it was: every check in turn after the plain types."""
    kind = type(value)
    if kind is int or kind is str or kind is bool or kind is float or value is None:
        return value
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, Decimal):
        exponent = value.as_tuple().exponent
        whole = isinstance(exponent, int) and exponent >= 0 and value == value.to_integral_value()
        return int(value) if whole else float(value)
    if isinstance(value, tuple):
        return [_general_json_value(item) for item in value]
    if isinstance(value, Entry):
        return {name: _general_json_value(item) for name, item in value.fields.items()}
    if isinstance(value, Mapping):
        return {name: _general_json_value(item) for name, item in value.items()}
    return value


# --- the cases ----------------------------------------------------------------------------------


@functools.cache
def _evaluator(amendments: tuple[str, ...] = ()) -> rules.Evaluator:
    policy = rules.load_policy(POLICY, amendments=[AMENDMENTS / name for name in amendments])
    return rules.Evaluator(policy, cache_size=0)


def _generated_cases() -> Iterator[SampleCase]:
    return generated_cases(150, 150, 11, ("limit-60-days.yaml", "sanction-fines-doubled.yaml"))


def _entries(amendments: tuple[str, ...], person: Any, on: Any) -> Iterator[tuple[TraceEntry, TraceEntry]]:
    """Each entry of the case's trace for a fired rule, and the same entry built the general way."""
    evaluator = _evaluator(amendments)
    try:
        evaluation = evaluator.evaluate_case(person, on, trace=False)
    except (rules.InputError, rules.EvaluationError):
        return  # refused before any trace is built
    assert evaluation._traced is not None
    evaluated = evaluation._traced.args
    _, _, case, decided, fired, overridden_by, derived = evaluated
    compiled = evaluator.compiled
    for rule_id in fired:
        found = trace_entry(compiled, rule_id, overridden_by.get(rule_id), decided, case, derived)
        yield found, _general_entry(compiled, rule_id, evaluated)
    # The verdict's own trace holds the same entries (in its reading order).
    by_rule = {entry.rule: entry for entry in evaluation.traced().trace}
    for rule_id in fired:
        _assert_same(by_rule[rule_id], _general_entry(compiled, rule_id, evaluated))


def _assert_same(found: TraceEntry, general: TraceEntry) -> None:
    assert type(found) is TraceEntry
    assert list(found.__dict__.items()) == list(general.__dict__.items())
    assert found.model_fields_set == general.model_fields_set
    assert found.__pydantic_extra__ == general.__pydantic_extra__
    assert found.__pydantic_private__ == general.__pydantic_private__
    assert found.model_dump_json() == general.model_dump_json()
    for mine, theirs in zip(found.derivations, general.derivations, strict=True):
        assert type(mine) is Derivation
        assert list(mine.__dict__.items()) == list(theirs.__dict__.items())
        assert mine.model_fields_set == theirs.model_fields_set
        assert mine.__pydantic_extra__ == theirs.__pydantic_extra__
        assert [type(value) for value in mine.operands.values()] == [
            type(value) for value in theirs.operands.values()
        ]
    assert [type(value) for value in found.facts.values()] == [
        type(value) for value in general.facts.values()
    ]


# --- the tests ----------------------------------------------------------------------------------


@pytest.mark.parametrize("index", range(len(CASES)), ids=[path.stem for path in CASES])
def test_an_example_cases_trace_is_the_trace_the_general_path_builds(index: int) -> None:
    amendments, person, on = list(example_cases())[index]
    for found, general in _entries(amendments, person, on):
        _assert_same(found, general)


def test_a_generated_persons_trace_is_the_trace_the_general_path_builds() -> None:
    shapes: set[str] = set()
    for amendments, person, on in _generated_cases():
        for found, general in _entries(amendments, person, on):
            _assert_same(found, general)
            if found.missing:
                shapes.add("missing")
            if found.overridden_by is not None:
                shapes.add("overridden")
            if found.decisive:
                shapes.add("decisive")
            for derivation in found.derivations:
                for read in derivation.operands:
                    if read.startswith("parameter "):
                        shapes.add("on a day" if " on " in read else "on the evaluation date")
    # The generated persons reach every path the fast paths take.
    assert shapes >= {"missing", "overridden", "decisive", "on a day", "on the evaluation date"}


def test_a_rules_template_lists_a_trace_entrys_fields_in_their_order() -> None:
    compiled = _evaluator().compiled
    for rule_id, shape in compiled.trace_shapes.items():
        assert list(shape.template) == list(TraceEntry.model_fields), rule_id
        assert shape.template["rule"] == rule_id


def test_a_parameter_read_on_an_unknown_day_is_named_so_and_has_no_value() -> None:
    evaluator = _evaluator()
    compiled = evaluator.compiled
    # A person without trips on a day when no overstay ended: the fine is read on no day.
    evaluation = evaluator.evaluate_case({"person_id": "p", "citizenship": "RU"}, "2025-06-01", trace=False)
    assert evaluation._traced is not None
    case = evaluation._traced.args[2]
    unknown = 0
    for names in set(compiled.derives.values()):
        found = derivations(compiled, names, case)
        general = _general_derivations(compiled, names, case)
        assert [list(item.__dict__.items()) for item in found] == [
            list(item.__dict__.items()) for item in general
        ]
        for derivation in found:
            for read, value in derivation.operands.items():
                if read.endswith(" on an unknown day"):
                    assert value is None
                    unknown += 1
    assert unknown  # the policy reads a parameter on the day a fact gives, here unknown


_plain = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(-(10**6), 10**6),
    st.text(max_size=5),
    st.dates(),
    st.datetimes(),
    st.decimals(allow_nan=False, allow_infinity=False, places=2),
)
_values = st.recursive(
    _plain,
    lambda inner: st.one_of(
        st.lists(inner, max_size=3).map(tuple),
        st.dictionaries(st.text(max_size=3), inner, max_size=3),
    ),
    max_leaves=8,
)


@settings(max_examples=examples(300), deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(_values)
def test_a_day_or_a_record_is_shown_as_the_general_json_value_shows_it(value: Any) -> None:
    shown, general = json_value(value), _general_json_value(value)
    assert shown == general
    assert repr(shown) == repr(general)  # the same types too (an int is not a float, a list not a tuple)


def _sections_items(value: Any) -> Iterator[Any]:
    """Every checklist item and rule named in a verdict's sections."""
    if isinstance(value, (ChecklistItem, RuleRef)):
        yield value
    elif isinstance(value, BaseModel):  # a programme's section: its report's values are extra
        yield from _sections_items(value.__pydantic_extra__ or {})
    elif isinstance(value, (list, tuple)):
        for item in value:
            yield from _sections_items(item)
    elif isinstance(value, dict):
        for item in value.values():
            yield from _sections_items(item)


def test_a_checklist_item_or_a_rule_named_in_a_section_is_the_validated_one() -> None:
    kinds: set[type[Any]] = set()
    for amendments, person, on in [*example_cases(), *_generated_cases()]:
        try:
            verdict = _evaluator(amendments).evaluate_case(person, on, trace=False).verdict
        except (rules.InputError, rules.EvaluationError):
            continue
        for item in _sections_items(verdict.__pydantic_extra__):
            validated = type(item)(**item.__dict__)
            assert list(item.__dict__.items()) == list(validated.__dict__.items())
            assert item.model_fields_set == validated.model_fields_set
            assert item.__pydantic_extra__ == validated.__pydantic_extra__
            assert item.model_dump_json() == validated.model_dump_json()
            kinds.add(type(item))
    assert kinds == {ChecklistItem, RuleRef}


def test_a_rule_is_in_force_on_the_days_it_and_every_rule_it_refines_cover() -> None:
    compiled = _evaluator().compiled
    days = sorted(
        {day for rule in compiled.rules.values() for day in (rule.start, rule.end) if day is not None}
    )
    probes = {day + dt.timedelta(days=shift) for day in days for shift in (-1, 0, 1)}
    for rule_id, rule in compiled.rules.items():
        start, end = compiled.in_force[rule_id]
        for day in probes:
            expected = all(link.in_force(day) for link in chain(rule, compiled.rules))
            assert (start <= day and (end is None or day <= end)) == expected, (rule_id, day)
