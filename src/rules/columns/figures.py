"""The figures of each record of a block, as :func:`rules.analysis.figures.figures` reads them
off the record engine's verdict, made from the block's columns.

A verdict of a traveller in scope has one section, the stay's; its figures are made of parts
that many records share: the status and what the count found, the sanction and the check at
entry (each a decision of a combination of classes, with the values of its deciding rule), the
registration due (one per citizenship and day of entry), the regime. Each part is made once per
distinct value (a decision's values once per distinct combination of the facts they read, by the
rule's own compiled closures) and flattened by the same code the analysis flattens a verdict
with; a record's figures are its parts put together in the order of the section's fields.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, overload

import numpy as np
import numpy.typing as npt

from models.verdict import StayStatus
from rules.analysis.figures import mapping_figures, model_figures
from rules.analysis.impact import changed_figures
from rules.columns.decisions import Decisions
from rules.columns.facts import NO_DAY, StayFacts
from rules.columns.values import BlockFacts, Coded
from rules.engine.computation import json_value
from rules.engine.evaluator import Evaluator
from rules.stay.limit import StayLimit

__all__ = ["BlockFigures", "Numbers", "Parts", "Periods", "PeriodsFigure", "current_entries", "stay_figures"]

Ints = npt.NDArray[np.int64]
Flags = npt.NDArray[np.bool_]

_STATUSES = {status.value: status for status in StayStatus}
#: The statuses whose section shows the latest day to leave.
_SHOWS_LATEST_EXIT = frozenset({StayStatus.COMPLIANT, StayStatus.OVERSTAY, StayStatus.EXEMPT})
_LAST_ORDINAL = dt.date.max.toordinal()
_fromordinal = dt.date.fromordinal


@dataclass(frozen=True)
class Periods:
    """The overstay periods of a block's records: those of record ``i`` are
    ``first[offsets[i]:offsets[i + 1]]`` to ``last[...]``, in order."""

    offsets: Ints
    first: Ints
    last: Ints

    def taken(self, rows: Ints) -> Periods:
        """The periods of the records ``rows`` only, in that order."""
        starts, ends = self.offsets[rows], self.offsets[rows + 1]
        lengths = ends - starts
        offsets = np.zeros(len(rows) + 1, dtype=np.int64)
        np.cumsum(lengths, out=offsets[1:])
        picked = np.repeat(starts - offsets[:-1], lengths) + np.arange(offsets[-1])
        return Periods(offsets, self.first[picked], self.last[picked])


def current_entries(day: int, offsets: Ints, entry: Ints, exit_: Ints) -> Ints:
    """The entry day of the trip each record is on on ``day`` (the last that entered by then and
    has not left before it), :data:`NO_DAY` for a record on none."""
    count = len(offsets) - 1
    found = np.full(count, NO_DAY, dtype=np.int64)
    if len(entry) == 0:
        return found
    on = (entry <= day) & ((exit_ == NO_DAY) | (exit_ >= day))
    index = np.where(on, np.arange(len(entry)), -1)
    filled = np.diff(offsets) > 0
    latest = np.maximum.reduceat(index, offsets[:-1][filled])
    chosen = np.full(count, -1, dtype=np.int64)
    chosen[filled] = latest
    has = chosen >= 0
    found[has] = entry[chosen[has]]
    return found


@dataclass(frozen=True)
class Numbers:
    """A figure held as a whole number by the records that have it: an amount (``int``), a flag
    (``bool``) or a day (``date``, held as an ordinal)."""

    name: str
    has: Flags
    values: Ints
    kind: type

    def put(self, row: int, found: dict[str, Any]) -> None:
        """Add record ``row``'s figure, if it has one, to ``found``."""
        if self.has[row]:
            value = int(self.values[row])
            kind = self.kind
            found[self.name] = value if kind is int else bool(value) if kind is bool else _fromordinal(value)

    def taken(self, rows: Ints) -> Numbers:
        """This figure of the records ``rows`` only, in that order."""
        return Numbers(self.name, self.has[rows], self.values[rows], self.kind)

    def same(self, other: Numbers) -> Flags:
        """Which records have this figure alike here and in ``other`` (both none, or equal)."""
        alike: Flags = (self.has == other.has) & (~self.has | (self.values == other.values))
        return alike


