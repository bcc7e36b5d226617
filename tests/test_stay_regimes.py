"""The stay regime of every nationality (table stay.regime_of_citizenship -> stay.regimes).

Every ISO 3166-1 code has a dated, sourced row; a visa national is outside the limit with the
rule that says why; a code with no row is undetermined naming the gap of the policy; each
regime's per-entry cap and window total judge the days of its people, from the right date; a
provisional regime value is announced in every verdict that counts under it; a change of regime
within a record follows the policy's decisions (docs/law-notes.md, "Regimes").
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pycountry
import pytest

import rules
from models import _countries
from models._countries import is_country_code
from models.verdict import Verdict
from rules.engine.evaluator import parse_person
from rules.policy.loader import AmendmentText

D = dt.date
LIMIT_STARTS = D(2023, 1, 27)
POLICY = rules.load_policy()
REGIME_OF = POLICY.tables["stay.regime_of_citizenship"].rows
SIXTY_DAYS = Path(__file__).resolve().parents[1] / "examples" / "amendments" / "limit-60-days.yaml"


def person(citizenship: str, *trips: tuple[str, str | None]) -> dict[str, Any]:
    return {
        "person_id": f"{citizenship}-1",
        "citizenship": citizenship,
        "trips": [{"entry": entry, **({"exit": exit_} if exit_ else {})} for entry, exit_ in trips],
    }


def decisive(verdict: Verdict) -> list[str]:
    return [entry.rule for entry in verdict.trace if entry.decisive and entry.rule.startswith("stay.")]


# --- the table ------------------------------------------------------------------------------------


def test_every_key_of_the_regime_table_is_a_real_country_code() -> None:
    assert [code for code in REGIME_OF if not is_country_code(code)] == []


def test_the_codes_read_from_pycountrys_table_are_those_pycountry_gives() -> None:
    assert _countries._codes_of_table() == {country.alpha_2 for country in pycountry.countries}


def test_a_package_directory_is_found_by_name_and_a_module_or_a_missing_package_has_none() -> None:
    from models._packages import package_directory

    found = package_directory("pycountry")
    assert found is not None and (found / "databases" / "iso3166-1.json").is_file()
    assert package_directory("no_such_package_for_kzmig") is None
    assert package_directory("json.decoder") is None  # a module, not a package directory


@pytest.fixture
def country_table(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """A stand-in for pycountry's table of countries; the codes are read again afterwards."""
    package = tmp_path / "pycountry"
    (package / "databases").mkdir(parents=True)
    monkeypatch.setattr(_countries, "package_directory", lambda name: package)
    _countries._assigned.cache_clear()
    yield package / "databases" / "iso3166-1.json"
    _countries._assigned.cache_clear()


@pytest.mark.parametrize(
    "content",
    [
        b"",  # missing below: the file is not written
        b"\xff\xfe not text",
        b'{"3166-1": [{"alpha_2": "KZ"}, {"alpha_3": "RUS"}]}',
        b'{"3166-1": [{"alpha_2": "kz"}]}',
        b'{"3166-1": []}',
        b"[1, 2]",
    ],
    ids=["missing", "not-json", "entry-without-code", "lower-case-code", "empty", "not-a-table"],
)
def test_a_table_that_does_not_read_as_pycountrys_falls_back_to_the_package(
    country_table: Path, content: bytes
) -> None:
    if content:
        country_table.write_bytes(content)
    assert _countries._codes_of_table() is None
    assert is_country_code("KZ") and is_country_code("XK") and not is_country_code("ZZ")


