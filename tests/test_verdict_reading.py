"""Verdicts that read right for a caseworker: an overstay now or in the past, the border
decision with its dates, citations with each act's own date, and the notices beside the
figures (an exemption ending soon, trips after the evaluation date, the registration done,
due, late or overdue).

Figures were worked out by hand; the reasoning sits beside each case.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

import rules
from rules.cli.app import app
from rules.errors import PolicyError

D = dt.date
ROOT = Path(__file__).resolve().parents[1]
POLICY = ROOT / "policies" / "kz"
runner = CliRunner()


def _text(person: dict[str, Any], on: str, tmp_path: Path) -> str:
    import json

    path = tmp_path / "person.json"
    path.write_text(json.dumps(person), encoding="utf-8")
    result = runner.invoke(app, ["check", str(path), "--on", on])
    assert result.exit_code in (0, 1), result.output
    return result.output


# --- an overstay now, or only in the past -------------------------------------------------------


def test_2026_03_20_one_day_overstay_in_may_2023_reads_as_past_overstay(tmp_path: Path) -> None:
    # 1 Feb - 2 May 2023 = 28 + 31 + 30 + 2 = 91 days: 2 May 2023 is the one overstay day.
    # In March 2026 the window holds 10 Jan - 10 Feb (32) + 1 - 20 Mar (20) = 52 days.
    person = {
        "person_id": "PAST-1",
        "citizenship": "RU",
        "trips": [
            {"entry": "2023-02-01", "exit": "2023-05-02"},
            {"entry": "2026-01-10", "exit": "2026-02-10"},
            {"entry": "2026-03-01"},
        ],
    }
    verdict = rules.evaluate(person, on=D.fromisoformat("2026-03-20"))
    assert (verdict.stay.status, verdict.stay.days_used, verdict.stay.overstay_now) == ("overstay", 52, False)
    text = _text(person, "2026-03-20", tmp_path)
    assert "OVERSTAY IN THE PAST" in text
    assert "sanction for the overstay of 2023-05-02 to 2023-05-02 (1 day(s)): WARNING" in text


def test_2023_05_02_the_91st_day_in_the_country_reads_as_overstay_now(tmp_path: Path) -> None:
    person = {"person_id": "NOW-1", "citizenship": "RU", "trips": [{"entry": "2023-02-01"}]}
    verdict = rules.evaluate(person, on=D.fromisoformat("2023-05-02"))
    assert (verdict.stay.status, verdict.stay.overstay_now) == ("overstay", True)
    assert "OVERSTAY NOW" in _text(person, "2023-05-02", tmp_path)


def test_2023_05_01_the_90th_day_is_no_overstay_at_all() -> None:
    person = {"person_id": "NOW-0", "citizenship": "RU", "trips": [{"entry": "2023-02-01"}]}
    verdict = rules.evaluate(person, on=D.fromisoformat("2023-05-01"))
    assert (verdict.stay.status, verdict.stay.overstay_now) == ("compliant", False)


def test_a_verdict_without_figures_says_nothing_of_an_overstay_now() -> None:
    verdict = rules.evaluate(
        {"person_id": "KZ-1", "citizenship": "KZ", "trips": []}, on=D.fromisoformat("2026-03-20")
    )
    assert verdict.stay.overstay_now is None


# --- the border decision, with its dates --------------------------------------------------------

# 1 Nov 2024 - 15 Feb 2025 is 107 days; back on 1 Apr 2025 the window [3 Oct 2024, 1 Apr 2025]
# holds 107 + 1 = 108 days, more than 90: entry would be refused.
KYRGYZ_BACK = {
    "person_id": "KG-1",
    "citizenship": "KG",
    "trips": [{"entry": "2024-11-01", "exit": "2025-02-15"}, {"entry": "2025-04-01"}],
}


def test_2025_04_01_kyrgyz_citizen_over_the_limit_is_admitted_with_refusal_suspended(tmp_path: Path) -> None:
    verdict = rules.evaluate(KYRGYZ_BACK, on=D.fromisoformat("2025-04-01"))
    check = verdict.stay.entry_check
    assert check is not None and check.status == "suspended"
    assert check.note is not None and check.note.startswith("admitted,") and "1 Sep 2025" in check.note
    text = _text(KYRGYZ_BACK, "2025-04-01", tmp_path)
    assert "at the border on 2025-04-01: SUSPENDED - admitted, refusal of entry" in text
    assert "until 1 Sep 2025" in text


def test_2025_09_02_kyrgyz_citizen_over_the_limit_is_refused_after_the_suspension(tmp_path: Path) -> None:
    # The same stay one day after the suspension ended: 1 Mar - 29 May 2025 is 90 days (31 + 30
    # + 29), back on 2 Sep 2025 the window [7 Mar, 2 Sep] holds 84 + 1; so use a longer stay.
    person = {
        "person_id": "KG-2",
        "citizenship": "KG",
        "trips": [{"entry": "2025-05-01", "exit": "2025-08-31"}, {"entry": "2025-09-02"}],
    }
    check = rules.evaluate(person, on=D.fromisoformat("2025-09-02")).stay.entry_check
    assert check is not None and check.status == "refused"
    text = _text(person, "2025-09-02", tmp_path)
    assert "at the border on 2025-09-02: REFUSED - the 180-day window" in text


# --- citations with the act's own date ----------------------------------------------------------


def test_2022_06_01_before_the_limit_cites_decree_1146_with_its_own_date(tmp_path: Path) -> None:
    person = {"person_id": "OLD-1", "citizenship": "RU", "trips": [{"entry": "2022-05-01"}]}
    verdict = rules.evaluate(person, on=D.fromisoformat("2022-06-01"))
    entry = next(e for e in verdict.trace if e.rule == "stay.before_in_force")
    assert entry.source.date == D(2022, 12, 31)
    text = _text(person, "2022-06-01", tmp_path)
    assert "No. 1146" in text and "[act of 2022-12-31]" in text
    assert "(rule in force from 2011-07-22 to 2023-01-26)" in text


# --- an exemption that ends soon ----------------------------------------------------------------


def _driver(valid_to: str) -> dict[str, Any]:
    return {
        "person_id": "DRV-1",
        "citizenship": "RU",
        "statuses": [{"kind": "international_driver", "valid_from": "2025-06-01", "valid_to": valid_to}],
        "trips": [{"entry": "2025-10-01", "exit": "2025-12-20"}, {"entry": "2026-01-15"}],
    }


def test_2026_03_20_driver_status_ending_in_30_days_warns_with_the_latest_exit_after_it() -> None:
    # Every day of both trips is exempt. The status ends on 19 Apr 2026 (30 days on); from
    # 20 Apr the days count: 20 Apr - 18 Jul 2026 is 11 + 31 + 30 + 18 = 90 days.
    verdict = rules.evaluate(_driver("2026-04-19"), on=D.fromisoformat("2026-03-20"))
    assert verdict.stay.status == "exempt"
    assert verdict.stay.latest_exit == D(2026, 7, 18)
    ending = [w for w in verdict.warnings if "ends on 2026-04-19" in w]
    assert ending and ", 30 day(s) after 2026-03-20:" in ending[0]
    assert "from 2026-04-20 the days of stay count" in ending[0]
    assert "latest exit if staying on: 2026-07-18" in ending[0]


def test_2026_03_20_driver_status_ending_in_31_days_gives_no_notice_yet() -> None:
    verdict = rules.evaluate(_driver("2026-04-20"), on=D.fromisoformat("2026-03-20"))
    assert not [w for w in verdict.warnings if "exempt status" in w]
    assert verdict.stay.latest_exit == D(2026, 7, 19)  # one day later than above


def test_an_exemption_with_no_end_gives_no_latest_exit_and_no_notice() -> None:
    person = _driver("2026-04-19")
    del person["statuses"][0]["valid_to"]
    verdict = rules.evaluate(person, on=D.fromisoformat("2026-03-20"))
    assert verdict.stay.latest_exit is None
    assert not [w for w in verdict.warnings if "exempt status" in w]


def test_a_notice_period_that_is_not_a_whole_number_of_days_is_a_policy_error(tmp_path: Path) -> None:
    amendment = tmp_path / "notice.yaml"
    amendment.write_text(
        "schema: kzmig/policy/2\ntitle: A notice period that is no number\nparameters:\n"
        "  stay.exemption_ending_notice_days:\n    description: How soon the end is announced\n"
        "    values:\n"
        "      - {from: 2024-01-01, value: soon, source: {title: Test source, href: https://example.org/law}}\n",
        encoding="utf-8",
    )
    with pytest.raises(PolicyError) as raised:
        rules.load_policy(POLICY, amendments=[amendment])
    assert any("stay.exemption_ending_notice_days" in problem.message for problem in raised.value.problems)
    assert any("notice.yaml" in problem.where for problem in raised.value.problems)


# --- trips after the evaluation date ------------------------------------------------------------


def test_2026_03_20_a_booked_trip_and_a_trip_running_past_the_date_are_named() -> None:
    person = {
        "person_id": "LATER-1",
        "citizenship": "RU",
        "trips": [
            {"entry": "2026-03-01", "exit": "2026-03-25"},
            {"entry": "2026-05-01", "exit": "2026-05-10"},
        ],
    }
    verdict = rules.evaluate(person, on=D.fromisoformat("2026-03-20"))
    assert verdict.stay.days_used == 20  # 1 - 20 Mar: the days after the date are not counted
    assert any("1 trip(s) entering after 2026-03-20 (on 2026-05-01)" in w for w in verdict.warnings)
    assert any("leaves on 2026-03-25, after 2026-03-20" in w for w in verdict.warnings)


# --- registration: done, done late, due, overdue ------------------------------------------------

# Entry on Monday 2 Mar 2026: the host's 3 working days after it are 3, 4 and 5 Mar: due 5 Mar.


def _registered(registered_on: str | None) -> dict[str, Any]:
    trip: dict[str, Any] = {"entry": "2026-03-02"}
    if registered_on is not None:
        trip["registered_on"] = registered_on
    return {"person_id": "REG-1", "citizenship": "RU", "trips": [trip]}


@pytest.mark.parametrize(
    ("registered_on", "on", "state"),
    [
        ("2026-03-05", "2026-03-20", "done"),  # on the due day
        ("2026-03-06", "2026-03-20", "done_late"),  # the day after it
        (None, "2026-03-05", "due"),  # not done, the due day itself
        (None, "2026-03-06", "overdue"),  # not done, the day after
        ("2026-03-10", "2026-03-06", "overdue"),  # done later than the evaluation date: not yet
    ],
)
def test_2026_03_host_notification_due_on_5_march_reads_as(
    registered_on: str | None, on: str, state: str
) -> None:
    verdict = rules.evaluate(_registered(registered_on), on=D.fromisoformat(on))
    due = verdict.stay.registration
    assert due is not None and due.due == D(2026, 3, 5)
    assert due.state == state
    overdue = [w for w in verdict.warnings if w.startswith("registration overdue")]
    late = [w for w in verdict.warnings if w.startswith("registration done late")]
    assert bool(overdue) == (state == "overdue")
    assert bool(late) == (state == "done_late")


def test_a_registration_before_the_entry_is_refused_with_its_place() -> None:
    with pytest.raises(rules.InputError) as raised:
        rules.evaluate(_registered("2026-03-01"), on=D.fromisoformat("2026-03-20"))
    assert "registered_on 2026-03-01 is before entry 2026-03-02" in str(raised.value.problems)


def test_the_text_says_done_late_and_overdue(tmp_path: Path) -> None:
    assert "host notification done LATE on 2026-03-06" in _text(
        _registered("2026-03-06"), "2026-03-20", tmp_path
    )
    assert "host notification OVERDUE, due by 2026-03-05" in _text(_registered(None), "2026-03-06", tmp_path)


# --- a plan does not present an earlier overstay as what decided it -----------------------------


def test_2026_04_01_plan_allowed_despite_a_2025_overstay_marks_that_overstay_as_earlier() -> None:
    # 1 Jan - 10 Apr 2025 is 100 days: 10 overstay days (1 - 10 Apr 2025). A plan from 1 Apr
    # 2026 for 10 days is allowed; the 2025 overstay still makes the record's status overstay.
    person = {
        "person_id": "PLAN-1",
        "citizenship": "RU",
        "trips": [{"entry": "2025-01-01", "exit": "2025-04-10"}],
    }
    plan = rules.plan(person, enter=D(2026, 4, 1), days=10)
    assert plan.max_stay_days is not None and plan.max_stay_days >= 10
    overstay = next(entry for entry in plan.trace if entry.rule == "stay.overstay")
    assert not overstay.decisive
    assert overstay.note == "about the overstay days before 2026-04-01, not the stay planned"
    assert not [w for w in plan.warnings if "registration" in w]


# --- the evaluation date, as a library caller gives it ------------------------------------------


def test_the_evaluation_date_may_be_given_as_yyyy_mm_dd_text() -> None:
    person = {"person_id": "TXT-1", "citizenship": "RU", "trips": [{"entry": "2023-02-01"}]}
    assert rules.evaluate(person, on="2023-05-02") == rules.evaluate(person, on=D(2023, 5, 2))


@pytest.mark.parametrize(
    ("on", "message"),
    [
        ("2023-02-30", "is not a day that exists"),
        ("2 May 2023", "expected a date (YYYY-MM-DD)"),
        (dt.datetime(2023, 5, 2, 10, 0), "not a date and time"),
        (20230502, "expected a date (YYYY-MM-DD)"),
    ],
)
def test_an_evaluation_date_that_is_no_day_is_an_input_error_at_on(on: object, message: str) -> None:
    person = {"person_id": "TXT-2", "citizenship": "RU", "trips": []}
    with pytest.raises(rules.InputError) as raised:
        rules.evaluate(person, on=on)  # type: ignore[arg-type]
    assert raised.value.problems[0].where == "on"
    assert message in raised.value.problems[0].message
