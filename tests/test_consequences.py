"""What follows from an overstay: art. 517 sanctions, refusal of entry (art. 48) and the Kyrgyz
suspensions, and the exception semantics they rely on."""

from __future__ import annotations

import datetime as dt
import shutil
from pathlib import Path
from typing import Any

import pytest

import rules
from models import StayStatus

ROOT = Path(__file__).resolve().parents[1]
D = dt.date


def russian_from_1_january_2025_leaving(exit_day: dt.date, citizenship: str = "RU") -> dict[str, Any]:
    return {
        "person_id": "S",
        "citizenship": citizenship,
        "trips": [{"entry": "2025-01-01", "exit": exit_day}],
    }


def back_the_next_day(first: str, last: str, again: str, citizenship: str) -> dict[str, Any]:
    return {
        "person_id": "E",
        "citizenship": citizenship,
        "trips": [{"entry": first, "exit": last}, {"entry": again}],
    }


# --- art. 517: both sides of each tier (31 Mar 2025 is the 90th day from 1 Jan 2025) ----------


def fined(mci: int, kzt: int) -> dict[str, Any]:
    return {"fine_mci": mci, "fine_kzt": kzt}


@pytest.mark.parametrize(
    ("exit_day", "overstay", "status", "rule", "part", "amounts"),
    [
        (D(2025, 3, 31), 0, None, None, None, None),
        (D(2025, 4, 1), 1, "warning", "sanction.warning", 3, {}),
        (D(2025, 4, 3), 3, "warning", "sanction.warning", 3, {}),
        (D(2025, 4, 4), 4, "fine", "sanction.fine", 3, fined(10, 39320)),
        (D(2025, 4, 5), 5, "fine", "sanction.fine", 3, fined(10, 39320)),
        (D(2025, 4, 6), 6, "fine", "sanction.fine_longer", 3, fined(15, 58980)),
        (D(2025, 4, 10), 10, "fine", "sanction.fine_longer", 3, fined(15, 58980)),
        (
            D(2025, 4, 11),
            11,
            "fine_or_expulsion",
            "sanction.evading_departure",
            4,
            {**fined(25, 98300), "entry_ban_years": 5},
        ),
    ],
    ids=[
        "90-days-none",
        "1-day-warning",
        "3-days-warning",
        "4-days-10-mci",
        "5-days-10-mci",
        "6-days-15-mci",
        "10-days-15-mci",
        "11-days-25-mci-or-expulsion",
    ],
)
def test_2025_04_20_russian_overstay_gets_the_art_517_tier_of_its_length(
    exit_day: dt.date,
    overstay: int,
    status: str | None,
    rule: str | None,
    part: int | None,
    amounts: dict[str, Any] | None,
) -> None:
    verdict = rules.evaluate(russian_from_1_january_2025_leaving(exit_day), on=D(2025, 4, 20))
    assert verdict.stay.overstay_days == overstay
    if status is None:
        assert verdict.stay.sanction is None
        return
    sanction = verdict.stay.sanction
    assert sanction is not None and (sanction.status, sanction.rule) == (status, rule)
    offence = {
        "provision": f"art. 517 part {part}",
        "start": "2025-04-01",
        "end": exit_day.isoformat(),
        "days": overstay,
    }
    assert sanction.values == {"offence": offence, **(amounts or {})}
    assert sanction.missing == ("penalties.imposed",)  # no list of penalties: no repeat checked
    assert not sanction.provisional
    entry = next(e for e in verdict.trace if e.rule == rule)
    assert entry.decisive and entry.source.href.endswith("K1400000235")
    assert entry.source.date == D(2014, 7, 5)


def test_2025_04_20_evading_departure_leaves_the_choice_of_fine_or_expulsion_to_the_judge() -> None:
    verdict = rules.evaluate(russian_from_1_january_2025_leaving(D(2025, 4, 11)), on=D(2025, 4, 20))
    sanction = verdict.stay.sanction
    assert sanction is not None and sanction.status == "fine_or_expulsion"
    assert (sanction.values["fine_mci"], sanction.values["entry_ban_years"]) == (25, 5)
    assert sanction.note is not None and "both" in sanction.note
    assert not any("provisional" in warning for warning in verdict.warnings)


