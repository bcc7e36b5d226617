"""The figures the columns make for each traveller of a block (``rules.columns.figures``) are
record for record those the analysis reads off the record engine's verdict: the stay's status
and count, the sanction and its values, the check at entry, the registration due, the regime."""

from __future__ import annotations

import datetime as dt

import pytest
from budget import examples
from columns_blocks import VERSIONS, decided_figures, population_travellers, travellers, versions
from hypothesis import given, settings
from hypothesis import strategies as st

import rules
from models.person import Person
from rules.analysis.figures import figures


@pytest.fixture(scope="module")
def evaluators() -> dict[str, rules.Evaluator]:
    return versions()


def _check(evaluator: rules.Evaluator, persons: list[Person], as_of: dt.date) -> int:
    rows, found = decided_figures(evaluator, persons, as_of)
    for index, row in enumerate(rows):
        person = persons[int(row)]
        verdict = evaluator.evaluate_with_facts(person, as_of, (), trace=False)[0]
        assert found[index] == figures(verdict), f"record {int(row)}: {person!r}"
    return len(rows)


@settings(max_examples=examples(120), deadline=None)
@given(
    st.lists(travellers(), min_size=1, max_size=15),
    st.dates(dt.date(2022, 12, 1), dt.date(2027, 12, 31)),
    st.sampled_from(VERSIONS),
)
def test_any_day_travellers_figures_are_those_of_their_verdicts(
    evaluators: dict[str, rules.Evaluator], persons: list[Person], as_of: dt.date, version: str
) -> None:
    _check(evaluators[version], persons, as_of)


@pytest.mark.parametrize("version", VERSIONS)
def test_2026_06_01_population_travellers_figures_are_those_of_their_verdicts(
    evaluators: dict[str, rules.Evaluator], version: str
) -> None:
    persons = population_travellers(1500)
    # Out of scope: the nationalities whose regime changed over the days counted (China).
    assert _check(evaluators[version], persons, dt.date(2026, 6, 1)) > 0.9 * len(persons)


@settings(max_examples=examples(80), deadline=None)
@given(st.lists(travellers(), min_size=1, max_size=15), st.dates(dt.date(2023, 1, 1), dt.date(2027, 12, 31)))
def test_any_day_a_record_is_alike_under_two_versions_exactly_when_no_figure_of_its_changed(
    evaluators: dict[str, rules.Evaluator], persons: list[Person], as_of: dt.date
) -> None:
    from rules.analysis.impact import changed_figures

    rows, old = decided_figures(evaluators["shipped"], persons, as_of)
    other_rows, new = decided_figures(evaluators["60 days"], persons, as_of)
    common = sorted(set(rows.tolist()) & set(other_rows.tolist()))
    mine = [rows.tolist().index(row) for row in common]
    theirs = [other_rows.tolist().index(row) for row in common]
    alike = old.taken(mine).same(new.taken(theirs)) if common else []
    for position, row in enumerate(common):
        expected = not changed_figures(old[mine[position]], new[theirs[position]])
        assert bool(alike[position]) is expected, f"record {row}: {persons[row]!r}"


def test_2026_03_20_the_60_day_limit_changes_some_population_travellers_figures_and_not_others(
    evaluators: dict[str, rules.Evaluator],
) -> None:
    persons = population_travellers(1500)
    rows, old = decided_figures(evaluators["shipped"], persons, dt.date(2026, 3, 20))
    other_rows, new = decided_figures(evaluators["60 days"], persons, dt.date(2026, 3, 20))
    assert rows.tolist() == other_rows.tolist()
    alike = old.same(new)
    from rules.analysis.impact import changed_figures

    assert alike.tolist() == [not changed_figures(old[i], new[i]) for i in range(len(rows))]
    assert 0 < int((~alike).sum()) < len(rows) // 2
