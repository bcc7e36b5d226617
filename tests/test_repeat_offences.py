"""Art. 517 parts 6 and 7: an overstay within a year after a penalty for the same is a repeat.

The earlier penalties come from the record (``penalties.imposed``); a record without that list
is assessed without repeats unless the policy counts earlier overstay runs of the travel
record as penalised offences (``sanction.overstay_runs_count_as_penalties``, false in the
baseline). 1 Jan - 4 Apr 2025 is a 4-day overstay ending on 4 Apr 2025; 1 Jan - 11 Apr 2025 an
11-day one.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

import pytest

import rules

D = dt.date
ON = D(2025, 4, 20)


def russian_leaving(exit_day: str, *penalties: dict[str, Any]) -> dict[str, Any]:
    person: dict[str, Any] = {
        "person_id": "R",
        "citizenship": "RU",
        "trips": [{"entry": "2025-01-01", "exit": exit_day}],
    }
    if penalties:
        person["penalties"] = {"imposed": list(penalties)}
    return person


def penalty(part: int, imposed_on: str, article: int = 517) -> dict[str, Any]:
    return {"article": article, "part": part, "imposed_on": imposed_on}


# --- part 6: part 3 repeated ---------------------------------------------------------------------


@pytest.mark.parametrize(
    ("imposed_on", "repeat"),
    [("2024-04-04", True), ("2024-04-03", False), ("2025-03-31", True), ("2025-04-01", False)],
    ids=[
        "imposed-a-year-to-the-day-before-the-last-day-repeat",
        "imposed-a-year-and-a-day-before-no-repeat",
        "imposed-the-day-before-the-run-began-repeat",
        "imposed-on-the-run-s-first-day-no-repeat",
    ],
)
def test_2025_04_04_overstay_of_4_days_is_a_part_6_repeat_only_within_a_year_after_a_part_3_penalty(
    imposed_on: str, repeat: bool
) -> None:
    verdict = rules.evaluate(russian_leaving("2025-04-04", penalty(3, imposed_on)), on=ON)
    sanction = verdict.stay.sanction
    assert sanction is not None
    if repeat:
        assert (sanction.status, sanction.rule) == ("fine_or_expulsion", "sanction.repeat")
        assert sanction.values["offence"]["provision"] == "art. 517 part 6"
        assert sanction.values["repeat_of"] == {"article": 517, "part": 3, "imposed_on": imposed_on}
        assert (sanction.values["fine_mci"], sanction.values["fine_kzt"]) == (15, 58980)
        assert sanction.values["entry_ban_years"] == 5
        set_aside = {e.rule: e.overridden_by for e in verdict.trace if e.overridden_by}
        assert set_aside == {"sanction.fine": "sanction.repeat"}
    else:
        assert (sanction.status, sanction.rule) == ("fine", "sanction.fine")
        assert sanction.missing == ()


def test_a_repeat_names_the_latest_qualifying_penalty_of_several() -> None:
    person = russian_leaving(
        "2025-04-04",
        penalty(3, "2024-05-01"),
        penalty(3, "2024-11-20"),
        penalty(4, "2025-02-01"),  # part 4 does not make part 3 a repeat
        penalty(1, "2025-03-01", article=512),
    )
    sanction = rules.evaluate(person, on=ON).stay.sanction
    assert sanction is not None and sanction.rule == "sanction.repeat"
    assert sanction.values["repeat_of"]["imposed_on"] == "2024-11-20"


def test_a_penalty_under_part_6_makes_a_further_overstay_a_repeat_too() -> None:
    sanction = rules.evaluate(russian_leaving("2025-04-02", penalty(6, "2024-12-01")), on=ON).stay.sanction
    assert sanction is not None and sanction.rule == "sanction.repeat"


def test_a_penalty_under_another_article_makes_no_repeat() -> None:
    sanction = rules.evaluate(
        russian_leaving("2025-04-04", penalty(3, "2024-12-01", article=518)), on=ON
    ).stay.sanction
    assert sanction is not None and sanction.rule == "sanction.fine"


def test_an_empty_list_of_penalties_is_known_to_hold_none_and_no_list_is_named_missing() -> None:
    person = russian_leaving("2025-04-04")
    person["penalties"] = {"imposed": []}
    sanction = rules.evaluate(person, on=ON).stay.sanction
    assert sanction is not None and (sanction.rule, sanction.missing) == ("sanction.fine", ())
    without = rules.evaluate(russian_leaving("2025-04-04"), on=ON).stay.sanction
    assert without is not None and (without.rule, without.missing) == (
        "sanction.fine",
        ("penalties.imposed",),
    )


# --- part 7: part 4 repeated ---------------------------------------------------------------------


@pytest.mark.parametrize("part", [2, 4, 5, 7])
def test_2025_04_11_evading_departure_after_a_penalty_under_part_2_4_5_or_7_is_arrest_with_expulsion(
    part: int,
) -> None:
    sanction = rules.evaluate(russian_leaving("2025-04-11", penalty(part, "2024-09-01")), on=ON).stay.sanction
    assert sanction is not None
    assert (sanction.status, sanction.rule) == ("arrest_and_expulsion", "sanction.repeat_evasion")
    assert sanction.values["arrest_up_to_days"] == 15 and sanction.values["entry_ban_years"] == 5
    assert "fine_mci" not in sanction.values  # part 7 leaves the judge no fine


def test_2025_04_11_evading_departure_after_a_part_3_penalty_is_not_a_part_7_repeat() -> None:
    sanction = rules.evaluate(russian_leaving("2025-04-11", penalty(3, "2024-09-01")), on=ON).stay.sanction
    assert sanction is not None and sanction.rule == "sanction.evading_departure"


def test_2025_04_10_overstay_of_10_days_after_a_part_4_penalty_is_not_a_part_7_repeat() -> None:
    sanction = rules.evaluate(russian_leaving("2025-04-10", penalty(4, "2024-09-01")), on=ON).stay.sanction
    assert sanction is not None and sanction.rule == "sanction.fine_longer"


# --- the travel record in place of the list of penalties ---------------------------------------

SOURCE = "{title: A test source, href: https://example.org/law}"


def counting_overstay_runs(tmp_path: Path) -> rules.Policy:
    amendment = tmp_path / "runs-count.yaml"
    amendment.write_text(
        "schema: kzmig/policy/2\ntitle: Earlier overstay runs count as penalties\nparameters:\n"
        "  sanction.overstay_runs_count_as_penalties:\n    description: As the baseline.\n    values:\n"
        f"      - {{from: 2023-01-27, value: true, source: {SOURCE}}}\n",
        encoding="utf-8",
    )
    return rules.load_policy(amendments=[amendment])


def two_overstays(first_exit: str, second_entry: str, second_exit: str) -> dict[str, Any]:
    # 1 Jan - 4 Apr 2024 = 95 days (31 + 29 + 31 + 4): a 5-day run ending on 4 Apr 2024 when
    # first_exit is 2024-04-04; the second trip, at least 180 days later, overstays again.
    return {
        "person_id": "R",
        "citizenship": "RU",
        "trips": [{"entry": "2024-01-01", "exit": first_exit}, {"entry": second_entry, "exit": second_exit}],
    }


def test_by_default_an_earlier_overstay_run_is_not_taken_for_a_penalty() -> None:
    # 1 Jan - 4 Apr 2025 after 1 Jan - 4 Apr 2024: two 5-day runs (4 Apr 2024, 4 Apr 2025).
    person = two_overstays("2024-04-04", "2025-01-01", "2025-04-04")
    verdict = rules.evaluate(person, on=ON)
    assert [period.days for period in verdict.stay.overstay_periods] == [5, 4]
    assert verdict.stay.sanction is not None and verdict.stay.sanction.rule == "sanction.fine"


@pytest.mark.parametrize(
    ("first_exit", "repeat"),
    [("2024-04-04", True), ("2024-04-03", False)],
    ids=["earlier-run-ended-a-year-to-the-day-before-repeat", "a-year-and-a-day-before-no-repeat"],
)
def test_with_runs_counted_an_earlier_run_within_the_year_makes_a_repeat(
    tmp_path: Path, first_exit: str, repeat: bool
) -> None:
    policy = counting_overstay_runs(tmp_path)
    verdict = rules.evaluate(two_overstays(first_exit, "2025-01-01", "2025-04-04"), on=ON, policy=policy)
    sanction = verdict.stay.sanction
    assert sanction is not None
    if repeat:
        assert sanction.rule == "sanction.repeat_per_travel_record"
        assert sanction.values["repeat_of"] == {"overstay_end": first_exit, "overstay_days": 5}
        assert sanction.missing == ("penalties.imposed",)  # decided without the list of penalties
    else:
        assert sanction.rule == "sanction.fine"


def test_with_runs_counted_a_list_of_penalties_still_decides(tmp_path: Path) -> None:
    policy = counting_overstay_runs(tmp_path)
    person = two_overstays("2024-04-04", "2025-01-01", "2025-04-04")
    person["penalties"] = {"imposed": []}
    sanction = rules.evaluate(person, on=ON, policy=policy).stay.sanction
    assert sanction is not None and sanction.rule == "sanction.fine"


# --- the refusal at the border sets a repeat aside too -----------------------------------------


def test_2025_04_01_refused_entry_sets_aside_a_repeat_sanction_for_that_day() -> None:
    person = {
        "person_id": "E",
        "citizenship": "RU",
        "trips": [{"entry": "2025-01-01", "exit": "2025-03-31"}, {"entry": "2025-04-01"}],
        "penalties": {"imposed": [penalty(3, "2024-10-01")]},
    }
    verdict = rules.evaluate(person, on=D(2025, 4, 1))
    assert verdict.stay.entry_check is not None and verdict.stay.entry_check.status == "refused"
    assert verdict.stay.sanction is None
    set_aside = {e.rule: e.overridden_by for e in verdict.trace if e.overridden_by}
    assert set_aside["sanction.repeat"] == "entry.refusal"
