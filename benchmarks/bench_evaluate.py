"""How fast kzmig decides a case: latency per case, throughput, and where the time goes.

A script, not a test (nothing here asserts on timing). Run from the checkout::

    .venv/bin/python benchmarks/bench_evaluate.py            # text report
    .venv/bin/python benchmarks/bench_evaluate.py --json     # machine-readable
    .venv/bin/python benchmarks/bench_evaluate.py --persons 2000 --runs 500

It measures, under the shipped policy:

(a) latency of ``Evaluator.evaluate`` for one realistic person with 20 trips (warm), as p50, p90
    and p99 over ``--runs`` calls, with the firing cache disabled (``cache_size=0``) and enabled,
    and of ``Evaluator.evaluate_with_facts(..., trace=False)`` (the verdict without its trace, as
    population runs build it first), cache disabled ("no trace");
(b) throughput in cases per second over ``--persons`` distinct generated persons (seeded random:
    mixed nationalities, 1-20 trips over 2023-2026, some statuses, some facts missing), cache
    disabled and enabled;
(c) the share of time spent validating the record, deriving the stay facts (day counting),
    firing the durable-rules engine, and resolving the verdict with its trace. Each phase is
    timed in its own loop over the same persons with the cache disabled; the engine phase
    replays, through the evaluator's internal compiled ruleset (``Evaluator._ruleset``, not
    public API), the engine facts a full evaluation asserted;
(d) latency of a permanent-residence applicant (the residence programme: inputs, 16 computed
    facts, gates, the report), with no travel record, and of a kandas family under the social
    contract (moves and a ledger: lists selected and summed, the report, ledger warnings).

Persons are passed as plain dicts, as a caller decoding JSON would: record validation is included.
"""

from __future__ import annotations

import argparse
import datetime as dt
import gc
import importlib.metadata
import json
import os
import platform
import random
import statistics
import sys
import time
from collections.abc import Callable
from typing import Any

import rules
from rules.engine.evaluator import parse_person
from rules.engine.inputs import read_sections

AS_OF = dt.date(2025, 6, 1)
RESIDENCE_ON = dt.date(2026, 6, 1)
KANDAS_ON = dt.date(2027, 7, 1)
DEFAULT_CACHE = 4096  # Evaluator's default cache_size
#: The project's target (issue 9): a warm evaluation of the 20-trip person, full verdict and
#: trace (the firing cache off: "cache disabled"), at most this many microseconds at p50.
TARGET_P50_US = 100.0

# Nationality mix of the generated persons (weights): mostly EAEU and visa-free visitors, some
# Kazakh citizens, and nationalities without a recorded regime (undetermined) or none at all.
NATIONALITIES = {
    "RU": 30,
    "KG": 12,
    "BY": 6,
    "AM": 5,
    "US": 8,
    "GB": 5,
    "DE": 6,
    "FR": 3,
    "JP": 2,
    "KZ": 5,
    "CN": 4,
    "IN": 2,
    "UZ": 4,
    None: 2,
}
STATUS_KINDS = [
    "international_driver",
    "train_crew",
    "aircraft_crew",
    "residence_permit",
    "temporary_residence_permit",
    "visa",
    "official_delegation",
    "leased_territory",
]
FIRST_DAY = dt.date(2023, 1, 1)
LAST_DAY = dt.date(2026, 12, 31)


def realistic_person() -> dict[str, Any]:
    """A Russian engineer on rotation: 20 trips of 3-40 days from Feb 2023 to May 2025, no status."""
    lengths = [12, 25, 8, 30, 14, 5, 21, 40, 9, 17, 3, 28, 11, 19, 7, 33, 15, 6, 24, 10]
    gaps = [20, 35, 14, 60, 9, 45, 18, 30, 25, 12, 50, 16, 22, 40, 11, 28, 19, 33, 15]
    trips = []
    entry = dt.date(2023, 2, 3)
    for index, length in enumerate(lengths):
        exit_ = entry + dt.timedelta(days=length - 1)
        trips.append({"entry": entry.isoformat(), "exit": exit_.isoformat()})
        if index < len(gaps):
            entry = exit_ + dt.timedelta(days=gaps[index])
    assert dt.date.fromisoformat(trips[-1]["exit"]) < AS_OF
    return {"person_id": "BENCH-20", "citizenship": "RU", "trips": trips}


