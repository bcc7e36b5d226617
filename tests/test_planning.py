"""Planning a stay (``rules.planning.plan``, ``kzmig plan``): how long from a day of entry, and
when a stay of N days may begin.

The cases read like the law: date, situation, result. Then hypothesis checks the two figures
against a brute-force search built on the day-by-day oracle of ``tests/reference.py``: every
length of stay is tried one by one (``max_stay_days`` is the last lawful one, and one day more
breaks the limit in the stay or in a booking), every day of entry is tried in order
(``earliest_entry`` is the first that allows N days).
"""

from __future__ import annotations

import bisect
import datetime as dt
import functools
import json
import tempfile
import time
from pathlib import Path
from typing import Any

import pytest
from budget import examples
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st
from reference import (
    CHINA_AGREEMENT,
    DECREE_80_IN_FORCE,
    DECREE_2025,
    EXEMPTIONS,
    WINDOW_DAYS,
    beyond_cap,
    cap_on,
    count_record,
    exempt_forever_from,
    limit_on,
    status_valid,
)
from typer.testing import CliRunner

from models.plan import Plan, PlanBound, PlanStatus
from rules.cli.app import app
from rules.engine.evaluator import Evaluator
from rules.errors import InputError
from rules.policy.loader import Policy, load_policy
from rules.stay.planning import plan, plan_with

D = dt.date
DAY = dt.timedelta(days=1)
ROOT = Path(__file__).resolve().parents[1]
AMENDMENTS = ROOT / "examples" / "amendments"
WHOLE_DAYS = """\
schema: kzmig/policy/2
title: "What-if: whole days only (the exit day is not counted)"
description: A test amendment for the other counting convention.
parameters:
  stay.count_exit_day:
    description: Whole days only.
    values:
      - from: 2023-01-27
        value: false
        source:
          title: "Hypothetical: whole days only; a test amendment, not law"
          href: https://adilet.zan.kz/rus/docs/P1200000148
"""
runner = CliRunner()


@functools.cache
def amended(name: str) -> Policy:
    """A policy under one amendment: an example file, or ``whole-days`` (written here)."""
    if name == "whole-days":
        path = Path(tempfile.mkdtemp(prefix="kzmig-plan-")) / "whole-days.yaml"
        path.write_text(WHOLE_DAYS, encoding="utf-8")
        return load_policy(amendments=[path])
    return load_policy(amendments=[AMENDMENTS / f"{name}.yaml"])


def person(citizenship: str | None, *trips: tuple[str, str | None], **extra: Any) -> dict[str, Any]:
    found: dict[str, Any] = {"person_id": "P-1", **extra}
    if citizenship is not None:
        found["citizenship"] = citizenship
    found["trips"] = [{"entry": entry, **({"exit": exit_} if exit_ else {})} for entry, exit_ in trips]
    return found


def status(kind: str, valid_from: str, valid_to: str | None = None) -> dict[str, str]:
    return {"kind": kind, "valid_from": valid_from, **({"valid_to": valid_to} if valid_to else {})}


# --- the cases ------------------------------------------------------------------------------------


def test_2026_03_01_clean_eaeu_record_may_stay_90_days_until_2026_05_29() -> None:
    answer = plan(person("RU"), D(2026, 3, 1))
    assert answer.status is PlanStatus.LIMITED
    assert (answer.max_stay_days, answer.latest_exit) == (90, D(2026, 5, 29))
    assert answer.earliest_entry == D(2026, 3, 1)
    assert answer.limited_by is PlanBound.WINDOW_LIMIT
    assert "2026-05-30 an overstay day" in answer.notes[0]
    assert answer.warnings == ()


def test_2026_03_01_visa_free_national_may_stay_30_days_per_entry() -> None:
    answer = plan(person("US", ("2025-11-01", "2025-11-20")), D(2026, 3, 1))
    assert (answer.max_stay_days, answer.latest_exit) == (30, D(2026, 3, 30))
    assert answer.limited_by is PlanBound.PER_ENTRY_LIMIT


