"""Counting days of stay in a sliding window: the mechanism behind the 90-in-180 limit.

Nothing here is law: the limit, the window, the per-entry cap, the day the count starts, the
counting convention and the exempt periods all come from the policy through
:class:`WindowRules`. Days are integer ordinals (``date.toordinal()``) for speed.

Definitions (the project's decisions, see docs/law-notes.md, "Decisions where the law is silent"):

* a *day of stay* is a day between entry and exit, both included (with ``count_exit_day``
  false the exit day is left out);
* a *counted day* is a day of stay of a trip that entered on or after the day counting starts
  and that no exempt period covers; a day shared by an exit and a re-entry counts once;
* the window ending on day D is [D - window + 1, D];
* an *overstay day* is a counted day whose window holds more than the limit, or that lies
  beyond the per-entry cap of its trip.
"""

from __future__ import annotations

import bisect
from collections import deque
from collections.abc import Sequence
from dataclasses import dataclass, field

__all__ = [
    "UNBOUNDED",
    "ExemptPeriod",
    "NoValueInForce",
    "Schedule",
    "StayFigures",
    "TripSpan",
    "WindowRules",
    "count_stay",
    "runs",
]

UNBOUNDED = 10**9  # an ordinal beyond any real date: "no end"
_HORIZON_DAYS = 100 * 366  # latest-exit search gives up as "unbounded" past a century


@dataclass(frozen=True, slots=True)
class TripSpan:
    """A trip as ordinals: ``last`` is the exit day (or the evaluation day if still present)."""

    entry: int
    last: int
    has_exit: bool
    per_entry_cap: int | None


@dataclass(frozen=True, slots=True)
class ExemptPeriod:
    """Days ``first..last`` on which an exemption (``rule``) covers the person."""

    rule: str
    first: int
    last: int  # UNBOUNDED when the status has no end and the exemption is not repealed


class NoValueInForce(LookupError):
    """A day the counter must judge on which a parameter has no value (before it, or repealed)."""

    def __init__(self, name: str, day: int) -> None:
        self.name = name
        self.day = day
        super().__init__(f"{name} has no value on day {day}")


@dataclass(frozen=True, slots=True)
class Schedule:
    """A dated whole-number parameter: ``values[i]`` holds from ``starts[i]`` (``None``: repealed)."""

    name: str
    starts: tuple[int, ...]
    values: tuple[int | None, ...]

    def at(self, day: int) -> tuple[int, int]:
        """The value on ``day`` and the last day it holds unchanged."""
        index = bisect.bisect_right(self.starts, day) - 1
        value = self.values[index] if index >= 0 else None
        if value is None:
            raise NoValueInForce(self.name, day)
        last = self.starts[index + 1] - 1 if index + 1 < len(self.starts) else UNBOUNDED
        return value, last

    def largest(self) -> int:
        return max((value for value in self.values if value is not None), default=0)


@dataclass(frozen=True, slots=True)
class WindowRules:
    """The law the counter applies: dated limit and window, where counting starts, and how."""

    counting_starts: int
    limits: Schedule
    windows: Schedule
    count_exit_day: bool = True

    def terms(self, day: int) -> tuple[int, int, int]:
        """(limit, window, last day on which both stay the same) for the window ending on ``day``."""
        limit, limit_last = self.limits.at(day)
        window, window_last = self.windows.at(day)
        return limit, window, min(limit_last, window_last)


@dataclass(slots=True)
class StayFigures:
    """What the counter found up to the evaluation day."""

    days_used: int
    counted_days: list[int]
    overstay_days: list[int]
    exempt_days: int
    exempt_days_by_rule: dict[str, int]
    present: bool
    exempt_on_as_of: bool
    latest_exit: int | None
    latest_exit_unbounded: bool = False
    periods: list[tuple[int, int]] = field(default_factory=list)


def _merge(periods: Sequence[ExemptPeriod]) -> list[tuple[int, int]]:
    merged: list[tuple[int, int]] = []
    for first, last in sorted((p.first, p.last) for p in periods):
        if merged and first <= merged[-1][1] + 1:
            if last > merged[-1][1]:
                merged[-1] = (merged[-1][0], last)
        else:
            merged.append((first, last))
    return merged


def _covered(cover: list[tuple[int, int]], starts: list[int], day: int) -> bool:
    index = bisect.bisect_right(starts, day) - 1
    return index >= 0 and day <= cover[index][1]


def runs(days: Sequence[int]) -> list[tuple[int, int]]:
    """Ascending days as maximal runs of consecutive days: ``[(first, last), ...]``."""
    if not days:
        return []
    breaks = [index for index in range(1, len(days)) if days[index] != days[index - 1] + 1]
    firsts = [0, *breaks]
    lasts = [*(index - 1 for index in breaks), len(days) - 1]
    return [(days[first], days[last]) for first, last in zip(firsts, lasts, strict=True)]


def _split(
    first: int, last: int, cover: list[tuple[int, int]], cover_starts: list[int]
) -> tuple[list[int], list[int]]:
    """The days ``first..last`` not covered and covered by exempt periods, in order."""
    uncovered: list[int] = []
    covered: list[int] = []
    day = first
    index = max(bisect.bisect_right(cover_starts, first) - 1, 0)
    while day <= last and index < len(cover):
        begin, end = cover[index]
        if end >= day:
            if begin > last:
                break
            if begin > day:
                uncovered.extend(range(day, begin))
                day = begin
            covered.extend(range(day, min(end, last) + 1))
            day = end + 1
        index += 1
    if day <= last:
        uncovered.extend(range(day, last + 1))
    return uncovered, covered


