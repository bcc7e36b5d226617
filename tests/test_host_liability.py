"""Art. 518: the host's liability, decided for a record that carries the host's section.

Entry on Monday 3 Mar 2025: the host's notification is due within 3 working days counted from
the next day, on Thursday 6 Mar 2025. 1 Jan - 5 Apr 2025 is 95 days: present on 5 Apr, the
foreigner is in a run of overstay days (1-5 Apr) reaching the evaluation date.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest

import rules
from rules.stay import registration

D = dt.date
KINDS = ("individual", "official", "small_business", "non_profit", "medium_business", "large_business")


def hosted(trip: dict[str, Any], kind: str | None = "individual", *earlier: dict[str, Any]) -> dict[str, Any]:
    host: dict[str, Any] = {} if kind is None else {"kind": kind}
    if earlier:
        host["earlier_penalties"] = list(earlier)
    return {"person_id": "H", "citizenship": "RU", "trips": [trip], "host": host}


def section(person: dict[str, Any], on: dt.date) -> dict[str, Any]:
    found = rules.evaluate(person, on=on).section("host")
    assert found is not None
    return found.model_dump(mode="json")


def notified(on: str) -> dict[str, Any]:
    return {"entry": "2025-03-03", "registered_on": on}


IN_BREACH = {"entry": "2025-01-01", "registered_on": "2025-01-03"}


def test_a_record_without_the_host_section_has_no_host_decision() -> None:
    verdict = rules.evaluate(
        {"person_id": "H", "citizenship": "RU", "trips": [notified("2025-03-10")]}, on=D(2025, 3, 20)
    )
    assert verdict.section("host") is None


# --- part 1: late notification ------------------------------------------------------------------


@pytest.mark.parametrize(
    ("kind", "status", "mci"),
    [
        ("individual", "warning", None),
        ("official", "fine", 10),
        ("small_business", "fine", 10),
        ("non_profit", "fine", 10),
        ("medium_business", "fine", 15),
        ("large_business", "fine", 20),
    ],
)
def test_2025_03_20_host_notifying_a_day_after_the_due_day_gets_the_part_1_penalty_of_its_kind(
    kind: str, status: str, mci: int | None
) -> None:
    found = section(hosted(notified("2025-03-07"), kind), D(2025, 3, 20))
    assert found["status"] == status
    assert found["offence"] == {
        "provision": "art. 518 part 1",
        "registration_due": "2025-03-06",
        "registered_on": "2025-03-07",
    }
    if mci is None:
        assert "fine_mci" not in found
    else:  # the offence is committed on 7 Mar 2025: MCI 3,932
        assert (found["fine_mci"], found["fine_kzt"]) == (mci, mci * 3932)


@pytest.mark.parametrize("kind", KINDS)
def test_2025_03_20_host_notifying_on_the_due_day_is_not_liable(kind: str) -> None:
    found = section(hosted(notified("2025-03-06"), kind), D(2025, 3, 20))
    assert (found["status"], found["decided_by"]) == ("not_liable", ["host.not_liable"])


def test_late_notification_is_fined_at_the_mci_of_the_day_after_the_due_day() -> None:
    # Entry on Fri 26 Dec 2025: Mon 29, Tue 30, Wed 31 Dec -> due on 31 Dec 2025; notified on
    # 5 Jan 2026, the offence committed on 1 Jan 2026: 10 MCI at the 2026 MCI of 4,325.
    found = section(
        hosted({"entry": "2025-12-26", "registered_on": "2026-01-05"}, "small_business"), D(2026, 1, 20)
    )
    assert found["registration"]["due"] == "2025-12-31"
    assert found["fine_kzt"] == 43250


def test_notification_not_yet_due_and_not_recorded_is_not_late() -> None:
    found = section(hosted({"entry": "2025-03-03"}, "small_business"), D(2025, 3, 6))
    assert found["status"] == "not_liable"


def test_notification_overdue_and_not_recorded_is_undetermined_naming_the_trip_s_registered_on() -> None:
    found = section(hosted({"entry": "2025-03-03"}, "small_business"), D(2025, 3, 7))
    assert (found["status"], found["missing"]) == ("undetermined", ["trips[].registered_on"])


def test_a_late_host_of_unknown_kind_is_undetermined() -> None:
    found = section(hosted(notified("2025-03-07"), None), D(2025, 3, 20))
    assert (found["status"], found["decided_by"]) == ("undetermined", ["host.undetermined.kind"])
    assert found["missing"] == ["host.kind"]


def test_2026_07_20_host_of_a_self_registering_foreigner_owes_no_notification() -> None:
    found = section(
        hosted({"entry": "2026-07-06", "registered_on": "2026-08-04"}, "large_business"), D(2026, 8, 10)
    )
    assert found["registration"]["procedure"] == "self_registration"
    assert found["status"] == "not_liable"


# --- part 2: housing a foreigner in breach ------------------------------------------------------


@pytest.mark.parametrize(
    ("kind", "mci"),
    [
        ("individual", 25),
        ("official", 40),
        ("small_business", 40),
        ("non_profit", 40),
        ("medium_business", 55),
        ("large_business", 75),
    ],
)
def test_2025_04_05_host_of_a_foreigner_present_in_overstay_is_fined_by_its_kind(kind: str, mci: int) -> None:
    found = section(hosted(IN_BREACH, kind), D(2025, 4, 5))
    assert (found["status"], found["decided_by"]) == ("fine", ["host.housing"])
    assert found["offence"] == {
        "provision": "art. 518 part 2",
        "on": "2025-04-05",
        "overstay_start": "2025-04-01",
    }
    assert (found["fine_mci"], found["fine_kzt"]) == (mci, mci * 3932)


def test_2025_03_31_host_of_a_foreigner_on_the_90th_day_is_not_liable() -> None:
    found = section(hosted(IN_BREACH, "individual"), D(2025, 3, 31))
    assert (found["status"], found["foreigner_in_breach"]) == ("not_liable", False)


def test_2025_04_20_host_after_the_foreigner_left_is_not_liable_for_housing() -> None:
    found = section(hosted({**IN_BREACH, "exit": "2025-04-05"}, "individual"), D(2025, 4, 20))
    assert (found["status"], found["foreigner_in_breach"]) == ("not_liable", False)


def test_housing_sets_aside_a_late_notification_of_the_same_host() -> None:
    verdict = rules.evaluate(
        hosted({"entry": "2025-01-01", "registered_on": "2025-01-20"}, "individual"), on=D(2025, 4, 5)
    )
    set_aside = {e.rule: e.overridden_by for e in verdict.trace if e.overridden_by}
    assert set_aside == {"host.late_notification_warning": "host.housing"}


# --- part 3: a repeat within a year -------------------------------------------------------------


@pytest.mark.parametrize(
    ("kind", "mci"),
    [("individual", 30), ("small_business", 40), ("medium_business", 70), ("large_business", 100)],
)
def test_2025_04_05_housing_within_a_year_after_a_penalty_is_the_part_3_repeat(kind: str, mci: int) -> None:
    earlier = {"article": 518, "part": 2, "imposed_on": "2024-04-05"}
    found = section(hosted(IN_BREACH, kind, earlier), D(2025, 4, 5))
    assert (found["status"], found["decided_by"]) == ("fine", ["host.repeat"])
    assert found["repeat_of"] == earlier
    assert (found["fine_mci"], found["fine_kzt"]) == (mci, mci * 3932)


def test_2025_04_05_housing_a_year_and_a_day_after_a_penalty_is_no_repeat() -> None:
    earlier = {"article": 518, "part": 2, "imposed_on": "2024-04-04"}
    found = section(hosted(IN_BREACH, "individual", earlier), D(2025, 4, 5))
    assert (found["decided_by"], found["fine_mci"], found["missing"]) == (["host.housing"], 25, [])


def test_a_late_individual_host_penalised_within_the_year_is_fined_not_warned() -> None:
    earlier = {"article": 518, "part": 1, "imposed_on": "2024-09-01"}
    found = section(hosted(notified("2025-03-07"), "individual", earlier), D(2025, 3, 20))
    assert (found["status"], found["fine_mci"]) == ("fine", 30)


def test_a_penalty_of_the_foreigner_under_art_517_makes_no_host_repeat() -> None:
    earlier = {"article": 517, "part": 3, "imposed_on": "2024-09-01"}
    found = section(hosted(IN_BREACH, "individual", earlier), D(2025, 4, 5))
    assert found["decided_by"] == ["host.housing"]


# --- the registration facts of the stay mechanism -----------------------------------------------


def test_the_latest_trip_s_registration_is_computed_only_when_a_rule_reads_it(monkeypatch) -> None:
    def never(*_: Any) -> None:
        raise AssertionError("the registration of the latest trip was computed")

    monkeypatch.setattr(registration, "latest_registration", never)
    person = {"person_id": "H", "citizenship": "RU", "trips": [notified("2025-03-07")]}
    verdict = rules.evaluate(person, on=D(2025, 4, 5))
    assert verdict.stay.status == "compliant"


# --- the law in time: the fine of the offence's day, or a milder one of the evaluation date ----

#: The part-1 fine of an official raised to 20 MCI, or lowered to 5, from 1 Jan 2026.
OFFICIALS_FINED = """schema: kzmig/policy/2
title: "Test: the fine of art. 518 part 1 for officials is {mci} MCI from 1 January 2026"
x-sources:
  test: &test {{title: A hypothetical amendment for a test, href: "https://adilet.zan.kz/rus/docs/K1400000235"}}
