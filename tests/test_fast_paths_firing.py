"""The firing memo replays exactly what durable-rules fires (rules.engine.classes).

A :class:`CompiledRuleset` built with ``class_memo`` fires durable-rules once per class of the
facts' values and replays the firings for later facts of the same classes. Each test here
fires the same sequence of fact sets through a ruleset with the memo and through one without
(every fact set reaches durable-rules) and requires identical answers: the same rules, on the
same facts, in the same order, with the same matched facts.

The sequences draw values close to the constants of the patterns (equal, one either side, of
another type, absent), so that most fact sets after the first few share a class with an
earlier one and are replayed. Three levels:

* rules written in the condition language, every operator (``eq``, ``ne``, ``lt``, ``lte``,
  ``gt``, ``gte``, ``in``, ``not_in``, ``contains``, ``missing``, ``all``, ``any``, ``not``),
  literals and dated ``{param: ...}`` operands, ``from``/``to``, on facts of every type, compiled
  by :func:`rules.engine.patterns.compile_rule`;
* raw durable patterns of every shape the compiler emits, on values of any JSON type, text
  compared with numbers, large numbers and odd text;
* the shipped policy's own ruleset, on engine facts near its constants.
"""

from __future__ import annotations

import datetime as dt
import itertools
from typing import Any

from budget import examples
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import rules
from models.policy import Parameter, Rule
from rules.engine.classes import FactClasses
from rules.engine.durable import CompiledRuleset
from rules.engine.patterns import FactKeys, compile_rule, encode_value
from rules.policy.conditions import LIST_SENTINEL
from rules.policy.types import BOOLEAN, CODES, DATE, DECIMAL, INTEGER, STRING, ValueType

_names = itertools.count()
SOURCE = {"title": "Test source", "href": "https://example.org/law"}
SETTINGS = settings(max_examples=examples(120), deadline=None, suppress_health_check=[HealthCheck.too_slow])


def _both(patterns: dict[str, Any]) -> tuple[CompiledRuleset, CompiledRuleset]:
    number = next(_names)
    memo = CompiledRuleset(f"memo-test-{number}", patterns, class_memo=64)
    plain = CompiledRuleset(f"plain-test-{number}", patterns)
    return memo, plain


def _same_firings(patterns: dict[str, Any], batches: list[list[dict[str, Any]]]) -> int:
    """Fire every batch through both rulesets; the answers must be equal. How many replayed."""
    memo, plain = _both(patterns)
    replayed = 0
    try:
        for batch in batches:
            known = memo._classes.key(batch) if memo._classes is not None else None
            was_kept = known is not None and known in memo._memo
            expected = plain.fire(batch)
            found = memo.fire(batch)
            assert found == expected, (patterns, batch)
            assert [type(m) for _, m in found] == [dict] * len(found)
            replayed += was_kept
    finally:
        memo.close()
        plain.close()
    return replayed


# --- the condition language -------------------------------------------------------------------

DAYS = [dt.date(2023, 1, 26), dt.date(2023, 1, 27), dt.date(2024, 2, 25), dt.date(2026, 1, 1)]
#: fact name -> (type, constants a rule compares it with)
FACTS: dict[str, tuple[ValueType, list[Any]]] = {
    "p.count": (INTEGER, [0, 30, 90, 91]),
    "p.amount": (DECIMAL, [0.5, 90.0, 400.25]),
    "p.day": (DATE, DAYS),
    "p.code": (STRING, ["RU", "BY", "eaeu"]),
    "p.flag": (BOOLEAN, [True, False]),
    "p.kinds": (CODES, ["visa", "aircraft_crew", "residence_permit"]),
}
OPERATORS = {
    "integer": ["eq", "ne", "lt", "lte", "gt", "gte", "in", "not_in", "missing"],
    "decimal": ["eq", "ne", "lt", "lte", "gt", "gte", "in", "not_in", "missing"],
    "date": ["eq", "ne", "lt", "lte", "gt", "gte", "in", "not_in", "missing"],
    "string": ["eq", "ne", "in", "not_in", "missing"],
    "boolean": ["eq", "ne", "in", "not_in", "missing"],
    "codes": ["contains", "missing"],
}
#: Dated parameters a comparison may read instead of a literal, one per type.
PARAMETERS = {
    "integer": [(dt.date(2023, 1, 27), 90), (dt.date(2025, 1, 1), 60)],
    "decimal": [(dt.date(2023, 1, 27), 90.0), (dt.date(2025, 1, 1), 400.25)],
    "date": [(dt.date(2000, 1, 1), dt.date(2024, 2, 25))],
    "string": [(dt.date(2023, 1, 27), "RU"), (dt.date(2024, 2, 25), None), (dt.date(2025, 1, 1), "BY")],
    "boolean": [(dt.date(2023, 1, 27), True)],
    "codes": [(dt.date(2023, 1, 27), "visa"), (dt.date(2025, 1, 1), "aircraft_crew")],
}


