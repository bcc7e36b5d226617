"""What each part of ``kzmig compare``'s work on one record costs, in machine instructions.

A script, not a test (nothing here asserts on cost). Run from the checkout (needs valgrind; about
ten minutes)::

    .venv/bin/python benchmarks/bench_compare_parts.py
    .venv/bin/python benchmarks/bench_compare_parts.py --json

Over the persons of ``bench_population.py``'s population (travellers, residence applicants,
kandas families), under its amendment on its date, each part is counted as
``bench_instructions.py`` counts an evaluation: the same loop run over ``--few`` and over
``--many`` records, each in a fresh process under valgrind's callgrind, and the difference divided
by the extra records (start-up, policy loading and the preparation of the records cancel out):

* ``read``: the record's JSON line parsed (``parse_json``, as a worker reads its lines);
* ``validate``: the record read as a ``Person`` (``Comparison.core``: once per record, for both
  versions);
* ``count``: the baseline's stay count of the ``Person`` (the ``stay`` mechanism's ``derive``);
* ``evaluate``: the baseline's evaluation of the ``Person``, its verdict without the trace (what
  a population run makes first), the count included;
* ``compare``: the whole comparison of the record from its parsed JSON (``compare_record``: the
  reading as a ``Person``, both versions, the figures, the outcome; a changed record's traces and
  why).

It reports each part per record and as a share of ``read`` + ``compare`` (a worker's whole work
on a record, less the splitting of its block into lines). ``read`` + ``validate`` + ``count`` is
the least any engine that evaluates one record at a time as objects does for a record before it
applies a single rule: the floor of that design. The issue's target (a million records in 60 s
on two cores) leaves 120 µs of CPU per record; what share of a compared record the floor is
tells how much of that budget it takes at the rate ``bench_population.py`` measures.

Instructions are not time, but for the interpreter's own work they move together; quote them as
what they are. ``--steady`` is always on (see ``bench_instructions.py``): counts repeat to about
0.01 %.
"""

from __future__ import annotations

import argparse
import json
import shutil
import sys
from pathlib import Path
from typing import Any

from bench_instructions import POPULATION_SEED, ROOT, START, STEADY, instructions_of

#: Prepares the first ``sys.argv[2]`` persons of the population (their JSON lines, the records,
#: the records read as persons) and runs one part over the first ``sys.argv[1]`` of them, once
#: ready (``START``) and inside ``functools.reduce``, as ``bench_instructions.py`` counts a loop.
WORKLOAD = """
import functools, sys, json, datetime as dt
sys.path.insert(0, {benchmarks!r})
from bench_population import ON, population_records
from models.person import Person
from rules.analysis.impact import Comparison
from rules.analysis.population import PolicySpec, built_comparison, compare_record
from rules.policy.documents import parse_json
comparison = built_comparison(PolicySpec.of_files(None), PolicySpec.of_files(None, [{amendment!r}]))
records = list(population_records(int(sys.argv[2]), {seed}))
lines = [json.dumps(record) for record in records]
persons = [person for person in map(Comparison.core, records) if isinstance(person, Person)]
on = dt.date.fromisoformat(ON)
stay = comparison.baseline.mechanisms["stay"]
baseline = comparison.baseline
{steady}
n = int(sys.argv[1])
{start}
functools.reduce({part}, None)
"""

#: The loop of each part (see the module).
PARTS = {
    "read": "lambda _, line: parse_json(line, 'population'), lines[:n]",
    "validate": "lambda _, record: Comparison.core(record), records[:n]",
    "count": "lambda _, person: stay.derive(person, on), persons[:n]",
    "evaluate": (
        "lambda _, person: baseline.evaluate_case(person, on, (), trace=False, undecided='omit'), persons[:n]"
    ),
    "compare": (
        "lambda _, item: compare_record(comparison, item[0], item[1], [on], ()), enumerate(records[:n])"
    ),
}


def workload(part: str, amendment: Path) -> str:
    """The program that runs ``part`` (see :data:`WORKLOAD`)."""
    return WORKLOAD.format(
        benchmarks=str(ROOT / "benchmarks"),
        amendment=str(amendment),
        seed=POPULATION_SEED,
        steady=STEADY,
        part=PARTS[part],
        start=START,
    )


def per_record(part: str, few: int, many: int, amendment: Path) -> float:
    """The instructions of ``part`` per record (see the module)."""
    code = workload(part, amendment)
    src = ROOT / "src"
    instructions_of(code, src, few, many, counted=False, steady=True)  # the bytecode written first
    counts = [instructions_of(code, src, runs, many, counted=True, steady=True) for runs in (many, few)]
    return (counts[0] - counts[1]) / (many - few)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__.split("\n\n", 1)[0], formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--few", type=int, default=20, help="records of the shorter run (20)")
    parser.add_argument("--many", type=int, default=220, help="records of the longer run (220)")
    parser.add_argument(
        "--amendment",
        type=Path,
        default=ROOT / "examples" / "amendments" / "limit-60-days.yaml",
        help="the amendment compared (default limit-60-days.yaml)",
    )
    parser.add_argument("--json", action="store_true", help="print one JSON document")
    args = parser.parse_args(argv)
    if not 1 <= args.few < args.many:
        parser.error("--few must be at least 1 and less than --many")
    if shutil.which("valgrind") is None:
        parser.error("valgrind is not installed (Debian: apt-get install valgrind)")
    counts = {part: per_record(part, args.few, args.many, args.amendment.resolve()) for part in PARTS}
    whole = counts["read"] + counts["compare"]
    floor = counts["read"] + counts["validate"] + counts["count"]
    report: dict[str, Any] = {
        "python": sys.version.split()[0],
        "workload": (
            f"persons {args.few + 1}-{args.many} of bench_population.py's population, "
            f"{args.amendment.name} on its date; --steady"
        ),
        "per_record": counts,
        "whole": whole,
        "floor": floor,
        "floor_share": floor / whole,
    }
    if args.json:
        print(json.dumps(report, indent=2))
        return 0
    print(f"instructions per record ({report['workload']}; Python {report['python']})")
    for part, count in counts.items():
        print(f"  {part:10s} {count:12,.0f}  {count / whole:6.1%} of read + compare")
    print(f"  {'whole':10s} {whole:12,.0f}  read + compare: a worker's work on a record")
    print(f"  {'floor':10s} {floor:12,.0f}  {floor / whole:6.1%}: read + validate + count, before any rule")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
