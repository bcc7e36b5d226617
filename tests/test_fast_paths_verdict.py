"""Verdicts built without validating again (models.verdict.built) against validated ones, and
verdicts copied with a field replaced (models.verdict.copied) against pydantic's copies.

The engine builds the verdict's models from values that are already what validation keeps, so
it skips validation. Here every example case's verdict, with its trace and without, is built
again through validation (each model from the fields it was given) and must be the same
object to the last type: each model and each value of the same class, the same fields given,
the same extra sections, the same JSON.
"""

from __future__ import annotations

import datetime as dt
import functools
from pathlib import Path
from typing import Any

import pytest
from pydantic import BaseModel

import rules
from models.verdict import (
    Decision,
    Derivation,
    OverstayPeriod,
    PolicyRef,
    ProgrammeSection,
    StayResult,
    StayStatus,
    built,
    copied,
)
from rules.policy.documents import parse_document

ROOT = Path(__file__).resolve().parents[1]
CASES = sorted((ROOT / "examples" / "cases").glob("*/*.yaml"))
POLICY = ROOT / "policies" / "kz"
AMENDMENTS = ROOT / "examples" / "amendments"


@functools.cache
def _evaluator(amendments: tuple[str, ...]) -> rules.Evaluator:
    policy = rules.load_policy(POLICY, amendments=[AMENDMENTS / name for name in amendments])
    return rules.Evaluator(policy)


def _same(built_value: Any, validated: Any, where: str, fields_set: bool = True) -> None:
    """Equal, and of the same class all the way down (a list is not a tuple here); with
    ``fields_set``, the same fields given (not for a model read back from a full dump)."""
    assert type(built_value) is type(validated), f"{where}: {type(built_value)} != {type(validated)}"
    if isinstance(validated, BaseModel):
        if fields_set:
            assert built_value.model_fields_set == validated.model_fields_set, where
        assert list(built_value.__dict__) == list(validated.__dict__), where
        assert (built_value.__pydantic_extra__ is None) == (validated.__pydantic_extra__ is None), where
        assert built_value.__pydantic_private__ == validated.__pydantic_private__, where
        for name, value in validated.__dict__.items():
            _same(built_value.__dict__[name], value, f"{where}.{name}", fields_set)
        for name, value in (validated.__pydantic_extra__ or {}).items():
            _same((built_value.__pydantic_extra__ or {})[name], value, f"{where}.{name}", fields_set)
    elif isinstance(validated, dict):
        assert list(built_value) == list(validated), where
        for name, value in validated.items():
            _same(built_value[name], value, f"{where}[{name!r}]", fields_set)
    elif isinstance(validated, (list, tuple)):
        assert len(built_value) == len(validated), where
        for index, (left, right) in enumerate(zip(built_value, validated, strict=True)):
            _same(left, right, f"{where}[{index}]", fields_set)
    else:
        assert built_value == validated, where


def _validated(value: Any) -> Any:
    """``value`` built again through validation, each model from the fields it was given."""
    if isinstance(value, BaseModel):
        given = {
            name: _validated(item) for name, item in value.__dict__.items() if name in value.model_fields_set
        }
        extra = {name: _validated(item) for name, item in (value.__pydantic_extra__ or {}).items()}
        return type(value)(**given, **extra)
    if isinstance(value, tuple):
        return tuple(_validated(item) for item in value)
    if isinstance(value, list):
        return [_validated(item) for item in value]
    if isinstance(value, dict):
        return {name: _validated(item) for name, item in value.items()}
    return value


@pytest.mark.parametrize("path", CASES, ids=lambda path: path.relative_to(ROOT).as_posix())
@pytest.mark.parametrize("trace", [True, False], ids=["trace", "no-trace"])
def test_a_built_verdict_is_the_validated_verdict(path: Path, trace: bool) -> None:
    case = parse_document(path.read_text(encoding="utf-8"), str(path)).data
    evaluator = _evaluator(tuple(case.get("amend", ())))
    verdict, _ = evaluator.evaluate_with_facts(case["person"], case["on"], (), trace=trace)
    validated = _validated(verdict)
    assert verdict == validated
    assert verdict.model_dump_json() == validated.model_dump_json()
    _same(verdict, validated, "verdict")
    if not trace:
        full = evaluator.evaluate(case["person"], case["on"])
        assert verdict.model_copy(update={"trace": full.trace}) == full
        # The trace built later from the same case is the trace of a traced evaluation.
        later = evaluator.evaluate_case(case["person"], case["on"], trace=False)
        assert later.verdict == verdict
        traced = later.traced()
        assert traced == full
        assert traced.model_dump_json() == full.model_dump_json()
        _same(traced, full, "verdict")


def test_built_fills_defaults_and_extras_as_validation_does() -> None:
    day = dt.date(2025, 1, 2)
    period = built(OverstayPeriod, {"start": day, "end": day, "days": 1})
    _same(period, OverstayPeriod.model_validate({"from": day, "to": day, "days": 1}), "period")
    assert period.model_dump(mode="json") == {"from": "2025-01-02", "to": "2025-01-02", "days": 1}
    _same(built(Decision, {"status": "s", "rule": "r"}), Decision(status="s", rule="r"), "decision")
    _same(built(Derivation, {"fact": "f", "formula": "add"}), Derivation(fact="f", formula="add"), "der")
    _same(built(StayResult, {"status": StayStatus.COMPLIANT}), StayResult(status="compliant"), "stay")
    section = built(ProgrammeSection, {"title": "t", "status": "s"}, {"points": 3})
    _same(section, ProgrammeSection(title="t", status="s", points=3), "section")  # type: ignore[call-arg]
    empty = built(ProgrammeSection, {"title": "t", "status": "s"})
    _same(empty, ProgrammeSection(title="t", status="s"), "section")


@pytest.mark.parametrize("path", CASES[::4], ids=lambda path: path.relative_to(ROOT).as_posix())
def test_a_copied_verdict_is_pydantics_copy(path: Path) -> None:
    case = parse_document(path.read_text(encoding="utf-8"), str(path)).data
    verdict = _evaluator(tuple(case.get("amend", ()))).evaluate(case["person"], case["on"])
    other = PolicyRef(name="amended", version="2")
    for model, update in (
        (verdict, {"policy": other}),
        (verdict.stay, {"limit": 60, "window": 180}),
        *((section, {"status": "other"}) for section in verdict.sections.values()),
    ):
        original = model.model_dump_json()
        copy = copied(model, update)
        expected = model.model_copy(update=update)
        _same(copy, expected, type(model).__name__)
        assert copy.model_dump_json() == expected.model_dump_json()
        assert copy.__pydantic_extra__ is not model.__pydantic_extra__ or model.__pydantic_extra__ is None
        assert model.model_dump_json() == original  # the original is not changed
