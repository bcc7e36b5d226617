"""What each programme decides for the records of a block: once per distinct combination of the
facts its rules read, by the record engine itself.

Whether a rule fires, which exception sets which rule aside, which status a programme's
precedence picks, which facts its decision lists as missing: all of it depends on the values of
the facts the rules read and on nothing else of the record. :func:`decide` finds the distinct
combinations of those facts' coded values among a block's records (:mod:`rules.columns.values`)
and, for one record of each, has the evaluator decide a case holding just those values
(:meth:`rules.engine.evaluator.Evaluator.decided`, the rounds of every evaluation): the firings,
their replay per class of values, the guards and the decisions are the record engine's own.
Each record then has its combination's decisions. A combination of classes decided once is
decided for every later block of the same evaluator on the same day (:class:`_Memo`).

A computed fact the rules read that depends on a programme's status (decided in an earlier
round) is not a value the combination can give before the rounds: such a policy is not decided
as columns (:class:`~rules.columns.values.NotColumnar`).
"""

from __future__ import annotations

import weakref
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Literal

import numpy as np
import numpy.typing as npt

from rules.columns.values import BlockFacts, Coded, NotColumnar, combined
from rules.engine.case import Case
from rules.engine.computation import NONE, Val, plain
from rules.engine.evaluator import Evaluator
from rules.engine.sections import Decided
from rules.policy.nodes import references

__all__ = ["Decisions", "decide"]

Ints = npt.NDArray[np.int64]


@dataclass(frozen=True)
class Decision:
    """What the programmes decided for one combination of fact values: each programme's
    decision, the rules fired (in the engine's order), those set aside (and by which rule), the
    programmes a guard ruled out, and those left undecided (and why)."""

    decided: dict[str, Decided]
    fired: tuple[str, ...]
    overridden_by: dict[str, str]
    guarded: frozenset[str]
    left_out: dict[str, str]


@dataclass(frozen=True)
class Decisions:
    """The decisions of a block's records: record ``i`` has ``combinations[codes[i]]``; the
    facts the combinations are made of, by name."""

    codes: Ints
    combinations: tuple[Decision, ...]
    reads: tuple[str, ...]

    def status(self, programme: str) -> Coded:
        """The status ``programme`` decided for each record, as a coded column (none where it
        decided none)."""
        vals = tuple(
            plain(found.status) if (found := combination.decided.get(programme)) is not None else NONE
            for combination in self.combinations
        )
        return Coded(self.codes, vals)


def _reads(evaluator: Evaluator, programmes: Sequence[str]) -> tuple[str, ...]:
    """Every fact the rules of ``programmes`` read: their conditions (with the rules they
    refine), the facts their decisions list as missing, and their guards."""
    compiled = evaluator.compiled
    found: dict[str, None] = {}
    for rule_id, programme in compiled.programme_of.items():
        if programme not in programmes:
            continue
        found.update(dict.fromkeys(compiled.reads[rule_id]))
        named, tested = compiled.missing_reads.get(rule_id, ((), ()))
        found.update(dict.fromkeys(named))
        found.update(dict.fromkeys(tested))
    for programme in programmes:
        found.update(dict.fromkeys(evaluator.guard_facts(programme) or ()))
    return tuple(found)


def _on_statuses(evaluator: Evaluator, name: str, day: int, seen: set[str] | None = None) -> bool:
    """Whether computed fact ``name`` depends, through its formula in force on ``day``, on a
    programme's status."""
    compiled = evaluator.compiled
    spec = compiled.specs.get(name)
    if spec is None:
        return False
    if spec.origin == "status":
        return True
    if spec.origin != "computed":
        return False
    seen = set() if seen is None else seen
    if name in seen:
        return False
    seen.add(name)
    dated = compiled.policy.catalogue.formulas.get(name, ())
    nodes = [node for start, node in dated if node is not None and start <= day][-1:]
    return any(_on_statuses(evaluator, read, day, seen) for node in nodes for read in references(node)[0])


class _Memo:
    """What one evaluator's blocks share: the class of each value seen (by fact, type and
    value) and the decision of each combination of classes (by day, rounds and the classes),
    so that a block decides only the combinations no block before it had. Bounded: emptied
    when full."""

    KEPT = 1 << 16

    def __init__(self) -> None:
        self.classes: dict[tuple[str, type, Any], Any] = {}
        self.decisions: dict[tuple[Any, ...], Decision] = {}

    def value_class(self, evaluator: Evaluator, name: str, value: Any) -> Any:
        key = (name, type(value), value)
        found = self.classes.get(key, _UNSEEN)
        if found is _UNSEEN:
            if len(self.classes) >= self.KEPT:
                self.classes.clear()
            found = self.classes[key] = evaluator.value_class(name, value)
        return found


