"""The floor under a stay count made as arrays for a record engine: the way in and the way back.

A script, not a test (nothing here asserts on timing). Run from the checkout::

    .venv/bin/python benchmarks/count_floor.py
    .venv/bin/python benchmarks/count_floor.py --persons 50000 --json

A count of a whole block of records at once, as arrays (numpy, Arrow), is cheap in itself. But
the engine evaluates one record at a time as objects: a count made as arrays must take each
record's trips out of its ``Person`` first, and give each record its figures back as
``count_trips`` makes them (its runs of counted days, their prefix sums, the days over the
limit, and what ``count_again`` reuses). Over the travellers of ``bench_population.py``'s
population that ``count_trips`` counts (a subject nationality, every trip under one regime, no
status), on its date, each under its own nationality's law, this reports per record (the best
of ``--repeat`` passes):

* ``count``: ``count_trips`` of the record, as the engine counts it now;
* ``way in``: the entry and last day of each of its trips, as ordinals, appended to flat lists
  (what any count as arrays reads of a record held as objects);
* ``way back``: the record's figures made from flat lists holding every record's runs, prefix
  sums and days over the limit (the runs ``count_trips`` found, flattened before the clock
  starts), as ``count_trips`` makes them: lists sliced out and zipped, a ``StayFigures`` and the
  runs it keeps for counting again.

``way in`` + ``way back`` is what a count as arrays costs such an engine before the arrays do
any work: when it comes near ``count``, the count as arrays cannot pay unless the records are
never made as objects at all (read as columns, decided as columns). It uses the counter's
private parts (``_Runs``, ``_CountedRuns``) and the stay mechanism's ``_counting``, as only a
benchmark may.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import platform
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "benchmarks"))
sys.path.insert(0, str(ROOT / "src"))

from bench_population import ON, population_records  # noqa: E402

from models.person import Person, Trip  # noqa: E402
from rules.analysis.impact import Comparison  # noqa: E402
from rules.engine.evaluator import Evaluator  # noqa: E402
from rules.policy.loader import load_policy  # noqa: E402
from rules.stay.window import StayFigures, _CountedRuns, _Runs, count_trips  # noqa: E402


def counted_persons(count: int, seed: int) -> tuple[list[tuple[tuple[Trip, ...], Any]], int]:
    """The trips of the persons ``count_trips`` counts, each with what its count reads, and
    ``as_of``."""
    stay: Any = Evaluator(load_policy()).mechanisms["stay"]
    day = dt.date.fromisoformat(ON).toordinal()
    kept = []
    for record in population_records(count, seed):
        person = Comparison.core(record)
        if not isinstance(person, Person) or not person.trips or person.statuses or not person.citizenship:
            continue
        subject = (
            stay._regimes_on.get((person.citizenship, day)) or stay._regime_on(person.citizenship, day)
        )[2]
        if not subject:
            continue
        counting = stay._counting(person.citizenship, day)
        if counting.course.uniform:
            kept.append((person.trips, counting))
    return kept, day


def best(loop: Callable[[], object], repeat: int) -> float:
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        loop()
        times.append(time.perf_counter() - start)
    return min(times)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__.split("\n\n", 1)[0], formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--persons", type=int, default=20000, help="persons generated (20000)")
    parser.add_argument("--seed", type=int, default=2026, help="seed of the population (2026)")
    parser.add_argument("--repeat", type=int, default=5, help="passes of each part; the best is kept (5)")
    parser.add_argument("--json", action="store_true", help="print one JSON document")
    args = parser.parse_args(argv)
    persons, day = counted_persons(args.persons, args.seed)
    if not persons:
        parser.error("no person of the population is counted by count_trips")

    def count() -> None:
        for trips, counting in persons:
            count_trips(trips, day, counting.rules, counting.per_entry, counting.terms)

    def way_in() -> None:
        entries: list[int] = []
        lasts: list[int] = []
        owners: list[int] = []
        for owner, (trips, _) in enumerate(persons):
            for trip in trips:
                entries.append(trip.entry.toordinal())
                exit_ = trip.exit
                lasts.append(day if exit_ is None else exit_.toordinal())
                owners.append(owner)

    # Every record's runs, prefix sums and days over the limit, flattened, with where each
    # record's begin: what a count as arrays would hand back.
    firsts: list[int] = []
    ends: list[int] = []
    befores: list[int] = []
    over: list[tuple[int, int]] = []
    bounds = [(0, 0, 0)]
    made = []
    for trips, counting in persons:
        figures, later = count_trips(trips, day, counting.rules, counting.per_entry, counting.terms)
        assert figures.runs is not None
        held = figures.runs.held
        firsts += held.firsts
        ends += held.lasts
        befores += held.before
        over += figures.periods
        bounds.append((len(firsts), len(befores), len(over)))
        made.append((figures, later, figures.runs))

    def way_back() -> None:
        for index, (figures, later, runs) in enumerate(made):
            (run, prefix, period), (run_end, prefix_end, period_end) = bounds[index], bounds[index + 1]
            record_firsts, record_lasts = firsts[run:run_end], ends[run:run_end]
            held = _Runs(record_firsts, record_lasts, befores[prefix:prefix_end])
            again = StayFigures(
                days_used=figures.days_used,
                counted=list(zip(record_firsts, record_lasts, strict=True)),
                periods=over[period:period_end],
                exempt_days=0,
                exempt_days_by_rule={},
                present=figures.present,
                exempt_on_as_of=False,
                latest_exit=figures.latest_exit,
                latest_exit_unbounded=figures.latest_exit_unbounded,
            )
            again.runs = _CountedRuns(
                held,
                runs.beyond_cap,
                runs.current,
                later,
                day,
                runs.counting_starts,
                runs.count_exit_day,
                runs.cap,
            )

    parts = {
        name: best(loop, args.repeat)
        for name, loop in (("count", count), ("way in", way_in), ("way back", way_back))
    }
    each = {name: seconds / len(persons) * 1e6 for name, seconds in parts.items()}
    floor = each["way in"] + each["way back"]
    report = {
        "python": platform.python_version(),
        "machine": platform.platform(),
        "persons": len(persons),
        "trips": sum(len(trips) for trips, _ in persons),
        "microseconds_per_record": {name: round(value, 2) for name, value in each.items()},
        "floor_microseconds": round(floor, 2),
        "floor_share_of_count": round(floor / each["count"], 3),
    }
    if args.json:
        print(json.dumps(report, indent=2))
        return 0
    print(
        f"stay count of {report['persons']} travellers ({report['trips']} trips) of bench_population.py's "
        f"population on {ON}, best of {args.repeat} passes; Python {report['python']}"
    )
    for name, value in each.items():
        print(f"  {name:10s} {value:8.2f} us per record")
    print(
        f"  {'floor':10s} {floor:8.2f} us per record: way in + way back, {floor / each['count']:.0%} of count"
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
