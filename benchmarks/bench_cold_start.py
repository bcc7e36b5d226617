"""How long ``kzmig`` takes to start and answer, each run in a fresh process (a cold start).

A script, not a test (nothing here asserts on timing). Run from the checkout::

    .venv/bin/python benchmarks/bench_cold_start.py                      # text report
    .venv/bin/python benchmarks/bench_cold_start.py --runs 20 --json     # machine-readable
    .venv/bin/python benchmarks/bench_cold_start.py --bytecode cached    # with a bytecode cache
    .venv/bin/python benchmarks/bench_cold_start.py --src /tmp/other/src # another checkout

Each command (by default: ``kzmig check`` of the driver of the README, ``kzmig --version``,
``kzmig --help``, the floor under the check of the driver, ``kzmig check`` of the residence
applicant, and ``kzmig compare`` of the 8-person population with
``examples/amendments/limit-60-days.yaml``) runs ``--warmup`` times uncounted, then ``--runs``
times, the commands taking turns, each in a new interpreter started the way the ``kzmig``
console script starts one (``from rules.cli.app import main``), with the ``rules`` and
``models`` packages of ``--src`` first on the path. It reports the wall time of each run (min,
median, max) and the peak resident memory of the process (``ru_maxrss`` from ``wait4``), with
the exit status and the Python version; then the 15 modules that took the longest to import,
children included (``python -X importtime``), for the first command.

The floor (``check floor``, see ``cold_start_floor.py``) is the check of the driver with kzmig's
engine taken out: the interpreter, typer parsing every option of ``check``, pydantic validating the
file with a stand-in model. The report gives the floor's median and kzmig's part, the median of
the differences between a run of the check and the run of the floor in the same turn: the time
kzmig's own policy and engine add, which is the part of the target the project's code decides.

Bytecode: with ``PYTHONDONTWRITEBYTECODE`` set (as on the project's machine) the interpreter
compiles every module of ``src`` from source at each start, since nothing writes the
``__pycache__`` files an installed package has. ``--bytecode as-is`` (the default) measures
that; ``--bytecode cached`` gives the runs a private cache (``PYTHONPYCACHEPREFIX`` in a
temporary directory, filled by the warm-up) as a pip-installed kzmig has.

kzmig's own cache (loaded policies and the working-day calendar, ``KZMIG_CACHE_DIR``): with
``--kzmig-cache warm`` (the default) the runs share a private directory that the warm-up fills,
as every check after a caseworker's first finds it; ``--kzmig-cache off`` measures a start that
loads the policy from its YAML files and imports the holiday calendar, as the very first does.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]

#: What the ``kzmig`` console script runs.
LAUNCH = "import sys; from rules.cli.app import main; sys.argv[0] = 'kzmig'; sys.exit(main())"

#: The ``check floor`` command: kzmig's command line with a stand-in for the body of ``check``
#: (``cold_start_floor.py``): the interpreter and the dependencies, without kzmig's engine.
LAUNCH_FLOOR = (
    f"import sys; sys.path.insert(0, {str(ROOT / 'benchmarks')!r}); "
    "from cold_start_floor import main; sys.argv[0] = 'kzmig'; sys.exit(main())"
)

#: The project's target (issue 9): ``kzmig check`` of one person, cold, at most this many
#: seconds (median wall time of "check driver").
TARGET_CHECK_S = 0.250

#: name -> the arguments of ``kzmig``, relative to the checkout.
COMMANDS: dict[str, list[str]] = {
    "check driver": ["check", "examples/persons/driver-A-17.json", "--on", "2024-08-01"],
    "version": ["--version"],
    "help": ["--help"],
    "check floor": ["check", "examples/persons/driver-A-17.json", "--on", "2024-08-01"],
    "check residence": ["check", "examples/persons/residence-RA-1.yaml", "--on", "2026-06-01"],
    "compare population": [
        "compare",
        "examples/persons/population-2026.jsonl",
        "--on",
        "2026-03-20",
        "--amend",
        "examples/amendments/limit-60-days.yaml",
    ],
}


def _environment(src: Path, pycache: str | None, kept: str) -> dict[str, str]:
    env = dict(os.environ)
    env["KZMIG_CACHE_DIR"] = kept
    env["PYTHONPATH"] = os.pathsep.join([str(src), *filter(None, [env.get("PYTHONPATH")])])
    if pycache is not None:
        env.pop("PYTHONDONTWRITEBYTECODE", None)
        env["PYTHONPYCACHEPREFIX"] = pycache
    return env


def _run_once(argv: list[str], env: dict[str, str]) -> tuple[float, int, int]:
    """One run: (wall seconds, peak RSS in KiB, exit status)."""
    start = time.perf_counter()
    process = subprocess.Popen(
        argv,
        cwd=ROOT,
        env=env,
        stdin=subprocess.DEVNULL,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    _, status, usage = os.wait4(process.pid, 0)
    wall = time.perf_counter() - start
    process.returncode = os.waitstatus_to_exitcode(status)  # reaped here, not by Popen
    return wall, usage.ru_maxrss, process.returncode


def measure(argvs: dict[str, list[str]], env: dict[str, str], runs: int, warmup: int) -> dict[str, Any]:
    """Run every command ``warmup`` times, then ``runs`` times, in turn (A B C A B C ...): the
    machine's speed drifts from minute to minute, and taking turns spreads the drift over all
    of them instead of favouring whichever ran in a quiet minute."""
    for _ in range(warmup):
        for argv in argvs.values():
            _run_once(argv, env)
    walls: dict[str, list[float]] = {name: [] for name in argvs}
    peaks: dict[str, list[int]] = {name: [] for name in argvs}
    statuses: dict[str, set[int]] = {name: set() for name in argvs}
    for _ in range(runs):
        for name, argv in argvs.items():
            wall, peak, status = _run_once(argv, env)
            walls[name].append(wall)
            peaks[name].append(peak)
            statuses[name].add(status)
    return {
        name: {
            "args": argv[3:],
            "runs": runs,
            "wall_s": {
                "min": min(walls[name]),
                "median": statistics.median(walls[name]),
                "max": max(walls[name]),
            },
            "wall_s_each": walls[name],
            "peak_rss_mib": {
                "min": min(peaks[name]) / 1024,
                "median": statistics.median(peaks[name]) / 1024,
                "max": max(peaks[name]) / 1024,
            },
            "exit_status": sorted(statuses[name]),
        }
        for name, argv in argvs.items()
    }


def import_times(argv: list[str], env: dict[str, str], top: int = 15) -> list[dict[str, Any]]:
    """The ``top`` modules with the longest cumulative import time (microseconds) in one run
    of the command ``argv`` (as :func:`measure` runs it)."""
    done = subprocess.run(
        [argv[0], "-X", "importtime", *argv[1:]],
        cwd=ROOT,
        env=env,
        stdin=subprocess.DEVNULL,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
        check=False,
    )
    rows: list[dict[str, Any]] = []
    for line in done.stderr.splitlines():
        if not line.startswith("import time:") or "cumulative" in line:
            continue
        own, cumulative, name = line.removeprefix("import time:").split("|")
        rows.append({"module": name.strip(), "self_us": int(own), "cumulative_us": int(cumulative)})
    rows.sort(key=lambda row: row["cumulative_us"], reverse=True)
    return [{"modules_imported": len(rows)}, *rows[:top]]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--runs", type=int, default=10, help="counted runs of each command (default 10)")
    parser.add_argument("--warmup", type=int, default=1, help="uncounted runs first (default 1)")
    parser.add_argument(
        "--src", type=Path, default=ROOT / "src", help="the source tree to run (default ./src)"
    )
    parser.add_argument(
        "--bytecode",
        choices=("as-is", "cached"),
        default="as-is",
        help="as-is: the environment decides (PYTHONDONTWRITEBYTECODE); cached: a private bytecode cache",
    )
    parser.add_argument(
        "--kzmig-cache",
        choices=("warm", "off"),
        default="warm",
        help="warm: a private kzmig cache directory, filled by the warm-up (loaded policies, the "
        "working-day calendar), as for every check after a caseworker's first; off: KZMIG_CACHE_DIR=off",
    )
    parser.add_argument("--only", action="append", choices=sorted(COMMANDS), help="run only this command")
    parser.add_argument("--json", action="store_true", help="print one JSON document")
    options = parser.parse_args()

    with (
        tempfile.TemporaryDirectory(prefix="kzmig-pycache-") as cache,
        tempfile.TemporaryDirectory(prefix="kzmig-cache-") as kept,
    ):
        kzmig_cache = kept if options.kzmig_cache == "warm" else "off"
        env = _environment(
            options.src.resolve(), cache if options.bytecode == "cached" else None, kzmig_cache
        )
        warm = options.bytecode == "cached" or options.kzmig_cache == "warm"
        warmup = max(options.warmup, 1) if warm else options.warmup
        chosen = options.only or list(COMMANDS)
        argvs = {
            name: [sys.executable, "-c", LAUNCH_FLOOR if name == "check floor" else LAUNCH, *COMMANDS[name]]
            for name in chosen
        }
        results = measure(argvs, env, options.runs, warmup)
        imports = import_times(argvs[chosen[0]], env)

    report = {
        "python": platform.python_version(),
        "implementation": platform.python_implementation(),
        "machine": f"{platform.machine()}, {os.cpu_count()} cores",
        "src": str(options.src),
        "bytecode": options.bytecode,
        "kzmig_cache": options.kzmig_cache,
        "PYTHONDONTWRITEBYTECODE": os.environ.get("PYTHONDONTWRITEBYTECODE"),
        "commands": results,
        "import_time_top": {"command": chosen[0], "modules": imports},
    }
    if "check driver" in results:
        median = results["check driver"]["wall_s"]["median"]
        report["target"] = {"check_s": TARGET_CHECK_S, "measured_s": median, "met": median <= TARGET_CHECK_S}
        if "check floor" in results:
            # Run i of the check and run i of the floor ran in the same turn: the median of
            # their differences is the engine's part, less disturbed by drift than a difference
            # of medians.
            checks, floors = results["check driver"]["wall_s_each"], results["check floor"]["wall_s_each"]
            each = zip(checks, floors, strict=True)
            report["target"]["floor_s"] = results["check floor"]["wall_s"]["median"]
            report["target"]["engine_s"] = statistics.median(check - floor for check, floor in each)
    if options.json:
        print(json.dumps(report, indent=2))
        return
    print(
        f"Python {report['python']} ({report['implementation']}), {report['machine']}; src {options.src}; "
        f"bytecode {options.bytecode} (PYTHONDONTWRITEBYTECODE={report['PYTHONDONTWRITEBYTECODE']}); "
        f"kzmig cache {options.kzmig_cache}"
    )
    print(
        f"{'command':20s} {'runs':>4s}  {'wall min':>9s} {'median':>9s} {'max':>9s}  "
        f"{'peak RSS MiB':>12s}  exit"
    )
    for name, result in results.items():
        wall, peak = result["wall_s"], result["peak_rss_mib"]
        print(
            f"{name:20s} {result['runs']:4d}  {wall['min'] * 1000:7.0f}ms {wall['median'] * 1000:7.0f}ms "
            f"{wall['max'] * 1000:7.0f}ms  {peak['median']:12.1f}  {result['exit_status']}"
        )
    if "target" in report:
        target = report["target"]
        print(
            f"target: check driver <= {target['check_s'] * 1000:.0f}ms median; now "
            f"{target['measured_s'] * 1000:.0f}ms: {'met' if target['met'] else 'not met'}"
        )
        if "floor_s" in target:
            print(
                f"  of which the floor (interpreter, typer, pydantic, kzmig's command line; no "
                f"engine) {target['floor_s'] * 1000:.0f}ms median; kzmig's policy and engine the rest, "
                f"{target['engine_s'] * 1000:.0f}ms (median of the differences, run by run)"
            )
    count, *top = imports
    print(
        f"\nimport time, top 15 by cumulative ({chosen[0]!r}, {count['modules_imported']} modules imported):"
    )
    for row in top:
        print(
            f"  {row['cumulative_us'] / 1000:8.1f} ms  (self {row['self_us'] / 1000:6.1f})  {row['module']}"
        )


if __name__ == "__main__":
    main()
