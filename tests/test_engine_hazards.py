"""One regression test per durable-rules 2.0.28 hazard (docs/durable-rules.md),
at the level of kzmig's wrapper :class:`rules.engine.durable.CompiledRuleset` and of :class:`Evaluator`.

The hazards that end in a segfault or a hang (a session in which no action ran; more than
1,024 live sessions; 512 sibling conditions) run in a child interpreter, so that a regression
fails one test cleanly instead of killing the whole test run.
"""

from __future__ import annotations

import datetime as dt
import gc
import itertools
import shutil
import subprocess
import sys
import textwrap
import threading
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import pytest

import rules
from rules import EngineError
from rules.engine.durable import CompiledRuleset

POLICY_DIR = Path(__file__).resolve().parents[1] / "policies" / "kz"
_names = itertools.count()


def ruleset(
    patterns: dict[str, dict[str, Any]], cache_size: int = 0, max_alternatives: int | None = None
) -> CompiledRuleset:
    return CompiledRuleset(
        f"hazard-test-{next(_names)}", patterns, cache_size=cache_size, max_alternatives=max_alternatives
    )


RAW_DURABLE = 10_000  # a chunk limit high enough to hand durable-rules every pattern at once


def run_isolated(code: str, timeout: float = 120) -> subprocess.CompletedProcess[str]:
    """Run ``code`` in a fresh interpreter: a segfault or a hang there is a failed test, not a dead run."""
    return subprocess.run(
        [sys.executable, "-c", textwrap.dedent(code)], capture_output=True, text=True, timeout=timeout
    )


def policy_copy(tmp_path: Path, name: str = "kz") -> Path:
    target = tmp_path / name
    shutil.copytree(POLICY_DIR, target)
    return target


def extra_rules_file(directory: Path, rule_bodies: list[str]) -> None:
    """Add a file of extra stay rules, each given as the YAML lines after its id/title/source."""
    lines = ["schema: kzmig/policy/2", "title: Extra rules for an engine hazard test", "rules:"]
    for index, body in enumerate(rule_bodies):
        lines += [
            f"  - id: stay.extra.r{index}",
            f"    title: Extra rule number {index}",
            "    source: {title: Test source, href: https://example.org/law}",
            *(f"    {line}" for line in body.splitlines()),
        ]
    (directory / "extra.yaml").write_text("\n".join(lines) + "\n", encoding="utf-8")


# 75 days in Kazakhstan (entry and exit day counted), an EAEU citizen: no per-entry cap.
SEVENTY_FIVE_DAYS = {
    "person_id": "E-75",
    "citizenship": "RU",
    "trips": [{"entry": "2024-01-01", "exit": "2024-03-15"}],
}
ON_EXIT = dt.date(2024, 3, 15)


# --- a case matching no rule: the end-marker sentinel ----------------------------------------


def test_case_matching_no_rule_fires_nothing_and_does_not_crash():
    result = run_isolated(
        """
        from rules.engine.durable import CompiledRuleset
        pattern = {"$and": [{"t": "stay"}, {"days_used": -1}]}
        never = CompiledRuleset("never", {"never": pattern}, cache_size=0)
        results = [never.fire([{"id": "stay", "t": "stay", "days_used": day}]) for day in range(50)]
        results.append(never.fire([]))
        results.append(never.fire([{"id": "other", "t": "unrelated"}]))
        assert all(r == () for r in results), results
        never.close()
        print("ok")
        """
    )
    assert (result.returncode, result.stdout.strip()) == (0, "ok"), result.stderr


def test_case_no_rule_decides_is_an_evaluation_error_and_the_next_case_is_still_decided():
    evaluator = rules.Evaluator(rules.load_policy(), cache_size=0)
    for _ in range(3):
        with pytest.raises(rules.EvaluationError, match="no rule in force applies"):
            evaluator.evaluate(SEVENTY_FIVE_DAYS, on=dt.date(2010, 1, 1))  # before any law encoded
    assert evaluator.evaluate(SEVENTY_FIVE_DAYS, on=ON_EXIT).stay.status == "compliant"


# --- more than 1,024 cases in a row: every session is freed ---------------------------------


def test_three_thousand_distinct_cases_in_a_row_free_their_sessions():
    result = run_isolated(
        """
        from rules.engine.durable import CompiledRuleset
        pattern = {"$and": [{"t": "stay"}, {"$gt": {"days": 10}}]}
        rs = CompiledRuleset("many-cases", {"big": pattern}, cache_size=0)
        for case in range(3000):
            firings = rs.fire([{"id": "stay", "t": "stay", "days": case}])
            expected = (("big", case),) if case > 10 else ()
            got = tuple((name, fact["days"]) for name, fact in firings)
            assert got == expected, (case, firings)
        print("ok")
        """
    )
    assert (result.returncode, result.stdout.strip()) == (0, "ok"), result.stderr


