"""A block of travellers compared under two policy versions as columns: the outcome of every
record that no date changes, and the records the record engine must compare.

For each date and each version, the block's records are counted, their facts made, their
programmes decided and their figures made as columns (:mod:`rules.columns.facts`,
:mod:`~rules.columns.values`, :mod:`~rules.columns.decisions`, :mod:`~rules.columns.figures`).
A record whose figures are the same under both versions on every date has the
:class:`~rules.analysis.outcome.Outcome` the record engine would give it, made here by the
analysis's own code (which figures are statuses, which are amounts). A record that changes on
some date, that one version leaves undecided, or that is out of the columns' scope on some date
under some version, is left to the record engine, which also gives the why of a change.
"""

from __future__ import annotations

import collections
import datetime as dt
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, Protocol

import numpy as np
import numpy.typing as npt

from rules.analysis.aggregate import Alike, Impact
from rules.analysis.figures import amount_pairs
from rules.analysis.impact import Comparison
from rules.analysis.outcome import Outcome
from rules.columns.decisions import Decisions, decide
from rules.columns.facts import CountedBlock, StayFacts, stay_facts
from rules.columns.figures import BlockFigures, Numbers, Parts, Periods, current_entries, stay_figures
from rules.columns.values import BlockFacts, Coded, NotColumnar
from rules.engine.evaluator import Evaluator
from rules.errors import EvaluationError
from rules.frozen import made
from rules.stay.limit import StayLimit

__all__ = ["BlockCount", "Count", "Travellers", "compared_block", "tallied_block"]

Ints = npt.NDArray[np.int64]
Flags = npt.NDArray[np.bool_]


@dataclass(frozen=True)
class Travellers:
    """The records of a block the columns may take, as arrays: each record's number in the
    input, its id, its citizenship (the code, and as the record gives it: an analysis counts by
    the latter), whether it gives its trips, and its trips (record ``i``'s are
    ``offsets[i]:offsets[i + 1]``, entry and exit days as ordinals, ``NO_DAY`` for a trip not
    left)."""

    index: Ints
    person_id: Sequence[str]
    citizenship: Sequence[str | None]
    trips_recorded: Flags
    offsets: Ints
    entry: Ints
    exit: Ints
    citizenship_given: Sequence[str | None] | None = None

    def given(self, row: int) -> str | None:
        """The citizenship of record ``row`` as the record gives it."""
        given = self.citizenship_given
        return self.citizenship[row] if given is None else given[row]

    def __len__(self) -> int:
        return len(self.index)


class BlockCount(CountedBlock, Protocol):
    """A block's count as the figures read it: the count's facts, the latest exit of each record
    (an ordinal, ``NO_DAY`` for none), and which records it counted as the record engine would
    (a record it cannot count so is left to the record engine)."""

    @property
    def latest_exit(self) -> Ints: ...

    @property
    def counted_here(self) -> Flags: ...


#: The count of a block's travellers under one version on one day.
Count = Callable[[StayLimit, Travellers, dt.date], BlockCount]


@dataclass(frozen=True)
class _Side:
    """One version's figures and decisions of the records compared, on one date."""

    figures: BlockFigures
    decisions: Decisions
    block: BlockFacts


def _counted(
    evaluator: Evaluator, travellers: Travellers, on: dt.date, count: Count
) -> tuple[StayFacts, BlockCount]:
    stay = evaluator.mechanisms["stay"]
    assert isinstance(stay, StayLimit)  # the only mechanism of the records in scope
    counted = count(stay, travellers, on)
    facts = stay_facts(
        stay,
        on,
        travellers.citizenship,
        travellers.trips_recorded,
        travellers.offsets,
        travellers.entry,
        counted,
    )
    return facts, counted


def _side(
    evaluator: Evaluator,
    travellers: Travellers,
    on: dt.date,
    facts: StayFacts,
    counted: BlockCount,
    rows: Ints,
) -> _Side:
    taken = facts.taken(rows)
    block = BlockFacts(evaluator.compiled, on, len(rows), {"stay": taken.coded()})
    decisions = decide(evaluator, block, evaluator.plan({}).rounds, "omit")
    for programme in evaluator.policy.programmes:
        block.statuses[programme] = decisions.status(programme)
    periods = Periods(counted.period_offsets, counted.period_first, counted.period_last).taken(rows)
    entries = current_entries(on.toordinal(), travellers.offsets, travellers.entry, travellers.exit)[rows]
    figures = stay_figures(evaluator, taken, block, decisions, periods, counted.latest_exit[rows], entries)
    return _Side(figures, decisions, block)


def _group_column(evaluator: Evaluator, side: _Side, name: str) -> Coded | None:
    """The values of fact ``name`` of the block's records under the baseline, as the record
    engine gives the facts an analysis groups by (``None``: no such fact)."""
    return side.block.fact(name) if name in evaluator.compiled.specs else None


def _group_value(evaluator: Evaluator, side: _Side, name: str, row: int) -> Any:
    """The value of fact ``name`` of a record under the baseline (``None``: no such fact, or
    no value): see :func:`_group_column`."""
    column = _group_column(evaluator, side, name)
    return None if column is None else column.at(row).value


@dataclass(frozen=True)
class _Compared:
    """The records of a block the columns compared (``rows``, positions in the block), the
    figures and decisions of each version on each date, and which of them (by position among
    ``rows``) are alike under both versions on every date."""

    rows: Ints
    sides: dict[tuple[dt.date, int], _Side]
    alike: Flags


