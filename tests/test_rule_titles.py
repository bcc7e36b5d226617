"""Rule titles that quote the law's numbers follow the law in force: ``{stay.limit_days}`` in a
title is the value of that parameter on the day of the verdict, so that an amendment's verdict
does not say "90" while its figures count 60 (``rules.policy.titles``)."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

import pytest
import yaml
from hypothesis import given
from hypothesis import strategies as st
from typer.testing import CliRunner

import rules
from rules.cli.app import app
from rules.errors import PolicyError
from rules.policy.titles import render, slots, template_pattern
from rules.reports.language import wording

ROOT = Path(__file__).resolve().parents[1]
AMENDMENTS = ROOT / "examples" / "amendments"
runner = CliRunner()

#: A Russian citizen in the country since 1 Dec 2025: 110 days on 2026-03-20, an overstay of 20
#: days under the baseline's 90 (art. 517 part 4, evading departure).
STAYING = {"person_id": "T-1", "citizenship": "RU", "trips": [{"entry": "2025-12-01"}]}


def _entry(verdict: Any, rule_id: str) -> Any:
    return next(entry for entry in verdict.trace if entry.rule == rule_id)


@pytest.fixture(scope="module")
def limit_60() -> rules.Evaluator:
    return rules.Evaluator(rules.load_policy(amendments=[AMENDMENTS / "limit-60-days.yaml"]))


@pytest.fixture(scope="module")
def fines_doubled() -> rules.Evaluator:
    return rules.Evaluator(rules.load_policy(amendments=[AMENDMENTS / "sanction-fines-doubled.yaml"]))


def test_2026_03_20_under_a_60_day_limit_the_rule_of_the_limit_quotes_60_and_in_2025_it_quotes_90(
    limit_60: rules.Evaluator,
) -> None:
    now = limit_60.evaluate(STAYING, dt.date(2026, 3, 20))
    assert "(60 unless the regime says less)" in _entry(now, "stay.limit").title
    assert "in any 180 days" in _entry(now, "stay.limit").title
    before = limit_60.evaluate(STAYING, dt.date(2025, 12, 20))  # the amendment is from 2026-01-01
    assert "(90 unless the regime says less)" in _entry(before, "stay.limit").title


def test_2026_03_20_the_baseline_titles_read_as_the_law_writes_them() -> None:
    verdict = rules.evaluate(STAYING, on=dt.date(2026, 3, 20))
    assert _entry(verdict, "stay.limit").title == (
        "A visa-free foreigner or EAEU citizen may stay at most the window total of their regime "
        "in any 180 days (90 unless the regime says less) and its days per entry"
    )
    assert _entry(verdict, "sanction.evading_departure").title == (
        "Evading departure for more than 10 days is punished by a fine of 25 MCI or administrative "
        "expulsion (art. 517 part 4)"
    )
    assert not any("{" in entry.title for entry in verdict.trace)


def test_2026_03_20_with_doubled_fines_the_sanction_and_its_rule_both_say_50_mci(
    fines_doubled: rules.Evaluator,
) -> None:
    verdict = fines_doubled.evaluate(STAYING, dt.date(2026, 3, 20))
    assert verdict.stay.sanction is not None and verdict.stay.sanction.values["fine_mci"] == 50
    assert (
        "a fine of 50 MCI or administrative expulsion" in _entry(verdict, "sanction.evading_departure").title
    )


def test_2026_03_20_with_doubled_fines_the_russian_and_kazakh_text_quote_50_in_their_own_words() -> None:
    amendment = str(AMENDMENTS / "sanction-fines-doubled.yaml")
    person = str(ROOT / "examples" / "persons" / "overstay-B-2.yaml")
    for language, expected in (("ru", "штраф в размере 50 МРП"), ("kk", "50 АЕК мөлшерінде айыппұл")):
        result = runner.invoke(
            app, ["check", person, "--on", "2026-03-20", "--amend", amendment, "--lang", language]
        )
        assert result.exit_code == 0, result.stderr
        assert expected in result.stdout
        assert "{sanction" not in result.stdout and "Evading departure" not in result.stdout


def test_a_translated_title_quotes_a_number_in_its_languages_way() -> None:
    policy = rules.load_policy()
    russian = wording("ru", policy)
    rule = next(rule for rule in policy.rules if rule.id == "sanction.evading_departure")
    english = render(
        rule.title, {"sanction.longer_fine_up_to_days": 10, "sanction.evasion_fine_mci": 1250}.get
    )
    assert "a fine of 1,250 MCI" in english
    assert "штраф в размере 1 250 МРП" in russian.of_policy(english)


def test_policy_show_lists_each_rule_with_the_numbers_in_force_on_its_date() -> None:
    amendment = str(AMENDMENTS / "limit-60-days.yaml")
    shown = runner.invoke(app, ["policy", "show", "--on", "2026-03-20", "--amend", amendment])
    assert shown.exit_code == 0, shown.stderr
    assert (
        "entry.refusal  [refused]  Entry is refused when the day of entry would exceed 60 days"
        in shown.stdout
    )
    earlier = runner.invoke(app, ["policy", "show", "--on", "2025-03-20", "--amend", amendment])
    assert (
        "entry.refusal  [refused]  Entry is refused when the day of entry would exceed 90 days"
        in earlier.stdout
    )


PASS_MARK_450 = """\
schema: kzmig/policy/2
title: A pass mark of 450 points from 1 Sep 2026 (a test's what-if)
x-sources:
  what_if: &what_if
    title: "A hypothetical amendment written by the tests; not law"
    href: https://adilet.zan.kz/
parameters:
  residence.pass_mark:
    description: The least questionnaire score that passes.
    unit: points
    values:
      - {from: 2026-02-13, value: 400, source: *what_if}
      - {from: 2026-09-01, value: 450, source: *what_if}
"""


@pytest.mark.parametrize(
    ("submitted", "quoted"),
    [("2026-06-01", "400"), ("2026-09-15", "450"), ("2025-10-06", "450")],
    ids=["june", "september", "before the pilot: the law of the evaluation date, no slot left"],
)
def test_2026_10_01_a_gate_read_on_the_submission_day_quotes_the_pass_mark_of_that_day(
    tmp_path: Path, submitted: str, quoted: str
) -> None:
    """The residence gates read the law of the day the application was submitted, and so do
    their titles: on 2026-10-01 an application of June is held to 400 points, and says so."""
    amendment = tmp_path / "pass-mark-450.yaml"
    amendment.write_text(PASS_MARK_450, encoding="utf-8")
    evaluator = rules.Evaluator(rules.load_policy(amendments=[amendment]))
    person = yaml.safe_load(
        (ROOT / "examples" / "persons" / "residence-RA-1.yaml").read_text(encoding="utf-8")
    )
    person["residence_application"]["submitted"] = submitted
    section = evaluator.evaluate(person, dt.date(2026, 10, 1)).section("residence")
    assert section is not None
    shown = section.model_extra or {}
    gates = {item.rule: item.title for item in shown["gates"]}
    assert gates["residence.score"] == f"The questionnaire scores at least {quoted} points"
    # an application under the pilot reports the pass mark it was held to; one before it none
    assert shown.get("pass_mark") == (None if submitted < "2026-02-13" else int(quoted))


RULE = """\
schema: kzmig/policy/2
title: A title that quotes parameters
rules:
  - id: entry.refusal
    title: {title}
    title_ru: {title_ru}
    source: {{title: Law "On Population Migration" art. 48, href: https://adilet.zan.kz/rus/docs/Z1100000477}}
    from: 2023-01-27
    when: {{fact: stay.over_limit, eq: true}}
    then: {{status: refused}}
"""


@pytest.mark.parametrize(
    ("title", "title_ru", "where", "message"),
    [
        (
            '"Refused beyond {stay.limit_day} days"',
            '"Отказ сверх {stay.limit_day} дней"',
            "title",
            "{stay.limit_day} names no parameter (did you mean 'stay.limit_days'?)",
        ),
        (
            '"Refused beyond {stay.limit_days} days"',
            '"Отказ сверх 90 дней"',
            "title_ru",
            "quotes no parameter where the English title quotes {stay.limit_days}: a translation "
            "quotes the same parameters",
        ),
        (
            '"Refused beyond {stay.limit_days on stay.regime} days"',
            '"Отказ сверх {stay.limit_days on stay.regime} дней"',
            "title",
            "{stay.limit_days on stay.regime}: 'on' takes a date, not a string",
        ),
    ],
    ids=[
        "a slot that names no parameter",
        "a translation that quotes other parameters",
        "a slot read on a fact that is no date",
    ],
)
def test_a_title_slot_is_checked_when_the_policy_is_loaded(
    tmp_path: Path, title: str, title_ru: str, where: str, message: str
) -> None:
    amendment = tmp_path / "titles.yaml"
    amendment.write_text(RULE.format(title=title, title_ru=title_ru), encoding="utf-8")
    with pytest.raises(PolicyError) as caught:
        rules.load_policy(amendments=[amendment])
    problems = [str(problem) for problem in caught.value.problems]
    assert any(problem.endswith(f"rules[0].{where}: {message}") for problem in problems), problems


def test_a_brace_that_holds_no_dotted_name_is_plain_text_and_a_slot_without_a_value_stays_as_written() -> (
    None
):
    assert slots("{90} days, {note}, {stay.limit_days}") == ("stay.limit_days",)
    assert render("{90} days; {stay.limit_days}; {stay.gone}", {"stay.limit_days": 60}.get) == (
        "{90} days; 60; {stay.gone}"
    )


names = st.sampled_from(["stay.limit_days", "sanction.fine_mci", "stay.window_days"])
#: Values as parameters hold them; the words around the slots share no character with them
#: (as in the policy: a number is never written against a digit or a comma of the text).
values = st.one_of(st.integers(-(10**9), 10**9), st.sampled_from(["A1", "B1"]))


@given(
    words=st.lists(st.text(alphabet="ab ()%", min_size=1, max_size=6), min_size=1, max_size=4),
    quoted=st.lists(names, min_size=1, max_size=4),
    given_values=st.fixed_dictionaries(
        {name: values for name in ("stay.limit_days", "sanction.fine_mci", "stay.window_days")}
    ),
)
def test_a_rendered_title_gives_back_the_values_it_quotes(
    words: list[str], quoted: list[str], given_values: dict[str, Any]
) -> None:
    """What the translations rest on: the English template matches its rendering with any values
    and gives back each value as rendered."""
    template = "".join(f"{word}{{{name}}}" for word, name in zip(words, quoted, strict=False)) + "end"
    rendered = render(template, given_values.get)
    match = template_pattern(template).match(rendered)
    assert match is not None
    for index, name in enumerate(slots(template)):
        again = render(f"{{{name}}}", given_values.get)
        assert match.group(f"slot{index}") == again