def _append_once(days: list[int], more: list[int]) -> None:
    """Append ``more`` (ascending) to ``days``; a day shared by an exit and a re-entry once."""
    if days and more and days[-1] == more[0]:
        days.extend(more[1:])
    else:
        days.extend(more)


def _window_overstays(counted: list[int], rules: WindowRules) -> list[int]:
    """Counted days whose window holds more than the limit (limit and window dated by day).

    With limit L and window W constant, the window ending on ``counted[i]`` holds more than L
    counted days exactly when the L-th counted day before it lies inside that window:
    ``counted[i - L] > counted[i] - W`` (the days are distinct and in order).
    """
    over: list[int] = []
    index = 0
    while index < len(counted):
        limit, window, terms_last = rules.terms(counted[index])
        end = bisect.bisect_right(counted, terms_last, index)
        over.extend(
            counted[i] for i in range(max(index, limit), end) if counted[i - limit] > counted[i] - window
        )
        index = end
    return over


def count_stay(
    trips: Sequence[TripSpan], as_of: int, rules: WindowRules, exempt: Sequence[ExemptPeriod]
) -> StayFigures:
    """Count the record up to ``as_of`` (trips must be in order, clipped to ``as_of``)."""
    cover = _merge(exempt)
    cover_starts = [first for first, _ in cover]
    counted: list[int] = []
    beyond_cap: list[int] = []
    exempt_list: list[int] = []

    for trip in trips:
        if trip.entry < rules.counting_starts or trip.entry > as_of:
            continue
        last = min(trip.last, as_of)
        if trip.has_exit and not rules.count_exit_day and trip.last <= as_of:
            last -= 1
        trip_days, trip_exempt = _split(trip.entry, last, cover, cover_starts)
        if trip.per_entry_cap is not None:
            beyond_cap.extend(trip_days[trip.per_entry_cap :])
        _append_once(counted, trip_days)
        _append_once(exempt_list, trip_exempt)

    overstay_days = sorted(set(beyond_cap).union(_window_overstays(counted, rules)))
    _, window, _ = rules.terms(as_of)
    days_used = len(counted) - bisect.bisect_left(counted, as_of - window + 1)

    by_rule: dict[str, int] = {}
    for rule in dict.fromkeys(period.rule for period in exempt):
        # Two statuses of one kind may overlap (a renewed permit): each day is removed once.
        for first, last in _merge([period for period in exempt if period.rule == rule]):
            removed = bisect.bisect_right(exempt_list, last) - bisect.bisect_left(exempt_list, first)
            if removed:
                by_rule[rule] = by_rule.get(rule, 0) + removed

    # On a day of exit and same-day re-entry two trips cover as_of: the person is on the later one.
    current = next(
        (t for t in reversed(trips) if t.entry <= as_of and (not t.has_exit or t.last >= as_of)), None
    )
    exempt_on_as_of = _covered(cover, cover_starts, as_of)
    figures = StayFigures(
        days_used=days_used,
        counted_days=counted,
        overstay_days=overstay_days,
        exempt_days=len(exempt_list),
        exempt_days_by_rule=by_rule,
        present=current is not None,
        exempt_on_as_of=exempt_on_as_of,
        latest_exit=None,
        periods=runs(overstay_days),
    )
    if (
        current is not None
        and current.entry >= rules.counting_starts
        and not exempt_on_as_of
        and (not overstay_days or overstay_days[-1] != as_of)
    ):
        figures.latest_exit, figures.latest_exit_unbounded = _latest_exit(
            current, counted, as_of, rules, cover, cover_starts
        )
    return figures


def _latest_exit(
    trip: TripSpan,
    counted: list[int],
    as_of: int,
    rules: WindowRules,
    cover: list[tuple[int, int]],
    cover_starts: list[int],
) -> tuple[int | None, bool]:
    """The last day the person may stay if they stay on from ``as_of`` without leaving."""
    in_trip = len(_split(trip.entry, as_of, cover, cover_starts)[0])
    widest = rules.windows.largest()
    window: deque[int] = deque(counted[bisect.bisect_left(counted, as_of - widest + 1) :])
    day = as_of
    while day - as_of < _HORIZON_DAYS:
        day += 1
        index = bisect.bisect_right(cover_starts, day) - 1
        if index >= 0 and day <= cover[index][1]:
            if cover[index][1] >= UNBOUNDED:
                return None, True
            day = cover[index][1]  # skip the covered days: none of them is counted
            continue
        in_trip += 1
        window.append(day)
        limit, window_length, _ = rules.terms(day)
        start = day - window_length + 1
        while window[0] < start:
            window.popleft()
        over_cap = trip.per_entry_cap is not None and in_trip > trip.per_entry_cap
        if over_cap or len(window) > limit:
            last_ok = day - 1
            return (last_ok if rules.count_exit_day else last_ok + 1), False
    return None, True  # a policy whose window never fills (window <= limit, no cap)
