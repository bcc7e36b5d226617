"""Formulas of computed facts (policy format 2), operator by operator, through real loading and
evaluation.

Every value is checked the way an analyst meets it: a copy of ``policies/kz`` in a temporary
directory gets one more file, ``what-if.yaml``, declaring small programmes (``calc``, ``lists``,
``prov``) whose facts are the formulas under test and whose ``report`` shows them; a person
record carrying ``calc_input`` (or ``lists_input``, ``prov_input``) is evaluated and the section
read back as JSON. The what-if policy is loaded once per module. Expected values are computed
by hand in each test (the arithmetic is written next to them).

Load-time checks write the broken formulas together, each a fact of its own, in one what-if file
(the loader reports every problem in one round); each test asserts the file, line and YAML path
of the one problem placed at its fact. Lines are computed from the text, never hard-coded.
"""

from __future__ import annotations

import calendar
import datetime as dt
import decimal
import re
import shutil
from decimal import Decimal
from fractions import Fraction
from pathlib import Path
from typing import Any

import pytest
from budget import examples
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

import rules
from models.verdict import Derivation, Verdict
from rules import PolicyError, Problem

POLICY_DIR = Path(__file__).resolve().parents[1] / "policies" / "kz"
ON = dt.date(2025, 6, 1)
MODES = ("down", "up", "half_up", "half_even", "floor", "ceiling")
PROPERTY_SETTINGS = settings(
    max_examples=examples(150), deadline=None, suppress_health_check=[HealthCheck.too_slow]
)

HEAD = """\
schema: kzmig/policy/2
title: What if - small programmes written for the formula tests
x-sources:
  test: &test {title: Test source, href: https://example.org/law}
"""

# --- the what-if policy of this module ----------------------------------------------------------

PROGRAMMES = """\
programmes:
  calc:
    title: A calculator for the formula tests
    precedence: [undetermined, done]
    evaluated: with_record
    record: calc_input
    inputs:
      a: {type: integer, description: A whole number}
      b: {type: integer, description: Another whole number}
      n: {type: integer, description: A count of days or months or years}
      x: {type: decimal, description: A decimal number}
      y: {type: decimal, description: Another decimal number}
      d1: {type: date, description: A date}
      d2: {type: date, description: Another date}
      fee_kind: {type: string, description: A row of the fee table}
      grade: {type: string, description: A row of the grade table}
      column: {type: string, description: A field of the grade table}
    report:
<calc report>
      quotients: {record: {down: calc.divide_down, half_even_2: calc.divide_half_even_2}}
  lists:
    title: Lists of payments for the formula tests
    precedence: [undetermined, done]
    evaluated: with_record
    record: lists_input
    inputs:
      cutoff: {type: date, description: The last day counted}
      payments:
        type: list
        description: Payments, each with its amount and day
        fields:
          amount: {type: integer, description: The amount paid}
          paid: {type: date, description: The day it was paid}
    report:
<lists report>
  prov:
    title: Figures resting on provisional values
    precedence: [done]
    evaluated: with_record
    record: prov_input
    inputs:
      a: {type: integer, description: A whole number}
      fee_kind: {type: string, description: A row of the provisional fee table}
    report:
<prov report>
"""

PARAMETERS = """\
parameters:
  calc.scale_open:
    description: A scale whose first bracket takes every lower amount
    values:
      - from: 2000-01-01
        source: *test
        value: [{value: 0}, {at_least: 10, value: 5}, {at_least: 20, value: 9}]
  calc.scale_closed:
    description: A scale that starts at 10
    values:
      - from: 2000-01-01
        source: *test
        value: [{at_least: 10, value: 5}, {at_least: 20, value: 9}]
  prov.rate:
    description: A rate the sources do not publish
    provisional: true
    values:
      - {from: 2000-01-01, value: 3, source: *test}
tables:
  calc.fees:
    description: A fee, raised on 1 January 2025
    key: fee_kind
    rows:
      standard:
        - {from: 2000-01-01, value: 100, source: *test}
        - {from: 2025-01-01, value: 150, source: *test}
      reduced: [{from: 2000-01-01, value: 40, source: *test}]
  calc.grades:
    description: Grades, each a mapping of fields
    key: grade
    rows:
      gold: [{from: 2000-01-01, value: {price: 10, weight: 2}, source: *test}]
      silver: [{from: 2000-01-01, value: {price: 6, weight: 3}, source: *test}]
  prov.fees:
    description: Fees the sources do not publish
    key: fee_kind
    provisional: true
    rows:
      standard: [{from: 2000-01-01, value: 100, source: *test}]
"""

RULES = """\
rules:
  - id: calc.done
    title: The calculator always answers
    source: *test
    from: 2000-01-01
    then: {status: done}
  - id: calc.undetermined
    title: Without both numbers the result is unknown
    source: *test
    from: 2000-01-01
    when:
      any:
        - {fact: calc.result, missing: true}
        - {fact: calc.doubled, missing: true}
    then: {status: undetermined}
  - id: lists.done
    title: The lists always answer
    source: *test
    from: 2000-01-01
    then: {status: done}
  - id: lists.undetermined
    title: Without every amount the total is unknown
    source: *test
    from: 2000-01-01
    when: {fact: lists.total, missing: true}
    then: {status: undetermined}
  - id: lists.read
    title: Reads the list figures (so the trace shows how they were computed)
    source: *test
    from: 2000-01-01
    when:
      any:
        - {fact: lists.total, missing: false}
        - {fact: lists.count_until, missing: false}
        - {fact: lists.smallest_until, missing: false}
  - id: prov.done
    title: The provisional figures always answer
    source: *test
    from: 2000-01-01
    then: {status: done}
  - id: prov.read
    title: Reads the provisional figures (so the trace shows how they were computed)
    source: *test
    from: 2000-01-01
    when:
      any:
        - {fact: prov.by_rate, missing: false}
        - {fact: prov.by_fee, missing: false}
        - {fact: prov.doubled_rate, missing: false}
        - {fact: prov.plain, missing: false}
"""

