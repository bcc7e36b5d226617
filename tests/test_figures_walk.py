"""The figures an impact analysis compares, read off a verdict's models as they are, are the
figures its sections' dumps give: the same names, in the same order, of the same values and the
same exact types (a status member, a tuple of periods as dicts by alias, a list of rule
references)."""

from __future__ import annotations

import datetime as dt
import functools
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from budget import examples
from hypothesis import given, settings
from hypothesis import strategies as st

import rules
from models.verdict import ProgrammeSection, Verdict, copied
from rules.analysis.figures import dumped_figures, figures

ROOT = Path(__file__).resolve().parent.parent
from sample_cases import bench_evaluate, generated_cases  # noqa: E402


def _typed(value: Any) -> Any:
    """``value`` with the exact type of every part: ``StayStatus.overstay`` is not ``"overstay"``."""
    if isinstance(value, dict):
        return ("dict", tuple((key, _typed(item)) for key, item in value.items()))
    if isinstance(value, list | tuple):
        return (type(value).__name__, tuple(_typed(item) for item in value))
    return (type(value).__name__, repr(value))


@functools.cache
def _evaluator(amendments: tuple[str, ...]) -> rules.Evaluator:
    files = [ROOT / "examples" / "amendments" / name for name in amendments]
    return rules.Evaluator(rules.load_policy(amendments=files) if files else rules.load_policy())


def _cases() -> Iterator[tuple[tuple[str, ...], Any, dt.date]]:
    yield from generated_cases(120, 200, 12, ("limit-60-days.yaml",))
    for path in sorted((ROOT / "examples" / "persons").glob("*.jsonl")):
        for line in path.read_text(encoding="utf-8").splitlines()[:60]:
            if line.strip():
                yield (), json.loads(line), dt.date(2026, 3, 20)


def _verdicts() -> Iterator[Verdict]:
    for amendments, person, on in _cases():
        try:
            yield _evaluator(amendments).evaluate_case(person, on, trace=False, undecided="omit").verdict
        except (rules.InputError, rules.EvaluationError):
            continue


def test_2026_generated_travellers_applicants_and_families_give_the_figures_of_their_dumps() -> None:
    seen = 0
    for verdict in _verdicts():
        assert _typed(figures(verdict)) == _typed(dumped_figures(verdict))
        seen += 1
    assert seen > 500


def test_a_verdict_with_its_trace_gives_the_figures_of_the_same_verdict_without_it() -> None:
    person, on = bench_evaluate.realistic_person(), bench_evaluate.AS_OF
    evaluation = _evaluator(()).evaluate_case(person, on, trace=False)
    assert _typed(figures(evaluation.traced())) == _typed(figures(evaluation.verdict))


_REPORTED = st.recursive(
    st.one_of(
        st.none(),
        st.integers(),
        st.booleans(),
        st.text(max_size=4),
        st.dates(),
        st.decimals(allow_nan=False, allow_infinity=False),
    ),
    lambda inner: st.one_of(
        st.lists(inner, max_size=3),
        st.tuples(inner, inner),
        st.dictionaries(st.sampled_from(["a", "b", "title", "note", "points"]), inner, max_size=3),
    ),
    max_leaves=8,
)


@settings(max_examples=examples(200), deadline=None)
@given(st.dictionaries(st.sampled_from(["points", "pass_mark", "source", "list", "by"]), _REPORTED))
def test_a_section_reporting_any_values_gives_the_figures_of_its_dump(reported: dict[str, Any]) -> None:
    verdict = _evaluator(()).evaluate(bench_evaluate.residence_applicant(), bench_evaluate.RESIDENCE_ON)
    section = verdict.section("residence")
    assert section is not None
    extended = ProgrammeSection.model_validate({**section.model_dump(), **reported})
    changed = copied(verdict, {})
    assert changed.__pydantic_extra__ is not None
    changed.__pydantic_extra__["residence"] = extended
    assert _typed(figures(changed)) == _typed(dumped_figures(changed))


@pytest.mark.parametrize("odd", [{1, 2}, frozenset({"a"}), b"bytes", 1.5j])
def test_a_section_holding_a_value_the_walk_does_not_know_is_read_through_its_dump(odd: Any) -> None:
    verdict = _evaluator(()).evaluate(bench_evaluate.residence_applicant(), bench_evaluate.RESIDENCE_ON)
    section = verdict.section("residence")
    assert section is not None
    extended = ProgrammeSection.model_construct(**{**dict(section), "odd": odd})
    changed = copied(verdict, {})
    assert changed.__pydantic_extra__ is not None
    changed.__pydantic_extra__["residence"] = extended
    assert _typed(figures(changed)) == _typed(dumped_figures(changed))
    assert "residence.odd" in figures(changed)
