"""The facts of a block's records as coded columns, each formula computed once per distinct
combination of what it reads, by the record engine's own closure.

A :class:`Coded` column holds a value for every record of a block the way a dictionary-encoded
column does: ``vals`` the distinct values (each a :class:`~rules.engine.computation.Val`, with
what it carries: missing inputs, gaps, provisional sources), ``codes`` which of them each record
has. A computed fact is a function of the facts its formula reads (and of the law on the day):
:meth:`BlockFacts.evaluated` calls the formula's compiled closure for one record of a group of
records alike in every fact the closure was seen to read, and gives the whole group its result.
The values are then exactly the record engine's (the same closure computes them), and the work
grows with the number of such groups, not of records: the end days of the overstays of a
million travellers are a few thousand days, their citizenships a few hundred, and a formula over
a list the records do not give reads nothing else.

:class:`BlockFacts` is the block's :class:`~rules.engine.case.Case`: every fact of the catalogue
on one day, computed on demand and once, by its origin (a formula, the date, a programme's
status, a mechanism's figure, an input of the record).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt

from rules.engine.case import Case
from rules.engine.compiled import CompiledPolicy
from rules.engine.computation import NONE, Evaluate, Val, plain

__all__ = ["BlockFacts", "Coded", "NotColumnar", "combined"]

Ints = npt.NDArray[np.int64]
Flags = npt.NDArray[np.bool_]

#: Mixed-radix keys of combined codes stay below this; beyond it the codes are compared as rows.
_RADIX_BOUND = 1 << 62


class NotColumnar(Exception):
    """What the columns cannot compute as the record engine does (a fact a mechanism derives
    only record by record, say): the records concerned go to the record engine."""


@dataclass(frozen=True)
class Coded:
    """A value per record: record ``i`` has ``vals[codes[i]]`` (see the module)."""

    codes: Ints
    vals: tuple[Val, ...]

    def __len__(self) -> int:
        return len(self.codes)

    def at(self, index: int) -> Val:
        return self.vals[int(self.codes[index])]

    @classmethod
    def constant(cls, val: Val, size: int) -> Coded:
        """``val`` for each of ``size`` records."""
        return cls(np.zeros(size, dtype=np.int64), (val,))

    @classmethod
    def of_numbers(cls, values: Ints, has: Flags, made: Callable[[int], Any] = int) -> Coded:
        """Whole numbers (or ordinals, with ``made=date.fromordinal``), each a plain value where
        ``has``, none elsewhere."""
        distinct, inverse = np.unique(values[has], return_inverse=True)
        vals = tuple(plain(made(int(value))) for value in distinct)
        codes = np.zeros(len(values), dtype=np.int64)
        codes[has] = inverse.reshape(-1) + 1
        return cls(codes, (NONE, *vals))

    @classmethod
    def of_flags(cls, values: Flags, has: Flags) -> Coded:
        """Truths where ``has``, none elsewhere."""
        codes = np.where(has, np.where(values, 2, 1), 0).astype(np.int64)
        return cls(codes, (NONE, plain(False), plain(True)))

    @classmethod
    def of_objects(cls, values: Sequence[Any]) -> Coded:
        """Hashable Python values (text, ``None`` for none), each a plain value."""
        seen: dict[Any, int] = {None: 0}
        codes = np.empty(len(values), dtype=np.int64)
        for index, value in enumerate(values):
            code = seen.get(value)
            if code is None:
                code = seen[value] = len(seen)
            codes[index] = code
        vals = tuple(NONE if value is None else plain(value) for value in seen)
        return cls(codes, vals)


def combined(columns: Sequence[Coded], size: int) -> tuple[Ints, Ints]:
    """The distinct combinations of ``columns``' codes among ``size`` records: for each record
    the number of its combination, and for each combination the first record that has it."""
    if not columns:
        return np.zeros(size, dtype=np.int64), np.zeros(min(size, 1), dtype=np.int64)
    key = np.zeros(size, dtype=np.int64)
    bound = 1
    for column in columns:
        width = max(len(column.vals), 1)
        bound *= width
        if bound >= _RADIX_BOUND:
            rows = np.stack([column.codes for column in columns], axis=1)
            _, firsts, inverse = np.unique(rows, axis=0, return_index=True, return_inverse=True)
            return inverse.reshape(-1).astype(np.int64), firsts.astype(np.int64)
        key = key * width + column.codes
    _, firsts, inverse = np.unique(key, return_index=True, return_inverse=True)
    return inverse.astype(np.int64), firsts.astype(np.int64)


class _Reading:
    """A fact source for one record of a block: the facts it has, each noted as it is read,
    and the law as the block's case reads it."""

    def __init__(self, law: Case, column: Callable[[str], Coded], position: int) -> None:
        self._law = law
        self._column = column
        self._position = position
        self.as_of = law.as_of
        self.read: dict[str, None] = {}

    def fact(self, name: str) -> Val:
        self.read[name] = None
        return self._column(name).at(self._position)

    def parameter(self, name: str, day: dt.date) -> Val:
        return self._law.parameter(name, day)

    def row(self, table: str, key: str, day: dt.date) -> Val:
        return self._law.row(table, key, day)