@dataclass(frozen=True)
class PeriodsFigure:
    """The overstay periods, one figure compared whole, of the records that have any."""

    name: str
    has: Flags
    periods: Periods

    def put(self, row: int, found: dict[str, Any]) -> None:
        if self.has[row]:
            offsets = self.periods.offsets
            first, end = int(offsets[row]), int(offsets[row + 1])
            found[self.name] = tuple(
                {"from": _fromordinal(start), "to": _fromordinal(last), "days": last - start + 1}
                for start, last in zip(
                    self.periods.first[first:end].tolist(), self.periods.last[first:end].tolist(), strict=True
                )
            )

    def taken(self, rows: Ints) -> PeriodsFigure:
        """This figure of the records ``rows`` only, in that order."""
        return PeriodsFigure(self.name, self.has[rows], self.periods.taken(rows))

    def same(self, other: PeriodsFigure) -> Flags:
        """Which records have the same periods here and in ``other`` (or none on both sides)."""
        mine, theirs = self.periods, other.periods
        lengths, other_lengths = np.diff(mine.offsets), np.diff(theirs.offsets)
        both = self.has & other.has
        alike: Flags = (self.has == other.has) & (~both | (lengths == other_lengths))
        # The periods of the records that have as many on both sides, compared one by one.
        checked = both & alike
        rows = np.repeat(np.arange(len(lengths)), np.where(checked, lengths, 0))
        picked_mine = np.repeat(checked, lengths)
        picked_theirs = np.repeat(checked, other_lengths)
        differ = (mine.first[picked_mine] != theirs.first[picked_theirs]) | (
            mine.last[picked_mine] != theirs.last[picked_theirs]
        )
        alike[rows[differ]] = False
        return alike


