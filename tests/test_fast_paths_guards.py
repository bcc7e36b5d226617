"""The firing guards skip only programmes that durable-rules would not fire (rules.engine.guards).

An evaluator skips a programme whose every rule requires, of a fact known without a formula, a
value the case does not have: it computes none of the programme's other facts and asserts
nothing for it. Checked three ways:

* against durable-rules itself: whenever a guard says a programme cannot fire, a ruleset of the
  same patterns, without memo or guard, fires none of its rules -- for rules written in every
  operator of the condition language, for raw patterns on values of any type, and for the
  shipped policy's ruleset on engine facts near its constants;
* verdicts: every example case, and generated travellers, evaluated with and without guards
  give the same verdict, trace included;
* what a guard saves: the sanction programme of a traveller who did not overstay computes none
  of its facts.
"""

from __future__ import annotations

import datetime as dt
import functools
import itertools
from pathlib import Path
from typing import Any

import pytest
from budget import examples
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from test_compare import LIMIT_IN_2024_ONLY, MCI_OF_2024_RAISED, SOURCE, same_when_skipping
from test_fast_paths_firing import (
    _KEYS,
    PROGRAMMES,
    SHIPPED_PATTERNS,
    compiled_language_rules,
    language_fact_lists,
    language_rules,
    raw_facts,
    raw_patterns,
    shipped_batches,
)
from test_fast_paths_verdict import AMENDMENTS, CASES, POLICY, ROOT
from test_stay_properties import any_persons, cases, persons

import rules
from models.policy import Rule
from rules.analysis.impact import Comparison
from rules.engine.durable import CompiledRuleset
from rules.engine.guards import FiringGuards, requirements
from rules.engine.patterns import compile_rule
from rules.policy.documents import parse_document
from rules.policy.loader import AmendmentText

SETTINGS = settings(max_examples=examples(120), deadline=None, suppress_health_check=[HealthCheck.too_slow])
_names = itertools.count()


def _every_property(_: str) -> bool:
    return True


def _guards_hold(
    patterns: dict[str, Any], programme_of: dict[str, str], batches: list[list[dict[str, Any]]]
) -> int:
    """Fire each batch in durable-rules; a programme a guard rules out must fire nothing.
    How many programme facts the guards ruled out."""
    guards = FiringGuards(patterns, programme_of, _every_property)
    plain = CompiledRuleset(f"guard-test-{next(_names)}", patterns)
    ruled_out = 0
    try:
        for batch in batches:
            fired = {programme_of[name] for name, _ in plain.fire(batch)}
            for fact in batch:
                if not guards.may_fire(fact["t"], fact.get):
                    ruled_out += 1
                    assert fact["t"] not in fired, (patterns, fact)
    finally:
        plain.close()
    return ruled_out


@SETTINGS
@given(language_rules, language_fact_lists)
def test_a_guard_rules_out_only_what_durable_rules_does_not_fire_for_every_operator(rule_list, facts):
    patterns = compiled_language_rules(rule_list)
    _guards_hold(patterns, {rule.id: "p" for rule in rule_list}, [[fact] for fact in facts])


@SETTINGS
@given(
    st.lists(st.tuples(st.sampled_from(["x", "y"]), raw_patterns), min_size=1, max_size=5),
    st.lists(raw_facts(), min_size=5, max_size=25),
)
def test_a_guard_rules_out_only_what_durable_rules_does_not_fire_on_raw_patterns_and_any_values(
    pattern_list, batches
):
    patterns = {
        f"r{index}": {"$and": [{"t": fact_type}, pattern]}
        for index, (fact_type, pattern) in enumerate(pattern_list)
    }
    programme_of = {name: pattern["$and"][0]["t"] for name, pattern in patterns.items()}
    _guards_hold(patterns, programme_of, batches)


def _shipped_programme_of() -> dict[str, str]:
    return {rule_id: pattern["$and"][0]["t"] for rule_id, pattern in SHIPPED_PATTERNS.items()}


@settings(max_examples=examples(60), deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(shipped_batches(), min_size=5, max_size=30))
def test_a_guard_rules_out_only_what_durable_rules_does_not_fire_under_the_shipped_policy(batches):
    _guards_hold(SHIPPED_PATTERNS, _shipped_programme_of(), batches)