def test_2026_03_02_eaeu_record_with_90_days_used_leaves_0_days_until_2026_05_30_then_90() -> None:
    # 1 Dec 2025 to 28 Feb 2026 is 90 days: the window ending on 2 March already holds them all;
    # the window ending on 30 May no longer holds 1 December.
    used = person("RU", ("2025-12-01", "2026-02-28"))
    answer = plan(used, D(2026, 3, 2))
    assert (answer.max_stay_days, answer.latest_exit) == (0, None)
    assert answer.earliest_entry == D(2026, 5, 30)
    assert plan(used, D(2026, 5, 29)).max_stay_days == 0
    assert plan(used, D(2026, 5, 30)).max_stay_days == 90  # a day drops out for each day stayed
    assert plan(used, D(2026, 3, 2), days=10).earliest_entry == D(2026, 5, 30)


def test_2026_03_02_eaeu_record_with_89_days_used_leaves_1_day() -> None:
    answer = plan(person("RU", ("2025-12-01", "2026-02-27")), D(2026, 3, 2))
    assert (answer.max_stay_days, answer.latest_exit) == (1, D(2026, 3, 2))
    assert answer.earliest_entry == D(2026, 3, 2)


def test_2026_02_10_booking_of_20_days_in_april_shortens_the_stay_from_30_to_10_days() -> None:
    history = ("2025-12-01", "2026-01-29")  # 60 days
    alone = plan(person("RU", history), D(2026, 2, 10))
    assert alone.max_stay_days == 30
    booked = plan(person("RU", history, ("2026-04-01", "2026-04-20")), D(2026, 2, 10))
    assert (booked.max_stay_days, booked.latest_exit) == (10, D(2026, 2, 19))
    assert booked.limited_by is PlanBound.BOOKED_TRIP
    assert "2026-04-20, a day of a booked trip" in booked.notes[0]


def test_2026_03_01_stay_must_end_the_day_before_a_booked_entry_on_2026_03_11() -> None:
    answer = plan(person("RU", ("2026-03-11", "2026-03-12")), D(2026, 3, 1))
    assert (answer.max_stay_days, answer.latest_exit) == (10, D(2026, 3, 10))
    assert answer.limited_by is PlanBound.NEXT_BOOKING
    # 11 days would run into the booking: the first day 11 days fit is after it.
    assert plan(person("RU", ("2026-03-11", "2026-03-12")), D(2026, 3, 1), days=11).earliest_entry == D(
        2026, 3, 13
    )


def test_bookings_that_overstay_on_their_own_leave_0_days_and_say_so() -> None:
    record = person("RU", ("2025-12-01", "2026-02-20"), ("2026-04-01", "2026-04-10"))  # 82 + 10 days
    answer = plan(record, D(2026, 3, 1))
    assert answer.max_stay_days == 0
    assert answer.limited_by is PlanBound.BOOKED_TRIP
    assert any("booked trips hold 2 overstay day(s) even without a new stay" in w for w in answer.warnings)
    assert answer.earliest_entry == D(2026, 6, 1)


def test_overstay_days_before_enter_are_history_reported_in_a_warning() -> None:
    record = person("US", ("2025-01-01", "2025-02-09"))  # days 31 to 40 of the entry overstayed
    answer = plan(record, D(2026, 3, 1))
    assert answer.max_stay_days == 30
    assert any(
        "10 overstay day(s) before 2026-03-01 (2025-01-31 to 2025-02-09)" in w for w in answer.warnings
    )


def test_2026_03_01_driver_status_valid_in_march_adds_its_31_days_to_the_90() -> None:
    driver = person("RU", statuses=[status("international_driver", "2026-03-01", "2026-03-31")])
    answer = plan(driver, D(2026, 3, 1))
    assert (answer.max_stay_days, answer.latest_exit) == (121, D(2026, 6, 29))
    assert any(e.rule == "stay.exemption.international_driver" for e in answer.trace)


