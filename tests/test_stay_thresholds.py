"""The 90-in-180 stay limit, one threshold at a time, each side of it.

Each test reads as a case of the law: evaluation date, situation, result. The dates are
written out so that a legal analyst can check them on a calendar; where a date is derived
(90th day of a trip, the first day of a window) the arithmetic is asserted beside it.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from reference import DECREE_80_KINDS, expected

from models.verdict import StayResult, TraceEntry, Verdict
from rules import evaluate

D = dt.date
DAYS = dt.timedelta


def trip(entry: str, exit_: str | None = None) -> dict[str, str]:
    return {"entry": entry} if exit_ is None else {"entry": entry, "exit": exit_}


def status(kind: str, valid_from: str, valid_to: str | None = None) -> dict[str, str]:
    found = {"kind": kind, "valid_from": valid_from}
    if valid_to is not None:
        found["valid_to"] = valid_to
    return found


def person(
    citizenship: str | None = "RU", *trips: dict[str, str], statuses: tuple[Any, ...] = ()
) -> dict[str, Any]:
    record: dict[str, Any] = {"person_id": "T-1", "trips": list(trips), "statuses": list(statuses)}
    if citizenship is not None:
        record["citizenship"] = citizenship
    return record


def stay_on(record: dict[str, Any], on: dt.date) -> StayResult:
    """The engine's stay section, after checking that the oracle agrees with it."""
    stay = evaluate(record, on=on).stay
    want = expected(record, on)
    engine = (stay.status.value, stay.missing, stay.days_used, stay.overstay_days, stay.exempt_days)
    oracle = (want.status, want.missing, want.days_used, want.overstay_days, want.exempt_days)
    assert engine == oracle, "the day-by-day oracle disagrees with the engine"
    assert [(p.start, p.end) for p in stay.overstay_periods] == want.overstay_periods
    assert stay.latest_exit == want.latest_exit, "the oracle's latest exit differs"
    return stay


def periods(stay: StayResult) -> list[tuple[dt.date, dt.date, int]]:
    return [(p.start, p.end, p.days) for p in stay.overstay_periods]


def trace_of(verdict: Verdict) -> dict[str, TraceEntry]:
    return {entry.rule: entry for entry in verdict.trace}


# --- 90 days in any 180: the EAEU regime ---------------------------------------------------------


def test_2024_04_29_eaeu_citizen_90th_day_in_window_is_compliant() -> None:
    assert D(2024, 1, 31) + DAYS(89) == D(2024, 4, 29)
    stay = stay_on(person("RU", trip("2024-01-31")), D(2024, 4, 29))
    assert stay.status == "compliant"
    assert stay.days_used == 90
    assert stay.overstay_days == 0 and stay.overstay_periods == ()
    assert stay.limit == 90 and stay.window == 180 and stay.per_entry_limit is None
    assert stay.latest_exit == D(2024, 4, 29)


def test_2024_04_30_eaeu_citizen_91st_day_in_window_is_overstay() -> None:
    stay = stay_on(person("RU", trip("2024-01-31")), D(2024, 4, 30))
    assert stay.status == "overstay"
    assert stay.days_used == 91
    assert stay.overstay_days == 1
    assert periods(stay) == [(D(2024, 4, 30), D(2024, 4, 30), 1)]
    assert stay.latest_exit is None


@pytest.mark.parametrize("citizenship", ["RU", "BY", "AM", "KG"])
def test_2024_04_30_every_eaeu_citizenship_91st_day_in_window_is_overstay(citizenship: str) -> None:
    assert stay_on(person(citizenship, trip("2024-01-31")), D(2024, 4, 29)).status == "compliant"
    assert stay_on(person(citizenship, trip("2024-01-31")), D(2024, 4, 30)).status == "overstay"


def test_2024_04_30_eaeu_citizen_91_days_over_two_trips_in_window_is_overstay() -> None:
    record = person("KG", trip("2024-01-01", "2024-01-30"), trip("2024-03-01"))  # 30 + 60
    assert stay_on(record, D(2024, 4, 29)).days_used == 90
    assert stay_on(record, D(2024, 4, 29)).status == "compliant"
    stay = stay_on(record, D(2024, 4, 30))
    assert stay.status == "overstay" and stay.days_used == 91