def residence_applicant() -> dict[str, Any]:
    """The applicant of the residence examples: 540 points, every gate passed."""
    return {
        "person_id": "BENCH-RA",
        "residence_application": {
            "submitted": "2026-03-10",
            "birth_date": "1991-05-02",
            "language_test": {"taken": "2026-02-20", "level": "A1", "listening_pct": 45, "reading_pct": 31},
            "questionnaire": {
                "education": "higher",
                "experience_years": 6,
                "languages": [{"language": "kk", "level": "A1"}, {"language": "ru", "level": "C1"}],
                "competence": "in_demand",
                "health": "fit",
                "adaptability": "high",
            },
            "background_check": "cleared",
            "interview": "passed",
            "state_consent": True,
        },
    }


def kandas_family() -> dict[str, Any]:
    """The family of the kandas examples: four payments, two moves, the second out of the region."""
    support = [
        {"kind": "relocation_subsidy", "paid_on": "2025-03-15", "amount_kzt": 1101000},
        {"kind": "rent_subsidy", "paid_on": "2025-04-01", "amount_kzt": 58980},
        {"kind": "housing_certificate", "paid_on": "2025-09-01", "amount_kzt": 4561120},
        {"kind": "employer_subsidy", "paid_on": "2025-05-01", "amount_kzt": 1572800},
    ]
    moves = [{"on": "2026-02-10", "region": "pavlodar"}, {"on": "2027-06-01", "region": "almaty_city"}]
    contract = {"signed": "2025-03-01", "host_region": "pavlodar", "family_members": 4}
    return {
        "person_id": "BENCH-KD",
        "citizenship": "KZ",
        "social_contract": {**contract, "moves": moves, "support": support},
    }


