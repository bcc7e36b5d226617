"""Do two checkouts of kzmig give the same answers? A check for optimisations, not a test.

Each checkout's ``src`` is imported in a process of its own (``PYTHONPATH=<checkout>/src``); both
evaluate the same cases under their own shipped policy, and every answer is compared as JSON:
``verdict.model_dump(mode="json")``, or the error's type, summary and problems. Run from the
checkout, against a worktree of the commit to compare with::

    git worktree add /tmp/perf-base <commit>
    .venv/bin/python benchmarks/check_same_answers.py --base /tmp/perf-base --persons 10000

The cases, reproducible from ``--seed``:

* the generated persons of ``bench_evaluate.py`` (mixed nationalities, 1-20 trips, statuses, some
  facts missing), each on its own date and on a few fixed dates: before the limit took effect,
  either side of the day Decree No. 80 applies from, in 2025 and in 2026 (the dates are chosen
  here to exercise boundaries, the law itself is read from the policy by both sides);
* the example persons (``examples/persons``: residence applicants, kandas families, crossings,
  the population), each as given and as many damaged variants (a date moved, a number changed,
  a field left out or null, a code swapped for another seen in the examples, a list shortened),
  on dates around their programmes' own dates.

Each side evaluates every case three times: in order, in reverse, and shuffled with a fresh
evaluator (so that anything kept between cases is exercised both cold and warm), and must agree
with itself too. Each side writes its answers to a file as they come (with only a digest kept
for its own check), and the two files are compared line by line: memory does not grow with the
answers. ``--leave-out KEY`` (repeatable) leaves a top-level key of the verdict out of every
answer (``policy`` also the policy's version where an error names it): ``--leave-out policy
--leave-out trace`` checks that a change of the policy's wording or of the trace moved no
status, figure or warning.
"""

from __future__ import annotations

import argparse
import copy
import datetime as dt
import hashlib
import json
import os
import random
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent

FIXED_DATES = [
    dt.date(2022, 12, 1),
    dt.date(2023, 1, 26),
    dt.date(2023, 1, 27),
    dt.date(2024, 2, 24),
    dt.date(2024, 2, 25),
    dt.date(2025, 6, 1),
    dt.date(2026, 2, 13),
    dt.date(2026, 8, 15),
]


# --- the cases -------------------------------------------------------------------------------------


def _examples() -> list[dict[str, Any]]:
    import yaml

    found: list[dict[str, Any]] = []
    for path in sorted((ROOT / "examples" / "persons").iterdir()):
        if path.suffix == ".jsonl":
            found.extend(json.loads(line) for line in path.read_text().splitlines() if line.strip())
        elif path.suffix == ".json":
            found.append(json.loads(path.read_text()))
        elif path.suffix == ".yaml":
            found.append(_plain(yaml.safe_load(path.read_text())))
    return found


def _plain(value: Any) -> Any:
    """YAML dates as ISO text, as a JSON caller sends them."""
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, dict):
        return {key: _plain(item) for key, item in value.items()}
    if isinstance(value, list):
        return [_plain(item) for item in value]
    return value


