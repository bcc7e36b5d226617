"""Random amendments of the shipped policy: a few items of the law, each changed from a random day.

An analyst's amendment changes a parameter, a table row (or adds or ends one), a rule or the
formula of a computed fact, or repeals a rule. :func:`amendments` draws one to three of these
over every parameter, table, rule and computed fact of the shipped policy. The new value is
the value in force on the change's first day, changed as its type allows (a number moved up
or down, a flag turned, a day moved, an item of a list dropped or one added, a text replaced
by another of the same item, one field of a row's record changed; a constant of a rule or of
a formula likewise), or no value at all (a dated null, which ends it). Most are loadable; one the policy's
checks refuse (a pass mark below zero, a band out of order, an unknown time zone) is a valid
refusal and the property that drew it rejects the example.

The text is YAML of the policy format, written by ``yaml.safe_dump``: nothing in it but data.

:func:`amended_records` draws an amendment with the records to try it on, and
:func:`check_amendment` checks the comparison of each (``tests/test_compare_any_amendment.py``
at a small size, ``scripts/fuzz.py`` at a large one).
"""

from __future__ import annotations

import datetime as dt
import functools
from dataclasses import dataclass
from typing import Any

import yaml
from hypothesis import reject
from hypothesis import strategies as st
from test_compare import _every_example_record, same_when_skipping
from test_fast_paths_guards import _kept
from test_fast_paths_verdict import POLICY
from test_residence import persons as applicants
from test_social_contract import contracts
from test_stay_properties import any_persons, cases

import rules
from models.policy import DatedValue
from rules.analysis.impact import Comparison
from rules.policy.loader import AmendmentText, Policy

__all__ = ["HELD", "Amended", "amended_records", "amendments", "check_amendment", "shipped_policy"]

#: The days an amendment may start on: the whole span the examples and generated records are
#: judged over, the days the shipped law itself changes on being drawn as often as the others.
FIRST_DAY = dt.date(2023, 1, 27)
LAST_DAY = dt.date(2027, 12, 31)
SOURCE = {"title": "A random amendment (a test)", "href": "https://example.org/what-if"}


@dataclass(frozen=True)
class Amended:
    """One drawn amendment: its YAML text, what it changes (each ``parameter``, ``row``,
    ``new row``, ``rule``, ``fact`` or ``repeal``), the items as an impact analysis names them
    (a parameter or computed fact, ``table[key]``, ``rule <id>``) and its first day."""

    text: str
    kinds: tuple[str, ...]
    items: tuple[str, ...]
    start: dt.date

    def __repr__(self) -> str:  # what Hypothesis prints of a failing example
        return f"Amended({', '.join(self.items)} from {self.start}):\n{self.text}"