def _parameters() -> dict[str, Parameter]:
    return {
        f"param.{kind}": Parameter.model_validate(
            {
                "description": "A dated parameter",
                "values": [{"from": start, "value": value, "source": SOURCE} for start, value in values],
            }
        )
        for kind, values in PARAMETERS.items()
    }


@st.composite
def comparisons(draw: st.DrawFn) -> dict[str, Any]:
    name = draw(st.sampled_from(sorted(FACTS)))
    value_type, constants = FACTS[name]
    operator = draw(st.sampled_from(OPERATORS[value_type.kind]))
    if operator == "missing":
        return {"fact": name, "missing": draw(st.booleans())}
    if operator in ("in", "not_in"):
        return {"fact": name, operator: draw(st.lists(st.sampled_from(constants), min_size=1, max_size=3))}
    if draw(st.integers(0, 4)) == 0:
        return {"fact": name, operator: {"param": f"param.{value_type.kind}"}}
    return {"fact": name, operator: draw(st.sampled_from(constants))}


conditions = st.recursive(
    comparisons(),
    lambda children: st.one_of(
        st.builds(lambda xs: {"all": xs}, st.lists(children, min_size=1, max_size=3)),
        st.builds(lambda xs: {"any": xs}, st.lists(children, min_size=1, max_size=3)),
        st.builds(lambda x: {"not": x}, children),
    ),
    max_leaves=5,
)


@st.composite
def rules_of(draw: st.DrawFn) -> Rule:
    data: dict[str, Any] = {
        "id": f"p.r{draw(st.integers(0, 10**6))}",
        "title": "A rule under test",
        "source": SOURCE,
        "from": draw(st.sampled_from([dt.date(2000, 1, 1), *DAYS])),
        "when": draw(conditions),
    }
    if draw(st.booleans()):
        data["to"] = draw(st.sampled_from(DAYS[1:] + [dt.date(2030, 1, 1)]))
        if data["to"] < data["from"]:
            data["from"], data["to"] = data["to"], data["from"]
    return Rule.model_validate(data)


def _near(value_type: ValueType, constants: list[Any]) -> st.SearchStrategy[Any]:
    """Values of the type at, and either side of, its constants."""
    kind = value_type.kind
    if kind == "integer":
        return st.sampled_from(sorted({c + d for c in constants for d in (-1, 0, 1)} | {10**6}))
    if kind == "decimal":
        return st.sampled_from(sorted({c + d for c in constants for d in (-0.25, 0.0, 0.5)} | {1234.5}))
    if kind == "date":
        return st.sampled_from(sorted({c + dt.timedelta(days=d) for c in constants for d in (-1, 0, 1)}))
    if kind == "string":
        return st.sampled_from([*constants, "KG", "eaeux", "ru"])
    if kind == "boolean":
        return st.booleans()
    return st.lists(st.sampled_from([*constants, "visa2", "train_crew"]), max_size=3).map(tuple)


@st.composite
def language_facts(draw: st.DrawFn) -> dict[str, Any]:
    keys = _KEYS
    fact: dict[str, Any] = {"id": "p", "t": "p", "as_of": draw(_near(DATE, DAYS)).toordinal()}
    for name, (value_type, constants) in FACTS.items():
        if draw(st.integers(0, 4)) == 0:
            continue  # the fact has no value
        encoded = encode_value(draw(_near(value_type, constants)), value_type)
        if encoded is not None:
            fact[keys[name]] = encoded
    return fact


_KEYS = FactKeys()
for _name in FACTS:
    _KEYS[_name]


#: Rules written in the condition language (each programme ``p``), with facts near their constants.
language_rules = st.lists(rules_of(), min_size=1, max_size=5, unique_by=lambda r: r.id)
language_fact_lists = st.lists(language_facts(), min_size=5, max_size=30)


def compiled_language_rules(rule_list: list[Rule]) -> dict[str, Any]:
    """The durable-rules pattern of each rule, by id (with the dated parameters they may read)."""
    parameters = _parameters()
    by_id = {rule.id: rule for rule in rule_list}
    return {rule.id: compile_rule(rule, by_id, parameters, _KEYS) for rule in rule_list}


@SETTINGS
@given(language_rules, language_fact_lists)
def test_memo_fires_as_durable_rules_for_every_operator_of_the_condition_language(rule_list, facts):
    patterns = compiled_language_rules(rule_list)
    assert FactClasses(list(patterns.values())).usable
    _same_firings(patterns, [[fact] for fact in facts])


