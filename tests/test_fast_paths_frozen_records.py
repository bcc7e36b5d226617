"""The fast path of the sixteenth round of speed work, against the path it replaces.

The frozen records made for every case evaluated and every record compared (an
:class:`~rules.engine.evaluator.Evaluation`, what a mechanism :class:`derived
<rules.policy.mechanisms.Derived>`, a :class:`~rules.analysis.impact.Compared` and its
:class:`~rules.analysis.outcome.Outcome`) are made without their ``__init__``
(:func:`rules.frozen.made`), which sets each field with a call. Checked:

* ``made(cls, fields)`` is ``cls(**fields)``: equal, of the same class, with the same fields in
  the same order, and as frozen; no such class has a ``__post_init__`` or slots that the
  shortcut would skip;
* the places that make them give every field: the records made while comparing the
  benchmarks' population records under each example amendment are those their ``__init__``
  makes from the same fields.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import functools
from pathlib import Path
from typing import Any

import pytest

from rules.analysis import impact, outcome
from rules.analysis.impact import Compared
from rules.analysis.outcome import Outcome
from rules.analysis.population import PolicySpec, built_comparison, compare_record
from rules.engine import evaluator
from rules.engine.evaluator import Evaluation
from rules.frozen import made
from rules.policy.mechanisms import Derived
from rules.stay import limit

#: The classes made so, and the modules that make them.
MADE = (Compared, Outcome, Evaluation, Derived)
MAKERS = (impact, outcome, evaluator, limit)

ROOT = Path(__file__).resolve().parents[1]
AMENDMENTS = sorted((ROOT / "examples" / "amendments").glob("*.yaml"))

from sample_cases import bench_population  # noqa: E402


def _fields(instance: Any) -> dict[str, Any]:
    return {item.name: getattr(instance, item.name) for item in dataclasses.fields(instance)}


@pytest.mark.parametrize("cls", MADE)
def test_a_frozen_record_made_without_its_init_has_nothing_init_would_add(cls: type) -> None:
    assert dataclasses.is_dataclass(cls)
    assert cls.__dataclass_params__.frozen  # type: ignore[attr-defined]
    assert not hasattr(cls, "__post_init__")
    assert not hasattr(cls, "__slots__")


def test_an_outcome_made_without_its_init_is_the_one_init_makes() -> None:
    fields = {
        "record": 3,
        "person_id": "P-1",
        "as_of": dt.date(2026, 3, 20),
        "citizenship": "RU",
        "statuses": {"stay": ("compliant", "overstay")},
        "amounts": {"stay.days_used": (61, 61)},
        "changed": ("stay.status",),
        "why": None,
        "notes": (),
        "detail": {"person_id": "P-1"},
        "groups": {},
        "error": None,
        "problems": (),
    }
    assert list(fields) == [item.name for item in dataclasses.fields(Outcome)]
    shortcut, usual = made(Outcome, fields), Outcome(**fields)
    assert type(shortcut) is Outcome
    assert shortcut == usual
    assert list(vars(shortcut)) == list(vars(usual))
    with pytest.raises(dataclasses.FrozenInstanceError):
        shortcut.record = 4  # type: ignore[misc]


@functools.cache
def _comparison(amendment: Path) -> Any:
    return built_comparison(PolicySpec.of_files(None), PolicySpec.of_files(None, [amendment]))


@pytest.mark.parametrize("amendment", AMENDMENTS, ids=lambda path: path.stem)
def test_population_records_on_the_benchmark_day_compared_give_the_records_init_makes(
    amendment: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    made_here: list[Any] = []

    def watched(cls: type, fields: dict[str, Any]) -> Any:
        instance = made(cls, fields)
        made_here.append(instance)
        return instance

    for module in MAKERS:
        monkeypatch.setattr(module, "made", watched)
    comparison = _comparison(amendment)
    on = dt.date.fromisoformat(bench_population.ON)
    for index, record in enumerate(bench_population.population_records(120, 2026)):
        compare_record(comparison, index, record, [on], ())
    assert {type(instance) for instance in made_here} == set(MADE)
    for instance in made_here:
        usual = type(instance)(**_fields(instance))
        assert instance == usual
        assert list(vars(instance)) == list(vars(usual))
