"""The kandas five-year social contract (``policies/kz/social-contract.yaml``), through
``rules.evaluate`` with the shipped policy and the four what-if amendments of
``examples/amendments/social-contract-*.yaml``.

The term, the departure, the status and the sums are checked against an independent computation
written here: the tables and parameters are read from the loaded policy (``policy.tables`` /
``policy.parameters``), but the fifth anniversary (``calendar``), the first early move, the
refundable payments and their sum, and the pro-rata share are this file's own arithmetic. The
anniversary, the evaluation date and the ledger caps are checked on both sides, hand-computed.
Each policy is loaded once per module.
"""

from __future__ import annotations

import calendar
import copy
import datetime as dt
import functools
from pathlib import Path
from typing import Any

import pytest
from budget import examples
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st
from test_compare import same_when_skipping

import rules
from models.verdict import Verdict
from rules import InputError, Policy
from rules.analysis.impact import Comparison

ROOT = Path(__file__).resolve().parents[1]
AMENDMENTS = ROOT / "examples" / "amendments"
PRO_RATA = "social-contract-pro-rata.yaml"
EXCEPTION_GROUNDS = "social-contract-exception-grounds.yaml"
ULYTAU = "social-contract-ulytau-region-from-july-2026.yaml"
CERTIFICATE_KEPT = "social-contract-housing-certificate-non-refundable.yaml"
PROPERTY_SETTINGS = settings(
    max_examples=examples(100), deadline=None, suppress_health_check=[HealthCheck.too_slow]
)
#: For the properties of the amendments, each a variation of the ones of the shipped policy.
AMENDMENT_SETTINGS = settings(
    max_examples=examples(60), deadline=None, suppress_health_check=[HealthCheck.too_slow]
)

POLICY: Policy = rules.load_policy()
TERM_YEARS = 5
RELOCATION_MCI_PER_MEMBER = 70
CERTIFICATE_CAP_MCI = ((dt.date(2023, 6, 22), 1160), (dt.date(2026, 1, 1), 1625))
RELOCATION_TEXT = (
    "a relocation subsidy in the ledger is above the limit per family member in force when it was paid"
)
CERTIFICATE_TEXT = "a housing certificate in the ledger is above the cap in force when it was paid"


@functools.cache
def amended(*names: str) -> Policy:
    """The shipped policy with the named amendments of ``examples/amendments``, loaded once."""
    return rules.load_policy(amendments=[AMENDMENTS / name for name in names])


# --- reading the policy ---------------------------------------------------------------------------


def in_force(values: list[Any], day: dt.date) -> Any:
    """The value of a list of dated values in force on ``day``."""
    found = [dated.value for dated in values if dated.start <= day]
    assert found, f"nothing in force on {day}"
    return found[-1]


def row(policy: Policy, table: str, key: str, day: dt.date) -> Any:
    return in_force(policy.tables[table].rows[key], day)


def mci(day: dt.date) -> int:
    value: int = in_force(POLICY.parameters["money.mci_kzt"].values, day)
    return value


REGIONS = sorted(POLICY.tables["country.regions"].rows)
KINDS = sorted(POLICY.tables["social_contract.support_kinds"].rows)
LABOUR_DEFICIENT = sorted(
    region
    for region in POLICY.tables["social_contract.labour_deficient_regions"].rows
    if row(POLICY, "social_contract.labour_deficient_regions", region, dt.date(2025, 1, 1)) is True
)
MCI_YEARS = sorted(
    {dated.start.year for dated in POLICY.parameters["money.mci_kzt"].values if dated.start.year >= 2025}
)


def test_the_policy_read_by_this_file_is_the_one_described_by_the_sources():
    assert len(LABOUR_DEFICIENT) == 8
    assert "pavlodar" in LABOUR_DEFICIENT and "almaty_city" not in LABOUR_DEFICIENT
    assert len(REGIONS) == 20
    assert set(KINDS) == {"relocation_subsidy", "rent_subsidy", "housing_certificate", "employer_subsidy"}
    assert in_force(POLICY.parameters["social_contract.term_years"].values, dt.date(2025, 1, 1)) == TERM_YEARS
    caps = POLICY.parameters["social_contract.housing_certificate_cap_mci"].values
    assert tuple((dated.start, dated.value) for dated in caps) == CERTIFICATE_CAP_MCI
    assert MCI_YEARS[:2] == [2025, 2026]


# --- an independent computation -------------------------------------------------------------------


def anniversary(day: dt.date, years: int) -> dt.date:
    """The anniversary ``years`` after ``day``; 29 February falls on 28 February in a common year."""
    year = day.year + years
    if (day.month, day.day) == (2, 29) and not calendar.isleap(year):
        return dt.date(year, 2, 28)
    return day.replace(year=year)


def day_of(text: str) -> dt.date:
    return dt.date.fromisoformat(text)


