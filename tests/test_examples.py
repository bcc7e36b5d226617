"""The examples are the law's sample cases: each one must give the verdict it states.

``examples/cases/<policy file stem>/<case>.yaml`` holds one person on one date, optionally the
example amendments applied (``amend``), and the result the law gives (figures computed by hand
from docs/law-notes.md, written in each file's comments): the stay figures under ``expect``, and the
section of any other programme under ``expect.sections.<programme>`` (each key given must equal
the section's JSON value). Every policy file of ``policies/kz`` has at least one case that
passes (compliant, exempt, not applicable, passed, in term, completed) and one that fails
(overstay, undetermined, refused, refund due); a test fails when one is missing. The status
that classifies a case is its first section's, or else the stay status. Every person file in
``examples/persons`` is checked through the command line.
"""

from __future__ import annotations

import datetime as dt
import functools
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

import rules
from rules.cli.app import app
from rules.policy.documents import parse_document

ROOT = Path(__file__).resolve().parents[1]
CASES = ROOT / "examples" / "cases"
PERSONS = ROOT / "examples" / "persons"
POLICY = ROOT / "policies" / "kz"

AMENDMENTS = ROOT / "examples" / "amendments"

PASSING = {"compliant", "exempt", "not_applicable", "passed", "in_term", "completed", "released"}
PASSING |= {"not_liable"}  # the host's liability (art. 518)
FAILING = {"overstay", "undetermined", "refused", "refund_due"}
FAILING |= {"warning", "fine"}  # the host's liability (art. 518)
FIGURES = ("days_used", "overstay_days", "exempt_days", "latest_exit")
DECISIONS = ("sanction", "entry_check")  # status of each, or null when none applies
EXPECT_KEYS = {
    "status",
    "missing",
    "fired",
    "not_fired",
    "sanction_values",
    "registration",
    "sections",
    "warnings",
    "not_warnings",
    *FIGURES,
    *DECISIONS,
}
CASE_KEYS = {"name", "on", "person", "expect"}
OPTIONAL_CASE_KEYS = {"amend"}


def _case_files() -> list[Path]:
    return sorted(CASES.glob("*/*.yaml"))


def _read_case(path: Path) -> dict[str, Any]:
    data = parse_document(path.read_text(encoding="utf-8"), str(path)).data
    assert isinstance(data, dict), f"{path}: a case is a mapping"
    return data


def _case_id(path: Path) -> str:
    return path.relative_to(ROOT).as_posix()


def _as_json(value: Any) -> Any:
    """A value written in a case file as the verdict's JSON shows it (dates as ISO text)."""
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, list):
        return [_as_json(item) for item in value]
    if isinstance(value, dict):
        return {key: _as_json(item) for key, item in value.items()}
    return value


def _classifying_status(case: dict[str, Any]) -> str:
    sections = case["expect"].get("sections") or {}
    if sections:
        return str(next(iter(sections.values()))["status"])
    return str(case["expect"]["status"])


@functools.cache
def _policy(amendments: tuple[str, ...]) -> rules.Policy:
    return rules.load_policy(POLICY, amendments=[AMENDMENTS / name for name in amendments])


@pytest.mark.parametrize("path", _case_files(), ids=_case_id)
def test_example_case_gives_the_verdict_it_states(path: Path) -> None:
    case = _read_case(path)
    assert CASE_KEYS <= set(case) <= CASE_KEYS | OPTIONAL_CASE_KEYS, (
        f"a case has the keys {sorted(CASE_KEYS)}"
    )
    assert isinstance(case["on"], dt.date)
    expect = case["expect"]
    assert "status" in expect or "sections" in expect, "expect.status or expect.sections is required"
    assert set(expect) <= EXPECT_KEYS, f"unknown expect keys: {sorted(set(expect) - EXPECT_KEYS)}"

    verdict = rules.evaluate(case["person"], on=case["on"], policy=_policy(tuple(case.get("amend", ()))))

    if "status" in expect:
        assert verdict.stay.status == expect["status"], case["name"]
    for programme, expected in (expect.get("sections") or {}).items():
        section = verdict.section(programme)
        assert section is not None, f"{case['name']}: no {programme} section"
        shown = section.model_dump(mode="json")
        for key, value in expected.items():
            assert key in shown, f"{case['name']}: the {programme} section has no {key!r}"
            assert shown[key] == _as_json(value), f"{programme}.{key}: {case['name']}"
    for figure in FIGURES:
        if figure in expect:
            assert getattr(verdict.stay, figure) == expect[figure], f"{figure}: {case['name']}"
    if "missing" in expect:
        assert list(verdict.stay.missing) == expect["missing"], case["name"]
    for name in DECISIONS:
        if name in expect:
            decision = getattr(verdict.stay, name)
            assert (decision.status if decision else None) == expect[name], f"{name}: {case['name']}"
    if "registration" in expect:  # {procedure, due[, state]} of the current trip, or null
        due = verdict.stay.registration
        keys = ("procedure", "due", *(("state",) if "state" in (expect["registration"] or {}) else ()))
        shown = {key: getattr(due, key) for key in keys} if due else None
        assert shown == expect["registration"], f"registration: {case['name']}"
    if "sanction_values" in expect:
        assert verdict.stay.sanction is not None, case["name"]
        assert verdict.stay.sanction.values == expect["sanction_values"], case["name"]
    for expected_warning in expect.get("warnings", ()):  # each a part of some warning
        assert any(expected_warning in warning for warning in verdict.warnings), (
            case["name"],
            verdict.warnings,
        )
    for unexpected in expect.get("not_warnings", ()):  # each a part of no warning
        assert not any(unexpected in warning for warning in verdict.warnings), (
            case["name"],
            verdict.warnings,
        )
    in_trace = {entry.rule for entry in verdict.trace}
    assert set(expect.get("fired", [])) <= in_trace, f"rules missing from the trace: {case['name']}"
    assert not set(expect.get("not_fired", [])) & in_trace, f"rules that must not fire: {case['name']}"


def test_every_policy_file_has_a_passing_and_a_failing_example_case() -> None:
    outcomes: dict[str, set[str]] = {}
    for path in _case_files():
        outcomes.setdefault(path.parent.name, set()).add(_classifying_status(_read_case(path)))
    lacking = [
        f"{policy_file.name}: no {side} case in examples/cases/{policy_file.stem}/"
        for policy_file in sorted(POLICY.glob("*.yaml"))
        for side, statuses in (("passing", PASSING), ("failing", FAILING))
        if not outcomes.get(policy_file.stem, set()) & statuses
    ]
    assert not lacking, "\n".join(lacking)


def test_every_example_case_directory_names_a_policy_file() -> None:
    stems = {path.stem for path in POLICY.glob("*.yaml")}
    strays = sorted(d.name for d in CASES.iterdir() if d.is_dir() and d.name not in stems)
    assert not strays, f"case directories without a policy file: {strays}"


def test_example_case_names_are_unique() -> None:
    names = [_read_case(path)["name"] for path in _case_files()]
    assert len(names) == len(set(names))


@pytest.mark.parametrize("path", sorted(PERSONS.glob("*.*")), ids=_case_id)
def test_2024_08_01_example_person_file_is_checked_by_the_cli_with_exit_code_0(path: Path) -> None:
    for output in ("text", "json"):
        result = CliRunner().invoke(app, ["check", str(path), "--on", "2024-08-01", "--format", output])
        assert result.exit_code == 0, result.output
