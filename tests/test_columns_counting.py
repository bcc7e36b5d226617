"""The stay count of a block of records as arrays, against the count of one record at a time.

:func:`rules.columns.counting.count_block` counts many travellers at once; every record it
counts must have exactly the figures :func:`rules.stay.window.count_trips` gives it (days used,
counted runs, overstay periods and total, presence, latest exit, trips after the day), under the
shipped policy and the 60-day amendment, for nationalities of several regimes; the records of
uniform terms must all be counted here, and a record it cannot count exactly must be left to the
record engine (``elsewhere``), never given other figures.
"""

from __future__ import annotations

import datetime as dt
from functools import cache
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st
from test_fast_paths_stay import SETTINGS, START, laws

from models.person import Trip
from rules.policy.loader import load_policy
from rules.stay.limit import StayLimit
from rules.stay.window import UNBOUNDED, NoValueInForce, Schedule, WindowRules, count_stay, count_trips

np = pytest.importorskip("numpy")  # the columnar path's extra

from rules.columns.counting import NO_DAY, CountedBlock, CountingTerms, count_block  # noqa: E402  (needs numpy)

ROOT = Path(__file__).resolve().parents[1]
SIXTY_DAYS = ROOT / "examples" / "amendments" / "limit-60-days.yaml"
#: Nationalities of several regimes: eaeu (no cap), visa_free (cap 30), visa_free_14_42,
#: and two whose regime changed over the years (not uniform: CN, TR).
UNIFORM = ("RU", "KG", "US", "DE", "GB", "IN")
CHANGING = ("CN", "TR")
FIRST_DAY = dt.date(2023, 1, 27).toordinal()  # the day counting starts under the shipped law
LAST_DAY = dt.date(2027, 12, 31).toordinal()


@cache
def _stay(amended: bool) -> StayLimit:
    return StayLimit(load_policy(None, [SIXTY_DAYS]) if amended else load_policy())


def _trip(entry: int, exit_: int | None) -> Trip:
    return Trip(entry=dt.date.fromordinal(entry), exit=None if exit_ is None else dt.date.fromordinal(exit_))


@st.composite
def trips(draw: st.DrawFn, as_of: int, reach: int = 1100) -> list[tuple[int, int | None]]:
    """A record's trips around ``as_of``: 0..30 trips, gaps of 0..60 days (0: an exit and a
    re-entry on one day), some entering after ``as_of``, the last one sometimes open."""
    made: list[tuple[int, int | None]] = []
    day = as_of - draw(st.integers(0, reach))
    for _ in range(draw(st.integers(0, 30))):
        length = draw(st.one_of(st.integers(0, 10), st.integers(11, 120)))
        made.append((day, day + length))
        day += length + draw(st.one_of(st.just(0), st.integers(1, 60)))
    if made and draw(st.booleans()):
        made[-1] = (made[-1][0], None)
    return made


@st.composite
def blocks(draw: st.DrawFn) -> tuple[bool, int, list[str], list[list[tuple[int, int | None]]]]:
    """A block of records of several nationalities on one day of 2023-2027, under the shipped
    policy or the 60-day amendment."""
    amended = draw(st.booleans())
    as_of = draw(st.integers(FIRST_DAY, LAST_DAY))
    count = draw(st.integers(0, 12))
    nationalities = [draw(st.sampled_from(UNIFORM + CHANGING)) for _ in range(count)]
    records = [draw(trips(as_of)) for _ in range(count)]
    return amended, as_of, nationalities, records


def _columns(
    records: list[list[tuple[int, int | None]]],
) -> tuple[list[int], list[int], list[int], list[bool]]:
    """The trips as a columnar reader gives them: flat, with where each record's begin."""
    offsets, entry, exit_, has_exit = [0], [], [], []
    for record in records:
        for first, last in record:
            entry.append(first)
            exit_.append(0 if last is None else last)  # not read where there is no exit
            has_exit.append(last is not None)
        offsets.append(len(entry))
    return offsets, entry, exit_, has_exit


def _count(
    records: list[list[tuple[int, int | None]]], group: list[int], terms: list[CountingTerms], as_of: int
) -> CountedBlock:
    return count_block(*_columns(records), np.array(group, np.int64), terms, as_of)


def _same(block: CountedBlock, record: int, expected: Any, later: int) -> None:
    assert block.figures(record) == expected
    assert int(block.overstay[record]) == expected.overstay_count
    assert int(block.later[record]) == later