def test_three_thousand_distinct_evaluations_without_cache_all_get_their_verdict():
    evaluator = rules.Evaluator(rules.load_policy(), cache_size=0)
    start = dt.date(2024, 1, 1)
    for case in range(3000):
        days = case % 120 + 1  # 1..120 days in one open trip
        person = {"person_id": f"C-{case}", "citizenship": "RU", "trips": [{"entry": start.isoformat()}]}
        verdict = evaluator.evaluate(person, on=start + dt.timedelta(days=days - 1))
        assert verdict.stay.days_used == days
        assert verdict.stay.status == ("compliant" if days <= 90 else "overstay")


# --- facts are told apart by explicit ids; every fact needs id and t -------------------------


def test_facts_with_identical_content_are_kept_apart_by_their_ids():
    rs = ruleset({"any": {"t": "trip"}})
    firings = rs.fire([{"id": "trip-1", "t": "trip", "days": 5}, {"id": "trip-2", "t": "trip", "days": 5}])
    assert sorted(fact["id"] for _, fact in firings) == ["trip-1", "trip-2"]


@pytest.mark.parametrize(
    "fact",
    [
        pytest.param({"t": "stay", "days": 5}, id="no id"),
        pytest.param({"id": "stay", "days": 5}, id="no type t"),
    ],
)
def test_fact_without_id_or_type_is_refused(fact):
    rs = ruleset({"any": {"t": "stay"}})
    with pytest.raises(EngineError, match="explicit string 'id' and a type 't'"):
        rs.fire([fact])
    assert rs.fire([{"id": "stay", "t": "stay"}])[0][0] == "any"  # still usable


def test_facts_whose_ids_collide_in_durables_hash_are_not_silently_merged():
    rs = ruleset({"any": {"t": "trip"}})
    facts = [{"id": "xcdcgeux", "t": "trip", "days": 1}, {"id": "rghhdprx", "t": "trip", "days": 50}]
    try:
        firings = rs.fire(facts)
    except EngineError:
        return  # refusing the batch is an acceptable guard
    assert sorted(fact["id"] for _, fact in firings) == ["rghhdprx", "xcdcgeux"]


def test_fact_using_the_end_markers_id_does_not_poison_the_ruleset():
    rs = ruleset({"any": {"t": "trip"}})
    try:
        rs.fire([{"id": "__end__", "t": "trip"}])
    except EngineError:
        pass  # refusing the reserved id is fine
    assert [name for name, _ in rs.fire([{"id": "trip-1", "t": "trip"}])] == ["any"]


def test_fact_matching_no_rule_beside_one_that_matches_loses_no_firing():
    rs = ruleset({"any": {"t": "trip"}})
    for facts in (
        [{"id": "trip-1", "t": "trip"}, {"id": "other", "t": "unrelated"}],
        [{"id": "other", "t": "unrelated"}, {"id": "trip-1", "t": "trip"}],
    ):
        assert [(name, fact["id"]) for name, fact in rs.fire(facts)] == [("any", "trip-1")]


# --- ruleset names that durable reads as statecharts or flowcharts ---------------------------


@pytest.mark.parametrize("name", ["kz$state", "kz@abc$flow", "$state", "$flow"])
def test_ruleset_name_read_as_statechart_or_flowchart_is_refused(name):
    with pytest.raises(EngineError, match="statechart or flowchart"):
        CompiledRuleset(name, {"any": {"t": "stay"}})


def test_policy_name_cannot_make_a_statechart_ruleset_name(tmp_path):
    directory = policy_copy(tmp_path)
    header = directory / "policy.yaml"
    header.write_text(header.read_text(encoding="utf-8").replace("  name: kz\n", "  name: kz$state\n"))
    with pytest.raises(rules.PolicyError) as caught:
        rules.load_policy(directory)
    assert any("policy.name" in problem.where for problem in caught.value.problems)


# --- two policy versions side by side ----------------------------------------------------------


