"""Policy format 2 as an analyst meets it: refinements, amendment gaps, every load problem in
one round, programmes that read each other, the file of format 1, and the JSON Schemas written
for a policy. Each broken policy is a copy of ``policies/kz`` with one file added or edited;
lines are computed from the text, never hard-coded.
"""

from __future__ import annotations

import datetime as dt
import shutil
from pathlib import Path

import pytest
from typer.testing import CliRunner

import rules
from rules import PolicyError, Problem
from rules.cli import app

ROOT = Path(__file__).resolve().parents[1]
POLICY_DIR = ROOT / "policies" / "kz"
SOURCE = "{title: Test source, href: https://example.org/law}"
HEADER = "schema: kzmig/policy/2\ntitle: A file written for a format test\n"

# 75 days in Kazakhstan (entry and exit day counted), an EAEU citizen: no per-entry cap.
SEVENTY_FIVE_DAYS = {
    "person_id": "E-75",
    "citizenship": "RU",
    "trips": [{"entry": "2024-01-01", "exit": "2024-03-15"}],
}
# 91 days to the day of a new entry: refused at the border, Kyrgyz refusal suspended until 1 Sep 2025.
KG_BACK_AFTER_90 = {
    "person_id": "KG-91",
    "citizenship": "KG",
    "trips": [{"entry": "2025-01-01", "exit": "2025-03-31"}, {"entry": "2025-04-01"}],
}


def policy_copy(tmp_path: Path) -> Path:
    target = tmp_path / "kz"
    shutil.copytree(POLICY_DIR, target)
    return target


def add_file(directory: Path, text: str, name: str = "extra.yaml") -> Path:
    path = directory / name
    path.write_text(HEADER + text, encoding="utf-8")
    return path


def line_of(path: Path, snippet: str) -> int:
    text = path.read_text(encoding="utf-8")
    assert text.count(snippet) == 1, f"the test expects {snippet!r} once in {path.name}"
    return text[: text.index(snippet)].count("\n") + 1


def problems_of(directory: Path, amendments: tuple[Path, ...] = ()) -> tuple[Problem, ...]:
    with pytest.raises(PolicyError) as caught:
        rules.load_policy(directory, amendments=amendments)
    return caught.value.problems


# --- refinements ------------------------------------------------------------------------------


def test_2025_04_01_kyrgyz_suspension_refines_the_refusal_without_restating_its_condition():
    verdict = rules.evaluate(KG_BACK_AFTER_90, on=dt.date(2025, 4, 1))
    assert verdict.stay.entry_check is not None and verdict.stay.entry_check.status == "suspended"
    trace = {entry.rule: entry for entry in verdict.trace}
    assert trace["entry.refusal"].overridden_by == "entry.refusal_suspended.kyrgyzstan_2025"
    # The refinement read its base rule's facts as well as its own.
    assert set(trace["entry.refusal_suspended.kyrgyzstan_2025"].facts) >= {
        "stay.status",
        "stay.entered_today",
        "stay.over_limit",
        "stay.citizenship",
    }


def test_2025_04_01_refinement_does_not_fire_when_its_base_condition_fails(tmp_path):
    directory = policy_copy(tmp_path)
    add_file(
        directory,
        "rules:\n"
        f"  - id: stay.extra.russians\n    title: Russian citizens over the limit\n    source: {SOURCE}\n"
        "    from: 2023-01-27\n    refines: stay.overstay\n    when: {fact: stay.citizenship, eq: RU}\n"
        "    then: {status: exempt}\n",
    )
    evaluator = rules.Evaluator(rules.load_policy(directory))
    within = evaluator.evaluate(SEVENTY_FIVE_DAYS, on=dt.date(2024, 3, 15))  # 75 days: no overstay
    assert "stay.extra.russians" not in {entry.rule for entry in within.trace}
    over = dict(SEVENTY_FIVE_DAYS, trips=[{"entry": "2024-01-01", "exit": "2024-04-15"}])  # 106 days
    verdict = evaluator.evaluate(over, on=dt.date(2024, 4, 15))
    trace = {entry.rule: entry for entry in verdict.trace}
    assert trace["stay.overstay"].overridden_by == "stay.extra.russians"
    assert verdict.stay.status == "exempt"


def test_refinement_of_an_unknown_rule_is_refused_with_a_suggestion(tmp_path):
    directory = policy_copy(tmp_path)
    path = add_file(
        directory,
        "rules:\n"
        f"  - id: stay.extra.a\n    title: A refinement\n    source: {SOURCE}\n    from: 2023-01-27\n"
        "    refines: stay.overstai\n    then: {status: exempt}\n",
    )
    (problem,) = problems_of(directory)
    assert problem.where == f"{path}:{line_of(path, 'refines:')} at rules[0].refines"
    assert problem.message == "refines unknown rule 'stay.overstai' (did you mean 'stay.overstay'?)"


