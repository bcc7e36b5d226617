"""Counting days of stay in a sliding window: the mechanism behind the 90-in-180 limit.

Nothing here is law: the limit, the window, the per-entry cap, the day the count starts, the
counting convention and the exempt periods all come from the policy through
:class:`WindowRules`. Days are integer ordinals (``date.toordinal()``) for speed.

Definitions (the project's decisions, see the law notes):

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
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

__all__ = ["ExemptPeriod", "StayFigures", "TripSpan", "WindowRules", "count_stay"]

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


@dataclass(frozen=True, slots=True)
class WindowRules:
    """The law the counter applies, as functions of the day being judged."""

    counting_starts: int
    limit_on: Callable[[int], int]
    window_on: Callable[[int], int]
    count_exit_day: bool = True


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


def _runs(days: Sequence[int]) -> list[tuple[int, int]]:
    runs: list[tuple[int, int]] = []
    for day in days:
        if runs and day == runs[-1][1] + 1:
            runs[-1] = (runs[-1][0], day)
        else:
            runs.append((day, day))
    return runs


def count_stay(
    trips: Sequence[TripSpan], as_of: int, rules: WindowRules, exempt: Sequence[ExemptPeriod]
) -> StayFigures:
    """Count the record up to ``as_of`` (trips must be in order, clipped to ``as_of``)."""
    cover = _merge(exempt)
    cover_starts = [first for first, _ in cover]
    counted: list[int] = []
    beyond_cap: set[int] = set()
    exempt_list: list[int] = []

    for trip in trips:
        if trip.entry < rules.counting_starts or trip.entry > as_of:
            continue
        last = min(trip.last, as_of)
        if trip.has_exit and not rules.count_exit_day and trip.last <= as_of:
            last -= 1
        in_trip = 0
        for day in range(trip.entry, last + 1):
            if _covered(cover, cover_starts, day):
                if not exempt_list or exempt_list[-1] != day:
                    exempt_list.append(day)
                continue
            in_trip += 1
            if trip.per_entry_cap is not None and in_trip > trip.per_entry_cap:
                beyond_cap.add(day)
            if not counted or counted[-1] != day:
                counted.append(day)

    overstay = set(beyond_cap)
    for index, day in enumerate(counted):
        start = day - rules.window_on(day) + 1
        if index - bisect.bisect_left(counted, start, 0, index) + 1 > rules.limit_on(day):
            overstay.add(day)
    overstay_days = sorted(overstay)

    window_start = as_of - rules.window_on(as_of) + 1
    days_used = len(counted) - bisect.bisect_left(counted, window_start)

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
        periods=_runs(overstay_days),
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
    in_trip = sum(1 for day in range(trip.entry, as_of + 1) if not _covered(cover, cover_starts, day))
    window: deque[int] = deque(counted)
    day = as_of
    while day - as_of < _HORIZON_DAYS:
        day += 1
        if _covered(cover, cover_starts, day):
            index = bisect.bisect_right(cover_starts, day) - 1
            if cover[index][1] >= UNBOUNDED:
                return None, True
            continue
        in_trip += 1
        window.append(day)
        start = day - rules.window_on(day) + 1
        while window and window[0] < start:
            window.popleft()
        over_cap = trip.per_entry_cap is not None and in_trip > trip.per_entry_cap
        if over_cap or len(window) > rules.limit_on(day):
            last_ok = day - 1
            return (last_ok if rules.count_exit_day else last_ok + 1), False
    return None, True  # a policy whose window never fills (window <= limit, no cap)
