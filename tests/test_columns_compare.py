"""A block of travellers compared as columns (``rules.columns.compare``): every record the
columns find unchanged has exactly the outcome ``kzmig compare`` gives it record by record, on
every date, grouped by a fact; a record they leave to the record engine is one that changed or
that they do not cover."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest
from budget import examples
from columns_blocks import as_travellers, reference_count, travellers
from hypothesis import given, settings
from hypothesis import strategies as st

from models.person import Person
from rules.analysis.population import PolicySpec, built_comparison, compare_record
from rules.columns.compare import compared_block

AMENDMENTS = Path(__file__).resolve().parents[1] / "examples" / "amendments"
AMENDED = ("limit-60-days.yaml", "sanction-fines-doubled.yaml")


@pytest.fixture(scope="module")
def comparisons() -> dict[str, object]:
    return {
        name: built_comparison(PolicySpec.of_files(None), PolicySpec.of_files(None, [str(AMENDMENTS / name)]))
        for name in AMENDED
    }


def _check(comparison: object, persons: list[Person], dates: list[dt.date], group_by: tuple[str, ...]) -> int:
    """Every record the columns answer has the record engine's outcomes; returns how many."""
    found = compared_block(comparison, as_travellers(persons), dates, group_by, reference_count)  # type: ignore[arg-type]
    answered = 0
    for index, person in enumerate(persons):
        outcomes = found[index]
        expected = compare_record(
            comparison,
            index,
            person.model_dump(mode="json", exclude_none=True, exclude_defaults=True),
            dates,
            group_by,
        )  # type: ignore[arg-type]
        if outcomes is None:
            continue
        answered += 1
        assert outcomes == expected, f"record {index}: {person!r}"
    return answered


@settings(max_examples=examples(40), deadline=None)
@given(
    st.lists(travellers(), min_size=1, max_size=12),
    st.lists(st.dates(dt.date(2023, 1, 1), dt.date(2027, 12, 31)), min_size=1, max_size=2, unique=True),
    st.sampled_from(AMENDED),
)
def test_any_days_travellers_the_columns_find_unchanged_have_the_record_engines_outcomes(
    comparisons: dict[str, object], persons: list[Person], dates: list[dt.date], amendment: str
) -> None:
    _check(comparisons[amendment], persons, dates, ("stay.regime",))


@pytest.mark.parametrize("amendment", AMENDED)
def test_2026_06_01_population_travellers_most_are_answered_by_the_columns_as_by_the_record_engine(
    comparisons: dict[str, object], amendment: str
) -> None:
    from bench_population import population_records

    persons = [
        Person.model_validate(record)
        for record in population_records(600, 2026)
        if set(record) <= {"person_id", "citizenship", "trips"}
    ]
    answered = _check(comparisons[amendment], persons, [dt.date(2026, 6, 1)], ())
    # The rest changed (their why is the record engine's), or are out of scope (China).
    assert answered > 0.6 * len(persons)
