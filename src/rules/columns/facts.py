"""The stay facts of a block of travellers, as columns: what the stay mechanism puts in a case.

:meth:`rules.stay.limit.StayLimit.derive_stay` gives one record's stay facts (``as_of``,
``citizenship``, ``regime``, ``days_used``, ``overstay_period_end``, ...), which the rules read
and the sections show. :func:`stay_facts` gives the same facts for every traveller of a block at
once, one array per fact, from the records' citizenships and trips and from their count
(:mod:`rules.columns.counting`). What it reads of the law it reads through the mechanism itself
(the regime of each citizenship, the counter's terms): once per distinct citizenship, never per
record, and never a second reading of the policy.

A record whose facts cannot be had so is marked out of scope (:attr:`StayFacts.in_scope` false)
and goes to the record engine: its nationality has no row in the regime table on the date (a
gap in the law, with its warning), its regime changes over the days counted (the count looks up
each trip's terms), or the law has no value on a day the count must judge (an error).

Days are ordinals (``date.toordinal()``); a date fact with no value holds :data:`NO_DAY`.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass, fields, replace
from typing import TYPE_CHECKING, Any, Protocol

import numpy as np
import numpy.typing as npt

from rules.columns.values import Coded
from rules.engine.computation import plain
from rules.errors import KzmigError
from rules.stay.window import NoValueInForce

if TYPE_CHECKING:
    from rules.stay.limit import StayLimit

__all__ = ["NO_DAY", "CountedBlock", "StayFacts", "stay_facts"]

#: A date fact with no value, as an ordinal (no real day has it).
NO_DAY = -1

Ints = npt.NDArray[np.int64]
Flags = npt.NDArray[np.bool_]


class CountedBlock(Protocol):
    """The count of a block's records (see :mod:`rules.columns.counting`): one item per record,
    the overstay periods flat with each record's slice given by ``period_offsets``."""

    @property
    def days_used(self) -> Ints: ...

    @property
    def overstay_count(self) -> Ints: ...

    @property
    def period_offsets(self) -> Ints: ...

    @property
    def period_first(self) -> Ints: ...

    @property
    def period_last(self) -> Ints: ...

    @property
    def present(self) -> Flags: ...


