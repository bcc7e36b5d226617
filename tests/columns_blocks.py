"""Blocks of travellers for the tests of the columnar path: generated records, and their stay
facts as columns made from the record engine's own count of each (``count_trips``), so that a
test of what is made from the count holds that alone."""

from __future__ import annotations

import datetime as dt
import sys
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any

import numpy as np
from hypothesis import strategies as st

from models.person import Person
from rules.columns.compare import Travellers
from rules.columns.decisions import decide
from rules.columns.facts import NO_DAY, StayFacts, stay_facts
from rules.columns.figures import Periods, current_entries, stay_figures
from rules.columns.values import BlockFacts
from rules.engine.evaluator import Evaluator
from rules.stay.limit import StayLimit
from rules.stay.window import count_trips

__all__ = [
    "VERSIONS",
    "population_travellers",
    "versions",
    "CITIZENSHIPS",
    "Count",
    "Counted",
    "block",
    "counted",
    "as_travellers",
    "decided_figures",
    "reference_count",
    "travellers",
]

#: The versions of the law the tests of the columnar path compare with the record engine.
VERSIONS = ("shipped", "60 days")
_LIMIT_60 = Path(__file__).resolve().parents[1] / "examples" / "amendments" / "limit-60-days.yaml"

# The benchmark's population generator (``bench_population.population_records``) for the tests.
sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "benchmarks"))

#: Subjects of the limit under several regimes, a citizen, a nationality the regime table may
#: lack, and no citizenship.
CITIZENSHIPS = ("RU", "US", "CN", "KZ", "DE", "TR", "UZ", "KG", "IN", "GB", "AQ", None)


@dataclass(frozen=True)
class Count:
    days_used: Any
    overstay_count: Any
    period_offsets: Any
    period_first: Any
    period_last: Any
    present: Any
    latest_exit: Any
    counted_here: Any = None


@dataclass(frozen=True)
class Counted:
    """A block of records as the columns hold them, counted by the record engine."""

    facts: StayFacts
    count: Count
    offsets: Any
    entry: Any
    exit: Any


def block(stay: StayLimit, persons: list[Person], as_of: dt.date) -> StayFacts:
    """The facts of ``persons`` as columns, from the record engine's count of each."""
    return counted(stay, persons, as_of).facts


def counted(stay: StayLimit, persons: list[Person], as_of: dt.date) -> Counted:
    """``persons`` as columns, with their facts made from the record engine's count of each."""
    day = as_of.toordinal()
    offsets, entries, exits = [0], [], []
    days_used, overstay, present, period_offsets, firsts, lasts = [], [], [], [0], [], []
    latest_exits = []
    for person in persons:
        trips = person.trips or ()
        entries.extend(trip.entry.toordinal() for trip in trips)
        exits.extend(NO_DAY if trip.exit is None else trip.exit.toordinal() for trip in trips)
        offsets.append(len(entries))
        figures = None
        code = person.citizenship
        if code is not None and trips:
            recorded, _, subject = stay.regime_on(code, day)
            first, last = stay.in_force
            if recorded and subject and first <= day <= last:
                counting = stay.counting(code, day)
                if counting.course.uniform:
                    figures, _ = count_trips(trips, day, counting.rules, counting.per_entry, counting.terms)
        days_used.append(figures.days_used if figures else 0)
        overstay.append(figures.overstay_count if figures else 0)
        present.append(bool(figures and figures.present))
        latest = figures.latest_exit if figures else None
        latest_exits.append(NO_DAY if latest is None else latest)
        for first, last in figures.periods if figures else ():
            firsts.append(first)
            lasts.append(last)
        period_offsets.append(len(firsts))
    count = Count(
        np.array(days_used, dtype=np.int64),
        np.array(overstay, dtype=np.int64),
        np.array(period_offsets, dtype=np.int64),
        np.array(firsts, dtype=np.int64),
        np.array(lasts, dtype=np.int64),
        np.array(present, dtype=np.bool_),
        np.array(latest_exits, dtype=np.int64),
    )
    facts = stay_facts(
        stay,
        as_of,
        [person.citizenship for person in persons],
        np.array([person.trips is not None for person in persons], dtype=np.bool_),
        np.array(offsets, dtype=np.int64),
        np.array(entries, dtype=np.int64),
        count,
    )
    return Counted(
        facts,
        count,
        np.array(offsets, dtype=np.int64),
        np.array(entries, dtype=np.int64),
        np.array(exits, dtype=np.int64),
    )