@pytest.mark.parametrize(
    ("on", "kzt"),
    [(D(2025, 12, 31), 39320), (D(2026, 1, 1), 39320), (D(2026, 6, 1), 39320)],
    ids=["assessed-2025", "assessed-1-january-2026", "assessed-june-2026"],
)
def test_fine_for_a_2025_offence_is_converted_with_the_2025_mci_whenever_assessed(
    on: dt.date, kzt: int
) -> None:
    verdict = rules.evaluate(russian_from_1_january_2025_leaving(D(2025, 4, 4)), on=on)
    assert verdict.stay.sanction is not None
    assert verdict.stay.sanction.values["fine_kzt"] == kzt


@pytest.mark.parametrize(
    ("entry", "exit_day", "kzt"),
    [("2024-09-29", "2024-12-31", 36920), ("2024-09-30", "2025-01-01", 39320)],
    ids=["run-ends-31-december-2024-mci-3692", "run-ends-1-january-2025-mci-3932"],
)
def test_fine_takes_the_mci_of_the_last_day_of_the_overstay(entry: str, exit_day: str, kzt: int) -> None:
    # 94 days of stay: 4 overstay days (the 91st-94th), 10 MCI at the MCI of the run's last day.
    person = {"person_id": "S", "citizenship": "RU", "trips": [{"entry": entry, "exit": exit_day}]}
    verdict = rules.evaluate(person, on=D(2025, 2, 1))
    assert verdict.stay.overstay_periods[-1].days == 4
    assert verdict.stay.sanction is not None
    assert verdict.stay.sanction.values["fine_kzt"] == kzt


def test_2023_05_10_fine_of_10_mci_is_34_500_tenge_at_the_mci_of_2023() -> None:
    # 1 Feb - 5 May 2023 = 94 days: 4 overstay days, a fine of 10 MCI; MCI 2023 = 3,450 tenge.
    person = {"person_id": "S", "citizenship": "RU", "trips": [{"entry": "2023-02-01", "exit": "2023-05-05"}]}
    for on in (D(2023, 5, 10), D(2024, 3, 1)):
        verdict = rules.evaluate(person, on=on)
        assert verdict.stay.sanction is not None
        assert (verdict.stay.sanction.values["fine_mci"], verdict.stay.sanction.values["fine_kzt"]) == (
            10,
            34500,
        )


def test_2031_05_10_fine_on_a_day_without_an_mci_gives_no_tenge_figure_and_says_why(tmp_path: Path) -> None:
    amendment = tmp_path / "no-mci.yaml"
    amendment.write_text(
        "schema: kzmig/policy/2\ntitle: The MCI ends in 2031\nparameters:\n  money.mci_kzt:\n"
        "    description: The MCI in tenge.\n    values:\n"
        f"      - {{from: 2023-01-01, value: 3450, source: {SOURCE}}}\n"
        f"      - {{from: 2031-01-01, value: null, source: {SOURCE}}}\n",
        encoding="utf-8",
    )
    policy = rules.load_policy(amendments=[amendment])
    person = {"person_id": "S", "citizenship": "RU", "trips": [{"entry": "2031-02-01", "exit": "2031-05-05"}]}
    verdict = rules.evaluate(person, on=D(2031, 5, 10), policy=policy)
    assert verdict.stay.sanction is not None
    assert (verdict.stay.sanction.values["fine_mci"], verdict.stay.sanction.values["fine_kzt"]) == (10, None)
    assert "parameter money.mci_kzt has no value on 2031-05-05: the figure is left out" in verdict.warnings