#: The computed facts of the module's what-if policy: name -> (declared type, formula in YAML).
#: Every fact is also an item of its programme's report, under its last name.
FACTS: dict[str, tuple[str, str]] = {
    # arithmetic
    "calc.result": ("integer", "{add: [calc.a, calc.b]}"),
    "calc.doubled": ("integer", "{multiply: [calc.result, 2]}"),
    "calc.add_three": ("integer", "{add: [calc.a, calc.b, 3]}"),
    "calc.difference": ("integer", "{subtract: [calc.a, calc.b]}"),
    "calc.product": ("integer", "{multiply: [calc.a, calc.b]}"),
    "calc.plus_half": ("decimal", "{add: [calc.a, 0.5]}"),
    "calc.x_times_3": ("decimal", "{multiply: [calc.x, 3]}"),
    "calc.x_minus_y": ("decimal", "{subtract: [calc.x, calc.y]}"),
    **{
        f"calc.divide_{mode}": ("integer", f"{{divide: [calc.a, calc.b], rounding: {mode}}}")
        for mode in MODES
    },
    **{
        f"calc.divide_{mode}_2": ("decimal", f"{{divide: [calc.a, calc.b], rounding: {mode}, places: 2}}")
        for mode in MODES
    },
    "calc.round_half_even_1": ("decimal", "{round: calc.x, rounding: half_even, places: 1}"),
    "calc.round_half_up": ("integer", "{round: calc.x, rounding: half_up}"),
    "calc.round_down": ("integer", "{round: calc.x, rounding: down}"),
    "calc.smaller": ("integer", "{min: [calc.a, calc.b, 7]}"),
    "calc.larger": ("decimal", "{max: [calc.x, calc.a]}"),
    "calc.earlier": ("date", "{min: [calc.d1, calc.d2]}"),
    "calc.later": ("date", "{max: [calc.d1, calc.d2, 2000-01-01]}"),
    # tables and scales
    "calc.fee_on_d1": ("integer", "{lookup: calc.fees, key: calc.fee_kind, on: calc.d1}"),
    "calc.fee_today": ("integer", "{lookup: calc.fees, key: calc.fee_kind}"),
    "calc.fee_or_zero": ("integer", "{lookup: calc.fees, key: calc.fee_kind, default: 0}"),
    "calc.mci_on_d1": ("integer", "{param: money.mci_kzt, on: calc.d1}"),
    "calc.mci_day_after_d1": ("integer", "{param: money.mci_kzt, on: {add_days: [calc.d1, 1]}}"),
    "calc.price": ("integer", "{lookup: calc.grades, key: calc.grade, field: price}"),
    "calc.grade_value": ("integer", "{lookup: calc.grades, key: calc.grade, field: calc.column}"),
    "calc.band_open": ("integer", "{band: calc.scale_open, of: calc.a}"),
    "calc.band_closed": ("integer", "{band: calc.scale_closed, of: calc.a}"),
    # dates
    "calc.days": ("integer", "{days_between: [calc.d1, calc.d2]}"),
    "calc.years_previous_day": ("integer", "{years_between: [calc.d1, calc.d2], rounding: previous_day}"),
    "calc.years_next_day": ("integer", "{years_between: [calc.d1, calc.d2], rounding: next_day}"),
    "calc.add_years_previous_day": ("date", "{add_years: [calc.d1, calc.n], rounding: previous_day}"),
    "calc.add_years_next_day": ("date", "{add_years: [calc.d1, calc.n], rounding: next_day}"),
    "calc.add_months_previous_day": ("date", "{add_months: [calc.d1, calc.n], rounding: previous_day}"),
    "calc.add_months_next_day": ("date", "{add_months: [calc.d1, calc.n], rounding: next_day}"),
    "calc.add_days": ("date", "{add_days: [calc.d1, calc.n]}"),
    # conditions
    "calc.both_positive": ("boolean", "{all: [{fact: calc.a, gt: 0}, {fact: calc.b, gt: 0}]}"),
    "calc.either_positive": ("boolean", "{any: [{fact: calc.a, gt: 0}, {fact: calc.b, gt: 0}]}"),
    "calc.a_not_positive": ("boolean", "{not: {fact: calc.a, gt: 0}}"),
    "calc.sign": ("string", "{if: {fact: calc.a, gte: 0}, then: {text: plus}, else: {text: minus}}"),
    # lists
    "lists.total": ("integer", "{sum: {item: amount}, over: lists.payments}"),
    "lists.total_until": (
        "integer",
        "{sum: {item: amount}, over: lists.payments, where: {item: paid, lte: lists.cutoff}}",
    ),
    "lists.count_until": ("integer", "{count: lists.payments, where: {item: paid, lte: lists.cutoff}}"),
    "lists.smallest": ("integer", "{minimum: {item: amount}, over: lists.payments}"),
    "lists.largest": ("integer", "{maximum: {item: amount}, over: lists.payments}"),
    "lists.smallest_until": (
        "integer",
        "{minimum: {item: amount}, over: lists.payments, where: {item: paid, lte: lists.cutoff}}",
    ),
    "lists.first_paid": ("date", "{minimum: {item: paid}, over: lists.payments}"),
    "lists.late": ("list", "{select: lists.payments, where: {item: paid, gt: lists.cutoff}}"),
    "lists.late_count": ("integer", "{count: lists.late}"),
    "lists.late_total": ("integer", "{sum: {item: amount}, over: lists.late}"),
    # provisional values
    "prov.by_rate": ("integer", "{multiply: [prov.a, {param: prov.rate}]}"),
    "prov.by_fee": ("integer", "{lookup: prov.fees, key: prov.fee_kind}"),
    "prov.doubled_rate": ("integer", "{multiply: [prov.by_rate, 2]}"),
    "prov.plain": ("integer", "{add: [prov.a, 1]}"),
}


def _what_if_text() -> str:
    reports: dict[str, str] = {"calc": "", "lists": "", "prov": ""}
    facts = "facts:\n"
    for name, (kind, formula) in FACTS.items():
        programme, local = name.split(".", 1)
        reports[programme] += f"      {local}: {name}\n"
        facts += (
            f"  {name}:\n    description: The fact {name}\n    type: {kind}\n"
            f"    formulas:\n      - {{from: 2000-01-01, source: *test, formula: {formula}}}\n"
        )
    programmes = PROGRAMMES
    for programme, items in reports.items():
        programmes = programmes.replace(f"<{programme} report>\n", items)
    return HEAD + programmes + PARAMETERS + facts + RULES


def policy_copy(directory: Path) -> Path:
    target = directory / "kz"
    shutil.copytree(POLICY_DIR, target)
    return target


@pytest.fixture(scope="module")
def evaluator(tmp_path_factory: pytest.TempPathFactory) -> rules.Evaluator:
    directory = policy_copy(tmp_path_factory.mktemp("formulas"))
    (directory / "what-if.yaml").write_text(_what_if_text(), encoding="utf-8")
    return rules.Evaluator(rules.load_policy(directory))


def verdict_of(evaluator: rules.Evaluator, on: dt.date = ON, **records: dict[str, Any]) -> Verdict:
    return evaluator.evaluate({"person_id": "formula-test", **records}, on=on)


def calc(evaluator: rules.Evaluator, **inputs: Any) -> dict[str, Any]:
    """The ``calc`` section, as JSON, for a record holding ``inputs``."""
    section = verdict_of(evaluator, calc_input=inputs).section("calc")
    assert section is not None
    return section.model_dump(mode="json")


def lists(evaluator: rules.Evaluator, **inputs: Any) -> dict[str, Any]:
    section = verdict_of(evaluator, lists_input=inputs).section("lists")
    assert section is not None
    return section.model_dump(mode="json")


def derivation(verdict: Verdict, fact: str) -> Derivation:
    """How ``fact`` was computed, as the trace tells it."""
    found = [item for entry in verdict.trace for item in entry.derivations if item.fact == fact]
    assert found, f"no derivation of {fact} in the trace"
    return found[0]


def left_out(gap: str, item: str) -> str:
    """The warning of a report item that a gap left without a value."""
    return f"{gap}: {item} is left out"


# --- arithmetic ---------------------------------------------------------------------------------


def test_adding_subtracting_and_multiplying_whole_numbers_is_exact(evaluator):
    found = calc(evaluator, a=10**15, b=-(10**15) + 1)
    assert found["result"] == 1
    assert found["add_three"] == 4
    assert found["difference"] == 2 * 10**15 - 1
    assert found["product"] == -(10**30) + 10**15
    assert all(isinstance(found[key], int) for key in ("result", "add_three", "difference", "product"))


def test_a_whole_number_plus_a_decimal_literal_is_a_decimal(evaluator):
    assert calc(evaluator, a=2)["plus_half"] == 2.5  # 2 + 0.5


def test_decimals_add_and_multiply_exactly_without_binary_rounding(evaluator):
    found = calc(evaluator, x=0.1, y=0.3)
    assert found["x_times_3"] == 0.3  # 0.1 * 3, not 0.30000000000000004
    assert calc(evaluator, x=0.3, y=0.1)["x_minus_y"] == 0.2  # not 0.19999999999999998