def test_the_shipped_sanction_and_entry_programmes_have_guards_and_the_stay_limit_has_none():
    guards = FiringGuards(SHIPPED_PATTERNS, _shipped_programme_of(), _every_property)
    assert {"sanction", "entry"} <= set(guards.guards) < set(PROGRAMMES)
    assert "stay" not in guards.guards  # its exemptions require nothing of a cheap fact


def test_requirements_are_equalities_and_in_lists_of_one_type_other_parts_left_out():
    pattern = {
        "$and": [
            {"t": "p"},
            {"$gte": {"as_of": 738547}},
            {"a": "overstay"},
            {"$and": [{"$or": [{"b": "x"}, {"b": "y"}]}, {"c": True}]},
            {"$or": [{"d": "x"}, {"d": 1}]},  # constants of two types: left out
            {"$or": [{"e": "x"}, {"f": "x"}]},  # two properties: left out
            {"$neq": {"g": "x"}},
            {"h": 5},  # a number: left out
            {"a": "overstay"},
        ]
    }
    found = dict((key, (kind, constants)) for key, kind, constants in requirements(pattern, _every_property))
    assert found == {
        "a": (str, frozenset({"overstay"})),
        "b": (str, frozenset({"x", "y"})),
        "c": (bool, frozenset({True})),
    }
    assert requirements(pattern, lambda key: key != "a") == tuple(
        (key, kind, constants) for key, (kind, constants) in found.items() if key != "a"
    )


def test_a_value_of_another_type_than_the_constants_is_taken_as_possibly_equal():
    guards = FiringGuards({"r": {"$and": [{"t": "p"}, {"a": "x"}]}}, {"r": "p"}, _every_property)
    assert not guards.may_fire("p", {"a": "y"}.get)
    assert not guards.may_fire("p", {}.get)  # absent: the comparison is false
    assert guards.may_fire("p", {"a": "x"}.get)
    assert guards.may_fire("p", {"a": 1}.get)
    assert guards.may_fire("p", {"a": ["x"]}.get)
    assert guards.may_fire("other", {}.get)  # no guard: may always fire


# --- verdicts with and without guards ----------------------------------------------------------


def _evaluators(amendments: tuple[str, ...] = ()) -> tuple[rules.Evaluator, rules.Evaluator]:
    policy = rules.load_policy(POLICY, amendments=[AMENDMENTS / name for name in amendments])
    return rules.Evaluator(policy), rules.Evaluator(policy, guards=False)


_KEPT: dict[tuple[str, ...], tuple[rules.Evaluator, rules.Evaluator]] = {}


def _kept(amendments: tuple[str, ...] = ()) -> tuple[rules.Evaluator, rules.Evaluator]:
    if amendments not in _KEPT:
        _KEPT[amendments] = _evaluators(amendments)
    return _KEPT[amendments]


def _same_verdict(guarded: rules.Evaluator, unguarded: rules.Evaluator, person: Any, on: Any) -> None:
    outcomes = []
    for evaluator in (guarded, unguarded):
        try:
            outcomes.append(evaluator.evaluate(person, on).model_dump_json())
        except rules.KzmigError as error:
            outcomes.append(f"{type(error).__name__}: {error}")
    assert outcomes[0] == outcomes[1]


@pytest.mark.parametrize("path", CASES, ids=lambda path: path.relative_to(ROOT).as_posix())
def test_every_example_case_has_the_same_verdict_with_and_without_guards(path: Path) -> None:
    case = parse_document(path.read_text(encoding="utf-8"), str(path)).data
    guarded, unguarded = _kept(tuple(case.get("amend", ())))
    _same_verdict(guarded, unguarded, case["person"], case["on"])