def test_refinement_of_a_rule_of_another_programme_is_refused(tmp_path):
    directory = policy_copy(tmp_path)
    add_file(
        directory,
        "rules:\n"
        f"  - id: sanction.extra\n    title: A refinement\n    source: {SOURCE}\n    from: 2023-01-27\n"
        "    refines: entry.refusal\n    then: {status: warning}\n",
    )
    messages = [problem.message for problem in problems_of(directory)]
    assert "a rule refines a rule of its own programme" in messages


def test_refinements_forming_a_cycle_are_refused(tmp_path):
    directory = policy_copy(tmp_path)

    def rule(name: str, refined: str) -> str:
        return (
            f"  - id: stay.extra.{name}\n    title: A refinement\n    source: {SOURCE}\n"
            f"    from: 2023-01-27\n    refines: stay.extra.{refined}\n    then: {{status: exempt}}\n"
        )

    add_file(directory, "rules:\n" + rule("a", "b") + rule("b", "a"))
    messages = [problem.message for problem in problems_of(directory)]
    assert any(message.startswith("overrides form a cycle: stay.extra.") for message in messages)


# --- a rule with two true branches fires once -------------------------------------------------


def test_2024_03_15_rule_whose_any_has_two_true_branches_is_listed_once_in_the_trace(tmp_path):
    directory = policy_copy(tmp_path)
    add_file(
        directory,
        "rules:\n"
        f"  - id: stay.extra.either\n    title: Russian, or more than 10 days\n    source: {SOURCE}\n"
        "    from: 2023-01-27\n"
        "    when: {any: [{fact: stay.citizenship, eq: RU}, {fact: stay.days_used, gt: 10}]}\n",
    )
    verdict = rules.Evaluator(rules.load_policy(directory)).evaluate(
        SEVENTY_FIVE_DAYS, on=dt.date(2024, 3, 15)
    )
    rules_listed = [entry.rule for entry in verdict.trace]
    assert rules_listed.count("stay.extra.either") == 1
    assert len(rules_listed) == len(set(rules_listed))


# --- amendments that leave a gap ---------------------------------------------------------------