@pytest.mark.parametrize(
    ("a", "b", "expected"),
    [
        #        down up half_up half_even floor ceiling
        pytest.param(7, 2, (3, 4, 4, 4, 3, 4), id="7/2 = 3.5"),
        pytest.param(-7, 2, (-3, -4, -4, -4, -4, -3), id="-7/2 = -3.5"),
        pytest.param(5, 2, (2, 3, 3, 2, 2, 3), id="5/2 = 2.5"),
        pytest.param(-5, 2, (-2, -3, -3, -2, -3, -2), id="-5/2 = -2.5"),
        pytest.param(5, -2, (-2, -3, -3, -2, -3, -2), id="5/-2 = -2.5"),
        pytest.param(10, 3, (3, 4, 3, 3, 3, 4), id="10/3 = 3.33"),
        pytest.param(-10, 3, (-3, -4, -3, -3, -4, -3), id="-10/3 = -3.33"),
        pytest.param(-11, 3, (-3, -4, -4, -4, -4, -3), id="-11/3 = -3.67"),
        pytest.param(6, 3, (2, 2, 2, 2, 2, 2), id="6/3 = 2"),
        pytest.param(1, 4, (0, 1, 0, 0, 0, 1), id="1/4 = 0.25"),
        pytest.param(-1, 4, (0, -1, 0, 0, -1, 0), id="-1/4 = -0.25"),
    ],
)
def test_divide_rounds_a_whole_quotient_by_each_mode(evaluator, a, b, expected):
    found = calc(evaluator, a=a, b=b)
    assert tuple(found[f"divide_{mode}"] for mode in MODES) == expected


@pytest.mark.parametrize(
    ("a", "b", "expected"),
    [
        #        down   up     half_up half_even floor  ceiling
        pytest.param(2, 3, (0.66, 0.67, 0.67, 0.67, 0.66, 0.67), id="2/3 = 0.666"),
        pytest.param(-2, 3, (-0.66, -0.67, -0.67, -0.67, -0.67, -0.66), id="-2/3 = -0.666"),
        pytest.param(1, 8, (0.12, 0.13, 0.13, 0.12, 0.12, 0.13), id="1/8 = 0.125"),
        pytest.param(-1, 8, (-0.12, -0.13, -0.13, -0.12, -0.13, -0.12), id="-1/8 = -0.125"),
        pytest.param(3, 8, (0.37, 0.38, 0.38, 0.38, 0.37, 0.38), id="3/8 = 0.375"),
        pytest.param(1, 4, (0.25, 0.25, 0.25, 0.25, 0.25, 0.25), id="1/4 = 0.25"),
    ],
)
def test_divide_to_two_places_rounds_the_hundredths_by_each_mode(evaluator, a, b, expected):
    found = calc(evaluator, a=a, b=b)
    assert tuple(found[f"divide_{mode}_2"] for mode in MODES) == expected


def test_a_record_shows_its_named_values_together(evaluator):
    assert calc(evaluator, a=7, b=-2)["quotients"] == {"down": -3, "half_even_2": -3.5}


def test_a_gap_inside_a_reported_record_is_warned_about(evaluator):
    verdict = verdict_of(evaluator, calc_input={"a": 7, "b": 0})
    assert verdict.model_dump(mode="json")["calc"]["quotients"] == {"down": None, "half_even_2": None}
    assert any("a division by zero" in w and "calc.quotients" in w for w in verdict.warnings), (
        verdict.warnings
    )


def test_division_by_zero_is_null_with_a_warning_not_a_crash(evaluator):
    verdict = verdict_of(evaluator, calc_input={"a": 7, "b": 0})
    section = verdict.section("calc")
    assert section is not None
    found = section.model_dump(mode="json")
    assert all(found[f"divide_{mode}"] is None for mode in MODES)
    assert all(found[f"divide_{mode}_2"] is None for mode in MODES)
    assert left_out("a division by zero", "calc.divide_half_up") in verdict.warnings
    assert left_out("a division by zero", "calc.divide_floor_2") in verdict.warnings
    assert found["status"] == "done"
    assert found["result"] == 7  # the other facts are computed as usual


@pytest.mark.parametrize(
    ("x", "half_even_1", "half_up", "down"),
    [
        pytest.param(2.25, 2.2, 2, 2, id="2.25"),
        pytest.param(2.35, 2.4, 2, 2, id="2.35"),
        pytest.param(-2.25, -2.2, -2, -2, id="-2.25"),
        pytest.param(2.5, 2.5, 3, 2, id="2.5"),
        pytest.param(-2.5, -2.5, -3, -2, id="-2.5"),
        pytest.param(-2.7, -2.7, -3, -2, id="-2.7"),
    ],
)
def test_round_a_decimal_by_its_mode_and_places(evaluator, x, half_even_1, half_up, down):
    found = calc(evaluator, x=x)
    assert (found["round_half_even_1"], found["round_half_up"], found["round_down"]) == (
        half_even_1,
        half_up,
        down,
    )


def test_min_and_max_of_numbers_pick_the_smallest_and_the_largest(evaluator):
    assert calc(evaluator, a=3, b=9)["smaller"] == 3
    assert calc(evaluator, a=8, b=9)["smaller"] == 7  # the literal 7 is smaller
    assert calc(evaluator, a=-8, b=-9)["smaller"] == -9
    assert calc(evaluator, x=2.5, a=2)["larger"] == 2.5
    assert calc(evaluator, x=2.5, a=3)["larger"] == 3


def test_min_and_max_of_dates_pick_the_earlier_and_the_later(evaluator):
    found = calc(evaluator, d1="2024-02-29", d2="2023-03-01")
    assert (found["earlier"], found["later"]) == ("2023-03-01", "2024-02-29")
    assert calc(evaluator, d1="1999-01-01", d2="1998-01-01")["later"] == "2000-01-01"


# --- parameters on a day a fact gives ------------------------------------------------------------


@pytest.mark.parametrize(
    ("d1", "mci", "mci_next_day"),
    [("2023-05-05", 3450, 3450), ("2024-12-31", 3692, 3932), ("2025-06-01", 3932, 3932)],
    ids=["2023", "31-december-2024", "2025"],
)
def test_a_parameter_read_on_the_day_a_fact_gives_is_the_value_then_in_force(
    evaluator, d1, mci, mci_next_day
):
    found = calc(evaluator, d1=d1)  # evaluated on 1 Jun 2025, when the MCI is 3,932
    assert (found["mci_on_d1"], found["mci_day_after_d1"]) == (mci, mci_next_day)


def test_a_parameter_on_a_day_not_given_is_unknown_not_a_gap_of_the_policy(evaluator):
    verdict = verdict_of(evaluator, calc_input={"a": 1})
    assert verdict.model_dump(mode="json")["calc"]["mci_on_d1"] is None
    assert not any("mci_on_d1" in warning for warning in verdict.warnings)


def test_a_parameter_on_a_day_before_its_first_value_is_null_with_a_warning(evaluator):
    verdict = verdict_of(evaluator, calc_input={"d1": "2022-12-31"})
    assert verdict.model_dump(mode="json")["calc"]["mci_on_d1"] is None
    gap = "parameter money.mci_kzt has no value on 2022-12-31"
    assert left_out(gap, "calc.mci_on_d1") in verdict.warnings


# --- lookups and bands ----------------------------------------------------------------------------


