"""How fast ``kzmig compare`` runs an amendment over a population: wall time, CPU time, peak memory.

A script, not a test (nothing here asserts on timing). Run from the checkout::

    .venv/bin/python benchmarks/bench_population.py --persons 100000            # one process
    .venv/bin/python benchmarks/bench_population.py --persons 1000000 --jobs 2   # the issue's size
    .venv/bin/python benchmarks/bench_population.py --persons 20000 --previous /tmp/prev

It writes a population of generated persons to a JSON Lines file (kept and reused for the same
size and seed): 90 % travellers (the generator of ``bench_evaluate.py``: mixed nationalities,
1-20 trips over 2023-2026, some statuses, some facts missing), 5 % permanent-residence
applicants and 5 % kandas families (the examples, varied). It then runs ``kzmig compare`` on it
with the 60-day amendment of ``examples/amendments`` (``--amendment FILE`` for another: the
doubled fines of ``sanction-fines-doubled.yaml`` reach only those who overstayed) on 2026-03-20
(``--format text``, the changed records written to a file), as a separate process, and reports:

* wall time, and records per second;
* CPU time of the run and its worker processes (user + system);
* peak memory: the largest sum of the resident set sizes of the run's process tree, sampled
  every 50 ms from ``/proc`` (Linux);
* the Python version and the machine.

``--repeat N`` runs each checkout N times, alternated, and reports the median run (the machine
is shared: its speed drifts from minute to minute). The report ends with the project's target (a
million persons in at most 60 s on two cores, peak memory at most 1.5 GB) and whether it is met;
for a smaller population, at the rate of this run.

``--workers-read`` runs ``kzmig compare --workers-read``: the worker processes read the file
themselves instead of the command passing every record to them. Without it, the command reads
(``--command-reads``, where the checkout has that option: since the eleventh round, ``--jobs``
with one JSON Lines file has the workers read unless told otherwise).

``--previous DIR`` runs the same population through the ``kzmig`` of another checkout (its
``src`` first on ``PYTHONPATH``; e.g. ``git worktree add /tmp/prev <commit>``), in the same run,
and gives the ratios. A checkout whose ``compare`` has no ``--changes`` or ``--jobs`` is run
without them.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import random
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "benchmarks"))

from bench_evaluate import generated_persons, kandas_family, residence_applicant  # noqa: E402

AMENDMENT = ROOT / "examples" / "amendments" / "limit-60-days.yaml"
#: The project's targets for a population compare on its 2-core machine (issue 9): a million
#: persons in at most a minute of wall time, peak memory at most 1.5 GB.
TARGET_PERSONS = 1_000_000
TARGET_WALL_S = 60.0
TARGET_PEAK_MB = 1536.0
#: The fewest persons whose rate is carried over to a million.
MIN_PERSONS_FOR_TARGET = 10_000
ON = "2026-03-20"
BLOCK = 10_000


def population(path: Path, count: int, seed: int) -> Path:
    """Write ``count`` persons to ``path`` (JSON Lines), block by block: memory stays flat."""
    if path.exists() and path.stat().st_size > 0:
        return path
    partial = path.with_suffix(".partial")
    with partial.open("w", encoding="utf-8") as handle:
        for person in population_records(count, seed):
            handle.write(json.dumps(person) + "\n")
    partial.rename(path)
    return path


def population_records(count: int, seed: int) -> Iterator[dict[str, Any]]:
    """The persons of :func:`population`, one by one (the same for the same count and seed)."""
    rng = random.Random(seed)
    applicant, family = residence_applicant(), kandas_family()
    written = 0
    block = 0
    while written < count:
        size = min(BLOCK, count - written)
        for person, _ in generated_persons(size, seed * 1_000_003 + block):
            draw = rng.random()
            if draw < 0.05:
                person = _varied_applicant(applicant, rng)
            elif draw < 0.10:
                person = _varied_family(family, rng)
            person["person_id"] = f"P-{written:07d}"
            yield person
            written += 1
        block += 1


def _varied_applicant(template: dict[str, Any], rng: random.Random) -> dict[str, Any]:
    person: dict[str, Any] = json.loads(json.dumps(template))
    test = person["residence_application"]["language_test"]
    test["listening_pct"] = rng.randint(20, 90)
    test["reading_pct"] = rng.randint(20, 90)
    test["level"] = rng.choice(["A1", "A2", "B1"])
    person["residence_application"]["questionnaire"]["experience_years"] = rng.randint(0, 15)
    if rng.random() < 0.3:
        person["residence_application"]["interview"] = "pending"
    return person


def _varied_family(template: dict[str, Any], rng: random.Random) -> dict[str, Any]:
    person: dict[str, Any] = json.loads(json.dumps(template))
    contract = person["social_contract"]
    contract["family_members"] = rng.randint(1, 8)
    for item in contract["support"]:
        item["amount_kzt"] = int(item["amount_kzt"] * rng.uniform(0.5, 1.5))
    if rng.random() < 0.5:
        contract["moves"] = contract["moves"][:1]
    return person


def tree_sample(root: int, cpu: dict[int, float]) -> int:
    """Resident set size of ``root`` and its descendants, in bytes (0 once it is gone); the CPU
    seconds each has used so far (its own, not its children's) are recorded in ``cpu``, so that
    workers no process waits for (a forkserver's children) are counted too."""
    children: dict[int, list[int]] = {}
    rss: dict[int, int] = {}
    used: dict[int, float] = {}
    ticks = os.sysconf("SC_CLK_TCK")
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat") as handle:
                fields = handle.read().rsplit(")", 1)[1].split()
        except OSError:
            continue
        pid, parent = int(entry), int(fields[1])
        children.setdefault(parent, []).append(pid)
        rss[pid] = int(fields[21]) * os.sysconf("SC_PAGE_SIZE")
        used[pid] = (int(fields[11]) + int(fields[12])) / ticks  # its own utime and stime
    total, stack = 0, [root]
    while stack:
        pid = stack.pop()
        total += rss.get(pid, 0)
        if pid in used:
            cpu[pid] = used[pid]
        stack.extend(children.get(pid, ()))
    return total


def run(command: list[str], env: dict[str, str]) -> dict[str, Any]:
    """Run ``command``; its wall time, CPU time (with its children) and peak tree memory.

    CPU: the larger of what the operating system accounts to the finished process with the
    children it waited for, and the sum of the last CPU time sampled of each process of its
    tree (children that are never waited for, such as a forkserver's workers, count only there;
    up to 50 ms of each process's last moments may be missed)."""
    before = os.times()
    start = time.perf_counter()
    sampled: dict[int, float] = {}
    with tempfile.TemporaryFile() as errors:
        process = subprocess.Popen(command, env=env, stdout=subprocess.PIPE, stderr=errors, text=True)
        peak = 0
        while process.poll() is None:
            peak = max(peak, tree_sample(process.pid, sampled))
            time.sleep(0.05)
        stdout = process.stdout.read() if process.stdout is not None else ""
        wall = time.perf_counter() - start
        after = os.times()
        errors.seek(0)
        stderr = errors.read().decode(errors="replace")
    if process.returncode != 0:
        raise SystemExit(f"{' '.join(command)} exited {process.returncode}:\n{stderr[-2000:]}")
    accounted = after.children_user - before.children_user + after.children_system - before.children_system
    cpu = max(accounted, sum(sampled.values()))
    return {"wall_s": wall, "cpu_s": cpu, "peak_rss_mb": peak / 2**20, "summary": stdout.splitlines()[:2]}


def kzmig(
    checkout: Path,
    people: Path,
    jobs: int,
    changes: Path,
    modern: bool,
    workers_read: bool = False,
    amendment: Path = AMENDMENT,
    command_reads: bool = False,
    engine: str | None = None,
) -> tuple[list[str], dict[str, str]]:
    env = dict(os.environ)
    env["PYTHONPATH"] = str(checkout / "src")
    command = [
        sys.executable, "-c", "from rules.cli.app import main; main()",
        "compare", str(people), "--on", ON, "--amend", str(amendment),
        "--policy", str(checkout / "policies" / "kz"), "--show", "0",
    ]  # fmt: skip
    if modern:
        command += ["--jobs", str(jobs), "--changes", str(changes), "--progress", "off"]
    if workers_read:
        command.append("--workers-read")
    elif command_reads:  # without --workers-read, the command reads (kzmig's default differs)
        command.append("--command-reads")
    if engine is not None:
        command += ["--engine", engine]
    return command, env


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--persons", type=int, default=100_000)
    parser.add_argument("--jobs", type=int, default=1)
    parser.add_argument("--seed", type=int, default=2026)
    parser.add_argument("--data", type=Path, default=Path(tempfile.gettempdir()) / "kzmig-bench")
    parser.add_argument("--previous", type=Path, help="Another checkout to run on the same population.")
    parser.add_argument("--json", action="store_true", help="Print the report as JSON.")
    parser.add_argument(
        "--amendment",
        type=Path,
        default=AMENDMENT,
        help=f"The amendment to compare (default {AMENDMENT.relative_to(ROOT)}).",
    )
    parser.add_argument(
        "--workers-read",
        action="store_true",
        help="Run compare with --workers-read (the workers read the file); a --previous checkout "
        "without that option reads it itself.",
    )
    parser.add_argument(
        "--engine",
        choices=("records", "columns"),
        help="Run compare with --engine (columns: the workers read the file); default: kzmig's own.",
    )
    parser.add_argument(
        "--engines",
        action="store_true",
        help="Run this checkout with --engine columns as 'now' and --engine records as 'previous', "
        "in turns (instead of --previous).",
    )
    parser.add_argument(
        "--repeat",
        type=int,
        default=1,
        help="Runs of each checkout, alternated (now, previous, now, ...); the median is reported.",
    )
    args = parser.parse_args(argv)
    if args.repeat < 1:
        parser.error("--repeat is at least 1")
    if args.engines and (args.previous is not None or args.engine is not None):
        parser.error("--engines runs both engines of this checkout: give neither --previous nor --engine")

    args.data.mkdir(parents=True, exist_ok=True)
    started = time.perf_counter()
    people = population(args.data / f"population-{args.persons}-{args.seed}.jsonl", args.persons, args.seed)
    generated = time.perf_counter() - started
    changes = args.data / "changes.jsonl"
    report: dict[str, Any] = {
        "persons": args.persons,
        "jobs": args.jobs,
        "amendment": args.amendment.name,
        "on": ON,
        "python": sys.version.split()[0],
        "machine": f"{platform.machine()}, {os.cpu_count()} cores, {platform.platform()}",
        "population_file_mb": people.stat().st_size / 2**20,
        "generation_s": generated,
    }
    engine = "columns" if args.engines else args.engine
    workers_read = args.workers_read and engine != "columns"  # the columns read the file themselves
    commands = {
        "now": kzmig(
            ROOT,
            people,
            args.jobs,
            changes,
            True,
            workers_read,
            args.amendment.resolve(),
            engine is None,
            engine,
        )
    }
    if args.engines:
        commands["previous"] = kzmig(
            ROOT,
            people,
            args.jobs,
            changes,
            True,
            args.workers_read,
            args.amendment.resolve(),
            True,
            "records",
        )
    if args.previous is not None:
        help_text = subprocess.run(
            [sys.executable, "-c", "from rules.cli.app import main; main()", "compare", "--help"],
            env={**os.environ, "PYTHONPATH": str(args.previous / "src")},
            capture_output=True,
            text=True,
        ).stdout
        modern = "--changes" in help_text
        workers_read = args.workers_read and "--workers-read" in help_text
        commands["previous"] = kzmig(
            args.previous,
            people,
            args.jobs,
            changes,
            modern,
            workers_read,
            args.amendment.resolve(),
            "--command-reads" in help_text and args.engine != "columns",  # the columns read the file
            args.engine if "--engine" in help_text else None,  # the same engine, where it has one
        )
    runs: dict[str, list[dict[str, Any]]] = {name: [] for name in commands}
    for _ in range(args.repeat):  # alternated, so that a drift of the machine's speed hits both
        for name, (command, env) in commands.items():
            runs[name].append(run(command, env))
    for name, found in runs.items():
        ordered = sorted(found, key=lambda result: result["wall_s"])
        report[name] = dict(ordered[len(ordered) // 2])  # the median run (the upper one of two)
        report[name]["records_per_s"] = args.persons / report[name]["wall_s"]
        report[name]["wall_s_runs"] = [result["wall_s"] for result in found]
        report[name]["workers_read"] = "--workers-read" in commands[name][0] or "columns" in commands[name][0]
        report[name]["engine"] = "columns" if "columns" in commands[name][0] else "records"
    if "previous" in report:
        report["ratio_wall"] = report["previous"]["wall_s"] / report["now"]["wall_s"]
        report["ratio_peak_memory"] = report["previous"]["peak_rss_mb"] / report["now"]["peak_rss_mb"]
    million_s = TARGET_PERSONS / report["now"]["records_per_s"]
    # Under 10,000 persons start-up and policy loading weigh on the rate: no verdict on the target.
    judged = args.persons >= MIN_PERSONS_FOR_TARGET
    report["target"] = {
        "persons": TARGET_PERSONS,
        "wall_s": TARGET_WALL_S,
        "peak_rss_mb": TARGET_PEAK_MB,
        # Measured when the run is of a million persons; else the rate of this run carried over.
        "million_wall_s": million_s,
        "million_wall_measured": args.persons == TARGET_PERSONS,
        "met": (million_s <= TARGET_WALL_S and report["now"]["peak_rss_mb"] <= TARGET_PEAK_MB)
        if judged
        else None,
    }
    if args.json:
        print(json.dumps(report, indent=2))
        return 0
    print(f"kzmig compare, {args.persons:,} persons, --jobs {args.jobs}, {args.amendment.name} on {ON}")
    print(f"Python {report['python']}; {report['machine']}")
    print(
        f"population file: {report['population_file_mb']:.0f} MB (generated in {generated:.1f} s, or reused)"
    )
    for name in ("now", "previous"):
        if name in report:
            found = report[name]
            spread = ""
            if len(found["wall_s_runs"]) > 1:
                walls = sorted(found["wall_s_runs"])
                spread = f" (median of {len(walls)} runs: {walls[0]:.1f}-{walls[-1]:.1f} s)"
            reading = " (--workers-read)" if found["workers_read"] else ""
            if found["engine"] == "columns":
                reading = " (--engine columns)"
            print(
                f"{name:>8}: wall {found['wall_s']:.1f} s{spread}, CPU {found['cpu_s']:.1f} s, "
                f"peak memory {found['peak_rss_mb']:.0f} MB, {found['records_per_s']:,.0f} records/s{reading}"
            )
            for line in found["summary"]:
                print(f"          {line}")
    if "ratio_wall" in report:
        ratios = f"wall {report['ratio_wall']:.2f}x, peak memory {report['ratio_peak_memory']:.2f}x"
        print(f"previous / now: {ratios}")
    target = report["target"]
    how = "measured" if target["million_wall_measured"] else "at this run's rate"
    if target["met"] is None:
        print(f"  target: {TARGET_PERSONS:,} persons in <= {TARGET_WALL_S:.0f} s: run 10,000 or more for it")
        return 0
    print(
        f"  target: {TARGET_PERSONS:,} persons in <= {TARGET_WALL_S:.0f} s wall, peak <= "
        f"{TARGET_PEAK_MB:,.0f} MB; now {target['million_wall_s']:,.0f} s for a million ({how}), "
        f"peak {report['now']['peak_rss_mb']:,.0f} MB: {'met' if target['met'] else 'not met'}"
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