def test_2024_07_31_eaeu_citizen_overstay_days_earlier_in_the_record_are_still_reported() -> None:
    record = person("RU", trip("2024-01-31", "2024-05-09"))  # 100 days: 10 over the limit
    stay = stay_on(record, D(2024, 7, 31))
    assert stay.status == "overstay"
    assert stay.overstay_days == 10
    assert periods(stay) == [(D(2024, 4, 30), D(2024, 5, 9), 10)]
    assert stay.latest_exit is None  # not present


def test_2024_12_31_overstay_periods_are_the_separate_runs_of_overstay_days() -> None:
    record = person(
        "US",
        trip("2024-01-01", "2024-02-01"),  # days 31 and 32 of the entry
        trip("2024-06-01", "2024-07-02"),  # days 31 and 32 of the entry
    )
    stay = stay_on(record, D(2024, 12, 31))
    assert periods(stay) == [
        (D(2024, 1, 31), D(2024, 2, 1), 2),
        (D(2024, 7, 1), D(2024, 7, 2), 2),
    ]
    assert stay.overstay_days == 4


# --- 30 days per entry: the general visa-free list -----------------------------------------------


def test_2024_03_30_visa_free_citizen_30th_day_of_one_entry_is_compliant() -> None:
    assert D(2024, 3, 1) + DAYS(29) == D(2024, 3, 30)
    stay = stay_on(person("US", trip("2024-03-01")), D(2024, 3, 30))
    assert stay.status == "compliant"
    assert stay.days_used == 30 and stay.per_entry_limit == 30
    assert stay.latest_exit == D(2024, 3, 30)


def test_2024_03_31_visa_free_citizen_31st_day_of_one_entry_is_overstay() -> None:
    stay = stay_on(person("US", trip("2024-03-01")), D(2024, 3, 31))
    assert stay.status == "overstay"
    assert stay.days_used == 31
    assert periods(stay) == [(D(2024, 3, 31), D(2024, 3, 31), 1)]
    assert stay.latest_exit is None


@pytest.mark.parametrize("citizenship", ["US", "GB", "DE", "FR", "IT", "ES", "NL", "JP", "AU", "CA"])
def test_2024_03_31_every_visa_free_citizenship_has_the_30_day_per_entry_cap(citizenship: str) -> None:
    assert stay_on(person(citizenship, trip("2024-03-01")), D(2024, 3, 30)).status == "compliant"
    assert stay_on(person(citizenship, trip("2024-03-01")), D(2024, 3, 31)).status == "overstay"


def test_2024_05_09_visa_free_citizen_30th_day_of_a_second_entry_is_compliant() -> None:
    record = person("JP", trip("2024-03-01", "2024-03-30"), trip("2024-04-10"))
    stay = stay_on(record, D(2024, 5, 9))
    assert stay.status == "compliant" and stay.days_used == 60
    assert stay_on(record, D(2024, 5, 10)).status == "overstay"


def test_2024_05_01_visa_free_citizen_91st_day_in_window_over_four_entries_is_overstay() -> None:
    record = person(
        "GB",
        trip("2024-01-01", "2024-01-30"),
        trip("2024-02-10", "2024-03-10"),
        trip("2024-03-20", "2024-04-18"),  # 90 days used, never more than 30 per entry
        trip("2024-05-01"),
    )
    assert stay_on(record, D(2024, 4, 30)).days_used == 90
    assert stay_on(record, D(2024, 4, 30)).status == "compliant"
    stay = stay_on(record, D(2024, 5, 1))
    assert stay.status == "overstay" and stay.days_used == 91
    assert periods(stay) == [(D(2024, 5, 1), D(2024, 5, 1), 1)]


# --- the limit is in force from 27 January 2023, not retroactively -------------------------------


def test_2023_06_30_trip_entering_2023_01_26_is_not_counted_at_all() -> None:
    stay = stay_on(person("RU", trip("2023-01-26", "2023-06-30")), D(2023, 6, 30))
    assert stay.status == "compliant"
    assert stay.days_used == 0 and stay.overstay_days == 0 and stay.exempt_days == 0


def test_2023_06_30_trip_entering_2023_01_27_is_counted_from_its_first_day() -> None:
    assert D(2023, 1, 27) + DAYS(89) == D(2023, 4, 26)
    stay = stay_on(person("RU", trip("2023-01-27", "2023-06-30")), D(2023, 6, 30))
    assert stay.status == "overstay"
    assert periods(stay) == [(D(2023, 4, 27), D(2023, 6, 30), 65)]