def test_baseline_and_amended_copy_live_side_by_side_with_their_own_verdicts(tmp_path):
    amended_dir = policy_copy(tmp_path, "kz-60")
    limit_file = amended_dir / "stay-limit.yaml"
    text = limit_file.read_text(encoding="utf-8")
    old = "      - from: 2023-01-27\n        value: 90\n"
    assert text.count(old) == 1
    limit_file.write_text(
        text.replace(old, "      - from: 2023-01-27\n        value: 60\n"), encoding="utf-8"
    )

    baseline = rules.Evaluator(rules.load_policy(POLICY_DIR), cache_size=0)
    amended = rules.Evaluator(rules.load_policy(amended_dir), cache_size=0)
    before = baseline.evaluate(SEVENTY_FIVE_DAYS, on=ON_EXIT)
    what_if = amended.evaluate(SEVENTY_FIVE_DAYS, on=ON_EXIT)
    after = baseline.evaluate(SEVENTY_FIVE_DAYS, on=ON_EXIT)

    assert (before.stay.status, before.stay.limit) == ("compliant", 90)
    assert (what_if.stay.status, what_if.stay.limit, what_if.stay.overstay_days) == ("overstay", 60, 15)
    assert before.policy.version != what_if.policy.version
    assert after == before


def test_two_evaluators_of_one_policy_version_do_not_disturb_each_other():
    policy = rules.load_policy()
    first = rules.Evaluator(policy, cache_size=0)
    second = rules.Evaluator(policy, cache_size=0)  # a second ruleset under the same name kz@<hash>
    expected = first.evaluate(SEVENTY_FIVE_DAYS, on=ON_EXIT)
    assert second.evaluate(SEVENTY_FIVE_DAYS, on=ON_EXIT) == expected
    del second
    gc.collect()  # the discarded evaluator frees its ruleset of the same name
    assert first.evaluate(SEVENTY_FIVE_DAYS, on=ON_EXIT) == expected


# --- concurrent evaluation -----------------------------------------------------------------


def _cases() -> list[tuple[dict[str, Any], dt.date]]:
    cases = []
    for index in range(240):
        citizenship = ["RU", "US", "KZ", "CN", None][index % 5]
        person: dict[str, Any] = {
            "person_id": f"T-{index}",
            "trips": [
                {
                    "entry": "2024-01-01",
                    "exit": (dt.date(2024, 1, 1) + dt.timedelta(days=index % 100)).isoformat(),
                }
            ],
        }
        if citizenship is not None:
            person["citizenship"] = citizenship
        if index % 7 == 0:
            person["statuses"] = [{"kind": "international_driver", "valid_from": "2024-01-01"}]
        if index % 11 == 0:
            del person["trips"]
        cases.append((person, dt.date(2024, 4, 10) + dt.timedelta(days=index % 30)))
    return cases


def test_four_threads_give_exactly_the_sequential_verdicts():
    evaluator = rules.Evaluator(rules.load_policy(), cache_size=0)
    cases = _cases()
    sequential = [evaluator.evaluate(person, on=on).to_json() for person, on in cases]
    barrier = threading.Barrier(4)

    def work(offset: int) -> list[tuple[int, dict[str, Any]]]:
        barrier.wait()
        results = []
        for _ in range(3):
            for index in range(offset, len(cases), 2):  # threads overlap: each case runs in two threads
                person, on = cases[index]
                results.append((index, evaluator.evaluate(person, on=on).to_json()))
        return results

    with ThreadPoolExecutor(max_workers=4) as pool:
        outcomes = list(pool.map(work, [0, 1, 0, 1]))
    seen = 0
    for results in outcomes:
        for index, verdict in results:
            assert verdict == sequential[index], index
            seen += 1
    assert seen == 2 * 3 * len(cases)
    assert {v["stay"]["status"] for v in sequential} >= {"compliant", "overstay", "exempt", "undetermined"}


# --- many rules matching one fact at once ----------------------------------------------------


def test_seventy_rules_with_the_same_condition_all_fire_for_one_case(tmp_path):
    directory = policy_copy(tmp_path)
    extra_rules_file(directory, ["from: 2023-01-27\nwhen: {fact: stay.days_used, gte: 1}"] * 70)
    verdict = rules.Evaluator(rules.load_policy(directory), cache_size=0).evaluate(
        SEVENTY_FIVE_DAYS, on=ON_EXIT
    )
    fired = {entry.rule for entry in verdict.trace}
    assert {f"stay.extra.r{i}" for i in range(70)} <= fired
    assert verdict.stay.status == "compliant"


def test_seventy_rules_with_distinct_conditions_all_fire_for_one_case(tmp_path):
    directory = policy_copy(tmp_path)
    extra_rules_file(
        directory, [f"from: 2023-01-27\nwhen: {{fact: stay.days_used, gte: {i}}}" for i in range(70)]
    )
    verdict = rules.Evaluator(rules.load_policy(directory), cache_size=0).evaluate(
        SEVENTY_FIVE_DAYS, on=ON_EXIT
    )
    assert {f"stay.extra.r{i}" for i in range(70)} <= {entry.rule for entry in verdict.trace}