def test_2024_02_01_driver_is_counted_until_decree_80_applies_on_2024_02_25_then_unlimited() -> None:
    driver = person("KG", statuses=[status("international_driver", "2024-01-01")])
    answer = plan(driver, D(2024, 2, 1))
    assert answer.status is PlanStatus.UNLIMITED
    assert answer.notes[0].startswith(
        "no maximum: every day from 2024-02-25 is covered by stay.exemption.international_driver"
    )
    used = person(
        "KG", ("2023-11-01", "2024-01-06"), statuses=[status("international_driver", "2024-01-01")]
    )  # 67 counted days: 24 more before 25 Feb would be 91
    limited = plan(used, D(2024, 2, 1))
    assert (limited.status, limited.max_stay_days, limited.latest_exit) == (
        PlanStatus.LIMITED,
        23,
        D(2024, 2, 23),
    )


def test_open_ended_residence_permit_gives_no_maximum_rather_than_a_number() -> None:
    holder = person("RU", ("2025-12-01", "2026-02-28"), statuses=[status("residence_permit", "2026-01-15")])
    answer = plan(holder, D(2026, 3, 2), days=400)
    assert answer.status is PlanStatus.UNLIMITED
    assert (answer.max_stay_days, answer.latest_exit, answer.limited_by) == (None, None, None)
    assert answer.earliest_entry == D(2026, 3, 2)
    decisive = [e.rule for e in answer.trace if e.decisive]
    assert "stay.exemption.residence_permit" in decisive
    doc = answer.to_json()
    assert doc["max_stay_days"] is None and doc["status"] == "unlimited"


def test_permit_from_2026_06_01_lets_60_days_begin_on_2026_05_02_when_30_fall_before_it() -> None:
    holder = person("US", statuses=[status("residence_permit", "2026-06-01")])
    answer = plan(holder, D(2026, 3, 1), days=60)
    assert (answer.status, answer.max_stay_days, answer.limited_by) == (
        PlanStatus.LIMITED,
        30,
        PlanBound.PER_ENTRY_LIMIT,
    )
    assert answer.earliest_entry == D(2026, 5, 2)  # 2 May to 31 May is 30 days; from June none counts
    assert plan(holder, D(2026, 5, 2)).status is PlanStatus.UNLIMITED
    assert plan(holder, D(2026, 5, 1)).max_stay_days == 30


def test_a_permit_valid_to_9999_12_31_is_read_as_open_ended_and_one_to_2300_as_a_century() -> None:
    for valid_to, note in (
        ("9999-12-31", "no maximum: every day"),
        ("2300-12-31", "no maximum within a century"),
    ):
        holder = person("RU", statuses=[status("residence_permit", "2026-01-01", valid_to)])
        answer = plan(holder, D(2026, 3, 1))
        assert answer.status is PlanStatus.UNLIMITED and answer.notes[0].startswith(note)


def test_a_search_that_finds_no_day_within_a_century_says_so() -> None:
    typo = person("US", statuses=[status("residence_permit", "2900-01-01")])
    answer = plan(typo, D(2026, 3, 1), days=60)
    assert answer.earliest_entry is None
    assert "no day within a century of 2026-03-01 allows a stay of 60 days" in answer.notes[-1]


def test_plans_beyond_the_calendar_are_input_errors() -> None:
    with pytest.raises(InputError, match="more than a century after"):
        plan(person("RU", ("2026-03-10", "9999-12-31")), D(2026, 3, 1))
    with pytest.raises(InputError, match="too far in the future"):
        plan(person("RU"), D(9999, 1, 1))
    with pytest.raises(InputError, match="length of stay"):
        plan(person("RU"), D(2026, 3, 1), days=36601)


def test_open_ended_permit_with_a_booking_is_limited_by_the_booking() -> None:
    holder = person("RU", ("2026-06-01", "2026-06-10"), statuses=[status("residence_permit", "2026-01-15")])
    answer = plan(holder, D(2026, 3, 1))
    assert (answer.status, answer.max_stay_days, answer.limited_by) == (
        PlanStatus.LIMITED,
        92,
        PlanBound.NEXT_BOOKING,
    )