def test_2023_01_26_evaluation_before_the_limit_is_not_applicable() -> None:
    verdict = evaluate(person("RU", trip("2023-01-01")), on=D(2023, 1, 26))
    assert verdict.stay.status == "not_applicable"
    assert verdict.stay.days_used is None and verdict.stay.latest_exit is None
    assert trace_of(verdict)["stay.before_in_force"].decisive
    assert "stay.limit" not in trace_of(verdict)


def test_2023_01_27_evaluation_on_the_first_day_of_the_limit_applies() -> None:
    verdict = evaluate(person("RU", trip("2023-01-27")), on=D(2023, 1, 27))
    assert verdict.stay.status == "compliant"
    assert verdict.stay.days_used == 1
    assert verdict.stay.latest_exit == D(2023, 4, 26)
    assert "stay.before_in_force" not in trace_of(verdict)
    assert trace_of(verdict)["stay.limit"].outcome == "applies"


def test_2023_01_27_still_present_on_a_trip_entered_2023_01_26_has_no_counted_day() -> None:
    stay = stay_on(person("RU", trip("2023-01-26")), D(2023, 12, 31))
    assert stay.status == "compliant"
    assert stay.days_used == 0
    assert stay.latest_exit is None  # the trip is never counted: staying on is never an overstay


# --- exemptions: Decree No. 80 from 25 February 2024, residence permits from 27 January 2023 ----

DRIVER = status("international_driver", "2024-01-01")


def test_2024_02_24_international_driver_is_not_yet_exempt_and_the_day_counts() -> None:
    verdict = evaluate(person("RU", trip("2024-02-01"), statuses=(DRIVER,)), on=D(2024, 2, 24))
    stay_on(person("RU", trip("2024-02-01"), statuses=(DRIVER,)), D(2024, 2, 24))
    assert verdict.stay.status == "compliant"
    assert verdict.stay.days_used == 24 and verdict.stay.exempt_days == 0
    assert "stay.exemption.international_driver" not in trace_of(verdict)
    assert trace_of(verdict)["stay.limit"].overridden_by is None


def test_2024_02_25_international_driver_is_exempt_and_the_day_is_not_counted() -> None:
    record = person("RU", trip("2024-02-01"), statuses=(DRIVER,))
    stay = stay_on(record, D(2024, 2, 25))
    assert stay.status == "exempt"
    assert stay.days_used == 24 and stay.exempt_days == 1
    assert stay.latest_exit is None


def test_2024_02_25_trace_shows_the_driver_exemption_overriding_the_limit_with_its_source() -> None:
    verdict = evaluate(person("RU", trip("2024-02-01"), statuses=(DRIVER,)), on=D(2024, 3, 1))
    trace = trace_of(verdict)
    driver = trace["stay.exemption.international_driver"]
    assert driver.outcome == "exempt" and driver.decisive
    assert driver.in_force == (D(2024, 2, 25), None)
    assert "No. 80" in driver.source.title
    assert driver.source.href == "https://adilet.zan.kz/rus/docs/P2400000080"
    assert driver.facts["status"] == "international_driver"
    assert driver.facts["days_not_counted"] == 6  # 25 Feb to 1 Mar 2024
    limit = trace["stay.limit"]
    assert limit.overridden_by == "stay.exemption.international_driver"
    assert not limit.decisive
    assert "477-IV" in limit.source.title


def test_2024_03_10_driver_overstay_before_decree_80_is_not_wiped_out_by_the_exemption() -> None:
    assert D(2023, 11, 1) + DAYS(89) == D(2024, 1, 29)
    record = person("RU", trip("2023-11-01"), statuses=(status("international_driver", "2023-06-01"),))
    verdict = evaluate(record, on=D(2024, 3, 10))
    stay = stay_on(record, D(2024, 3, 10))
    assert stay.status == "overstay"  # an overstay day beats an exemption today
    assert periods(stay) == [(D(2024, 1, 30), D(2024, 2, 24), 26)]
    assert stay.exempt_days == 15  # 25 Feb to 10 Mar 2024
    trace = trace_of(verdict)
    assert trace["stay.overstay"].decisive
    assert not trace["stay.exemption.international_driver"].decisive


