"""The twelfth round's short paths of the stay limit, against the paths they stand in for.

* the first overstay day of a run is found a piece of the run at a time
  (``_first_over_in_run``) instead of by bisection (``_first_over``), and the runs after one
  whose window holds few days are skipped (``_window_over_swept``): the same days;
* the stay section with figures is built with every field in its declaration order: the same
  model, field for field, as building it from the fields given.
"""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

from hypothesis import given
from hypothesis import strategies as st
from test_fast_paths_stay import SETTINGS
from window_runs import window_over

from models.person import Person
from models.verdict import StayResult, StayStatus, built
from rules.policy.loader import load_policy
from rules.stay.limit import StayLimit
from rules.stay.window import (
    Schedule,
    WindowRules,
    _first_over,
    _first_over_in_run,
    _Runs,
    _window_over_swept,
)

ROOT = Path(__file__).resolve().parents[1]
POPULATION = ROOT / "examples" / "persons" / "generated-2026.jsonl"


@st.composite
def held_runs(draw: st.DrawFn) -> _Runs:
    spans = []
    day = draw(st.integers(0, 50))
    for _ in range(draw(st.integers(1, 10))):
        length = draw(st.one_of(st.integers(1, 5), st.integers(6, 60)))
        spans.append((day, day + length - 1))
        day += length + draw(st.one_of(st.integers(1, 3), st.integers(4, 90)))
    return _Runs.of(spans)


@SETTINGS
@given(held_runs(), st.integers(1, 120), st.integers(1, 80))
def test_the_first_day_over_a_run_walked_in_pieces_is_the_bisected_one(held, window, limit):
    for index, (first, last) in enumerate(zip(held.firsts, held.lasts, strict=True)):
        expected = _first_over(first, last, held.upto, window, limit)
        if expected is not None:
            assert _first_over_in_run(held, index, window, limit) == expected


@SETTINGS
@given(held_runs(), st.integers(1, 120), st.integers(1, 80))
def test_skipping_runs_finds_the_days_over_the_limit_of_every_run(held, window, limit):
    rules = WindowRules(0, Schedule("limit", (-1000,), (limit,)), Schedule("window", (-1000,), (window,)))
    expected: list[tuple[int, int]] = []
    window_over(held, rules, expected)
    found: list[tuple[int, int]] = []
    _window_over_swept(held, limit, window, found)
    assert found == expected


def test_the_stay_section_is_the_model_built_from_its_fields():
    stay = StayLimit(load_policy())
    people = [Person.model_validate(json.loads(line)) for line in POPULATION.read_text().splitlines()[:400]]
    shown = 0
    for on in (dt.date(2026, 1, 15), dt.date(2026, 7, 1)):
        for person in people:
            derived = stay.derive_stay(person, on)
            if derived.figures is None:
                continue
            for status in (StayStatus.COMPLIANT, StayStatus.OVERSTAY, StayStatus.UNDETERMINED):
                section = stay.result(derived, status, ("x",))
                fields = dict(section.__dict__)
                expected = built(StayResult, fields)
                assert list(section.__dict__) == list(StayResult.model_fields)
                assert section.__dict__ == expected.__dict__
                assert section.__pydantic_fields_set__ == expected.__pydantic_fields_set__
                assert section.__pydantic_extra__ == expected.__pydantic_extra__
                assert section.__pydantic_private__ == expected.__pydantic_private__
                assert section.model_dump(mode="json") == expected.model_dump(mode="json")
                shown += 1
    assert shown > 100