def test_kazakh_citizen_gets_not_applicable_not_a_number() -> None:
    answer = plan(person("KZ"), D(2026, 3, 1))
    assert answer.status is PlanStatus.NOT_APPLICABLE
    assert (answer.max_stay_days, answer.latest_exit, answer.earliest_entry) == (None, None, None)
    assert [e.rule for e in answer.trace if e.decisive] == ["stay.not_subject"]
    assert "does not apply on 2026-03-01" in answer.notes[0]


def test_visa_valid_on_the_day_of_entry_makes_the_plan_not_applicable() -> None:
    answer = plan(person("RU", statuses=[status("visa", "2026-02-01", "2026-04-01")]), D(2026, 3, 1))
    assert answer.status is PlanStatus.NOT_APPLICABLE


def test_a_nationality_without_a_regime_and_an_unknown_citizenship_give_undetermined_saying_why() -> None:
    kosovo = plan(person("XK"), D(2026, 3, 1))
    assert (kosovo.status, kosovo.missing, kosovo.max_stay_days) == (PlanStatus.UNDETERMINED, (), None)
    assert "no row 'XK' in table stay.regime_of_citizenship on 2026-03-01" in kosovo.notes[0]
    nobody = plan(person(None), D(2026, 3, 1))
    assert (nobody.status, nobody.missing) == (PlanStatus.UNDETERMINED, ("citizenship",))
    unknown_trips = plan({"person_id": "P-2", "citizenship": "RU"}, D(2026, 3, 1))
    assert unknown_trips.missing == ("trips",) and unknown_trips.earliest_entry is None


def test_2026_03_01_present_on_enter_is_an_input_error_naming_the_trip() -> None:
    for trip in (("2026-02-01", "2026-03-01"), ("2026-02-01", "2026-03-05"), ("2026-02-01", None)):
        with pytest.raises(InputError) as error:
            plan(person("RU", ("2025-01-01", "2025-01-05"), trip), D(2026, 3, 1))
        assert [p.where for p in error.value.problems] == ["trips[1]"]
        assert "in Kazakhstan on 2026-03-01" in error.value.problems[0].message
    # Leaving the day before is enough.
    assert plan(person("RU", ("2026-02-01", "2026-02-28")), D(2026, 3, 1)).max_stay_days == 62


def test_a_booking_without_an_exit_is_an_input_error() -> None:
    with pytest.raises(InputError) as error:
        plan(person("RU", ("2026-04-01", None)), D(2026, 3, 1))
    assert error.value.problems[0].where == "trips[0]"
    assert "has no exit" in error.value.problems[0].message


def test_days_must_be_a_whole_number_of_at_least_1() -> None:
    for days in (0, -3):
        with pytest.raises(InputError):
            plan(person("RU"), D(2026, 3, 1), days=days)


def test_31_days_are_beyond_the_visa_free_cap_on_every_day_and_30_are_not() -> None:
    record = person("US", ("2026-01-01", "2026-01-20"))
    never = plan(record, D(2026, 3, 1), days=31)
    assert never.earliest_entry is None
    assert "30 days allowed per entry" in never.notes[-1]
    assert plan(record, D(2026, 3, 1), days=30).earliest_entry == D(2026, 3, 1)


def test_91_days_are_beyond_the_eaeu_limit_on_every_day_and_90_are_not() -> None:
    record = person("RU", ("2026-01-01", "2026-01-20"))
    never = plan(record, D(2026, 3, 1), days=91)
    assert never.earliest_entry is None
    assert "more than 90 counted days in 180" in never.notes[-1]
    # 90 days from 21 April: the window ending on the 90th day (19 July) starts on 21 January.
    assert plan(record, D(2026, 3, 1), days=90).earliest_entry == D(2026, 4, 21)
    assert (plan(record, D(2026, 4, 20)).max_stay_days, plan(record, D(2026, 4, 21)).max_stay_days) == (
        70,
        90,
    )


