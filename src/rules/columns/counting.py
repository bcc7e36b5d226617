"""The stay count of a block of records at once, as arrays: what :func:`count_trips` gives each.

:func:`rules.stay.window.count_trips` counts one record's days of stay in the sliding window
(trips with no exemption, each capped at the per-entry cap). :func:`count_block` counts a whole
block of records read as columns (every record's trips flat, with where each record's begin)
and gives, per record, the same figures as arrays: the days used in the window ending on the
evaluation day, the counted days and the overstay days as runs, the overstay total, whether the
person is present, the latest exit and the trips entering after the evaluation day. There is no
Python loop per record or per trip: the loops are per term of the law (a limit or window in
force from some day) and per step of a bisection, each over every record at once.

The definitions are those of :mod:`rules.stay.window`, counted the way it counts by runs:

* the counted days are the days of the trips entering from the day counting starts, up to the
  evaluation day, as runs of consecutive days (trips sharing or touching a day are joined), with
  prefix sums: the counted days of a record on or before a day are one search away;
* within a run, under one limit and window, the days the window holds never decrease from one
  day to the next, so the days over the limit are a suffix of the run: one bisection per run
  (per piece of a run under one term of the law, where the limit or window is dated);
* the days beyond the per-entry cap are the tail of each trip;
* the latest exit is the day before the first day after the evaluation day on which staying on
  would exceed the limit or the cap (that day itself where the exit day is not counted): one
  bisection per term of the law in force after it.

A record this cannot count exactly is left to the record engine (``elsewhere``): one whose
terms are not uniform (its nationality's per-entry cap or subjection changes over the trips it
counts) unless the caller gives each trip its own cap (``caps``); one of whose judged days has
no limit or window in force (where ``count_trips`` raises
:class:`~rules.stay.window.NoValueInForce`); one whose latest exit ``count_trips`` searches day
by day (a window widening after the evaluation day); and one whose trips are out of order.

Days are integer ordinals (``date.toordinal()``), every array int64; a record's day is searched
among all records' days as a key ``record * 2**32 + day`` (every day lies below ``2**32``).
"""

from __future__ import annotations

import bisect
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from functools import lru_cache
from typing import NamedTuple, Protocol

import numpy as np
import numpy.typing as npt

from rules.stay import HORIZON_DAYS
from rules.stay.window import NoValueInForce, Schedule, StayFigures, WindowRules

__all__ = [
    "NO_DAY",
    "CountedBlock",
    "CountingTerms",
    "count_block",
]

Ints = npt.NDArray[np.int64]
Flags = npt.NDArray[np.bool_]

#: A day that is not there (no latest exit): below every ordinal.
NO_DAY = -1

_BIG = np.int64(1 << 32)  # the span of a record's days in a key: every day lies below it
_NONE = np.int64(1 << 62)  # "not found", above every key


class _Course(Protocol):
    @property
    def uniform(self) -> bool: ...


class _Counting(Protocol):
    """What the stay mechanism reads to count a nationality's records on one day
    (:meth:`rules.stay.limit.StayLimit._counting`)."""

    @property
    def rules(self) -> WindowRules: ...

    @property
    def per_entry(self) -> int | None: ...

    @property
    def course(self) -> _Course: ...


class CountingTerms(NamedTuple):
    """The law one group of records is counted under (the records of one nationality on one
    day): the counter's rules, the per-entry cap (``None``: none), and whether the terms are
    uniform over the trips counted (``False``: every record of the group is left elsewhere)."""

    rules: WindowRules
    cap: int | None
    uniform: bool = True

    @classmethod
    def of(cls, counting: _Counting) -> CountingTerms:
        """The terms of the stay mechanism's counting of a nationality on a day."""
        return cls(counting.rules, counting.per_entry, counting.course.uniform)