@SETTINGS
@given(blocks())
def test_a_block_of_travellers_counted_as_arrays_has_each_record_s_own_count(block):
    amended, as_of, nationalities, records = block
    stay = _stay(amended)
    countings = {name: stay._counting(name, as_of) for name in dict.fromkeys(nationalities)}
    names = list(countings)
    terms = [CountingTerms.of(countings[name]) for name in names]
    counted = _count(records, [names.index(name) for name in nationalities], terms, as_of)
    for index, (name, record) in enumerate(zip(nationalities, records, strict=True)):
        counting = countings[name]
        if not counting.course.uniform:
            assert counted.elsewhere[index]  # the record engine counts each trip under its regime
            continue
        assert not counted.elsewhere[index]  # an ordinary record is counted here
        figures, later = count_trips(
            [_trip(*trip) for trip in record], as_of, counting.rules, counting.per_entry, counting.terms
        )
        _same(counted, index, figures, later)


@SETTINGS
@given(blocks())
def test_trips_given_the_cap_of_their_entry_day_are_counted_as_the_stay_mechanism_counts_them(block):
    """A nationality whose regime changed (CN, TR): the caller leaves out the trips entered
    under a regime outside the limit and gives each trip the cap of its entry day, as the stay
    mechanism does before :func:`count_stay`; the figures are that count's."""
    amended, as_of, nationalities, records = block
    stay = _stay(amended)
    given_trips: list[list[tuple[int, int | None]]] = []
    caps: list[int] = []
    expected = []
    for name, record in zip(nationalities, records, strict=True):
        counting = stay._counting(name, as_of)
        trips_ = tuple(_trip(*trip) for trip in record)
        counted, _ = stay._counted_trips(
            SimpleNamespace(trips=trips_), counting.course, dt.date.fromordinal(as_of)
        )
        kept = trips_ if counted is None else counted
        uniform = counting.course.uniform
        trip_caps = [
            counting.per_entry if uniform else stay.per_entry_cap(name, trip.entry.toordinal())
            for trip in kept
        ]
        spans = [
            (entry, as_of if trip.exit is None else trip.exit.toordinal(), trip.exit is not None, cap)
            for trip, cap in zip(kept, trip_caps, strict=True)
            if (entry := trip.entry.toordinal()) <= as_of
        ]
        expected.append(count_stay(spans, as_of, counting.rules, (), counting.terms))
        given_trips.append(
            [(trip.entry.toordinal(), None if trip.exit is None else trip.exit.toordinal()) for trip in kept]
        )
        caps += [-1 if cap is None else cap for cap in trip_caps]
    names = list(dict.fromkeys(nationalities))
    terms = [CountingTerms(stay._counting(name, as_of).rules, None) for name in names]
    counted_block = count_block(
        *_columns(given_trips),
        np.array([names.index(name) for name in nationalities], np.int64),
        terms,
        as_of,
        caps=np.array(caps, np.int64),
    )
    for index, figures in enumerate(expected):
        assert not counted_block.elsewhere[index]
        assert counted_block.figures(index) == figures
        assert int(counted_block.overstay[index]) == figures.overstay_count


@SETTINGS
@given(
    st.data(), st.lists(st.tuples(laws(), st.one_of(st.none(), st.integers(1, 30))), min_size=1, max_size=3)
)
def test_under_any_dated_limit_and_window_a_record_counted_here_is_counted_as_count_trips_counts_it(
    data, law
):
    """Limits and windows dated, lapsing, widening (the tests' own ordinals): a record is
    counted here exactly, or left elsewhere; where ``count_trips`` finds no value in force on a
    day it must judge, elsewhere."""
    as_of = data.draw(st.integers(START - 20, START + 500))
    group = data.draw(st.lists(st.integers(0, len(law) - 1), max_size=8))
    records = [data.draw(trips(as_of, reach=400)) for _ in group]
    terms = [CountingTerms(rules, cap) for rules, cap in law]
    counted = _count(records, group, terms, as_of)
    for index, record in enumerate(records):
        rules, cap = law[group[index]]
        try:
            figures, later = count_trips([_trip(*trip) for trip in record], as_of, rules, cap)
        except NoValueInForce:
            assert counted.elsewhere[index]
            continue
        if not counted.elsewhere[index]:
            _same(counted, index, figures, later)


def _law(limit: int = 90, window: int = 180, exit_day: bool = True, since: int = FIRST_DAY) -> WindowRules:
    return WindowRules(
        since, Schedule("limit", (since,), (limit,)), Schedule("window", (since,), (window,)), exit_day
    )


