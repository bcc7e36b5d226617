"""What hostile input costs: each reproducer of a defect once found, run as a caseworker would
(``kzmig`` in a fresh process), with its exit code, its first line, its wall time and the peak
memory of the process.

A script, not a test (the tests assert the answers; nothing here asserts on timing)::

    .venv/bin/python benchmarks/bench_hostile.py            # text report
    .venv/bin/python benchmarks/bench_hostile.py --json     # machine-readable

The bar: a clear error or the right verdict within a second and 200 MB. Wall time includes
starting Python and loading the policy (the "baseline" row: an ordinary person file), since
that is what a caller waits for.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
KZMIG = [sys.executable, "-c", "from rules.cli import main; main()"]
SECOND, MEGABYTES = 1.0, 200
RUSSIAN = {"person_id": "R", "citizenship": "RU", "trips": [{"entry": "2024-01-01", "exit": "2024-02-01"}]}
GOOD = json.dumps(RUSSIAN).encode()


@dataclass
class Outcome:
    reproducer: str
    exit_code: int
    first_line: str
    output_chars: int
    seconds: float
    peak_mb: float

    @property
    def within_bar(self) -> bool:
        return self.seconds <= SECOND and self.peak_mb <= MEGABYTES


def run(name: str, args: list[str], env: dict[str, str] | None = None, timeout: float = 120) -> Outcome:
    """``kzmig args`` in a fresh process: its exit, first line, time and peak resident memory."""
    begun = time.perf_counter()
    with tempfile.TemporaryFile() as out, tempfile.TemporaryFile() as err:
        process = subprocess.Popen(
            [*KZMIG, *args], stdout=out, stderr=err, env={**os.environ, **(env or {})}, cwd=ROOT
        )
        deadline = begun + timeout
        while True:
            pid, status, usage = os.wait4(process.pid, os.WNOHANG)
            if pid:
                break
            if time.perf_counter() > deadline:
                process.kill()
                pid, status, usage = os.wait4(process.pid, 0)
                break
            time.sleep(0.002)
        seconds = time.perf_counter() - begun
        process.returncode = os.waitstatus_to_exitcode(status)
        out.seek(0)
        err.seek(0)
        text = (err.read() + out.read()).decode("utf-8", "replace")
    first = next((line for line in text.splitlines() if line.strip()), "")
    return Outcome(name, process.returncode, first[:100], len(text), seconds, usage.ru_maxrss / 1024)


def billion_laughs(levels: int) -> str:
    """A YAML document of a few hundred bytes that stands for 9**levels values through aliases."""
    lines = ['a0: &a0 ["lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol"]']
    for level in range(1, levels):
        refs = ", ".join([f"*a{level - 1}"] * 9)
        lines.append(f"a{level}: &a{level} [{refs}]")
    return "\n".join(lines) + "\n"


def reproducers(folder: Path) -> list[tuple[str, Callable[[], Outcome]]]:
    """Each defect of the hostile-input report, as the command that showed it."""

    def write(name: str, content: bytes | str) -> str:
        path = folder / name
        path.write_bytes(content.encode() if isinstance(content, str) else content)
        return str(path)

    def batch(name: str, bad: bytes, count: int = 3) -> str:
        lines = [GOOD] * count
        lines[count // 2] = bad
        return write(name, b"\n".join(lines) + b"\n")

    amendment = "schema: kzmig/policy/2\ntitle: laughs\n"
    crossing = {
        "person_id": "C",
        "citizenship": "RU",
        "crossings": [{"direction": "entry", "at": "0001-01-01T00:00:00+14:00", "tz": "Asia/Almaty"}],
    }
    before = {
        "person_id": "B",
        "citizenship": "RU",
        "crossings": [
            {"direction": "entry", "at": "2022-10-01T10:00:00+06:00"},
            {"direction": "exit", "at": "2022-11-01T10:00:00+06:00"},
        ],
    }
    fifo = folder / "pipe.json"
    os.mkfifo(fifo)
    return [
        (
            "baseline: an ordinary person file",
            lambda: run("", ["check", "examples/persons/driver-A-17.json"]),
        ),
        (
            "amendment of nested aliases (9 levels)",
            lambda: run(
                "", ["policy", "check", "--amend", write("laughs9.yaml", amendment + billion_laughs(9))]
            ),
        ),
        (
            "amendment of nested aliases (12 levels)",
            lambda: run(
                "", ["policy", "check", "--amend", write("laughs12.yaml", amendment + billion_laughs(12))]
            ),
        ),
        (
            "person file of nested aliases (9 levels)",
            lambda: run("", ["check", write("laughs.yaml", "person_id: L\n" + billion_laughs(9))]),
        ),
        (
            "batch: a line nested 1,000 deep",
            lambda: run("", ["check", batch("deep.jsonl", b"[" * 1000 + b"]" * 1000), "--format", "json"]),
        ),
        (
            "batch: a 5,000-digit integer",
            lambda: run(
                "",
                [
                    "check",
                    batch("digits.jsonl", b'{"person_id": "N", "x": ' + b"9" * 5000 + b"}"),
                    "--format",
                    "json",
                ],
            ),
        ),
        (
            "crossing at 0001-01-01T00:00:00+14:00",
            lambda: run("", ["check", write("ancient.json", json.dumps(crossing))]),
        ),
        (
            "crossings evaluated before 2023-01-27",
            lambda: run("", ["check", write("before.json", json.dumps(before)), "--on", "2022-12-01"]),
        ),
        (
            "batch of 2,000 with a byte not UTF-8",
            lambda: run(
                "",
                [
                    "check",
                    batch("bytes.jsonl", b'{"person_id": "B\xc3"}', 2000),
                    "--on",
                    "2024-03-01",
                    "--format",
                    "json",
                ],
            ),
        ),
        (
            "batch: a carriage return inside a record",
            lambda: run(
                "",
                [
                    "check",
                    batch("cr.jsonl", b'{"person_id": "C\rR", "citizenship": "RU"}'),
                    "--format",
                    "json",
                ],
            ),
        ),
        (
            ".json with an escaped emoji",
            lambda: run(
                "",
                [
                    "check",
                    write("emoji.json", '{"person_id": "\\ud83d\\ude00", "citizenship": "RU", "trips": []}'),
                ],
            ),
        ),
        (".json with NaN", lambda: run("", ["check", write("nan.json", '{"person_id": NaN}')])),
        (
            ".json with a key given twice",
            lambda: run("", ["check", write("twice.json", '{"person_id": "A", "person_id": "B"}')]),
        ),
        (
            "a trip in year 9999",
            lambda: run(
                "",
                [
                    "check",
                    write("far.json", json.dumps({**RUSSIAN, "trips": [{"entry": "9999-12-01"}]})),
                    "--on",
                    "9999-12-31",
                ],
            ),
        ),
        (
            'tz "localtime"',
            lambda: run(
                "",
                [
                    "check",
                    write(
                        "localtime.json",
                        json.dumps(
                            {
                                **crossing,
                                "crossings": [
                                    {"direction": "entry", "at": "2024-01-01T10:00:00", "tz": "localtime"}
                                ],
                            }
                        ),
                    ),
                ],
            ),
        ),
        ("/dev/zero as a person file", lambda: run("", ["check", "/dev/zero"])),
        ("/dev/zero as an amendment", lambda: run("", ["policy", "check", "--amend", "/dev/zero"])),
        ("a FIFO as a person file", lambda: run("", ["check", str(fifo)], timeout=30)),
        (
            "a 10,000,000-character citizenship",
            lambda: run(
                "", ["check", write("huge.json", json.dumps({"person_id": "H", "citizenship": "X" * 10**7}))]
            ),
        ),
    ]


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--json", action="store_true", help="print the results as JSON")
    options = parser.parse_args()
    folder = Path(tempfile.mkdtemp(prefix="kzmig-hostile-"))
    try:
        outcomes = []
        for name, command in reproducers(folder):
            outcome = command()
            outcome.reproducer = name
            outcomes.append(outcome)
    finally:
        shutil.rmtree(folder)
    if options.json:
        print(json.dumps([{**asdict(o), "within_bar": o.within_bar} for o in outcomes], indent=2))
        return
    print(
        f"kzmig hostile input: Python {platform.python_version()} on {platform.machine()},"
        f" {os.cpu_count()} CPUs"
    )
    print(
        f"bar: {SECOND:.0f} s and {MEGABYTES} MB per run (fresh process: start-up and policy load included)\n"
    )
    print(f"{'reproducer':42} {'exit':>4} {'time s':>7} {'peak MB':>8} {'chars':>7}  first line")
    for o in outcomes:
        mark = "" if o.within_bar else "  (over the bar)"
        print(
            f"{o.reproducer:42} {o.exit_code:>4} {o.seconds:7.2f} {o.peak_mb:8.0f} {o.output_chars:>7,}"
            f"  {o.first_line[:70]}{mark}"
        )


if __name__ == "__main__":
    main()