@dataclass(frozen=True, slots=True)
class CountedBlock:
    """The figures of a block of records, as :func:`count_trips` gives each record's.

    Per record (length ``n``): ``elsewhere`` (not counted here: the record engine counts it;
    its other figures are meaningless), ``days_used``, ``overstay`` (the overstay days in all),
    ``present``, ``latest_exit`` (:data:`NO_DAY`: none), ``latest_exit_unbounded`` and
    ``later`` (the trips entering after the evaluation day). Runs of days, flat, with per-record
    offsets (length ``n + 1``): the counted days (``runs_first``, ``runs_last``, ``runs``) and
    the overstay days (``periods_first``, ``periods_last``, ``periods``)."""

    elsewhere: Flags
    days_used: Ints
    runs_first: Ints
    runs_last: Ints
    runs: Ints
    periods_first: Ints
    periods_last: Ints
    periods: Ints
    overstay: Ints
    present: Flags
    latest_exit: Ints
    latest_exit_unbounded: Flags
    later: Ints

    def figures(self, record: int) -> StayFigures:
        """The figures of one record as :func:`count_trips` makes them (without the runs it
        keeps for counting again): for a caller that needs the object, and for the tests."""
        runs = slice(self.runs[record], self.runs[record + 1])
        periods = slice(self.periods[record], self.periods[record + 1])
        latest = int(self.latest_exit[record])
        return StayFigures(
            days_used=int(self.days_used[record]),
            counted=list(zip(self.runs_first[runs].tolist(), self.runs_last[runs].tolist(), strict=True)),
            periods=list(
                zip(self.periods_first[periods].tolist(), self.periods_last[periods].tolist(), strict=True)
            ),
            exempt_days=0,
            exempt_days_by_rule={},
            present=bool(self.present[record]),
            exempt_on_as_of=False,
            latest_exit=None if latest == NO_DAY else latest,
            latest_exit_unbounded=bool(self.latest_exit_unbounded[record]),
        )


def _value(schedule: Schedule, day: int) -> int | None:
    """The value of ``schedule`` on ``day`` (``None``: none in force), as :meth:`Schedule.at`."""
    index = bisect.bisect_right(schedule.starts, day) - 1
    return schedule.values[index] if index >= 0 else None


class _Segments(NamedTuple):
    """The terms of the law of every group, as spans of days under one limit and one window
    (``valid``: both in force), keyed ``group * 2**32 + first day``; a group's spans begin at
    ``offsets[group]``. Before a group's first span no term is in force."""

    key: Ints
    first: Ints
    last: Ints
    limit: Ints
    window: Ints
    valid: Flags
    offsets: Ints

    @classmethod
    def of(cls, terms: Sequence[CountingTerms]) -> _Segments:
        key: list[int] = []
        first: list[int] = []
        last: list[int] = []
        limit: list[int] = []
        window: list[int] = []
        valid: list[bool] = []
        offsets = [0]
        for group, (rules, _, _) in enumerate(terms):
            starts = sorted(set(rules.limits.starts) | set(rules.windows.starts))
            for index, start in enumerate(starts):
                limit_value = _value(rules.limits, start)
                window_value = _value(rules.windows, start)
                key.append(group * int(_BIG) + start)
                first.append(start)
                last.append(starts[index + 1] - 1 if index + 1 < len(starts) else int(_BIG) - 1)
                limit.append(limit_value or 0)
                window.append(window_value or 0)
                valid.append(limit_value is not None and window_value is not None)
            offsets.append(len(key))
        # A span of no group after all others: a search always finds some span.
        key.append(len(terms) * int(_BIG))
        first.append(0)
        last.append(0)
        limit.append(0)
        window.append(0)
        valid.append(False)
        return cls(
            np.array(key, np.int64),
            np.array(first, np.int64),
            np.array(last, np.int64),
            np.array(limit, np.int64),
            np.array(window, np.int64),
            np.array(valid, np.bool_),
            np.array(offsets, np.int64),
        )

    def find(self, group: Ints, day: Ints) -> tuple[Ints, Flags]:
        """The span of each group's terms holding each day, and whether one does."""
        index = np.searchsorted(self.key, group * _BIG + day, side="right") - 1
        found = index >= self.offsets[group]
        return np.where(found, index, 0), found