def _compared(
    comparison: Comparison,
    travellers: Travellers,
    dates: Sequence[dt.date],
    count: Count,
) -> _Compared | None:
    """The block's records in scope compared as columns; ``None`` when none is."""
    size = len(travellers)
    if not size:
        return None
    versions = (comparison.baseline, comparison.amended)
    counts = {
        (on, side): _counted(evaluator, travellers, on, count)
        for on in dates
        for side, evaluator in enumerate(versions)
    }
    taken = np.ones(size, dtype=np.bool_)
    for facts, counted in counts.values():
        taken &= facts.in_scope & counted.counted_here
    rows = np.flatnonzero(taken)
    if not len(rows):
        return None
    try:
        sides = {key: _side(versions[key[1]], travellers, key[0], *counts[key], rows) for key in counts}
    except (NotColumnar, EvaluationError):
        return None  # the block is the record engine's: it says why, record by record
    alike = np.ones(len(rows), dtype=np.bool_)
    for side in sides.values():
        decisions = side.decisions
        undecided = np.array([bool(c.left_out) for c in decisions.combinations], dtype=np.bool_)
        if undecided.any():
            alike &= ~undecided[decisions.codes]
    for on in dates:
        alike &= sides[(on, 0)].figures.same(sides[(on, 1)].figures)
    return _Compared(rows, sides, alike)


def compared_block(
    comparison: Comparison,
    travellers: Travellers,
    dates: Sequence[dt.date],
    group_by: tuple[str, ...],
    count: Count,
) -> list[list[Outcome] | None]:
    """For each record of ``travellers``, its outcomes on every date when the columns find it
    unchanged on every date; ``None`` for a record the record engine must compare (see the
    module). ``count`` counts a block's travellers under one version on one day."""
    found: list[list[Outcome] | None] = [None] * len(travellers)
    compared = _compared(comparison, travellers, dates, count)
    if compared is None:
        return found
    baseline, sides = comparison.baseline, compared.sides
    for position in np.flatnonzero(compared.alike).tolist():
        row = int(compared.rows[position])
        outcomes: list[Outcome] = []
        for on in dates:
            side = sides[(on, 0)]
            figures = side.figures[position]  # the same under both versions
            statuses = {
                programme: (figures.get(name), figures.get(name))
                for name, programme in comparison.statuses_among(tuple(figures))
            }
            groups = {name: _group_value(baseline, side, name, position) for name in group_by}
            outcomes.append(
                made(
                    Outcome,
                    {
                        "record": int(travellers.index[row]),
                        "person_id": travellers.person_id[row],
                        "as_of": on,
                        "citizenship": travellers.given(row),
                        "statuses": statuses,
                        "amounts": amount_pairs(figures),
                        "changed": (),
                        "why": None,
                        "notes": (),
                        "detail": None,
                        "groups": groups,
                        "error": None,
                        "problems": (),
                    },
                )
            )
        found[row] = outcomes
    return found


def tallied_block(
    comparison: Comparison,
    travellers: Travellers,
    dates: Sequence[dt.date],
    group_by: tuple[str, ...],
    count: Count,
) -> tuple[Flags, Impact]:
    """Which records of ``travellers`` the columns find unchanged on every date, and their part
    of the impact, counted as columns: what :meth:`Impact.add <rules.analysis.aggregate.Impact.add>`
    of the outcomes :func:`compared_block` gives them adds, without an outcome per record. The
    other records are the record engine's."""
    answered = np.zeros(len(travellers), dtype=np.bool_)
    impact = Impact.of(comparison, dates, law=False)
    compared = _compared(comparison, travellers, dates, count)
    if compared is None:
        return answered, impact
    positions = np.flatnonzero(compared.alike)
    if not len(positions):
        return answered, impact  # nothing counted: no count of nobody either
    rows = compared.rows[positions]
    answered[rows] = True
    given = [travellers.given(row) for row in rows.tolist()]
    citizenships = list(collections.Counter(given).items())
    by_date = {}
    for on in dates:
        side = compared.sides[(on, 0)]
        alike = Alike(citizenships=citizenships)
        for column in side.figures.columns:
            if isinstance(column, Numbers):
                if column.kind is int:
                    values = column.values[positions[column.has[positions]]]
                    distinct, counts = np.unique(values, return_counts=True)
                    alike.amounts.extend(
                        (column.name, value, number)
                        for value, number in zip(distinct.tolist(), counts.tolist(), strict=True)
                    )
            elif isinstance(column, Parts):
                counts = np.bincount(column.codes[positions], minlength=len(column.parts))
                for code in np.flatnonzero(counts).tolist():
                    part, number = column.parts[code], int(counts[code])
                    alike.statuses.extend(
                        (programme, part[name], number)
                        for name, programme in comparison.statuses_among(tuple(part))
                    )
                    alike.amounts.extend(
                        (name, amount, number) for name, (amount, _) in amount_pairs(part).items()
                    )
        for name in group_by:
            fact = _group_column(comparison.baseline, side, name)
            if fact is None:
                alike.groups.append((name, None, len(positions)))
                continue
            counts = np.bincount(fact.codes[positions], minlength=len(fact.vals))
            alike.groups.extend(
                (name, fact.vals[code].value, int(counts[code])) for code in np.flatnonzero(counts).tolist()
            )
        by_date[on] = alike
    impact.add_alike(len(positions), by_date)
    return answered, impact
