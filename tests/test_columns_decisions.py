"""What the programmes decide for a block of travellers, once per distinct combination of the
facts their rules read (``rules.columns.decisions``), is record for record what the record
engine decides for each record's own case: the statuses, the deciding rules, the missing facts,
the gaps, the rules fired and set aside, the programmes a guard ruled out."""

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
from rules.columns.decisions import decide
from rules.columns.values import BlockFacts
from rules.engine.case import Case


@pytest.fixture(scope="module")
def evaluators() -> dict[str, rules.Evaluator]:
    return versions()


def _shown(decided: dict[str, Any]) -> dict[str, Any]:
    return {
        name: (found.status, tuple(rule.id for rule in found.rules), found.missing, dict(found.gaps))
        for name, found in decided.items()
    }


def _check(evaluator: rules.Evaluator, persons: list[Person], as_of: dt.date) -> int:
    """Every record in scope has its own case's decisions; returns how many combinations."""
    facts = block(evaluator.mechanisms["stay"], persons, as_of)
    rows = np.flatnonzero(facts.in_scope)
    taken = BlockFacts(evaluator.compiled, as_of, len(rows), {"stay": facts.taken(rows).coded()})
    rounds = evaluator.plan({}).rounds
    decisions = decide(evaluator, taken, rounds)
    for index, row in enumerate(rows):
        person = persons[int(row)]
        case = Case(evaluator.compiled, person, {}, as_of)
        case.mechanism_facts["stay"] = evaluator.mechanisms["stay"].derive(person, as_of).facts
        fired, guarded, decided, overridden_by, left_out = evaluator.decided(rounds, case)
        found = decisions.combinations[int(decisions.codes[index])]
        assert _shown(found.decided) == _shown(decided), f"record {index}: {person!r}"
        assert (list(found.fired), found.overridden_by, set(found.guarded), found.left_out) == (
            fired,
            overridden_by,
            guarded,
            left_out,
        ), f"record {index}"
    return len(decisions.combinations)


@settings(max_examples=examples(80), deadline=None)
@given(
    st.lists(travellers(), min_size=1, max_size=15),
    st.dates(dt.date(2022, 12, 1), dt.date(2027, 12, 31)),
    st.sampled_from(VERSIONS),
)
def test_any_day_travellers_decisions_are_their_own_cases(
    evaluators: dict[str, rules.Evaluator], persons: list[Person], as_of: dt.date, version: str
) -> None:
    _check(evaluators[version], persons, as_of)


@pytest.mark.parametrize("version", VERSIONS)
def test_2026_06_01_population_travellers_decisions_are_their_own_cases_with_few_combinations(
    evaluators: dict[str, rules.Evaluator], version: str
) -> None:
    persons = population_travellers(2000)
    combinations = _check(evaluators[version], persons, dt.date(2026, 6, 1))
    assert combinations < len(persons) / 10


def test_2024_08_01_a_kyrgyz_traveller_entering_over_the_limit_has_refusal_suspended(
    evaluators: dict[str, rules.Evaluator],
) -> None:
    person = Person.model_validate(
        {
            "person_id": "P-1",
            "citizenship": "KG",
            "trips": [{"entry": "2024-04-01", "exit": "2024-07-20"}, {"entry": "2024-08-01"}],
        }
    )
    as_of = dt.date(2024, 8, 1)
    evaluator = evaluators["shipped"]
    facts = block(evaluator.mechanisms["stay"], [person], as_of)
    decisions = decide(
        evaluator,
        BlockFacts(evaluator.compiled, as_of, 1, {"stay": facts.coded()}),
        evaluator.plan({}).rounds,
    )
    assert decisions.status("entry").at(0).value == "suspended"
    assert decisions.status("stay").at(0).value == "overstay"