@pytest.mark.parametrize("kind", DECREE_80_KINDS)
def test_2024_02_24_and_25_every_decree_80_category_is_exempt_from_25_february_only(kind: str) -> None:
    record = person("US", trip("2024-02-01"), statuses=(status(kind, "2023-01-01"),))
    before = evaluate(record, on=D(2024, 2, 24))
    assert before.stay.status == "compliant" and before.stay.exempt_days == 0
    after = evaluate(record, on=D(2024, 2, 25))
    assert after.stay.status == "exempt" and after.stay.exempt_days == 1
    assert trace_of(after)["stay.limit"].overridden_by == f"stay.exemption.{kind}"


def test_2023_12_31_residence_permit_holder_is_exempt_from_2023_01_27() -> None:
    record = person("RU", trip("2023-01-27"), statuses=(status("residence_permit", "2022-06-01"),))
    stay = stay_on(record, D(2023, 12, 31))
    assert stay.status == "exempt"
    assert stay.days_used == 0 and stay.overstay_days == 0
    assert stay.exempt_days == 339  # every day from 27 Jan to 31 Dec 2023
    verdict = evaluate(record, on=D(2023, 12, 31))
    permit = trace_of(verdict)["stay.exemption.residence_permit"]
    assert permit.in_force == (D(2023, 1, 27), None) and permit.decisive
    assert trace_of(verdict)["stay.limit"].overridden_by == "stay.exemption.residence_permit"


def test_2023_12_31_driver_in_2023_was_not_exempt_and_overstayed() -> None:
    record = person("RU", trip("2023-01-27"), statuses=(status("international_driver", "2022-06-01"),))
    stay = stay_on(record, D(2023, 12, 31))
    assert stay.status == "overstay"
    assert stay.exempt_days == 0 and stay.days_used == 180


def test_2023_01_26_residence_permit_holder_evaluated_before_the_limit_is_not_applicable() -> None:
    record = person("RU", trip("2023-01-01"), statuses=(status("residence_permit", "2022-06-01"),))
    assert stay_on(record, D(2023, 1, 26)).status == "not_applicable"


PERMIT_JAN_TO_JUN_2024 = status("residence_permit", "2024-01-01", "2024-06-30")
PERMIT_JUNE_2024 = status("residence_permit", "2024-06-01", "2024-06-30")


def test_2024_06_30_last_day_of_a_residence_permit_is_exempt() -> None:
    record = person("RU", trip("2024-06-01"), statuses=(PERMIT_JAN_TO_JUN_2024,))
    stay = stay_on(record, D(2024, 6, 30))
    assert stay.status == "exempt"
    assert stay.days_used == 0 and stay.exempt_days == 30


def test_2024_07_01_day_after_a_residence_permit_ends_is_counted() -> None:
    record = person("RU", trip("2024-06-01"), statuses=(PERMIT_JAN_TO_JUN_2024,))
    stay = stay_on(record, D(2024, 7, 1))
    assert stay.status == "compliant"
    assert stay.days_used == 1 and stay.exempt_days == 30
    assert stay.latest_exit == D(2024, 7, 1) + DAYS(89) == D(2024, 9, 28)
    verdict = evaluate(record, on=D(2024, 7, 1))
    past = trace_of(verdict)["stay.exemption.residence_permit"]
    assert past.outcome == "days_not_counted" and past.facts["days_not_counted"] == 30
    assert trace_of(verdict)["stay.limit"].overridden_by is None


def test_2024_05_31_day_before_a_residence_permit_starts_is_counted() -> None:
    record = person("RU", trip("2024-05-31"), statuses=(PERMIT_JUNE_2024,))
    assert stay_on(record, D(2024, 5, 31)).status == "compliant"
    stay = stay_on(record, D(2024, 6, 1))
    assert stay.status == "exempt" and stay.days_used == 1 and stay.exempt_days == 1


def test_2024_05_10_renewed_residence_permit_overlapping_the_old_one_removes_each_day_once() -> None:
    record = person(
        "RU",
        trip("2024-05-01", "2024-05-10"),
        statuses=(PERMIT_JAN_TO_JUN_2024, status("residence_permit", "2024-03-01", "2024-12-31")),
    )
    stay = stay_on(record, D(2024, 5, 10))
    assert stay.status == "exempt" and stay.exempt_days == 10
    now = trace_of(evaluate(record, on=D(2024, 5, 10)))["stay.exemption.residence_permit"]
    assert now.facts["days_not_counted"] == 10
    later = trace_of(evaluate(record, on=D(2025, 1, 10)))["stay.exemption.residence_permit"]
    assert later.outcome == "days_not_counted" and later.facts["days_not_counted"] == 10


