"""Counting by runs of days (rules.stay.window.count_stay) against counting day by day.

:func:`count_stay` counts the record on runs of consecutive days with prefix sums and finds the
latest exit by bisection; :func:`count_stay_by_day` is the definition as written, one day at a
time, and ``tests/reference.py`` the project's independent brute-force oracle. Here both
counters get the same records under many laws -- limits and windows that change on some day
(or lapse), a per-entry cap or none, exit day counted or not, exempt periods that overlap,
touch or never end -- and must give the same figures, or fail on the same day; and under the
shipped law the runs must agree with the oracle.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from budget import examples
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from reference import count_record, current_trip, exempt_on, in_window, overstay_days, runs
from reference import latest_exit as oracle_latest_exit

from rules.stay.window import (
    UNBOUNDED,
    ExemptPeriod,
    NoValueInForce,
    Schedule,
    StayFigures,
    TripSpan,
    WindowRules,
    count_stay,
    count_stay_by_day,
)

SETTINGS = settings(max_examples=examples(400), deadline=None, suppress_health_check=[HealthCheck.too_slow])
START = 1000  # the day counting starts, in these tests' own ordinals


@st.composite
def schedules(draw: st.DrawFn, name: str, low: int, high: int) -> Schedule:
    """A dated value: mostly in force from before counting starts, changing or lapsing later."""
    count = draw(st.integers(1, 3))
    first = draw(st.one_of(st.just(START - 100), st.integers(START - 50, START + 100)))
    later = draw(
        st.lists(st.integers(first + 1, START + 600), min_size=count - 1, max_size=count - 1, unique=True)
    )
    values = [draw(st.integers(low, high))] + [
        None if draw(st.integers(0, 9)) == 0 else draw(st.integers(low, high)) for _ in later
    ]
    return Schedule(name, (first, *sorted(later)), tuple(values))


@st.composite
def laws(draw: st.DrawFn) -> WindowRules:
    if draw(st.booleans()):  # the shipped law's shape: one limit, one window, from the start
        limits = Schedule("limit", (START - 100,), (draw(st.integers(1, 40)),))
        windows = Schedule("window", (START - 100,), (draw(st.integers(1, 80)),))
    else:
        limits = draw(schedules("limit", 1, 40))
        windows = draw(schedules("window", 1, 80))
    return WindowRules(
        counting_starts=START, limits=limits, windows=windows, count_exit_day=draw(st.booleans())
    )


@st.composite
def records(draw: st.DrawFn) -> tuple[list[TripSpan], int, list[ExemptPeriod]]:
    cap = draw(st.one_of(st.none(), st.integers(1, 30)))
    trips: list[TripSpan] = []
    day = draw(st.integers(START - 60, START + 300))
    for _ in range(draw(st.integers(0, 8))):
        length = draw(st.one_of(st.integers(0, 10), st.integers(11, 80)))
        last = day + length
        trips.append(TripSpan(entry=day, last=last, has_exit=True, per_entry_cap=cap))
        day = last + draw(st.one_of(st.just(0), st.integers(1, 20), st.integers(21, 120)))
    if trips and draw(st.booleans()):  # on the last trip
        as_of = draw(st.integers(trips[-1].entry, trips[-1].last))
    else:
        as_of = draw(st.integers(START - 20, START + 500))
    if trips and draw(st.booleans()):  # still in the country
        open_trip = trips[-1]
        trips[-1] = TripSpan(open_trip.entry, max(open_trip.entry, as_of), False, cap)
    periods = []
    for _ in range(draw(st.integers(0, 3))):
        first = draw(st.integers(START - 40, START + 500))
        last = draw(st.one_of(st.just(UNBOUNDED), st.integers(first, first + 120)))
        periods.append(ExemptPeriod(f"rule{draw(st.integers(0, 1))}", first, last))
    clipped = [t for t in trips if t.entry <= as_of]
    return clipped, as_of, periods


def _figures(counter: Any, *args: Any) -> Any:
    try:
        figures: StayFigures = counter(*args)
    except NoValueInForce as missing:
        return ("no value", missing.name, missing.day)
    return (
        figures.days_used,
        figures.counted_days,
        figures.overstay_days,
        figures.periods,
        figures.counted,
        figures.exempt_days,
        figures.exempt_days_by_rule,
        figures.present,
        figures.exempt_on_as_of,
        figures.latest_exit,
        figures.latest_exit_unbounded,
        figures.overstay_count,
    )


@SETTINGS
@given(records(), laws())
def test_counting_by_runs_gives_the_figures_of_counting_day_by_day(record, rules):
    trips, as_of, periods = record
    by_day = _figures(count_stay_by_day, trips, as_of, rules, periods)
    assert _figures(count_stay, trips, as_of, rules, periods) == by_day


@SETTINGS
@given(records(), laws())
def test_plain_tuples_are_counted_as_trip_spans(record, rules):
    """The mechanism gives the counter its spans as plain tuples: in order, and out of order
    (counted day by day)."""
    trips, as_of, periods = record
    for spans in (trips, trips[::-1]):
        plain = [tuple(span) for span in spans]
        assert _figures(count_stay, plain, as_of, rules, periods) == _figures(
            count_stay, spans, as_of, rules, periods
        )


def test_a_widening_window_is_searched_day_by_day():
    """The day-by-day search forgets days a later, wider window would hold; the runs keep to
    its answer (the figures must not change)."""
    rules = WindowRules(
        counting_starts=START,
        limits=Schedule("limit", (START,), (10,)),
        windows=Schedule("window", (START, START + 30), (15, 40)),
    )
    trips = [TripSpan(START, START + 4, True, None), TripSpan(START + 20, START + 22, False, None)]
    args = (trips, START + 22, rules, [])
    assert _figures(count_stay, *args) == _figures(count_stay_by_day, *args)


def test_trips_out_of_order_are_counted_day_by_day():
    rules = WindowRules(START, Schedule("limit", (START,), (5,)), Schedule("window", (START,), (10,)))
    trips = [TripSpan(START + 5, START + 9, True, None), TripSpan(START, START + 6, True, None)]
    args = (trips, START + 20, rules, [])
    assert _figures(count_stay, *args) == _figures(count_stay_by_day, *args)


# --- against the oracle, under the shipped law -----------------------------------------------

ORACLE_START = dt.date(2023, 1, 27)


@st.composite
def oracle_records(
    draw: st.DrawFn,
) -> tuple[list[tuple[dt.date, dt.date | None]], list[Any], dt.date, int | None]:
    day = draw(st.dates(dt.date(2023, 1, 1), dt.date(2024, 6, 1)))
    trips: list[tuple[dt.date, dt.date | None]] = []
    for _ in range(draw(st.integers(0, 6))):
        exit_ = day + dt.timedelta(days=draw(st.one_of(st.integers(0, 40), st.integers(41, 150))))
        trips.append((day, exit_))
        day = exit_ + dt.timedelta(days=draw(st.one_of(st.just(0), st.integers(1, 120))))
    as_of = draw(st.dates(dt.date(2023, 1, 27), dt.date(2025, 6, 1)))
    if trips and draw(st.booleans()) and trips[-1][0] <= as_of:
        trips[-1] = (trips[-1][0], None)
    statuses = []
    if draw(st.integers(0, 3)) == 0:
        first = draw(st.dates(dt.date(2023, 1, 1), dt.date(2025, 1, 1)))
        last = draw(st.one_of(st.none(), st.dates(first, dt.date(2025, 12, 31))))
        statuses.append(("residence_permit", first, last))
    cap = draw(st.sampled_from([None, 30]))
    return trips, statuses, as_of, cap


@settings(max_examples=examples(150), deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(oracle_records())
def test_counting_by_runs_agrees_with_the_brute_force_oracle(record):
    trips, statuses, as_of, cap = record
    day = as_of.toordinal()
    spans = [
        TripSpan(entry.toordinal(), exit_.toordinal() if exit_ else day, exit_ is not None, cap)
        for entry, exit_ in trips
        if entry <= as_of
    ]
    periods = [
        ExemptPeriod("rp", max(first, ORACLE_START).toordinal(), last.toordinal() if last else UNBOUNDED)
        for _, first, last in statuses
        if last is None or last >= max(first, ORACLE_START)
    ]
    rules = WindowRules(
        counting_starts=ORACLE_START.toordinal(),
        limits=Schedule("limit", (ORACLE_START.toordinal(),), (90,)),
        windows=Schedule("window", (ORACLE_START.toordinal(),), (180,)),
    )
    figures = count_stay(spans, day, rules, periods)
    record_days = count_record(trips, statuses, as_of)
    over = overstay_days(record_days, cap)
    assert figures.days_used == in_window(record_days.counted, as_of)
    assert {dt.date.fromordinal(d) for d in figures.counted_days} == record_days.counted
    assert [(dt.date.fromordinal(a), dt.date.fromordinal(b)) for a, b in figures.periods] == runs(over)
    assert figures.exempt_days == len(record_days.exempt)
    if current_trip(trips, as_of) is not None and not exempt_on(statuses, as_of) and as_of not in over:
        expected = oracle_latest_exit(trips, statuses, as_of, cap)
        found = figures.latest_exit
        assert (dt.date.fromordinal(found) if found is not None else None) == expected
