"""The what-if amendments in ``examples/amendments``: each loads over the baseline, changes the
verdict it is written to change, leaves earlier dates and other people alone, and gives a policy
version of its own. Every figure is computed by hand in the comments beside it.
"""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

import rules
from models.verdict import StayStatus, Verdict
from rules.cli.app import app

AMENDMENTS = Path(__file__).resolve().parents[1] / "examples" / "amendments"
LIMIT_60 = AMENDMENTS / "limit-60-days.yaml"
WHOLE_PERSON = AMENDMENTS / "exemption-whole-person.yaml"
KYRGYZ = AMENDMENTS / "kyrgyz-citizens-not-subject.yaml"
LEVEL_B1 = AMENDMENTS / "residence-language-b1.yaml"
FINES_DOUBLED = AMENDMENTS / "sanction-fines-doubled.yaml"
# The kandas amendments are tested in tests/test_social_contract.py and examples/cases/social-contract.
SOCIAL_CONTRACT = {
    "social-contract-pro-rata.yaml",
    "social-contract-exception-grounds.yaml",
    "social-contract-ulytau-region-from-july-2026.yaml",
    "social-contract-housing-certificate-non-refundable.yaml",
}
TESTED = {LIMIT_60.name, WHOLE_PERSON.name, KYRGYZ.name, LEVEL_B1.name, FINES_DOUBLED.name, *SOCIAL_CONTRACT}


@pytest.fixture(scope="module")
def baseline() -> rules.Evaluator:
    return rules.Evaluator(rules.load_policy())


@pytest.fixture(scope="module")
def amended() -> dict[str, rules.Evaluator]:
    return {
        path.name: rules.Evaluator(rules.load_policy(amendments=[path]))
        for path in (LIMIT_60, WHOLE_PERSON, KYRGYZ, LEVEL_B1, FINES_DOUBLED)
    }


def _both(
    baseline: rules.Evaluator,
    amended: dict[str, rules.Evaluator],
    amendment: Path,
    person: dict[str, Any],
    on: dt.date,
) -> tuple[Verdict, Verdict]:
    return baseline.evaluate(person, on), amended[amendment.name].evaluate(person, on)


def _person(
    person_id: str, citizenship: str, trips: list[tuple[str, str | None]], **extra: Any
) -> dict[str, Any]:
    return {
        "person_id": person_id,
        "citizenship": citizenship,
        "trips": [{"entry": entry, **({"exit": exit_} if exit_ else {})} for entry, exit_ in trips],
        **extra,
    }


# --- limit-60-days.yaml ------------------------------------------------------------------------

# 10 Jan - 25 Mar 2026 = 22 + 28 + 25 = 75 days; the 61st day is 11 Mar, so 11 - 25 Mar = 15 days.
RU_75_IN_2026 = _person("RU-75-2026", "RU", [("2026-01-10", "2026-03-25")])
# The same stay a year earlier: 10 Jan - 25 Mar 2025 = 75 days, judged by the 90 then in force.
RU_75_IN_2025 = _person("RU-75-2025", "RU", [("2025-01-10", "2025-03-25")])
# 15 Nov 2025 - 20 Jan 2026: 16 + 31 = 47 days by 31 Dec (judged by 90), then the 61st day is
# 14 Jan 2026 (judged by 60): 14 - 20 Jan = 7 overstay days; 67 days in all.
RU_ACROSS_NEW_YEAR = _person("RU-NEW-YEAR", "RU", [("2025-11-15", "2026-01-20")])


def test_2026_04_01_russian_with_75_days_in_2026_overstays_15_days_under_a_60_day_limit(
    baseline: rules.Evaluator, amended: dict[str, rules.Evaluator]
) -> None:
    before, after = _both(baseline, amended, LIMIT_60, RU_75_IN_2026, dt.date(2026, 4, 1))
    assert (before.stay.status, before.stay.limit, before.stay.overstay_days) == (StayStatus.COMPLIANT, 90, 0)
    assert (after.stay.status, after.stay.limit, after.stay.overstay_days) == (StayStatus.OVERSTAY, 60, 15)
    assert after.stay.days_used == before.stay.days_used == 75
    assert [(p.start, p.end) for p in after.stay.overstay_periods] == [
        (dt.date(2026, 3, 11), dt.date(2026, 3, 25))
    ]


def test_2025_04_01_russian_with_75_days_in_2025_is_compliant_under_the_90_days_then_in_force(
    baseline: rules.Evaluator, amended: dict[str, rules.Evaluator]
) -> None:
    before, after = _both(baseline, amended, LIMIT_60, RU_75_IN_2025, dt.date(2025, 4, 1))
    assert before.stay == after.stay
    assert (after.stay.status, after.stay.limit, after.stay.days_used) == (StayStatus.COMPLIANT, 90, 75)