def test_sanction_is_for_the_latest_overstay_period_only() -> None:
    # 36 days on a 30-day entry (6 overstay days) in January, then 93 days from 1 Oct 2024
    person = {
        "person_id": "S",
        "citizenship": "US",
        "trips": [{"entry": "2024-01-01", "exit": "2024-01-31"}],
    }
    verdict = rules.evaluate(person, on=D(2024, 3, 1))
    assert verdict.stay.overstay_periods[-1].days == 1
    assert verdict.stay.sanction is not None and verdict.stay.sanction.status == "warning"


def test_a_visa_holder_today_gets_no_sanction_for_a_past_overstay() -> None:
    person = russian_from_1_january_2025_leaving(D(2025, 4, 6), citizenship="US")
    person["statuses"] = [{"kind": "visa", "valid_from": "2025-06-01", "valid_to": "2025-12-31"}]
    verdict = rules.evaluate(person, on=D(2025, 6, 10))
    assert verdict.stay.status == StayStatus.NOT_APPLICABLE
    assert verdict.stay.sanction is None and verdict.stay.entry_check is None


# --- art. 48: refusal of entry, both sides ------------------------------------------------------


def test_2025_04_01_russian_back_after_89_days_is_admitted() -> None:
    verdict = rules.evaluate(
        back_the_next_day("2025-01-01", "2025-03-30", "2025-04-01", "RU"), on=D(2025, 4, 1)
    )
    assert verdict.stay.days_used == 90
    assert verdict.stay.entry_check is not None and verdict.stay.entry_check.status == "admitted"


def test_2025_04_01_russian_back_after_90_days_is_refused_and_not_sanctioned_for_that_day() -> None:
    verdict = rules.evaluate(
        back_the_next_day("2025-01-01", "2025-03-31", "2025-04-01", "RU"), on=D(2025, 4, 1)
    )
    assert verdict.stay.days_used == 91
    assert verdict.stay.entry_check is not None and verdict.stay.entry_check.status == "refused"
    assert verdict.stay.sanction is None
    set_aside = {e.rule: e.overridden_by for e in verdict.trace if e.overridden_by}
    assert set_aside == {"sanction.warning": "entry.refusal"}


def test_no_entry_decision_on_a_day_without_an_entry() -> None:
    verdict = rules.evaluate(
        back_the_next_day("2025-01-01", "2025-03-31", "2025-04-01", "RU"), on=D(2025, 4, 2)
    )
    assert verdict.stay.entry_check is None


@pytest.mark.parametrize(
    ("first", "last", "again", "expected"),
    [
        ("2024-06-03", "2024-08-31", "2024-09-01", "suspended"),  # last day of the first suspension
        ("2024-06-04", "2024-09-01", "2024-09-02", "suspended"),  # first day of the second
        ("2025-06-03", "2025-08-31", "2025-09-01", "suspended"),  # last day of the second
        ("2025-06-04", "2025-09-01", "2025-09-02", "refused"),  # the refusal applies again
    ],
    ids=["2024-09-01", "2024-09-02", "2025-09-01", "2025-09-02"],
)
def test_kyrgyz_citizen_over_the_limit_at_entry_is_refused_only_after_1_september_2025(
    first: str, last: str, again: str, expected: str
) -> None:
    on = dt.date.fromisoformat(again)
    verdict = rules.evaluate(back_the_next_day(first, last, again, "KG"), on=on)
    assert verdict.stay.days_used == 91
    assert verdict.stay.entry_check is not None and verdict.stay.entry_check.status == expected
    same_for_russian = rules.evaluate(back_the_next_day(first, last, again, "RU"), on=on)
    assert same_for_russian.stay.entry_check is not None
    assert same_for_russian.stay.entry_check.status == "refused"


def test_suspended_refusal_no_longer_sets_the_sanction_aside() -> None:
    verdict = rules.evaluate(
        back_the_next_day("2025-01-01", "2025-03-31", "2025-04-01", "KG"), on=D(2025, 4, 1)
    )
    set_aside = {e.rule: e.overridden_by for e in verdict.trace if e.overridden_by}
    assert set_aside == {"entry.refusal": "entry.refusal_suspended.kyrgyzstan_2025"}
    assert verdict.stay.sanction is not None and verdict.stay.sanction.status == "warning"


