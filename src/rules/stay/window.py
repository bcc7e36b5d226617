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
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, NamedTuple, Protocol

if TYPE_CHECKING:
    import datetime as dt

from rules.stay import HORIZON_DAYS

__all__ = [
    "UNBOUNDED",
    "ExemptPeriod",
    "NoValueInForce",
    "Schedule",
    "StayFigures",
    "TripSpan",
    "WindowRules",
    "count_again",
    "count_same_again",
    "count_stay",
    "count_trips",
    "count_stay_by_day",
    "runs",
]

UNBOUNDED = 10**9  # an ordinal beyond any real date: "no end"


class TripSpan(NamedTuple):
    """A trip as ordinals: ``last`` is the exit day (or the evaluation day if still present).

    :func:`count_stay` takes plain tuples of these fields too (:data:`Span`): a record's spans
    are made as plain tuples, cheaper to build than a named tuple."""

    entry: int
    last: int
    has_exit: bool
    per_entry_cap: int | None


#: A trip as :func:`count_stay` reads it: a :class:`TripSpan` or a plain tuple of its fields.
Span = tuple[int, int, bool, int | None]


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

    def since(self, day: int) -> int:
        """The first day of the value in force on ``day`` (one is: :meth:`at` found it)."""
        return self.starts[bisect.bisect_right(self.starts, day) - 1]

    def largest(self) -> int:
        return max((value for value in self.values if value is not None), default=0)

    def never_widens_after(self, day: int) -> bool:
        """Whether the value (a window) never grows after ``day``. :func:`_latest_exit` keeps
        only the days of the current window as it goes, so a later, wider window would not see
        days it already let go: where the window widens, the latest exit is searched day by day
        as it always was (and the columnar count leaves such a record to the record engine)."""
        index = max(bisect.bisect_right(self.starts, day) - 1, 0)
        values = [value for value in self.values[index:] if value is not None]
        return all(later <= earlier for earlier, later in zip(values, values[1:], strict=False))


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

    def around(self, day: int) -> tuple[int, int, int, int]:
        """(limit, window, first day, last day) of the window ending on ``day``: the terms of
        :meth:`terms`, which hold unchanged on every day of ``first..last``."""
        limit, window, last = self.terms(day)
        return limit, window, max(self.limits.since(day), self.windows.since(day)), last


@dataclass(slots=True)
class StayFigures:
    """What the counter found up to the evaluation day. Days are kept as runs of consecutive
    days (``(first, last)``, in order): ``counted`` the counted days, ``periods`` the overstay
    days; ``counted_days`` and ``overstay_days`` list them day by day."""

    days_used: int
    counted: list[tuple[int, int]]
    periods: list[tuple[int, int]]
    exempt_days: int
    exempt_days_by_rule: dict[str, int]
    present: bool
    exempt_on_as_of: bool
    latest_exit: int | None
    latest_exit_unbounded: bool = False
    #: What :func:`count_again` needs to count the same runs under other terms (set by
    #: :func:`count_trips`): not a figure, so neither compared nor shown.
    runs: _CountedRuns | None = field(default=None, compare=False, repr=False)

    @property
    def counted_days(self) -> list[int]:
        return [day for first, last in self.counted for day in range(first, last + 1)]

    @property
    def overstay_days(self) -> list[int]:
        return [day for first, last in self.periods for day in range(first, last + 1)]

    @property
    def overstay_count(self) -> int:
        count = 0
        for first, last in self.periods:  # as a loop: no generator's frame per record
            count += last - first + 1
        return count


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