def _figures_of(
    records: list[list[tuple[int, int | None]]], rules: WindowRules, cap: int | None, as_of: int
) -> CountedBlock:
    counted = _count(records, [0] * len(records), [CountingTerms(rules, cap)], as_of)
    for index, record in enumerate(records):
        assert not counted.elsewhere[index]
        _same(counted, index, *count_trips([_trip(*trip) for trip in record], as_of, rules, cap))
    return counted


def test_an_exit_and_a_re_entry_on_one_day_count_that_day_once():
    day = FIRST_DAY + 100
    counted = _figures_of([[(day, day + 9), (day + 9, day + 19)]], _law(), None, day + 30)
    assert int(counted.days_used[0]) == 20
    assert counted.runs_first.tolist() == [day] and counted.runs_last.tolist() == [day + 19]


def test_a_one_day_trip_whose_exit_day_is_not_counted_counts_no_day():
    day = FIRST_DAY + 100
    counted = _figures_of([[(day, day), (day + 5, day + 7)]], _law(exit_day=False), None, day + 30)
    assert int(counted.days_used[0]) == 2


def test_days_beyond_the_per_entry_cap_are_overstay_days_and_end_the_stay_on_the_cap():
    day = FIRST_DAY + 100
    counted = _figures_of([[(day, day + 39)], [(day, None)]], _law(), 30, day + 35)
    assert (counted.periods_first.tolist(), counted.periods_last.tolist()) == ([day + 30] * 2, [day + 35] * 2)
    assert counted.overstay.tolist() == [6, 6]
    assert counted.latest_exit.tolist() == [NO_DAY, NO_DAY]  # over on the day itself: no latest exit


def test_a_traveller_present_under_the_limit_has_a_latest_exit_and_one_abroad_none():
    day = FIRST_DAY + 300
    counted = _figures_of([[(day - 10, None)], [(day - 40, day - 5)]], _law(), None, day)
    assert counted.present.tolist() == [True, False]
    assert counted.latest_exit.tolist() == [day - 10 + 89, NO_DAY]
    assert not counted.latest_exit_unbounded.any()


def test_a_window_that_never_fills_leaves_the_latest_exit_unbounded():
    day = FIRST_DAY + 300
    counted = _figures_of([[(day - 10, None)]], _law(limit=200), None, day)
    assert counted.latest_exit.tolist() == [NO_DAY] and counted.latest_exit_unbounded.tolist() == [True]


def test_trips_before_counting_starts_and_after_the_day_count_no_day():
    day = FIRST_DAY + 10
    counted = _figures_of(
        [[(FIRST_DAY - 30, FIRST_DAY + 2), (day + 1, day + 5), (day + 8, None)]], _law(), None, day
    )
    assert int(counted.days_used[0]) == 0 and counted.later.tolist() == [2]


def test_an_empty_block_and_a_record_without_trips_are_counted_as_nothing():
    assert _count([], [], [CountingTerms(_law(), None)], FIRST_DAY).days_used.size == 0
    counted = _figures_of([[]], _law(), 30, FIRST_DAY + 5)
    assert counted.present.tolist() == [False] and counted.runs.tolist() == [0, 0]


def test_terms_that_are_not_uniform_leave_the_record_to_the_record_engine():
    counted = _count(
        [[(FIRST_DAY + 3, None)]], [0], [CountingTerms(_law(), 30, uniform=False)], FIRST_DAY + 5
    )
    assert counted.elsewhere.tolist() == [True]


def test_a_day_under_no_limit_leaves_the_record_to_the_record_engine():
    lapsing = WindowRules(
        FIRST_DAY, Schedule("limit", (FIRST_DAY, FIRST_DAY + 50), (90, None)), _law().windows, True
    )
    records = [[(FIRST_DAY + 40, FIRST_DAY + 60)], [(FIRST_DAY + 10, FIRST_DAY + 20)]]
    counted = _count(records, [0, 0], [CountingTerms(lapsing, None)], FIRST_DAY + 45)
    assert counted.elsewhere.tolist() == [True, False]  # the first is present: its search meets the lapse


def test_trips_out_of_order_leave_the_record_to_the_record_engine():
    day = FIRST_DAY + 100
    counted = _count([[(day + 10, day + 20), (day, day + 5)]], [0], [CountingTerms(_law(), None)], day + 30)
    assert counted.elsewhere.tolist() == [True]


def test_an_open_ended_window_term_is_searched_to_the_horizon():
    # A window longer than the limit, and a cap no stay reaches: the first day over the limit.
    day = FIRST_DAY + 500
    counted = _figures_of([[(day - 3, None)]], _law(limit=60), 1000, day)
    assert counted.latest_exit.tolist() == [day - 3 + 59]
    assert UNBOUNDED > counted.latest_exit.max()