def test_lookup_on_the_day_the_formula_names_reads_the_row_then_in_force(evaluator):
    assert calc(evaluator, fee_kind="standard", d1="2024-12-31")["fee_on_d1"] == 100
    assert calc(evaluator, fee_kind="standard", d1="2025-01-01")["fee_on_d1"] == 150


def test_lookup_without_a_day_reads_the_row_in_force_on_the_evaluation_date(evaluator):
    assert calc(evaluator, fee_kind="standard", d1="2024-12-31")["fee_today"] == 150
    verdict = verdict_of(evaluator, on=dt.date(2024, 12, 31), calc_input={"fee_kind": "standard"})
    assert verdict.model_dump(mode="json")["calc"]["fee_today"] == 100


def test_lookup_on_a_day_before_the_first_row_is_null_with_a_warning(evaluator):
    verdict = verdict_of(evaluator, calc_input={"fee_kind": "standard", "d1": "1999-12-31"})
    assert verdict.model_dump(mode="json")["calc"]["fee_on_d1"] is None
    gap = "table calc.fees row 'standard' has no value on 1999-12-31"
    assert left_out(gap, "calc.fee_on_d1") in verdict.warnings


def test_lookup_of_a_field_of_a_mapping_row(evaluator):
    assert calc(evaluator, grade="gold")["price"] == 10
    assert calc(evaluator, grade="silver")["price"] == 6


def test_lookup_of_a_field_named_by_a_fact(evaluator):
    assert calc(evaluator, grade="silver", column="weight")["grade_value"] == 3
    assert calc(evaluator, grade="silver", column="price")["grade_value"] == 6


def test_lookup_of_a_field_the_row_lacks_is_null_with_a_warning(evaluator):
    verdict = verdict_of(evaluator, calc_input={"grade": "gold", "column": "colour"})
    assert verdict.model_dump(mode="json")["calc"]["grade_value"] is None
    gap = f"table calc.grades row 'gold' field 'colour' has no value on {ON}"
    assert left_out(gap, "calc.grade_value") in verdict.warnings


def test_lookup_of_an_unknown_key_gives_the_default(evaluator):
    assert calc(evaluator, fee_kind="reduced")["fee_or_zero"] == 40
    assert calc(evaluator, fee_kind="premium")["fee_or_zero"] == 0


def test_lookup_with_a_default_but_no_key_is_unknown_not_the_default(evaluator):
    verdict = verdict_of(evaluator, calc_input={"a": 12})
    assert verdict.model_dump(mode="json")["calc"]["fee_or_zero"] is None
    assert verdict.warnings == ()


def test_lookup_of_an_unknown_key_without_default_is_null_with_a_warning(evaluator):
    verdict = verdict_of(evaluator, calc_input={"fee_kind": "premium", "a": 1, "b": 1})
    found = verdict.model_dump(mode="json")["calc"]
    assert found["fee_today"] is None
    assert found["status"] == "done"
    assert (
        left_out(f"table calc.fees row 'premium' has no value on {ON}", "calc.fee_today") in verdict.warnings
    )


@pytest.mark.parametrize(
    ("amount", "open_first", "closed_first"),
    [
        pytest.param(-5, 0, None, id="far below the first threshold"),
        pytest.param(9, 0, None, id="just below the first threshold"),
        pytest.param(10, 5, 5, id="on the first threshold"),
        pytest.param(19, 5, 5, id="just below the second threshold"),
        pytest.param(20, 9, 9, id="on the last threshold"),
        pytest.param(10**15, 9, 9, id="far above the last threshold"),
    ],
)
def test_band_gives_the_value_of_the_bracket_the_amount_falls_in(evaluator, amount, open_first, closed_first):
    found = calc(evaluator, a=amount)
    assert (found["band_open"], found["band_closed"]) == (open_first, closed_first)


def test_band_below_a_closed_first_bracket_is_null_with_a_warning(evaluator):
    verdict = verdict_of(evaluator, calc_input={"a": 9})
    gap = f"9 is below the first bracket of scale calc.scale_closed on {ON}"
    assert left_out(gap, "calc.band_closed") in verdict.warnings
    assert not any("calc.band_open" in warning for warning in verdict.warnings)


# --- dates ----------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("d1", "d2", "days"),
    [
        pytest.param("2024-02-28", "2024-03-01", 2, id="across 29 February"),
        pytest.param("2025-02-28", "2025-03-01", 1, id="across the end of a short February"),
        pytest.param("2024-03-01", "2024-02-28", -2, id="backwards"),
        pytest.param("2024-01-01", "2025-01-01", 366, id="a leap year"),
        pytest.param("2025-06-01", "2025-06-01", 0, id="the same day"),
    ],
)
def test_days_between_two_dates(evaluator, d1, d2, days):
    assert calc(evaluator, d1=d1, d2=d2)["days"] == days


@pytest.mark.parametrize(
    ("d2", "previous_day", "next_day"),
    [
        pytest.param("2026-02-27", 17, 17, id="27 February"),
        pytest.param("2026-02-28", 18, 17, id="28 February"),
        pytest.param("2026-03-01", 18, 18, id="1 March"),
        pytest.param("2028-02-28", 19, 19, id="28 February of a leap year"),
        pytest.param("2028-02-29", 20, 20, id="29 February of a leap year"),
    ],
)
def test_years_between_a_29_february_birthday_and_a_day_by_its_rounding(
    evaluator, d2, previous_day, next_day
):
    found = calc(evaluator, d1="2008-02-29", d2=d2)
    assert (found["years_previous_day"], found["years_next_day"]) == (previous_day, next_day)


def test_years_between_an_ordinary_birthday_counts_the_anniversaries_reached(evaluator):
    assert calc(evaluator, d1="2008-05-10", d2="2026-05-09")["years_previous_day"] == 17
    assert calc(evaluator, d1="2008-05-10", d2="2026-05-10")["years_previous_day"] == 18


def test_29_february_plus_5_years_with_previous_day_is_28_february(evaluator):
    assert calc(evaluator, d1="2024-02-29", n=5)["add_years_previous_day"] == "2029-02-28"


def test_29_february_plus_5_years_with_next_day_is_1_march(evaluator):
    assert calc(evaluator, d1="2024-02-29", n=5)["add_years_next_day"] == "2029-03-01"


def test_29_february_plus_4_years_is_29_february_whatever_the_rounding(evaluator):
    found = calc(evaluator, d1="2024-02-29", n=4)
    assert (found["add_years_previous_day"], found["add_years_next_day"]) == ("2028-02-29", "2028-02-29")


def test_29_february_minus_1_year_by_its_rounding(evaluator):
    found = calc(evaluator, d1="2024-02-29", n=-1)
    assert (found["add_years_previous_day"], found["add_years_next_day"]) == ("2023-02-28", "2023-03-01")


@pytest.mark.parametrize(
    ("d1", "n", "previous_day", "next_day"),
    [
        pytest.param("2025-01-31", 1, "2025-02-28", "2025-03-01", id="31 January plus 1 month"),
        pytest.param("2024-01-31", 1, "2024-02-29", "2024-03-01", id="31 January 2024 plus 1 month"),
        pytest.param("2025-01-31", 13, "2026-02-28", "2026-03-01", id="31 January plus 13 months"),
        pytest.param("2025-03-31", -1, "2025-02-28", "2025-03-01", id="31 March minus 1 month"),
        pytest.param("2025-05-31", 1, "2025-06-30", "2025-07-01", id="31 May plus 1 month"),
        pytest.param("2025-01-15", 1, "2025-02-15", "2025-02-15", id="15 January plus 1 month"),
        pytest.param("2025-11-30", 3, "2026-02-28", "2026-03-01", id="across a new year"),
    ],
)
def test_add_months_to_a_day_the_target_month_lacks_by_its_rounding(evaluator, d1, n, previous_day, next_day):
    found = calc(evaluator, d1=d1, n=n)
    assert (found["add_months_previous_day"], found["add_months_next_day"]) == (previous_day, next_day)


