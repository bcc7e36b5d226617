"""What one evaluation costs in machine instructions, counted, not timed: for A/B comparisons on
a machine whose speed drifts. A script, not a test (nothing here asserts on cost).

Run from the checkout (needs valgrind; a count takes about 25 s)::

    .venv/bin/python benchmarks/bench_instructions.py
    .venv/bin/python benchmarks/bench_instructions.py --previous /tmp/prev   # another checkout too

Wall times on the project's shared 2-core machine drift by 10-20 % between runs, so a change
worth 2 % cannot be seen in them. The instructions the CPU executes for the same work hardly
vary from run to run. This script runs a person of ``bench_evaluate.py`` (``--person``: the
20-trip person, the residence applicant or the kandas family, each on its benchmark date)
through ``Evaluator.evaluate`` (full verdict and trace, firing cache off) ``--few`` times and
``--many`` times, each in a fresh process under valgrind's callgrind, and reports the difference divided
by the number of extra evaluations: the instructions of one warm evaluation. Only the loop
is counted: the process starts and loads the policy with valgrind's instrumentation off, says
it is ready, and the script turns it on (``callgrind_control -i on``) before the loop, which
runs inside ``functools.reduce`` so that callgrind collects inside that function only.
``--person compare`` counts ``kzmig compare``'s work per record
instead: the persons of ``bench_population.py``'s population (the first ``--many``; travellers,
residence applicants, kandas families) compared under its amendment (``--amendment`` for
another), as a worker compares them (the verdicts without traces first; a changed record's
traces and why then), per record compared. With ``--previous DIR`` the same is counted for
the ``src`` of another checkout (``git worktree add /tmp/prev <commit>``) and the ratio is given.

Counts of the same code differ by up to about 3 % between runs: the cycle collector's full
collections examine everything alive, the policy included, at moments that differ between the
short and the long run. ``--steady`` freezes what was built before the loop out of its sight
(as ``kzmig`` and its workers do once the policy is loaded) and fixes the hash seed: counts
then repeat to about 0.01 %, for changes too small to see otherwise. Counts made with it are
compared only with counts made with it.

Instructions are not time (a cache miss costs more than an addition), but for the interpreter's
own work they move together; quote them as what they are.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]

#: The persons of ``bench_evaluate.py``: its function and its evaluation date, by name.
PERSONS = {
    "trips": ("realistic_person", "AS_OF", "the 20-trip person"),
    "residence": ("residence_applicant", "RESIDENCE_ON", "the residence applicant"),
    "kandas": ("kandas_family", "KANDAS_ON", "the kandas family"),
}

#: Evaluates a benchmark person ``sys.argv[1]`` times, warm after the first.
WORKLOAD = """
import functools, sys
sys.path.insert(0, {benchmarks!r})
from bench_evaluate import {day}, {person}
from rules.engine.evaluator import Evaluator
from rules.policy.loader import load_policy
evaluator = Evaluator(load_policy(), cache_size=0)
person = {person}()
{steady}
{start}
functools.reduce(lambda _, __: evaluator.evaluate(person, {day}), range(int(sys.argv[1])), None)
"""


#: Compares the first ``sys.argv[1]`` of ``sys.argv[2]`` persons of ``bench_population.py``'s
#: population under its amendment on its date, as ``kzmig compare`` does each record (the
#: comparison built once, as in a worker). Both runs generate the same persons, so only the
#: comparisons differ.
WORKLOAD_COMPARE = """
import functools, sys, datetime as dt
sys.path.insert(0, {benchmarks!r})
from bench_population import ON, population_records
from rules.analysis.population import PolicySpec, built_comparison, compare_record
comparison = built_comparison(PolicySpec.of_files(None), PolicySpec.of_files(None, [{amendment!r}]))
records = list(population_records(int(sys.argv[2]), {seed}))
on = dt.date.fromisoformat(ON)
{steady}
{start}
functools.reduce(
    lambda _, item: compare_record(comparison, item[0], item[1], [on], ()),
    enumerate(records[: int(sys.argv[1])]),
    None,
)
"""
#: With ``--steady``, run before the timed loop: what was built so far (the policy, the engine,
#: the persons) is frozen out of the cycle collector's sight, as ``kzmig`` and its workers do
#: once the policy is loaded, so full collections do not examine it again at moments that
#: differ between the two runs.
STEADY = "import gc; gc.collect(); gc.freeze()"
#: Run just before the loop: says it is ready and waits to be told to go, so that the parent
#: turns valgrind's instrumentation on (``callgrind_control -i on``) for the loop only.
START = "print('ready', flush=True); sys.stdin.readline()"
#: The function the loop runs in (``functools.reduce``, a C function): callgrind counts only
#: what is executed inside it (``--toggle-collect``).
LOOP_FUNCTION = "functools_reduce"
#: The seed of ``bench_population.py``'s population (its default).
POPULATION_SEED = 2026


def instructions(
    src: Path,
    runs: int,
    person: str,
    of: int = 0,
    amendment: Path | None = None,
    *,
    counted: bool = True,
    steady: bool = False,
) -> int:
    """The instructions of a fresh process that evaluates ``person`` ``runs`` times (``compare``:
    compares the first ``runs`` of ``of`` persons of the population under ``amendment``).
    ``counted=False``: the same process without valgrind, to warm the bytecode; 0. ``steady``:
    see :data:`STEADY`; the hash seed is fixed too, so that sets and dicts of text are laid
    out alike in every run."""
    if person == "compare":
        code = WORKLOAD_COMPARE.format(
            benchmarks=str(ROOT / "benchmarks"),
            seed=POPULATION_SEED,
            amendment=str(amendment or ROOT / "examples" / "amendments" / "limit-60-days.yaml"),
            steady=STEADY if steady else "",
            start=START,
        )
    else:
        function, day, _ = PERSONS[person]
        code = WORKLOAD.format(
            benchmarks=str(ROOT / "benchmarks"),
            person=function,
            day=day,
            steady=STEADY if steady else "",
            start=START,
        )
    return instructions_of(code, src, runs, of, counted=counted, steady=steady)


def instructions_of(code: str, src: Path, runs: int, of: int, *, counted: bool, steady: bool) -> int:
    """The instructions of a fresh process running ``code`` with ``runs`` and ``of`` as its two
    arguments, ``src`` first on its path (see :func:`instructions`)."""
    # kzmig's cache off: a run that wrote the calendar file would make the next start cheaper,
    # and the start-ups of the two runs must cost the same to cancel out.
    env = {**os.environ, "PYTHONPATH": str(src), "KZMIG_CACHE_DIR": "off"}
    if steady:
        env["PYTHONHASHSEED"] = "0"
    # Start-up and loading run uninstrumented (fast); the loop's instructions only are counted.
    valgrind = (
        [
            "valgrind",
            "--tool=callgrind",
            "--callgrind-out-file=/dev/null",
            "--instr-atstart=no",
            "--collect-atstart=no",
            f"--toggle-collect={LOOP_FUNCTION}",
        ]
        if counted
        else []
    )
    # Standard error goes to a file, not a pipe: a workload that wrote much there before it is
    # ready would otherwise fill the pipe and wait for ever, while this waits for its "ready".
    with tempfile.TemporaryFile("w+", encoding="utf-8") as errors:
        process = subprocess.Popen(
            [*valgrind, sys.executable, "-c", code, str(runs), str(of)],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=errors,
            text=True,
            env=env,
        )
        assert process.stdin is not None and process.stdout is not None
        ready = process.stdout.readline().strip() == "ready"
        if ready and counted:
            on = ["callgrind_control", "-i", "on", str(process.pid)]
            subprocess.run(on, capture_output=True, check=False)
        try:
            process.stdin.write("go\n")
            process.stdin.flush()
        except BrokenPipeError:
            pass  # it has ended already: its errors say why
        process.communicate()
        errors.seek(0)
        stderr = errors.read()
    if not ready:
        # Its loop would have run uninstrumented: every count would be 0.
        said = stderr[-2000:]
        raise SystemExit(f"the workload ended without saying it was ready for its loop ({src}):\n{said}")
    if not counted:
        if process.returncode != 0:
            raise SystemExit(f"the warm-up run failed for {src}:\n{stderr[-2000:]}")
        return 0
    found = re.search(r"I\s+refs:\s+([\d,]+)", stderr)
    if process.returncode != 0 or found is None or int(found.group(1).replace(",", "")) == 0:
        raise SystemExit(f"valgrind failed for {src}:\n{stderr[-2000:]}")
    return int(found.group(1).replace(",", ""))


def per_evaluation(
    src: Path, few: int, many: int, person: str, amendment: Path | None = None, *, steady: bool = False
) -> float:
    # One uncounted run first, without valgrind: where bytecode is written, the first process to
    # import a checkout's modules compiles them (hundreds of millions of instructions) and the
    # next one reads them, so the two counted runs would not start alike (a fresh worktree for
    # --previous read 2.7 times its true count).
    instructions(src, few, person, many, amendment, counted=False, steady=steady)
    counts = [instructions(src, runs, person, many, amendment, steady=steady) for runs in (many, few)]
    return (counts[0] - counts[1]) / (many - few)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__.split("\n\n", 1)[0], formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--few", type=int, default=20, help="evaluations of the shorter run (20)")
    parser.add_argument("--many", type=int, default=220, help="evaluations of the longer run (220)")
    parser.add_argument(
        "--person",
        choices=[*sorted(PERSONS), "compare"],
        default="trips",
        help=(
            "whom to evaluate (default trips: the 20-trip person); compare: kzmig compare's work "
            "per record instead, the persons of bench_population.py under its amendment"
        ),
    )
    parser.add_argument(
        "--amendment",
        type=Path,
        default=ROOT / "examples" / "amendments" / "limit-60-days.yaml",
        help="with --person compare: the amendment compared (default limit-60-days.yaml)",
    )
    parser.add_argument("--previous", type=Path, help="another checkout to count too")
    parser.add_argument(
        "--steady",
        action="store_true",
        help=(
            "freeze what was built before the loop out of the cycle collector's sight (as kzmig "
            "does) and fix the hash seed: counts repeat to about 0.01 %% instead of about 3 %%, "
            "for changes too small to see otherwise; not comparable with counts made without it"
        ),
    )
    parser.add_argument("--json", action="store_true", help="print one JSON document")
    args = parser.parse_args(argv)
    if not 1 <= args.few < args.many:
        parser.error("--few must be at least 1 and less than --many")
    if shutil.which("valgrind") is None:
        parser.error("valgrind is not installed (Debian: apt-get install valgrind)")

    def counted(checkout: Path) -> float:
        return per_evaluation(
            checkout / "src", args.few, args.many, args.person, args.amendment.resolve(), steady=args.steady
        )

    report: dict[str, Any] = {
        "python": sys.version.split()[0],
        "workload": (
            f"compare_record per record, persons {args.few + 1}-{args.many} of bench_population.py's "
            f"population, {args.amendment.name} on its date"
            if args.person == "compare"
            else f"Evaluator.evaluate, {PERSONS[args.person][2]} of bench_evaluate.py, full verdict and trace"
        ),
        "steady": args.steady,
        "now": counted(ROOT),
    }
    if args.previous is not None:
        report["previous"] = counted(args.previous)
        report["ratio"] = report["now"] / report["previous"]
    if args.json:
        print(json.dumps(report, indent=2))
        return 0
    unit = "record compared" if args.person == "compare" else "evaluation"
    steady = "; --steady" if args.steady else ""
    print(f"instructions per {unit} ({report['workload']}; Python {report['python']}{steady})")
    print(f"     now: {report['now']:,.0f}")
    if "previous" in report:
        print(f"previous: {report['previous']:,.0f}")
        print(f"now / previous: {report['ratio']:.3f}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