class _Law(NamedTuple):
    """The terms of each group on ``as_of`` as arrays: the day counting starts, whether the exit
    day counts, the cap (-1: none), whether the window never widens after ``as_of``, the window
    ending on ``as_of`` and whether the group is counted here (uniform terms, a limit and a
    window in force on ``as_of``), and the spans of the terms."""

    starts: Ints
    exit_day: Flags
    cap: Ints
    narrowing: Flags
    window: Ints
    counted: Flags
    segments: _Segments


@lru_cache(maxsize=64)
def _law(terms: tuple[CountingTerms, ...], as_of: int) -> _Law:
    """The terms of the groups as arrays, made once for the blocks of one day (cached: the
    blocks of a population are counted under the same few terms)."""
    window = np.zeros(len(terms), np.int64)
    counted = np.zeros(len(terms), np.bool_)
    for index, (rules, _, uniform) in enumerate(terms):
        try:
            window[index] = rules.terms(as_of)[1]
        except NoValueInForce:
            continue
        counted[index] = uniform
    law = _Law(
        np.array([rules.counting_starts for rules, _, _ in terms], np.int64),
        np.array([rules.count_exit_day for rules, _, _ in terms], np.bool_),
        np.array([-1 if cap is None else cap for _, cap, _ in terms], np.int64),
        np.array([rules.windows.never_widens_after(as_of) for rules, _, _ in terms], np.bool_),
        window,
        counted,
        _Segments.of(terms),
    )
    for array in (*law[:-1], *law.segments):
        array.setflags(write=False)  # shared by every block counted under these terms
    return law


def _first_over(low: Ints, high: Ints, excess: Callable[[Ints, Ints], Ints]) -> Ints:
    """The first day of each ``low..high`` whose window holds more days than the limit, where
    ``excess(which, days)`` is the days held less the limit less one (not negative: over; of
    the positions ``which``), which grows by 0 or 1 from one day to the next (a counted day
    enters each window, the day leaving it may or may not have been counted) and is not
    negative on ``high``. A bisection whose bounds are pinched by what a day's excess tells:
    the first day over lies at least ``-excess`` days after a day not over, and at least
    ``excess`` days before one over (a run crossing the limit is found in one step)."""
    low = low.copy()
    high = high.copy()
    which = np.flatnonzero(low < high)
    while which.size:
        middle = (low[which] + high[which]) // 2
        found = excess(which, middle)
        bound = middle - found  # the first day over: on or before it if over, else on or after
        high[which] = np.where(found >= 0, bound, high[which])
        low[which] = np.where(found < 0, bound, low[which])
        which = which[low[which] < high[which]]
    return low


def _joined(owner: Ints, first: Ints, last: Ints) -> tuple[Ints, Ints, Ints]:
    """Runs of days ordered by owner and first day, overlapping or touching ones of one owner
    joined: their owners, first and last days."""
    if not owner.size:
        return owner, first, last
    keyed = owner * _BIG
    top = np.maximum.accumulate(keyed + last)  # within an owner, its own days only
    new = np.ones(owner.size, np.bool_)
    new[1:] = (owner[1:] != owner[:-1]) | (first[1:] > top[:-1] - keyed[:-1] + 1)
    begins = np.flatnonzero(new)
    ends = np.empty_like(begins)
    ends[:-1] = begins[1:] - 1
    ends[-1] = owner.size - 1
    return owner[begins], first[begins], top[ends] - keyed[ends]


def _offsets(owner: Ints, count: int) -> Ints:
    """Where each of ``count`` owners' items begin in ``owner`` (ordered), and their end."""
    offsets = np.zeros(count + 1, np.int64)
    np.cumsum(np.bincount(owner, minlength=count), out=offsets[1:])
    return offsets