def test_the_plan_json_has_the_required_fields_and_reads_back() -> None:
    answer = plan(person("RU"), D(2026, 3, 1), days=5)
    doc = answer.to_json()
    for name in ("person_id", "enter", "max_stay_days", "latest_exit", "earliest_entry", "trace"):
        assert name in doc
    assert (doc["enter"], doc["latest_exit"], doc["earliest_entry"]) == (
        "2026-03-01",
        "2026-05-29",
        "2026-03-01",
    )
    assert doc["days"] == 5 and doc["policy"]["name"] == "kz"
    assert Plan.model_validate(doc) == answer


def test_a_plan_for_a_20_trip_person_takes_milliseconds() -> None:
    trips = []
    day = D(2024, 1, 5)
    for _ in range(20):
        trips.append((day.isoformat(), (day + 12 * DAY).isoformat()))
        day += 40 * DAY
    record = person("RU", *trips)
    enter = D.fromisoformat(trips[14][1]) + 3 * DAY
    plan(record, enter, days=30)  # warm: the policy is compiled once
    started = time.perf_counter()
    for _ in range(10):
        plan(record, enter, days=30)
    assert (time.perf_counter() - started) / 10 < 0.1  # measured about 2 ms


def test_2025_12_01_limit_of_60_days_from_2026_01_01_ends_the_stay_on_day_60() -> None:
    answer = plan(person("RU"), D(2025, 12, 1), policy=amended("limit-60-days"))
    assert (answer.max_stay_days, answer.latest_exit) == (60, D(2026, 1, 29))
    assert "more than 60 counted days" in answer.notes[0]


def test_whole_days_only_the_exit_day_is_free_91_days_for_eaeu_and_31_per_entry() -> None:
    policy = amended("whole-days")
    assert plan(person("RU"), D(2026, 3, 1), policy=policy).max_stay_days == 91
    visa_free = plan(person("US"), D(2026, 3, 1), days=32, policy=policy)
    assert (visa_free.max_stay_days, visa_free.earliest_entry) == (31, None)
    booked = plan(person("US", ("2026-03-10", "2026-03-12")), D(2026, 3, 1), days=31, policy=policy)
    assert (booked.max_stay_days, booked.earliest_entry) == (9, D(2026, 3, 13))


def test_a_rule_that_sets_the_limit_aside_from_a_later_day_is_reported_not_assumed() -> None:
    # What-if: Kyrgyz citizens outside the limit from 1 Jan 2026. The count still ends the
    # stay on day 90; the plan warns that the verdict on day 91 is not_applicable.
    answer = plan(person("KG"), D(2025, 12, 1), policy=amended("kyrgyz-citizens-not-subject"))
    assert (answer.max_stay_days, answer.latest_exit) == (90, D(2026, 2, 28))
    assert any("verdict is not_applicable (stay.not_subject.kyrgyz_citizens)" in w for w in answer.warnings)
    assert plan(person("KG"), D(2026, 1, 1), policy=amended("kyrgyz-citizens-not-subject")).status == (
        PlanStatus.NOT_APPLICABLE
    )


# --- the command --------------------------------------------------------------------------------


def kzmig(*args: str) -> tuple[int, str, str]:
    result = runner.invoke(app, list(args))
    return result.exit_code, result.stdout, result.stderr


def write(tmp_path: Path, data: Any, name: str = "p.json") -> str:
    path = tmp_path / name
    path.write_text(json.dumps(data), encoding="utf-8")
    return str(path)


def test_kzmig_plan_text_gives_the_answer_in_one_line_with_the_rules_and_sources(tmp_path: Path) -> None:
    path = write(tmp_path, person("RU", ("2025-12-01", "2026-01-29")))
    code, out, _ = kzmig("plan", path, "--enter", "2026-02-10", "--days", "40")
    assert code == 0
    assert "Person P-1 entering on 2026-02-10" in out
    assert "may stay up to 30 days, until 2026-03-11" in out
    assert "earliest entry for a stay of 40 days: 2026-04-30" in out
    assert "* stay.compliant" in out and "https://adilet.zan.kz/rus/docs/Z1100000477" in out


