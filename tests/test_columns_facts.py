"""The stay facts of a block of travellers as columns (``rules.columns.facts``) are, record for
record, those ``StayLimit.derive_stay`` gives, under the shipped law and the 60-day amendment;
and a record whose facts the columns cannot give is out of scope, never wrong.

The count the facts are made from is the record engine's own (``count_trips``, flattened here):
these tests hold the facts, not the count (``tests/test_columns_counting.py`` holds that)."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from budget import examples
from columns_blocks import VERSIONS, block, population_travellers, travellers, versions
from hypothesis import given, settings
from hypothesis import strategies as st

import rules
from models.person import Person
from rules.stay.limit import StayLimit


@pytest.fixture(scope="module")
def mechanisms() -> dict[str, StayLimit]:
    return {name: evaluator.mechanisms["stay"] for name, evaluator in versions().items()}  # type: ignore[misc]


def _expected(stay: StayLimit, person: Person, as_of: dt.date) -> dict[str, Any] | None:
    """``derive_stay``'s facts, or ``None`` where the record engine raises."""
    try:
        return dict(stay.derive_stay(person, as_of).fact)
    except rules.KzmigError:
        return None


def _check(stay: StayLimit, persons: list[Person], as_of: dt.date) -> int:
    """Every record in scope has the record engine's facts; returns how many were."""
    facts = block(stay, persons, as_of)
    taken = 0
    for index, person in enumerate(persons):
        expected = _expected(stay, person, as_of)
        if not facts.in_scope[index]:
            continue
        taken += 1
        assert expected is not None, f"record {index} is in scope, but the record engine raises"
        assert facts.row(index) == expected, f"record {index}: {person!r}"
    return taken


@settings(max_examples=examples(150), deadline=None)
@given(
    st.lists(travellers(), min_size=1, max_size=25),
    st.dates(dt.date(2022, 12, 1), dt.date(2027, 12, 31)),
    st.sampled_from(VERSIONS),
)
def test_any_day_travellers_without_status_have_the_record_engines_stay_facts(
    mechanisms: dict[str, StayLimit], persons: list[Person], as_of: dt.date, version: str
) -> None:
    _check(mechanisms[version], persons, as_of)


@pytest.mark.parametrize("version", VERSIONS)
def test_2026_06_01_population_travellers_have_the_record_engines_stay_facts_and_most_are_in_scope(
    mechanisms: dict[str, StayLimit], version: str
) -> None:
    persons = population_travellers(3000)
    taken = _check(mechanisms[version], persons, dt.date(2026, 6, 1))
    assert taken >= 0.9 * len(persons)  # out of scope: China, whose regime changed


def test_2022_06_01_before_the_limit_nothing_is_counted_and_every_record_is_in_scope(
    mechanisms: dict[str, StayLimit],
) -> None:
    person = Person.model_validate(
        {"person_id": "P-1", "citizenship": "US", "trips": [{"entry": "2022-01-01", "exit": "2022-05-01"}]}
    )
    facts = block(mechanisms["shipped"], [person], dt.date(2022, 6, 1))
    assert facts.in_scope.all() and not facts.counted.any()
    assert facts.row(0) == _expected(mechanisms["shipped"], person, dt.date(2022, 6, 1))


def test_2026_06_01_a_nationality_missing_from_the_regime_table_is_left_to_the_record_engine(
    mechanisms: dict[str, StayLimit],
) -> None:
    person = Person.model_validate(
        {"person_id": "P-1", "citizenship": "AQ", "trips": [{"entry": "2026-05-01", "exit": "2026-05-10"}]}
    )
    stay = mechanisms["shipped"]
    recorded, _, _ = stay.regime_on("AQ", dt.date(2026, 6, 1).toordinal())
    facts = block(stay, [person], dt.date(2026, 6, 1))
    assert bool(facts.in_scope[0]) is recorded