def _leaves(value: Any, path: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    if isinstance(value, dict):
        return [path] + [leaf for key, item in value.items() for leaf in _leaves(item, (*path, key))]
    if isinstance(value, list):
        return [path] + [leaf for index, item in enumerate(value) for leaf in _leaves(item, (*path, index))]
    return [path]


def _codes(examples: list[dict[str, Any]]) -> dict[str, set[str]]:
    """Every text value seen under each key of the examples (dates left out)."""
    seen: dict[str, set[str]] = {}

    def walk(value: Any, key: str) -> None:
        if isinstance(value, dict):
            for name, item in value.items():
                walk(item, str(name))
        elif isinstance(value, list):
            for item in value:
                walk(item, key)
        elif isinstance(value, str) and not _is_day(value):
            seen.setdefault(key, set()).add(value)

    for example in examples:
        walk(example, "")
    return seen


def _is_day(value: str) -> bool:
    try:
        dt.date.fromisoformat(value)
    except ValueError:
        return False
    return len(value) == 10


def _damaged(record: dict[str, Any], rng: random.Random, codes: dict[str, set[str]]) -> dict[str, Any]:
    record = copy.deepcopy(record)
    for _ in range(rng.randint(1, 3)):
        leaves = [leaf for leaf in _leaves(record) if leaf and leaf[0] != "person_id"]
        if not leaves:
            break
        path = rng.choice(leaves)
        parent: Any = record
        for part in path[:-1]:
            parent = parent[part]
        key = path[-1]
        value = parent[key]
        roll = rng.random()
        if roll < 0.12:
            if isinstance(parent, dict):
                del parent[key]
            else:
                parent.pop(key)
            continue
        if roll < 0.2:
            parent[key] = None
        elif isinstance(value, bool):
            parent[key] = not value
        elif isinstance(value, int):
            parent[key] = rng.choice([0, 1, value // 2, value + rng.randint(-5, 5), value * 2, -1, 10**12])
        elif isinstance(value, float):
            parent[key] = value * rng.choice([0.5, 1.1, 2.0])
        elif isinstance(value, str) and _is_day(value):
            moved = dt.date.fromisoformat(value) + dt.timedelta(days=rng.randint(-800, 800))
            parent[key] = moved.isoformat()
        elif isinstance(value, str):
            name = key if isinstance(key, str) else str(path[-2]) if len(path) > 1 else ""
            options = sorted(codes.get(name, set()))
            parent[key] = rng.choice(options) if options and rng.random() < 0.85 else value + "x"
        elif isinstance(value, list) and value:
            if rng.random() < 0.5:
                value.pop(rng.randrange(len(value)))
            else:
                value.append(copy.deepcopy(rng.choice(value)))
    return record


def _dates_in(record: Any) -> list[dt.date]:
    found: list[dt.date] = []
    if isinstance(record, dict):
        for item in record.values():
            found.extend(_dates_in(item))
    elif isinstance(record, list):
        for item in record:
            found.extend(_dates_in(item))
    elif isinstance(record, str) and _is_day(record):
        found.append(dt.date.fromisoformat(record))
    return found


def cases(persons: int, variants: int, seed: int) -> list[tuple[Any, str]]:
    """(person, ISO date) pairs: generated persons, then the examples and their variants."""
    sys.path.insert(0, str(HERE))
    import bench_evaluate

    rng = random.Random(seed)
    found: list[tuple[Any, str]] = []
    for person, on in bench_evaluate.generated_persons(persons, seed):
        found.append((person, on.isoformat()))
        found.append((person, rng.choice(FIXED_DATES).isoformat()))
    examples = _examples()
    codes = _codes(examples)
    for example in examples:
        for number in range(variants + 1):
            record = example if number == 0 else _damaged(example, rng, codes)
            days = _dates_in(record) or [dt.date(2026, 6, 1)]
            chosen = [rng.choice(days) + dt.timedelta(days=rng.randint(-400, 900)), rng.choice(FIXED_DATES)]
            for on in chosen:
                on = min(max(on, dt.date(2000, 1, 1)), dt.date(2040, 12, 31))
                found.append((record, on.isoformat()))
    return found


# --- one side --------------------------------------------------------------------------------------


def answer(evaluator: Any, person: Any, on: str, leave_out: frozenset[str] = frozenset()) -> str:
    """The answer to one case as canonical JSON: the verdict less the keys ``leave_out``, or the
    error's type, summary and problems."""
    import rules

    try:
        verdict = evaluator.evaluate(person, dt.date.fromisoformat(on))
    except rules.KzmigError as error:
        problems = [[p.path, p.message] for p in getattr(error, "problems", ()) or ()]
        summary = str(error)
        if "policy" in leave_out:  # its version too, which an error may name
            summary = summary.replace(evaluator.policy.version, "<policy version>")
        found: Any = {"error": type(error).__name__, "summary": summary, "problems": problems}
    else:
        found = verdict.model_dump(mode="json", exclude=set(leave_out) or None)
    return json.dumps(found, sort_keys=True, ensure_ascii=False)


def worker(cases_path: str, out_path: str, leave_out: str) -> None:
    """Evaluate every case three times (in order; in reverse; shuffled, with a fresh evaluator);
    write the first answers in case order, one JSON line each, then a last line of the count
    of cases whose three answers differ. Only a digest of the other two is kept, so memory
    does not grow with the answers."""
    import rules

    left = frozenset(name for name in leave_out.split(",") if name)
    with open(cases_path) as stream:
        found = json.load(stream)
    evaluator = rules.Evaluator(rules.load_policy())
    digests = []
    with open(out_path, "w", encoding="utf-8") as out:
        for person, on in found:
            first = answer(evaluator, person, on, left)
            digests.append(_digest(first))
            out.write(first + "\n")
        unstable: set[int] = set()
        for index in reversed(range(len(found))):
            person, on = found[index]
            if _digest(answer(evaluator, person, on, left)) != digests[index]:
                unstable.add(index)
        fresh = rules.Evaluator(rules.load_policy())
        shuffled = list(range(len(found)))
        random.Random(7).shuffle(shuffled)
        for index in shuffled:
            person, on = found[index]
            if _digest(answer(fresh, person, on, left)) != digests[index]:
                unstable.add(index)
        out.write(json.dumps({"unstable": len(unstable), "source": rules.__file__}) + "\n")


def _digest(text: str) -> bytes:
    return hashlib.blake2b(text.encode(), digest_size=16).digest()


def run_side(src: Path, cases_path: str, out_path: str, leave_out: str) -> dict[str, Any]:
    """Run one side's worker; its summary (the last line of its answers)."""
    env = {**os.environ, "PYTHONPATH": str(src)}
    subprocess.run(
        [sys.executable, str(Path(__file__).resolve()), "--worker", cases_path, out_path, leave_out],
        check=True,
        env=env,
        cwd=str(src.parent),
    )
    with open(out_path, "rb") as stream:
        stream.seek(0, os.SEEK_END)
        stream.seek(max(0, stream.tell() - 4096))
        result: dict[str, Any] = json.loads(stream.read().splitlines()[-1])
    return result


def _answers(path: str) -> Iterator[dict[str, Any]]:
    """The answers of one side, one at a time (the summary line left out)."""
    with open(path, encoding="utf-8") as stream:
        previous = None
        for line in stream:
            if previous is not None:
                yield json.loads(previous)
            previous = line


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n", 1)[0])
    parser.add_argument("--base", default="/tmp/perf-base", help="checkout to compare with (/tmp/perf-base)")
    parser.add_argument("--new", default=str(ROOT), help="checkout under test (this one)")
    parser.add_argument("--persons", type=int, default=10_000, help="generated persons (10000)")
    parser.add_argument("--variants", type=int, default=150, help="damaged variants per example (150)")
    parser.add_argument("--seed", type=int, default=99, help="seed of the cases (99)")
    parser.add_argument(
        "--leave-out",
        action="append",
        default=[],
        metavar="KEY",
        help="a top-level key of the verdict not compared (repeat it): 'policy' and 'trace' for a "
        "change of the policy's text or of the trace that must move no figure",
    )
    parser.add_argument("--worker", nargs=3, metavar=("CASES", "OUT", "LEAVE_OUT"), help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.worker:
        worker(*args.worker)
        return 0
    started = time.perf_counter()
    found = cases(args.persons, args.variants, args.seed)
    leave_out = ",".join(args.leave_out)
    with tempfile.TemporaryDirectory() as tmp:
        cases_path = os.path.join(tmp, "cases.json")
        with open(cases_path, "w") as stream:
            json.dump(found, stream)
        paths = os.path.join(tmp, "base.jsonl"), os.path.join(tmp, "new.jsonl")
        base = run_side(Path(args.base) / "src", cases_path, paths[0], leave_out)
        new = run_side(Path(args.new) / "src", cases_path, paths[1], leave_out)
        differ, shown, errors = 0, 0, 0
        for index, (a, b) in enumerate(zip(_answers(paths[0]), _answers(paths[1]), strict=True)):
            errors += "error" in b
            if a == b:
                continue
            differ += 1
            if shown < 5:
                shown += 1
                person, on = found[index]
                print(f"DIFFERENT on {on}: {json.dumps(person)[:300]}")
                for key in sorted(set(a) | set(b)):
                    if a.get(key) != b.get(key):
                        print(f"  {key}:")
                        print(f"    base {json.dumps(a.get(key))[:400]}")
                        print(f"    new  {json.dumps(b.get(key))[:400]}")
    print(f"base {base['source']}\nnew  {new['source']}")
    left = f"; left out: {', '.join(args.leave_out)}" if args.leave_out else ""
    print(
        f"{len(found)} cases ({args.persons} generated persons x 2 dates, the rest examples and variants); "
        f"{errors} answered with an error; each evaluated 3 times per side{left}"
    )
    print(f"unstable answers within a side: base {base['unstable']}, new {new['unstable']}")
    print(f"{'IDENTICAL' if not differ else f'{differ} DIFFERENT'} ({time.perf_counter() - started:.0f} s)")
    return 1 if differ or base["unstable"] or new["unstable"] else 0


if __name__ == "__main__":
    sys.exit(main())