@pytest.mark.parametrize(
    ("d1", "n", "expected"),
    [
        pytest.param("2024-02-28", 1, "2024-02-29", id="into 29 February"),
        pytest.param("2024-12-31", -366, "2023-12-31", id="a leap year back"),
        pytest.param("2025-06-01", 0, "2025-06-01", id="no day"),
        pytest.param("2025-12-31", 1, "2026-01-01", id="into a new year"),
    ],
)
def test_add_days(evaluator, d1, n, expected):
    assert calc(evaluator, d1=d1, n=n)["add_days"] == expected


@pytest.mark.parametrize(
    ("d1", "n", "item", "operator"),
    [
        pytest.param("9999-06-01", 1, "add_years_previous_day", "add_years", id="a year after 9999"),
        pytest.param("9999-12-15", 1, "add_months_next_day", "add_months", id="a month after 9999"),
        pytest.param("9999-12-31", 1, "add_days", "add_days", id="a day after 9999"),
        pytest.param("0001-01-01", -1, "add_days", "add_days", id="a day before year 1"),
        pytest.param("2025-06-01", 10**15, "add_days", "add_days", id="10^15 days"),
        pytest.param("2025-06-01", -(10**15), "add_years_next_day", "add_years", id="10^15 years back"),
    ],
)
def test_a_date_leaving_the_calendar_is_null_with_a_warning_not_a_crash(evaluator, d1, n, item, operator):
    verdict = verdict_of(evaluator, calc_input={"d1": d1, "n": n})
    assert verdict.model_dump(mode="json")["calc"][item] is None
    day = dt.date.fromisoformat(d1)
    assert left_out(f"{operator} of {n} to {day} leaves the calendar", f"calc.{item}") in verdict.warnings


# --- lists ----------------------------------------------------------------------------------------

PAYMENTS = [
    {"amount": 30, "paid": "2025-01-10"},
    {"amount": 5, "paid": "2025-03-01"},
    {"amount": 12, "paid": "2025-02-01"},
    {"amount": 50, "paid": "2025-05-20"},
]


def test_sum_count_minimum_and_maximum_over_a_list(evaluator):
    found = lists(evaluator, payments=PAYMENTS, cutoff="2025-03-01")
    assert found["total"] == 97  # 30 + 5 + 12 + 50
    assert found["smallest"] == 5
    assert found["largest"] == 50
    assert found["first_paid"] == "2025-01-10"


def test_where_compares_each_item_with_a_fact_inclusively(evaluator):
    found = lists(evaluator, payments=PAYMENTS, cutoff="2025-03-01")
    assert found["total_until"] == 47  # 30 + 5 + 12, paid on or before 1 March
    assert found["count_until"] == 3
    assert found["smallest_until"] == 5
    found = lists(evaluator, payments=PAYMENTS, cutoff="2025-02-28")
    assert (found["total_until"], found["count_until"], found["smallest_until"]) == (42, 2, 12)


def test_select_keeps_the_items_that_meet_its_condition_and_others_read_the_selection(evaluator):
    found = lists(evaluator, payments=PAYMENTS, cutoff="2025-03-01")
    assert found["late"] == [{"amount": 50, "paid": "2025-05-20"}]
    assert (found["late_count"], found["late_total"]) == (1, 50)


def test_over_an_empty_list_the_sum_and_count_are_0_and_the_minimum_is_none(evaluator):
    found = lists(evaluator, payments=[], cutoff="2025-03-01")
    assert (found["total"], found["count_until"], found["late"], found["late_total"]) == (0, 0, [], 0)
    assert (found["smallest"], found["largest"], found["first_paid"]) == (None, None, None)
    assert found["status"] == "done"


def test_minimum_over_an_empty_selection_is_none_not_missing(evaluator):
    verdict = verdict_of(evaluator, lists_input={"payments": PAYMENTS, "cutoff": "2024-12-31"})
    found = verdict.model_dump(mode="json")["lists"]
    assert (found["count_until"], found["smallest_until"]) == (0, None)
    assert found["missing"] == []
    assert verdict.warnings == ()
    smallest = derivation(verdict, "lists.smallest_until")
    assert (smallest.value, smallest.missing) == (None, ())


def test_an_item_without_its_field_leaves_the_sum_missing_naming_the_item_path(evaluator):
    payments = [{"amount": 30, "paid": "2025-01-10"}, {"paid": "2025-02-01"}]
    verdict = verdict_of(evaluator, lists_input={"payments": payments, "cutoff": "2025-03-01"})
    found = verdict.model_dump(mode="json")["lists"]
    assert found["total"] is None
    assert found["status"] == "undetermined"
    assert found["missing"] == ["lists_input.payments[1].amount"]
    assert derivation(verdict, "lists.total").missing == ("lists_input.payments[1].amount",)


def test_an_item_without_the_field_where_reads_leaves_the_count_missing(evaluator):
    payments = [{"amount": 30, "paid": "2025-01-10"}, {"amount": 5}]
    verdict = verdict_of(evaluator, lists_input={"payments": payments, "cutoff": "2025-03-01"})
    found = verdict.model_dump(mode="json")["lists"]
    assert (found["total"], found["count_until"], found["total_until"]) == (35, None, None)
    assert derivation(verdict, "lists.count_until").missing == ("lists_input.payments[1].paid",)


def test_a_list_that_is_not_given_leaves_its_figures_missing_naming_the_list(evaluator):
    verdict = verdict_of(evaluator, lists_input={"cutoff": "2025-03-01"})
    found = verdict.model_dump(mode="json")["lists"]
    assert (found["total"], found["smallest"], found["late"]) == (None, None, None)
    assert (found["status"], found["missing"]) == ("undetermined", ["lists_input.payments"])


# --- missing inputs, provisional values ---------------------------------------------------------


def test_a_formula_whose_input_is_absent_is_null_and_its_missing_rule_names_the_input(evaluator):
    found = calc(evaluator, b=2)
    assert (found["result"], found["doubled"]) == (None, None)
    assert found["status"] == "undetermined"
    assert found["decided_by"] == ["calc.undetermined"]
    assert found["missing"] == ["calc_input.a"]


def test_a_formula_with_every_input_absent_names_each_input_path(evaluator):
    found = calc(evaluator, x=1.5)
    assert found["status"] == "undetermined"
    assert found["missing"] == ["calc_input.a", "calc_input.b"]


def test_a_formula_with_its_inputs_is_known_and_the_missing_rule_does_not_fire(evaluator):
    found = calc(evaluator, a=2, b=3)
    assert (found["result"], found["doubled"]) == (5, 10)
    assert (found["status"], found["missing"]) == ("done", [])


def test_a_missing_input_is_not_a_gap_no_warning_is_given(evaluator):
    assert verdict_of(evaluator, calc_input={"b": 2}).warnings == ()