def _amendment(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "what-if.yaml"
    path.write_text(HEADER + text, encoding="utf-8")
    return path


def test_amendment_starting_the_limit_later_than_the_baseline_leaves_a_gap_reported_at_its_line(tmp_path):
    path = _amendment(
        tmp_path,
        "parameters:\n  stay.limit_days:\n    description: The limit.\n    values:\n"
        f"      - {{from: 2026-01-01, value: 60, source: {SOURCE}}}\n",
    )
    (problem,) = problems_of(POLICY_DIR, (path,))
    assert (
        problem.where
        == f"{path}:{line_of(path, '- {from: 2026-01-01')} at parameters.stay.limit_days.values[0].from"
    )
    assert problem.message.startswith(
        "parameter 'stay.limit_days' had a value from 2023-01-27; "
        "this amendment's first starts on 2026-01-01, "
        "leaving 2023-01-27 to 2025-12-31 without one"
    )


def test_amendment_starting_a_table_row_later_than_the_baseline_leaves_a_gap(tmp_path):
    path = _amendment(
        tmp_path,
        "tables:\n  stay.regime_of_citizenship:\n    description: Regimes.\n    key: citizenship\n    rows:\n"
        f"      KG: [{{from: 2027-01-01, value: visa_free, source: {SOURCE}}}]\n",
    )
    (problem,) = problems_of(POLICY_DIR, (path,))
    assert problem.where.endswith("at tables.stay.regime_of_citizenship.rows.KG[0].from")
    assert "row 'KG' of table 'stay.regime_of_citizenship' had a value from 2023-01-27" in problem.message


def test_amendment_starting_a_rule_later_than_the_baseline_leaves_a_gap(tmp_path):
    path = _amendment(
        tmp_path,
        "rules:\n"
        f"  - id: stay.compliant\n    title: No day breaks the limit\n    source: {SOURCE}\n"
        "    from: 2025-01-01\n    when: {fact: stay.overstay_days, eq: 0}\n    then: {status: compliant}\n",
    )
    (problem,) = problems_of(POLICY_DIR, (path,))
    assert problem.where == f"{path}:{line_of(path, 'from: 2025-01-01')} at rules[0].from"
    assert "was in force from 2023-01-27" in problem.message


def test_amendment_ending_a_value_with_a_dated_null_is_not_a_gap(tmp_path):
    path = _amendment(
        tmp_path,
        "parameters:\n  stay.limit_days:\n    description: The limit.\n    values:\n"
        f"      - {{from: 2023-01-27, value: 90, source: {SOURCE}}}\n"
        f"      - {{from: 2030-01-01, value: null, source: {SOURCE}}}\n",
    )
    assert (
        rules.load_policy(amendments=[path]).parameter("stay.limit_days", dt.date(2029, 12, 31)).value == 90
    )


def test_kzmig_policy_check_reports_an_amendment_gap_and_exits_3(tmp_path):
    path = _amendment(
        tmp_path,
        "parameters:\n  stay.limit_days:\n    description: The limit.\n    values:\n"
        f"      - {{from: 2026-01-01, value: 60, source: {SOURCE}}}\n",
    )
    result = CliRunner().invoke(app, ["policy", "check", "--amend", str(path)])
    assert result.exit_code == 3
    assert "leaving 2023-01-27 to 2025-12-31 without one" in result.output


# --- every problem in one round ---------------------------------------------------------------


def test_a_broken_rule_and_a_cross_file_problem_in_two_files_are_reported_in_one_round(tmp_path):
    directory = policy_copy(tmp_path)
    first = add_file(
        directory,
        "rules:\n"
        f"  - id: stay.extra.a\n    title: A rule with no start date\n    source: {SOURCE}\n"
        f"  - id: stay.extra.b\n    title: A valid rule\n    source: {SOURCE}\n    from: 2023-01-27\n",
        name="extra-one.yaml",
    )
    second = add_file(
        directory,
        "rules:\n"
        f"  - id: stay.extra.c\n    title: Reads an unknown fact\n    source: {SOURCE}\n"
        "    from: 2023-01-27\n"
        "    when: {fact: stay.days_usde, gt: 3}\n",
        name="extra-two.yaml",
    )
    wheres = sorted(problem.where for problem in problems_of(directory))
    expected = [
        f"{first}:{line_of(first, '  - id: stay.extra.a')} at rules[0].from",
        f"{second}:{line_of(second, 'when:')} at rules[0].when.fact",
    ]
    assert wheres == sorted(expected)


def test_a_reference_to_a_broken_rule_is_not_reported_a_second_time(tmp_path):
    directory = policy_copy(tmp_path)
    add_file(
        directory,
        "rules:\n"
        f"  - id: stay.extra.base\n    title: A rule with no start date\n    source: {SOURCE}\n"
        f"  - id: stay.extra.exception\n    title: An exception to it\n    source: {SOURCE}\n"
        "    from: 2023-01-27\n    overrides: [stay.extra.base]\n",
    )
    (problem,) = problems_of(directory)
    assert problem.where.endswith("at rules[0].from")


# --- programmes --------------------------------------------------------------------------------


def test_programmes_reading_each_other_in_a_cycle_are_refused(tmp_path):
    directory = policy_copy(tmp_path)
    add_file(
        directory,
        "programmes:\n"
        "  ping:\n    title: One programme\n    precedence: [done]\n    reads: [pong]\n    required: false\n"
        "  pong:\n    title: Another programme\n    precedence: [done]\n    reads: [ping]\n"
        "    required: false\n",
    )
    messages = [problem.message for problem in problems_of(directory)]
    assert any(message.startswith("programmes read each other in a cycle: ") for message in messages)


def test_a_section_naming_a_slot_the_mechanism_lacks_is_refused_with_its_slots(tmp_path):
    directory = policy_copy(tmp_path)
    path = add_file(
        directory,
        "programmes:\n"
        "  fee:\n    title: A fee\n    precedence: [due]\n    required: false\n    reads: [stay]\n"
        "    section: stay.fee\n",
    )
    (problem,) = problems_of(directory)
    assert problem.where == f"{path}:{line_of(path, 'section:')} at programmes.fee.section"
    assert (
        problem.message == "the 'stay' section has no slot 'fee'; its slots: stay.sanction, stay.entry_check"
    )


def test_a_record_key_of_every_person_record_is_refused_as_a_programme_record(tmp_path):
    directory = policy_copy(tmp_path)
    add_file(
        directory,
        "programmes:\n  visa_check:\n    title: A visa check\n    precedence: [done]\n"
        "    evaluated: with_record\n    record: trips\n",
    )
    messages = [problem.message for problem in problems_of(directory)]
    assert "'trips' is a field of every person record; name another key" in messages


# --- format 1 ---------------------------------------------------------------------------------


def test_a_file_of_format_1_is_refused_with_how_to_convert_it(tmp_path):
    path = tmp_path / "old.yaml"
    path.write_text("schema: kzmig/policy/1\ntitle: An old amendment\nrules: []\n", encoding="utf-8")
    (problem,) = problems_of(POLICY_DIR, (path,))
    assert problem.where == f"{path}:1 at schema"
    assert problem.message.startswith(
        "format kzmig/policy/1 is no longer read; convert the file to kzmig/policy/2"
    )
    assert "docs/policy-format.md" in problem.message