def test_kzmig_plan_json_is_exactly_the_library_plan(tmp_path: Path) -> None:
    record = person("US", ("2026-01-01", "2026-01-20"))
    code, out, _ = kzmig("plan", write(tmp_path, record), "--enter", "2026-03-01", "--format", "json")
    assert code == 0
    assert json.loads(out) == plan(record, D(2026, 3, 1)).to_json()


def test_kzmig_plan_says_not_applicable_and_unlimited_in_words(tmp_path: Path) -> None:
    code, out, _ = kzmig("plan", write(tmp_path, person("KZ")), "--enter", "2026-03-01")
    assert code == 0 and "NOT APPLICABLE" in out and "earliest entry" not in out
    holder = person("RU", statuses=[status("residence_permit", "2025-01-01")])
    code, out, _ = kzmig("plan", write(tmp_path, holder), "--enter", "2026-03-01")
    assert code == 0 and "may stay with no maximum" in out


def test_kzmig_plan_names_the_trip_present_on_enter_with_its_line_and_exits_1(tmp_path: Path) -> None:
    path = tmp_path / "p.yaml"
    path.write_text(
        "person_id: P-9\ncitizenship: RU\ntrips:\n  - {entry: 2026-02-01, exit: 2026-03-05}\n",
        encoding="utf-8",
    )
    code, _, err = kzmig("plan", str(path), "--enter", "2026-03-01")
    assert code == 1
    assert f"{path}:4 at trips[0]" in err and "in Kazakhstan on 2026-03-01" in err
    assert "Traceback" not in err


def test_kzmig_plan_refuses_a_bad_date_and_a_zero_length_as_usage_errors(tmp_path: Path) -> None:
    path = write(tmp_path, person("RU"))
    assert kzmig("plan", path, "--enter", "2026-13-01")[0] == 2
    assert kzmig("plan", path, "--enter", "2026-03-01", "--days", "0")[0] == 2
    assert kzmig("plan", path)[0] == 2  # --enter is required


def test_kzmig_plan_batch_gives_one_json_line_per_record(tmp_path: Path) -> None:
    path = tmp_path / "people.jsonl"
    lines = [json.dumps(person("RU")), json.dumps(person("RU", ("2026-02-01", None)))]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    code, out, _ = kzmig("plan", str(path), "--enter", "2026-03-01", "-f", "json")
    assert code == 1
    first, second = (json.loads(line) for line in out.splitlines())
    assert first["max_stay_days"] == 90
    assert second["error"]["kind"] == "input" and "trips[0]" in second["error"]["problems"][0]


# --- the brute force ------------------------------------------------------------------------------


def _date(value: str) -> dt.date:
    return dt.date.fromisoformat(value)