def count_stay_by_day(
    trips: Sequence[TripSpan], as_of: int, rules: WindowRules, exempt: Sequence[ExemptPeriod]
) -> StayFigures:
    """Count the record up to ``as_of`` day by day (trips in order, clipped to ``as_of``): the
    definition as written, for records :func:`count_stay` does not count by runs."""
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
        counted=runs(counted),
        periods=runs(overstay_days),
        exempt_days=len(exempt_list),
        exempt_days_by_rule=by_rule,
        present=current is not None,
        exempt_on_as_of=exempt_on_as_of,
        latest_exit=None,
    )
    if (
        current is not None
        and current.entry >= rules.counting_starts
        and (not overstay_days or overstay_days[-1] != as_of)
    ):
        figures.latest_exit, figures.latest_exit_unbounded = _latest_exit(
            current, counted, as_of, rules, cover, cover_starts
        )
    return figures


def _latest_exit(
    trip: Span,
    counted: list[int],
    as_of: int,
    rules: WindowRules,
    cover: list[tuple[int, int]],
    cover_starts: list[int],
) -> tuple[int | None, bool]:
    """The last day the person may stay if they stay on from ``as_of`` without leaving."""
    entry, _, _, cap = trip
    in_trip = len(_split(entry, as_of, cover, cover_starts)[0])
    widest = rules.windows.largest()
    window: deque[int] = deque(counted[bisect.bisect_left(counted, as_of - widest + 1) :])
    day = as_of
    while day - as_of < HORIZON_DAYS:
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
        over_cap = cap is not None and in_trip > cap
        if over_cap or len(window) > limit:
            last_ok = day - 1
            return (last_ok if rules.count_exit_day else last_ok + 1), False
    return None, True  # a policy whose window never fills (window <= limit, no cap)


# --- counting by runs of days -------------------------------------------------------------------
#
# The same definitions, counted on runs of consecutive days with prefix sums instead of day by
# day. Within a run of counted days (and terms that stay the same) the days its window holds,
# P(d) - P(d - window), never decrease from one day to the next (the day itself is counted; the
# day leaving the window may or may not be), so the overstay days of such a run are a suffix of
# it, found by bisection; the latest exit is the first day of a future run where the window or
# the per-entry cap is exceeded, found the same way.


class _Runs:
    """Sorted, disjoint runs of days with prefix sums: how many days lie up to a day."""

    __slots__ = ("firsts", "lasts", "before")

    def __init__(self, firsts: list[int], lasts: list[int], before: list[int]) -> None:
        self.firsts = firsts
        self.lasts = lasts
        self.before = before  # ``before[i]``: the days of the runs before run ``i``; one more

    @classmethod
    def of(cls, spans: list[tuple[int, int]]) -> _Runs:
        before = [0]
        for first, last in spans:
            before.append(before[-1] + last - first + 1)
        return cls([first for first, _ in spans], [last for _, last in spans], before)

    def upto(self, day: int) -> int:
        """Days of the runs on or before ``day``."""
        index = bisect.bisect_right(self.firsts, day) - 1
        if index < 0:
            return 0
        last = self.lasts[index]
        return self.before[index] + (last if last < day else day) - self.firsts[index] + 1

    def within(self, first: int, last: int) -> int:
        return self.upto(last) - self.upto(first - 1) if last >= first else 0


def _pieces(
    first: int, last: int, cover: list[tuple[int, int]], cover_starts: list[int]
) -> tuple[list[tuple[int, int]], list[tuple[int, int]]]:
    """The days ``first..last`` not covered and covered by exempt periods, as runs."""
    if not cover:
        return ([(first, last)] if first <= last else []), []
    uncovered: list[tuple[int, int]] = []
    covered: list[tuple[int, int]] = []
    day = first
    index = max(bisect.bisect_right(cover_starts, first) - 1, 0)
    while day <= last and index < len(cover):
        begin, end = cover[index]
        if end >= day:
            if begin > last:
                break
            if begin > day:
                uncovered.append((day, begin - 1))
                day = begin
            top = min(end, last)
            covered.append((day, top))
            day = end + 1
        index += 1
    if day <= last:
        uncovered.append((day, last))
    return uncovered, covered