@dataclass(frozen=True)
class Parts:
    """Figures that many records share, made once: record ``i`` has the figures
    ``parts[codes[i]]`` (a mapping by dotted name, empty for none)."""

    codes: Ints
    parts: tuple[dict[str, Any], ...]

    def put(self, row: int, found: dict[str, Any]) -> None:
        part = self.parts[int(self.codes[row])]
        if part:
            found.update(part)

    def taken(self, rows: Ints) -> Parts:
        """These parts of the records ``rows`` only, in that order."""
        return Parts(self.codes[rows], self.parts)

    def same(self, other: Parts) -> Flags:
        """Which records have the same figures in this part and in ``other``'s (judged once
        per pair of parts)."""
        width = len(other.parts)
        pairs, inverse = np.unique(self.codes * width + other.codes, return_inverse=True)
        alike = np.array(
            [
                not changed_figures(self.parts[int(pair) // width], other.parts[int(pair) % width])
                for pair in pairs
            ],
            dtype=np.bool_,
        )
        found: Flags = alike[inverse.reshape(-1)]
        return found


Figure = Numbers | PeriodsFigure | Parts


@dataclass(frozen=True)
class BlockFigures(Sequence[dict[str, Any]]):
    """The figures of a block's records as columns, in the order the section reads them:
    ``figures[i]`` is record ``i``'s, as :func:`rules.analysis.figures.figures` gives them."""

    size: int
    columns: tuple[Figure, ...]

    def __len__(self) -> int:
        return self.size

    @overload
    def __getitem__(self, row: int) -> dict[str, Any]: ...

    @overload
    def __getitem__(self, row: slice) -> list[dict[str, Any]]: ...

    def __getitem__(self, row: int | slice) -> dict[str, Any] | list[dict[str, Any]]:
        if isinstance(row, slice):
            return [self[index] for index in range(self.size)[row]]
        if not -self.size <= row < self.size:
            raise IndexError(row)
        row %= self.size
        found: dict[str, Any] = {}
        for column in self.columns:
            column.put(row, found)
        return found

    def taken(self, rows: Sequence[int] | Ints) -> BlockFigures:
        """The figures of the records ``rows`` only, in that order."""
        picked = np.asarray(rows, dtype=np.int64)
        return BlockFigures(len(picked), tuple(column.taken(picked) for column in self.columns))

    def same(self, other: BlockFigures) -> Flags:
        """Which records have the same figures here and in ``other`` (the same records under
        another version, made by the same code): no figure differs, none is one side's only."""
        alike = np.ones(self.size, dtype=np.bool_)
        for mine, theirs in zip(self.columns, other.columns, strict=True):
            if type(mine) is not type(theirs) or getattr(mine, "name", None) != getattr(theirs, "name", None):
                raise ValueError("figures of two blocks made differently")
            alike &= mine.same(theirs)  # type: ignore[arg-type]
        return alike


def _decision_parts(
    evaluator: Evaluator,
    block: BlockFacts,
    decisions: Decisions,
    programme: str,
    prefix: str,
) -> Parts:
    """The figures of ``programme``'s decision placed at ``prefix`` (``stay.sanction``) for
    each record: its status, its deciding rule's values and the facts it found missing (none
    where the programme decided nothing). Made once per decision and distinct values."""
    compiled = evaluator.compiled
    codes = np.zeros(block.size, dtype=np.int64)
    parts: list[dict[str, Any]] = [{}]
    by_rule: dict[str, list[int]] = {}
    for code, combination in enumerate(decisions.combinations):
        decided = combination.decided.get(programme)
        if decided is not None:
            by_rule.setdefault(decided.rules[0].id, []).append(code)
    for rule_id, chosen in by_rule.items():
        rows = np.flatnonzero(np.isin(decisions.codes, chosen))
        values = {
            name: block.evaluated(closure, rows)
            for name, closure in compiled.rule_values.get(rule_id, {}).items()
        }
        keys = np.stack([decisions.codes[rows], *(column.codes for column in values.values())], axis=1)
        _, firsts, inverse = np.unique(keys, axis=0, return_index=True, return_inverse=True)
        codes[rows] = len(parts) + inverse.reshape(-1)
        for first in firsts.tolist():
            decided = decisions.combinations[int(decisions.codes[rows[first]])].decided[programme]
            part: dict[str, Any] = {f"{prefix}.status": decided.status}
            shown = {name: json_value(column.at(first).value) for name, column in values.items()}
            mapping_figures(f"{prefix}.values", shown, part)
            if decided.missing:
                part[f"{prefix}.missing"] = decided.missing
            parts.append(part)
    return Parts(codes, tuple(parts))


def _coded_parts(keys: Sequence[Any], made: Any) -> Parts:
    """One part per distinct key of ``keys`` (``None``: no figures), made by ``made(key)``."""
    coded = Coded.of_objects(keys)  # code 0: none
    return Parts(coded.codes, ({}, *(made(val.value) for val in coded.vals[1:])))


def stay_figures(
    evaluator: Evaluator,
    facts: StayFacts,
    block: BlockFacts,
    decisions: Decisions,
    periods: Periods,
    latest_exit: Ints,
    current_entry: Ints,
) -> BlockFigures:
    """Each record's figures (see the module): ``facts``, ``periods``, ``latest_exit`` (an
    ordinal, :data:`NO_DAY` for none) and ``current_entry`` (see :func:`current_entries`) of
    the same records as ``block`` and ``decisions``, all in scope."""
    stay = evaluator.mechanisms["stay"]
    assert isinstance(stay, StayLimit)  # the stay limit's mechanism: the only one in scope
    as_of = block.as_of
    size = block.size
    combinations = decisions.combinations
    statuses: Coded = decisions.status("stay")
    status_of = [
        _STATUSES.get(val.value) or StayStatus(val.value) if val.value is not None else None
        for val in statuses.vals
    ]
    counted = np.asarray(facts.counted, dtype=np.bool_)
    # The last day of each record's last overstay period (NO_DAY: none).
    ends = periods.offsets[1:]
    has_periods = ends > periods.offsets[:-1]
    last = np.full(size, NO_DAY, dtype=np.int64)
    last[has_periods] = periods.last[ends[has_periods] - 1]
    per_entry = np.asarray(facts.per_entry, dtype=np.int64)
    shows = np.array([status in _SHOWS_LATEST_EXIT for status in status_of], dtype=np.bool_)
    latest = np.asarray(latest_exit, dtype=np.int64)
    missing = tuple(
        {"stay.missing": decided.missing}
        if (decided := combination.decided.get("stay")) is not None and decided.missing
        else {}
        for combination in combinations
    )
    registrations = []
    for code, entered in zip(facts.citizenship, current_entry.tolist(), strict=True):
        # The section asks for none when the count found the person on no trip: then no trip
        # covers the day, and there is no current entry either.
        registrations.append((code, entered) if code is not None and entered != NO_DAY else None)

    def registration(key: tuple[str, int]) -> dict[str, Any]:
        due = stay.registration_after(key[0], _fromordinal(key[1]), as_of)
        found: dict[str, Any] = {}
        if due is not None:
            model_figures("stay.registration", due, found)
        return found

    regimes = [
        regime if recorded and code is not None else None
        for regime, recorded, code in zip(
            facts.regime, facts.regime_recorded.tolist(), facts.citizenship, strict=True
        )
    ]
    return BlockFigures(
        size,
        (
            Parts(
                statuses.codes,
                tuple({"stay.status": status} if status is not None else {} for status in status_of),
            ),
            Numbers("stay.days_used", counted, np.asarray(facts.days_used, dtype=np.int64), int),
            Numbers("stay.per_entry_limit", counted & (per_entry != NO_DAY), per_entry, int),
            Numbers("stay.overstay_days", counted, np.asarray(facts.overstay_days, dtype=np.int64), int),
            Numbers(
                "stay.overstay_now",
                counted,
                (has_periods & np.asarray(facts.present, dtype=np.bool_) & (last == facts.as_of)).astype(
                    np.int64
                ),
                bool,
            ),
            PeriodsFigure("stay.overstay_periods", counted & has_periods, periods),
            Numbers("stay.exempt_days", counted, np.zeros(size, dtype=np.int64), int),
            Numbers(
                "stay.latest_exit",
                counted
                & (latest != NO_DAY)
                & (latest != 0)
                & (latest <= _LAST_ORDINAL)
                & shows[statuses.codes],
                latest,
                dt.date,
            ),
            Parts(decisions.codes, missing),
            _decision_parts(evaluator, block, decisions, "sanction", "stay.sanction"),
            _decision_parts(evaluator, block, decisions, "entry", "stay.entry_check"),
            _coded_parts(registrations, registration),
            _coded_parts(regimes, lambda regime: {"stay.regime": regime}),
        ),
    )