def test_facts_from_a_provisional_parameter_or_table_make_the_section_provisional_and_say_so(evaluator):
    verdict = verdict_of(evaluator, prov_input={"a": 2, "fee_kind": "standard"})
    found = verdict.model_dump(mode="json")["prov"]
    assert (found["by_rate"], found["by_fee"], found["doubled_rate"], found["plain"]) == (6, 100, 12, 3)
    assert found["provisional"] is True
    assert (
        "the prov verdict rests on values the sources do not publish (provisional): "
        "parameter prov.rate, table prov.fees"
    ) in verdict.warnings


def test_provisional_follows_the_values_each_fact_is_computed_from(evaluator):
    verdict = verdict_of(evaluator, prov_input={"a": 2, "fee_kind": "standard"})
    assert derivation(verdict, "prov.by_rate").provisional == ("parameter prov.rate",)
    assert derivation(verdict, "prov.by_fee").provisional == ("table prov.fees",)
    assert derivation(verdict, "prov.doubled_rate").provisional == ("parameter prov.rate",)
    assert derivation(verdict, "prov.plain").provisional == ()


def test_a_section_computed_without_provisional_values_is_not_provisional(evaluator):
    verdict = verdict_of(evaluator, calc_input={"a": 12, "b": 3}, prov_input={"a": 2})
    sections = verdict.model_dump(mode="json")
    assert (sections["calc"]["provisional"], sections["prov"]["provisional"]) == (False, True)
    assert any(warning.startswith("the prov verdict rests on") for warning in verdict.warnings)
    assert not any(warning.startswith("the calc verdict") for warning in verdict.warnings)


def test_a_provisional_table_read_for_an_unknown_key_is_still_provisional(evaluator):
    verdict = verdict_of(evaluator, prov_input={"a": 2, "fee_kind": "premium"})
    assert derivation(verdict, "prov.by_fee").provisional == ("table prov.fees",)


# --- Kleene's logic -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("inputs", "both", "either"),
    [
        pytest.param({"a": -1}, False, None, id="a false, b unknown"),
        pytest.param({"a": 1}, None, True, id="a true, b unknown"),
        pytest.param({"b": -1}, False, None, id="a unknown, b false"),
        pytest.param({"b": 1}, None, True, id="a unknown, b true"),
        pytest.param({}, None, None, id="both unknown"),
        pytest.param({"a": 1, "b": 1}, True, True, id="both true"),
        pytest.param({"a": 1, "b": -1}, False, True, id="one of each"),
        pytest.param({"a": -1, "b": -1}, False, False, id="both false"),
    ],
)
def test_all_is_false_once_a_part_is_false_and_any_true_once_a_part_is_true(evaluator, inputs, both, either):
    found = calc(evaluator, x=0, **inputs)
    assert (found["both_positive"], found["either_positive"]) == (both, either)


def test_not_of_an_unknown_condition_is_unknown_and_if_on_it_too(evaluator):
    found = calc(evaluator, b=1)
    assert (found["a_not_positive"], found["sign"]) == (None, None)
    found = calc(evaluator, a=0)
    assert (found["a_not_positive"], found["sign"]) == (True, "plus")
    assert calc(evaluator, a=-3)["sign"] == "minus"


# --- properties -----------------------------------------------------------------------------------

_DECIMAL_MODES = {
    "down": decimal.ROUND_DOWN,
    "up": decimal.ROUND_UP,
    "half_up": decimal.ROUND_HALF_UP,
    "half_even": decimal.ROUND_HALF_EVEN,
    "floor": decimal.ROUND_FLOOR,
    "ceiling": decimal.ROUND_CEILING,
}


def reference_divide(a: int, b: int, mode: str, places: int) -> Decimal:
    """``a / b`` rounded to ``places`` by the decimal module (its own rounding modes); checked
    exact against :class:`fractions.Fraction` before rounding."""
    with decimal.localcontext() as context:
        context.prec = 200
        quotient = Decimal(a) / Decimal(b)
        assert abs(Fraction(quotient) - Fraction(a, b)) < Fraction(1, 10**150)
        return quotient.quantize(Decimal(1).scaleb(-places), rounding=_DECIMAL_MODES[mode])


_numbers = st.one_of(st.integers(-50, 50), st.integers(-(10**9), 10**9))


@PROPERTY_SETTINGS
@given(a=_numbers, b=_numbers.filter(lambda b: b != 0))
@example(a=5, b=2)
@example(a=-5, b=2)
@example(a=-1, b=8)
def test_divide_agrees_with_the_decimal_module_for_every_rounding_mode(evaluator, a, b):
    found = calc(evaluator, a=a, b=b)
    for mode in MODES:
        assert found[f"divide_{mode}"] == int(reference_divide(a, b, mode, 0)), mode
        assert found[f"divide_{mode}_2"] == float(reference_divide(a, b, mode, 2)), mode


def reference_add_years(day: dt.date, years: int) -> dt.date | None:
    """``day`` plus whole years, 29 February becoming 28 February in a common year."""
    year = day.year + years
    if not 1 <= year <= 9999:
        return None
    last = calendar.monthrange(year, day.month)[1]
    return dt.date(year, day.month, min(day.day, last))


_leap_days = st.integers(1, 9999).filter(calendar.isleap).map(lambda year: dt.date(year, 2, 29))


@PROPERTY_SETTINGS
@given(day=st.one_of(st.dates(), _leap_days), years=st.integers(-150, 150))
@example(day=dt.date(2024, 2, 29), years=5)
@example(day=dt.date(9996, 2, 29), years=4)
@example(day=dt.date(1, 1, 1), years=-1)
def test_add_years_by_either_rounding_agrees_with_the_calendar(evaluator, day, years):
    verdict = verdict_of(evaluator, calc_input={"d1": day.isoformat(), "n": years})
    found = verdict.model_dump(mode="json")["calc"]
    expected = reference_add_years(day, years)
    assert found["add_years_previous_day"] == (expected.isoformat() if expected is not None else None)
    if expected is None:
        gap = f"add_years of {years} to {day} leaves the calendar"
        assert left_out(gap, "calc.add_years_previous_day") in verdict.warnings
        assert found["add_years_next_day"] is None
    elif expected.day != day.day:  # 29 February in a common year: the next day is 1 March
        assert found["add_years_next_day"] == dt.date(expected.year, 3, 1).isoformat()
    else:
        assert found["add_years_next_day"] == expected.isoformat()


# --- load-time checks -----------------------------------------------------------------------------
#
# The loader reports every problem of a policy in one round, so the broken formulas are written
# together, each as a fact of its own, in one what-if file loaded once; each test finds the one
# problem placed at its fact.

BROKEN_HEAD = (
    HEAD
    + """\
programmes:
  calc:
    title: A calculator for the formula tests
    precedence: [undetermined, done]
    evaluated: with_record
    record: calc_input
    inputs:
      a: {type: integer, description: A whole number}
      b: {type: integer, description: Another whole number}
      d1: {type: date, description: A date}
      name: {type: string, description: A name}
      payments:
        type: list
        description: Payments
        fields:
          amount: {type: integer, description: The amount paid}
tables:
  calc.grades:
    description: Grades, each a mapping of fields
    key: grade
    rows:
      gold: [{from: 2000-01-01, value: {price: 10, weight: 2}, source: *test}]
rules:
  - id: calc.done
    title: The calculator always answers
    source: *test
    from: 2000-01-01
    then: {status: done}
facts:
"""
)


def fact_yaml(name: str, kind: str, formula: str) -> str:
    """A computed fact in block YAML; ``formula`` is indented under ``formula:``."""
    body = "".join(f"          {line}\n" for line in formula.strip("\n").split("\n"))
    return (
        f"  {name}:\n    description: The fact {name}\n    type: {kind}\n    formulas:\n"
        f"      - from: 2000-01-01\n        source: *test\n        formula:\n{body}"
    )


