"""What a traveller costs the columnar path of ``kzmig compare`` against the record engine.

A script, not a test (nothing here asserts on timing). Run from the checkout::

    .venv/bin/python benchmarks/bench_columns.py
    .venv/bin/python benchmarks/bench_columns.py --persons 50000 --block-bytes 4194304 --json

Over ``bench_population.py``'s population, in one process, best of ``--repeat`` passes, per
record the columns answer or leave (microseconds):

* ``read``: the blocks of the file read as columns (:func:`rules.columns.reading.read_block`);
* ``compare``: the travellers in scope counted, decided and compared under both versions as
  columns, each unchanged one given its outcome (:func:`rules.columns.compare.compared_block`:
  what a compare that writes every record needs), those that change left;
* ``tally``: the same, the unchanged ones counted as columns into one impact instead
  (:func:`rules.columns.compare.tallied_block`: what ``kzmig compare`` does for its text
  summary, its changed records and its report);
* ``record engine``: the same travellers' lines parsed and compared one by one, as
  ``--engine records`` compares them (``json.loads`` and :func:`compare_record`).

It says how many of the population's records are travellers in scope, and how many of those
the columns answered (the others changed, or are out of scope on a version: the record engine
compares them in a run).
"""

from __future__ import annotations

import argparse
import datetime as dt
import gc
import json
import platform
import sys
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "benchmarks"))
sys.path.insert(0, str(ROOT / "src"))

from bench_population import AMENDMENT, ON, population_records  # noqa: E402

from rules.analysis.population import PolicySpec, built_comparison, compare_record  # noqa: E402
from rules.columns.compare import Travellers, compared_block, tallied_block  # noqa: E402
from rules.columns.population import array_count  # noqa: E402
from rules.columns.reading import read_block  # noqa: E402


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__.split("\n\n", 1)[0], formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--persons", type=int, default=20000, help="persons generated (20000)")
    parser.add_argument("--seed", type=int, default=2026, help="seed of the population (2026)")
    parser.add_argument("--amendment", type=Path, default=AMENDMENT, help="the amendment compared")
    parser.add_argument("--block-bytes", type=int, default=2 * 1024 * 1024, help="bytes per block (2 MiB)")
    parser.add_argument("--repeat", type=int, default=3, help="passes; the best is kept (3)")
    parser.add_argument("--json", action="store_true", help="print one JSON document")
    args = parser.parse_args(argv)
    comparison = built_comparison(PolicySpec.of_files(None), PolicySpec.of_files(None, [str(args.amendment)]))
    on = [dt.date.fromisoformat(ON)]
    lines = [json.dumps(record) for record in population_records(args.persons, args.seed)]
    blocks: list[bytes] = []
    block: list[str] = []
    size = 0
    for line in lines:
        block.append(line)
        size += len(line) + 1
        if size >= args.block_bytes:
            blocks.append(("\n".join(block) + "\n").encode())
            block, size = [], 0
    if block:
        blocks.append(("\n".join(block) + "\n").encode())

    def columns() -> tuple[float, float, int, int, list[str], float]:
        reading = comparing = tallying = 0.0
        taken = answered = 0
        kept: list[str] = []
        number = 1
        for data in blocks:
            started = time.perf_counter()
            read = read_block(data, number)
            travellers = Travellers(
                read.indexes,
                read.person_id.to_pylist(),
                read.citizenship.to_pylist(),
                read.has_trips,
                read.offsets,
                read.entry,
                read.exit,
                read.citizenship_given.to_pylist(),
            )
            middle = time.perf_counter()
            found = compared_block(comparison, travellers, on, (), array_count)
            reading += middle - started
            comparing += time.perf_counter() - middle
            middle = time.perf_counter()
            counted, _ = tallied_block(comparison, travellers, on, (), array_count)
            tallying += time.perf_counter() - middle
            assert int(counted.sum()) == sum(outcomes is not None for outcomes in found)
            taken += len(travellers)
            answered += sum(outcomes is not None for outcomes in found)
            kept.extend(lines[number - 1 + int(row)] for row in read.indexes)
            number += read.lines
        return reading, comparing, taken, answered, kept, tallying

    def best(run: Any) -> Any:
        results = [run() for _ in range(args.repeat)]
        return min(results, key=lambda result: result[0] + result[1] if isinstance(result, tuple) else result)

    columns()  # warm: the policies' memos, the imports
    gc.collect()
    gc.freeze()
    reading, comparing, taken, answered, scope, tallying = best(columns)

    def records() -> float:
        started = time.perf_counter()
        for index, line in enumerate(scope):
            compare_record(comparison, index, json.loads(line), on, ())
        return time.perf_counter() - started

    engine = best(records)
    each = {
        "read": reading / taken * 1e6,
        "compare": comparing / taken * 1e6,
        "tally": tallying / taken * 1e6,
        "record engine": engine / taken * 1e6,
    }
    report = {
        "python": platform.python_version(),
        "machine": platform.platform(),
        "persons": args.persons,
        "amendment": args.amendment.name,
        "on": ON,
        "blocks": len(blocks),
        "travellers_in_scope": taken,
        "answered_by_columns": answered,
        "microseconds_per_traveller": {name: round(value, 1) for name, value in each.items()},
        "columns_share_of_record_engine": round((each["read"] + each["compare"]) / each["record engine"], 3),
        "tally_share_of_record_engine": round((each["read"] + each["tally"]) / each["record engine"], 3),
    }
    if args.json:
        print(json.dumps(report, indent=2))
        return 0
    print(
        f"{args.persons:,} persons of bench_population.py, {args.amendment.name} on {ON}, "
        f"{len(blocks)} blocks of about {args.block_bytes:,} bytes, best of {args.repeat}; "
        f"Python {report['python']}"
    )
    print(f"  travellers in scope: {taken:,} ({taken / args.persons:.0%}); answered by columns: {answered:,}")
    for name, value in each.items():
        print(f"  {name:14s} {value:8.1f} us per traveller")
    print(f"  columns (read + compare): {report['columns_share_of_record_engine']:.0%} of the record engine")
    print(f"  columns (read + tally): {report['tally_share_of_record_engine']:.0%} of the record engine")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
