"""kzmig's engine: Kazakhstan migration policy as dated, sourced data, evaluated with a trace.

Typical use::

    from rules import evaluate
    verdict = evaluate({"person_id": "A-17", "citizenship": "RU", "trips": [...]}, on=date(2024, 8, 1))
    verdict.stay.status            # StayStatus.COMPLIANT, ...
    verdict.model_dump(mode="json")  # the stable JSON document

For many cases or a what-if amendment, build an :class:`Evaluator` per policy::

    baseline = Evaluator(load_policy())
    amended = Evaluator(load_policy(amendments=["what-if.yaml"]))
    compare(baseline, amended, person, on=date(2026, 3, 1)).changed   # ("stay.status", ...)
    plan(person, enter=date(2026, 5, 1), days=30)   # how long they may stay, when they may come
    schema("verdict")   # the JSON Schema of a verdict under the shipped policy

For an amendment across a population (streamed, on several dates, in worker processes or on a
Dask cluster), :class:`Population` yields each record's outcomes and :class:`Impact` sums them::

    population = Population(PolicySpec(), PolicySpec(amendments=(AmendmentText(text),)), dates)
    impact = Impact("baseline", "amended", population.dates, law=population.law)
    for (number, record), outcomes in population.outcomes(enumerate(records), lambda item: item):
        impact.add(outcomes, unreadable=record is None)

Errors: every error kzmig raises on purpose is a :class:`KzmigError` (see :mod:`rules.errors`).
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

from rules.errors import (
    EngineError,
    EvaluationError,
    InputError,
    KzmigError,
    PolicyError,
    Problem,
)
from rules.version import __version__

if TYPE_CHECKING:
    from rules.analysis.aggregate import Impact
    from rules.analysis.impact import Comparison, Difference, compare
    from rules.analysis.outcome import Outcome
    from rules.analysis.population import PolicySpec, Population
    from rules.engine.evaluator import Evaluation, Evaluator, evaluate
    from rules.engine.schemas import schema
    from rules.policy.loaded import Policy
    from rules.policy.loader import AmendmentText, load_policy
    from rules.stay.planning import plan

#: Names imported on first use (PEP 562): ``kzmig --help`` imports none of them, a command that
#: evaluates one person only the engine, and the analysis package (an amendment across a
#: population), the planner and the schemas wait until they are asked for.
_LAZY = {
    "Evaluation": "rules.engine.evaluator",
    "Evaluator": "rules.engine.evaluator",
    "evaluate": "rules.engine.evaluator",
    "AmendmentText": "rules.policy.loader",
    "Policy": "rules.policy.loaded",
    "load_policy": "rules.policy.loader",
    "plan": "rules.stay.planning",
    "schema": "rules.engine.schemas",
    "Impact": "rules.analysis.aggregate",
    "Comparison": "rules.analysis.impact",
    "Difference": "rules.analysis.impact",
    "compare": "rules.analysis.impact",
    "Outcome": "rules.analysis.outcome",
    "PolicySpec": "rules.analysis.population",
    "Population": "rules.analysis.population",
}


def __getattr__(name: str) -> Any:
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(importlib.import_module(module), name)
    globals()[name] = value  # once imported, an ordinary attribute
    return value


def __dir__() -> list[str]:
    return sorted({*globals(), *_LAZY})


__all__ = [
    "__version__",
    "AmendmentText",
    "Comparison",
    "Difference",
    "EngineError",
    "Evaluation",
    "EvaluationError",
    "Evaluator",
    "Impact",
    "InputError",
    "KzmigError",
    "Outcome",
    "Policy",
    "PolicyError",
    "PolicySpec",
    "Population",
    "Problem",
    "compare",
    "evaluate",
    "load_policy",
    "plan",
    "schema",
]