def _add_once(spans: list[tuple[int, int]], more: list[tuple[int, int]]) -> None:
    """Append runs after ``spans``; a day shared by an exit and a re-entry once; touching runs
    joined."""
    for first, last in more:
        if spans:
            top = spans[-1][1]
            if first <= top:
                first = top + 1
                if first > last:
                    continue
            if first == top + 1:
                spans[-1] = (spans[-1][0], last)
                continue
        spans.append((first, last))


def _union(spans: list[tuple[int, int]]) -> list[tuple[int, int]]:
    """Runs of days in order, overlapping or touching ones joined (as :func:`runs` of the days)."""
    joined: list[tuple[int, int]] = []
    for first, last in sorted(spans):
        if joined and first <= joined[-1][1] + 1:
            if last > joined[-1][1]:
                joined[-1] = (joined[-1][0], last)
        else:
            joined.append((first, last))
    return joined


def _first_over(first: int, last: int, upto: Callable[[int], int], window: int, limit: int) -> int | None:
    """The first day ``d`` of ``first..last`` whose window holds more than ``limit`` days,
    ``upto(d) - upto(d - window)``, which never decreases from ``first`` to ``last``."""
    if upto(last) - upto(last - window) <= limit:
        return None
    low, high = first, last
    while low < high:
        middle = (low + high) // 2
        if upto(middle) - upto(middle - window) > limit:
            high = middle
        else:
            low = middle + 1
    return low


def count_stay(
    trips: Sequence[Span],
    as_of: int,
    rules: WindowRules,
    exempt: Sequence[ExemptPeriod],
    terms: tuple[int, int, int, int] | None = None,
) -> StayFigures:
    """Count the record up to ``as_of`` (trips must be in order, clipped to ``as_of``).

    With no exemption (most records) each trip is one run of counted days, joined to the run
    before where they share or touch a day, and the prefix sums are kept as the runs are made;
    under exemptions each trip is split into the runs of days covered and not covered.
    ``terms``: ``rules.around(as_of)`` when the caller has it (not looked up again)."""
    return _count(trips, as_of, rules, exempt, terms, None, False)[0]


class DatedTrip(Protocol):
    """A trip as a record gives it (:class:`models.person.Trip`): its days as dates."""

    @property
    def entry(self) -> dt.date: ...

    @property
    def exit(self) -> dt.date | None: ...


def count_trips(
    trips: Sequence[DatedTrip],
    as_of: int,
    rules: WindowRules,
    cap: int | None,
    terms: tuple[int, int, int, int] | None = None,
) -> tuple[StayFigures, int]:
    """:func:`count_stay` of a record's trips with no exemption, every trip capped at ``cap``,
    and how many trips enter after ``as_of``: each trip read as it is counted, without making
    its span first (the hot path of every record with trips)."""
    return _count(trips, as_of, rules, (), terms, cap, True)


