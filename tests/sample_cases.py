"""Cases the fast-path tests evaluate both ways: the example cases, and the benchmarks' persons.

A case is ``(amendments, person, on)``: the names of the example amendments to load on the
shipped policy (none: the policy as shipped), a person record as a caller gives it, the day.
"""

from __future__ import annotations

import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from rules.policy.documents import parse_document

ROOT = Path(__file__).resolve().parents[1]
CASES = sorted((ROOT / "examples" / "cases").glob("*/*.yaml"))

sys.path.insert(0, str(ROOT / "benchmarks"))
import bench_evaluate  # noqa: E402
import bench_population  # noqa: E402

SampleCase = tuple[tuple[str, ...], Any, Any]


def example_cases() -> Iterator[SampleCase]:
    """Every case of ``examples/cases``, with its amendments."""
    for path in CASES:
        case = parse_document(path.read_text(encoding="utf-8"), str(path)).data
        yield tuple(case.get("amend", ())), case["person"], case["on"]


def generated_cases(
    persons: int, records: int, seed: int, amendments: tuple[str, ...]
) -> Iterator[SampleCase]:
    """The benchmarks' three persons on their days, ``persons`` generated travellers of
    ``bench_evaluate.py`` and ``records`` records of ``bench_population.py``'s population (both
    drawn with ``seed``); each population record also under each of ``amendments`` alone."""
    yield (), bench_evaluate.realistic_person(), bench_evaluate.AS_OF
    yield (), bench_evaluate.residence_applicant(), bench_evaluate.RESIDENCE_ON
    yield (), bench_evaluate.kandas_family(), bench_evaluate.KANDAS_ON
    for person, on in bench_evaluate.generated_persons(persons, seed):
        yield (), person, on
    for record in bench_population.population_records(records, seed):
        yield (), record, bench_population.ON
        for name in amendments:
            yield (name,), record, bench_population.ON
