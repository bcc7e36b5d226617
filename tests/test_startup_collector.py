"""``kzmig`` starts with the cycle collector at a slower pace and freezes what the start made
once the policy is loaded (``rules.cli.app.started``): the records a command evaluates, and a
long comparison, run with the collector as usual. The worker processes of a population's own
pool freeze their comparison once built; a caller's process never is. Checked in a fresh
interpreter, by what the collector's state is when the work runs; nothing is timed."""

from __future__ import annotations

import gc
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from rules.cli.app import STARTING_THRESHOLD

ROOT = Path(__file__).resolve().parents[1]
DRIVER = str(ROOT / "examples" / "persons" / "driver-A-17.json")
POPULATION = str(ROOT / "examples" / "persons" / "population-2026.jsonl")
LIMIT_60 = str(ROOT / "examples" / "amendments" / "limit-60-days.yaml")

#: Run ``main`` with ``argv``; while ``target`` (module, attribute) runs, note the collector's
#: thresholds and whether anything is frozen; print those notes and the state after ``main``.
_SPY = """
import contextlib, gc, importlib, io, json, sys
# What the interpreter itself keeps frozen (CPython 3.12 starts with a few hundred objects
# there, 3.11 and 3.13 with none): "frozen" below counts what kzmig froze beyond it.
already = gc.get_freeze_count()
module_name, attribute, argv = sys.argv[1], sys.argv[2], json.loads(sys.argv[3])
from rules.cli.app import main
module = importlib.import_module(module_name)
*path, name = attribute.split(".")
owner = module
for part in path:
    owner = getattr(owner, part)
original = getattr(owner, name)
seen = []
def spy(*args, **kwargs):
    seen.append({"thresholds": gc.get_threshold(), "frozen": gc.get_freeze_count() - already})
    return original(*args, **kwargs)
setattr(owner, name, spy)
before = gc.get_threshold()
sys.argv = ["kzmig", *argv]
with contextlib.redirect_stdout(io.StringIO()):
    try:
        main()
    except SystemExit as stop:
        code = stop.code
print(json.dumps({"before": before, "seen": seen, "after": gc.get_threshold(), "code": code}))
"""


def _spy(target: str, argv: list[str], cache: Path) -> dict[str, object]:
    module, attribute = target.rsplit(":", 1)
    done = subprocess.run(
        [sys.executable, "-c", _SPY, module, attribute, json.dumps(argv)],
        capture_output=True,
        text=True,
        check=True,
        env={**os.environ, "KZMIG_CACHE_DIR": str(cache)},
    )
    found: dict[str, object] = json.loads(done.stdout.splitlines()[-1])
    return found


@pytest.mark.parametrize(
    ("target", "argv"),
    [
        ("rules.engine.evaluator:Evaluator.evaluate", ["check", DRIVER, "--on", "2024-08-01"]),
        ("rules.engine.evaluator:Evaluator.evaluate", ["check", POPULATION, "--on", "2026-03-20"]),
        ("rules.cli.compare:_run", ["compare", POPULATION, "--on", "2026-03-20", "--amend", LIMIT_60]),
    ],
    ids=["check of one person", "check of a population", "compare"],
)
def test_records_are_evaluated_with_the_collector_as_usual_and_the_start_frozen(
    target: str, argv: list[str], tmp_path: Path
) -> None:
    found = _spy(target, argv, tmp_path)
    seen = found["seen"]
    assert isinstance(seen, list) and seen, found  # the work ran
    default = tuple(gc.get_threshold())  # this process never changed its own
    assert all(tuple(note["thresholds"]) == default and note["frozen"] > 0 for note in seen), found
    assert tuple(found["after"]) == default  # type: ignore[arg-type]


def test_the_policy_is_read_back_while_the_collector_keeps_the_pace_of_the_start(tmp_path: Path) -> None:
    found = _spy("rules.policy.loader:load_policy", ["check", DRIVER, "--on", "2024-08-01"], tmp_path)
    seen = found["seen"]
    assert isinstance(seen, list) and len(seen) == 1, found
    assert seen[0]["thresholds"][0] == STARTING_THRESHOLD and seen[0]["frozen"] == 0


def test_a_command_that_loads_no_policy_leaves_the_collector_as_it_found_it(tmp_path: Path) -> None:
    found = _spy("rules.cli.app:_show", ["--version"], tmp_path)
    assert found["code"] in (0, None) and found["seen"] == []
    assert found["after"] == found["before"]


def test_a_worker_of_the_pool_freezes_its_comparison_once_built_and_a_caller_never(tmp_path: Path) -> None:
    code = (
        "import gc, json\nalready = gc.get_freeze_count()\nfrom rules.analysis import population as p\n"
        "spec = p.PolicySpec.of_files(None, cached=True)\n"
        "p.built_comparison(spec, p.PolicySpec.of_files(None, [" + repr(LIMIT_60) + "], cached=True))\n"
        "caller = gc.get_freeze_count()\n"
        "p._pool_worker_started()\n"
        "p.built_comparison(spec, spec)\n"
        "print(json.dumps([caller - already, gc.get_freeze_count() - already]))"
    )
    done = subprocess.run(
        [sys.executable, "-c", code],
        capture_output=True,
        text=True,
        check=True,
        env={**os.environ, "KZMIG_CACHE_DIR": str(tmp_path)},
    )
    caller, worker = json.loads(done.stdout.splitlines()[-1])
    assert caller == 0 and worker > 0


def test_the_pool_of_a_population_starts_its_workers_as_workers() -> None:
    import datetime as dt

    from rules.analysis.population import PolicySpec, Population

    spec = PolicySpec()
    population = Population(spec, spec, [dt.date(2026, 3, 20)], jobs=2)
    asked = "__import__('rules.analysis.population', fromlist=['_']).__dict__['_FREEZE_WHEN_BUILT']"
    with population.running() as pool:
        flags = [future.result(timeout=120) for future in [pool.submit(eval, asked) for _ in range(4)]]
    assert flags == [True] * 4