ROUNDINGS = "down, up, half_up, half_even, floor, ceiling"
DATE_ROUNDINGS = "previous_day, next_day"

#: The broken facts: name -> (declared type, formula in block YAML).
BROKEN: dict[str, tuple[str, str]] = {
    "calc.cycle_one": ("integer", "add: [calc.cycle_two, 1]"),
    "calc.cycle_two": ("integer", "add: [calc.cycle_one, 1]"),
    "calc.self_cycle": ("integer", "add: [calc.self_cycle, 1]"),
    "calc.unknown_fact": ("integer", "add:\n  - calc.a\n  - calc.bb"),
    "calc.date_plus_number": ("integer", "add:\n  - calc.a\n  - calc.d1"),
    "calc.string_above_number": ("boolean", "fact: calc.name\ngt: 3"),
    "calc.item_date_with_number": ("integer", "count: calc.payments\nwhere: {item: amount, lte: calc.d1}"),
    "calc.divide_unrounded": ("integer", "divide: [calc.a, calc.b]"),
    "calc.round_unrounded": ("integer", "round: calc.a"),
    "calc.add_years_unrounded": ("date", "add_years: [calc.d1, 1]"),
    "calc.add_months_unrounded": ("date", "add_months: [calc.d1, 1]"),
    "calc.years_unrounded": ("integer", "years_between: [calc.d1, calc.d1]"),
    "calc.rounding_nearest": ("integer", "divide: [calc.a, calc.b]\nrounding: nearest"),
    "calc.date_declared_integer": ("integer", "add_days: [calc.d1, 1]"),
    "calc.decimal_declared_integer": ("integer", "divide: [calc.a, calc.b]\nrounding: down\nplaces: 2"),
    "calc.number_declared_boolean": ("boolean", "add: [calc.a, 1]"),
    "calc.string_declared_date": ("date", "fact: calc.name"),
    "calc.unknown_operator": ("integer", "ad: [calc.a, 1]"),
    "calc.item_outside_a_list": ("integer", "add:\n  - calc.a\n  - {item: amount}"),
    "calc.item_field_misspelt": ("integer", "sum: {item: amont}\nover: calc.payments"),
    "calc.unknown_table": ("integer", "lookup: calc.grade\nkey: {text: gold}"),
    "calc.param_on_a_number": ("integer", "param: money.mci_kzt\non: calc.a"),
    # a valid fact among them: a whole number may compute a fact declared decimal
    "calc.whole_declared_decimal": ("decimal", "add: [calc.a, 1]"),
}


@pytest.fixture(scope="module")
def refused(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, tuple[Problem, ...]]:
    """The broken what-if file and the problems its policy is refused with."""
    directory = policy_copy(tmp_path_factory.mktemp("broken"))
    path = directory / "what-if.yaml"
    facts = "".join(fact_yaml(name, kind, formula) for name, (kind, formula) in BROKEN.items())
    path.write_text(BROKEN_HEAD + facts, encoding="utf-8")
    with pytest.raises(PolicyError) as caught:
        rules.load_policy(directory)
    return path, caught.value.problems


def problem_of(refused: tuple[Path, tuple[Problem, ...]], fact: str) -> Problem:
    """The one problem placed at ``fact``."""
    _, problems = refused
    found = [p for p in problems if f" at facts.{fact}." in p.where or p.where.endswith(f" at facts.{fact}")]
    assert len(found) == 1, [str(p) for p in problems]
    return found[0]


def line_of(path: Path, fact: str, snippet: str) -> int:
    """The 1-based line of the first ``snippet`` in the declaration of ``fact`` in ``path``."""
    text = path.read_text(encoding="utf-8")
    header = f"  {fact}:\n"
    assert text.count(header) == 1, f"the test expects {header!r} once in {path.name}"
    return text[: text.index(snippet, text.index(header))].count("\n") + 1


def at(refused: tuple[Path, tuple[Problem, ...]], fact: str, snippet: str, place: str) -> str:
    """``file:line at facts.FACT.PLACE``, the line being that of ``snippet`` in the fact."""
    path, _ = refused
    return f"{path}:{line_of(path, fact, snippet)} at facts.{fact}{place}"


def test_every_broken_formula_is_reported_in_one_round_and_nothing_else(refused):
    _, problems = refused
    places = {p.where.split(" at facts.", 1)[1].split(".formulas", 1)[0] for p in problems}
    expected = set(BROKEN) - {"calc.cycle_two", "calc.whole_declared_decimal"}
    assert places == expected
    assert len(problems) == len(expected)


def test_two_facts_computed_from_each_other_are_refused_naming_the_cycle(refused):
    problem = problem_of(refused, "calc.cycle_one")
    assert problem.where == at(refused, "calc.cycle_one", "    formulas:", ".formulas")
    assert problem.message == (
        "the facts' formulas form a cycle: calc.cycle_one -> calc.cycle_two -> calc.cycle_one"
    )


def test_a_fact_computed_from_itself_is_refused_as_a_cycle(refused):
    problem = problem_of(refused, "calc.self_cycle")
    assert problem.where == at(refused, "calc.self_cycle", "    formulas:", ".formulas")
    assert problem.message == "the facts' formulas form a cycle: calc.self_cycle -> calc.self_cycle"


def test_an_unknown_fact_is_refused_with_a_did_you_mean(refused):
    problem = problem_of(refused, "calc.unknown_fact")
    assert problem.where == at(refused, "calc.unknown_fact", "- calc.bb", ".formulas[0].formula.add[1]")
    assert problem.message == "unknown fact 'calc.bb' (did you mean 'calc.b'?)"


def test_an_unknown_table_is_refused_with_a_did_you_mean(refused):
    problem = problem_of(refused, "calc.unknown_table")
    assert problem.where == at(refused, "calc.unknown_table", "lookup:", ".formulas[0].formula.lookup")
    assert problem.message == "unknown table 'calc.grade' (did you mean 'calc.grades'?)"


def test_a_parameter_read_on_a_number_instead_of_a_day_is_refused(refused):
    problem = problem_of(refused, "calc.param_on_a_number")
    assert problem.where.endswith(" at facts.calc.param_on_a_number.formulas[0].formula.on")
    assert problem.message == "'on' takes a date, not an integer"


def test_adding_a_date_to_a_number_is_refused(refused):
    problem = problem_of(refused, "calc.date_plus_number")
    assert problem.where == at(refused, "calc.date_plus_number", "- calc.d1", ".formulas[0].formula.add[1]")
    assert problem.message == "'add' takes numbers, not a date"


def test_comparing_a_string_fact_with_a_number_is_refused(refused):
    problem = problem_of(refused, "calc.string_above_number")
    assert problem.where == at(refused, "calc.string_above_number", "gt: 3", ".formulas[0].formula.gt")
    assert re.fullmatch(r"a string is compared with an? integer", problem.message), problem.message


def test_an_item_field_compared_with_a_value_of_another_type_is_refused(refused):
    problem = problem_of(refused, "calc.item_date_with_number")
    assert problem.where == at(
        refused, "calc.item_date_with_number", "where:", ".formulas[0].formula.where.lte"
    )
    assert re.fullmatch(r"an? integer is compared with a date", problem.message), problem.message


