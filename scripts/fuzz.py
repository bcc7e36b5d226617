"""Fuzz kzmig at a large size: records, batches, policy files and amendments, with what each
gave, the slowest input and the peak memory.

    python scripts/fuzz.py      # 30,000 records, 600 batches, 600 policy files, 600 amendments
    python scripts/fuzz.py --records 2000 --batches 50 --policies 50 --amendments 50 --seed 7

The same strategies and checks as ``tests/test_fuzz.py`` (``tests/fuzzing.py``) and
``tests/test_compare_any_amendment.py`` (``tests/amending.py``: a random amendment of the
shipped policy, and the comparison of 12 records under it, with and without leaving out what it
cannot reach), drawn with Hypothesis at the given sizes. Exits 1 with the failing input when a
check fails.
"""

from __future__ import annotations

import argparse
import collections
import resource
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from hypothesis import HealthCheck, Phase, given, seed, settings

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))

from amending import amended_records, check_amendment  # noqa: E402
from fuzzing import (  # noqa: E402
    batch_lines,
    check_batch,
    check_policy_text,
    check_record,
    dates,
    hostile_records,
    policy_texts,
)


def _peak_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def _run(name: str, examples: int, strategy: Any, check: Any, random_seed: int) -> None:
    tally: collections.Counter[str] = collections.Counter()
    slowest = 0.0
    started = time.perf_counter()

    @seed(random_seed)
    @settings(
        max_examples=examples,
        deadline=None,
        database=None,
        phases=[Phase.generate],
        suppress_health_check=list(HealthCheck),
    )
    @given(strategy)
    def fuzz(drawn: Any) -> None:
        nonlocal slowest
        begun = time.perf_counter()
        tally[check(drawn)] += 1
        slowest = max(slowest, time.perf_counter() - begun)

    fuzz()
    elapsed = time.perf_counter() - started
    outcomes = ", ".join(f"{outcome} {count:,}" for outcome, count in tally.most_common())
    print(
        f"{name:9} {sum(tally.values()):>7,} inputs in {elapsed:7.1f} s   slowest {slowest * 1000:7.1f} ms"
        f"   peak RSS {_peak_mb():6.0f} MB   {outcomes}",
        flush=True,
    )


def _record(drawn: tuple[Any, Any]) -> str:
    return check_record(*drawn)


def _batch(lines: list[bytes]) -> str:
    with tempfile.TemporaryDirectory() as folder:
        return check_batch(Path(folder) / "batch.jsonl", lines)


def _amendment(drawn: Any) -> str:
    return check_amendment(*drawn)


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--records", type=int, default=30_000)
    parser.add_argument("--batches", type=int, default=600)
    parser.add_argument("--policies", type=int, default=600)
    parser.add_argument("--amendments", type=int, default=600)
    parser.add_argument("--seed", type=int, default=2026)
    options = parser.parse_args()

    from hypothesis import strategies as st

    print(f"kzmig fuzz, seed {options.seed}", flush=True)
    if options.records:
        _run("records", options.records, st.tuples(hostile_records(), dates), _record, options.seed)
    if options.batches:
        _run("batches", options.batches, batch_lines, _batch, options.seed)
    if options.policies:
        _run("policies", options.policies, policy_texts(), check_policy_text, options.seed)
    if options.amendments:
        _run("amendments", options.amendments, amended_records(), _amendment, options.seed)


if __name__ == "__main__":
    main()