def decided_figures(
    evaluator: Evaluator, persons: list[Person], as_of: dt.date
) -> tuple[Any, list[dict[str, Any]]]:
    """The records of ``persons`` in scope, and the figures the columns give each."""
    made = counted(evaluator.mechanisms["stay"], persons, as_of)
    rows = np.flatnonzero(made.facts.in_scope)
    facts = made.facts.taken(rows)
    facts_of_block = BlockFacts(evaluator.compiled, as_of, len(rows), {"stay": facts.coded()})
    decisions = decide(evaluator, facts_of_block, evaluator.plan({}).rounds)
    count = made.count
    periods = Periods(count.period_offsets, count.period_first, count.period_last).taken(rows)
    entries = current_entries(as_of.toordinal(), made.offsets, made.entry, made.exit)[rows]
    found = stay_figures(
        evaluator, facts, facts_of_block, decisions, periods, count.latest_exit[rows], entries
    )
    return rows, found


@st.composite
def travellers(draw: st.DrawFn) -> Person:
    start = dt.date(2022, 10, 1) + dt.timedelta(days=draw(st.integers(0, 1200)))
    trips: list[dict[str, str]] = []
    day = start
    for index in range(draw(st.integers(0, 12))):
        if index:
            day += dt.timedelta(days=draw(st.integers(0, 80)))
        length = draw(st.integers(0, 120))
        exit_ = day + dt.timedelta(days=length)
        trips.append({"entry": day.isoformat(), "exit": exit_.isoformat()})
        day = exit_
    if trips and draw(st.booleans()):
        del trips[-1]["exit"]
    record: dict[str, Any] = {"person_id": "P-1"}
    code = draw(st.sampled_from(CITIZENSHIPS))
    if code is not None:
        record["citizenship"] = code
    if draw(st.integers(0, 9)):
        record["trips"] = trips
    return Person.model_validate(record)


def reference_count(stay: StayLimit, travellers: Travellers, as_of: dt.date) -> Count:
    """The count of a block of travellers by the record engine, record by record
    (``count_trips``): a count for :func:`rules.columns.compare.compared_block` to test with."""
    persons = []
    for row in range(len(travellers)):
        first, end = int(travellers.offsets[row]), int(travellers.offsets[row + 1])
        trips = [
            {"entry": dt.date.fromordinal(int(entry)).isoformat()}
            | ({} if int(exit_) == NO_DAY else {"exit": dt.date.fromordinal(int(exit_)).isoformat()})
            for entry, exit_ in zip(travellers.entry[first:end], travellers.exit[first:end], strict=True)
        ]
        record: dict[str, Any] = {"person_id": travellers.person_id[row]}
        if travellers.citizenship[row] is not None:
            record["citizenship"] = travellers.citizenship[row]
        if travellers.trips_recorded[row]:
            record["trips"] = trips
        persons.append(Person.model_validate(record))
    count = counted(stay, persons, as_of).count
    return Count(**{**vars(count), "counted_here": np.ones(len(persons), dtype=np.bool_)})


def as_travellers(persons: list[Person]) -> Travellers:
    """``persons`` as the columns hold a block's travellers."""
    offsets, entries, exits = [0], [], []
    for person in persons:
        for trip in person.trips or ():
            entries.append(trip.entry.toordinal())
            exits.append(NO_DAY if trip.exit is None else trip.exit.toordinal())
        offsets.append(len(entries))
    return Travellers(
        np.arange(len(persons), dtype=np.int64),
        [person.person_id for person in persons],
        [person.citizenship for person in persons],
        np.array([person.trips is not None for person in persons], dtype=np.bool_),
        np.array(offsets, dtype=np.int64),
        np.array(entries, dtype=np.int64),
        np.array(exits, dtype=np.int64),
    )


@lru_cache(maxsize=1)
def versions() -> dict[str, Evaluator]:
    """The shipped law and the 60-day amendment, each evaluator built once for all the tests."""
    from rules.policy.loader import load_policy

    return {"shipped": Evaluator(load_policy()), "60 days": Evaluator(load_policy(amendments=[_LIMIT_60]))}


def population_travellers(count: int) -> list[Person]:
    """The travellers without a status among the first ``count`` persons of the benchmark's
    population (its lines holding only person_id, citizenship and trips)."""
    from bench_population import population_records

    return [
        Person.model_validate(record)
        for record in population_records(count, 2026)
        if set(record) <= {"person_id", "citizenship", "trips"}
    ]