def _count(
    trips: Sequence[Any],
    as_of: int,
    rules: WindowRules,
    exempt: Sequence[ExemptPeriod],
    terms: tuple[int, int, int, int] | None,
    cap: int | None,
    dated: bool,
) -> tuple[StayFigures, int]:
    """:func:`count_stay` of spans, or with ``dated`` :func:`count_trips` of dated trips each
    capped at ``cap``, and the trips entering after ``as_of`` (counted for dated trips only)."""
    cover = _merge(exempt) if exempt else []
    cover_starts = [first for first, _ in cover] if cover else []
    firsts: list[int] = []
    lasts: list[int] = []
    before = [0]
    counted: list[tuple[int, int]] = []  # the runs, when split by exemptions
    exempt_spans: list[tuple[int, int]] = []
    beyond_cap: list[tuple[int, int]] = []
    starts, exit_day = rules.counting_starts, rules.count_exit_day
    previous = top = -UNBOUNDED  # the last day of the last trip counted, of the last run
    total = 0  # the days of the runs so far: ``before[-1]``
    current = None  # the trip the person is on at ``as_of`` (the later one of two that share it)
    later = 0
    for trip in trips:
        if dated:
            entry = trip.entry.toordinal()
            if entry > as_of:
                later += 1
                continue
            exit_ = trip.exit
            has_exit = exit_ is not None
            trip_last = exit_.toordinal() if has_exit else as_of
            if trip_last >= as_of or not has_exit:
                current = (entry, trip_last, has_exit, cap)
        else:
            entry, trip_last, has_exit, cap = trip
            if entry > as_of:
                continue
            if trip_last >= as_of or not has_exit:
                current = trip
        if entry < starts:
            continue
        if entry < previous:  # not a record's order
            if dated:
                spans = _spans(trips, as_of, cap)
                return count_stay(spans, as_of, rules, exempt, terms), len(trips) - len(spans)
            return count_stay_by_day(_named(trips), as_of, rules, exempt), 0
        last = previous = trip_last if trip_last < as_of else as_of
        if not exit_day and has_exit and trip_last <= as_of:  # the exit day counts: the usual law
            last -= 1
        if cover:
            _split_runs(entry, last, cap, cover, cover_starts, counted, exempt_spans, beyond_cap)
            continue
        if entry > last:
            continue
        if cap is not None and cap < last - entry + 1:
            beyond_cap.append((entry + cap, last))
        if entry <= top + 1:  # a day shared by an exit and a re-entry counts once
            if last > top:
                total += last - top
                before[-1] = total
                lasts[-1] = top = last
        else:
            firsts.append(entry)
            lasts.append(last)
            total += last - entry + 1
            before.append(total)
            top = last
    # A count of spans carries each trip's cap in its span: its runs are marked as made so.
    made_cap = cap if dated else _SPANS
    if not cover:
        held = _Runs(firsts, lasts, before)
        capped = tuple(beyond_cap)  # before the days over the window's limit are added to it
        figures = _figures(as_of, rules, held, beyond_cap, current, cover, 0, {}, terms)
        figures.runs = _CountedRuns(held, capped, current, later, as_of, starts, exit_day, made_cap)
        return figures, later
    exempted = _Runs.of(exempt_spans)
    by_rule: dict[str, int] = {}
    for rule in dict.fromkeys(period.rule for period in exempt):
        for first, last in _merge([period for period in exempt if period.rule == rule]):
            removed = exempted.within(first, last)
            if removed:
                by_rule[rule] = by_rule.get(rule, 0) + removed
    held = _Runs.of(counted)
    capped = tuple(beyond_cap)
    exempt_days = exempted.before[-1]
    figures = _figures(as_of, rules, held, beyond_cap, current, cover, exempt_days, by_rule, terms)
    figures.runs = _CountedRuns(
        held, capped, current, later, as_of, starts, exit_day, made_cap, cover, exempt_days, by_rule
    )
    return figures, later


#: The cap of runs made of spans, each with its own cap (:func:`count_stay`): none a caller has.
_SPANS: Any = object()


class _CountedRuns(NamedTuple):
    """The runs :func:`count_trips` or :func:`count_stay` made of a record's trips, and what
    they depend on: the evaluation day, the day counting starts, whether the exit day counts,
    the per-entry cap (:data:`_SPANS`: each span's own), and the exempt days, merged
    (``cover``), with how many days they removed in all and by rule."""

    held: _Runs
    beyond_cap: tuple[tuple[int, int], ...]
    current: Span | None
    later: int
    as_of: int
    counting_starts: int
    count_exit_day: bool
    cap: Any
    cover: list[tuple[int, int]] = []  # never changed
    exempt_days: int = 0
    by_rule: dict[str, int] = {}  # never changed