def test_2026_02_01_russian_staying_across_new_year_overstays_7_days_each_day_judged_by_its_own_limit(
    baseline: rules.Evaluator, amended: dict[str, rules.Evaluator]
) -> None:
    before, after = _both(baseline, amended, LIMIT_60, RU_ACROSS_NEW_YEAR, dt.date(2026, 2, 1))
    assert (before.stay.status, before.stay.overstay_days) == (StayStatus.COMPLIANT, 0)
    assert (after.stay.status, after.stay.overstay_days) == (StayStatus.OVERSTAY, 7)
    assert [(p.start, p.end) for p in after.stay.overstay_periods] == [
        (dt.date(2026, 1, 14), dt.date(2026, 1, 20))
    ]


# --- exemption-whole-person.yaml ---------------------------------------------------------------

# 1 Feb - 15 May 2023 = 104 counted days (drivers were not exempt then): 2 - 15 May = 14 overstay
# days. 1 Jul - 1 Aug 2024 = 32 days covered by a valid driver status.
RU_DRIVER_2023_OVERSTAY = _person(
    "RU-DRV-2023",
    "RU",
    [("2023-02-01", "2023-05-15"), ("2024-07-01", None)],
    statuses=[{"kind": "international_driver", "valid_from": "2024-01-01", "valid_to": "2025-12-31"}],
)
# In the country since 1 Nov 2023: 116 counted days to 24 Feb 2024, day 91 is 30 Jan: 26 overstay days.
BY_LOCOMOTIVE_CREW = _person(
    "BY-LOCO",
    "BY",
    [("2023-11-01", None)],
    statuses=[{"kind": "train_crew", "valid_from": "2023-09-01", "valid_to": "2025-08-31"}],
)
# Permit valid to 30 Jun 2024, stayed on: 1 Jul - 15 Oct = 107 counted days, 29 Sep - 15 Oct = 17 overstay.
AM_EXPIRED_PERMIT = _person(
    "AM-RP-EXPIRED",
    "AM",
    [("2024-01-10", None)],
    statuses=[{"kind": "residence_permit", "valid_from": "2022-07-01", "valid_to": "2024-06-30"}],
)


def test_2024_08_01_driver_with_2023_overstay_and_a_valid_status_is_exempt_as_a_whole_person(
    baseline: rules.Evaluator, amended: dict[str, rules.Evaluator]
) -> None:
    before, after = _both(baseline, amended, WHOLE_PERSON, RU_DRIVER_2023_OVERSTAY, dt.date(2024, 8, 1))
    assert before.stay.status == StayStatus.OVERSTAY
    assert after.stay.status == StayStatus.EXEMPT
    assert after.stay.overstay_days == before.stay.overstay_days == 14  # still reported
    overstay = next(entry for entry in after.trace if entry.rule == "stay.overstay")
    assert overstay.overridden_by == "stay.exemption.international_driver"


def test_2024_02_25_locomotive_crew_with_26_overstay_days_is_exempt_as_a_whole_person_from_decree_80(
    baseline: rules.Evaluator, amended: dict[str, rules.Evaluator]
) -> None:
    before, after = _both(baseline, amended, WHOLE_PERSON, BY_LOCOMOTIVE_CREW, dt.date(2024, 2, 25))
    assert (before.stay.status, before.stay.overstay_days) == (StayStatus.OVERSTAY, 26)
    assert (after.stay.status, after.stay.overstay_days) == (StayStatus.EXEMPT, 26)


def test_2024_02_24_locomotive_crew_before_decree_80_is_in_overstay_under_either_reading(
    baseline: rules.Evaluator, amended: dict[str, rules.Evaluator]
) -> None:
    before, after = _both(baseline, amended, WHOLE_PERSON, BY_LOCOMOTIVE_CREW, dt.date(2024, 2, 24))
    assert before.stay == after.stay
    assert (after.stay.status, after.stay.overstay_days) == (StayStatus.OVERSTAY, 26)


def test_2024_10_15_armenian_whose_residence_permit_expired_is_in_overstay_under_either_reading(
    baseline: rules.Evaluator, amended: dict[str, rules.Evaluator]
) -> None:
    before, after = _both(baseline, amended, WHOLE_PERSON, AM_EXPIRED_PERMIT, dt.date(2024, 10, 15))
    assert before.stay == after.stay
    assert (after.stay.status, after.stay.overstay_days) == (StayStatus.OVERSTAY, 17)