@dataclass(frozen=True)
class StayFacts:
    """The stay facts of a block's records, one array per fact (see the module).

    ``counted``: whether the record was counted (a subject of the limit, with trips recorded,
    the limit in force); the count's facts hold 0, false or :data:`NO_DAY` for the others and
    are not facts of theirs (:meth:`row` leaves them out). ``periods``: how many overstay periods
    each record has (0: none, and no period fact; 1: no previous period fact). ``per_entry``:
    the cap per entry of a record counted (:data:`NO_DAY`: none)."""

    as_of: int
    in_scope: Flags
    trips_recorded: Flags
    citizenship: Sequence[str | None]
    regime_recorded: Flags
    regime: Sequence[Any]
    subject: Flags
    counted: Flags
    per_entry: Ints
    days_used: Ints
    overstay_days: Ints
    present: Flags
    entered_today: Flags
    over_limit: Flags
    periods: Ints
    overstay_period_start: Ints
    overstay_period_end: Ints
    previous_overstay_period_end: Ints
    previous_overstay_period_days: Ints

    @property
    def overstay_period_days(self) -> Ints:
        return np.where(self.periods > 0, self.overstay_period_end - self.overstay_period_start + 1, 0)

    def taken(self, rows: Ints) -> StayFacts:
        """The facts of the records ``rows`` only, in that order (the records in scope, say)."""
        changed: dict[str, Any] = {}
        for item in fields(self):
            value = getattr(self, item.name)
            if isinstance(value, np.ndarray):
                changed[item.name] = value[rows]
            elif isinstance(value, list | tuple):
                changed[item.name] = [value[int(row)] for row in rows]
        return replace(self, **changed)

    def coded(self) -> dict[str, Coded]:
        """Every fact :meth:`row` may give, as coded columns by local name (none where a record
        does not have it): what :class:`~rules.columns.values.BlockFacts` reads as the stay
        mechanism's facts."""
        size = len(self.in_scope)
        known = self.citizenship_known
        recorded = known & self.regime_recorded
        counted = self.counted
        periods, previous = counted & (self.periods > 0), counted & (self.periods > 1)
        every = np.ones(size, dtype=np.bool_)
        as_date = dt.date.fromordinal
        return {
            "trips_recorded": Coded.of_flags(self.trips_recorded, every),
            "statuses": Coded.constant(plain(()), size),
            "citizenship": Coded.of_objects(self.citizenship),
            "regime_recorded": Coded.of_flags(self.regime_recorded, known),
            "regime": Coded.of_objects(
                [value if flag else None for value, flag in zip(self.regime, recorded, strict=True)]
            ),
            "subject": Coded.of_flags(self.subject, recorded),
            "days_used": Coded.of_numbers(self.days_used, counted),
            "overstay_days": Coded.of_numbers(self.overstay_days, counted),
            "exempt_days": Coded.of_numbers(np.zeros(size, dtype=np.int64), counted),
            "present": Coded.of_flags(self.present, counted),
            "entered_today": Coded.of_flags(self.entered_today, counted),
            "over_limit": Coded.of_flags(self.over_limit, counted),
            "overstay_period_days": Coded.of_numbers(self.overstay_period_days, periods),
            "overstay_period_end": Coded.of_numbers(self.overstay_period_end, periods, as_date),
            "overstay_period_start": Coded.of_numbers(self.overstay_period_start, periods, as_date),
            "previous_overstay_period_days": Coded.of_numbers(self.previous_overstay_period_days, previous),
            "previous_overstay_period_end": Coded.of_numbers(
                self.previous_overstay_period_end, previous, as_date
            ),
        }

    @property
    def citizenship_known(self) -> Flags:
        return np.array([code is not None for code in self.citizenship], dtype=np.bool_)

    def row(self, index: int) -> dict[str, Any]:
        """The facts of record ``index`` as ``derive_stay`` gives them (dates as dates): for the
        tests, and for a record the record engine is asked about."""
        fact: dict[str, Any] = {
            "as_of": self.as_of,
            "trips_recorded": bool(self.trips_recorded[index]),
            "statuses": (),
        }
        citizenship = self.citizenship[index]
        if citizenship is None:
            return fact
        fact["citizenship"] = citizenship
        recorded = bool(self.regime_recorded[index])
        fact["regime_recorded"] = recorded
        if recorded:
            fact["regime"] = self.regime[index]
            fact["subject"] = bool(self.subject[index])
        if not self.counted[index]:
            return fact
        fact["days_used"] = int(self.days_used[index])
        fact["overstay_days"] = int(self.overstay_days[index])
        fact["exempt_days"] = 0
        fact["present"] = bool(self.present[index])
        fact["entered_today"] = bool(self.entered_today[index])
        fact["over_limit"] = bool(self.over_limit[index])
        periods = int(self.periods[index])
        if periods:
            start, end = int(self.overstay_period_start[index]), int(self.overstay_period_end[index])
            fact["overstay_period_days"] = end - start + 1
            fact["overstay_period_end"] = dt.date.fromordinal(end)
            fact["overstay_period_start"] = dt.date.fromordinal(start)
            if periods > 1:
                fact["previous_overstay_period_days"] = int(self.previous_overstay_period_days[index])
                fact["previous_overstay_period_end"] = dt.date.fromordinal(
                    int(self.previous_overstay_period_end[index])
                )
        return fact


@dataclass(frozen=True)
class _Nationality:
    """What the stay facts read of the law for one citizenship on the day."""

    recorded: bool
    regime: Any
    subject: bool
    in_scope: bool
    limit: int = 0
    per_entry: int = NO_DAY