def expected(contract: dict[str, Any], on: dt.date, policy: Policy = POLICY) -> dict[str, Any]:
    """What the section should say, computed here: the term end, the first early move, the status
    and the refundable payments made by ``on``."""
    signed = day_of(contract["signed"])
    term_ends = anniversary(signed, TERM_YEARS)
    early = [
        move
        for move in contract["moves"]
        if move["region"] != contract["host_region"] and signed <= day_of(move["on"]) < term_ends
        if day_of(move["on"]) <= on
    ]
    departure = min(early, key=lambda move: day_of(move["on"])) if early else None  # the first of a tie
    items = [
        payment
        for payment in contract["support"]
        if day_of(payment["paid_on"]) <= on
        if row(policy, "social_contract.support_kinds", payment["kind"], signed)["refundable"] is True
    ]
    if departure is not None:
        status = "refund_due"
    elif on >= term_ends:
        status = "completed"
    else:
        status = "in_term"
    return {
        "signed": signed,
        "term_ends": term_ends,
        "term_days": (term_ends - signed).days,
        "departure": departure,
        "status": status,
        "items": items,
        "refundable": sum(payment["amount_kzt"] for payment in items),
    }


def verdict_of(contract: dict[str, Any], on: dt.date, policy: Policy | None = None) -> Verdict:
    return rules.evaluate({"person_id": "KD", "social_contract": contract}, on=on, policy=policy)


def section_of(contract: dict[str, Any], on: dt.date, policy: Policy | None = None) -> dict[str, Any]:
    """The social-contract section, as JSON."""
    section = verdict_of(contract, on, policy).section("social_contract")
    assert section is not None
    return section.model_dump(mode="json")


def the_warnings(contract: dict[str, Any], on: dt.date, policy: Policy | None = None) -> list[str]:
    return [text for text in verdict_of(contract, on, policy).warnings if text.startswith("social_contract")]


# --- random contracts -----------------------------------------------------------------------------


def near(draw: st.DrawFn, low: dt.date, high: dt.date, edges: list[dt.date]) -> dt.date:
    """A day from ``low`` to ``high``, one of the ``edges`` about a third of the time."""
    return draw(st.one_of(st.dates(low, high), st.dates(low, high), st.sampled_from(edges)))


@st.composite
def contracts(draw: st.DrawFn, host_regions: list[str] = LABOUR_DEFICIENT) -> tuple[dict[str, Any], dt.date]:
    """A contract of a family resettled to one of ``host_regions``, and an evaluation date on or
    after the day signed."""
    signed = draw(
        st.one_of(st.dates(dt.date(2025, 1, 1), dt.date(2029, 12, 31)), st.just(dt.date(2028, 2, 29)))
    )
    host = draw(st.sampled_from(host_regions))
    term_ends = anniversary(signed, TERM_YEARS)
    day = dt.timedelta(days=1)
    on = near(draw, signed, term_ends + dt.timedelta(days=800), [signed, term_ends - day, term_ends])
    edges = [signed - day, signed, on, on + day, term_ends - day, term_ends]
    moves = [
        {
            "on": near(draw, signed - dt.timedelta(days=400), term_ends + dt.timedelta(days=400), edges),
            "region": draw(st.one_of(st.sampled_from(REGIONS), st.just(host))),
        }
        for _ in range(draw(st.integers(0, 6)))
    ]
    payments = [
        {
            "kind": draw(st.sampled_from(KINDS)),
            "paid_on": near(
                draw, signed - dt.timedelta(days=200), on + dt.timedelta(days=400), [on, on + day]
            ),
            "amount_kzt": draw(st.integers(0, 5_000_000)),
        }
        for _ in range(draw(st.integers(0, 12)))
    ]
    contract = {
        "signed": signed.isoformat(),
        "host_region": host,
        "family_members": draw(st.integers(1, 8)),
        "moves": [{"on": move["on"].isoformat(), "region": move["region"]} for move in moves],
        "support": [{**payment, "paid_on": payment["paid_on"].isoformat()} for payment in payments],
    }
    return contract, on


#: The Pavlodar family of the examples: signed 2025-03-01, the term ends on 2030-03-01.
FAMILY: dict[str, Any] = {
    "signed": "2025-03-01",
    "host_region": "pavlodar",
    "family_members": 4,
    "moves": [{"on": "2026-02-10", "region": "pavlodar"}],
    "support": [
        {"kind": "relocation_subsidy", "paid_on": "2025-03-15", "amount_kzt": 1101000},
        {"kind": "rent_subsidy", "paid_on": "2025-04-01", "amount_kzt": 58980},
        {"kind": "housing_certificate", "paid_on": "2025-09-01", "amount_kzt": 4561120},
        {"kind": "employer_subsidy", "paid_on": "2025-05-01", "amount_kzt": 1572800},
    ],
}
FAMILY_REFUNDABLE = 1101000 + 58980 + 4561120  # 5,721,100: the employer subsidy is not returned


def family(**changes: Any) -> dict[str, Any]:
    """The Pavlodar family with ``changes`` (a value of ``None`` leaves the field out)."""
    found = copy.deepcopy(FAMILY)
    for key, value in changes.items():
        if value is None:
            del found[key]
        else:
            found[key] = copy.deepcopy(value)
    return found