def test_2024_04_09_visa_free_per_entry_count_skips_exempt_days() -> None:
    record = person("US", trip("2024-03-01"), statuses=(status("aircraft_crew", "2024-03-05", "2024-03-14"),))
    assert D(2024, 3, 1) + DAYS(29 + 10) == D(2024, 4, 9)
    assert stay_on(record, D(2024, 3, 1)).latest_exit == D(2024, 4, 9)  # future exempt days skipped
    stay = stay_on(record, D(2024, 4, 9))
    assert stay.status == "compliant" and stay.days_used == 30 and stay.exempt_days == 10
    assert stay_on(record, D(2024, 4, 10)).status == "overstay"


def test_2024_03_15_stay_on_a_visa_is_not_applicable_and_its_days_are_not_counted() -> None:
    record = person("RU", trip("2024-01-01"), statuses=(status("visa", "2024-03-01", "2024-03-31"),))
    verdict = evaluate(record, on=D(2024, 3, 15))
    assert verdict.stay.status == "not_applicable" and verdict.stay.latest_exit is None
    assert trace_of(verdict)["stay.document.visa"].decisive
    stay = stay_on(record, D(2024, 4, 1))
    assert stay.status == "compliant"
    assert stay.days_used == 61 and stay.exempt_days == 31


def test_2024_03_15_temporary_residence_permit_is_not_applicable() -> None:
    record = person("KG", trip("2024-01-01"), statuses=(status("temporary_residence_permit", "2024-03-01"),))
    stay = stay_on(record, D(2024, 3, 15))
    assert stay.status == "not_applicable"
    assert stay.days_used == 60 and stay.exempt_days == 15


def test_2024_03_10_exemption_with_no_end_starting_later_means_no_latest_exit() -> None:
    record = person("RU", trip("2024-03-01"), statuses=(status("international_driver", "2024-04-01"),))
    verdict = evaluate(record, on=D(2024, 3, 10))
    stay_on(record, D(2024, 3, 10))
    assert verdict.stay.status == "compliant"
    assert verdict.stay.latest_exit is None
    assert any("no latest exit" in warning for warning in verdict.warnings)


# --- counting convention: entry and exit days count, a shared day counts once ---------------------


def test_2024_03_30_same_day_exit_and_reentry_counts_the_day_once() -> None:
    assert (D(2024, 3, 30) - D(2024, 1, 1)).days + 1 == 90
    record = person("RU", trip("2024-01-01", "2024-02-15"), trip("2024-02-15"))
    stay = stay_on(record, D(2024, 3, 30))
    assert stay.status == "compliant" and stay.days_used == 90
    assert stay_on(record, D(2024, 3, 31)).status == "overstay"


def test_2024_01_01_one_day_trip_counts_one_day() -> None:
    stay = stay_on(person("RU", trip("2024-01-01", "2024-01-01")), D(2024, 1, 1))
    assert stay.days_used == 1


def test_2024_02_28_visa_free_reentry_on_exit_day_starts_a_new_30_day_count() -> None:
    record = person("US", trip("2024-01-01", "2024-01-30"), trip("2024-01-30"))
    stay = stay_on(record, D(2024, 2, 28))
    assert stay.status == "compliant" and stay.days_used == 59
    assert stay_on(record, D(2024, 2, 29)).status == "overstay"


def test_2024_01_30_latest_exit_on_a_reentry_day_follows_the_new_entry() -> None:
    """Left and re-entered on 30 Jan: the person is on the second trip, whose 30th day is 28 Feb.
    (The first trip's 30 days are used up; continuing *it* would end on 30 Jan.)"""
    record = person("US", trip("2024-01-01", "2024-01-30"), trip("2024-01-30"))
    stay = stay_on(record, D(2024, 1, 30))
    assert stay.status == "compliant"
    assert stay.latest_exit == D(2024, 1, 30) + DAYS(29) == D(2024, 2, 28)


