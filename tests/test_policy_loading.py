"""Loading policies: a broken policy is refused with every problem at once, each naming the file,
the line and the YAML path, so an analyst can go straight to it; amendments replace, add and
repeal; the version hash follows the content.

Each broken policy is a copy of ``policies/kz`` in ``tmp_path`` with its text edited, or with a
file of extra rules added. Lines are computed from the edited text, not hard-coded.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import shutil
from pathlib import Path

import pytest

import rules
from rules import PolicyError, Problem

POLICY_DIR = Path(__file__).resolve().parents[1] / "policies" / "kz"
EXAMPLE_DRIVER = Path(__file__).resolve().parents[1] / "examples" / "persons" / "driver-A-17.json"
HEADER = "schema: kzmig/policy/2\ntitle: Extra rules written for a loading test\n"
SOURCE_LINE = "    source: {title: Test source, href: https://example.org/law}\n"

# 75 days in Kazakhstan (entry and exit day counted), an EAEU citizen: no per-entry cap.
SEVENTY_FIVE_DAYS = {
    "person_id": "E-75",
    "citizenship": "RU",
    "trips": [{"entry": "2024-01-01", "exit": "2024-03-15"}],
}
ON_EXIT = dt.date(2024, 3, 15)


def policy_copy(tmp_path: Path, name: str = "kz") -> Path:
    target = tmp_path / name
    shutil.copytree(POLICY_DIR, target)
    return target


def edit(path: Path, old: str, new: str) -> None:
    text = path.read_text(encoding="utf-8")
    assert text.count(old) == 1, f"the test expects {old!r} once in {path.name}"
    path.write_text(text.replace(old, new), encoding="utf-8")


def line_of(path: Path, snippet: str) -> int:
    """The 1-based line on which ``snippet`` starts in ``path``."""
    text = path.read_text(encoding="utf-8")
    assert text.count(snippet) == 1, f"the test expects {snippet!r} once in {path.name}"
    return text[: text.index(snippet)].count("\n") + 1


def extra_rule(rule_id: str = "stay.extra.a", *lines: str) -> str:
    """One rule in YAML: id, title, source and a from date, then ``lines`` (indented by 4)."""
    body = "".join(f"    {line}\n" for line in lines)
    title = "    title: A rule written for a loading test\n"
    return f"  - id: {rule_id}\n{title}{SOURCE_LINE}    from: 2023-01-27\n{body}"


def with_extra(tmp_path: Path, *rule_texts: str, name: str = "extra.yaml") -> tuple[Path, Path]:
    directory = policy_copy(tmp_path)
    path = directory / name
    path.write_text(HEADER + "rules:\n" + "".join(rule_texts), encoding="utf-8")
    return directory, path


def problems_of(directory: Path, amendments: tuple[Path, ...] = ()) -> tuple[Problem, ...]:
    with pytest.raises(PolicyError) as caught:
        rules.load_policy(directory, amendments=amendments)
    assert caught.value.problems, "a policy error should list its problems"
    return caught.value.problems


def only_problem(directory: Path, amendments: tuple[Path, ...] = ()) -> Problem:
    problems = problems_of(directory, amendments)
    assert len(problems) == 1, [str(p) for p in problems]
    return problems[0]


# --- one problem, placed at file, line and YAML path ------------------------------------------


def test_dated_value_without_source_is_refused_at_its_line(tmp_path):
    directory = policy_copy(tmp_path)
    limits = directory / "stay-limit.yaml"
    edit(limits, "        value: 90\n        source: *decree_1146\n", "        value: 90\n")
    line = line_of(limits, "      - from: 2023-01-27\n        value: 90\n")
    problem = only_problem(directory)
    assert problem.where == f"{limits}:{line} at parameters.stay.limit_days.values[0].source"
    assert problem.message == "Field required"


def test_rule_without_from_date_is_refused(tmp_path):
    directory, path = with_extra(
        tmp_path, "  - id: stay.extra.a\n    title: A rule without a start date\n" + SOURCE_LINE
    )
    assert only_problem(directory).where == f"{path}:4 at rules[0].from"


def test_shipped_rule_with_its_from_date_deleted_is_refused_at_its_line(tmp_path):
    directory = policy_copy(tmp_path)
    limits = directory / "stay-limit.yaml"
    edit(
        limits,
        "    from: 2023-01-27\n    when: {fact: stay.subject, eq: false}\n",
        "    when: {fact: stay.subject, eq: false}\n",
    )
    problem = only_problem(directory)
    assert problem.where.startswith(f"{limits}:{line_of(limits, '  - id: stay.not_subject')} at rules[")
    assert problem.where.endswith("].from")
    assert problem.message == "Field required"


@pytest.mark.parametrize(
    "href", ["ftp://example.org/law", "file:///etc/passwd", "javascript:alert(1)", "example.org"]
)
def test_source_href_that_is_not_http_is_refused(tmp_path, href):
    rule = extra_rule().replace("https://example.org/law", href)
    directory, path = with_extra(tmp_path, rule)
    problem = only_problem(directory)
    assert problem.where == f"{path}:{line_of(path, '    source:')} at rules[0].source.href"
    assert problem.message == f"{href!r} is not an http(s) address"


def test_source_anchor_with_a_bad_href_is_refused_at_the_anchor_for_every_use(tmp_path):
    directory = policy_copy(tmp_path)
    limits = directory / "stay-limit.yaml"
    edit(limits, "href: https://visitastana.kz/", "href: ftp://visitastana.kz/")
    line = line_of(limits, "    href: ftp://visitastana.kz/")
    problems = problems_of(directory)
    assert {p.message for p in problems} == {"'ftp://visitastana.kz/' is not an http(s) address"}
    assert all(p.where.startswith(f"{limits}:{line} at ") for p in problems)
    assert any(p.where.endswith("regime_of_citizenship.rows.US[0].source.href") for p in problems)


def test_unknown_top_level_key_is_refused(tmp_path):
    directory = policy_copy(tmp_path)
    header = directory / "policy.yaml"
    edit(header, "\npolicy:\n", "\npolcy_notes: a misspelt section\npolicy:\n")
    problem = only_problem(directory)
    assert problem.where == f"{header}:{line_of(header, 'polcy_notes:')} at polcy_notes"
    assert problem.message == "unknown field"


def test_top_level_extension_keys_holding_shared_sources_are_allowed(tmp_path):
    directory = policy_copy(tmp_path)
    header = directory / "policy.yaml"
    edit(header, "\npolicy:\n", "\nx-notes: {anything: [1, 2]}\npolicy:\n")
    assert rules.load_policy(directory).name == "kz"


# --- YAML that is not plain data --------------------------------------------------------------


@pytest.fixture
def no_shell(monkeypatch):
    """Record any call of os.system or os.popen instead of running it."""
    calls: list[tuple[str, tuple[object, ...]]] = []
    monkeypatch.setattr(os, "system", lambda *args: calls.append(("system", args)) or 0)
    monkeypatch.setattr(os, "popen", lambda *args: calls.append(("popen", args)))
    return calls


@pytest.mark.parametrize(
    "placement",
    [
        pytest.param(
            'rules: !!python/object/apply:os.system ["touch {marker}"]\n', id="as the rules section"
        ),
        pytest.param('description: !!python/object/apply:os.system "touch {marker}"\n', id="on a scalar"),
        pytest.param('parameters: !!python/object:os.Pwned {{x: "touch {marker}"}}\n', id="as an object"),
        pytest.param('x-note: !!python/object/apply:os.system ["touch {marker}"]\n', id="under an x- key"),
    ],
)
def test_python_yaml_tag_is_refused_and_nothing_is_executed(tmp_path, no_shell, placement):
    marker = tmp_path / "pwned"
    directory = policy_copy(tmp_path)
    (directory / "evil.yaml").write_text(HEADER + placement.format(marker=marker), encoding="utf-8")
    try:
        rules.load_policy(directory)
    except PolicyError:
        pass
    assert not marker.exists()
    assert no_shell == []


@pytest.mark.parametrize(
    "placement",
    [
        pytest.param(
            'x-note: !!python/object/apply:os.system ["echo pwned"]\n', id="sequence under an x- key"
        ),
        pytest.param('rules: !!python/object/apply:os.system ["echo pwned"]\n', id="sequence as rules"),
        pytest.param("x-note: !!python/object:os.Pwned {x: 1}\n", id="mapping under an x- key"),
    ],
)
def test_python_yaml_tag_is_refused_as_a_tag(tmp_path, placement):
    directory = policy_copy(tmp_path)
    evil = directory / "evil.yaml"
    evil.write_text(HEADER + placement, encoding="utf-8")
    problem = only_problem(directory)
    assert "YAML tag" in str(problem)
    assert "python/object" in str(problem)
    assert str(evil) in str(problem)


def test_local_yaml_tag_is_refused_naming_the_tag_and_place(tmp_path):
    directory = policy_copy(tmp_path)
    evil = directory / "evil.yaml"
    evil.write_text(HEADER + "x-note: !include [/etc/passwd]\n", encoding="utf-8")
    problem = str(only_problem(directory))
    assert str(evil) in problem
    assert "YAML tag '!include' at x-note" in problem


def test_invalid_yaml_reports_file_and_line(tmp_path):
    directory, path = with_extra(
        tmp_path, "  - id: stay.extra.a\n    title: [unclosed\n    from: 2023-01-27\n"
    )
    problem = str(only_problem(directory))
    assert f"{path}:{line_of(path, '    from: 2023-01-27')}: not valid YAML" in problem


def test_duplicate_mapping_key_is_refused_at_its_line(tmp_path):
    directory = policy_copy(tmp_path)
    limits = directory / "stay-limit.yaml"
    edit(
        limits,
        "    unit: days\n    values:\n      - from: 2023-01-27\n        value: 90\n",
        "    unit: days\n    unit: months\n    values:\n      - from: 2023-01-27\n        value: 90\n",
    )
    problem = str(only_problem(directory))
    assert f"{limits}:{line_of(limits, '    unit: months')}:" in problem
    assert 'duplicate key "unit"' in problem


# --- conditions ------------------------------------------------------------------------------


def test_condition_reading_an_unknown_fact_suggests_the_close_one(tmp_path):
    directory, path = with_extra(tmp_path, extra_rule("stay.extra.a", "when: {fact: stay.days_usd, gt: 3}"))
    problem = only_problem(directory)
    assert problem.where == f"{path}:{line_of(path, 'when:')} at rules[0].when.fact"
    assert problem.message.startswith("unknown fact 'stay.days_usd' (did you mean 'stay.days_used'?)")


def test_condition_reading_another_programmes_fact_is_refused(tmp_path):
    directory, path = with_extra(tmp_path, extra_rule("stay.extra.a", "when: {fact: visa.days_used, gt: 3}"))
    problem = only_problem(directory)
    assert problem.where == f"{path}:{line_of(path, 'when:')} at rules[0].when.fact"
    assert "a 'stay' rule reads the facts of stay and of the programmes it reads" in problem.message


@pytest.mark.parametrize(
    ("condition", "path_end", "message"),
    [
        pytest.param(
            '{fact: stay.days_used, gt: "ninety"}',
            "when.gt",
            "the fact is of type integer; 'ninety' is not",
            id="text",
        ),
        pytest.param(
            "{fact: stay.days_used, eq: true}",
            "when.eq",
            "the fact is of type integer; True is not",
            id="bool for int",
        ),
        pytest.param(
            '{fact: stay.as_of, lt: "2024-10-01"}',
            "when.lt",
            "the fact is of type date; '2024-10-01' is not",
            id="quoted date",
        ),
        pytest.param(
            "{fact: stay.citizenship, gt: RU}",
            "when.gt",
            "'gt' compares numbers or dates; this fact is of type string",
            id="order on text",
        ),
        pytest.param(
            "{fact: stay.statuses, eq: visa}",
            "when.eq",
            "a list of codes takes 'contains' or 'missing', not 'eq'",
            id="eq on a list",
        ),
        pytest.param(
            "{fact: stay.citizenship, in: [RU, 7]}",
            "when.in",
            "'in' values must be of type string; 7 is not",
            id="mixed in list",
        ),
        pytest.param(
            "{fact: stay.citizenship, in: []}", "when.in", "'in' takes a non-empty list", id="empty in"
        ),
        pytest.param(
            "{fact: stay.days_used, gt: {param: stay.no_such_limit}}",
            "when.gt",
            "unknown parameter 'stay.no_such_limit' (did you mean 'stay.limit_days'?)",
            id="unknown parameter",
        ),
    ],
)
def test_condition_with_a_value_of_the_wrong_type_is_refused(tmp_path, condition, path_end, message):
    directory, path = with_extra(tmp_path, extra_rule("stay.extra.a", f"when: {condition}"))
    problem = only_problem(directory)
    assert problem.where == f"{path}:{line_of(path, 'when:')} at rules[0].{path_end}"
    assert problem.message == message


def test_comparison_with_an_unknown_operator_is_refused(tmp_path):
    directory, path = with_extra(
        tmp_path, extra_rule("stay.extra.a", "when: {fact: stay.days_used, greater: 3}")
    )
    problem = only_problem(directory)
    assert problem.where == f"{path}:{line_of(path, 'when:')} at rules[0].when.greater"
    assert problem.message == "unknown field"


def test_comparison_with_two_operators_is_refused(tmp_path):
    directory, path = with_extra(
        tmp_path, extra_rule("stay.extra.a", "when: {fact: stay.days_used, gt: 3, lt: 9}")
    )
    problem = only_problem(directory)
    assert problem.where.startswith(f"{path}:{line_of(path, 'when:')} at rules[0].when")
    assert "exactly one operator" in problem.message
    assert "found 2 (lt, gt)" in problem.message


def test_condition_that_is_not_a_condition_is_refused(tmp_path):
    directory, path = with_extra(tmp_path, extra_rule("stay.extra.a", "when: {either: [1, 2]}"))
    problem = only_problem(directory)
    assert problem.where == f"{path}:{line_of(path, 'when:')} at rules[0].when"
    assert "one of the keys all, any, not or fact" in problem.message


# --- references between rules, statuses and programmes ---------------------------------------


def test_overrides_naming_an_unknown_rule_suggests_the_close_one(tmp_path):
    directory, path = with_extra(tmp_path, extra_rule("stay.extra.a", "overrides: [stay.limt]"))
    problem = only_problem(directory)
    assert problem.where == f"{path}:{line_of(path, 'overrides:')} at rules[0].overrides[0]"
    assert problem.message == "overrides unknown rule 'stay.limt' (did you mean 'stay.limit'?)"


def test_exempts_naming_an_unknown_status_kind_is_refused(tmp_path):
    directory, path = with_extra(
        tmp_path, extra_rule("stay.extra.a", "overrides: [stay.limit]", "exempts: aircraft_crw")
    )
    problem = only_problem(directory)
    assert problem.where == f"{path}:{line_of(path, 'exempts:')} at rules[0].exempts"
    assert problem.message == "exempts unknown status kind 'aircraft_crw' (did you mean 'aircraft_crew'?)"


def test_status_not_in_the_programmes_precedence_is_refused(tmp_path):
    directory, path = with_extra(tmp_path, extra_rule("stay.extra.a", "then: {status: allowed}"))
    problem = only_problem(directory)
    assert problem.where == f"{path}:{line_of(path, 'then:')} at rules[0].then.status"
    assert problem.message == (
        "status 'allowed' is not one of programme 'stay': "
        "not_applicable, undetermined, overstay, exempt, compliant"
    )


def test_rule_of_an_unknown_programme_is_refused(tmp_path):
    directory, path = with_extra(tmp_path, extra_rule("visa.extra.a", "then: {status: compliant}"))
    problem = only_problem(directory)
    assert problem.where == f"{path}:{line_of(path, '  - id: visa.extra.a')} at rules[0].id"
    assert problem.message == (
        "rule 'visa.extra.a' belongs to no programme; its id must start with one of "
        "entry, host, residence, sanction, social_contract, stay"
    )


def test_dated_values_out_of_order_are_refused(tmp_path):
    directory = policy_copy(tmp_path)
    limits = directory / "stay-limit.yaml"
    edit(
        limits,
        "        value: 90\n        source: *decree_1146\n",
        "        value: 90\n        source: *decree_1146\n      - from: 2020-01-01\n        value: 60\n"
        "        source: *decree_1146\n",
    )
    problem = only_problem(directory)
    line = line_of(limits, "    values:\n      - from: 2023-01-27\n        value: 90\n")
    assert problem.where == f"{limits}:{line} at parameters.stay.limit_days.values"
    assert problem.message == "dated values must be listed in order of their 'from' date"


def test_two_dated_values_on_the_same_day_are_refused(tmp_path):
    directory = policy_copy(tmp_path)
    limits = directory / "stay-limit.yaml"
    edit(
        limits,
        "        value: 90\n        source: *decree_1146\n",
        "        value: 90\n        source: *decree_1146\n      - from: 2023-01-27\n        value: 60\n"
        "        source: *decree_1146\n",
    )
    assert only_problem(directory).message == "two dated values start on the same day"


# --- the policy as a whole -------------------------------------------------------------------


def test_policy_without_a_header_is_refused(tmp_path):
    directory = policy_copy(tmp_path)
    header = directory / "policy.yaml"
    text = header.read_text(encoding="utf-8")
    header.write_text(text[: text.index("\npolicy:\n") + 1], encoding="utf-8")
    problem = only_problem(directory)
    assert problem.where == str(directory)
    assert "no file carries the 'policy' header" in problem.message


def test_empty_directory_is_refused_with_one_placed_problem(tmp_path):
    with pytest.raises(PolicyError, match="holds no .yaml file") as caught:
        rules.load_policy(tmp_path)
    (problem,) = caught.value.problems
    assert problem.where == str(tmp_path)


def test_missing_directory_is_refused_with_one_placed_problem(tmp_path):
    with pytest.raises(PolicyError, match="no such directory") as caught:
        rules.load_policy(tmp_path / "no-such-policy")
    (problem,) = caught.value.problems
    assert problem.where == str(tmp_path / "no-such-policy")


def test_same_rule_id_twice_in_the_baseline_is_refused(tmp_path):
    directory, path = with_extra(tmp_path, extra_rule("stay.compliant", "then: {status: compliant}"))
    problem = only_problem(directory)
    # the second definition in file order (extra.yaml sorts before stay-limit.yaml), naming the first
    extra, limits = directory / "extra.yaml", directory / "stay-limit.yaml"
    first = f"{extra}:{line_of(extra, '  - id: stay.compliant')} at rules[0].id"
    assert problem.message == f"rule 'stay.compliant' is defined twice (first at {first})"
    assert problem.where.startswith(f"{limits}:{line_of(limits, '  - id: stay.compliant')} at rules[")


def test_same_parameter_twice_in_the_baseline_is_refused(tmp_path):
    directory = policy_copy(tmp_path)
    limits = directory / "stay-limit.yaml"
    (directory / "zz-more.yaml").write_text(
        HEADER + "parameters:\n  stay.limit_days:\n    description: A second definition.\n"
        "    values: [{from: 2023-01-27, value: 60, source: {title: Test source, href: https://example.org/law}}]\n",
        encoding="utf-8",
    )
    problem = only_problem(directory)
    assert problem.where == f"{directory / 'zz-more.yaml'}:4 at parameters.stay.limit_days"
    first = f"{limits}:{line_of(limits, '  stay.limit_days:')} at parameters.stay.limit_days"
    assert problem.message == f"'stay.limit_days' is defined twice (first at {first})"
    assert limits.exists()


def test_every_problem_in_every_file_is_reported_at_once(tmp_path):
    directory, path = with_extra(
        tmp_path,
        extra_rule("stay.extra.a", "when: {fact: stay.days_usd, gt: 3}"),
        extra_rule("stay.extra.b", "then: {status: allowed}"),
        extra_rule("stay.extra.c", "overrides: [stay.limt]"),
    )
    (directory / "more.yaml").write_text(
        HEADER + "rules:\n" + extra_rule("visa.extra.d", "then: {status: compliant}"), encoding="utf-8"
    )
    problems = problems_of(directory)
    assert sorted(p.where for p in problems) == sorted(
        [
            f"{path}:{line_of(path, 'when:')} at rules[0].when.fact",
            f"{path}:{line_of(path, 'then:')} at rules[1].then.status",
            f"{path}:{line_of(path, 'overrides:')} at rules[2].overrides[0]",
            f"{directory / 'more.yaml'}:{line_of(directory / 'more.yaml', '  - id:')} at rules[0].id",
        ]
    )


def test_schema_problems_in_several_files_are_reported_at_once(tmp_path):
    directory = policy_copy(tmp_path)
    edit(directory / "policy.yaml", "\npolicy:\n", "\npolcy_notes: a misspelt section\npolicy:\n")
    rule = extra_rule().replace("https://example.org/law", "ftp://example.org/law")
    (directory / "extra.yaml").write_text(HEADER + "rules:\n" + rule, encoding="utf-8")
    (directory / "broken.yaml").write_text(HEADER + "rules: [unclosed\n", encoding="utf-8")
    problems = [str(p) for p in problems_of(directory)]
    assert len(problems) == 3, problems
    assert any(str(directory / "policy.yaml") in p and "polcy_notes" in p for p in problems)
    assert any(str(directory / "extra.yaml") in p and "source.href" in p for p in problems)
    assert any(str(directory / "broken.yaml") in p and "not valid YAML" in p for p in problems)


# --- amendments --------------------------------------------------------------------------------


def write_amendment(tmp_path: Path, text: str, name: str = "amendment.yaml") -> Path:
    path = tmp_path / name
    path.write_text(
        "schema: kzmig/policy/2\ntitle: A what-if amendment for a loading test\n" + text, encoding="utf-8"
    )
    return path


LIMIT_60 = (
    "parameters:\n  stay.limit_days:\n    description: What if the limit were 60 days.\n"
    "    values: [{from: 2023-01-27, value: 60, source: {title: What-if, href: https://example.org/what-if}}]\n"
)


def test_amendment_replacing_the_limit_changes_the_verdict(tmp_path):
    amended = rules.load_policy(amendments=[write_amendment(tmp_path, LIMIT_60)])
    baseline_verdict = rules.Evaluator(rules.load_policy(), cache_size=0).evaluate(
        SEVENTY_FIVE_DAYS, on=ON_EXIT
    )
    amended_verdict = rules.Evaluator(amended, cache_size=0).evaluate(SEVENTY_FIVE_DAYS, on=ON_EXIT)
    assert (baseline_verdict.stay.status, baseline_verdict.stay.limit) == ("compliant", 90)
    assert (amended_verdict.stay.status, amended_verdict.stay.limit, amended_verdict.stay.overstay_days) == (
        "overstay",
        60,
        15,
    )


def test_amendment_adding_a_status_kind_and_an_exemption_rule_exempts_its_holders(tmp_path):
    amendment = write_amendment(
        tmp_path,
        "status_kinds:\n  student:\n    description: A student enrolled at a Kazakh university.\n"
        "    source: {title: What-if, href: https://example.org/what-if}\n"
        "rules:\n"
        + extra_rule(
            "stay.exemption.student", "exempts: student", "overrides: [stay.limit]", "then: {status: exempt}"
        ),
    )
    evaluator = rules.Evaluator(rules.load_policy(amendments=[amendment]), cache_size=0)
    student = {
        **SEVENTY_FIVE_DAYS,
        "trips": [{"entry": "2024-01-01"}],
        "statuses": [{"kind": "student", "valid_from": "2023-09-01"}],
    }
    verdict = evaluator.evaluate(student, on=dt.date(2024, 6, 1))
    assert verdict.stay.status == "exempt"
    assert any(e.rule == "stay.exemption.student" and e.decisive for e in verdict.trace)
    with pytest.raises(rules.InputError, match="unknown status kind 'student'"):
        rules.Evaluator(rules.load_policy(), cache_size=0).evaluate(student, on=dt.date(2024, 6, 1))


def test_amendment_repealing_the_drivers_exemption_puts_the_driver_in_overstay(tmp_path):
    driver = json.loads(EXAMPLE_DRIVER.read_text(encoding="utf-8"))
    on = dt.date(2024, 8, 1)
    repealed = rules.load_policy(
        amendments=[write_amendment(tmp_path, "repeals: [stay.exemption.international_driver]\n")]
    )
    assert "stay.exemption.international_driver" not in {rule.id for rule in repealed.rules}
    assert rules.Evaluator(rules.load_policy(), cache_size=0).evaluate(driver, on=on).stay.status == "exempt"
    assert rules.Evaluator(repealed, cache_size=0).evaluate(driver, on=on).stay.status == "overstay"


def test_amendment_repealing_an_unknown_rule_is_refused_at_its_line(tmp_path):
    amendment = write_amendment(tmp_path, "repeals: [stay.exemption.internatonal_driver]\n")
    problem = only_problem(POLICY_DIR, amendments=(amendment,))
    assert problem.where == f"{amendment}:3 at repeals"
    assert problem.message.startswith("repeals unknown rule 'stay.exemption.internatonal_driver'")


def test_amendment_repealing_a_rule_another_overrides_is_refused_naming_the_repeal(tmp_path):
    """Repealing the repeat evasion of art. 517 part 7 leaves the refusal of entry overriding a
    rule that no longer exists: it is refused where it is written, and the message names the
    repeal, not an unknown rule with a guess at another name."""
    amendment = write_amendment(tmp_path, "repeals: [sanction.repeat_evasion]\n")
    problem = only_problem(POLICY_DIR, amendments=(amendment,))
    assert "refusal-of-entry.yaml" in problem.where and problem.where.endswith("at rules[0].overrides[5]")
    assert problem.message == (
        f"overrides rule 'sanction.repeat_evasion', which {amendment}:3 at repeals[0] repeals: repeal "
        "this rule as well, or amend it so that it no longer overrides 'sanction.repeat_evasion'"
    )


def test_amendment_repealing_the_base_limit_is_refused_at_the_repeal(tmp_path):
    """The stay limit's mechanism needs the base limit: its repeal is refused at the repeal's
    line (not at the policy as a whole), and each exemption still overriding it says so."""
    amendment = write_amendment(tmp_path, "repeals: [stay.limit]\n")
    problems = problems_of(POLICY_DIR, (amendment,))
    at_repeal = [problem for problem in problems if problem.where == f"{amendment}:3 at repeals[0]"]
    assert [problem.message for problem in at_repeal] == [
        "repeals rule 'stay.limit', which the stay_limit mechanism of programme 'stay' needs: "
        "amend it instead"
    ]
    others = [problem for problem in problems if problem not in at_repeal]
    assert others and all("overrides rule 'stay.limit', which" in problem.message for problem in others)
    assert not any(problem.where.startswith("policy ") for problem in problems)


def test_amendment_breaking_a_scale_is_refused_at_its_own_value(tmp_path):
    """A scale (a parameter a formula reads with 'band') whose brackets fall is refused at the
    bracket in the amendment that wrote it, not at the formula of the baseline that reads it."""
    amendment = write_amendment(
        tmp_path,
        "parameters:\n  residence.points_for_experience:\n    description: Points by years (a test).\n"
        "    values:\n"
        "      - from: 2026-02-13\n"
        "        source: {title: What-if, href: https://example.org/what-if}\n"
        "        value:\n"
        "          - {value: 0}\n"
        "          - {at_least: 3, value: 40}\n"
        "          - {at_least: 1, value: 20}\n",
    )
    problem = only_problem(POLICY_DIR, amendments=(amendment,))
    assert problem.where == f"{amendment}:12 at parameters.residence.points_for_experience.values[0].value[2]"
    assert problem.message == (
        "a scale (read by 'band' in residence.points.experience): the brackets must rise: "
        "bracket 2 starts at 1, not above 3"
    )


def test_amendment_ending_a_parameter_on_its_first_day_is_refused_as_having_no_value(tmp_path):
    """A parameter a formula reads, ended (a dated null) from its first day, has no value on any
    day: the formula is refused with that reason, not as values "not all of one type"."""
    amendment = write_amendment(
        tmp_path,
        "parameters:\n  residence.language_level:\n    description: The level (a test).\n"
        "    values: [{from: 2026-02-13, value: null, source: {title: What-if, href: https://example.org/what-if}}]\n",
    )
    problem = only_problem(POLICY_DIR, amendments=(amendment,))
    assert "residence-pre-selection.yaml" in problem.where
    assert problem.message == (
        "parameter 'residence.language_level' has no value on any day (each is null): "
        "a formula cannot read it"
    )


def test_amendment_replacing_a_rule_of_the_same_id_keeps_one_rule(tmp_path):
    amendment = write_amendment(
        tmp_path,
        "rules:\n"
        + extra_rule(
            "stay.compliant", "when: {fact: stay.overstay_days, eq: 0}", "then: {status: compliant}"
        ),
    )
    amended = rules.load_policy(amendments=[amendment])
    assert [rule.id for rule in amended.rules].count("stay.compliant") == 1
    assert (
        next(r for r in amended.rules if r.id == "stay.compliant").title
        == "A rule written for a loading test"
    )


def test_version_is_stable_across_loads_and_copies_and_changes_with_an_amendment(tmp_path):
    first, second = rules.load_policy(), rules.load_policy()
    copy = rules.load_policy(policy_copy(tmp_path))
    amendment = write_amendment(tmp_path, LIMIT_60)
    amended, amended_again = (rules.load_policy(amendments=[amendment]) for _ in range(2))
    other = rules.load_policy(amendments=[write_amendment(tmp_path, LIMIT_60.replace("60", "61"), "b.yaml")])
    assert first.version == second.version == copy.version
    assert amended.version == amended_again.version
    assert len({first.version, amended.version, other.version}) == 3


def test_version_changes_when_a_baseline_file_changes(tmp_path):
    directory = policy_copy(tmp_path)
    edit(directory / "policy.yaml", "  name: kz\n", "  name: kz\n  # a comment is content too\n")
    assert rules.load_policy(directory).version != rules.load_policy().version