def test_policy_with_sixty_two_dated_rules_in_force_is_evaluated(tmp_path):
    directory = policy_copy(tmp_path)
    first = dt.date(2023, 2, 1)
    extra_rules_file(directory, [f"from: {first + dt.timedelta(days=i)}" for i in range(62)])
    verdict = rules.Evaluator(rules.load_policy(directory), cache_size=0).evaluate(
        SEVENTY_FIVE_DAYS, on=ON_EXIT
    )
    assert verdict.stay.status == "compliant"


def test_sixty_one_dated_rules_in_force_still_evaluate(tmp_path):
    directory = policy_copy(tmp_path)
    first = dt.date(2023, 2, 1)
    extra_rules_file(directory, [f"from: {first + dt.timedelta(days=i)}" for i in range(61)])
    verdict = rules.Evaluator(rules.load_policy(directory), cache_size=0).evaluate(
        SEVENTY_FIVE_DAYS, on=ON_EXIT
    )
    assert verdict.stay.status == "compliant"
    assert sum(entry.rule.startswith("stay.extra.") for entry in verdict.trace) == 61


def _thresholds(count: int, max_alternatives: int | None = None) -> CompiledRuleset:
    patterns = {f"at_least_{i}": {"$and": [{"t": "stay"}, {"$gte": {"days": i}}]} for i in range(count)}
    return ruleset(patterns, max_alternatives=max_alternatives)


def test_raw_durable_fires_sixty_four_simultaneous_matches_and_fails_on_sixty_five():
    """The hazard itself, with kzmig's splitting switched off: error 303 at 65."""
    assert len(_thresholds(64, RAW_DURABLE).fire([{"id": "stay", "t": "stay", "days": 100}])) == 64
    with pytest.raises(EngineError, match="error code: 303"):
        _thresholds(65, RAW_DURABLE).fire([{"id": "stay", "t": "stay", "days": 100}])


