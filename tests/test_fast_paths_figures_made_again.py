"""Equivalence tests of the thirteenth round's fast paths of the stay limit: ``rederive``
making again only the figures when the versions differ only by the count's parameters, and
:func:`rules.stay.window.count_same_again` counting again the runs of a count of spans (with
exemptions or per-trip caps), each against the path it replaces."""

from __future__ import annotations

import dataclasses
import datetime as dt
import json
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st
from test_fast_paths_stay import SETTINGS, _figures, laws, records

from models.person import Person
from rules.errors import KzmigError
from rules.policy.loader import load_policy
from rules.policy.mechanisms import Derived
from rules.stay.limit import _COUNTED, StayDerived, StayLimit
from rules.stay.window import ExemptPeriod, NoValueInForce, count_same_again, count_stay

ROOT = Path(__file__).resolve().parents[1]
SIXTY_DAYS = ROOT / "examples" / "amendments" / "limit-60-days.yaml"
POPULATION = ROOT / "examples" / "persons" / "generated-2026.jsonl"


def _reference(amended: StayLimit, derived: Derived, as_of: dt.date) -> dict[str, Any] | None:
    """What rederive gave before this round: the count made again in full, every field compared."""
    before: StayDerived = derived.state
    after = amended.derive_stay(derived.person, as_of, before.figures)
    if any(getattr(after, name) != getattr(before, name) for name in _COUNTED):
        return None
    return {"limit": after.limit, "window": after.window}


@pytest.mark.parametrize("on", ["2026-01-15", "2026-03-20", "2026-07-01"])
def test_rederive_under_a_sixty_day_limit_answers_as_the_full_count(on: str) -> None:
    baseline = StayLimit(load_policy())
    amended = StayLimit(load_policy(None, [SIXTY_DAYS]))
    day = dt.date.fromisoformat(on)
    people = [Person.model_validate(json.loads(line)) for line in POPULATION.read_text().splitlines() if line]
    answers = {"none": 0, "same": 0}
    for person in people:
        try:
            derived = baseline.derive(person, day)
        except KzmigError:
            continue
        try:
            expected = _reference(amended, derived, day)
        except KzmigError as error:
            with pytest.raises(type(error)):
                amended.rederive(derived, day, baseline, {"stay.limit_days"})
            continue
        found = amended.rederive(derived, day, baseline, {"stay.limit_days"})
        assert found == expected
        answers["none" if found is None else "same"] += 1
    assert amended._alike is not None and amended._alike[1]  # the fast path was taken
    assert answers["none"] and answers["same"]  # both answers were seen


def test_a_version_that_differs_in_a_regime_table_or_its_name_is_counted_in_full() -> None:
    policy = load_policy()
    baseline = StayLimit(policy)
    assert StayLimit(load_policy(None, [SIXTY_DAYS]))._counts_alike(baseline)
    regimes = policy.tables["stay.regimes"]
    fewer = regimes.model_copy(update={"rows": dict(list(regimes.rows.items())[:-1])})
    other = StayLimit(policy)
    other.policy = dataclasses.replace(policy, tables={**policy.tables, "stay.regimes": fewer})
    assert not other._counts_alike(baseline)
    other.policy = dataclasses.replace(policy, name="another")
    assert not other._counts_alike(baseline)


@SETTINGS
@given(records(), laws(), laws(), st.lists(st.tuples(st.integers(-20, 200), st.integers(0, 60)), max_size=3))
def test_counting_spans_again_from_their_runs_gives_what_counting_them_gives(
    record, first_law, second_law, covers
):
    spans, as_of, _ = record
    start = spans[0].entry if spans else as_of
    exempt = [
        ExemptPeriod(f"r{index % 2}", start + at, start + at + length)
        for index, (at, length) in enumerate(covers)
    ]
    try:
        made = count_stay(spans, as_of, first_law, exempt)
    except NoValueInForce:
        return
    try:
        expected = count_stay(spans, as_of, second_law, exempt)
    except NoValueInForce:
        expected = None
    try:
        again = count_same_again(made, as_of, second_law)
    except NoValueInForce:
        assert expected is None
        return
    same_runs = (
        second_law.count_exit_day == first_law.count_exit_day
        and second_law.counting_starts == first_law.counting_starts
    )
    if made.runs is None:
        assert again is None  # counted day by day: no runs to count again
        return
    assert (again is not None) == same_runs
    if again is not None:
        assert expected is not None
        assert _figures(lambda: again) == _figures(lambda: expected)
        assert again == expected