def test_the_independent_computation_agrees_with_the_hand_computed_family():
    left = family(moves=[*FAMILY["moves"], {"on": "2027-06-01", "region": "almaty_city"}])
    found = expected(left, dt.date(2027, 7, 1))
    assert found["term_ends"] == dt.date(2030, 3, 1)
    assert found["term_days"] == 1826
    assert found["departure"] == {"on": "2027-06-01", "region": "almaty_city"}
    assert (found["status"], found["refundable"]) == ("refund_due", FAMILY_REFUNDABLE)
    assert anniversary(dt.date(2028, 2, 29), 5) == dt.date(2033, 2, 28)
    assert anniversary(dt.date(2028, 2, 29), 4) == dt.date(2032, 2, 29)


def assert_section_agrees(section: dict[str, Any], want: dict[str, Any], on: dt.date) -> None:
    assert section["status"] == want["status"]
    assert section["decided_by"] == [f"social_contract.{want['status']}"]
    assert (section["missing"], section["provisional"]) == ([], False)
    assert section["term_ends"] == want["term_ends"].isoformat()
    departure = want["departure"]
    if departure is None:
        assert section["departure"] is None
    else:
        assert section["departure"]["on"] == departure["on"]
        assert section["departure"]["region"] == departure["region"]
    shown = {
        "refund_due": {"refund_kzt", "refund_items"},
        "in_term": {"exposure_kzt", "exposure_items", "days_left"},
        "completed": set(),
    }[want["status"]]
    figures = {"refund_kzt", "refund_items", "exposure_kzt", "exposure_items", "days_left"}
    assert figures & set(section) == shown
    if want["status"] == "refund_due":
        assert section["refund_items"] == want["items"]
        assert section["refund_kzt"] == want["refundable"]
    if want["status"] == "in_term":
        assert section["exposure_items"] == want["items"]
        assert section["exposure_kzt"] == want["refundable"]
        assert section["days_left"] == (want["term_ends"] - on).days > 0
    timeline = {item["label"]: item["date"] for item in section["term"]}
    assert timeline == {
        "signed": want["signed"].isoformat(),
        "today": on.isoformat(),
        "term ends": want["term_ends"].isoformat(),
        **({"departure": departure["on"]} if departure is not None else {}),
    }
    assert [item["date"] for item in section["term"]] == sorted(item["date"] for item in section["term"])


@PROPERTY_SETTINGS
@given(drawn=contracts())
@example(drawn=(family(), dt.date(2026, 6, 1)))
@example(drawn=(family(moves=[{"on": "2028-02-29", "region": "atyrau"}]), dt.date(2030, 3, 1)))
@example(
    drawn=(family(signed="2028-02-29", moves=[{"on": "2033-02-28", "region": "abai"}]), dt.date(2033, 2, 28))
)
def test_status_term_and_refund_of_a_random_contract_agree_with_the_independent_computation(drawn):
    contract, on = drawn
    assert row(
        POLICY,
        "social_contract.labour_deficient_regions",
        contract["host_region"],
        day_of(contract["signed"]),
    )
    assert_section_agrees(section_of(contract, on), expected(contract, on), on)


# --- the pro-rata amendment -----------------------------------------------------------------------


def share(refundable: int, days_not_served: int, term_days: int) -> int:
    """The refundable sum times the days not served over the days of the term, rounded down."""
    return refundable * days_not_served // term_days


@PROPERTY_SETTINGS
@given(drawn=contracts())
@example(drawn=(family(moves=[{"on": "2027-06-01", "region": "almaty_city"}]), dt.date(2027, 7, 1)))
@example(drawn=(family(), dt.date(2026, 6, 1)))
def test_under_the_pro_rata_amendment_the_refund_is_the_share_of_the_term_not_served(drawn):
    contract, on = drawn
    want = expected(contract, on)
    section = section_of(contract, on, amended(PRO_RATA))
    assert section["status"] == want["status"]
    refundable, term_ends = want["refundable"], want["term_ends"]
    if want["status"] == "refund_due":
        not_served = (term_ends - day_of(want["departure"]["on"])).days
        assert section["refund_items"] == want["items"]
        assert section["refund_kzt"] == share(refundable, not_served, want["term_days"])
        assert 0 <= section["refund_kzt"] <= refundable
    if want["status"] == "in_term":
        assert section["exposure_items"] == want["items"]
        assert section["exposure_kzt"] == share(refundable, (term_ends - on).days, want["term_days"])
        assert 0 <= section["exposure_kzt"] <= refundable


def test_the_hand_computed_pro_rata_refund_of_the_family_is_3145665():
    # 5,721,100 x 1,004 / 1,826 = 3,145,665.7, rounded down.
    left = family(moves=[{"on": "2027-06-01", "region": "almaty_city"}])
    section = section_of(left, dt.date(2027, 7, 1), amended(PRO_RATA))
    assert (section["status"], section["refund_kzt"]) == ("refund_due", 3145665)
    assert share(FAMILY_REFUNDABLE, 1004, 1826) == 3145665