def test_2023_01_27_latest_exit_on_reentry_day_after_a_trip_entered_before_the_limit() -> None:
    record = person("RU", trip("2022-10-01", "2023-01-27"), trip("2023-01-27"))
    stay = stay_on(record, D(2023, 1, 27))
    assert stay.days_used == 1
    assert stay.latest_exit == D(2023, 4, 26)


# --- the window: [D - 179, D] --------------------------------------------------------------------


def test_2024_06_30_day_d_minus_179_is_inside_the_window() -> None:
    assert D(2024, 6, 30) - DAYS(179) == D(2024, 1, 3)
    assert D(2024, 6, 30) - DAYS(89) == D(2024, 4, 2)
    record = person("RU", trip("2024-01-03", "2024-01-03"), trip("2024-04-02", "2024-06-30"))
    stay = stay_on(record, D(2024, 6, 30))
    assert stay.days_used == 91
    assert stay.status == "overstay"
    assert periods(stay) == [(D(2024, 6, 30), D(2024, 6, 30), 1)]


def test_2024_06_30_day_d_minus_180_is_outside_the_window() -> None:
    assert D(2024, 6, 30) - DAYS(180) == D(2024, 1, 2)
    record = person("RU", trip("2024-01-02", "2024-01-02"), trip("2024-04-02", "2024-06-30"))
    stay = stay_on(record, D(2024, 6, 30))
    assert stay.days_used == 90
    assert stay.status == "compliant"


# --- latest exit ---------------------------------------------------------------------------------


def test_2024_05_01_eaeu_citizen_entering_on_a_clean_record_may_stay_to_entry_plus_89() -> None:
    stay = stay_on(person("RU", trip("2024-05-01")), D(2024, 5, 1))
    assert stay.latest_exit == D(2024, 5, 1) + DAYS(89) == D(2024, 7, 29)


def test_2024_05_01_visa_free_citizen_entering_on_a_clean_record_may_stay_to_entry_plus_29() -> None:
    stay = stay_on(person("US", trip("2024-05-01")), D(2024, 5, 1))
    assert stay.latest_exit == D(2024, 5, 1) + DAYS(29) == D(2024, 5, 30)


def test_2024_05_01_eaeu_citizen_with_60_days_used_may_stay_30_more() -> None:
    record = person("RU", trip("2024-01-01", "2024-02-29"), trip("2024-05-01"))
    stay = stay_on(record, D(2024, 5, 1))
    assert stay.days_used == 61
    assert stay.latest_exit == D(2024, 5, 30)


def test_2024_06_29_eaeu_citizen_reentering_as_old_days_leave_the_window_may_stay_90_days() -> None:
    """90 days used from 1 Jan to 30 Mar; on 29 Jun 1 Jan has left the window, and every later
    day of stay replaces a day that leaves it, until 26 Sep."""
    record = person("RU", trip("2024-01-01", "2024-03-30"), trip("2024-06-29"))
    stay = stay_on(record, D(2024, 6, 29))
    assert stay.days_used == 90 and stay.status == "compliant"
    assert stay.latest_exit == D(2024, 6, 29) + DAYS(89) == D(2024, 9, 26)


def test_2024_03_01_overstay_status_still_reports_latest_exit_of_the_current_trip() -> None:
    record = person("US", trip("2024-01-01", "2024-02-09"), trip("2024-03-01"))
    stay = stay_on(record, D(2024, 3, 1))
    assert stay.status == "overstay" and stay.overstay_days == 10
    assert stay.latest_exit == D(2024, 3, 30)


def test_2024_03_10_not_present_has_no_latest_exit() -> None:
    stay = stay_on(person("RU", trip("2024-03-01", "2024-03-05")), D(2024, 3, 10))
    assert stay.status == "compliant" and stay.latest_exit is None


def test_2024_03_05_on_the_exit_day_latest_exit_is_that_of_continuing_the_trip() -> None:
    stay = stay_on(person("RU", trip("2024-03-01", "2024-03-05")), D(2024, 3, 5))
    assert stay.latest_exit == D(2024, 3, 1) + DAYS(89)


# --- only the record up to the evaluation date is seen -------------------------------------------


def test_2024_02_01_trips_entering_later_are_ignored_with_a_warning() -> None:
    record = person("RU", trip("2024-01-01", "2024-01-10"), trip("2024-03-01", "2024-06-30"))
    verdict = evaluate(record, on=D(2024, 2, 1))
    stay_on(record, D(2024, 2, 1))
    assert verdict.stay.days_used == 10 and verdict.stay.overstay_days == 0
    assert any("1 trip(s) entering after 2024-02-01" in warning for warning in verdict.warnings)