# --- kyrgyz-citizens-not-subject.yaml ----------------------------------------------------------

# In the country since 5 Jan 2026: 27 + 28 + 31 + 30 + 1 = 117 days to 1 May; day 91 is 5 Apr,
# so 5 Apr - 1 May = 26 + 1 = 27 overstay days.
KG_SINCE_JANUARY_2026 = _person("KG-2026", "KG", [("2026-01-05", None)])
RU_SINCE_JANUARY_2026 = _person("RU-2026", "RU", [("2026-01-05", None)])
# In the country since 1 Jul 2025: 184 days to 31 Dec 2025; day 91 is 29 Sep: 94 overstay days.
KG_SINCE_JULY_2025 = _person("KG-2025", "KG", [("2025-07-01", None)])


def test_2026_05_01_kyrgyz_citizen_with_117_days_is_not_subject_to_the_limit_under_the_amendment(
    baseline: rules.Evaluator, amended: dict[str, rules.Evaluator]
) -> None:
    before, after = _both(baseline, amended, KYRGYZ, KG_SINCE_JANUARY_2026, dt.date(2026, 5, 1))
    assert (before.stay.status, before.stay.overstay_days) == (StayStatus.OVERSTAY, 27)
    assert after.stay.status == StayStatus.NOT_APPLICABLE
    decisive = [entry.rule for entry in after.trace if entry.decisive]
    assert decisive == ["stay.not_subject.kyrgyz_citizens"]


def test_2025_12_31_kyrgyz_citizen_with_94_overstay_days_is_in_overstay_the_day_before_the_amendment(
    baseline: rules.Evaluator, amended: dict[str, rules.Evaluator]
) -> None:
    before, after = _both(baseline, amended, KYRGYZ, KG_SINCE_JULY_2025, dt.date(2025, 12, 31))
    assert before.stay == after.stay
    assert (after.stay.status, after.stay.overstay_days) == (StayStatus.OVERSTAY, 94)
    on_first_day = amended[KYRGYZ.name].evaluate(KG_SINCE_JULY_2025, dt.date(2026, 1, 1))
    assert on_first_day.stay.status == StayStatus.NOT_APPLICABLE


def test_2026_05_01_russian_citizen_with_117_days_is_in_overstay_under_the_kyrgyz_amendment(
    baseline: rules.Evaluator, amended: dict[str, rules.Evaluator]
) -> None:
    before, after = _both(baseline, amended, KYRGYZ, RU_SINCE_JANUARY_2026, dt.date(2026, 5, 1))
    assert before.stay == after.stay
    assert (after.stay.status, after.stay.overstay_days) == (StayStatus.OVERSTAY, 27)


# --- residence-language-b1.yaml ----------------------------------------------------------------


def _applicant(person_id: str, submitted: str, level: str) -> dict[str, Any]:
    """An applicant with 540 points who passes every other gate (see the residence examples)."""
    return {
        "person_id": person_id,
        "residence_application": {
            "submitted": submitted,
            "birth_date": "1991-05-02",
            "language_test": {"taken": "2026-02-20", "level": level, "listening_pct": 45, "reading_pct": 31},
            "questionnaire": {
                "education": "higher",
                "experience_years": 6,
                "languages": [{"language": "kk", "level": "A1"}, {"language": "ru", "level": "C1"}],
                "competence": "in_demand",
                "health": "fit",
                "adaptability": "high",
            },
            "background_check": "cleared",
            "interview": "passed",
            "state_consent": True,
        },
    }


def _residence_status(verdict: Verdict) -> str:
    section = verdict.section("residence")
    assert section is not None
    return section.status


def test_2026_06_01_a1_test_submitted_on_13_april_is_refused_under_the_b1_amendment(
    baseline: rules.Evaluator, amended: dict[str, rules.Evaluator]
) -> None:
    applicant = _applicant("RA-B1-1", "2026-04-13", "A1")
    before, after = _both(baseline, amended, LEVEL_B1, applicant, dt.date(2026, 6, 1))
    assert (_residence_status(before), _residence_status(after)) == ("passed", "refused")
    assert [entry.rule for entry in after.trace if entry.decisive] == [
        "stay.undetermined.citizenship",
        "residence.language.level",
    ]


def test_2026_06_01_a1_test_submitted_on_12_april_passes_under_the_b1_amendment(
    baseline: rules.Evaluator, amended: dict[str, rules.Evaluator]
) -> None:
    applicant = _applicant("RA-B1-2", "2026-04-12", "A1")
    before, after = _both(baseline, amended, LEVEL_B1, applicant, dt.date(2026, 6, 1))
    assert (_residence_status(before), _residence_status(after)) == ("passed", "passed")
    assert before.section("residence") == after.section("residence")


