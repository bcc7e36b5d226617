"""The library's public surface is small, typed and deliberate: every name in ``__all__`` exists,
and nothing else is advertised."""

from __future__ import annotations

import datetime as dt
import importlib.metadata

import models
import rules
from models import Person, Trip, Verdict


def test_rules_exports_exactly_the_documented_api() -> None:
    assert sorted(rules.__all__) == [
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
        "__version__",
        "compare",
        "evaluate",
        "load_policy",
        "plan",
        "schema",
    ]
    for name in rules.__all__:
        assert hasattr(rules, name), name


def test_models_exports_resolve() -> None:
    for name in models.__all__:
        assert hasattr(models, name), name


def test_every_kzmig_error_is_a_kzmig_error() -> None:
    for error in (rules.InputError, rules.PolicyError, rules.EvaluationError, rules.EngineError):
        assert issubclass(error, rules.KzmigError)
    assert issubclass(rules.EngineError, rules.EvaluationError)


def test_evaluate_accepts_a_typed_person_and_a_plain_dict_alike() -> None:
    typed = Person(person_id="P", citizenship="RU", trips=(Trip(entry=dt.date(2024, 1, 1)),))
    plain = {"person_id": "P", "citizenship": "RU", "trips": [{"entry": "2024-01-01"}]}
    on = dt.date(2024, 2, 1)
    assert rules.evaluate(typed, on=on) == rules.evaluate(plain, on=on)
    assert isinstance(rules.evaluate(plain, on=on), Verdict)


def test_the_installed_package_has_the_version_kzmig_reports() -> None:
    assert importlib.metadata.version("kzmig") == rules.__version__


def test_verdict_json_is_stable_and_uses_from_to_for_periods() -> None:
    verdict = rules.evaluate(
        {"person_id": "P", "citizenship": "US", "trips": [{"entry": "2024-01-01", "exit": "2024-02-05"}]},
        on=dt.date(2024, 3, 1),
    )
    doc = verdict.model_dump(mode="json")
    assert list(doc) == [
        "format",
        "engine_version",
        "person_id",
        "as_of",
        "policy",
        "stay",
        "trace",
        "warnings",
    ]
    assert doc["format"] == "kzmig/verdict/2" and doc["engine_version"] == rules.__version__
    assert list(doc["stay"]) == [
        "status",
        "days_used",
        "limit",
        "window",
        "per_entry_limit",
        "overstay_days",
        "overstay_now",
        "overstay_periods",
        "exempt_days",
        "latest_exit",
        "missing",
        "sanction",
        "entry_check",
        "registration",
        "regime",
        "policy_gaps",
    ]
    assert doc["stay"]["regime"] == "visa_free" and doc["stay"]["policy_gaps"] == []
    assert doc["stay"]["overstay_periods"] == [{"from": "2024-01-31", "to": "2024-02-05", "days": 6}]
    assert Verdict.model_validate(doc) == verdict  # the JSON reads back into the same model


def test_bad_person_dict_raises_input_error_listing_each_place() -> None:
    try:
        rules.evaluate({"person_id": "P", "citizenship": "RU", "trips": [{"entry": "2024-02-30"}], "x": 1})
    except rules.InputError as error:
        places = [problem.where for problem in error.problems]
        assert places == ["trips[0].entry", "x"]
    else:  # pragma: no cover
        raise AssertionError("an invalid record must raise InputError")


def test_every_package_of_the_source_tree_is_named_for_the_wheel() -> None:
    """A package left out of ``[tool.setuptools] packages`` works from a checkout and is
    missing from an installed kzmig (as ``rules.columns`` once was)."""
    import tomllib
    from pathlib import Path

    root = Path(__file__).resolve().parents[1]
    named = set(
        tomllib.loads((root / "pyproject.toml").read_text(encoding="utf-8"))["tool"]["setuptools"]["packages"]
    )
    source = root / "src"
    found = {".".join(init.parent.relative_to(source).parts) for init in source.rglob("__init__.py")}
    assert found - named == set()