_UNSEEN = object()
_MEMOS: weakref.WeakKeyDictionary[Evaluator, _Memo] = weakref.WeakKeyDictionary()


def _memo(evaluator: Evaluator) -> _Memo:
    found = _MEMOS.get(evaluator)
    if found is None:
        found = _MEMOS[evaluator] = _Memo()
    return found


def _by_class(memo: _Memo, evaluator: Evaluator, name: str, column: Coded) -> tuple[Coded, list[Any]]:
    """``column`` with the values the rounds cannot tell apart made one, and the key of each
    class (``None``: a class of one value, kept apart): a value, whatever it is, is read by the
    rules only through its class among their patterns, and by the decisions only through
    whether it has one and what it carries (missing inputs, gaps, provisional sources). Each
    class keeps its first value, for the case that decides it."""
    kept: dict[Any, int] = {}
    keys: list[Any] = []
    vals: list[Val] = []
    recoded = np.empty(len(column.vals), dtype=np.int64)
    for index, val in enumerate(column.vals):
        value = val.value
        key: Any
        try:
            key = (
                None if value is None else memo.value_class(evaluator, name, value),
                val.missing,
                val.gaps,
                val.provisional,
            )
            hash(key)
        except TypeError:  # a value of no hashable class (a record): kept apart
            key = ("#", index)
        code = kept.get(key)
        if code is None:
            code = kept[key] = len(vals)
            vals.append(val)
            keys.append(None if key[0] == "#" else key)
        recoded[index] = code
    return Coded(recoded[column.codes], tuple(vals)), keys


def decide(
    evaluator: Evaluator,
    facts: BlockFacts,
    rounds: Sequence[tuple[tuple[str, ...], bool]],
    undecided: Literal["raise", "omit"] = "raise",
) -> Decisions:
    """The programmes of ``rounds`` (the evaluator's plan for the records, see
    :meth:`~rules.engine.evaluator.Evaluator.plan`) decided for every record of ``facts``
    (see the module). A required programme no rule decides for a combination raises, or is
    left out with ``undecided="omit"``, as :meth:`~rules.engine.evaluator.Evaluator.decided`
    does."""
    compiled = evaluator.compiled
    programmes = [name for batch, _ in rounds for name in batch]
    names: list[str] = []
    for name in _reads(evaluator, programmes):
        spec = compiled.specs.get(name)
        if spec is None or spec.origin == "status":
            continue  # a status is the case's own, set round by round
        if _on_statuses(evaluator, name, facts.day):
            raise NotColumnar(f"fact {name} depends on a status decided in an earlier round")
        names.append(name)
    memo = _memo(evaluator)
    classed = [_by_class(memo, evaluator, name, facts.fact(name)) for name in names]
    operands = [column for column, _ in classed]
    inverse, firsts = combined(operands, facts.size)
    local = compiled.mechanism_local
    combinations = []
    shared = (facts.day, tuple(rounds), undecided)
    for first in firsts:
        row = int(first)
        classes = tuple(keys[int(column.codes[row])] for column, keys in classed)
        key = None if None in classes else (*shared, classes)
        known = memo.decisions.get(key) if key is not None else None
        if known is not None:
            combinations.append(known)
            continue
        case = Case(compiled, None, {}, facts.as_of)  # type: ignore[arg-type]
        for name, column in zip(names, operands, strict=True):
            val = column.at(row)
            where = local.get(name)
            if where is None:
                case.values[name] = val
            elif val.value is not None:
                programme, fact = where
                held = case.mechanism_facts.setdefault(programme, {})
                held[fact] = val.value  # type: ignore[index]
        fired, guarded, decided, overridden_by, left_out = evaluator.decided(rounds, case, undecided)
        found = Decision(decided, tuple(fired), overridden_by, frozenset(guarded), left_out)
        if key is not None:
            if len(memo.decisions) >= memo.KEPT:
                memo.decisions.clear()
            memo.decisions[key] = found
        combinations.append(found)
    return Decisions(inverse, tuple(combinations), tuple(names))
