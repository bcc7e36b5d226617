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
"""

from __future__ import annotations

import datetime as dt
import functools
from dataclasses import dataclass
from typing import Any

import yaml
from hypothesis import reject
from hypothesis import strategies as st

import rules
from models.policy import DatedValue
from rules.policy.loader import Policy

__all__ = ["Amended", "amendments", "shipped_policy"]

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
        if items and draw(st.booleans()):
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
def amendments(draw: st.DrawFn, keys: frozenset[str] = frozenset()) -> Amended:
    """An amendment of one to three items of the shipped policy (see the module).

    ``keys``: row keys to draw more often than the others (those the records hold: an
    amendment of the row of a citizenship nobody has changes nothing)."""
    changes = draw(st.lists(_changes(keys), min_size=1, max_size=3, unique_by=lambda change: change.item))
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
def _changes(draw: st.DrawFn, keys: frozenset[str]) -> _Change:
    """One item changed: a parameter, a table row (or a new one), a rule, a computed fact's
    formula, or a repealed rule."""
    policy = shipped_policy()
    kind = draw(
        st.sampled_from(["parameter", "parameter", "row", "row", "new row", "repeal", "rule", "fact"])
    )
    end = draw(st.integers(0, 9)) == 0
    if kind == "parameter":
        name = draw(st.sampled_from(sorted(policy.parameters)))
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
        rule = draw(st.sampled_from(sorted({rule.id for rule in policy.rules})))
        return _Change({"repeals": [rule]}, kind, f"rule {rule}", FIRST_DAY)
    name = draw(st.sampled_from(sorted(policy.tables)))
    table = policy.tables[name]
    texts = sorted(set().union(*(_texts(value.value) for rows in table.rows.values() for value in rows)))
    if kind == "row":
        held = sorted(keys & set(table.rows))
        key = draw(st.sampled_from(held if held and draw(st.integers(0, 3)) else sorted(table.rows)))
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