def count_block(
    offsets: npt.ArrayLike,
    entry: npt.ArrayLike,
    exit_: npt.ArrayLike,
    has_exit: npt.ArrayLike,
    group: npt.ArrayLike,
    terms: Sequence[CountingTerms],
    as_of: int,
    *,
    caps: npt.ArrayLike | None = None,
) -> CountedBlock:
    """Count a block of records on day ``as_of``, each as :func:`count_trips` of its trips under
    its group's terms: ``count_trips(trips, as_of, rules, cap)`` of record ``i`` is
    ``figures(i)`` and ``later[i]`` of the result where ``elsewhere[i]`` is false.

    ``offsets`` (``n + 1``): where each record's trips begin in ``entry``, ``exit_`` and
    ``has_exit`` (the trips in the record's order, validated: in order, not overlapping, only
    the last one open; ``exit_`` is read only where ``has_exit``), days as ordinals (an Arrow
    ``date32`` column's days since 1970 plus ``date(1970, 1, 1).toordinal()``, 719163);
    ``group`` (``n``): the index of each record's terms in ``terms``.

    ``caps`` (one per trip, -1: none): each trip's own per-entry cap, in place of its group's:
    record ``i`` is then counted as :func:`count_stay` counts the spans of its trips entering
    on or before ``as_of`` (``later`` still counts the trips given that enter after it). For a
    nationality whose cap changed over the years, the caller gives each trip the cap of its
    entry day and leaves out the trips entered under a regime outside the limit, as the stay
    mechanism does (its terms then count as uniform here)."""
    offsets = np.asarray(offsets, np.int64)
    entry = np.asarray(entry, np.int64)
    exit_ = np.asarray(exit_, np.int64)
    has_exit = np.asarray(has_exit, np.bool_)
    group = np.asarray(group, np.int64)
    count = offsets.size - 1
    records = np.arange(count, dtype=np.int64)
    owner = np.repeat(records, np.diff(offsets))

    law = _law(tuple(terms), as_of)
    starts_of, exit_day_of, cap_of, narrowing_of = law.starts, law.exit_day, law.cap, law.narrowing
    window_of, counted_of, segments = law.window, law.counted, law.segments
    elsewhere = ~counted_of[group]

    # The trips after ``as_of``, and the one the person is on (the later of two sharing it).
    trip_last = np.where(has_exit, exit_, as_of)
    entered = entry <= as_of
    later = np.bincount(owner[~entered], minlength=count).astype(np.int64)
    on = np.flatnonzero(entered & (~has_exit | (trip_last >= as_of)))
    on_owner = owner[on]
    final = np.ones(on.size, np.bool_)
    final[:-1] = on_owner[1:] != on_owner[:-1]
    current = np.full(count, -1, np.int64)
    current[on_owner[final]] = on[final]
    present = current >= 0

    # The counted trips: entering from the day counting starts, up to ``as_of``.
    trip_group = group[owner]
    counted = np.flatnonzero(entered & (entry >= starts_of[trip_group]))
    first, owner_c, trip_group = entry[counted], owner[counted], trip_group[counted]
    clipped = np.minimum(trip_last[counted], as_of)
    last = clipped - (has_exit[counted] & ~exit_day_of[trip_group] & (trip_last[counted] <= as_of))
    out_of_order = (owner_c[1:] == owner_c[:-1]) & (first[1:] < clipped[:-1])
    elsewhere[owner_c[1:][out_of_order]] = True
    kept = first <= last
    first, last, owner_c, trip_group = first[kept], last[kept], owner_c[kept], trip_group[kept]

    # The days beyond the per-entry cap: each trip's after its first ``cap``.
    if caps is None:
        cap = cap_of[trip_group]
        current_cap = cap_of[group]
    else:
        trip_cap = np.asarray(caps, np.int64)
        cap = trip_cap[counted[kept]]
        current_cap = np.append(trip_cap, -1)[current]
    beyond = (cap >= 0) & (cap < last - first + 1)
    over_owner, over_first, over_last = [owner_c[beyond]], [(first + cap)[beyond]], [last[beyond]]

    # The runs of counted days and their prefix sums.
    run_owner, run_first, run_last = _joined(owner_c, first, last)
    run_offsets = _offsets(run_owner, count)
    before = np.zeros(run_owner.size + 1, np.int64)
    np.cumsum(run_last - run_first + 1, out=before[1:])
    run_key = run_owner * _BIG + run_first
    base = before[run_offsets[:-1]]  # the counted days of the records before each
    total = before[run_offsets[1:]] - base  # every counted day lies on or before ``as_of``

    def upto(whose: Ints, day: Ints) -> Ints:
        """The counted days of each record ``whose`` on or before each ``day``."""
        if not run_key.size:
            return np.zeros(whose.size, np.int64)
        index = np.searchsorted(run_key, whose * _BIG + day, side="right") - 1
        inside = index >= run_offsets[whose]
        index = np.where(inside, index, 0)
        days = before[index] - base[whose] + np.minimum(run_last[index], day) - run_first[index] + 1
        return np.where(inside, days, 0)

    days_used = total - upto(records, as_of - window_of[group])

    # The days over the limit: each run cut where the terms change, each piece's suffix. The
    # counted days on or before a day ``d`` of a piece are ``into + d``.
    run_group = group[run_owner]
    first_span, found = segments.find(run_group, run_first)
    last_span, _ = segments.find(run_group, run_last)
    if found.all() and np.array_equal(first_span, last_span):  # each run under one term: a piece
        span = first_span
        unjudged = ~segments.valid[span]
        piece_owner, piece_first, piece_last = run_owner, run_first, run_last
        into = before[:-1] - base[run_owner] - run_first + 1
    else:
        pieces = np.where(found, last_span - first_span + 1, 1)
        piece_run = np.repeat(np.arange(run_owner.size, dtype=np.int64), pieces)
        piece_starts = np.cumsum(pieces) - pieces
        span = first_span[piece_run] + np.arange(piece_run.size, dtype=np.int64) - piece_starts[piece_run]
        unjudged = ~found[piece_run] | ~segments.valid[span]
        piece_owner = run_owner[piece_run]
        piece_first = np.maximum(run_first[piece_run], segments.first[span])
        piece_last = np.minimum(run_last[piece_run], segments.last[span])
        into = before[piece_run] - base[piece_owner] - run_first[piece_run] + 1
    elsewhere[piece_owner[unjudged]] = True
    limit, window = segments.limit[span], segments.window[span]
    maybe = np.flatnonzero(~unjudged & (into + piece_last > limit))  # not over without as many days
    over_at = maybe[
        into[maybe] + piece_last[maybe] - upto(piece_owner[maybe], piece_last[maybe] - window[maybe])
        > limit[maybe]
    ]
    if over_at.size:
        whose, size, most, held_before = piece_owner[over_at], window[over_at], limit[over_at], into[over_at]

        def window_excess(which: Ints, day: Ints) -> Ints:
            found: Ints = held_before[which] + day - upto(whose[which], day - size[which]) - most[which] - 1
            return found

        over_owner.append(whose)
        over_first.append(_first_over(piece_first[over_at], piece_last[over_at], window_excess))
        over_last.append(piece_last[over_at])

    # The overstay days: both kinds, in order, joined.
    all_owner, all_first, all_last = (np.concatenate(kind) for kind in (over_owner, over_first, over_last))
    order = np.argsort(all_owner * _BIG + all_first, kind="stable")
    period_owner, period_first, period_last = _joined(all_owner[order], all_first[order], all_last[order])
    period_offsets = _offsets(period_owner, count)
    overstay_before = np.zeros(period_owner.size + 1, np.int64)
    np.cumsum(period_last - period_first + 1, out=overstay_before[1:])
    overstay = overstay_before[period_offsets[1:]] - overstay_before[period_offsets[:-1]]

    # The latest exit of those present on a trip counted, not over on ``as_of`` itself.
    latest_exit = np.full(count, NO_DAY, np.int64)
    unbounded = np.zeros(count, np.bool_)
    current_entry = np.append(entry, 0)[current]  # 0: absent
    has_period = period_offsets[1:] > period_offsets[:-1]
    last_period = np.append(period_last, NO_DAY)[np.where(has_period, period_offsets[1:] - 1, -1)]
    searched = present & (current_entry >= starts_of[group]) & (last_period != as_of)
    widening = searched & ~narrowing_of[group]
    elsewhere |= widening
    _latest_exits(
        np.flatnonzero(searched & ~elsewhere),
        as_of,
        group,
        current_entry,
        current_cap,
        exit_day_of,
        segments,
        upto,
        latest_exit,
        unbounded,
        elsewhere,
    )
    return CountedBlock(
        elsewhere=elsewhere,
        days_used=days_used,
        runs_first=run_first,
        runs_last=run_last,
        runs=run_offsets,
        periods_first=period_first,
        periods_last=period_last,
        periods=period_offsets,
        overstay=overstay,
        present=present,
        latest_exit=latest_exit,
        latest_exit_unbounded=unbounded,
        later=later,
    )