def test_2026_06_01_b1_test_submitted_on_13_april_passes_under_the_b1_amendment(
    amended: dict[str, rules.Evaluator],
) -> None:
    verdict = amended[LEVEL_B1.name].evaluate(_applicant("RA-B1-3", "2026-04-13", "B1"), dt.date(2026, 6, 1))
    assert _residence_status(verdict) == "passed"


# --- sanction-fines-doubled.yaml ----------------------------------------------------------------

# 17 Dec 2025 - 20 Mar 2026 (still in the country) = 15 + 31 + 28 + 20 = 94 days: the 91st day
# is 17 Mar, so 17 - 20 Mar = 4 overstay days, a fine of art. 517 part 3 (more than 3, up to 5).
# MCI on 20 Mar 2026: 4,325 tenge.
RU_94_IN_2026 = _person("RU-94-2026", "RU", [("2025-12-17", None)])
# 17 Mar - 19 Jun 2025 = 15 + 30 + 31 + 19 = 95 days: the 91st day is 15 Jun, so 15 - 19 Jun =
# 5 overstay days, the same tier; MCI on 19 Jun 2025: 3,932 tenge.
RU_95_IN_2025 = _person("RU-95-2025", "RU", [("2025-03-17", None)])
# 1 - 10 Mar 2026: 10 days, compliant: no sanction to double.
RU_10_IN_2026 = _person("RU-10-2026", "RU", [("2026-03-01", "2026-03-10")])


def _fine(verdict: Verdict) -> tuple[Any, ...]:
    sanction = verdict.stay.sanction
    assert sanction is not None
    return (sanction.status, sanction.values["fine_mci"], sanction.values["fine_kzt"])


def test_2026_03_20_russian_overstaying_4_days_is_fined_20_mci_not_10_under_doubled_fines(
    baseline: rules.Evaluator, amended: dict[str, rules.Evaluator]
) -> None:
    before, after = _both(baseline, amended, FINES_DOUBLED, RU_94_IN_2026, dt.date(2026, 3, 20))
    assert before.stay.overstay_days == after.stay.overstay_days == 4
    assert _fine(before) == ("fine", 10, 43_250)
    assert _fine(after) == ("fine", 20, 86_500)
    assert before.stay.model_copy(update={"sanction": None}) == after.stay.model_copy(
        update={"sanction": None}
    )


def test_2025_06_19_russian_overstaying_5_days_is_fined_10_mci_by_the_law_then_in_force(
    baseline: rules.Evaluator, amended: dict[str, rules.Evaluator]
) -> None:
    before, after = _both(baseline, amended, FINES_DOUBLED, RU_95_IN_2025, dt.date(2025, 6, 19))
    assert before.stay.overstay_days == 5
    assert _fine(before) == _fine(after) == ("fine", 10, 39_320)


# 17 Mar - 19 Jun 2025, then left: the same 5 overstay days, the offence's last day 19 Jun 2025.
RU_95_LEFT_IN_2025 = _person("RU-95-LEFT", "RU", [("2025-03-17", "2025-06-19")])
#: An amendment that lowers the fine of art. 517 part 3 (more than 3, up to 5 days) to 5 MCI
#: from 1 Jan 2026: a milder law.
FINE_HALVED = """schema: kzmig/policy/2
title: "Test: the fine of art. 517 part 3 lowered to 5 MCI from 1 January 2026"
x-sources:
  test: &test {title: A hypothetical amendment for a test, href: "https://adilet.zan.kz/rus/docs/K1400000235"}
parameters:
  sanction.fine_mci:
    description: The fine of art. 517 part 3 for more than 3 and up to 5 days.
    unit: MCI
    values:
      - {from: 2023-01-27, value: 10, source: *test}
      - {from: 2026-01-01, value: 5, source: *test}
"""


def test_2026_03_20_an_overstay_that_ended_in_2025_keeps_its_10_mci_fine_under_doubled_fines(
    baseline: rules.Evaluator, amended: dict[str, rules.Evaluator]
) -> None:
    """A law that increases liability has no retroactive force (Code art. 5 part 2)."""
    before, after = _both(baseline, amended, FINES_DOUBLED, RU_95_LEFT_IN_2025, dt.date(2026, 3, 20))
    assert before.stay.overstay_days == 5
    assert _fine(before) == _fine(after) == ("fine", 10, 39_320)  # the MCI of 19 Jun 2025


