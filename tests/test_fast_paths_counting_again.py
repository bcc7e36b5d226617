"""The eleventh round's short path of the stay limit, against the path it stands in for.

A version of the law with another limit or window counts a record again from the runs of
counted days the other version made (:func:`rules.stay.window.count_again`), without reading
its trips again: it must give what counting the trips under it gives, and decline (``None``)
whenever the runs would be other ones (another day counting starts, exit day, per-entry cap).
"""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st
from test_fast_paths_stay import SETTINGS, START, _figures, laws, records
from test_fast_paths_trips_counted_as_read import _dated

from models.person import Person
from rules.policy.loader import load_policy
from rules.stay.limit import StayLimit
from rules.stay.window import NoValueInForce, WindowRules, count_again, count_trips

ROOT = Path(__file__).resolve().parents[1]
SIXTY_DAYS = ROOT / "examples" / "amendments" / "limit-60-days.yaml"
POPULATION = ROOT / "examples" / "persons" / "generated-2026.jsonl"


@SETTINGS
@given(records(), laws(), laws(), st.one_of(st.none(), st.integers(1, 30)), st.booleans())
def test_counting_again_from_the_runs_gives_what_counting_the_trips_gives(
    record, first_law, second_law, other_cap, same_cap
):
    spans, as_of, _ = record
    cap = spans[0].per_entry_cap if spans else None
    trips = _dated(spans)
    try:
        made, _ = count_trips(trips, as_of, first_law, cap)
    except NoValueInForce:
        return
    cap_again = cap if same_cap else other_cap
    try:
        expected = count_trips(trips, as_of, second_law, cap_again)
    except NoValueInForce:
        expected = None
    try:
        again = count_again(made, as_of, second_law, cap_again)
    except NoValueInForce:
        assert expected is None  # the same terms are missing, whichever way it counts
        return
    same_runs = second_law.count_exit_day == first_law.count_exit_day and cap_again == cap
    assert (again is not None) == same_runs
    if again is not None:
        assert expected is not None
        assert (_figures(lambda: again[0]), again[1]) == (_figures(lambda: expected[0]), expected[1])
        assert again[0] == expected[0]


@given(records(), laws())
def test_runs_of_another_day_or_counting_start_are_not_counted_again(record, law):
    spans, as_of, _ = record
    trips = _dated(spans)
    try:
        made, _ = count_trips(trips, as_of, law, None)
    except NoValueInForce:
        return
    later_start = WindowRules(START + 1, law.limits, law.windows, law.count_exit_day)
    assert count_again(made, as_of, later_start, None) is None
    assert count_again(made, as_of + 1, law, None) is None


def _people() -> list[Person]:
    return [Person.model_validate(json.loads(line)) for line in POPULATION.read_text().splitlines() if line]


@pytest.mark.parametrize("on", ["2026-01-15", "2026-03-20", "2026-07-01"])
def test_2026_a_sixty_day_limit_counts_each_record_again_as_it_counts_it_afresh(on: str) -> None:
    baseline = StayLimit(load_policy())
    amended = StayLimit(load_policy(None, [SIXTY_DAYS]))
    day = dt.date.fromisoformat(on)
    reused = 0
    for person in _people():
        try:
            before = baseline.derive_stay(person, day)
            fresh = amended.derive_stay(person, day)
        except Exception as error:  # noqa: BLE001 - both ways must fail alike
            with pytest.raises(type(error)):
                amended.derive_stay(person, day, baseline.derive_stay(person, day).figures)
            continue
        again = amended.derive_stay(person, day, before.figures)
        assert again == fresh
        made = before.figures.runs if before.figures is not None else None
        reused += made is not None and again.figures is not None and again.figures.runs is made
    assert reused > 1000  # the short path was taken, not only declined
