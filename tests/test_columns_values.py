"""Every computed fact of a block of travellers, as coded columns (``rules.columns.values``), is
record for record the value the record engine's case computes: the same value, the same missing
inputs, gaps and provisional sources, under the shipped law and the 60-day amendment."""

from __future__ import annotations

import datetime as dt
from typing import Any

import numpy as np
import pytest
from budget import examples
from columns_blocks import VERSIONS, block, population_travellers, travellers, versions
from hypothesis import given, settings
from hypothesis import strategies as st

import rules
from models.person import Person
from rules.columns.values import BlockFacts, Coded, NotColumnar, combined
from rules.engine.case import Case
from rules.engine.computation import NONE, Val


@pytest.fixture(scope="module")
def evaluators() -> dict[str, rules.Evaluator]:
    return versions()


def _block_facts(evaluator: rules.Evaluator, persons: list[Person], as_of: dt.date) -> tuple[BlockFacts, Any]:
    facts = block(evaluator.mechanisms["stay"], persons, as_of)
    return BlockFacts(evaluator.compiled, as_of, len(persons), {"stay": facts.coded()}), facts


def _case(evaluator: rules.Evaluator, person: Person, as_of: dt.date) -> Case:
    case = Case(evaluator.compiled, person, {}, as_of)
    case.mechanism_facts["stay"] = evaluator.mechanisms["stay"].derive(person, as_of).facts
    return case


def _check(evaluator: rules.Evaluator, persons: list[Person], as_of: dt.date) -> int:
    block, facts = _block_facts(evaluator, persons, as_of)
    compiled = evaluator.compiled
    computed = [name for name, spec in compiled.specs.items() if spec.origin != "input"]
    checked = 0
    for name in computed:
        try:
            column = block.fact(name)
        except NotColumnar:
            continue
        for index, person in enumerate(persons):
            if not facts.in_scope[index]:
                continue
            expected = _case(evaluator, person, as_of).fact(name)
            assert column.at(index) == expected, f"{name} of record {index}"
            checked += 1
    return checked


@settings(max_examples=examples(60), deadline=None)
@given(
    st.lists(travellers(), min_size=1, max_size=12),
    st.dates(dt.date(2023, 1, 1), dt.date(2027, 12, 31)),
    st.sampled_from(VERSIONS),
)
def test_any_day_every_computed_fact_of_travellers_is_the_record_engines(
    evaluators: dict[str, rules.Evaluator], persons: list[Person], as_of: dt.date, version: str
) -> None:
    _check(evaluators[version], persons, as_of)


def test_2026_06_01_population_travellers_computed_facts_are_the_record_engines(
    evaluators: dict[str, rules.Evaluator],
) -> None:
    persons = population_travellers(400)
    assert _check(evaluators["shipped"], persons, dt.date(2026, 6, 1)) > 0


def test_the_sanctions_facts_are_computed_once_per_distinct_day_of_the_offence_not_per_record(
    evaluators: dict[str, rules.Evaluator],
) -> None:
    trips = [{"entry": "2026-01-01", "exit": "2026-05-01"}]
    persons = [
        Person.model_validate({"person_id": f"P-{index}", "citizenship": "US", "trips": trips})
        for index in range(50)
    ]
    block, _ = _block_facts(evaluators["shipped"], persons, dt.date(2026, 6, 1))
    fine = block.fact("sanction.applied_evasion_fine_mci")
    assert len(fine.vals) == 1 and fine.at(49).value is not None


def test_combined_codes_number_each_distinct_combination_once() -> None:
    first = Coded(np.array([0, 1, 1, 0, 1], dtype=np.int64), (NONE, Val(1)))
    second = Coded(np.array([2, 0, 0, 2, 1], dtype=np.int64), (NONE, Val(1), Val(2)))
    inverse, firsts = combined([first, second], 5)
    assert len(firsts) == 3
    assert inverse[0] == inverse[3] and inverse[1] == inverse[2] and len(set(inverse.tolist())) == 3
