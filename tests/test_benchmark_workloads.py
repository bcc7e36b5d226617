"""The instruction-counting benchmarks' programs run and say when their loop starts.

``benchmarks/bench_instructions.py`` and ``benchmarks/bench_compare_parts.py`` count a program's
loop under valgrind, turning the count on when the program says it is ready. A program that
never says so counted nothing, and the script then failed with valgrind's output alone (as
``bench_compare_parts.py`` did for a while). Each program is run here once without valgrind, on
a few records: it must say it is ready and end well. One program stands for those that differ
only by a name (of the benchmark persons, the 20-trip person; of the parts of a compared
record, the count, the others compiled only). Nothing is counted or timed.
"""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "benchmarks"))

import bench_compare_parts  # noqa: E402
import bench_instructions  # noqa: E402

AMENDMENT = ROOT / "examples" / "amendments" / "limit-60-days.yaml"


@pytest.mark.parametrize("person", ["trips", "compare"])
def test_each_evaluation_program_says_it_is_ready_and_ends_well(person: str) -> None:
    assert bench_instructions.instructions(ROOT / "src", 2, person, 3, counted=False, steady=True) == 0


def test_a_part_of_a_compared_record_says_it_is_ready_and_ends_well() -> None:
    program = bench_compare_parts.workload("count", AMENDMENT)
    assert bench_instructions.instructions_of(program, ROOT / "src", 2, 3, counted=False, steady=True) == 0


@pytest.mark.parametrize("part", bench_compare_parts.PARTS)
def test_every_part_of_a_compared_record_is_a_program_that_compiles(part: str) -> None:
    compile(bench_compare_parts.workload(part, AMENDMENT), f"<{part}>", "exec")


def test_a_program_that_never_says_it_is_ready_is_refused_with_its_errors() -> None:
    with pytest.raises(SystemExit, match="without saying it was ready") as refused:
        bench_instructions.instructions_of(
            "import sys; sys.stderr.write('nothing to count')", ROOT / "src", 2, 3, counted=False, steady=True
        )
    assert "nothing to count" in str(refused.value)


def test_the_columns_benchmark_runs_and_reports_the_travellers_it_timed() -> None:
    import json as json_module
    import subprocess

    done = subprocess.run(
        [
            sys.executable,
            str(ROOT / "benchmarks" / "bench_columns.py"),
            "--persons",
            "300",
            "--repeat",
            "1",
            "--json",
        ],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 0, done.stderr
    report = json_module.loads(done.stdout)
    assert (
        report["travellers_in_scope"] > 0
        and 0 < report["answered_by_columns"] <= report["travellers_in_scope"]
    )