def count_again(
    figures: StayFigures,
    as_of: int,
    rules: WindowRules,
    cap: int | None,
    terms: tuple[int, int, int, int] | None = None,
) -> tuple[StayFigures, int] | None:
    """What :func:`count_trips` gives for the same trips under ``rules``, from the runs it made
    for ``figures`` (a version of the law with another limit or window counts a record again
    without reading its trips again); ``None`` when those runs cannot be had so: ``figures``
    not made by :func:`count_trips`, or on another day, or under rules that make other runs
    (the day counting starts, whether the exit day counts, the per-entry cap)."""
    made = figures.runs
    if made is None or made.cap is _SPANS or made.cap != cap:
        return None
    again = count_same_again(figures, as_of, rules, terms)
    return None if again is None else (again, made.later)


def count_same_again(
    figures: StayFigures,
    as_of: int,
    rules: WindowRules,
    terms: tuple[int, int, int, int] | None = None,
) -> StayFigures | None:
    """The figures of :func:`count_again` of ``figures`` made by :func:`count_trips` or :func:`count_stay` of
    the same trips, per-entry caps and exempt periods as the count the caller would make, which
    it vouches for (the stay limit counting a record again under a version of the law that
    differs from the other only by its limit, window or counting convention); ``None`` when the
    runs cannot be had so (on another day, or under another start or counting convention)."""
    made = figures.runs
    if (
        made is None
        or made.as_of != as_of
        or made.counting_starts != rules.counting_starts
        or made.count_exit_day != rules.count_exit_day
    ):
        return None
    cover = made.cover
    again = _figures(
        as_of,
        rules,
        made.held,
        list(made.beyond_cap),
        made.current,
        cover,
        made.exempt_days,
        dict(made.by_rule) if cover else {},
        terms,
    )
    again.runs = made
    return again


def _spans(trips: Sequence[DatedTrip], as_of: int, cap: int | None) -> list[Span]:
    """The spans of the trips entering on or before ``as_of``, each capped at ``cap``."""
    spans: list[Span] = []
    for trip in trips:
        entry, exit_ = trip.entry.toordinal(), trip.exit
        if entry <= as_of:
            spans.append((entry, as_of if exit_ is None else exit_.toordinal(), exit_ is not None, cap))
    return spans


def _split_runs(
    entry: int,
    last: int,
    cap: int | None,
    cover: list[tuple[int, int]],
    cover_starts: list[int],
    counted: list[tuple[int, int]],
    exempt_spans: list[tuple[int, int]],
    beyond_cap: list[tuple[int, int]],
) -> None:
    """Add the days ``entry..last`` of a trip to the runs of days ``counted`` and those of
    ``exempt_spans`` an exemption covers, and its days after its first ``cap`` to ``beyond_cap``."""
    trip_days, trip_exempt = _pieces(entry, last, cover, cover_starts)
    _add_once(exempt_spans, trip_exempt)
    if cap is not None:
        for first, end in trip_days:  # the trip's days after its first ``cap``
            length = end - first + 1
            if cap < length:
                beyond_cap.append((first + cap, end))
            cap = max(cap - length, 0)
    _add_once(counted, trip_days)


def _figures(
    as_of: int,
    rules: WindowRules,
    held: _Runs,
    over: list[tuple[int, int]],
    current: Span | None,
    cover: list[tuple[int, int]],
    exempt_days: int,
    by_rule: dict[str, int],
    terms: tuple[int, int, int, int] | None,
) -> StayFigures:
    """The figures of the counted days ``held``: ``over`` the days beyond a per-entry cap,
    to which the days over the window's limit are added; ``current`` the trip on ``as_of``;
    ``cover`` the exempt days, merged; ``terms`` those of ``as_of`` (``None``: looked up)."""
    firsts, lasts = held.firsts, held.lasts
    if firsts:
        # The runs all lie on or before ``as_of``: from the first day of its terms, those hold.
        if terms is not None and firsts[0] >= terms[2]:
            limit, window, _, terms_last = terms
        else:
            limit, window, terms_last = rules.terms(firsts[0])
        if terms_last >= lasts[-1]:
            _window_over_swept(held, limit, window, over)
        else:
            _window_over_dated(held, rules, over)
    periods = _union(over) if len(over) > 1 else over  # one run (or none) is already its union
    window = terms[1] if terms is not None else rules.terms(as_of)[1]
    cover_starts = [first for first, _ in cover] if cover else []
    figures = StayFigures(
        days_used=held.upto(as_of) - held.upto(as_of - window),
        counted=list(zip(firsts, lasts, strict=True)),
        periods=periods,
        exempt_days=exempt_days,
        exempt_days_by_rule=by_rule,
        present=current is not None,
        exempt_on_as_of=bool(cover) and _covered(cover, cover_starts, as_of),
        latest_exit=None,
    )
    if (
        current is not None
        and current[0] >= rules.counting_starts
        and (not periods or periods[-1][1] != as_of)
    ):
        if rules.windows.never_widens_after(as_of):
            figures.latest_exit, figures.latest_exit_unbounded = _latest_exit_by_runs(
                current, held, as_of, rules, cover, cover_starts
            )
        else:
            figures.latest_exit, figures.latest_exit_unbounded = _latest_exit(
                current, figures.counted_days, as_of, rules, cover, cover_starts
            )
    return figures