def test_a_table_larger_than_its_bound_is_not_read(
    country_table: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    country_table.write_bytes(b'{"3166-1": [{"alpha_2": "KZ"}]}')
    assert _countries._codes_of_table() == {"KZ"}
    monkeypatch.setattr(_countries, "_TABLE_MAX_BYTES", 8)
    assert _countries._codes_of_table() is None


def test_every_iso_3166_nationality_has_a_regime_from_27_january_2023() -> None:
    """A caseworker never meets a gap for an ISO code; only Kosovo (XK, not ISO) has no row."""
    codes = {country.alpha_2 for country in pycountry.countries}
    assert sorted(codes - set(REGIME_OF)) == []
    assert "XK" not in REGIME_OF
    assert all(POLICY.row("stay.regime_of_citizenship", code, LIMIT_STARTS) is not None for code in codes)


def test_every_regime_row_cites_a_source_with_a_web_address() -> None:
    for code, values in REGIME_OF.items():
        for dated in values:
            assert dated.source.title and dated.source.href.startswith("https://"), code


def test_every_regime_has_a_per_entry_cap_and_a_window_total_or_null() -> None:
    for regime, values in POLICY.tables["stay.regimes"].rows.items():
        for dated in values:
            assert {"subject", "per_entry_days", "window_total_days"} <= set(dated.value), regime


# --- who is outside the limit, and why ------------------------------------------------------------


def test_2024_08_01_afghan_national_needs_a_visa_and_is_outside_the_limit_with_the_reason() -> None:
    verdict = rules.evaluate(person("AF", ("2024-04-01", "2024-07-09")), on=D(2024, 8, 1))
    assert verdict.stay.status == "not_applicable"
    assert verdict.stay.regime == "visa_required"
    assert decisive(verdict) == ["stay.visa_national"]
    entry = next(e for e in verdict.trace if e.rule == "stay.visa_national")
    assert "visa" in entry.title and entry.source.href.startswith("https://")


def test_2024_08_01_kosovar_national_has_no_row_and_is_undetermined_naming_table_key_and_date() -> None:
    verdict = rules.evaluate(person("XK", ("2024-07-20", None)), on=D(2024, 8, 1))
    assert verdict.stay.status == "undetermined"
    assert verdict.stay.missing == ()  # nothing a caseworker could supply
    gap = verdict.stay.policy_gaps[0]
    assert (gap.table, gap.key, gap.on) == ("stay.regime_of_citizenship", "XK", D(2024, 8, 1))
    shown = verdict.model_dump(mode="json", by_alias=True)["stay"]["policy_gaps"][0]
    assert shown["table"] == "stay.regime_of_citizenship" and shown["key"] == "XK"


def test_2022_12_01_before_the_limit_a_nationality_without_a_row_names_no_gap() -> None:
    verdict = rules.evaluate(person("XK", ("2022-11-20", None)), on=D(2022, 12, 1))
    assert verdict.stay.status == "not_applicable"
    assert verdict.stay.policy_gaps == ()


# --- each regime from the right date --------------------------------------------------------------


@pytest.mark.parametrize(
    ("citizenship", "on", "regime", "per_entry", "limit"),
    [
        ("UZ", D(2024, 5, 1), "visa_free", 30, 90),
        ("CN", D(2023, 11, 9), "visa_free_14_42", 14, 42),
        ("CN", D(2023, 11, 10), "visa_free", 30, 90),
        ("TR", D(2025, 8, 24), "visa_free", 30, 90),
        ("TR", D(2025, 8, 25), "visa_free_90", 90, 90),
        ("IN", D(2024, 5, 1), "visa_free_14_42", 14, 42),
        ("IR", D(2025, 9, 1), "visa_free_14_42", 14, 42),
        ("GE", D(2024, 5, 1), "visa_free_90", 90, 90),
        ("HK", D(2024, 5, 1), "visa_free_14", 14, 90),
        ("RU", D(2024, 5, 1), "eaeu", None, 90),
    ],
)
def test_the_regime_in_force_on_the_day_gives_its_per_entry_cap_and_window_total(
    citizenship: str, on: D, regime: str, per_entry: int | None, limit: int
) -> None:
    stay = rules.evaluate(person(citizenship, (on.isoformat(), None)), on=on).stay
    assert (stay.regime, stay.per_entry_limit, stay.limit) == (regime, per_entry, limit)


def test_2023_11_09_chinese_15th_day_of_an_entry_overstays_and_from_10_november_one_may_last_30() -> None:
    old = rules.evaluate(person("CN", ("2023-10-26", None)), on=D(2023, 11, 9)).stay
    assert (old.status, old.overstay_days) == ("overstay", 1)
    new = rules.evaluate(person("CN", ("2023-11-10", None)), on=D(2023, 11, 10)).stay
    assert new.latest_exit == D(2023, 12, 9)  # 30 days: 10 Nov to 9 Dec


def test_2024_04_01_indian_national_may_stay_to_the_42nd_day_in_180_and_no_further() -> None:
    stay = rules.evaluate(
        person("IN", ("2024-01-01", "2024-01-14"), ("2024-02-01", "2024-02-14"), ("2024-03-25", None)),
        on=D(2024, 3, 25),
    ).stay
    assert stay.days_used == 29 and stay.latest_exit == D(2024, 4, 7)  # 28 + 14 = 42


def test_a_provisional_regime_value_is_announced_in_every_verdict_that_counts_under_it() -> None:
    before = rules.evaluate(person("IR", ("2025-07-01", "2025-07-10")), on=D(2025, 7, 20))
    assert not any("provisional" in warning and "stay.regimes" in warning for warning in before.warnings)
    after = rules.evaluate(person("IR", ("2025-09-01", "2025-09-10")), on=D(2025, 9, 20))
    assert any("table stay.regimes row visa_free_14_42 is provisional" in w for w in after.warnings)


# --- a change of regime within a record -----------------------------------------------------------

_VISA_THEN_FREE = """
schema: kzmig/policy/2
title: "Test: a nationality that needs a visa until 31 Dec 2023 and is visa-free from 1 Jan 2024"
x-sources:
  s: &s {title: "Test source for a change of regime", href: "https://adilet.zan.kz/rus/docs/P1200000148"}
tables:
  stay.regime_of_citizenship:
    description: Two nationalities only.
    key: citizenship
    rows:
      KZ: [{from: 2023-01-27, value: citizen, source: *s}]
      VN:
        - {from: 2023-01-27, value: visa_required, source: *s}
        - {from: 2024-01-01, value: visa_free, source: *s}
"""


def test_2024_01_20_days_of_a_stay_entered_on_a_visa_are_not_counted_once_visa_free() -> None:
    """The regime of the entry day decides whether a trip counts: 60 days entered on a visa in
    Nov 2023 stay outside the count even after 1 Jan 2024; the next entry is counted."""
    policy = rules.load_policy(amendments=[AmendmentText(_VISA_THEN_FREE, "visa-then-free")])
    record = person("VN", ("2023-11-01", "2023-12-30"), ("2024-01-05", None))
    verdict = rules.evaluate(record, on=D(2024, 1, 20), policy=policy)
    assert verdict.stay.status == "compliant"
    assert verdict.stay.days_used == 16  # 5 - 20 Jan only
    assert any("1 trip(s) entering on 2023-11-01" in warning for warning in verdict.warnings)
    on_visa = rules.evaluate(record, on=D(2023, 12, 1), policy=policy)
    assert on_visa.stay.status == "not_applicable"


def test_2024_01_10_a_person_still_on_a_stay_entered_on_a_visa_is_present_though_no_day_is_counted() -> None:
    policy = rules.load_policy(amendments=[AmendmentText(_VISA_THEN_FREE, "visa-then-free")])
    evaluator = rules.Evaluator(policy)
    stay = evaluator.mechanism("stay")
    record = parse_person(person("VN", ("2023-12-20", None)), policy)
    derived = stay.derive(record, D(2024, 1, 10))
    assert derived.facts["present"] is True and derived.facts["days_used"] == 0


def test_2026_03_01_60_day_amendment_lowers_the_general_limit_and_42_in_180_stays() -> None:
    policy = rules.load_policy(amendments=[SIXTY_DAYS])
    american = rules.evaluate(person("US", ("2026-03-01", None)), on=D(2026, 3, 1), policy=policy).stay
    indian = rules.evaluate(person("IN", ("2026-03-01", None)), on=D(2026, 3, 1), policy=policy).stay
    assert (american.limit, indian.limit) == (60, 42)


# --- registration by regime -----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("citizenship", "procedure"),
    [
        ("TR", "self_registration"),
        ("GE", "self_registration"),
        ("UZ", "self_registration"),
        ("IN", "host_notification"),
        ("AF", "host_notification"),
    ],
)
def test_2026_07_10_people_of_90_day_regimes_self_register_and_the_others_are_notified_by_the_host(
    citizenship: str, procedure: str
) -> None:
    due = rules.evaluate(person(citizenship, ("2026-07-10", None)), on=D(2026, 7, 10)).stay.registration
    assert due is not None and due.procedure == procedure


def test_a_regime_row_for_a_code_that_is_no_country_is_refused_at_its_place() -> None:
    wrong = _VISA_THEN_FREE.replace("      VN:\n", "      QQ:\n")
    with pytest.raises(rules.PolicyError) as error:
        rules.load_policy(amendments=[AmendmentText(wrong, "wrong-code")])
    assert any("'QQ' is not an ISO 3166-1 alpha-2 country code" in p.message for p in error.value.problems)