def _groups(positions: Ints, columns: Sequence[Coded]) -> list[Ints]:
    """``positions`` split into groups of records alike in ``columns`` (all one group when
    there is none), each group's positions in order."""
    if not len(positions):
        return []
    if not columns:
        return [positions]
    inverse, _ = combined([Coded(column.codes[positions], column.vals) for column in columns], len(positions))
    order = np.argsort(inverse, kind="stable")
    bounds = np.flatnonzero(np.diff(inverse[order])) + 1
    return np.split(positions[order], bounds)


class BlockFacts:
    """Every fact of a block's records on one day (see the module): ``mechanisms`` the coded
    facts each mechanism derived (by programme, then local name); a programme absent from it
    was not evaluated. The records carry no programme section: every input is unknown, missing
    by its path, as the record engine reads an absent section."""

    def __init__(
        self,
        compiled: CompiledPolicy,
        as_of: dt.date,
        size: int,
        mechanisms: Mapping[str, Mapping[str, Coded]],
    ) -> None:
        self.compiled = compiled
        self.as_of = as_of
        self.day = as_of.toordinal()
        self.size = size
        self.mechanisms = mechanisms
        #: The statuses decided so far, by programme (see :mod:`rules.columns.decisions`).
        self.statuses: dict[str, Coded] = {}
        self._values: dict[str, Coded] = {}
        # The law as a case reads it (parameters and rows on a day, kept by the compiled policy).
        self.law = Case(compiled, None, {}, as_of)  # type: ignore[arg-type]

    def fact(self, name: str) -> Coded:
        """The coded values of fact ``name``, computed once."""
        found = self._values.get(name)
        if found is None:
            found = self._values[name] = self._compute(name)
        return found

    def _compute(self, name: str) -> Coded:
        compiled = self.compiled
        spec = compiled.specs[name]
        origin = spec.origin
        if origin == "computed":
            return self.formula(name)
        if origin == "as_of":
            return Coded.constant(plain(self.as_of), self.size)
        if origin == "status":
            return self.statuses.get(spec.programme) or Coded.constant(NONE, self.size)
        if origin == "mechanism":
            programme, local = compiled.mechanism_local[name]
            facts = self.mechanisms.get(programme)
            if facts is None:  # the programme was not evaluated for these records
                return Coded.constant(NONE, self.size)
            found = facts.get(local)
            if found is None:
                raise NotColumnar(f"fact {name} is not derived as columns")
            return found
        # An input: the records in scope carry no section, so none is given.
        return Coded.constant(Val(None, frozenset({spec.path or name})), self.size)

    def formula(self, name: str) -> Coded:
        """The coded values of the computed fact ``name``: its formula in force on the day."""
        closure = self.compiled.formula(name, self.day)
        if closure is None:
            return Coded.constant(Val(None, gaps=(f"fact {name} has no formula on {self.as_of}",)), self.size)
        return self.evaluated(closure)

    def evaluated(self, closure: Evaluate, rows: Ints | None = None) -> Coded:
        """``closure`` (a compiled formula) of every record, or of the records ``rows`` only
        (in that order): once per group of records alike in every fact it reads.

        What a closure reads depends on the values it reads (an ``if``, an ``all`` that stops at
        its first false part, an aggregate over a list the record does not give, which reads
        nothing else). So the records are grouped by what one of them was seen to read: the
        closure is called for one record of a group, and the facts it read are noted; when the
        group's records are alike in all of those, its result is theirs (the closure would read
        and do the same for each); otherwise the group is split by the facts it read too, and
        each part is tried so. A fact no call reads is never computed."""
        size = self.size if rows is None else len(rows)
        codes = np.zeros(size, dtype=np.int64)
        results: list[Val] = []
        columns: dict[str, Coded] = {}

        def column(name: str) -> Coded:
            found = columns.get(name)
            if found is None:
                whole = self.fact(name)
                found = columns[name] = whole if rows is None else Coded(whole.codes[rows], whole.vals)
            return found

        pending: list[tuple[Ints, tuple[str, ...]]] = [(np.arange(size, dtype=np.int64), ())]
        while pending:
            positions, alike = pending.pop()
            for group in _groups(positions, [column(name) for name in alike]):
                reading = _Reading(self.law, column, int(group[0]))
                found = closure(reading, None)
                more = tuple(name for name in reading.read if name not in alike)
                if more:
                    pending.append((group, alike + more))
                else:
                    codes[group] = len(results)
                    results.append(found)
        return Coded(codes, tuple(results))