@settings(max_examples=examples(150), deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(case=cases(any_persons()), imposed=st.integers(0, 3))
def test_any_traveller_on_any_day_has_the_same_verdict_with_and_without_guards(case, imposed) -> None:
    person, on = case
    if imposed:  # an earlier penalty in the record: the repeat rules read it
        person = {
            **person,
            "penalties": {
                "imposed": [
                    {
                        "article": 517,
                        "part": 3,
                        "imposed_on": (on - dt.timedelta(days=30 * imposed)).isoformat(),
                    }
                ]
            },
        }
    guarded, unguarded = _kept()
    _same_verdict(guarded, unguarded, person, on)


# --- what a guard saves -------------------------------------------------------------------------


def test_2026_03_20_a_traveller_who_did_not_overstay_computes_no_fact_of_the_sanction_programme(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from rules.engine.case import Case

    computed: list[str] = []
    original = Case._compute

    def counting(self: Case, name: str) -> Any:
        computed.append(name)
        return original(self, name)

    monkeypatch.setattr(Case, "_compute", counting)
    person = {
        "person_id": "P-1",
        "citizenship": "RU",
        "trips": [{"entry": "2026-03-01", "exit": "2026-03-10"}],
    }
    guarded, unguarded = _evaluators()
    assert guarded.evaluate(person, "2026-03-20").stay.status.value == "compliant"
    assert not [name for name in computed if name.startswith("sanction.")]
    computed.clear()
    unguarded.evaluate(person, "2026-03-20")
    assert [name for name in computed if name.startswith("sanction.")]  # without: computed, unread


def test_the_checks_against_durable_rules_do_rule_programmes_out() -> None:
    """The properties above are not vacuous: here a guard rules a programme out at each level."""
    language = {
        "p.r": compile_rule(
            Rule.model_validate(
                {
                    "id": "p.r",
                    "title": "A rule under test",
                    "source": {"title": "Test source", "href": "https://example.org/law"},
                    "from": dt.date(2000, 1, 1),
                    "when": {"all": [{"fact": "p.code", "in": ["RU", "BY"]}, {"fact": "p.count", "gt": 90}]},
                }
            ),
            {},
            {},
            _KEYS,
        )
    }
    day = dt.date(2024, 1, 1).toordinal()
    facts = [
        {"id": "p", "t": "p", "as_of": day, _KEYS["p.code"]: code, _KEYS["p.count"]: 91}
        for code in ("KG", "RU")
    ]
    assert _guards_hold(language, {"p.r": "p"}, [[fact] for fact in facts]) == 1
    sanction = {"id": "sanction", "t": "sanction", "as_of": day}
    status_key = next(
        key
        for key, fact in rules.Evaluator(rules.load_policy())._fact_of_key.items()
        if fact == "stay.status"
    )
    batches = [[{**sanction, status_key: status}] for status in ("compliant", "overstay")]
    assert _guards_hold(SHIPPED_PATTERNS, _shipped_programme_of(), batches) == 1


# --- what an impact analysis leaves out ----------------------------------------------------------

#: A sanction rule for travellers who did not overstay: an amendment that opens the guard of the
#: sanction programme (a record it ruled out under the baseline must be evaluated again).
NOTICE_RULE = """
schema: kzmig/policy/2
title: "Test: a warning for every traveller within the limit from 1 January 2026"
x-sources:
  test: &test {title: A hypothetical rule for a test, href: "https://example.org/law"}
rules:
  - id: sanction.notice
    title: A traveller within the limit gets a warning (hypothetical)
    source: *test
    from: 2026-01-01
    when: {fact: stay.status, eq: compliant}
    then: {status: warning}
"""


#: Amendments of the law of the past only (2024): a verdict given later still reads it, for
#: the overstay days of 2024 and for the tenge of a fine of 2024.
#: Rows of a table the stay mechanism looks up by the citizenship: China and the United States
#: moved to the regime of 14 days per entry and 42 in 180 from 2025. A record of another
#: citizenship looks up no row that differs, and is evaluated once.
CN_US_MOVED = "tables:\n  stay.regime_of_citizenship:\n    description: CN and US moved (a test)\n" + (
    "    key: citizenship\n    rows:\n"
    "      CN: [{from: 2023-01-27, value: visa_free_14_42, source: *what_if},"
    " {from: 2023-11-10, value: visa_free, source: *what_if},"
    " {from: 2025-01-01, value: visa_free_14_42, source: *what_if}]\n"
    "      US: [{from: 2023-01-27, value: visa_free, source: *what_if},"
    " {from: 2025-01-01, value: visa_free_14_42, source: *what_if}]\n"
)
PAST_ONLY = {
    name: f"schema: kzmig/policy/2\ntitle: {title} (a test)\n{SOURCE}{body}"
    for name, title, body in (
        ("limit-of-2024", "A 60-day limit in 2024 only", LIMIT_IN_2024_ONLY),
        ("mci-of-2024", "The MCI of 2024 raised", MCI_OF_2024_RAISED),
    )
}
ROWS = {
    "cn-us-regime-rows": f"schema: kzmig/policy/2\ntitle: CN and US moved (a test)\n{SOURCE}{CN_US_MOVED}"
}


@functools.cache
def _comparisons(amendment: str) -> tuple[Comparison, Comparison]:
    if amendment == "notice":
        text = NOTICE_RULE
    elif amendment in PAST_ONLY or amendment in ROWS:
        text = {**PAST_ONLY, **ROWS}[amendment]
    else:
        text = (AMENDMENTS / amendment).read_text(encoding="utf-8")
    policy = rules.load_policy(POLICY, amendments=[AmendmentText(text, amendment)])
    baseline, amended = _kept()[0], rules.Evaluator(policy)
    return Comparison(baseline, amended), Comparison(baseline, amended, skip_unaffected=True)


@settings(max_examples=examples(150), deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    case=cases(any_persons()),
    imposed=st.integers(0, 3),
    amendment=st.sampled_from(
        ["sanction-fines-doubled.yaml", "notice", "limit-60-days.yaml", *PAST_ONLY, *ROWS]
    ),
)
def test_a_record_a_guard_left_out_is_judged_as_a_full_comparison_judges_it(case, imposed, amendment) -> None:
    person, on = case
    if imposed:
        earlier = (on - dt.timedelta(days=30 * imposed)).isoformat()
        person = {**person, "penalties": {"imposed": [{"article": 517, "part": 3, "imposed_on": earlier}]}}
    full, skipping = _comparisons(amendment)
    same_when_skipping(full, skipping, person, on)


@st.composite
def stays_of_2024_judged_later(draw: st.DrawFn) -> tuple[dict[str, Any], dt.date]:
    """A traveller with one to three stays of 2024 (long enough to break a 60-day or a 90-day
    limit), judged on a day of 2025 or 2026, when the law of 2024 is no longer in force."""
    trips, day = [], dt.date(2024, 1, 1) + dt.timedelta(days=draw(st.integers(0, 60)))
    for _ in range(draw(st.integers(1, 3))):
        length = draw(st.integers(20, 110))
        trips.append({"entry": day.isoformat(), "exit": (day + dt.timedelta(days=length - 1)).isoformat()})
        day += dt.timedelta(days=length + draw(st.integers(1, 40)))
    person = {"person_id": "P-2024", "citizenship": draw(st.sampled_from(["RU", "KG", "DE"])), "trips": trips}
    return person, draw(st.dates(dt.date(2025, 1, 1), dt.date(2026, 6, 30)))


@settings(max_examples=examples(60), deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(case=stays_of_2024_judged_later(), amendment=st.sampled_from(sorted(PAST_ONLY)))
def test_a_record_judged_after_an_amendment_of_the_past_is_judged_as_a_full_comparison_judges_it(
    case, amendment
) -> None:
    person, on = case
    full, skipping = _comparisons(amendment)
    same_when_skipping(full, skipping, person, on)


def test_2026_03_20_a_new_sanction_rule_for_compliant_travellers_reaches_them_despite_the_guard() -> None:
    full, skipping = _comparisons("notice")
    person = {
        "person_id": "P-1",
        "citizenship": "RU",
        "trips": [{"entry": "2026-03-01", "exit": "2026-03-10"}],
    }
    on = dt.date(2026, 3, 20)
    assert full.compare(person, on).statuses["sanction"] == (None, "warning")
    assert skipping.compare(person, on).statuses["sanction"] == (None, "warning")


@settings(max_examples=examples(120), deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(case=cases(persons(citizenships=("CN", "US", "RU", None))))
def test_a_traveller_of_a_moved_or_an_unmoved_citizenship_is_judged_as_a_full_comparison_judges_it(
    case,
) -> None:
    """China and the United States moved from 2025: a Russian (or a record with no
    citizenship) looks up no row that differs and is evaluated once; every record is judged as
    the full comparison judges it."""
    person, on = case
    full, skipping = _comparisons("cn-us-regime-rows")
    same_when_skipping(full, skipping, person, on)
