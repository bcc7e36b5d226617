"""Which programmes cannot fire a rule in a case, known before their computed facts are.

Every rule of a programme is one durable-rules pattern over the programme's engine fact: a
conjunction (``$and``) whose parts must all hold. Some parts compare one fact with text or a
boolean for equality (``{stay.status: "overstay"}``, ``{stay.entered_today: true}``), or with
one of a few such constants (an ``$or`` of them, as ``in`` compiles). When such a fact is known
without running a formula -- a mechanism's fact, a programme's status, an input -- and its
value is absent, or of the constant's own type and equal to none of the constants, that part is
false, and so is the rule: a comparison on a missing fact is false, and text and booleans of
one type compare as themselves (see :mod:`rules.engine.classes`). When that holds for every
rule of the programme, the programme fires nothing in the case, so the evaluator computes none
of its facts and asserts nothing for it: the sanction programme of a traveller who did not
overstay costs no formula.

Only what the pattern requires of such facts is read; every other part, and every value of
another type, is taken as possibly true, which is always sound: the guard only ever skips a
programme that durable-rules would not fire. ``tests/test_fast_paths_guards.py`` checks that
against durable-rules, and the verdicts against evaluations without the guard.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

__all__ = ["FiringGuards", "Requirement"]

#: One part of a rule's pattern: the engine property, the type of its constants (text or
#: boolean), and the constants one of which its value must equal.
Requirement = tuple[str, type, frozenset[Any]]


def _parts(pattern: Any) -> list[Any]:
    """The conjuncts of a pattern, nested ``$and``s flattened."""
    if isinstance(pattern, dict) and len(pattern) == 1 and isinstance(pattern.get("$and"), list):
        return [part for child in pattern["$and"] for part in _parts(child)]
    return [pattern]


def _equality(part: Any) -> tuple[str, Any] | None:
    """``(property, constant)`` of a part ``{property: constant}`` with a text or boolean
    constant, else ``None``."""
    if not isinstance(part, dict) or len(part) != 1:
        return None
    ((key, value),) = part.items()
    if not isinstance(key, str) or key.startswith("$") or type(value) not in (str, bool):
        return None
    return key, value


def requirements(pattern: Any, readable: Callable[[str], bool]) -> tuple[Requirement, ...]:
    """What ``pattern`` requires of the properties ``readable`` accepts: per property, the
    constants one of which it must equal (a part that is an equality, or an ``$or`` of
    equalities of one property with constants of one type). Other parts are left out."""
    found: dict[str, tuple[type, frozenset[Any]]] = {}
    for part in _parts(pattern):
        options = part["$or"] if isinstance(part, dict) and set(part) == {"$or"} else [part]
        if not isinstance(options, list) or not options:
            continue
        pairs = [equality for option in options if (equality := _equality(option)) is not None]
        if len(pairs) != len(options):
            continue
        keys = {key for key, _ in pairs}
        kinds = {type(value) for _, value in pairs}
        if len(keys) != 1 or len(kinds) != 1:
            continue
        (key,), (kind,) = keys, kinds
        if key == "t" or not readable(key):
            continue
        constants = frozenset(value for _, value in pairs)
        if key in found:
            if found[key][0] is not kind:
                continue  # one part on text, one on booleans: keep the first
            constants &= found[key][1]  # two parts on one property: both must hold
        found[key] = (kind, constants)
    return tuple((key, kind, constants) for key, (kind, constants) in found.items())


class FiringGuards:
    """Per programme, whether a case can fire any of its rules, from cheap facts only.

    ``patterns``: rule id -> compiled pattern; ``programme_of``: rule id -> programme;
    ``readable``: the engine properties whose values are known without a formula. A programme
    with a rule that requires nothing of them has no guard (it may always fire)."""

    def __init__(
        self,
        patterns: Mapping[str, Any],
        programme_of: Mapping[str, str],
        readable: Callable[[str], bool],
    ) -> None:
        by_programme: dict[str, list[tuple[Requirement, ...]]] = {}
        open_: set[str] = set()
        for rule_id, pattern in patterns.items():
            programme = programme_of[rule_id]
            needs = requirements(pattern, readable)
            if not needs:
                open_.add(programme)
            by_programme.setdefault(programme, []).append(needs)
        self.guards: dict[str, tuple[tuple[Requirement, ...], ...]] = {
            programme: tuple(rules) for programme, rules in by_programme.items() if programme not in open_
        }
        # What may_fire checks: each programme's rules made as few as may be (see _fewest), with
        # the same answer: the sanction programme's eight rules, all of them requiring an
        # overstay, are one; the entry programme's four are one.
        self.checks = {programme: _fewest(rules) for programme, rules in self.guards.items()}
        #: The properties may_fire reads of each programme with a guard.
        self.reads = {
            programme: tuple(dict.fromkeys(key for needs in rules for key, _, _ in needs))
            for programme, rules in self.checks.items()
        }

    def may_fire(self, programme: str, value: Callable[[str], Any]) -> bool:
        """Whether some rule of ``programme`` may match, ``value`` giving each property's value
        as the engine fact would carry it (``None``: left out); asked for the properties of
        :attr:`reads` only, maybe more than once each."""
        rules = self.checks.get(programme)
        if rules is None:
            return True
        for needs in rules:
            for key, kind, constants in needs:
                found = value(key)
                if found is None:
                    break  # a comparison on a missing fact is false
                if type(found) is kind and found not in constants:
                    break  # text or a boolean equal to none of the constants
            else:
                return True  # nothing this rule requires is known to be false
        return False


def _implied(rule: tuple[Requirement, ...], other: tuple[Requirement, ...]) -> bool:
    """Whether ``other`` may match only if ``rule`` may: each requirement of ``rule`` is one of
    ``other``'s on the same property and type, with constants among its own (a value that
    passes ``other``'s passes ``rule``'s)."""
    theirs = {key: (kind, constants) for key, kind, constants in other}
    for key, kind, constants in rule:
        found = theirs.get(key)
        if found is None or found[0] is not kind or not found[1] <= constants:
            return False
    return True


def _merged(rule: tuple[Requirement, ...], other: tuple[Requirement, ...]) -> tuple[Requirement, ...] | None:
    """One rule that may match exactly when ``rule`` or ``other`` may, when they require the same
    of the same properties but for the constants of one (``None``: they differ more): that one
    may be any of both's constants."""
    theirs = {key: (kind, constants) for key, kind, constants in other}
    if len(theirs) != len(rule):
        return None
    differ = None
    for key, kind, constants in rule:
        found = theirs.get(key)
        if found is None or found[0] is not kind:
            return None
        if found[1] != constants:
            if differ is not None:
                return None
            differ = key
    return tuple(
        (key, kind, constants | theirs[key][1] if key == differ else constants)
        for key, kind, constants in rule
    )


def _fewest(rules: tuple[tuple[Requirement, ...], ...]) -> tuple[tuple[Requirement, ...], ...]:
    """Rules that may match exactly when one of ``rules`` may, as few as these steps make them:
    a rule another implies is left out (see :func:`_implied`), two that differ only in the
    constants of one property are one (see :func:`_merged`)."""
    kept: list[tuple[Requirement, ...]] = []
    for rule in rules:
        kept = _with(kept, rule)
    return tuple(kept)


def _with(
    kept: list[tuple[Requirement, ...]], rule: tuple[Requirement, ...]
) -> list[tuple[Requirement, ...]]:
    """``kept`` and ``rule`` (see :func:`_fewest`)."""
    if any(_implied(other, rule) for other in kept):
        return kept
    for index, other in enumerate(kept):
        merged = _merged(other, rule)
        if merged is not None:
            return _with(kept[:index] + kept[index + 1 :], merged)
    return [other for other in kept if not _implied(rule, other)] + [rule]