class Brute:
    """Plans by trying every length and every day, judging each with the reference oracle's
    counting (``count_record``, ``beyond_cap``) and the project's definition: a stay is lawful
    when no day on or after its entry is an overstay day (neither its own nor a booking's)."""

    def __init__(self, record: dict[str, Any]) -> None:
        self.trips = [(_date(t["entry"]), _date(t["exit"])) for t in record["trips"]]
        self.statuses = [
            (s["kind"], _date(s["valid_from"]), _date(s["valid_to"]) if s.get("valid_to") else None)
            for s in record.get("statuses", ())
        ]
        self.citizenship: str = record["citizenship"]

    def lawful(self, first: dt.date, days: int) -> bool:
        last = first + (days - 1) * DAY
        trips = sorted([*self.trips, (first, last)])
        as_of = max(exit_ for _, exit_ in trips)
        counted_record = count_record(list(trips), self.statuses, as_of, self.citizenship)
        counted = sorted(counted_record.counted)
        for day in counted[bisect.bisect_left(counted, first) :]:
            in_window = bisect.bisect_right(counted, day) - bisect.bisect_left(
                counted, day - (WINDOW_DAYS - 1) * DAY
            )
            if in_window > limit_on(self.citizenship, day):
                return False
        return not any(
            day >= first
            for entry, days_of in counted_record.per_trip
            for day in beyond_cap(days_of, cap_on(self.citizenship, entry))
        )

    def free(self, first: dt.date, days: int) -> bool:
        """Whether a stay of ``days`` from ``first`` shares no day with a trip."""
        last = first + (days - 1) * DAY
        return all(last < entry or first > exit_ for entry, exit_ in self.trips)

    def room(self, first: dt.date) -> int | None:
        """How many days fit from ``first`` before the next trip (None: no trip follows)."""
        later = [entry for entry, _ in self.trips if entry > first]
        return (min(later) - first).days if later else None

    def longest(self, first: dt.date, up_to: int) -> int:
        """The last lawful length, trying 1, 2, ... (stops at ``up_to`` or the next trip)."""
        room = self.room(first)
        days = 0
        while days < up_to and (room is None or days < room) and self.lawful(first, days + 1):
            days += 1
        return days

    def settled(self, enter: dt.date) -> dt.date:
        """A day from which every later day of entry is judged alike: past the record by a
        window, and past every change of exemption."""
        changes = [DECREE_80_IN_FORCE, CHINA_AGREEMENT, DECREE_2025, enter]
        changes += [exit_ + WINDOW_DAYS * DAY for _, exit_ in self.trips]
        for _, valid_from, valid_to in self.statuses:
            changes.append(valid_from)
            if valid_to is not None:
                changes.append(valid_to + DAY)
        return max(changes)

    def earliest(self, enter: dt.date, days: int) -> dt.date | None:
        first = enter
        end = self.settled(enter)
        while first <= end:
            if self.free(first, days) and self.lawful(first, days):
                return first
            first += DAY
        return None


@st.composite
def plans(draw: st.DrawFn) -> tuple[dict[str, Any], dt.date, int]:
    """A record of history and bookings around a day of entry in a gap between them, up to two
    statuses with validity dates near that day, and a length of stay to find a day for."""
    citizenship = draw(st.sampled_from(["RU", "KG", "US", "JP", "IN", "CN", "TR"]))
    day = draw(st.dates(D(2024, 6, 1), D(2025, 9, 30)))
    trips: list[dict[str, str]] = []
    for _ in range(draw(st.integers(0, 3))):
        exit_ = day + draw(st.one_of(st.integers(0, 40), st.integers(41, 100))) * DAY
        trips.append({"entry": day.isoformat(), "exit": exit_.isoformat()})
        day = exit_ + draw(st.one_of(st.just(0), st.integers(1, 40), st.integers(41, 150))) * DAY
    enter = day + draw(st.integers(1, 120)) * DAY
    day = enter
    for _ in range(draw(st.integers(0, 2))):
        entry = day + draw(st.one_of(st.integers(1, 20), st.integers(21, 120))) * DAY
        exit_ = entry + draw(st.integers(0, 40)) * DAY
        trips.append({"entry": entry.isoformat(), "exit": exit_.isoformat()})
        day = exit_
    record: dict[str, Any] = {"person_id": "P-1", "citizenship": citizenship, "trips": trips}
    statuses = []
    for _ in range(draw(st.sampled_from([0, 0, 1, 1, 2]))):
        kind = draw(
            st.one_of(
                st.sampled_from(["residence_permit", "international_driver", "aircraft_crew"]),
                st.sampled_from(sorted(EXEMPTIONS)),
            )
        )
        valid_from = enter + draw(st.integers(-150, 150)) * DAY
        found = {"kind": kind, "valid_from": valid_from.isoformat()}
        if draw(st.integers(0, 5)):
            found["valid_to"] = (valid_from + draw(st.integers(0, 120)) * DAY).isoformat()
        statuses.append(found)
    if statuses:
        record["statuses"] = statuses
    days = draw(st.one_of(st.just(1), st.integers(1, 40), st.integers(41, 100)))
    return record, enter, days


def _not_applicable_on(record: dict[str, Any], enter: dt.date) -> bool:
    return any(
        EXEMPTIONS[s["kind"]][1] == "not_applicable"
        and status_valid((s["kind"], _date(s["valid_from"]), _date(s.get("valid_to") or "9999-12-31")), enter)
        for s in record.get("statuses", ())
    )


