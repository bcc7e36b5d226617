"""Each day of a range, classed for a person on an evaluation date: the time line of a report.

The stay limit's counter (:func:`rules.stay.window.count_stay`, through
:meth:`rules.stay.limit.StayLimit.derive`) decides which days up to the evaluation date are
counted and which are overstay days; this module only sorts the days of a range by what the
counter found, so a time line drawn from it shows exactly the verdict's figures. Nothing here
is law: the day counting starts, the exemptions and the exit-day convention come from the
policy through the mechanism.

The classes (:class:`DayClass`), for a day ``d`` and the evaluation date ``as_of``:

* on or before ``as_of``: *overstay* (a counted day the counter calls an overstay day),
  *counted* (any other counted day), *exempt* (a day of stay an exemption covers, so not
  counted), *not counted* (a day of stay the limit does not count: before it took effect,
  the exit day under a convention that leaves it out, or any day of a person the limit does
  not apply to), or *absent*;
* after ``as_of``: *planned* when a trip of the record covers it (one entering after
  ``as_of``, one whose exit lies after it, or an open trip the person is still on: the
  record cannot know these days yet), else *absent*.

The earliest re-entry is the planning module's answer (:func:`rules.stay.planning.plan_with`):
the first day a one-day stay may begin once the person has left, on the day they leave if
they are in the country (the latest exit, or the evaluation date when they overstay) or on
the evaluation date if they are not.

A record without a travel history (no trips, or border crossings that cannot be read
safely) says nothing about any day: every day is then *unknown*, never absent.
"""

from __future__ import annotations

import bisect
import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from models.person import Person, Trip
from rules.engine.evaluator import Evaluator, parse_person
from rules.errors import EvaluationError, InputError
from rules.stay.limit import StayDerived, StayLimit
from rules.stay.planning import plan_with, stay_limit_of
from rules.stay.window import ExemptPeriod

__all__ = ["DayClass", "StayDays", "classify_days", "earliest_reentry"]


class DayClass(StrEnum):
    """What one day is on the time line (see the module docstring)."""

    COUNTED = "counted"
    OVERSTAY = "overstay"
    EXEMPT = "exempt"
    NOT_COUNTED = "not_counted"
    PLANNED = "planned"
    ABSENT = "absent"
    UNKNOWN = "unknown"


@dataclass(frozen=True)
class StayDays:
    """The days ``first..last`` classed for a person on ``as_of``, with what the stay limit
    read about the person on that date (citizenship, regime, the limit and window in force)."""

    as_of: dt.date
    first: dt.date
    last: dt.date
    classes: tuple[DayClass, ...]  # one a day, from ``first`` to ``last``
    citizenship: str | None
    regime: str | None
    limit: int | None
    window: int | None
    #: The trips as the stay limit read them (border crossings paired into trips); ``None``
    #: when the record's trips are not known.
    trips: tuple[Trip, ...] | None = None

    def on(self, day: dt.date) -> DayClass:
        """The class of ``day`` (a :class:`ValueError` outside the range)."""
        if not self.first <= day <= self.last:
            raise ValueError(f"{day} is outside {self.first}..{self.last}")
        return self.classes[(day - self.first).days]

    def days(self, kind: DayClass) -> list[dt.date]:
        """The days of the range of class ``kind``, in order."""
        return [self.first + dt.timedelta(days=i) for i, found in enumerate(self.classes) if found is kind]

    def count(self, *kinds: DayClass, first: dt.date | None = None, last: dt.date | None = None) -> int:
        """How many days of ``first..last`` (default: the range) are of one of ``kinds``."""
        start = 0 if first is None else max((first - self.first).days, 0)
        stop = len(self.classes) if last is None else min((last - self.first).days + 1, len(self.classes))
        return sum(1 for found in self.classes[start:stop] if found in kinds)

    def runs(self) -> list[tuple[DayClass, dt.date, dt.date]]:
        """The range as runs of consecutive days of one class: ``(class, first, last)``."""
        found: list[tuple[DayClass, dt.date, dt.date]] = []
        for index, kind in enumerate(self.classes):
            day = self.first + dt.timedelta(days=index)
            if found and found[-1][0] is kind:
                found[-1] = (kind, found[-1][1], day)
            else:
                found.append((kind, day, day))
        return found