def _nationality(stay: StayLimit, citizenship: str, day: int, in_force: bool) -> _Nationality:
    recorded, regime, subject = stay.regime_on(citizenship, day)
    if not recorded:
        # With the limit in force, a gap in the law (a warning, a section listing it): the
        # record engine's; without it, nothing is counted or missed.
        return _Nationality(recorded, regime, subject, not in_force)
    if not (subject and in_force):
        return _Nationality(recorded, regime, subject, True)
    try:
        counting = stay.counting(citizenship, day)
    except (NoValueInForce, KzmigError):
        return _Nationality(recorded, regime, subject, False)
    per_entry = NO_DAY if counting.per_entry is None else counting.per_entry
    return _Nationality(recorded, regime, subject, counting.course.uniform, counting.limit, per_entry)


def stay_facts(
    stay: StayLimit,
    as_of: dt.date,
    citizenship: Sequence[str | None],
    trips_recorded: Flags,
    offsets: Ints,
    entry: Ints,
    count: CountedBlock,
) -> StayFacts:
    """The stay facts of a block's records on ``as_of`` (see the module): ``citizenship`` the
    normalised code of each (``None``: not known), ``trips_recorded`` whether its record gives
    its trips, ``offsets`` and ``entry`` its trips' entry days (the trips of record ``i`` are
    ``offsets[i]:offsets[i + 1]``), ``count`` their count on ``as_of`` under each record's
    terms."""
    day = as_of.toordinal()
    size = len(citizenship)
    first_day, last_day = stay.in_force
    in_force = first_day <= day <= last_day
    seen: dict[str | None, _Nationality] = {}
    in_scope = np.ones(size, dtype=np.bool_)
    regime_recorded = np.zeros(size, dtype=np.bool_)
    subject = np.zeros(size, dtype=np.bool_)
    limit = np.zeros(size, dtype=np.int64)
    per_entry = np.full(size, NO_DAY, dtype=np.int64)
    regime: list[Any] = [None] * size
    for index, code in enumerate(citizenship):
        if code is None:
            continue
        found = seen.get(code)
        if found is None:
            found = seen[code] = _nationality(stay, code, day, in_force)
        in_scope[index] = found.in_scope
        regime_recorded[index] = found.recorded
        subject[index] = found.subject
        regime[index] = found.regime
        limit[index] = found.limit
        per_entry[index] = found.per_entry
    counted = subject & trips_recorded & in_force
    counted &= in_scope
    present = count.present & counted
    entered = _entered_on(day, offsets, entry) & present
    periods = np.diff(count.period_offsets)
    last = np.maximum(count.period_offsets[1:] - 1, 0)
    previous = np.maximum(count.period_offsets[1:] - 2, 0)
    has_period = counted & (periods > 0)
    has_previous = counted & (periods > 1)
    starts, ends = count.period_first, count.period_last
    if len(starts) == 0:  # no period in the block: indexing an empty array would fail
        starts = ends = np.full(1, NO_DAY, dtype=np.int64)
    period_start = np.where(has_period, starts[last], NO_DAY)
    period_end = np.where(has_period, ends[last], NO_DAY)
    previous_end = np.where(has_previous, ends[previous], NO_DAY)
    previous_days = np.where(has_previous, ends[previous] - starts[previous] + 1, 0)
    days_used = np.where(counted, count.days_used, 0)
    return StayFacts(
        as_of=day,
        in_scope=in_scope,
        trips_recorded=np.asarray(trips_recorded, dtype=np.bool_),
        citizenship=citizenship,
        regime_recorded=regime_recorded,
        regime=regime,
        subject=subject,
        counted=counted,
        per_entry=np.where(counted, per_entry, NO_DAY),
        days_used=days_used,
        overstay_days=np.where(has_period, count.overstay_count, 0),
        present=present,
        entered_today=entered,
        over_limit=counted & (days_used > limit),
        periods=np.where(counted, periods, 0),
        overstay_period_start=period_start,
        overstay_period_end=period_end,
        previous_overstay_period_end=previous_end,
        previous_overstay_period_days=previous_days,
    )


def _entered_on(day: int, offsets: Ints, entry: Ints) -> Flags:
    """Whether each record has a trip entering on ``day``."""
    owners = np.repeat(np.arange(len(offsets) - 1), np.diff(offsets))
    found = np.zeros(len(offsets) - 1, dtype=np.bool_)
    found[owners[entry == day]] = True
    return found
