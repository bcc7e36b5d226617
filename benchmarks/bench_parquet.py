"""How fast kzmig reads a border-service extract from Parquet: records per second, peak memory.

A script, not a test (nothing here asserts on timing). Run from the checkout::

    .venv/bin/python benchmarks/bench_parquet.py --persons 100000
    .venv/bin/python benchmarks/bench_parquet.py --persons 100000 --previous /tmp/prev --repeat 3

It writes the persons of ``bench_population.py``'s population (the same seed and count) as the
three tables of an extract (kept and reused): ``persons`` (``person_id``, ``citizenship``),
``trips`` (``person_id``, ``entry``, ``exit``, in reverse order: an extract is not sorted by
person) and ``statuses`` (``person_id``, ``kind``, ``valid_from``, ``valid_to``). The programme
sections of the applicants and families are left out: this measures the reading of the border
service's shape. It then reads them as ``kzmig compare persons.parquet --trips ... --statuses
...`` does (``rules.cli.parquet.read_parquet_records``), in a separate process with pyarrow
already imported, and reports the time per record and the process's peak memory.
``--previous DIR`` reads the same tables with the code of another checkout (its ``src`` first
on ``PYTHONPATH``), the two run in turns, and gives the ratio.

This is the work of the command's own process in ``kzmig compare`` of a Parquet extract with
``--jobs N``: it reads every record before handing it to a worker.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import platform
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "benchmarks"))

from bench_population import population_records  # noqa: E402

BLOCK = 10_000

#: Run in the measured process: read the extract, print what it took.
READER = """
import json, resource, sys, time
from pathlib import Path
import pyarrow.parquet, pyarrow.compute  # imported before the clock starts
from rules.cli.parquet import read_parquet_records
persons, trips, statuses = (Path(name) for name in sys.argv[1:4])
start = time.perf_counter()
records = errors = 0
for record in read_parquet_records(persons, trips, statuses):
    records += 1
    errors += record.data is None
seconds = time.perf_counter() - start
peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
print(json.dumps({"seconds": seconds, "records": records, "errors": errors, "peak_rss_mb": peak}))
"""


def extract(data: Path, count: int, seed: int) -> tuple[Path, Path, Path]:
    """The population of ``count`` persons as Parquet tables under ``data`` (kept for reuse)."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    stem = data / f"extract-{count}-{seed}"
    paths = (Path(f"{stem}-persons.parquet"), Path(f"{stem}-trips.parquet"), Path(f"{stem}-statuses.parquet"))
    if all(path.exists() for path in paths):
        return paths
    data.mkdir(parents=True, exist_ok=True)
    day = pa.date32()
    schemas = (
        pa.schema([("person_id", pa.string()), ("citizenship", pa.string())]),
        pa.schema([("person_id", pa.string()), ("entry", day), ("exit", day)]),
        pa.schema(
            [("person_id", pa.string()), ("kind", pa.string()), ("valid_from", day), ("valid_to", day)]
        ),
    )
    blocks: tuple[list[Any], list[Any], list[Any]] = ([], [], [])
    partial = [path.with_suffix(".partial") for path in paths]
    writers = [pq.ParquetWriter(path, schema) for path, schema in zip(partial, schemas, strict=True)]

    def flush() -> None:
        for writer, schema, rows in zip(writers, schemas, blocks, strict=True):
            if rows:
                writer.write_table(pa.Table.from_pylist(rows[::-1] if rows is blocks[1] else rows, schema))
                rows.clear()

    try:
        for number, person in enumerate(population_records(count, seed), 1):
            person_id = person["person_id"]
            blocks[0].append({"person_id": person_id, "citizenship": person.get("citizenship")})
            for trip in person.get("trips", ()):
                blocks[1].append(
                    {"person_id": person_id, "entry": _day(trip["entry"]), "exit": _day(trip.get("exit"))}
                )
            for status in person.get("statuses", ()):
                blocks[2].append(
                    {
                        "person_id": person_id,
                        "kind": status["kind"],
                        "valid_from": _day(status["valid_from"]),
                        "valid_to": _day(status.get("valid_to")),
                    }
                )
            if number % BLOCK == 0:
                flush()
        flush()
    finally:
        for writer in writers:
            writer.close()
    for source, path in zip(partial, paths, strict=True):
        source.rename(path)
    return paths


def _day(text: str | None) -> dt.date | None:
    return dt.date.fromisoformat(text) if text is not None else None


def read(checkout: Path, paths: tuple[Path, Path, Path]) -> dict[str, Any]:
    env = {**os.environ, "PYTHONPATH": str(checkout / "src")}
    found = subprocess.run(
        [sys.executable, "-c", READER, *map(str, paths)], env=env, capture_output=True, text=True, check=False
    )
    if found.returncode != 0:
        raise SystemExit(f"reading with {checkout} failed:\n{found.stderr[-2000:]}")
    result: dict[str, Any] = json.loads(found.stdout)
    return result


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--persons", type=int, default=100_000)
    parser.add_argument("--seed", type=int, default=2026)
    parser.add_argument("--data", type=Path, default=Path(tempfile.gettempdir()) / "kzmig-bench")
    parser.add_argument("--previous", type=Path, help="Another checkout to read the same tables with.")
    parser.add_argument(
        "--repeat", type=int, default=1, help="Runs of each side, in turns; the best is kept."
    )
    parser.add_argument("--json", action="store_true", help="Print the report as JSON.")
    args = parser.parse_args(argv)
    paths = extract(args.data, args.persons, args.seed)
    sides = {"now": ROOT} | ({"previous": args.previous.resolve()} if args.previous is not None else {})
    runs: dict[str, list[dict[str, Any]]] = {name: [] for name in sides}
    for _ in range(args.repeat):  # in turns, so that a drift of the machine's speed hits both
        for name, checkout in sides.items():
            runs[name].append(read(checkout, paths))
    report: dict[str, Any] = {
        "persons": args.persons,
        "python": f"{platform.python_version()} ({platform.python_implementation()})",
        "machine": f"{platform.platform()}, {os.cpu_count()} CPU(s)",
    }
    for name, found in runs.items():
        best = min(found, key=lambda run: run["seconds"])
        report[name] = {
            **best,
            "us_per_record": best["seconds"] / max(best["records"], 1) * 1e6,
            "records_per_s": best["records"] / best["seconds"],
            "all_seconds": [run["seconds"] for run in found],
        }
    if "previous" in report:
        report["ratio_previous_to_now"] = report["previous"]["seconds"] / report["now"]["seconds"]
    if args.json:
        print(json.dumps(report, indent=2))
        return 0
    print(f"reading a Parquet extract of {args.persons:,} persons (persons, trips, statuses tables)")
    print(f"  Python {report['python']} on {report['machine']}")
    for name in runs:
        found = report[name]
        seconds = ", ".join(f"{value:.2f}" for value in found["all_seconds"])
        print(
            f"  {name:>8}: {found['us_per_record']:.1f} us per record, "
            f"{found['records_per_s']:,.0f} records/s (best of {seconds} s), "
            f"peak {found['peak_rss_mb']:.0f} MB, {found['errors']} error record(s)"
        )
    if "previous" in report:
        print(f"  previous / now: {report['ratio_previous_to_now']:.2f}x")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
