"""The figures the columns make for each traveller of a block (``rules.columns.figures``) are
record for record those the analysis reads off the record engine's verdict: the stay's status
and count, the sanction and its values, the check at entry, the registration due, the regime."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest
from columns_blocks import decided_figures, travellers
from hypothesis import given, settings
from hypothesis import strategies as st

import rules
from models.person import Person
from rules.analysis.figures import figures

LIMIT_60 = Path(__file__).resolve().parents[1] / "examples" / "amendments" / "limit-60-days.yaml"


@pytest.fixture(scope="module")
def evaluators() -> dict[str, rules.Evaluator]:
    return {
        "shipped": rules.Evaluator(rules.load_policy()),
        "60 days": rules.Evaluator(rules.load_policy(amendments=[LIMIT_60])),
    }


def _check(evaluator: rules.Evaluator, persons: list[Person], as_of: dt.date) -> int:
    rows, found = decided_figures(evaluator, persons, as_of)
    for index, row in enumerate(rows):
        person = persons[int(row)]
        verdict = evaluator.evaluate_with_facts(person, as_of, (), trace=False)[0]
        assert found[index] == figures(verdict), f"record {int(row)}: {person!r}"
    return len(rows)


@settings(max_examples=120, deadline=None)
@given(
    st.lists(travellers(), min_size=1, max_size=15),
    st.dates(dt.date(2022, 12, 1), dt.date(2027, 12, 31)),
    st.sampled_from(["shipped", "60 days"]),
)
def test_any_day_travellers_figures_are_those_of_their_verdicts(
    evaluators: dict[str, rules.Evaluator], persons: list[Person], as_of: dt.date, version: str
) -> None:
    _check(evaluators[version], persons, as_of)


@pytest.mark.parametrize("version", ["shipped", "60 days"])
def test_2026_06_01_population_travellers_figures_are_those_of_their_verdicts(
    evaluators: dict[str, rules.Evaluator], version: str
) -> None:
    from bench_population import population_records

    persons = [
        Person.model_validate(record)
        for record in population_records(1500, 2026)
        if set(record) <= {"person_id", "citizenship", "trips"}
    ]
    # Out of scope: the nationalities whose regime changed over the days counted (China).
    assert _check(evaluators[version], persons, dt.date(2026, 6, 1)) > 0.9 * len(persons)