@pytest.mark.parametrize("count", [65, 200, 600])
def test_split_ruleset_fires_every_one_of_many_simultaneous_matches(count):
    compiled = _thresholds(count)
    assert compiled.parts == -(-count // 48)
    firings = compiled.fire([{"id": "stay", "t": "stay", "days": 1000}])
    assert [name for name, _ in firings] == [f"at_least_{i}" for i in range(count)]


def test_single_pattern_beyond_the_chunk_limit_is_refused():
    wide = {"$or": [{"days": i} for i in range(49)]}
    with pytest.raises(EngineError, match="expands to 49 alternatives; at most 48"):
        ruleset({"wide": {"$and": [{"t": "stay"}, wide]}})


def test_after_an_engine_error_no_later_case_is_decided_with_the_failed_cases_facts(tmp_path, monkeypatch):
    directory = policy_copy(tmp_path)
    extra_rules_file(
        directory, [f"from: 2023-01-27\nwhen: {{fact: stay.days_used, gte: {i}}}" for i in range(70)]
    )
    monkeypatch.setattr("rules.engine.durable.MAX_ALTERNATIVES", RAW_DURABLE)  # provoke error 303
    evaluator = rules.Evaluator(rules.load_policy(directory), cache_size=0)
    with pytest.raises(EngineError, match="303"):
        evaluator.evaluate(SEVENTY_FIVE_DAYS, on=ON_EXIT)
    three_days = {
        "person_id": "E-3",
        "citizenship": "RU",
        "trips": [{"entry": "2024-01-01", "exit": "2024-01-03"}],
    }
    try:
        verdict = evaluator.evaluate(three_days, on=ON_EXIT)
    except EngineError:
        return  # refusing every later case is safe
    assert verdict.person_id == "E-3"
    assert sorted(e.rule for e in verdict.trace if e.rule.startswith("stay.extra.")) == [
        f"stay.extra.r{i}" for i in range(4)
    ]


def test_failed_case_leaves_no_fact_behind_for_the_next_case():
    """assert_facts failing part-way through a batch (303 on the 2nd fact) keeps the 1st fact in
    session w0: the next case must be refused, or see only its own facts."""
    rs = _thresholds(70, RAW_DURABLE)
    with pytest.raises(EngineError, match="303"):
        rs.fire([{"id": "earlier-person", "t": "stay", "days": 0}, {"id": "stay", "t": "stay", "days": 100}])
    try:
        firings = rs.fire([{"id": "next-person", "t": "stay", "days": -1}])
    except EngineError:
        return
    assert firings == ()


def test_policy_with_520_rules_on_one_fact_is_refused_or_evaluated_never_hangs(tmp_path):
    directory = policy_copy(tmp_path)
    extra_rules_file(
        directory, [f"from: 2023-01-27\nwhen: {{fact: stay.days_used, eq: {i}}}" for i in range(520)]
    )
    result = run_isolated(
        f"""
        import datetime as dt
        import rules
        try:
            policy = rules.load_policy({str(directory)!r})
        except rules.PolicyError as error:
            print("refused:", error)
        else:
            person = {SEVENTY_FIVE_DAYS!r}
            verdict = rules.Evaluator(policy, cache_size=0).evaluate(person, on=dt.date(2024, 3, 15))
            print("decided:", verdict.stay.status, [e.rule for e in verdict.trace if "extra" in e.rule])
        """,
        timeout=10,
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith(("refused:", "decided: compliant ['stay.extra.r75']")), result.stdout


# --- a large `in` list -------------------------------------------------------------------------


def _in_list_policy(tmp_path: Path, count: int) -> Path:
    import pycountry

    codes = sorted(c.alpha_2 for c in pycountry.countries if c.alpha_2 != "RU")[: count - 1] + ["RU"]
    directory = policy_copy(tmp_path)
    extra_rules_file(
        directory, [f"from: 2023-01-27\nwhen: {{fact: stay.citizenship, in: [{', '.join(codes)}]}}"]
    )
    return directory


def test_in_list_of_49_values_is_refused_naming_file_and_line(tmp_path):
    directory = _in_list_policy(tmp_path, 49)
    with pytest.raises(rules.PolicyError) as caught:
        rules.load_policy(directory)
    (problem,) = caught.value.problems
    assert problem.where == f"{directory / 'extra.yaml'}:8 at rules[0].when.in"
    assert problem.message.startswith("'in' lists 49 values; at most 48")


def test_in_list_of_48_values_is_loaded_and_matches(tmp_path):
    evaluator = rules.Evaluator(rules.load_policy(_in_list_policy(tmp_path, 48)), cache_size=0)
    verdict = evaluator.evaluate(SEVENTY_FIVE_DAYS, on=ON_EXIT)
    assert "stay.extra.r0" in {entry.rule for entry in verdict.trace}


# --- a closed ruleset ------------------------------------------------------------------------


def test_closed_ruleset_refuses_further_use():
    rs = ruleset({"any": {"t": "stay"}}, cache_size=16)
    fact = {"id": "stay", "t": "stay"}
    rs.fire([fact])
    rs.close()
    rs.close()  # closing twice is harmless
    with pytest.raises(EngineError, match="is closed"):
        rs.fire([fact])  # even for a fact set that was cached before closing


# --- the cache of firings --------------------------------------------------------------------


def test_identical_fact_sets_reuse_the_same_firings():
    rs = ruleset({"any": {"t": "stay"}}, cache_size=8)
    first = rs.fire([{"id": "stay", "t": "stay", "days": 3, "as_of": 1}])
    again = rs.fire([{"as_of": 1, "days": 3, "t": "stay", "id": "stay"}])  # same facts, keys reordered
    assert again is first
    other = rs.fire([{"id": "stay", "t": "stay", "days": 4, "as_of": 1}])
    assert other is not first and other[0][1]["days"] == 4


def test_cache_size_zero_fires_the_engine_every_time():
    rs = ruleset({"any": {"t": "stay"}}, cache_size=0)
    fact = {"id": "stay", "t": "stay", "days": 3}
    first, again = rs.fire([fact]), rs.fire([fact])
    assert again == first
    assert again is not first


def test_cache_forgets_the_least_recently_used_fact_set():
    rs = ruleset({"any": {"t": "stay"}}, cache_size=2)
    a, b, c = ([{"id": "stay", "t": "stay", "days": days}] for days in (1, 2, 3))
    first_a = rs.fire(a)
    first_b = rs.fire(b)
    assert rs.fire(a) is first_a  # a is now the most recent
    rs.fire(c)  # evicts b
    assert rs.fire(a) is first_a
    assert rs.fire(b) is not first_b


def test_evaluator_cache_gives_the_same_verdict_as_no_cache():
    policy = rules.load_policy()
    cached = rules.Evaluator(policy)
    uncached = rules.Evaluator(policy, cache_size=0)
    for _ in range(2):
        assert cached.evaluate(SEVENTY_FIVE_DAYS, on=ON_EXIT) == uncached.evaluate(
            SEVENTY_FIVE_DAYS, on=ON_EXIT
        )