PROPERTY_SETTINGS = settings(
    max_examples=examples(300), deadline=None, suppress_health_check=[HealthCheck.too_slow]
)


@PROPERTY_SETTINGS
@given(case=plans())
def test_max_stay_days_is_the_brute_force_maximum_and_one_day_more_breaks_the_limit(
    case: tuple[dict[str, Any], dt.date, int],
) -> None:
    record, enter, days = case
    answer = plan(record, enter, days)
    if _not_applicable_on(record, enter):
        assert answer.status is PlanStatus.NOT_APPLICABLE
        return
    brute = Brute(record)
    if answer.status is PlanStatus.UNLIMITED:
        # No booking follows, and from some day every day is exempt with no end.
        assert brute.room(enter) is None
        forever = next(
            day for day in (enter + k * DAY for k in range(400)) if exempt_forever_from(brute.statuses, day)
        )
        reach = (forever - enter).days + 30
        assert brute.longest(enter, reach) == reach
        assert brute.lawful(enter, reach + 365)
        return
    assert answer.status is PlanStatus.LIMITED and answer.max_stay_days is not None
    most = answer.max_stay_days
    assert brute.longest(enter, most + 1) == most
    room = brute.room(enter)
    if room is not None and most == room:
        assert answer.limited_by is PlanBound.NEXT_BOOKING
    else:
        assert not brute.lawful(enter, most + 1)  # tight: one day more breaks the limit somewhere
    assert answer.latest_exit == (enter + (most - 1) * DAY if most else None)


@PROPERTY_SETTINGS
@given(case=plans())
def test_earliest_entry_is_the_first_day_the_brute_force_allows(
    case: tuple[dict[str, Any], dt.date, int],
) -> None:
    record, enter, days = case
    answer = plan(record, enter, days)
    if answer.status is PlanStatus.NOT_APPLICABLE:
        assert _not_applicable_on(record, enter)
        return
    assert answer.status in (PlanStatus.LIMITED, PlanStatus.UNLIMITED)
    assert answer.earliest_entry == Brute(record).earliest(enter, days)
    if answer.earliest_entry is not None and answer.earliest_entry > enter:
        later = plan(record, answer.earliest_entry, days)
        assert later.max_stay_days is None or later.max_stay_days >= days


AMENDED_SETTINGS = settings(
    max_examples=examples(40), deadline=None, suppress_health_check=[HealthCheck.too_slow]
)


@AMENDED_SETTINGS
@given(case=plans(), name=st.sampled_from(["limit-60-days", "whole-days"]))
def test_under_an_amendment_earliest_entry_is_the_first_day_whose_own_plan_allows_n_days(
    case: tuple[dict[str, Any], dt.date, int], name: str
) -> None:
    """The definition, with the engine as judge: the search (its shortcuts, its bound) finds the
    first day whose own plan allows N days, under a dated limit and the other counting convention."""
    record, enter, days = case
    # A day on which a visa makes the limit not applicable has no plan of its own to judge by.
    assume(not any(s["kind"] in ("visa", "temporary_residence_permit") for s in record.get("statuses", ())))
    evaluator = _evaluator(name)
    answer = plan_with(evaluator, record, enter, days)
    if answer.status not in (PlanStatus.LIMITED, PlanStatus.UNLIMITED):
        return
    end = max(Brute(record).settled(enter), D(2026, 1, 1))
    first: dt.date | None = enter
    while first is not None and not _allows(evaluator, record, first, days):
        first = first + DAY if first < end else None
    assert answer.earliest_entry == first


@functools.cache
def _evaluator(name: str) -> Evaluator:
    return Evaluator(amended(name))


def _allows(evaluator: Evaluator, record: dict[str, Any], first: dt.date, days: int) -> bool:
    try:
        answer = plan_with(evaluator, record, first, 1)
    except InputError:
        return False  # on a trip
    return answer.max_stay_days is None or answer.max_stay_days >= days
