"""A programme section of a record (a residence application, a social contract) is read in one
quick pass when it is valid as it usually is, and the full way otherwise: either way the same
typed values, and for a section with problems the same problems at the same paths, as the full
reading gives for every section of every example policy."""

from __future__ import annotations

import datetime as dt
import sys
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from budget import examples
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import rules
from models.person import Person
from models.policy import InputField, TableValues
from rules.engine import inputs
from rules.errors import InputError

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "benchmarks"))
import bench_evaluate  # noqa: E402

POLICY = rules.load_policy()
SECTIONS = sorted(inputs._records(POLICY))


def _full(person: Person) -> tuple[dict[str, Any], list[Any]]:
    """The sections as the full reading gives them, every one of them read the full way."""
    quick = inputs._readers
    try:
        inputs._readers = lambda policy: {key: _never for key in inputs._records(policy)}  # type: ignore[assignment]
        return inputs._sections(person, POLICY)
    finally:
        inputs._readers = quick


def _never(raw: Any, path: str) -> Any:
    return inputs._REREAD


def _odd() -> st.SearchStrategy[Any]:
    """Values a field may be given that its type may refuse, or read otherwise."""
    return st.one_of(
        st.none(),
        st.booleans(),
        st.integers(min_value=-(10**16), max_value=10**16),
        st.floats(allow_nan=True, allow_infinity=True),
        st.text(max_size=12),
        st.sampled_from(["2026-02-30", "2026-03-20", "12.5", "1e3", " 7 ", "x" * 300, "1" * 41]),
        st.dates().map(dt.date.isoformat),
        st.just({}),
        st.just([]),
    )


def _valid(spec: InputField, depth: int = 0) -> st.SearchStrategy[Any]:
    """Values of ``spec`` as a record usually gives them (some still out of bounds)."""
    kind = spec.type
    if kind == "date":
        return st.dates(min_value=dt.date(2020, 1, 1), max_value=dt.date(2030, 12, 31)).map(dt.date.isoformat)
    if kind == "boolean":
        return st.booleans()
    if kind in ("integer", "decimal"):
        low = int(spec.minimum) - 2 if spec.minimum is not None else -5
        high = int(spec.maximum) + 2 if spec.maximum is not None else 10**7
        numbers = st.integers(min_value=low, max_value=high)
        if kind == "decimal":
            return st.one_of(numbers, numbers.map(lambda n: n + 0.25), numbers.map(str))
        return numbers
    if kind == "string":
        values = spec.values
        if isinstance(values, TableValues):
            table = POLICY.tables.get(values.table)
            keys = sorted(table.rows) if table is not None else []
            return st.sampled_from([*keys, "not-a-key"]) if keys else st.text(max_size=8)
        if values:
            return st.sampled_from([*values, "not-a-value"])
        return st.text(max_size=spec.max_length + 2)
    fields = spec.fields or {}
    if kind == "record":
        return _record(fields, depth + 1)
    return st.lists(_record(fields, depth + 1), max_size=4)


def _record(fields: dict[str, InputField], depth: int = 0) -> st.SearchStrategy[dict[str, Any]]:
    parts = {
        name: st.one_of(_valid(spec, depth), _odd()) if depth < 3 else _odd() for name, spec in fields.items()
    }
    return st.fixed_dictionaries({}, optional=parts)  # type: ignore[arg-type]


@st.composite
def _sections(draw: st.DrawFn) -> dict[str, Any]:
    found: dict[str, Any] = {}
    for key in draw(st.lists(st.sampled_from(SECTIONS), unique=True, min_size=1)):
        section = draw(_record(inputs._records(POLICY)[key].inputs))
        if draw(st.integers(0, 9)) == 0:
            section["no_such_field"] = 1
        found[key] = section
    return found


@settings(max_examples=examples(400), deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(_sections())
def test_any_section_reads_as_the_full_reading_reads_it(sections: dict[str, Any]) -> None:
    person = Person.model_validate({"person_id": "P-1", "citizenship": "KZ", **sections})
    assert inputs._sections(person, POLICY) == _full(person)


@pytest.mark.parametrize(
    "record",
    [bench_evaluate.residence_applicant(), bench_evaluate.kandas_family()],
    ids=["2026 residence applicant", "2025 kandas family"],
)
def test_a_valid_section_is_read_in_the_quick_pass_with_its_items_placed(record: dict[str, Any]) -> None:
    person = Person.model_validate(record)
    sections, problems = inputs._sections(person, POLICY)
    assert not problems and sections
    assert (sections, problems) == _full(person)
    for key, section in sections.items():
        assert inputs._readers(POLICY)[key](person.model_extra[key], key) == section  # type: ignore[index]


def test_2026_residence_language_declared_twice_is_refused_at_its_place_as_before() -> None:
    record = bench_evaluate.residence_applicant()
    application = record["residence_application"]
    questionnaire = application["questionnaire"]
    languages = questionnaire["languages"]
    record["residence_application"] = {
        **application,
        "questionnaire": {**questionnaire, "languages": [*languages, languages[0]]},
    }
    person = Person.model_validate(record)
    assert inputs._sections(person, POLICY) == _full(person)
    with pytest.raises(InputError, match="given twice"):
        inputs.read_sections(person, POLICY)


def test_a_decimal_given_as_text_or_a_float_is_read_as_the_same_decimal() -> None:
    reader = inputs._decimal_reader(InputField(type="decimal", description="an amount"))
    assert reader("12.50", "x") == Decimal("12.50")
    assert reader(0.25, "x") == Decimal("0.25")
    assert reader(7, "x") == Decimal(7) and type(reader(7, "x")) is Decimal
    assert reader(True, "x") is inputs._REREAD
    assert reader(float("inf"), "x") is inputs._REREAD