def test_the_memo_replays_most_cases_of_a_repetitive_sequence():
    rule = Rule.model_validate(
        {
            "id": "p.over",
            "title": "Over",
            "source": SOURCE,
            "from": dt.date(2023, 1, 27),
            "when": {"fact": "p.count", "gt": 90},
        }
    )
    patterns = {rule.id: compile_rule(rule, {rule.id: rule}, {}, _KEYS)}
    day = dt.date(2024, 1, 1).toordinal()
    facts = [[{"id": "p", "t": "p", "as_of": day + n, _KEYS["p.count"]: n}] for n in range(200)]
    assert _same_firings(patterns, facts) >= 190


# --- raw patterns, hostile values -------------------------------------------------------------

PROPS = ["a", "b", "c"]
NUMBERS = [-1, 0, 1, 90, 91, 2**53, 2**60, 0.5, 90.5, -2.25]
TEXTS = ["RU", "", "BY", "é", 'a"b', "90", "true"]


def _constant() -> st.SearchStrategy[Any]:
    return st.one_of(st.sampled_from(NUMBERS), st.sampled_from(TEXTS))


@st.composite
def raw_comparisons(draw: st.DrawFn) -> dict[str, Any]:
    prop = draw(st.sampled_from(PROPS))
    shape = draw(
        st.sampled_from(["eq", "$neq", "$lt", "$lte", "$gt", "$gte", "$ex", "$nex", "$iany", "$iall"])
    )
    if shape == "eq":
        return {prop: draw(st.one_of(_constant(), st.booleans()))}
    if shape == "$neq":
        return {"$neq": {prop: draw(st.one_of(_constant(), st.booleans()))}}
    if shape in ("$ex", "$nex"):
        return {shape: {prop: 1}}
    if shape == "$iany":
        return {"$iany": {prop: {"$i": draw(st.sampled_from(TEXTS))}}}
    if shape == "$iall":
        return {"$iall": {prop: {"$neq": {"$i": draw(st.sampled_from(TEXTS))}}}}
    return {shape: {prop: draw(_constant())}}


raw_patterns = st.recursive(
    raw_comparisons(),
    lambda children: st.one_of(
        st.builds(lambda xs: {"$and": xs}, st.lists(children, min_size=2, max_size=3)),
        st.builds(lambda xs: {"$or": xs}, st.lists(children, min_size=2, max_size=3)),
    ),
    max_leaves=4,
)


def _value() -> st.SearchStrategy[Any]:
    near = sorted({n + d for n in NUMBERS if isinstance(n, int) for d in (-1, 0, 1)}) + [0.25, 90.25, 91.0]
    return st.one_of(
        st.sampled_from(near),
        st.sampled_from(TEXTS + ["KG", "9", "900", "RUx"]),
        st.booleans(),
        st.lists(st.sampled_from(TEXTS + ["KG"]), max_size=3),
        st.just(2**70),
    )


@st.composite
def raw_facts(draw: st.DrawFn) -> list[dict[str, Any]]:
    batch = []
    for fact_type in draw(st.sampled_from([["x"], ["y"], ["x", "y"], ["y", "x"]])):
        fact: dict[str, Any] = {"id": f"id-{fact_type}", "t": fact_type}
        for prop in PROPS:
            if draw(st.integers(0, 3)):
                fact[prop] = draw(_value())
        if draw(st.integers(0, 5)) == 0:
            fact["unread"] = draw(_value())
        batch.append(fact)
    return batch


def _typed(pattern_list: list[tuple[str | None, dict[str, Any]]]) -> dict[str, Any]:
    """The drawn patterns by rule name, each for facts of its type when it has one."""
    return {
        f"r{index}": ({"$and": [{"t": fact_type}, pattern]} if fact_type else pattern)
        for index, (fact_type, pattern) in enumerate(pattern_list)
    }


@SETTINGS
@given(
    st.lists(st.tuples(st.sampled_from(["x", "y", None]), raw_patterns), min_size=1, max_size=5),
    st.lists(raw_facts(), min_size=5, max_size=25),
)
def test_memo_fires_as_durable_rules_on_raw_patterns_and_any_values(pattern_list, batches):
    _same_firings(_typed(pattern_list), batches)