def _named(trips: Sequence[Span]) -> list[TripSpan]:
    return [TripSpan._make(trip) for trip in trips]


def _window_over_dated(held: _Runs, rules: WindowRules, over: list[tuple[int, int]]) -> None:
    """The days over the limit under dated terms, by :func:`_window_over_swept`: once per span of
    days under one limit and window (looked up on the counted days a search run by run looks them
    up on: ``tests/window_runs.py``, the reference the tests hold this to), the runs
    swept under its terms and the days over the limit kept where they fall in the span (within
    a run the days over a fixed limit are a suffix of it). The same days, appended span by span
    rather than run by run (:func:`_union` orders them)."""
    firsts, lasts = held.firsts, held.lasts
    end = lasts[-1]
    day = firsts[0]
    while True:
        limit, window, terms_last = rules.terms(day)
        top = end if end < terms_last else terms_last
        found: list[tuple[int, int]] = []
        _window_over_swept(held, limit, window, found)
        for first, last in found:
            if first < day:
                first = day
            if last > top:
                last = top
            if first <= last:
                over.append((first, last))
        if top >= end:
            return
        # The first counted day after the span: the next in its run, or the next run's first.
        index = bisect.bisect_right(firsts, top + 1) - 1
        day = top + 1 if lasts[index] > top else firsts[index + 1]


def _window_over_swept(held: _Runs, limit: int, window: int, over: list[tuple[int, int]]) -> None:
    """The days over the limit under one limit and window: the days leaving the window are found
    by a pointer moving forward with the runs, only a run whose last window is over the limit
    is searched, and the runs before the first ``limit`` counted days are not looked at. Nor
    are the runs after one whose last window holds ``held`` days, up to the last whose days
    and ``held`` make at most ``limit``: a later window holds no day of the runs before it
    that the window of that run does not, so at most ``held`` of them and its own runs' days."""
    firsts, lasts, before = held.firsts, held.lasts, held.before
    if before[-1] <= limit:
        return  # fewer counted days in all than the limit
    count = len(firsts)
    ahead = firsts[1:]  # ``ahead[i]``: the first day of the run after run ``i``
    ahead.append(UNBOUNDED)
    bisect_right = bisect.bisect_right
    behind = -1  # the last run starting on or before the day before the window
    following = firsts[0]  # the first day of the run after it
    left = 0  # the counted days on or before the day before the window
    index = bisect_right(before, limit) - 1
    while index < count:
        edge = lasts[index] - window
        if following <= edge:
            behind += 1
            following = ahead[behind]
            while following <= edge:
                behind += 1
                following = ahead[behind]
        if behind >= 0:
            last = lasts[behind]
            # The days of the runs up to ``behind``, less those of it after the edge.
            left = before[behind + 1] - last + edge if last > edge else before[behind + 1]
        upto = before[index + 1]
        if upto - left > limit:
            over.append((_first_over_in_run(held, index, window, limit), lasts[index]))
            index += 1
        else:
            index = bisect_right(before, left + limit, index + 2) - 1