def generated_persons(count: int, seed: int) -> list[tuple[dict[str, Any], dt.date]]:
    """``count`` distinct (person, evaluation date) pairs, reproducible from ``seed``."""
    rng = random.Random(seed)
    codes, weights = list(NATIONALITIES), list(NATIONALITIES.values())
    span = (LAST_DAY - FIRST_DAY).days
    cases = []
    for number in range(count):
        person: dict[str, Any] = {"person_id": f"GEN-{number:06d}"}
        citizenship = rng.choices(codes, weights)[0]
        if citizenship is not None:
            person["citizenship"] = citizenship
        day = FIRST_DAY + dt.timedelta(days=rng.randrange(span // 3))
        trips: list[dict[str, str]] = []
        for _ in range(rng.randint(1, 20)):
            length = 1 + int(rng.expovariate(1 / 9))  # mostly short visits, a few long stays
            exit_ = day + dt.timedelta(days=length - 1)
            if exit_ > LAST_DAY:
                break
            trips.append({"entry": day.isoformat(), "exit": exit_.isoformat()})
            day = exit_ + dt.timedelta(days=rng.choice([0, 1, 3, 7]) + int(rng.expovariate(1 / 40)))
            if day > LAST_DAY:
                break
        if rng.random() < 0.3:
            del trips[-1]["exit"]  # still in the country
        last = dt.date.fromisoformat(trips[-1].get("exit", trips[-1]["entry"]))
        on = min(LAST_DAY, last + dt.timedelta(days=rng.randrange(0, 60)))
        if rng.random() >= 0.03:  # 3 % of records come without a travel record
            person["trips"] = trips
        if rng.random() < 0.15:
            valid_from = FIRST_DAY + dt.timedelta(days=rng.randrange(span // 2))
            status: dict[str, Any] = {"kind": rng.choice(STATUS_KINDS), "valid_from": valid_from.isoformat()}
            if rng.random() < 0.8:
                status["valid_to"] = (valid_from + dt.timedelta(days=rng.randint(90, 730))).isoformat()
            person["statuses"] = [status]
        cases.append((person, on))
    return cases


def _quantile(sorted_values: list[float], q: float) -> float:
    return sorted_values[min(len(sorted_values) - 1, int(q * len(sorted_values)))]


def latency(
    evaluator: rules.Evaluator,
    person: dict[str, Any],
    runs: int,
    on: dt.date = AS_OF,
    *,
    trace: bool = True,
) -> dict[str, float]:
    """p50/p90/p99/mean of one evaluation in microseconds, after a warm-up. ``trace=False``:
    ``Evaluator.evaluate_with_facts(person, on, (), trace=False)``, as population runs call it."""

    def evaluate() -> object:
        if trace:
            return evaluator.evaluate(person, on)
        return evaluator.evaluate_with_facts(person, on, (), trace=False)

    for _ in range(max(50, runs // 10)):
        evaluate()
    samples = []
    clock = time.perf_counter_ns
    gc.disable()
    try:
        for _ in range(runs):
            start = clock()
            evaluate()
            samples.append((clock() - start) / 1000)
    finally:
        gc.enable()
    samples.sort()
    return {
        "p50_us": _quantile(samples, 0.50),
        "p90_us": _quantile(samples, 0.90),
        "p99_us": _quantile(samples, 0.99),
        "mean_us": statistics.fmean(samples),
    }


def _timed(loop: Callable[[], object], repeat: int = 1, setup: Callable[[], object] | None = None) -> float:
    """Best of ``repeat`` timings of ``loop`` (garbage collected before, disabled during, as timeit)."""
    best = float("inf")
    for _ in range(repeat):
        if setup is not None:
            setup()
        gc.collect()
        gc.disable()
        try:
            start = time.perf_counter()
            loop()
            best = min(best, time.perf_counter() - start)
        finally:
            gc.enable()
    return best


def throughput(
    policy: rules.Policy, cache_size: int, cases: list[tuple[dict[str, Any], dt.date]], repeat: int
) -> dict[str, Any]:
    """Cases per second over every case once, best of ``repeat`` passes, each with a fresh evaluator
    (so the cache never holds a case from an earlier pass: every case is new to it)."""
    counts: dict[str, int] = {}
    current: list[rules.Evaluator] = []

    def setup() -> None:
        current[:] = [rules.Evaluator(policy, cache_size=cache_size)]
        counts.clear()

    def run() -> None:
        evaluate = current[0].evaluate
        for person, on in cases:
            status = evaluate(person, on).stay.status.value
            counts[status] = counts.get(status, 0) + 1

    seconds = _timed(run, repeat, setup)
    return {
        "cases": len(cases),
        "seconds": seconds,
        "cases_per_second": len(cases) / seconds,
        "statuses": dict(sorted(counts.items())),
    }


def phases(cases: list[tuple[dict[str, Any], dt.date]], repeat: int) -> dict[str, Any]:
    """Seconds per phase over all cases, cache disabled; each phase in a loop of its own, best of
    ``repeat``. The engine phase fires every round (the stay limit, then sanction and entry).
    The last phase is the rest of a full evaluation: resolution, registration, trace and verdict."""
    evaluator = rules.Evaluator(rules.load_policy(), cache_size=0)
    policy = evaluator.policy
    stay = evaluator.mechanism("stay")
    records = [(parse_person(person, policy), on) for person, on in cases]
    derived = [stay.derive(record, on) for record, on in records]
    ruleset = evaluator._ruleset  # internal: the compiled durable-rules ruleset
    distinct_facts = len({json.dumps(d.facts, sort_keys=True, default=str) for d in derived})
    # Every round of the engine, with the facts a full evaluation asserts: recorded once.
    batches: list[list[Any]] = []
    fired = ruleset.fired  # what the evaluator asks of the engine: the rules that fired

    def recording(facts: Any) -> Any:
        batches.append([dict(fact) for fact in facts])
        return fired(facts)

    # The evaluator asks the ruleset's class memo by a key read from the case and builds the
    # facts only when it does not answer: without its classes (internal too), it builds them all.
    classes, evaluator._classes = evaluator._classes, None
    ruleset.fired = recording  # type: ignore[method-assign]
    try:
        for record, on in records:
            evaluator.evaluate(record, on)
    finally:
        del ruleset.fired
        evaluator._classes = classes

    def validate_all() -> None:
        for person, _ in cases:
            record = parse_person(person, policy)
            read_sections(record, policy)

    def derive_all() -> None:
        for record, on in records:
            stay.derive(record, on)

    def fire_all() -> None:
        for batch in batches:
            ruleset.fired(batch)

    def evaluate_all() -> None:
        for person, on in cases:
            evaluator.evaluate(person, on)

    validate = _timed(validate_all, repeat)
    derive = _timed(derive_all, repeat)
    firing = _timed(fire_all, repeat)
    total = _timed(evaluate_all, repeat)
    resolve = max(0.0, total - validate - derive - firing)
    shares = {
        "validate_record": validate,
        "derive_facts": derive,
        "fire_engine": firing,
        "resolve_and_trace": resolve,
    }
    return {
        "total_seconds": total,
        "seconds": shares,
        "share": {name: seconds / total for name, seconds in shares.items()},
        "distinct_fact_sets": distinct_facts,
    }


def environment() -> dict[str, Any]:
    def version(name: str) -> str:
        try:
            return importlib.metadata.version(name)
        except importlib.metadata.PackageNotFoundError:
            return "?"

    policy = rules.load_policy()
    return {
        "python": sys.version.split()[0],
        "implementation": platform.python_implementation(),
        "platform": platform.platform(),
        "machine": platform.machine(),
        "cpu_count": os.cpu_count(),
        "durable_rules": version("durable-rules"),
        "pydantic": version("pydantic"),
        "policy": f"{policy.name} {policy.version}",
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n", 1)[0])
    parser.add_argument("--persons", type=int, default=10_000, help="distinct persons for throughput (10000)")
    parser.add_argument("--runs", type=int, default=2_000, help="timed calls for latency (2000)")
    parser.add_argument("--seed", type=int, default=2024, help="seed of the generated persons (2024)")
    parser.add_argument("--repeat", type=int, default=3, help="passes of (b) and (c); the best is kept (3)")
    parser.add_argument("--json", action="store_true", help="print one JSON document instead of text")
    args = parser.parse_args(argv)
    if min(args.persons, args.runs, args.repeat) < 1:
        parser.error("--persons, --runs and --repeat must be at least 1")

    started = time.perf_counter()
    policy = rules.load_policy()
    person = realistic_person()
    cases = generated_persons(args.persons, args.seed)
    trip_counts = [len(p.get("trips") or ()) for p, _ in cases]

    report: dict[str, Any] = {"environment": environment()}
    report["latency"] = {
        "person": {"trips": len(person["trips"]), "as_of": AS_OF.isoformat(), "runs": args.runs},
        "cache_disabled": latency(rules.Evaluator(policy, cache_size=0), person, args.runs),
        "cache_enabled": latency(rules.Evaluator(policy, cache_size=DEFAULT_CACHE), person, args.runs),
        "no_trace": latency(rules.Evaluator(policy, cache_size=0), person, args.runs, trace=False),
    }
    report["kandas_latency"] = {
        "as_of": KANDAS_ON.isoformat(),
        "runs": args.runs,
        "cache_disabled": latency(
            rules.Evaluator(policy, cache_size=0), kandas_family(), args.runs, KANDAS_ON
        ),
    }
    report["residence_latency"] = {
        "as_of": RESIDENCE_ON.isoformat(),
        "runs": args.runs,
        "cache_disabled": latency(
            rules.Evaluator(policy, cache_size=0), residence_applicant(), args.runs, RESIDENCE_ON
        ),
    }
    report["throughput"] = {
        "persons": {
            "count": len(cases),
            "seed": args.seed,
            "mean_trips": statistics.fmean(trip_counts),
            "with_status": sum(1 for p, _ in cases if "statuses" in p),
        },
        "repeat": args.repeat,
        "cache_disabled": throughput(policy, 0, cases, args.repeat),
        "cache_enabled": throughput(policy, DEFAULT_CACHE, cases, args.repeat),
    }
    report["phases"] = phases(cases, args.repeat)
    report["wall_seconds"] = time.perf_counter() - started
    p50 = report["latency"]["cache_disabled"]["p50_us"]
    report["target"] = {"p50_us": TARGET_P50_US, "measured_p50_us": p50, "met": p50 <= TARGET_P50_US}

    if args.json:
        print(json.dumps(report, indent=2))
    else:
        print(render(report))
    return 0


def render(report: dict[str, Any]) -> str:
    env = report["environment"]
    lat = report["latency"]
    thr = report["throughput"]
    ph = report["phases"]
    lines = [
        "kzmig benchmark: Evaluator.evaluate under the shipped policy",
        f"  Python {env['python']} ({env['implementation']}) on {env['platform']}, {env['cpu_count']} CPU(s)",
        f"  durable-rules {env['durable_rules']}, pydantic {env['pydantic']}, policy {env['policy']}",
        "",
        f"(a) latency, one person with {lat['person']['trips']} trips on {lat['person']['as_of']}, "
        f"{lat['person']['runs']} warm runs (microseconds)",
        f"    {'':16}{'p50':>9}{'p90':>9}{'p99':>9}{'mean':>9}",
    ]
    for name in ("cache_disabled", "cache_enabled", "no_trace"):
        row = lat[name]
        lines.append(
            f"    {name.replace('_', ' '):16}"
            f"{row['p50_us']:9.1f}{row['p90_us']:9.1f}{row['p99_us']:9.1f}{row['mean_us']:9.1f}"
        )
    persons = thr["persons"]
    lines += [
        "",
        f"(b) throughput, {persons['count']} distinct persons (seed {persons['seed']}, "
        f"mean {persons['mean_trips']:.1f} trips, {persons['with_status']} with a status), "
        f"best of {thr['repeat']} passes",
    ]
    for name in ("cache_disabled", "cache_enabled"):
        row = thr[name]
        lines.append(
            f"    {name.replace('_', ' '):16}{row['cases_per_second']:9.0f} cases/s  ({row['seconds']:.2f} s)"
        )
    statuses = ", ".join(f"{k} {v}" for k, v in thr["cache_disabled"]["statuses"].items())
    lines.append(f"    verdicts: {statuses}")
    lines += [
        "",
        f"(c) where the time goes, cache disabled, same persons, each phase best of {thr['repeat']} "
        f"({ph['total_seconds']:.2f} s in all; "
        f"{ph['distinct_fact_sets']} distinct fact sets)",
    ]
    labels = {
        "validate_record": "validate the record (pydantic)",
        "derive_facts": "derive the stay facts (day counting)",
        "fire_engine": "fire the durable-rules engine (every round)",
        "resolve_and_trace": "resolve, registration, trace, verdict",
    }
    for name, label in labels.items():
        lines.append(f"    {label:36}{ph['share'][name]:7.1%}  ({ph['seconds'][name]:.2f} s)")
    res = report["residence_latency"]
    row = res["cache_disabled"]
    lines += [
        "",
        f"(d) latency, one residence applicant on {res['as_of']}, {res['runs']} warm runs (microseconds)",
        f"    {'':16}{'p50':>9}{'p90':>9}{'p99':>9}{'mean':>9}",
        f"    {'cache disabled':16}"
        f"{row['p50_us']:9.1f}{row['p90_us']:9.1f}{row['p99_us']:9.1f}{row['mean_us']:9.1f}",
    ]
    kd = report["kandas_latency"]
    row = kd["cache_disabled"]
    lines += [
        "",
        f"(e) latency, one kandas family on {kd['as_of']}, {kd['runs']} warm runs (microseconds)",
        f"    {'':16}{'p50':>9}{'p90':>9}{'p99':>9}{'mean':>9}",
        f"    {'cache disabled':16}"
        f"{row['p50_us']:9.1f}{row['p90_us']:9.1f}{row['p99_us']:9.1f}{row['mean_us']:9.1f}",
    ]
    target = report["target"]
    lines += [
        "",
        f"target: the 20-trip person, full verdict and trace, p50 <= {target['p50_us']:.0f} us; "
        f"now {target['measured_p50_us']:.1f} us: {'met' if target['met'] else 'not met'}",
        f"wall time {report['wall_seconds']:.1f} s",
    ]
    return "\n".join(lines)


if __name__ == "__main__":
    sys.exit(main())
