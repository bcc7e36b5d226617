"""Registration after each entry: the host's notification within 3 working days, and from
1 Jul 2026 the immigrant's own registration by the 30th calendar day after crossing.

Expected dates were checked by hand against the Kazakh calendar (weekends, public holidays,
days off moved by Government decree, working Saturdays and Sundays); the reasoning is written
beside each non-obvious case. Convention of the baseline (``registration.count_entry_day:
false``): the count starts the day after the entry, so the host's 3 working days are the 3
working days after the entry day and the 30th calendar day is the entry day + 30.

Properties then check every entry day of 2023-2027 against the ``holidays`` calendar itself.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest
from budget import examples
from holidays.countries.kazakhstan import KZ
from hypothesis import given, settings
from hypothesis import strategies as st

import rules
from models.registration import RegistrationDue
from rules.errors import EvaluationError, PolicyError
from rules.policy.loader import Policy
from rules.stay.registration import registration_due, registration_problems

D = dt.date
POLICY_FILE = Path(__file__).resolve().parents[1] / "policies" / "kz" / "registration.yaml"
LIMIT_START = D(2023, 1, 27)  # the first day the registration is encoded (start of the stay limit)
SELF_REGISTRATION_START = D(2026, 7, 1)  # MIA Order No. 923 of 17 Nov 2025
CALENDAR = KZ(years=range(2022, 2030))  # the oracle: the package's calendar, asked day by day
PROPERTY_SETTINGS = settings(max_examples=examples(300), deadline=None)

AMENDMENT_HEADER = "schema: kzmig/policy/2\ntitle: A registration amendment written for a test\nparameters:\n"
TEST_SOURCE = "{title: Test source for a what-if amendment, href: https://example.org/law}"


@pytest.fixture(scope="module")
def policy() -> Policy:
    return rules.load_policy()


def due_of(policy: Policy, entry: D, regime: str) -> RegistrationDue:
    found = registration_due(policy, entry, regime)
    assert found is not None, f"a registration is due after the entry of {entry} ({regime})"
    return found


def amended(tmp_path: Path, *parameters: str) -> Policy:
    """The baseline with one amendment file replacing the given parameters (YAML blocks)."""
    path = tmp_path / "registration-what-if.yaml"
    path.write_text(AMENDMENT_HEADER + "".join(parameters), encoding="utf-8")
    return rules.load_policy(amendments=[path])


def parameter(name: str, *values: tuple[str, str]) -> str:
    """One parameter in YAML with the dated ``(from, value)`` pairs given."""
    lines = "".join(
        f"      - {{from: {start}, value: {value}, source: {TEST_SOURCE}}}\n" for start, value in values
    )
    return f"  {name}:\n    description: Replaced by a test amendment.\n    values:\n{lines}"


# --- host notification: 3 working days -----------------------------------------------------------


def test_2024_04_11_thursday_entry_host_notification_due_tuesday_after_the_weekend(policy: Policy) -> None:
    # Fri 12 Apr (1), Sat-Sun skipped, Mon 15 (2), Tue 16 (3).
    found = due_of(policy, D(2024, 4, 11), "eaeu")
    assert (found.procedure, found.due) == ("host_notification", D(2024, 4, 16))


def test_2024_04_12_friday_entry_host_notification_due_wednesday(policy: Policy) -> None:
    # Mon 15 Apr (1), Tue 16 (2), Wed 17 (3).
    assert due_of(policy, D(2024, 4, 12), "visa_free").due == D(2024, 4, 17)


def test_2024_03_20_entry_before_nowruz_host_notification_due_after_it(policy: Policy) -> None:
    # Nowruz 21-23 Mar 2024 (Thu-Sat), Sun 24, Mon 25 the day off for Nowruz on a Saturday:
    # the first working day after the entry is Tue 26 (1), then Wed 27 (2), Thu 28 (3).
    assert due_of(policy, D(2024, 3, 20), "visa_free").due == D(2024, 3, 28)


def test_2025_03_20_entry_before_nowruz_with_two_observed_days_off_due_28_march(policy: Policy) -> None:
    # Nowruz 21-23 Mar 2025 (Fri-Sun); its Saturday and Sunday are made up on Mon 24 and Tue 25.
    # Wed 26 (1), Thu 27 (2), Fri 28 (3).
    assert due_of(policy, D(2025, 3, 20), "eaeu").due == D(2025, 3, 28)


def test_2024_05_03_entry_before_may_holidays_working_saturday_counts_substituted_day_off_does_not(
    policy: Policy,
) -> None:
    # May 2024: Sat 4 May was made a working day and its day off moved to Wed 8 May, between
    # Defender of the Fatherland Day (Tue 7) and Victory Day (Thu 9). From a Friday entry:
    # Sat 4 (1, a working Saturday), Sun 5 no, Mon 6 (2), Tue 7 / Wed 8 / Thu 9 no, Fri 10 (3).
    assert due_of(policy, D(2024, 5, 3), "eaeu").due == D(2024, 5, 10)


def test_2024_05_06_entry_host_notification_skips_three_days_off_in_a_row(policy: Policy) -> None:
    # Tue 7 (holiday), Wed 8 (the day off moved from Sat 4), Thu 9 (holiday): Fri 10 (1),
    # Mon 13 (2), Tue 14 (3).
    assert due_of(policy, D(2024, 5, 6), "visa_required").due == D(2024, 5, 14)


def test_2024_03_21_entry_on_nowruz_itself_count_starts_on_the_next_working_day(policy: Policy) -> None:
    # The entry day is not counted, whatever it is: Fri 22 Nowruz, Sat 23 Nowruz, Sun 24, Mon 25
    # day off; Tue 26 (1), Wed 27 (2), Thu 28 (3) - the same as an entry the day before.
    assert due_of(policy, D(2024, 3, 21), "eaeu").due == D(2024, 3, 28)


def test_2024_01_01_entry_on_new_year_host_notification_due_5_january(policy: Policy) -> None:
    # 1-2 Jan holidays; Wed 3 (1), Thu 4 (2), Fri 5 (3). Orthodox Christmas (Sun 7) is later.
    assert due_of(policy, D(2024, 1, 1), "visa_free").due == D(2024, 1, 5)


def test_2024_12_30_entry_across_new_year_working_sunday_5_january_2025_counts(policy: Policy) -> None:
    # Tue 31 Dec (1); 1-2 Jan holidays; Fri 3 Jan the day off moved from Sun 5 Jan, which was
    # made a working day: Sun 5 (2), Mon 6 (3).
    assert due_of(policy, D(2024, 12, 30), "eaeu").due == D(2025, 1, 6)


def test_2026_07_02_visa_holder_host_notification_skips_capital_day(policy: Policy) -> None:
    # Fri 3 Jul (1), Mon 6 Jul Capital Day, Tue 7 (2), Wed 8 (3).
    assert due_of(policy, D(2026, 7, 2), "visa_required").due == D(2026, 7, 8)


def test_2024_04_11_host_notification_carries_its_count_and_legal_source(policy: Policy) -> None:
    found = due_of(policy, D(2024, 4, 11), "eaeu")
    assert (found.entry, found.counted, found.days) == (D(2024, 4, 11), "working_days", 3)
    assert "No. 148" in found.source.title
    assert found.source.href == "https://adilet.zan.kz/rus/docs/P1200000148"
    assert found.note is not None and "predates" in found.note


# --- both sides of 1 July 2026 ------------------------------------------------------------------


@pytest.mark.parametrize("regime", ["eaeu", "visa_free"])
def test_2026_06_30_entry_keeps_host_notification_due_3_july(policy: Policy, regime: str) -> None:
    # Wed 1 Jul (1), Thu 2 (2), Fri 3 (3): the procedure is that of the entry day, even though
    # the due date falls after the self-registration starts.
    found = due_of(policy, D(2026, 6, 30), regime)
    assert (found.procedure, found.counted, found.due) == ("host_notification", "working_days", D(2026, 7, 3))


@pytest.mark.parametrize("regime", ["eaeu", "visa_free"])
def test_2026_07_01_entry_self_registration_due_by_the_30th_day_31_july(policy: Policy, regime: str) -> None:
    found = due_of(policy, D(2026, 7, 1), regime)
    assert (found.procedure, found.counted, found.days) == ("self_registration", "calendar_days", 30)
    assert found.due == D(2026, 7, 31)
    assert "No. 923" in found.source.title and found.source.href.startswith("https://")


def test_2026_07_03_self_registration_due_on_a_sunday_is_not_moved(policy: Policy) -> None:
    # 3 Jul + 30 = Sun 2 Aug 2026; registration is online, so the due date stays on the Sunday.
    found = due_of(policy, D(2026, 7, 3), "eaeu")
    assert found.due == D(2026, 8, 2) and found.due.weekday() == 6


def test_2026_07_01_visa_holder_keeps_host_notification_due_7_july(policy: Policy) -> None:
    # Thu 2 Jul (1), Fri 3 (2), Mon 6 Capital Day, Tue 7 (3).
    found = due_of(policy, D(2026, 7, 1), "visa_required")
    assert (found.procedure, found.due) == ("host_notification", D(2026, 7, 7))


# --- no registration, unknown regime, gaps ------------------------------------------------------


@pytest.mark.parametrize("entry", [D(2024, 5, 1), D(2026, 7, 1)])
def test_kazakh_citizen_needs_no_registration(policy: Policy, entry: D) -> None:
    assert registration_due(policy, entry, "citizen") is None


def test_2024_05_01_unknown_regime_gives_no_due_date_the_engine_lists_it_missing(policy: Policy) -> None:
    assert registration_due(policy, D(2024, 5, 1), None) is None


def test_2024_05_01_regime_not_in_the_stay_regimes_table_is_an_error(policy: Policy) -> None:
    with pytest.raises(EvaluationError, match="not in table stay.regimes"):
        registration_due(policy, D(2024, 5, 1), "eeau")


def test_2022_12_01_entry_before_any_registration_rule_is_an_error(policy: Policy) -> None:
    with pytest.raises(EvaluationError):
        registration_due(policy, D(2022, 12, 1), "eaeu")


def test_2100_12_30_host_notification_beyond_the_calendar_is_an_error(policy: Policy) -> None:
    with pytest.raises(EvaluationError, match="no registration due date"):
        registration_due(policy, D(2100, 12, 30), "visa_required")


def test_baseline_registration_parameters_have_the_shapes_the_mechanism_needs(policy: Policy) -> None:
    assert registration_problems(policy) == []


# --- the conventions are policy data: amendments change them ------------------------------------


def test_2024_04_11_counting_the_entry_day_moves_host_notification_to_monday(tmp_path: Path) -> None:
    # Thu 11 Apr is a working day and now the first counted: Thu 11 (1), Fri 12 (2), Mon 15 (3).
    what_if = amended(tmp_path, parameter("registration.count_entry_day", ("2023-01-27", "true")))
    assert due_of(what_if, D(2024, 4, 11), "eaeu").due == D(2024, 4, 15)
    # An entry on a holiday is not a counted working day: 21 Mar 2024 gives the same 28 Mar.
    assert due_of(what_if, D(2024, 3, 21), "eaeu").due == D(2024, 3, 28)


def test_2026_07_01_counting_the_entry_day_makes_the_30th_day_30_july(tmp_path: Path) -> None:
    what_if = amended(tmp_path, parameter("registration.count_entry_day", ("2023-01-27", "true")))
    assert due_of(what_if, D(2026, 7, 1), "visa_free").due == D(2026, 7, 30)


def test_2026_07_01_if_the_host_still_notifies_the_earlier_deadline_is_reported(tmp_path: Path) -> None:
    what_if = amended(
        tmp_path,
        parameter("registration.self_registration_replaces_host_notification", ("2026-07-01", "false")),
    )
    found = due_of(what_if, D(2026, 7, 1), "eaeu")
    assert (found.procedure, found.due) == ("host_notification", D(2026, 7, 7))


def test_2027_01_01_a_regime_left_out_of_every_list_is_an_error_not_a_guess(tmp_path: Path) -> None:
    what_if = amended(
        tmp_path,
        parameter(
            "registration.host_notification_regimes",
            ("2023-01-27", "[eaeu, visa_free, visa_required]"),
            ("2027-01-01", "[eaeu, visa_free]"),
        ),
    )
    assert due_of(what_if, D(2026, 12, 31), "visa_required").procedure == "host_notification"
    with pytest.raises(EvaluationError, match="no registration rule for regime 'visa_required'"):
        registration_due(what_if, D(2027, 1, 1), "visa_required")


def test_2024_05_01_a_regime_both_registered_and_not_required_is_a_contradiction(tmp_path: Path) -> None:
    what_if = amended(
        tmp_path, parameter("registration.not_required_regimes", ("2023-01-27", "[citizen, eaeu]"))
    )
    with pytest.raises(EvaluationError, match="contradicts itself"):
        registration_due(what_if, D(2024, 5, 1), "eaeu")


def test_2026_07_01_a_count_of_the_wrong_shape_is_refused_on_load_at_its_file_and_line(
    tmp_path: Path,
) -> None:
    with pytest.raises(PolicyError) as caught:
        amended(tmp_path, parameter("registration.self_registration_days", ("2026-07-01", "thirty")))
    (problem,) = caught.value.problems
    assert "registration-what-if.yaml:" in problem.where
    assert "whole number of days" in problem.message and "'thirty'" in problem.message


def test_a_misspelt_regime_in_a_list_is_found_on_load_with_a_suggestion(tmp_path: Path) -> None:
    with pytest.raises(PolicyError) as caught:
        amended(
            tmp_path, parameter("registration.self_registration_regimes", ("2026-07-01", "[eaeu, visa_fre]"))
        )
    (found,) = caught.value.problems
    assert "'visa_fre' (did you mean 'visa_free'?)" in found.message
    assert "registration-what-if.yaml:" in found.where


# --- properties over every entry day ------------------------------------------------------------


@PROPERTY_SETTINGS
@given(
    entry=st.dates(LIMIT_START, D(2027, 12, 31)),
    regime=st.sampled_from(["eaeu", "visa_free", "visa_required"]),
)
def test_host_notification_is_due_on_the_3rd_working_day_after_the_entry(
    policy: Policy, entry: D, regime: str
) -> None:
    found = due_of(policy, entry, regime)
    if found.procedure != "host_notification":
        assert regime != "visa_required" and entry >= SELF_REGISTRATION_START
        return
    assert found.due > entry
    assert CALENDAR.is_working_day(found.due)
    days_between = [entry + dt.timedelta(days=n) for n in range(1, (found.due - entry).days + 1)]
    assert sum(CALENDAR.is_working_day(day) for day in days_between) == found.days == 3


@PROPERTY_SETTINGS
@given(
    entry=st.dates(SELF_REGISTRATION_START, D(2027, 12, 31)), regime=st.sampled_from(["eaeu", "visa_free"])
)
def test_self_registration_is_due_exactly_30_calendar_days_after_the_entry(
    policy: Policy, entry: D, regime: str
) -> None:
    found = due_of(policy, entry, regime)
    assert found.procedure == "self_registration"
    assert found.due - entry == dt.timedelta(days=30)


@PROPERTY_SETTINGS
@given(entry=st.dates(LIMIT_START, SELF_REGISTRATION_START - dt.timedelta(days=1)))
def test_before_1_july_2026_every_foreigner_is_notified_by_the_host(policy: Policy, entry: D) -> None:
    for regime in ("eaeu", "visa_free", "visa_required"):
        assert due_of(policy, entry, regime).procedure == "host_notification"
    assert registration_due(policy, entry, "citizen") is None


def test_the_calendar_read_from_its_own_module_is_the_package_calendar_in_every_covered_year() -> None:
    """The registration reads ``holidays.KZ`` from its module file (not through the package of
    every country): the same holidays, names and working days as ``country_holidays("KZ")``."""
    import holidays

    from rules.stay.registration import _covered_years, _kazakh_calendar, _working_days

    first_year, last_year = _covered_years()
    ordinary = holidays.country_holidays("KZ")
    assert (first_year, last_year) == (ordinary.start_year, ordinary.end_year) == (1991, 2100)
    years = range(first_year, last_year + 1)
    read = _kazakh_calendar(years)
    oracle = holidays.country_holidays("KZ", years=years)
    assert dict(read) == dict(oracle)
    for year in years:
        days = (D(year, 1, 1) + dt.timedelta(days=n) for n in range((D(year + 1, 1, 1) - D(year, 1, 1)).days))
        expected = tuple(day.toordinal() for day in days if oracle.is_working_day(day))
        assert _working_days(year) == expected, year