tables:
  host.fines_mci:
    description: The fines of art. 518 in MCI by the kind of host.
    key: kind of host
    rows:
      official:
        - {{from: 2023-01-27, value: {{late_notification: 10, housing: 40, repeat: 40}}, source: *test}}
        - {{from: 2026-01-01, value: {{late_notification: {mci}, housing: 40, repeat: 40}}, source: *test}}
"""


@pytest.mark.parametrize(("mci", "fined"), [(20, 10), (5, 5)])
def test_2026_03_20_an_official_late_in_2025_is_fined_by_the_law_then_unless_a_later_one_is_milder(
    mci: int, fined: int
) -> None:
    """Code art. 4 and 5: a raised fine does not reach the offence of 7 Mar 2025; a lowered one
    does. The tenge use the MCI of the offence's day (3,932)."""
    from rules.policy.loader import AmendmentText

    amended = rules.Evaluator(
        rules.load_policy(amendments=[AmendmentText(OFFICIALS_FINED.format(mci=mci), "officials.yaml")])
    )
    person = hosted({**notified("2025-03-07"), "exit": "2025-03-20"}, "official")  # left in time
    found = amended.evaluate(person, D(2026, 3, 20)).section("host")
    assert found is not None
    assert (found.status, found.fine_mci, found.fine_kzt) == ("fine", fined, fined * 3932)
    # judged in 2025, the law of 2025 alone
    earlier = amended.evaluate(person, D(2025, 3, 20)).section("host")
    assert earlier is not None and (earlier.fine_mci, earlier.fine_kzt) == (10, 10 * 3932)