def _plain(value: Any) -> Any:
    """A value as ``yaml.safe_dump`` writes it (tuples as lists, nothing else changed)."""
    if isinstance(value, dict):
        return {str(key): _plain(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [_plain(item) for item in value]
    return value


def _texts(value: Any) -> set[str]:
    """Every text inside ``value``."""
    if isinstance(value, str):
        return {value}
    if isinstance(value, dict):
        return set().union(*(_texts(item) for item in value.values())) if value else set()
    if isinstance(value, list | tuple):
        return set().union(*(_texts(item) for item in value)) if value else set()
    return set()


def _changed(draw: st.DrawFn, value: Any, texts: list[str]) -> Any:
    """``value`` changed as its type allows (``texts``: the texts it may become)."""
    if isinstance(value, bool):
        return not value
    if isinstance(value, int):
        return max(0, value + draw(st.sampled_from([-30, -5, -2, -1, 1, 2, 5, 30, 100])))
    if isinstance(value, float):
        return value * draw(st.sampled_from([0.5, 0.9, 1.1, 2.0]))
    if isinstance(value, dt.date):
        return value + dt.timedelta(days=draw(st.sampled_from([-400, -30, -1, 1, 30, 400])))
    if isinstance(value, str):
        others = [text for text in texts if text != value]
        return draw(st.sampled_from(others)) if others else value + "_x"
    if isinstance(value, dict):
        if not value:
            return value
        key = draw(st.sampled_from(sorted(value)))
        item = value[key]
        if item is None:
            numbers = [
                other for other in value.values() if isinstance(other, int) and not isinstance(other, bool)
            ]
            return {**value, key: draw(st.sampled_from(numbers)) if numbers else 1}
        return {**value, key: _changed(draw, item, texts)}
    if isinstance(value, list | tuple):
        items = list(value)
        drop: bool = draw(st.booleans())
        if items and drop:
            del items[draw(st.integers(0, len(items) - 1))]
            return items
        extra = [text for text in texts if text not in items]
        if items and all(isinstance(item, dict) for item in items):
            at = draw(st.integers(0, len(items) - 1))
            items[at] = _changed(draw, items[at], texts)
            return items
        if extra:
            items.append(draw(st.sampled_from(sorted(extra))))
        return items
    return value


def _values(
    draw: st.DrawFn, values: list[DatedValue], texts: list[str], end: bool
) -> tuple[list[Any], dt.date]:
    """The dated values of an item with one change from a drawn day: the values before that
    day as they were, then the changed value (``None``, ending it, when ``end``)."""
    first = min(value.start for value in values)
    starts = sorted({value.start for value in values})
    start = draw(
        st.one_of(
            st.sampled_from(starts),
            st.dates(max(first, FIRST_DAY), LAST_DAY),
        )
    )
    kept = [value for value in values if value.start < start]
    in_force = kept[-1].value if kept else min(values, key=lambda value: value.start).value
    new = None if end else _changed(draw, in_force, texts)
    written = [
        {
            "from": value.start,
            "value": _plain(value.value),
            "source": SOURCE,
            **({"note": value.note} if value.note else {}),
        }
        for value in kept
    ]
    written.append({"from": start, "value": _plain(new), "source": SOURCE})
    return written, start


def _document(body: dict[str, Any], title: str) -> str:
    return yaml.safe_dump(
        {"schema": "kzmig/policy/2", "title": title, **body}, sort_keys=False, allow_unicode=True
    )


@functools.cache
def shipped_policy() -> Policy:
    """The shipped policy, loaded once: what :func:`amendments` amends."""
    return rules.load_policy()


@st.composite
def amendments(draw: st.DrawFn, keys: frozenset[str] = frozenset(), only: tuple[str, ...] = ()) -> Amended:
    """An amendment of one to three items of the shipped policy (see the module).

    ``keys``: row keys to draw more often than the others (those the records hold: an
    amendment of the row of a citizenship nobody has changes nothing). ``only``: amend only
    these parameters and the rows of these tables (none: any item)."""
    changes = draw(
        st.lists(_changes(keys, only), min_size=1, max_size=3, unique_by=lambda change: change.item)
    )
    body: dict[str, Any] = {}
    for change in changes:
        for section, items in change.body.items():
            if isinstance(items, list):
                body[section] = [*body.get(section, []), *items]
            elif section == "tables":
                for name, table in items.items():
                    merged = body.setdefault("tables", {}).setdefault(name, {**table, "rows": {}})
                    merged["rows"].update(table["rows"])
            else:
                body.setdefault(section, {}).update(items)
    title = "; ".join(f"{change.kind} {change.item}" for change in changes)
    return Amended(
        _document(body, title),
        tuple(change.kind for change in changes),
        tuple(change.item for change in changes),
        min(change.start for change in changes),
    )


@dataclass(frozen=True)
class _Change:
    body: dict[str, Any]
    kind: str
    item: str
    start: dt.date


@st.composite
def _changes(draw: st.DrawFn, keys: frozenset[str], only: tuple[str, ...] = ()) -> _Change:
    """One item changed: a parameter, a table row (or a new one), a rule, a computed fact's
    formula, or a repealed rule (only a parameter or a row of a table ``only`` names, if any)."""
    policy = shipped_policy()
    parameters = sorted(name for name in only if name in policy.parameters)
    tables = sorted(name for name in only if name in policy.tables)
    kinds = ["parameter", "parameter", "row", "row", "new row", "repeal", "rule", "fact"]
    if only:
        kinds = [kind for kind in kinds if (kind == "parameter" and parameters) or ("row" in kind and tables)]
    kind = draw(st.sampled_from(kinds))
    end = draw(st.integers(0, 9)) == 0
    if kind == "parameter":
        name = draw(st.sampled_from(parameters or sorted(policy.parameters)))
        parameter = policy.parameters[name]
        texts = sorted(set().union(*(_texts(value.value) for value in parameter.values)))
        if len(texts) < 2:
            texts = sorted(_all_texts(policy))
        values, start = _values(draw, parameter.values, texts, end)
        spec = parameter.model_dump(mode="python", by_alias=True, exclude_none=True, exclude={"values"})
        return _Change({"parameters": {name: {**spec, "values": values}}}, kind, name, start)
    if kind == "rule":
        rule = draw(st.sampled_from(policy.rules))
        written = _plain(rule.model_dump(mode="python", by_alias=True, exclude_none=True))
        path, _ = draw(st.sampled_from(list(_constants(written, None))))
        texts = _operand_texts()
        written = _replaced(written, path, lambda old: _changed(draw, old, texts))
        return _Change({"rules": [written]}, kind, f"rule {rule.id}", rule.start)
    if kind == "fact":
        name = draw(st.sampled_from(_facts_with_numbers()))
        fact = policy.facts[name]
        spec = fact.model_dump(mode="python", by_alias=True, exclude_none=True, exclude={"formulas"})
        starts = sorted({formula.start for formula in fact.formulas})
        start = draw(st.one_of(st.sampled_from(starts), st.dates(max(starts[0], FIRST_DAY), LAST_DAY)))
        kept = [formula for formula in fact.formulas if formula.start < start]
        in_force = _plain((kept[-1] if kept else fact.formulas[0]).formula)
        numbers = [(path, leaf) for path, leaf in _constants(in_force, None) if not isinstance(leaf, str)]
        if not numbers:
            reject()  # the formula in force then has no number (an earlier one had)
        path, _ = draw(st.sampled_from(numbers))
        formulas = [
            {"from": formula.start, "formula": _plain(formula.formula), "source": SOURCE} for formula in kept
        ]
        new = _replaced(in_force, path, lambda old: _changed(draw, old, []))
        formulas.append({"from": start, "formula": new, "source": SOURCE})
        return _Change({"facts": {name: {**spec, "formulas": formulas}}}, kind, name, start)
    if kind == "repeal":
        repealed: str = draw(st.sampled_from(sorted({rule.id for rule in policy.rules})))
        return _Change({"repeals": [repealed]}, kind, f"rule {repealed}", FIRST_DAY)
    name = draw(st.sampled_from(tables or sorted(policy.tables)))
    table = policy.tables[name]
    texts = sorted(set().union(*(_texts(value.value) for rows in table.rows.values() for value in rows)))
    if kind == "row":
        held = sorted(keys & set(table.rows))
        often: int = draw(st.integers(0, 3))
        key = draw(st.sampled_from(held if held and often else sorted(table.rows)))
        values, start = _values(draw, table.rows[key], texts, end)
    else:  # a row of a new key: a copy of another row's values, changed from a drawn day
        like = draw(st.sampled_from(sorted(table.rows)))
        key = f"{like}_new" if not like.isupper() else draw(st.sampled_from(["XA", "XB", "ZZ"]))
        if key in table.rows:
            key = f"{key}_2"
        values, start = _values(draw, table.rows[like], texts, end)
    spec = table.model_dump(mode="python", by_alias=True, exclude_none=True, exclude={"rows"})
    return _Change({"tables": {name: {**spec, "rows": {key: values}}}}, kind, f"{name}[{key}]", start)


@functools.cache
def _operand_texts() -> list[str]:
    """Every text a rule of the shipped policy compares a fact with: what a rule's may become."""
    return sorted(
        {
            leaf
            for rule in shipped_policy().rules
            for _, leaf in _constants(
                _plain(rule.model_dump(mode="python", by_alias=True, exclude_none=True)), None
            )
            if isinstance(leaf, str)
        }
    )


@functools.cache
def _facts_with_numbers() -> list[str]:
    """The computed facts with a number in a formula: what a ``fact`` amendment changes."""
    return sorted(
        name
        for name, fact in shipped_policy().facts.items()
        if any(
            not isinstance(leaf, str)
            for formula in fact.formulas
            for _, leaf in _constants(_plain(formula.formula), None)
        )
    )


#: The keys under which a rule's condition holds a value it compares a fact with.
_OPERANDS = frozenset({"eq", "ne", "lt", "lte", "gt", "gte", "in", "not_in", "contains"})


def _constants(value: Any, key: str | None) -> Any:
    """``(path, leaf)`` of every constant in ``value``: numbers, flags and days anywhere; texts
    only where a condition compares a fact with them (``key`` is the mapping key above)."""
    if isinstance(value, dict):
        for name, item in value.items():
            for path, leaf in _constants(item, name):
                yield (name, *path), leaf
    elif isinstance(value, list):
        for at, item in enumerate(value):
            for path, leaf in _constants(item, key):
                yield (at, *path), leaf
    elif isinstance(value, bool | int | float | dt.date) or (isinstance(value, str) and key in _OPERANDS):
        yield (), value


def _replaced(value: Any, path: tuple[Any, ...], change: Any) -> Any:
    """``value`` with the leaf at ``path`` replaced by ``change(leaf)``."""
    if not path:
        return change(value)
    head, rest = path[0], path[1:]
    if isinstance(value, dict):
        return {**value, head: _replaced(value[head], rest, change)}
    return [_replaced(item, rest, change) if at == head else item for at, item in enumerate(value)]


def _all_texts(policy: Policy) -> set[str]:
    found: set[str] = set()
    for parameter in policy.parameters.values():
        for value in parameter.values:
            found |= _texts(value.value)
    return found


# --- the records an amendment is tried on, and what its comparison must give ---------------------

#: The programme an item of the law belongs to, by the start of its name, and the top-level
#: key of the records that programme judges (the others are travellers).
_RECORD_OF = {
    "residence": "residence_application",
    "social_contract": "social_contract",
    "country": "social_contract",
}
#: Records each amendment is tried on.
RECORDS = 12


@functools.cache
def _records(key: str | None) -> list[tuple[dict[str, Any], dt.date]]:
    """The example records (of those holding ``key``; ``None``: travellers, the others)."""
    every = _every_example_record()
    if key is None:
        return [(record, on) for record, on in every if not set(_RECORD_OF.values()) & set(record)]
    return [(record, on) for record, on in every if key in record]


#: Every text the example records hold: the row keys an amendment draws more often.
HELD = frozenset(_texts([record for record, _ in _every_example_record()]))


@st.composite
def records(draw: st.DrawFn, amended: Amended) -> tuple[dict[str, Any], dt.date]:
    """A record of the examples, judged on its own day or on a day near the amendment's first,
    or a generated traveller, applicant or family on the day of its case. Most are of the
    programme an amended item belongs to (an applicant for the residence programme's items)."""
    item = draw(st.sampled_from(amended.items))
    head = item.removeprefix("rule ").partition(".")[0]
    key = (
        _RECORD_OF.get(head)
        if draw(st.integers(0, 3))
        else draw(st.sampled_from([None, *_RECORD_OF.values()]))
    )
    if draw(st.integers(0, 3)) == 0:  # generated: a traveller, an applicant or a family
        generated: tuple[dict[str, Any], dt.date]
        if key == "residence_application":
            generated = draw(applicants())
        elif key == "social_contract":
            contract, day = draw(contracts())
            generated = {"person_id": "KD-1", "citizenship": "CN", "social_contract": contract}, day
        else:
            generated = draw(cases(any_persons()))
        return generated
    pool = _records(key)
    row_key = item.partition("[")[2][:-1]
    holding = [(record, on) for record, on in pool if row_key and row_key in _texts(record)]
    prefer: bool = draw(st.booleans())
    record, on = draw(st.sampled_from(holding if holding and prefer else pool))
    shift = draw(st.sampled_from([None, -1, 0, 1, 45, 200]))
    if shift is not None:
        on = amended.start + dt.timedelta(days=shift)
    return record, on


def amended_records(
    only: tuple[str, ...] = (),
) -> st.SearchStrategy[tuple[Amended, list[tuple[dict[str, Any], dt.date]]]]:
    """An amendment (:func:`amendments`, of the parameters and tables ``only`` names, if any) and
    :data:`RECORDS` records to try it on."""
    return amendments(HELD, only).flatmap(
        lambda amended: st.tuples(
            st.just(amended), st.lists(records(amended), min_size=RECORDS, max_size=RECORDS)
        )
    )


@functools.lru_cache(maxsize=8)  # an amendment is drawn again only while Hypothesis shrinks
def _comparisons(text: str) -> tuple[Comparison, Comparison] | None:
    try:
        policy = rules.load_policy(POLICY, amendments=[AmendmentText(text, "random-amendment.yaml")])
    except rules.PolicyError:
        return None  # refused by the policy's checks: a valid refusal, not a case to compare
    baseline, amended = _kept()[0], rules.Evaluator(policy)
    return Comparison(baseline, amended), Comparison(baseline, amended, skip_unaffected=True)


def check_amendment(amended: Amended, tried: list[tuple[dict[str, Any], dt.date]]) -> str:
    """Compare each record under the amendment, once evaluating every record twice and once
    leaving out what the comparison judges unreachable: both must give the same changed figures,
    statuses and amended figures, or the same error; a changed record names an amended item in
    its why. ``refused`` (the policy's checks refused the amendment), ``changed`` (some record
    changed) or ``unchanged``."""
    found = _comparisons(amended.text)
    if found is None:
        return "refused"
    full, skipping = found
    changed = False
    for record, on in tried:
        difference = same_when_skipping(full, skipping, record, on)
        if difference is None:
            continue  # both comparisons raised the same kind of error
        if difference.changed:
            changed = True
            named = {law.name for law in difference.why.law}
            assert named & set(amended.items), (amended.items, named, difference.changed)
    return "changed" if changed else "unchanged"