def classify_days(
    evaluator: Evaluator,
    person: Person | Mapping[str, Any],
    as_of: dt.date,
    first: dt.date,
    last: dt.date,
) -> StayDays:
    """Every day of ``first..last`` classed for ``person`` evaluated on ``as_of``.

    The counted and overstay days are the counter's own for the record up to ``as_of``, as
    the verdict counts them; raises :class:`InputError` for a record that is not valid and
    :class:`EvaluationError` for a date the policy does not decide.
    """
    if last < first:
        raise ValueError(f"the range {first}..{last} is empty")
    stay = stay_limit_of(evaluator)
    record = parse_person(person, evaluator.policy)
    derived = stay.derive(record, as_of)
    state: StayDerived = derived.state
    trips = derived.person.trips or ()
    low, high, day = first.toordinal(), last.toordinal(), as_of.toordinal()

    classes: dict[int, DayClass] = {}
    for trip in trips:  # every day of stay: planned after as_of, not counted until sorted below
        top = trip.exit.toordinal() if trip.exit is not None else high
        for ordinal in range(max(trip.entry.toordinal(), low), min(top, high) + 1):
            classes[ordinal] = DayClass.PLANNED if ordinal > day else DayClass.NOT_COUNTED

    figures = state.figures
    if figures is not None:
        periods = stay.exempt_periods(derived.person)
        for ordinal in _exempt_days(stay, trips, as_of, periods, low, high):
            classes[ordinal] = DayClass.EXEMPT
        for runs, kind in ((figures.counted, DayClass.COUNTED), (figures.periods, DayClass.OVERSTAY)):
            for begin, end in runs:
                for ordinal in range(max(begin, low), min(end, high) + 1):
                    classes[ordinal] = kind

    fact = state.fact
    if derived.person.trips is None:  # no travel history: no day is known, none is absent
        classes = {ordinal: DayClass.UNKNOWN for ordinal in range(low, high + 1)}
    return StayDays(
        as_of=as_of,
        first=first,
        last=last,
        classes=tuple(classes.get(ordinal, DayClass.ABSENT) for ordinal in range(low, high + 1)),
        citizenship=fact.get("citizenship"),
        regime=fact.get("regime"),
        limit=state.limit,
        window=state.window,
        trips=derived.person.trips,
    )


def _exempt_days(
    stay: StayLimit,
    trips: tuple[Trip, ...],
    as_of: dt.date,
    periods: list[ExemptPeriod],
    low: int,
    high: int,
) -> list[int]:
    """The days of ``low..high`` the counter leaves out because an exemption covers them: days
    of the trips it counts (from the day counting starts, up to ``as_of``, the exit day as the
    policy's convention says) that an exempt period covers."""
    if not periods:
        return []
    day = as_of.toordinal()
    starts = stay.base.start
    count_exit_day = bool(stay.policy.parameter("stay.count_exit_day", as_of).value)
    cover = sorted((period.first, period.last) for period in periods)
    firsts = [begin for begin, _ in cover]
    ends = [end for _, end in cover]
    reach = [max(ends[: index + 1]) for index in range(len(ends))]  # the furthest end so far
    found: list[int] = []
    for trip in trips:
        if trip.entry < starts or trip.entry > as_of:
            continue
        end = min(trip.exit.toordinal(), day) if trip.exit is not None else day
        if trip.exit is not None and not count_exit_day and trip.exit <= as_of:
            end -= 1
        for ordinal in range(max(trip.entry.toordinal(), low), min(end, high) + 1):
            index = bisect.bisect_right(firsts, ordinal) - 1
            if index >= 0 and reach[index] >= ordinal:
                found.append(ordinal)
    return found


def earliest_reentry(
    evaluator: Evaluator, person: Person | Mapping[str, Any], as_of: dt.date, leaves: dt.date | None
) -> dt.date | None:
    """The first day a one-day stay may begin once the person has left (the planning
    module's earliest entry): ``leaves`` is the day they leave if they are in the country on
    ``as_of`` (``None``: they are not). ``None`` when the plan gives no day (the limit does not
    apply, facts are missing, or no day within the planning horizon allows a stay)."""
    record = parse_person(person, evaluator.policy)
    trips = record.trips
    start = as_of
    if leaves is not None and trips:
        # The trip the person is on ends on the day they leave; later trips stay booked.
        current = max(
            (
                i
                for i, trip in enumerate(trips)
                if trip.entry <= as_of and (trip.exit is None or trip.exit >= as_of)
            ),
            default=None,
        )
        if current is not None:
            planned = trips[current].exit
            leaving = leaves if planned is None else min(leaves, planned)
            closed = trips[current].model_copy(update={"exit": leaving})
            trips = (*trips[:current], closed, *trips[current + 1 :])
            record = record.model_copy(update={"trips": trips})
            if leaving >= dt.date.max:
                return None
            start = leaving + dt.timedelta(days=1)
    try:
        return plan_with(evaluator, record, start, 1).earliest_entry
    except (InputError, EvaluationError):
        return None