def _first_over_in_run(held: _Runs, index: int, window: int, limit: int) -> int:
    """The first day of run ``index`` whose window holds more than ``limit`` days, when its
    last day's does (:func:`_first_over` on one run). A day ``d`` of the run has
    ``before[index] - firsts[index] + 1 + d`` counted days up to it, less those up to the day
    before its window, ``d - window``: while that day lies in a run, both grow alike and the
    window holds as many days; while it lies between two runs, the window gains a day a day.
    So the days of the run are walked a piece at a time, each piece solved in closed form."""
    firsts, lasts, before = held.firsts, held.lasts, held.before
    base = before[index] - firsts[index] + 1
    day = firsts[index]
    behind = bisect.bisect_right(firsts, day - window, 0, index + 1) - 1  # the last run from the edge back
    while True:
        if behind >= 0 and day - window <= lasts[behind]:  # the edge in a run: the window holds the same
            if base + window - before[behind] + firsts[behind] - 1 > limit:
                return day
            day = lasts[behind] + window + 1  # the edge just past that run
            if behind < index and firsts[behind + 1] <= day - window:
                behind += 1  # and in the next, which touches it
        else:  # the edge before run ``behind + 1``: the window holds one more day each day
            found = limit - base + before[behind + 1] + 1  # the first day holding more than ``limit``
            if found <= day:
                return day
            following = firsts[behind + 1] + window  # the day the edge reaches the next run
            if found < following:
                return found
            day = following
            behind += 1


def _latest_exit_by_runs(
    trip: Span,
    held: _Runs,
    as_of: int,
    rules: WindowRules,
    cover: list[tuple[int, int]],
    cover_starts: list[int],
) -> tuple[int | None, bool]:
    """The last day the person may stay if they stay on from ``as_of`` without leaving: every
    later day not covered by an exemption is counted (as :func:`_latest_exit`, by runs)."""
    entry, _, _, cap = trip
    covered = _Runs.of(cover)
    in_trip = sum(last - first + 1 for first, last in _pieces(entry, as_of, cover, cover_starts)[0])
    so_far = held.upto(as_of)
    horizon = as_of + HORIZON_DAYS

    def upto(day: int) -> int:
        """Counted days on or before ``day`` if the person stays on."""
        if day <= as_of:
            return held.upto(day)
        counted = so_far + (day - as_of)
        return counted - covered.within(as_of + 1, day) if cover else counted

    day = as_of + 1
    while day <= horizon:
        index = bisect.bisect_right(cover_starts, day) - 1
        if index >= 0 and day <= cover[index][1]:
            end = cover[index][1]
            if end >= UNBOUNDED or end >= horizon:
                return None, True
            day = end + 1  # the covered days: none of them is counted
            continue
        following = index + 1
        run_end = cover_starts[following] - 1 if following < len(cover_starts) else horizon
        run_end = min(run_end, horizon)
        limit, window_length, terms_last = rules.terms(day)
        top = min(run_end, terms_last)
        searched = top
        if not cover and window_length > limit:
            # Every day after ``as_of`` is counted: the window ending ``window_length`` days
            # after it holds only such days, more than the limit, so the first day over the
            # limit is on or before that one (the search need not look beyond it).
            searched = min(top, max(day, as_of + window_length))
        found = _first_over(day, searched, upto, window_length, limit)
        if cap is not None:
            at_cap = day + max(cap - in_trip, 0)  # the first day beyond the cap
            if at_cap <= top and (found is None or at_cap < found):
                found = at_cap
        if found is not None:
            last_ok = found - 1
            return (last_ok if rules.count_exit_day else last_ok + 1), False
        in_trip += top - day + 1
        day = top + 1
    return None, True  # a policy whose window never fills (window <= limit, no cap)