@pytest.mark.parametrize(
    ("fact", "modes"),
    [
        pytest.param("calc.divide_unrounded", ROUNDINGS, id="divide"),
        pytest.param("calc.round_unrounded", ROUNDINGS, id="round"),
        pytest.param("calc.add_years_unrounded", DATE_ROUNDINGS, id="add_years"),
        pytest.param("calc.add_months_unrounded", DATE_ROUNDINGS, id="add_months"),
        pytest.param("calc.years_unrounded", DATE_ROUNDINGS, id="years_between"),
    ],
)
def test_an_operator_that_rounds_without_its_rounding_is_refused(refused, fact, modes):
    problem = problem_of(refused, fact)
    assert problem.where == at(refused, fact, "        formula:", ".formulas[0].formula.rounding")
    assert problem.message == f"state the rounding: one of {modes}"


def test_a_rounding_mode_that_does_not_exist_is_refused(refused):
    problem = problem_of(refused, "calc.rounding_nearest")
    where = at(refused, "calc.rounding_nearest", "rounding: nearest", ".formulas[0].formula.rounding")
    assert problem.where == where
    assert problem.message == f"'nearest' is not one of {ROUNDINGS}"


@pytest.mark.parametrize(
    ("fact", "declared", "gives"),
    [
        pytest.param("calc.date_declared_integer", "integer", "date", id="a date declared integer"),
        pytest.param("calc.decimal_declared_integer", "integer", "decimal", id="a decimal declared integer"),
        pytest.param("calc.number_declared_boolean", "boolean", "integer", id="a number declared boolean"),
        pytest.param("calc.string_declared_date", "date", "string", id="a string declared date"),
    ],
)
def test_a_formula_whose_type_disagrees_with_the_declared_type_is_refused(refused, fact, declared, gives):
    problem = problem_of(refused, fact)
    assert problem.where == at(refused, fact, "        formula:", ".formulas[0].formula")
    assert problem.message == f"the fact is declared {declared}, but its formula gives a {gives}"


def test_a_whole_number_formula_may_compute_a_fact_declared_decimal(refused):
    _, problems = refused
    assert not any("calc.whole_declared_decimal" in str(problem) for problem in problems)


def test_an_unknown_operator_is_refused_with_a_did_you_mean(refused):
    problem = problem_of(refused, "calc.unknown_operator")
    assert problem.where == at(refused, "calc.unknown_operator", "        formula:", ".formulas[0].formula")
    assert problem.message.startswith("unknown operator 'ad' (did you mean 'add'?); the operators are add, ")


def test_an_item_outside_a_list_operator_is_refused(refused):
    problem = problem_of(refused, "calc.item_outside_a_list")
    where = at(refused, "calc.item_outside_a_list", "- {item: amount}", ".formulas[0].formula.add[1].item")
    assert problem.where == where
    assert problem.message == "'item' is read only inside sum, count, minimum, maximum or select"


def test_an_item_field_the_list_lacks_is_refused_with_a_did_you_mean(refused):
    problem = problem_of(refused, "calc.item_field_misspelt")
    where = at(refused, "calc.item_field_misspelt", "sum: {item: amont}", ".formulas[0].formula.sum.item")
    assert problem.where == where
    assert problem.message == "the items have no field 'amont' (did you mean 'amount'?); fields: amount"


# --- regressions: bugs found while these tests were written -------------------------------------


def test_a_lookup_field_named_by_a_computed_fact_declared_after_it_loads(tmp_path):
    directory = policy_copy(tmp_path)
    facts = fact_yaml(
        "calc.weighed", "integer", "lookup: calc.grades\nkey: {text: gold}\nfield: calc.column"
    ) + fact_yaml(
        "calc.column", "string", "if: {fact: calc.a, gt: 0}\nthen: {text: price}\nelse: {text: weight}"
    )
    (directory / "what-if.yaml").write_text(BROKEN_HEAD + facts, encoding="utf-8")
    # Written in the other order (calc.column first) the same facts load; in this order:
    evaluator = rules.Evaluator(rules.load_policy(directory))
    verdict = evaluator.evaluate({"person_id": "f", "calc_input": {"a": 1}}, on=ON)
    assert verdict.model_dump(mode="json")["calc"]["status"] == "done"


def test_literals_that_are_not_finite_numbers_are_refused_at_load(tmp_path):
    directory = policy_copy(tmp_path)
    infinite = {
        "calc.divide_by_infinity": "divide: [calc.a, .inf]\nrounding: down",
        "calc.round_nan": "round: .nan\nrounding: down",
        "calc.nan_below_a": "if: {value: .nan, lt: calc.a}\nthen: 1\nelse: 2",
        "calc.divide_by_1e400": "divide: [calc.a, 1.0e400]\nrounding: down",
    }
    path = directory / "what-if.yaml"
    path.write_text(
        BROKEN_HEAD + "".join(fact_yaml(name, "integer", formula) for name, formula in infinite.items()),
        encoding="utf-8",
    )
    with pytest.raises(PolicyError) as caught:
        rules.load_policy(directory)
    places = {p.where.split(" at facts.", 1)[1].split(".formulas", 1)[0] for p in caught.value.problems}
    assert places == set(infinite)


# --- The nodes of a checked formula are immutable records, equal only to themselves ----------


def _a_checked_formula() -> Any:
    from rules.policy.loader import load_policy

    policy = load_policy(POLICY_DIR)
    return next(node for dated in policy.catalogue.formulas.values() for _, node in dated if node is not None)


def test_a_formula_node_is_built_in_order_or_by_name_and_then_cannot_change():
    from dataclasses import FrozenInstanceError

    from rules.policy.nodes import Compare, Literal, Ref
    from rules.policy.types import ValueType

    number, boolean = ValueType("number"), ValueType("boolean")
    in_order = Compare(boolean, "lt", Ref(number, "stay.days"), Literal(number, 90))
    by_name = Compare(type=boolean, op="lt", left=Ref(number, "stay.days"), right=Literal(number, 90))
    assert (in_order.op, in_order.left.name, in_order.right.value) == ("lt", "stay.days", 90)
    assert vars(in_order).keys() == vars(by_name).keys() == {"type", "op", "left", "right"}
    assert repr(in_order.left) == f"Ref(type={number!r}, name='stay.days')"
    assert in_order != by_name and in_order == in_order  # equal only to itself, as before
    assert len({in_order, by_name}) == 2
    with pytest.raises(FrozenInstanceError):
        in_order.op = "gt"
    with pytest.raises(FrozenInstanceError):
        del in_order.op
    for wrong in (lambda: Ref(number), lambda: Ref(number, "a", "b"), lambda: Ref(number, nam="a")):
        with pytest.raises(TypeError):
            wrong()
    with pytest.raises(TypeError):
        Ref(number, "a", type=number)


def test_a_class_variable_of_a_node_class_is_not_a_field_whether_its_annotation_is_text_or_not():
    from typing import ClassVar

    from rules.policy.nodes import Node

    for written in ({"name": "str", "kind": "ClassVar[str]"}, {"name": str, "kind": ClassVar[str]}):
        made = type("Made", (Node,), {"__annotations__": written, "__module__": __name__, "kind": "k"})
        assert made._fields == ("type", "name")


def test_a_checked_formula_survives_the_cache_of_loaded_policies_node_for_node():
    import copy
    import pickle

    node = _a_checked_formula()
    for again in (pickle.loads(pickle.dumps(node, protocol=pickle.HIGHEST_PROTOCOL)), copy.deepcopy(node)):
        assert type(again) is type(node) and again is not node
        assert repr(again) == repr(node)