# --- the exception semantics the policy relies on ---------------------------------------------

HEADER = "schema: kzmig/policy/2\ntitle: Extra rules for a test\n"
SOURCE = "{title: A test source, href: https://example.org/law}"


def _policy_with(tmp_path: Path, rules_text: str) -> Path:
    directory = tmp_path / "kz"
    shutil.copytree(ROOT / "policies" / "kz", directory)
    (directory / "extra.yaml").write_text(HEADER + "rules:\n" + rules_text, encoding="utf-8")
    return directory


def test_overrides_forming_a_cycle_are_refused_with_the_cycle_named(tmp_path: Path) -> None:
    directory = _policy_with(
        tmp_path,
        f"  - {{id: stay.extra.a, title: Rule A, source: {SOURCE}, from: 2023-01-27,\n"
        "      overrides: [stay.extra.b]}\n"
        f"  - {{id: stay.extra.b, title: Rule B, source: {SOURCE}, from: 2023-01-27,\n"
        "      overrides: [stay.extra.a]}\n",
    )
    with pytest.raises(rules.PolicyError) as caught:
        rules.load_policy(directory)
    messages = [problem.message for problem in caught.value.problems]
    assert any("overrides form a cycle: stay.extra.a -> stay.extra.b -> stay.extra.a" in m for m in messages)


def test_a_sanction_rule_cannot_override_a_rule_of_the_stay_limit(tmp_path: Path) -> None:
    directory = _policy_with(
        tmp_path,
        f"  - {{id: sanction.extra, title: A sanction rule, source: {SOURCE}, from: 2023-01-27, "
        "overrides: [stay.overstay]}\n",
    )
    with pytest.raises(rules.PolicyError) as caught:
        rules.load_policy(directory)
    (problem,) = caught.value.problems
    assert "cannot override 'stay.overstay': the 'stay' programme is decided first" in problem.message
    assert problem.where.endswith("at rules[0].overrides[0]")


def test_outcome_value_naming_an_unknown_parameter_is_refused(tmp_path: Path) -> None:
    directory = _policy_with(
        tmp_path,
        f"  - {{id: sanction.extra, title: A sanction rule, source: {SOURCE}, from: 2023-01-27, "
        "then: {status: fine, values: {fine_mci: {param: sanction.fine_mcj}}}}\n",
    )
    with pytest.raises(rules.PolicyError) as caught:
        rules.load_policy(directory)
    (problem,) = caught.value.problems
    assert problem.message == "unknown parameter 'sanction.fine_mcj' (did you mean 'sanction.fine_mci'?)"
    assert problem.where.endswith("at rules[0].then.values.fine_mci.param")


def test_a_stay_status_the_verdict_cannot_report_is_refused_on_load(tmp_path: Path) -> None:
    directory = tmp_path / "kz"
    shutil.copytree(ROOT / "policies" / "kz", directory)
    limits = directory / "stay-limit.yaml"
    limits.write_text(
        limits.read_text(encoding="utf-8").replace("exempt, compliant]", "exempt, tolerated, compliant]"),
        encoding="utf-8",
    )
    with pytest.raises(rules.PolicyError) as caught:
        rules.load_policy(directory)
    (problem,) = caught.value.problems
    assert "not tolerated" in problem.message and problem.where.endswith("programmes.stay.precedence")


def test_a_policy_without_a_stay_programme_is_refused_on_load(tmp_path: Path) -> None:
    directory = tmp_path / "kz"
    shutil.copytree(ROOT / "policies" / "kz", directory)
    for name in (
        "stay-limit.yaml",
        "exemptions-decree-80.yaml",
        "sanctions-art-517.yaml",
        "refusal-of-entry.yaml",
    ):
        (directory / name).unlink()
    with pytest.raises(rules.PolicyError) as caught:
        rules.load_policy(directory)
    messages = [problem.message for problem in caught.value.problems]
    assert "the verdict's 'stay' section needs a programme 'stay'" in messages
