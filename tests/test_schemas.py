"""The JSON Schemas are the contract with systems not written in Python.

The files under ``schemas/`` (shipped in the package as ``rules.shipped_schemas``) are exactly
what ``kzmig schema`` writes for the shipped policy; every example person, verdict, plan, policy
file and amendment is valid under them; and the person schema refuses what the engine refuses.

After a change to a policy or a model, rewrite the files with ``python tests/test_schemas.py``.
"""

from __future__ import annotations

import datetime as dt
import importlib.resources
import json
import sys
from pathlib import Path
from typing import Any

import jsonschema
import pytest
from typer.testing import CliRunner

import rules
from rules.cli import app
from rules.engine.schemas import KINDS
from rules.policy.documents import parse_document

ROOT = Path(__file__).resolve().parents[1]
SHIPPED = ROOT / "schemas"
POLICY_FILES = sorted((ROOT / "policies" / "kz").glob("*.yaml"))
AMENDMENTS = sorted((ROOT / "examples" / "amendments").glob("*.yaml"))


def _rendered(kind: str) -> str:
    return json.dumps(rules.schema(kind), ensure_ascii=False, indent=2) + "\n"


def _validator(kind: str) -> jsonschema.Draft202012Validator:
    schema = json.loads((SHIPPED / f"{kind}.schema.json").read_text(encoding="utf-8"))
    jsonschema.Draft202012Validator.check_schema(schema)
    return jsonschema.Draft202012Validator(schema, format_checker=jsonschema.FormatChecker())


def _as_json(data: Any) -> Any:
    return json.loads(json.dumps(data, default=str))


def _yaml(path: Path) -> Any:
    return parse_document(path.read_text(encoding="utf-8"), str(path)).data


def _example_persons() -> list[dict[str, Any]]:
    persons = [_yaml(path)["person"] for path in sorted((ROOT / "examples" / "cases").glob("*/*.yaml"))]
    for path in sorted((ROOT / "examples" / "persons").glob("*.*")):
        if path.suffix == ".jsonl":
            lines = path.read_text(encoding="utf-8").splitlines()
            persons += [json.loads(line) for line in lines if line.strip()]
        else:
            data = _yaml(path)
            persons += data if isinstance(data, list) else [data]
    return [_as_json(person) for person in persons]


# --- the shipped files ------------------------------------------------------------------------


@pytest.mark.parametrize("kind", KINDS)
def test_the_shipped_schema_is_what_kzmig_schema_writes_for_the_shipped_policy(kind: str) -> None:
    shipped = (SHIPPED / f"{kind}.schema.json").read_text(encoding="utf-8")
    assert shipped == _rendered(kind), "rewrite the schemas with: python tests/test_schemas.py"
    result = CliRunner().invoke(app, ["schema", kind])
    assert result.exit_code == 0, result.output
    assert result.output == shipped


@pytest.mark.parametrize("kind", KINDS)
def test_the_schemas_travel_in_the_package(kind: str) -> None:
    packaged = importlib.resources.files("rules.shipped_schemas") / f"{kind}.schema.json"
    assert json.loads(packaged.read_text(encoding="utf-8")) == rules.schema(kind)


# --- every example is valid under its schema --------------------------------------------------


def test_every_example_person_is_valid_under_the_person_schema_and_its_verdict_under_the_verdict_schema():
    policy = rules.load_policy()
    persons, verdicts = _validator("person"), _validator("verdict")
    examples = _example_persons()
    assert len(examples) > 70
    for person in examples:
        persons.validate(person)
        verdict = rules.evaluate(person, on=dt.date(2026, 6, 1), policy=policy)
        verdicts.validate(verdict.model_dump(mode="json"))


@pytest.mark.parametrize(
    ("enter", "days"),
    [
        pytest.param(dt.date(2026, 5, 1), 30, id="2026-05-01 30 days allowed"),
        pytest.param(dt.date(2026, 4, 1), 30, id="2026-04-01 30 days refused, with the earliest entry"),
        pytest.param(dt.date(2026, 9, 1), None, id="2026-09-01 one day"),
    ],
)
def test_a_plan_is_valid_under_the_plan_schema(enter: dt.date, days: int | None) -> None:
    person = _yaml(ROOT / "examples" / "persons" / "plan-RU-P1.yaml")
    planned = rules.plan(person, enter=enter, days=days)
    _validator("plan").validate(planned.model_dump(mode="json"))


@pytest.mark.parametrize("path", POLICY_FILES + AMENDMENTS, ids=lambda path: path.name)
def test_every_policy_file_and_amendment_is_valid_under_the_policy_schema(path: Path) -> None:
    _validator("policy").validate(_as_json(_yaml(path)))


# --- the schema refuses what the engine refuses -----------------------------------------------


@pytest.mark.parametrize(
    ("change", "where"),
    [
        pytest.param({"nickname": "B"}, [], id="unknown top-level field"),
        pytest.param(
            {"residence_application": {"interview": "maybe"}},
            ["residence_application", "interview"],
            id="value not allowed",
        ),
        pytest.param(
            {"residence_application": {"language_test": {"reading_pct": 101}}},
            ["residence_application", "language_test", "reading_pct"],
            id="percentage above 100",
        ),
    ],
)
def test_the_person_schema_refuses_what_the_engine_refuses(change: dict[str, Any], where: list[str]) -> None:
    person = {"person_id": "S-1", **change}
    errors = list(_validator("person").iter_errors(person))
    assert errors and list(errors[0].absolute_path) == where
    with pytest.raises(rules.InputError):
        rules.evaluate(person, on=dt.date(2026, 6, 1))


def test_the_policy_schema_refuses_an_unknown_top_level_key() -> None:
    errors = list(_validator("policy").iter_errors({"schema": "kzmig/policy/2", "title": "T", "rulez": []}))
    assert errors


def test_kzmig_schema_person_prints_the_schema_with_the_policys_status_kinds():
    result = CliRunner().invoke(app, ["schema", "person"])
    assert result.exit_code == 0, result.output
    schema = json.loads(result.output)
    assert "residence_application" in schema["properties"]
    assert "international_driver" in schema["$defs"]["Status"]["properties"]["kind"]["enum"]


def test_kzmig_schema_under_an_amendment_describes_the_amended_policy(tmp_path: Path) -> None:
    amendment = tmp_path / "new-status.yaml"
    amendment.write_text(
        "schema: kzmig/policy/2\ntitle: A status kind for a schema test\nstatus_kinds:\n"
        "  sea_crew:\n    description: Crew member of a ship.\n"
        "    source: {title: Test source, href: https://example.org/law}\n",
        encoding="utf-8",
    )
    result = CliRunner().invoke(app, ["schema", "person", "--amend", str(amendment)])
    assert result.exit_code == 0, result.output
    kinds = json.loads(result.output)["$defs"]["Status"]["properties"]["kind"]["enum"]
    assert "sea_crew" in kinds
    assert "sea_crew" not in rules.schema("person")["$defs"]["Status"]["properties"]["kind"]["enum"]


if __name__ == "__main__":
    SHIPPED.mkdir(exist_ok=True)
    for kind in KINDS:
        (SHIPPED / f"{kind}.schema.json").write_text(_rendered(kind), encoding="utf-8")
        print(f"wrote schemas/{kind}.schema.json", file=sys.stderr)