def test_2024_03_10_exit_after_the_evaluation_date_is_cut_at_that_date() -> None:
    record = person("RU", trip("2024-01-01", "2024-01-10"), trip("2024-03-01", "2024-06-30"))
    verdict = evaluate(record, on=D(2024, 3, 10))
    stay = stay_on(record, D(2024, 3, 10))
    assert stay.days_used == 20 and stay.overstay_days == 0 and stay.status == "compliant"
    assert stay.latest_exit == D(2024, 5, 19)  # 80 days from 1 Mar: 10 + 80 = 90
    assert not any("entering after" in warning for warning in verdict.warnings)


# --- who is subject; missing facts ---------------------------------------------------------------


def test_2024_03_01_citizen_of_kazakhstan_is_not_applicable() -> None:
    verdict = evaluate(person("KZ", trip("2023-06-01")), on=D(2024, 3, 1))
    assert verdict.stay.status == "not_applicable"
    assert verdict.stay.days_used is None and verdict.stay.missing == ()
    assert trace_of(verdict)["stay.not_subject"].decisive


def test_2024_03_01_without_citizenship_is_undetermined_missing_citizenship() -> None:
    verdict = evaluate(person(None, trip("2024-01-01")), on=D(2024, 3, 1))
    assert verdict.stay.status == "undetermined"
    assert verdict.stay.missing == ("citizenship",)
    assert verdict.stay.days_used is None and verdict.stay.latest_exit is None
    assert trace_of(verdict)["stay.undetermined.citizenship"].decisive
    assert stay_on(person(None, trip("2024-01-01")), D(2024, 3, 1)).missing == ("citizenship",)


def test_2024_03_01_citizenship_with_no_recorded_regime_is_undetermined_naming_the_policy_gap() -> None:
    """Kosovo (XK) has no row: nothing for the caseworker to supply, the gap of the policy is named."""
    verdict = evaluate(person("XK", trip("2024-01-01")), on=D(2024, 3, 1))
    assert verdict.stay.status == "undetermined"
    assert verdict.stay.missing == ()
    assert [(g.table, g.key, g.on) for g in verdict.stay.policy_gaps] == [
        ("stay.regime_of_citizenship", "XK", D(2024, 3, 1))
    ]
    assert any("no row 'XK' in table stay.regime_of_citizenship on 2024-03-01" in w for w in verdict.warnings)
    assert verdict.stay.days_used is None
    assert trace_of(verdict)["stay.undetermined.regime"].decisive


def test_2024_03_01_without_a_travel_record_is_undetermined_missing_trips() -> None:
    record = {"person_id": "T-1", "citizenship": "RU"}
    verdict = evaluate(record, on=D(2024, 3, 1))
    assert verdict.stay.status == "undetermined"
    assert verdict.stay.missing == ("trips",)
    assert verdict.stay.days_used is None
    assert trace_of(verdict)["stay.undetermined.trips"].decisive
    assert expected(record, D(2024, 3, 1)).missing == ("trips",)


def test_2024_03_01_an_empty_travel_record_means_never_entered_and_is_compliant() -> None:
    stay = stay_on(person("RU"), D(2024, 3, 1))
    assert stay.status == "compliant"
    assert stay.days_used == 0 and stay.overstay_days == 0 and stay.latest_exit is None


def test_2024_03_01_missing_citizenship_beats_a_valid_residence_permit() -> None:
    record = person(None, trip("2024-01-01"), statuses=(status("residence_permit", "2024-01-01"),))
    stay = stay_on(record, D(2024, 3, 1))
    assert stay.status == "undetermined" and stay.missing == ("citizenship",)


def test_2024_04_30_overstay_trace_names_the_deciding_rule_and_its_source() -> None:
    verdict = evaluate(person("RU", trip("2024-01-31")), on=D(2024, 4, 30))
    trace = trace_of(verdict)
    assert trace["stay.overstay"].decisive and trace["stay.overstay"].outcome == "overstay"
    assert trace["stay.overstay"].facts["stay.overstay_days"] == 1
    assert "477-IV" in trace["stay.overstay"].source.title
    assert trace["stay.limit"].overridden_by is None
    assert "stay.compliant" not in trace