def test_2026_03_20_an_overstay_of_2025_is_fined_5_mci_under_a_milder_law_of_2026() -> None:
    """A law that mitigates liability has retroactive force (Code art. 5 part 1): the offence of
    June 2025 judged in March 2026 is fined by the milder law; judged in 2025, by the law then."""
    from rules.policy.loader import AmendmentText

    milder = rules.Evaluator(rules.load_policy(amendments=[AmendmentText(FINE_HALVED, "fine-halved.yaml")]))
    assert _fine(milder.evaluate(RU_95_LEFT_IN_2025, dt.date(2026, 3, 20))) == ("fine", 5, 5 * 3_932)
    assert _fine(milder.evaluate(RU_95_LEFT_IN_2025, dt.date(2025, 12, 31))) == ("fine", 10, 39_320)
    # the trace shows both readings of the parameter
    [entry] = [
        e
        for e in milder.evaluate(RU_95_LEFT_IN_2025, dt.date(2026, 3, 20)).trace
        if e.rule == "sanction.fine"
    ]
    [derivation] = [d for d in entry.derivations if d.fact == "sanction.applied_fine_mci"]
    assert derivation.operands == {
        "stay.overstay_period_end": "2025-06-19",
        "parameter sanction.fine_mci on 2025-06-19": 10,
        "parameter sanction.fine_mci": 5,
    }


def test_2026_03_20_a_compliant_traveller_is_not_evaluated_again_under_doubled_fines(
    baseline: rules.Evaluator, amended: dict[str, rules.Evaluator], monkeypatch: pytest.MonkeyPatch
) -> None:
    """The sanction programme was ruled out of the baseline evaluation by its guard (the stay is
    compliant), and the fines are all the amendment changes: nothing can differ, so a population
    run does not evaluate the record again. The overstayer is evaluated again."""
    from rules.analysis.impact import Comparison

    evaluator = amended[FINES_DOUBLED.name]
    comparison = Comparison(baseline, evaluator, skip_unaffected=True)
    calls: list[str] = []
    original = evaluator.evaluate_case

    def counted(person: Any, *args: Any, **kwargs: Any) -> Any:
        calls.append(person["person_id"] if isinstance(person, dict) else person.person_id)
        return original(person, *args, **kwargs)

    monkeypatch.setattr(evaluator, "evaluate_case", counted)
    on = dt.date(2026, 3, 20)
    assert comparison.affected(RU_10_IN_2026.keys(), on)  # read statically, the fines reach everyone
    unchanged = comparison.compare(RU_10_IN_2026, on)
    assert (unchanged.changed, unchanged.after.policy.version) == ((), evaluator.policy.version)
    assert calls == []
    changed = comparison.compare(RU_94_IN_2026, on)
    assert changed.changed == ("stay.sanction.values.fine_mci", "stay.sanction.values.fine_kzt")
    assert calls == ["RU-94-2026"]  # once: the trace of the why is built from that evaluation


# --- every amendment ---------------------------------------------------------------------------


def test_every_example_amendment_is_tested() -> None:
    assert {path.name for path in AMENDMENTS.glob("*.yaml")} == TESTED


def test_each_amendment_gives_a_policy_version_of_its_own(
    baseline: rules.Evaluator, amended: dict[str, rules.Evaluator]
) -> None:
    versions = {name: evaluator.policy.version for name, evaluator in amended.items()}
    assert baseline.policy.version not in versions.values()
    assert len(set(versions.values())) == len(versions)
    verdict = amended[KYRGYZ.name].evaluate(KG_SINCE_JANUARY_2026, dt.date(2026, 5, 1))
    assert verdict.policy.version == versions[KYRGYZ.name]


def test_every_amendment_value_and_rule_carries_a_source_and_a_start_date() -> None:
    for path in sorted(AMENDMENTS.glob("*.yaml")):
        policy = rules.load_policy(amendments=[path])
        assert path.name in policy.files[-1]
        for parameter in policy.parameters.values():
            assert all(value.source.href.startswith("https://") for value in parameter.values)
        for rule in policy.rules:
            assert rule.source.title and rule.start


def test_2026_05_01_kyrgyz_amendment_through_the_cli_gives_not_applicable(tmp_path: Path) -> None:
    person = tmp_path / "kg.json"
    person.write_text(json.dumps(KG_SINCE_JANUARY_2026), encoding="utf-8")
    args = ["check", str(person), "--on", "2026-05-01", "--format", "json", "--amend", str(KYRGYZ)]
    result = CliRunner().invoke(app, args)
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout)["stay"]["status"] == "not_applicable"