def test_values_the_classes_do_not_cover_are_fired_as_they_are():
    classes = FactClasses([{"$gt": {"a": 90}}, {"b": "RU"}])
    assert classes.usable
    assert classes.key([{"id": "x", "t": "x", "a": None}]) is None
    assert classes.key([{"id": "x", "t": "x", "a": {"nested": 1}}]) is None
    assert classes.key([{"id": "x", "t": "x", "a": float("nan")}]) is None
    assert classes.key([{"id": "x", "t": "x", "unread": (1, 2)}]) is None
    # the same side of 90 and no constant: one class
    assert classes.key([{"id": "x", "a": 91, "b": "KG"}]) == classes.key([{"id": "x", "a": 500, "b": "US"}])
    assert classes.key([{"id": "x", "a": 90}]) != classes.key([{"id": "x", "a": 91}])
    # an exponent is read by the engine as an integer: such a decimal is its own class
    assert classes.key([{"id": "x", "a": 1e-05}]) != classes.key([{"id": "x", "a": 2e-05}])


def test_a_pattern_of_an_unknown_shape_turns_the_classes_off():
    assert not FactClasses([{"$lt": {"a": {"$add": {"$l": 1, "$r": 2}}}}]).usable
    assert not FactClasses([{"a": 1, "b": 2}]).usable


# --- the shipped policy -----------------------------------------------------------------------


def _shipped() -> tuple[dict[str, Any], dict[str, list[Any]]]:
    evaluator = rules.Evaluator(rules.load_policy())
    patterns = {}
    for name, rule_id in ((n, r) for names in evaluator._ruleset._names for n, r in names.items()):
        del name
        patterns[rule_id] = None
    from rules.engine.patterns import compile_rule as compile_one

    policy = evaluator.policy
    keys = evaluator.keys
    for rule_id in patterns:
        rule = evaluator.rules[rule_id]
        mechanism = evaluator.mechanisms.get(rule.programme)
        exemption = mechanism.exemption_fact if mechanism is not None else None
        patterns[rule_id] = compile_one(rule, evaluator.rules, policy.parameters, keys, exemption)
    constants: dict[str, list[Any]] = {}
    props = FactClasses(list(patterns.values()))._props
    for name, prop in props.items():
        values: list[Any] = [n + d for n in prop.numbers for d in (-1, 0, 1)]
        values += [*prop.texts, "other"]
        if prop.listed:
            values += [[*items, LIST_SENTINEL] for items in ([], *([i] for i in prop.items))]
        values += [True, False]
        constants[name] = values
    return patterns, constants


SHIPPED_PATTERNS, SHIPPED_VALUES = _shipped()
PROGRAMMES = sorted({pattern["$and"][0]["t"] for pattern in SHIPPED_PATTERNS.values()})


@st.composite
def shipped_batches(draw: st.DrawFn) -> list[dict[str, Any]]:
    chosen = draw(st.lists(st.sampled_from(PROGRAMMES), min_size=1, max_size=2, unique=True))
    batch = []
    for programme in chosen:
        fact: dict[str, Any] = {"id": programme, "t": programme}
        for name, values in SHIPPED_VALUES.items():
            if name in ("t", "id") or draw(st.integers(0, 2)) == 0:
                continue
            fact[name] = draw(st.sampled_from(values))
        batch.append(fact)
    return batch


@settings(max_examples=examples(40), deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(shipped_batches(), min_size=5, max_size=30))
def test_memo_fires_as_durable_rules_under_the_shipped_policy(batches):
    _same_firings(SHIPPED_PATTERNS, batches)


# --- the rules alone, with the exact-fact cache -----------------------------------------------


def _same_rules(patterns: dict[str, Any], batches: list[list[dict[str, Any]]]) -> None:
    """``fired`` names the rules durable-rules fires, in its order, and ``fire`` after it still
    fires as durable-rules does, on a ruleset with the memo and the exact-fact cache (which the
    memo is asked before)."""
    number = next(_names)
    memo = CompiledRuleset(f"fired-test-{number}", patterns, class_memo=64, cache_size=8)
    plain = CompiledRuleset(f"fired-plain-{number}", patterns)
    try:
        for batch in batches:
            expected = plain.fire(batch)
            assert memo.fired(batch) == tuple(name for name, _ in expected), (patterns, batch)
            assert memo.fire(batch) == expected, (patterns, batch)
    finally:
        memo.close()
        plain.close()


@SETTINGS
@given(
    st.lists(st.tuples(st.sampled_from(["x", "y", None]), raw_patterns), min_size=1, max_size=5),
    st.lists(raw_facts(), min_size=5, max_size=25),
)
def test_the_rules_fired_are_those_durable_rules_fires_on_raw_patterns(pattern_list, batches):
    _same_rules(_typed(pattern_list), batches)


@settings(max_examples=examples(40), deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(shipped_batches(), min_size=5, max_size=30))
def test_the_rules_fired_are_those_durable_rules_fires_under_the_shipped_policy(batches):
    _same_rules(SHIPPED_PATTERNS, batches)