def _latest_exits(
    whose: Ints,
    as_of: int,
    group: Ints,
    current_entry: Ints,
    current_cap: Ints,
    exit_day_of: Flags,
    segments: _Segments,
    upto: Callable[[Ints, Ints], Ints],
    latest_exit: Ints,
    unbounded: Flags,
    elsewhere: Flags,
) -> None:
    """The latest exit of the records ``whose`` (set in ``latest_exit`` and ``unbounded``): the
    last day they may stay if they stay on from ``as_of``, every later day counted. Span of the
    terms by span, the first day over the limit (a bisection: the days the window holds never
    decrease while every day is counted) or beyond the cap; none within the horizon: unbounded.
    A record meeting a day with no term in force is left ``elsewhere``. ``current_entry`` and
    ``current_cap``: the entry day and the cap (-1: none) of the trip each record is on."""
    horizon = as_of + HORIZON_DAYS
    whose_group = group[whose]
    so_far = upto(whose, np.full(whose.size, as_of, np.int64))
    in_trip = as_of - current_entry[whose] + 1
    cap = current_cap[whose]
    day = np.full(whose.size, as_of + 1, np.int64)
    span, found = segments.find(whose_group, day)
    pending = np.arange(whose.size, dtype=np.int64)
    while pending.size:
        judged = found[pending] & segments.valid[span[pending]]
        elsewhere[whose[pending[~judged]]] = True
        pending = pending[judged]
        terms = span[pending]
        first = day[pending]
        limit, window = segments.limit[terms], segments.window[terms]
        top = np.minimum(segments.last[terms], horizon)
        searched = np.where(window > limit, np.minimum(top, np.maximum(first, as_of + window)), top)
        day_over = _first_day_over(
            whose[pending], so_far[pending], window, limit, first, searched, as_of, upto
        )
        beyond_cap = first + np.maximum(cap[pending] - in_trip[pending], 0)
        by_cap = (cap[pending] >= 0) & (beyond_cap <= top) & (beyond_cap < day_over)
        day_over = np.where(by_cap, beyond_cap, day_over)
        done = day_over != _NONE
        ended = pending[done]
        latest_exit[whose[ended]] = day_over[done] - exit_day_of[whose_group[ended]]
        in_trip[pending] += top - first + 1
        day[pending] = top + 1
        span[pending] += 1
        going = ~done & (top < horizon)
        unbounded[whose[pending[~done & ~going]]] = True
        pending = pending[going]


def _first_day_over(
    whose: Ints,
    so_far: Ints,
    window: Ints,
    limit: Ints,
    first: Ints,
    last: Ints,
    as_of: int,
    upto: Callable[[Ints, Ints], Ints],
) -> Ints:
    """The first day of each ``first..last`` (after ``as_of``) whose window holds more than
    ``limit`` days if the record ``whose`` (``so_far`` counted days on ``as_of``) stays on,
    every later day counted; ``_NONE`` where none does (not even ``last``)."""

    def excess(which: Ints, day: Ints) -> Ints:
        edge = day - window[which]
        kept = so_far[which]
        left = np.where(edge <= as_of, upto(whose[which], edge), kept + edge - as_of)
        found: Ints = kept + day - as_of - left - limit[which] - 1
        return found

    day_over = np.full(whose.size, _NONE, np.int64)
    at = np.flatnonzero(excess(np.arange(whose.size, dtype=np.int64), last) >= 0)
    if at.size:
        day_over[at] = _first_over(first[at], last[at], lambda which, day: excess(at[which], day))
    return day_over