def test_under_the_pro_rata_amendment_the_exposure_on_the_fifth_anniversary_is_zero(tmp_path):
    # Reporting the exposure for every status (one key of the programme's report changed by a
    # second amendment) shows the pro-rata formula on the day the term ends: nothing is left.
    shown = tmp_path / "exposure-always.yaml"
    shown.write_text(
        "schema: kzmig/policy/2\ntitle: The exposure shown for every status\n"
        "programmes:\n  social_contract:\n    report:\n      exposure_kzt: social_contract.exposure_kzt\n",
        encoding="utf-8",
    )
    policy = rules.load_policy(amendments=[AMENDMENTS / PRO_RATA, shown])
    on_anniversary = section_of(family(), dt.date(2030, 3, 1), policy)
    assert (on_anniversary["status"], on_anniversary["exposure_kzt"]) == ("completed", 0)
    on_the_eve = section_of(family(), dt.date(2030, 2, 28), policy)
    assert (on_the_eve["status"], on_the_eve["exposure_kzt"]) == ("in_term", 5721100 // 1826)


@st.composite
def ledgers(draw: st.DrawFn) -> tuple[dt.date, list[dict[str, Any]]]:
    """A day signed and a ledger paid within the first year of the contract."""
    signed = draw(
        st.one_of(st.dates(dt.date(2025, 1, 1), dt.date(2029, 12, 31)), st.just(dt.date(2028, 2, 29)))
    )
    payments = [
        {
            "kind": draw(st.sampled_from(KINDS)),
            "paid_on": draw(st.dates(signed, signed + dt.timedelta(days=365))).isoformat(),
            "amount_kzt": draw(st.integers(0, 5_000_000)),
        }
        for _ in range(draw(st.integers(1, 12)))
    ]
    return signed, payments


@AMENDMENT_SETTINGS
@given(drawn=ledgers(), late=st.integers(0, 400))
def test_under_the_pro_rata_amendment_leaving_the_day_before_the_term_ends_returns_one_day_of_it(drawn, late):
    signed, payments = drawn
    term_ends = anniversary(signed, TERM_YEARS)
    eve = term_ends - dt.timedelta(days=1)
    contract = {
        "signed": signed.isoformat(),
        "host_region": "kostanay",
        "family_members": 3,
        "moves": [{"on": eve.isoformat(), "region": "almaty_city"}],
        "support": payments,
    }
    want = expected(contract, eve + dt.timedelta(days=late))
    section = section_of(contract, eve + dt.timedelta(days=late), amended(PRO_RATA))
    assert section["status"] == "refund_due"
    assert section["refund_kzt"] == want["refundable"] // want["term_days"]


@AMENDMENT_SETTINGS
@given(drawn=ledgers(), days=st.lists(st.integers(0, 2000), min_size=1, max_size=5))
def test_under_the_pro_rata_amendment_the_exposure_falls_as_the_term_runs_down_to_its_eve(drawn, days):
    signed, payments = drawn
    term_ends = anniversary(signed, TERM_YEARS)
    eve = term_ends - dt.timedelta(days=1)
    last_paid = max(day_of(payment["paid_on"]) for payment in payments)
    span = (eve - last_paid).days
    dates = sorted({last_paid + dt.timedelta(days=offset % (span + 1)) for offset in days} | {eve})
    contract = {
        "signed": signed.isoformat(),
        "host_region": "akmola",
        "family_members": 2,
        "moves": [],
        "support": payments,
    }
    policy = amended(PRO_RATA)
    exposures = [section_of(contract, on, policy)["exposure_kzt"] for on in dates]
    assert exposures == sorted(exposures, reverse=True)
    want = expected(contract, eve)
    assert exposures[-1] == want["refundable"] // want["term_days"]
    assert exposures[0] <= want["refundable"]


# --- both sides of the anniversary ----------------------------------------------------------------


@pytest.mark.parametrize(
    ("signed", "left", "on", "status", "term_ends"),
    [
        pytest.param(
            "2025-03-01", "2030-02-28", "2030-03-02", "refund_due", "2030-03-01", id="left the day before"
        ),
        pytest.param(
            "2025-03-01", "2030-03-01", "2030-03-02", "completed", "2030-03-01", id="left on the anniversary"
        ),
        pytest.param(
            "2025-03-01", "2030-03-01", "2030-03-01", "completed", "2030-03-01", id="seen on the anniversary"
        ),
        pytest.param(
            "2028-02-29", "2033-02-27", "2033-03-01", "refund_due", "2033-02-28", id="29 Feb, left 27 Feb"
        ),
        pytest.param(
            "2028-02-29", "2033-02-28", "2033-03-01", "completed", "2033-02-28", id="29 Feb, left 28 Feb"
        ),
    ],
)
def test_a_family_leaving_before_the_fifth_anniversary_returns_the_support_and_one_leaving_on_it_does_not(
    signed, left, on, status, term_ends
):
    contract = family(signed=signed, moves=[{"on": left, "region": "astana_city"}])
    contract["support"] = [{**payment, "paid_on": signed} for payment in FAMILY["support"]]
    section = section_of(contract, day_of(on))
    assert (section["status"], section["term_ends"]) == (status, term_ends)
    if status == "refund_due":
        assert section["refund_kzt"] == FAMILY_REFUNDABLE
        assert section["departure"] == {"on": left, "region": "astana_city"}
    else:
        assert section["departure"] is None
        assert "refund_kzt" not in section


def test_2033_02_27_a_contract_signed_on_29_february_2028_is_in_term_with_one_day_left():
    section = section_of(family(signed="2028-02-29", moves=[]), dt.date(2033, 2, 27))
    assert (section["status"], section["days_left"], section["term_ends"]) == ("in_term", 1, "2033-02-28")


def test_2033_02_28_a_contract_signed_on_29_february_2028_is_completed():
    assert section_of(family(signed="2028-02-29", moves=[]), dt.date(2033, 2, 28))["status"] == "completed"


# --- only what happened by the evaluation date is seen --------------------------------------------

MOVED_OUT = {"on": "2027-06-02", "region": "almaty_city"}


def test_2027_06_01_a_move_out_recorded_for_tomorrow_is_not_a_departure_yet():
    section = section_of(family(moves=[MOVED_OUT]), dt.date(2027, 6, 1))
    assert (section["status"], section["departure"]) == ("in_term", None)
    assert section["exposure_kzt"] == FAMILY_REFUNDABLE


def test_2027_06_02_the_move_out_on_the_day_is_a_departure_and_the_refund_is_due():
    section = section_of(family(moves=[MOVED_OUT]), dt.date(2027, 6, 2))
    assert (section["status"], section["departure"]) == ("refund_due", MOVED_OUT)
    assert section["refund_kzt"] == FAMILY_REFUNDABLE


def test_2027_07_01_of_two_moves_out_on_the_same_day_the_first_listed_is_the_departure():
    moves = [
        {"on": "2027-06-02", "region": "abai"},
        {"on": "2027-06-01", "region": "pavlodar"},
        {"on": "2027-06-01", "region": "almaty_city"},
        {"on": "2027-06-01", "region": "abai"},
    ]
    section = section_of(family(moves=moves), dt.date(2027, 7, 1))
    assert section["departure"] == {"on": "2027-06-01", "region": "almaty_city"}


def test_2027_07_01_a_payment_dated_after_the_evaluation_date_is_not_in_the_refund():
    later = {"kind": "rent_subsidy", "paid_on": "2027-07-02", "amount_kzt": 58980}
    contract = family(moves=[MOVED_OUT], support=[*FAMILY["support"], later])
    section = section_of(contract, dt.date(2027, 7, 1))
    assert section["refund_kzt"] == FAMILY_REFUNDABLE
    assert later not in section["refund_items"]
    assert section_of(contract, dt.date(2027, 7, 2))["refund_kzt"] == FAMILY_REFUNDABLE + 58980


def test_2026_06_01_a_payment_dated_after_the_evaluation_date_is_not_in_the_exposure():
    later = {"kind": "housing_certificate", "paid_on": "2026-06-02", "amount_kzt": 1}
    section = section_of(family(support=[*FAMILY["support"], later]), dt.date(2026, 6, 1))
    assert (section["status"], section["exposure_kzt"]) == ("in_term", FAMILY_REFUNDABLE)


@pytest.mark.parametrize(
    ("move", "status"),
    [
        pytest.param(
            {"on": "2025-02-28", "region": "almaty_city"}, "in_term", id="out the day before signing"
        ),
        pytest.param({"on": "2025-03-01", "region": "almaty_city"}, "refund_due", id="out on the day signed"),
        pytest.param({"on": "2027-06-01", "region": "pavlodar"}, "in_term", id="inside the host region"),
    ],
)
def test_2027_07_01_only_a_move_out_of_the_host_region_after_signing_is_a_departure(move, status):
    assert section_of(family(moves=[move]), dt.date(2027, 7, 1))["status"] == status


@pytest.mark.parametrize(
    ("changes", "status", "missing"),
    [
        pytest.param({"moves": None}, "undetermined", ["social_contract.moves"], id="no moves recorded"),
        pytest.param({"support": None}, "undetermined", ["social_contract.support"], id="no ledger"),
        pytest.param(
            {"moves": None, "host_region": "almaty_city"}, "not_applicable", [], id="not on the list"
        ),
        pytest.param({"moves": None, "signed": "2027-07-02"}, "not_applicable", [], id="signed tomorrow"),
    ],
)
def test_2027_07_01_a_missing_record_leaves_the_contract_undetermined_unless_it_is_not_under_the_quota(
    changes, status, missing
):
    section = section_of(family(**changes), dt.date(2027, 7, 1))
    assert (section["status"], section["missing"]) == (status, missing)


# --- ledger warnings ------------------------------------------------------------------------------


def listed(payment: dict[str, Any]) -> str:
    """A payment as a warning lists it: ``kind rent_subsidy, paid_on 2025-04-01, amount_kzt 58,980``."""
    return f"kind {payment['kind']}, paid_on {payment['paid_on']}, amount_kzt {payment['amount_kzt']:,}"


@pytest.mark.parametrize("year", MCI_YEARS)
@pytest.mark.parametrize("members", [1, 4, 8])
def test_a_relocation_subsidy_of_70_mci_per_member_is_within_the_limit_and_one_tenge_more_is_warned(
    year, members
):
    paid_on = dt.date(year, 6, 15)
    limit = RELOCATION_MCI_PER_MEMBER * mci(paid_on) * members
    contract = family(signed="2025-03-01", family_members=members, moves=[])
    on = dt.date(2027, 7, 1)
    at = {"kind": "relocation_subsidy", "paid_on": paid_on.isoformat(), "amount_kzt": limit}
    contract["support"] = [at]
    assert the_warnings(contract, on) == []
    assert section_of(contract, on)["relocation_over_limit"] == []
    over = {**at, "amount_kzt": limit + 1}
    contract["support"] = [over]
    assert the_warnings(contract, on) == [f"social_contract: {RELOCATION_TEXT}: {listed(over)}"]
    section = section_of(contract, on)
    assert section["relocation_over_limit"] == [over]
    assert section["exposure_kzt"] == limit + 1  # a warning never changes the amount


def test_a_relocation_subsidy_is_checked_at_the_mci_of_the_year_it_was_paid():
    # 70 MCI x 4,325 (2026) x 2 = 605,500 is above 70 x 3,932 (2025) x 2 = 550,480.
    amount = RELOCATION_MCI_PER_MEMBER * mci(dt.date(2026, 1, 1)) * 2
    assert amount > RELOCATION_MCI_PER_MEMBER * mci(dt.date(2025, 12, 31)) * 2
    contract = family(family_members=2, moves=[])
    for paid_on, warned in (("2025-12-31", True), ("2026-01-01", False)):
        contract["support"] = [{"kind": "relocation_subsidy", "paid_on": paid_on, "amount_kzt": amount}]
        assert bool(the_warnings(contract, dt.date(2026, 6, 1))) is warned, paid_on


def certificate_cap_kzt(paid_on: dt.date) -> int:
    cap_mci = [value for start, value in CERTIFICATE_CAP_MCI if start <= paid_on][-1]
    return cap_mci * mci(paid_on)


@pytest.mark.parametrize(
    "paid_on",
    [
        pytest.param(dt.date(2025, 3, 15), id="2025: 1,160 MCI"),
        pytest.param(dt.date(2025, 12, 31), id="31 Dec 2025: 1,160 MCI"),
        pytest.param(dt.date(2026, 1, 1), id="1 Jan 2026: 1,625 MCI"),
        pytest.param(dt.date(2026, 9, 1), id="2026: 1,625 MCI"),
    ],
)
def test_a_housing_certificate_at_the_cap_is_not_warned_and_one_tenge_more_is(paid_on):
    cap = certificate_cap_kzt(paid_on)
    on = dt.date(2027, 7, 1)
    at = {"kind": "housing_certificate", "paid_on": paid_on.isoformat(), "amount_kzt": cap}
    contract = family(moves=[MOVED_OUT | {"on": "2027-06-01"}], support=[at])
    assert the_warnings(contract, on) == []
    over = {**at, "amount_kzt": cap + 1}
    contract["support"] = [over]
    assert the_warnings(contract, on) == [f"social_contract: {CERTIFICATE_TEXT}: {listed(over)}"]
    section = section_of(contract, on)
    assert section["certificates_over_cap"] == [over]
    assert (section["status"], section["refund_kzt"]) == ("refund_due", cap + 1)  # never changed


def test_the_2026_cap_on_a_certificate_paid_on_31_december_2025_is_above_the_cap_of_that_day():
    amount = certificate_cap_kzt(dt.date(2026, 1, 1))  # 1,625 x 4,325 = 7,028,125
    assert amount == 1625 * 4325
    contract = family(moves=[])
    contract["support"] = [{"kind": "housing_certificate", "paid_on": "2025-12-31", "amount_kzt": amount}]
    assert len(the_warnings(contract, dt.date(2026, 6, 1))) == 1
    contract["support"][0]["paid_on"] = "2026-01-01"
    assert the_warnings(contract, dt.date(2026, 6, 1)) == []


def test_an_over_the_cap_certificate_paid_after_the_evaluation_date_is_not_warned_yet():
    contract = family(moves=[])
    contract["support"] = [{"kind": "housing_certificate", "paid_on": "2026-06-02", "amount_kzt": 10**9}]
    assert the_warnings(contract, dt.date(2026, 6, 1)) == []
    assert len(the_warnings(contract, dt.date(2026, 6, 2))) == 1


@AMENDMENT_SETTINGS
@given(drawn=contracts())
def test_ledger_warnings_of_a_random_contract_never_change_its_status_or_amounts(drawn):
    contract, on = drawn
    within = copy.deepcopy(contract)
    for payment in within["support"]:  # the same ledger, each payment brought within its cap
        paid_on = day_of(payment["paid_on"])
        if payment["kind"] == "housing_certificate":
            payment["amount_kzt"] = min(payment["amount_kzt"], certificate_cap_kzt(paid_on))
        if payment["kind"] == "relocation_subsidy":
            limit = RELOCATION_MCI_PER_MEMBER * mci(paid_on) * contract["family_members"]
            payment["amount_kzt"] = min(payment["amount_kzt"], limit)
    assert the_warnings(within, on) == []
    section = section_of(contract, on)
    assert_section_agrees(section, expected(contract, on), on)
    warned = the_warnings(contract, on)
    assert bool(section["certificates_over_cap"]) == any(CERTIFICATE_TEXT in text for text in warned)
    assert bool(section["relocation_over_limit"]) == any(RELOCATION_TEXT in text for text in warned)
    assert section["status"] == section_of(within, on)["status"]


@pytest.mark.parametrize(
    ("moves", "status"),
    [
        pytest.param([], "in_term", id="in term"),
        pytest.param([{"on": "2027-06-01", "region": "almaty_city"}], "refund_due", id="left early"),
    ],
)
def test_without_the_family_members_the_relocation_check_cannot_be_made_and_the_status_is_still_decided(
    moves, status
):
    contract = family(family_members=None, moves=moves)
    on = dt.date(2027, 7, 1)
    section = section_of(contract, on)
    assert (section["status"], section["missing"]) == (status, [])
    assert section["relocation_over_limit"] is None
    assert the_warnings(contract, on) == [
        f"social_contract: cannot check whether {RELOCATION_TEXT}: social_contract.family_members"
    ]
    figure = "refund_kzt" if status == "refund_due" else "exposure_kzt"
    assert section[figure] == FAMILY_REFUNDABLE


# --- the amendments -------------------------------------------------------------------------------

LEFT_FOR_ALMATY = family(moves=[{"on": "2027-06-01", "region": "almaty_city"}])


@pytest.mark.parametrize("ground", ["death_in_family", "disability_or_illness", "military_service"])
def test_under_the_exception_grounds_amendment_a_family_leaving_for_a_listed_ground_is_released(ground):
    contract = {**LEFT_FOR_ALMATY, "departure_ground": ground}
    section = section_of(contract, dt.date(2027, 7, 1), amended(EXCEPTION_GROUNDS))
    assert (section["status"], section["decided_by"]) == ("released", ["social_contract.released"])
    assert "refund_kzt" not in section
    assert section_of(contract, dt.date(2027, 7, 1))["status"] == "refund_due"  # the baseline has no grounds


@pytest.mark.parametrize(
    ("ground", "status", "refund"), [("other", "refund_due", 1004), ("military_service", "released", None)]
)
def test_under_the_exception_grounds_and_pro_rata_amendments_together_a_ground_still_releases(
    ground, status, refund
):
    # 1,826 tenge of rent over the 1,826 days of the term: one tenge a day, 1,004 days not served.
    contract = {**LEFT_FOR_ALMATY, "departure_ground": ground}
    contract["support"] = [{"kind": "rent_subsidy", "paid_on": "2025-04-01", "amount_kzt": 1826}]
    section = section_of(contract, dt.date(2027, 7, 1), amended(EXCEPTION_GROUNDS, PRO_RATA))
    assert (section["status"], section.get("refund_kzt")) == (status, refund)


@pytest.mark.parametrize("ground", ["other", None])
def test_under_the_exception_grounds_amendment_another_ground_or_none_leaves_the_refund_due(ground):
    contract = {**LEFT_FOR_ALMATY, **({"departure_ground": ground} if ground else {})}
    section = section_of(contract, dt.date(2027, 7, 1), amended(EXCEPTION_GROUNDS))
    assert (section["status"], section["refund_kzt"]) == ("refund_due", FAMILY_REFUNDABLE)


def test_under_the_exception_grounds_amendment_a_ground_without_an_early_departure_changes_nothing():
    contract = family(departure_ground="death_in_family")
    section = section_of(contract, dt.date(2027, 7, 1), amended(EXCEPTION_GROUNDS))
    assert (section["status"], section["exposure_kzt"]) == ("in_term", FAMILY_REFUNDABLE)
    assert section_of(contract, dt.date(2030, 3, 1), amended(EXCEPTION_GROUNDS))["status"] == "completed"


@AMENDMENT_SETTINGS
@given(drawn=contracts())
@example(drawn=(LEFT_FOR_ALMATY, dt.date(2027, 7, 1)))
def test_under_the_non_refundable_certificate_amendment_no_housing_certificate_is_returned(drawn):
    contract, on = drawn
    policy = amended(CERTIFICATE_KEPT)
    want = expected(contract, on, policy)
    assert all(payment["kind"] != "housing_certificate" for payment in want["items"])
    assert_section_agrees(section_of(contract, on, policy), want, on)


def test_the_hand_computed_refund_without_the_certificate_is_1159980():
    section = section_of(LEFT_FOR_ALMATY, dt.date(2027, 7, 1), amended(CERTIFICATE_KEPT))
    assert section["refund_kzt"] == 1101000 + 58980


@pytest.mark.parametrize(
    ("signed", "status"),
    [
        pytest.param("2026-06-30", "not_applicable", id="30 Jun 2026"),
        pytest.param("2026-07-01", "in_term", id="1 Jul 2026"),
    ],
)
def test_under_the_ulytau_amendment_a_contract_in_ulytau_is_under_the_quota_from_1_july_2026(signed, status):
    contract = family(signed=signed, host_region="ulytau", moves=[{"on": "2026-08-01", "region": "ulytau"}])
    on = dt.date(2026, 9, 1)
    assert section_of(contract, on, amended(ULYTAU))["status"] == status
    assert section_of(contract, on)["status"] == "not_applicable"  # not on the baseline list


@AMENDMENT_SETTINGS
@given(drawn=contracts(host_regions=["ulytau"]))
def test_under_the_ulytau_amendment_a_random_ulytau_contract_agrees_with_the_list_of_the_day_signed(drawn):
    contract, on = drawn
    policy = amended(ULYTAU)
    section = section_of(contract, on, policy)
    if day_of(contract["signed"]) < dt.date(2026, 7, 1):
        assert section["status"] == "not_applicable"
    else:
        assert_section_agrees(section, expected(contract, on, policy), on)


# --- input validation -----------------------------------------------------------------------------


def problems_of(contract: dict[str, Any]) -> list[tuple[str, str]]:
    with pytest.raises(InputError) as raised:
        verdict_of(contract, dt.date(2027, 7, 1))
    return [(problem.where, problem.message) for problem in raised.value.problems]


def with_change(path: str, value: Any) -> dict[str, Any]:
    """The family, two moves and two payments, with the field at ``path`` (``support.1.kind``)
    set to ``value``."""
    contract = family(moves=[*FAMILY["moves"], MOVED_OUT])  # copied: the constants stay as they are
    *parents, last = path.split(".")
    target: Any = contract
    for part in parents:
        target = target[int(part)] if part.isdigit() else target[part]
    target[int(last) if last.isdigit() else last] = value
    return contract


@pytest.mark.parametrize(
    ("path", "value", "where", "says"),
    [
        pytest.param("host_region", "pavlodr", "social_contract.host_region", "did you mean 'pavlodar'?"),
        pytest.param(
            "moves.1.region", "almaty_cty", "social_contract.moves[1].region", "did you mean 'almaty_city'?"
        ),
        pytest.param("support.1.kind", "rent", "social_contract.support[1].kind", "is not one of"),
        pytest.param(
            "support.2.amount_kzt", -1, "social_contract.support[2].amount_kzt", "below the minimum 0"
        ),
        pytest.param("moves.0.on", "2026-02-30", "social_contract.moves[0].on", "that exists"),
        pytest.param("signed", "2025-02-29", "social_contract.signed", "that exists"),
        pytest.param("family_members", 0, "social_contract.family_members", "below the minimum 1"),
        pytest.param("departure_ground", "bored", "social_contract.departure_ground", "is not one of"),
    ],
)
def test_a_bad_input_is_refused_at_its_path(path, value, where, says):
    found = problems_of(with_change(path, value))
    assert [place for place, _ in found] == [where]
    assert says in found[0][1]


def test_an_unknown_support_kind_is_refused_with_the_kinds_of_the_table():
    [(where, message)] = problems_of(with_change("support.1.kind", "rent"))
    assert all(kind in message for kind in KINDS)


def test_every_bad_field_is_reported_in_one_round():
    contract = with_change("support.0.kind", "bonus")
    contract["moves"][1]["region"] = "mars"
    contract["family_members"] = 0
    places = {where for where, _ in problems_of(contract)}
    assert places == {
        "social_contract.support[0].kind",
        "social_contract.moves[1].region",
        "social_contract.family_members",
    }


@functools.cache
def _housing_certificate_comparisons() -> tuple[Comparison, Comparison]:
    baseline = rules.Evaluator(rules.load_policy())
    amended = rules.Evaluator(rules.load_policy(amendments=[AMENDMENTS / CERTIFICATE_KEPT]))
    return Comparison(baseline, amended), Comparison(baseline, amended, skip_unaffected=True)


@settings(max_examples=examples(150), deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(drawn=contracts(host_regions=[*LABOUR_DEFICIENT, "almaty_city"]))
def test_a_family_compared_under_a_non_refundable_certificate_is_judged_as_the_full_comparison_judges_it(
    drawn,
):
    """The amended row is looked up by the kind of each support item: a family that received no
    certificate is evaluated once. Brute force: the full comparison evaluates every family under
    both versions; a family without a certificate never changes."""
    contract, on = drawn
    record = {"person_id": "KD", "social_contract": contract}
    full, skipping = _housing_certificate_comparisons()
    same_when_skipping(full, skipping, record, on)
    if not any(item["kind"] == "housing_certificate" for item in contract["support"]):
        assert full.compare(record, on).changed == ()
