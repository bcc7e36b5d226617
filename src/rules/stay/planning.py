"""Planning a stay: how long a person may stay if they enter on a date, and when they may come.

``plan(person, enter, days)`` answers what the EU short-stay calculator answers for Schengen:
the longest stay that may begin on ``enter`` (``max_stay_days``, ending on ``latest_exit``)
and the first day on or after ``enter`` on which a stay of ``days`` days may begin
(``earliest_entry``). Nothing here is law: every day is judged by the stay programme of the
policy (:meth:`rules.stay_limit.StayProgramme.derive`), exactly as ``kzmig check`` judges it,
with the same per-entry caps, regimes, exemptions and validity dates.

Definitions (the project's decisions where the law is silent):

* The person is absent on ``enter``. Trips of the record that end before ``enter`` are
  *history*; trips that begin after it are *bookings*: intended stays that must remain
  lawful too. A trip covering ``enter`` (the exit day included) is an input error naming
  the trip, and so is a booking without an exit (or ending more than a century later).
* The planned stay is a separate stay: it begins after the exit of the trip before it and
  ends before the entry of the booking after it. It shares no day with another trip -- a
  same-day exit and re-entry is one continuous presence in practice, and a plan that ran
  into a booking would be a different plan.
* A stay of ``n`` days beginning on day ``d`` is *lawful* when the record with that trip
  inserted holds no overstay day on or after ``d``: not in the stay and not in any booking.
  Overstay days before ``d`` are history: they are reported in a warning and forbid a new
  stay only when the limit's window makes the new days themselves overstay days.
* ``max_stay_days`` is the largest lawful ``n`` for ``d = enter`` (0 when none). Overstay
  days only grow with the length of the stay (a longer stay adds counted days to every
  window, and days of one trip never lose their place in it), so the search probes one day
  past the limit, doubles while lawful, then halves between a lawful and an unlawful length:
  a handful of counts. ``limited_by`` says what one more day would break.
* ``earliest_entry`` is the first ``d >= enter`` such that a plan beginning on ``d`` allows
  ``days`` days: trips before ``d`` are then history, those after it bookings. It is not
  monotone in ``d`` (bookings and exemptions come and go), so the days are tried in order,
  skipping the days of trips and the days a cheap, exact necessary test already rules out.
  Every day is judged by the count, also a day on which a visa makes the limit not
  applicable (the visa's days are not counted; the days after it are).
  The search is bounded: once past the last day of the record by the widest window, and past
  the last change of exemption cover, limit, window and per-entry cap, every day is like
  every other; if that day does not allow ``days`` days none ever will, and the answer is
  null with a note saying why.
* An exemption with no end date that covers every day from some day on makes a stay with no
  maximum: ``status: unlimited`` and ``max_stay_days: null`` (a booking still bounds it).
* The searches look at most a century ahead, as the engine's latest exit does: a stay lawful
  for a century is unlimited, an ``earliest_entry`` not found within a century is null (the
  note says so), a status valid into the calendar's last century is read as having no end,
  and a booking ending more than a century after ``enter`` is an input error.
* When the evaluation of the record on ``enter`` is ``not_applicable`` or ``undetermined``,
  so is the plan, with null figures (and ``missing`` for undetermined); the trace is that
  evaluation's.
* ``trace`` is the trace of ``Evaluator.evaluate`` for the record with the maximal stay on
  ``latest_exit``; with no day allowed, with a one-day stay on its first overstay day; for an
  unlimited plan, with an open stay on the first day every later day is covered.
* The plan counts days; it reads the policy's verdict only on ``enter``. A rule (not an
  exemption) that sets the limit aside from a later day is not seen by the count: when the
  verdict on the day that ends the plan is not ``overstay``, a warning says so.
"""

from __future__ import annotations

import bisect
import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from models.person import Person, Trip
from models.plan import Plan, PlanBound, PlanStatus
from models.verdict import StayStatus, TraceEntry, Verdict
from rules.engine.evaluator import Evaluator, evaluator_for, parse_person
from rules.errors import EvaluationError, InputError, Problem
from rules.policy.loaded import Policy
from rules.policy.timeline import Timeline
from rules.stay import HORIZON_DAYS
from rules.stay.limit import StayLimit
from rules.stay.window import UNBOUNDED, StayFigures, runs
from rules.version import PLAN_FORMAT, __version__

__all__ = ["LONGEST_PLAN_DAYS", "plan", "plan_with", "stay_limit_of"]

_LIMITED = (StayStatus.COMPLIANT, StayStatus.OVERSTAY, StayStatus.EXEMPT)
_LAST_DAY = dt.date.max.toordinal()
LONGEST_PLAN_DAYS = HORIZON_DAYS  # the largest ``days`` a plan accepts


def plan(
    person: Person | Mapping[str, Any],
    enter: dt.date,
    days: int | None = None,
    *,
    policy: Policy | None = None,
) -> Plan:
    """The plan for ``person`` entering on ``enter``, for a stay of ``days`` days (default 1),
    under ``policy`` (default: the shipped one; compiled policies are kept per version).

    Raises :class:`InputError` for a record that is not valid or that places the person in
    Kazakhstan on ``enter`` or books a trip without an exit, and :class:`EvaluationError`
    for a day the policy does not decide.
    """
    return plan_with(evaluator_for(policy), person, enter, days)


def plan_with(
    evaluator: Evaluator, person: Person | Mapping[str, Any], enter: dt.date, days: int | None = None
) -> Plan:
    """The plan under an already compiled policy (the CLI and batch runs reuse one)."""
    if not isinstance(enter, dt.date) or isinstance(enter, dt.datetime):
        raise InputError(
            f"enter must be a date, not {type(enter).__name__}", [Problem("enter", "not a date")]
        )
    wanted = 1 if days is None else days
    if isinstance(wanted, bool) or not isinstance(wanted, int) or not 1 <= wanted <= HORIZON_DAYS:
        raise InputError(
            "the length of stay is not valid",
            [Problem("days", f"{days!r} is not a number of days from 1 to {HORIZON_DAYS}")],
        )
    if enter.toordinal() > _LAST_DAY - 3 * HORIZON_DAYS:
        raise InputError(f"{enter} is too far in the future to plan", [Problem("enter", "too late")])
    record = parse_person(person, evaluator.policy)
    _check_trips(record, enter)
    on_enter = evaluator.evaluate(record, enter)
    status = on_enter.stay.status
    if status not in _LIMITED:
        return _not_planned(evaluator, record, enter, wanted, on_enter)
    return _Planner(evaluator, record, enter).answer(wanted)


def _check_trips(record: Person, enter: dt.date) -> None:
    """Every problem that makes ``enter`` not a plan for a new entry, with its trip."""
    problems = []
    for index, trip in enumerate(record.trips or ()):
        where = f"trips[{index}]"
        if trip.entry <= enter and (trip.exit is None or trip.exit >= enter):
            left = f"exit {trip.exit}" if trip.exit is not None else "no exit recorded"
            problems.append(
                Problem(
                    where,
                    f"the person is in Kazakhstan on {enter} (entry {trip.entry}, {left}): a plan is "
                    "for a new entry after the last exit; for the current stay see the latest exit "
                    "of `kzmig check`",
                    ("trips", index),
                )
            )
        elif trip.entry > enter and trip.exit is None:
            problems.append(
                Problem(
                    where,
                    f"the booked trip entering on {trip.entry} has no exit: a booking after {enter} "
                    "needs its exit date to be kept lawful",
                    ("trips", index),
                )
            )
        elif trip.exit is not None and trip.exit.toordinal() > enter.toordinal() + HORIZON_DAYS:
            problems.append(
                Problem(
                    where,
                    f"the booked trip ends on {trip.exit}, more than a century after {enter}: "
                    "a plan looks no further",
                    ("trips", index, "exit"),
                )
            )
    if problems:
        raise InputError(f"the record cannot be planned from {enter}", problems)


def _about_this_stay(verdict: Verdict, enter: dt.date) -> tuple[TraceEntry, ...]:
    """The trace of the planned stay's verdict, with the rules that fired only for overstay
    days before ``enter`` no longer marked as deciding: they are about the earlier record,
    not about the stay planned (whose own limit the plan's figures and notes give)."""
    stay = verdict.stay
    if stay.status is not StayStatus.OVERSTAY or any(p.end >= enter for p in stay.overstay_periods):
        return verdict.trace
    past = {stay.status.value}
    earlier = {decision.rule for decision in (stay.sanction, stay.entry_check) if decision is not None}
    note = f"about the overstay days before {enter}, not the stay planned"
    return tuple(
        entry.model_copy(update={"decisive": False, "note": note})
        if entry.decisive and (entry.outcome in past or entry.rule in earlier)
        else entry
        for entry in verdict.trace
    )


def _not_planned(evaluator: Evaluator, record: Person, enter: dt.date, wanted: int, verdict: Verdict) -> Plan:
    stay = verdict.stay
    deciding = [entry for entry in verdict.trace if entry.decisive and entry.outcome == stay.status.value]
    why = "; ".join(entry.title for entry in deciding)
    if stay.status is StayStatus.NOT_APPLICABLE:
        plan_status = PlanStatus.NOT_APPLICABLE
        note = f"the stay limit does not apply on {enter}" + (f": {why}" if why else "")
    elif stay.policy_gaps:
        plan_status = PlanStatus.UNDETERMINED
        note = "; ".join(gap.note for gap in stay.policy_gaps) + ": no figure can be given"
    else:
        plan_status = PlanStatus.UNDETERMINED
        note = f"facts are missing ({', '.join(stay.missing)}): no figure can be given"
    return Plan(
        format=PLAN_FORMAT,
        engine_version=__version__,
        person_id=record.person_id,
        enter=enter,
        policy=verdict.policy,
        status=plan_status,
        days=wanted,
        max_stay_days=None,
        latest_exit=None,
        earliest_entry=None,
        missing=stay.missing,
        notes=(note,),
        warnings=_own_warnings(evaluator, record, enter, verdict),
        trace=verdict.trace,
    )


def _own_warnings(evaluator: Evaluator, person: Person, on: dt.date, verdict: Verdict) -> tuple[str, ...]:
    """The verdict's warnings except those about the record as counted on ``on`` (a plan
    counts bookings after ``on`` on purpose; its own warnings say what it saw)."""
    counted = set(stay_limit_of(evaluator).derive_stay(person, on).warnings)
    return tuple(warning for warning in verdict.warnings if warning not in counted)


def stay_limit_of(evaluator: Evaluator) -> StayLimit:
    """The stay limit's mechanism of the evaluator's policy (its ``stay`` programme)."""
    mechanism = evaluator.mechanism("stay")
    if not isinstance(mechanism, StayLimit):
        raise EvaluationError(
            f"policy {evaluator.policy.name}: the stay programme does not count days of stay"
        )
    return mechanism


def _day(ordinal: int) -> dt.date:
    return dt.date.fromordinal(ordinal)


def _days_text(periods: list[tuple[int, int]]) -> str:
    shown = ", ".join(
        f"{_day(first)}" if first == last else f"{_day(first)} to {_day(last)}" for first, last in periods[:3]
    )
    return shown + (f" and {len(periods) - 3} more period(s)" if len(periods) > 3 else "")


@dataclass(frozen=True, slots=True)
class _Cover:
    """Days ``first..last`` covered by exemptions (``last`` is UNBOUNDED for no end)."""

    first: int
    last: int
    rules: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class _Longest:
    """The longest lawful stay from one day: ``days`` (None: no maximum) and what ends it."""

    days: int | None
    bound: PlanBound | None
    first_overstay: int | None  # the first overstay day one day more would make


class _Planner:
    """One record planned under one evaluator: the record's trips, exemption cover and the
    dated terms, and a cache of counts (each ``derive`` of a hypothetical record is kept)."""

    def __init__(self, evaluator: Evaluator, person: Person, enter: dt.date) -> None:
        self.evaluator = evaluator
        self.stay = stay_limit_of(evaluator)
        self.policy = evaluator.policy
        self.person = person
        self.enter = enter.toordinal()
        self.trips: list[tuple[int, int]] = [
            (trip.entry.toordinal(), trip.exit.toordinal())
            for trip in person.trips or ()
            if trip.exit is not None  # _check_trips leaves no open trip
        ]
        self.entries = [entry for entry, _ in self.trips]
        self.last_day = max((last for _, last in self.trips), default=None)
        self.counting_starts = stay_limit_of(evaluator).base.start.toordinal()
        self.cover = self._cover()
        self.cover_starts = [c.first for c in self.cover]
        # The window total of the person's regime on each day (stay.limit_days where it says null).
        self.limits = self.stay.limit_timeline(person.citizenship)
        self.windows = self.policy.parameter_timeline("stay.window_days")
        self.exit_day = self.policy.parameter_timeline("stay.count_exit_day")
        self.settles = self._last_change()
        self.widest_window = self._largest(self.windows)
        self._counts: dict[tuple[int, int], StayFigures] = {}
        # The record as it stands, bookings included: its counted days and overstay days.
        self.baseline_as_of = max(self.enter, self.last_day or self.enter)
        self.baseline = self._figures(self.person, self.baseline_as_of)

    # --- the facts the search needs --------------------------------------------------------

    def _cover(self) -> list[_Cover]:
        """The exemption cover of the record, as the stay programme computes it: each
        exempting rule's in-force period intersected with the validity of a status of its
        kind; overlapping or adjacent periods merged."""
        periods = [
            # valid into the calendar's last century: read as no end
            (period.first, UNBOUNDED if period.last > _LAST_DAY - HORIZON_DAYS else period.last, period.rule)
            for period in self.stay.exempt_periods(self.person)
        ]
        merged: list[_Cover] = []
        for first, last, rule_id in sorted(periods):
            if merged and first <= merged[-1].last + 1:
                top = merged[-1]
                rules = top.rules if rule_id in top.rules else (*top.rules, rule_id)
                merged[-1] = _Cover(top.first, max(top.last, last), rules)
            else:
                merged.append(_Cover(first, last, (rule_id,)))
        return merged

    def _open_cover(self) -> _Cover | None:
        """The cover that runs on with no end, if any."""
        return self.cover[-1] if self.cover and self.cover[-1].last >= UNBOUNDED else None

    def _uncovered(self, first: int, last: int) -> tuple[int, int | None]:
        """How many of the days ``first..last`` no exemption covers, and the first of them."""
        count, first_free, day = 0, None, first
        index = max(bisect.bisect_right(self.cover_starts, first) - 1, 0)
        for cover in self.cover[index:]:
            if day > last:
                break
            if cover.last < day:
                continue
            if cover.first > day:
                free_to = min(cover.first - 1, last)
                count += free_to - day + 1
                first_free = day if first_free is None else first_free
            day = max(day, cover.last + 1)
        if day <= last:
            count += last - day + 1
            first_free = day if first_free is None else first_free
        return count, first_free

    def _term(self, timeline: Timeline, day: int) -> int | None:
        found = timeline.at(day)
        return None if found is None else int(found.value)

    def _counts_exit_day(self, as_of: int) -> bool | None:
        found = self.exit_day.at(as_of)
        return None if found is None else bool(found.value)

    def _cap(self, day: int) -> int | None:
        """The per-entry cap of the person's regime for a trip entering on ``day``."""
        return self.stay.per_entry_cap(self.person.citizenship, day)

    def _last_change(self) -> int:
        """The last day the cover, a term or the person's cap changes: from then on, every day
        is judged alike."""
        days = [0]
        for cover in self.cover:
            days.append(cover.first)
            if cover.last < UNBOUNDED:
                days.append(cover.last + 1)
        for timeline in (self.limits, self.windows, self.exit_day):
            days.extend(timeline.starts)
        tables = self.policy.tables
        if self.person.citizenship is not None:
            rows = tables["stay.regime_of_citizenship"].rows.get(self.person.citizenship, [])
            days.extend(value.start.toordinal() for value in rows)
        for values in tables["stay.regimes"].rows.values():
            days.extend(value.start.toordinal() for value in values)
        return max(days)

    def _largest(self, timeline: Timeline) -> int:
        return max((int(value.value) for value in timeline.values if value.value is not None), default=0)

    # --- counting a hypothetical record -----------------------------------------------------

    def _figures(self, person: Person, as_of: int) -> StayFigures:
        derived = self.stay.derive_stay(person, _day(as_of))
        if derived.figures is None:
            raise EvaluationError(
                f"policy {self.policy.name} ({self.policy.version}) does not count the stay of "
                f"{person.person_id} on {_day(as_of)}, a day the plan must judge (the person is not "
                "subject to the limit then, or it is no longer in force)"
            )
        return derived.figures

    def _with_stay(self, first: int, days: int, open_ended: bool = False) -> Person:
        """The record with a stay of ``days`` days from ``first`` inserted among its trips (taken
        as registered on its day of entry: a plan is about days of stay, not a registration
        that has not yet had the chance to be made)."""
        stay = Trip(
            entry=_day(first), exit=None if open_ended else _day(first + days - 1), registered_on=_day(first)
        )
        trips = self.person.trips or ()
        at = bisect.bisect_left(self.entries, first)
        return self.person.model_copy(update={"trips": (*trips[:at], stay, *trips[at:])})

    def _as_of(self, first: int, days: int) -> int:
        """The day the count runs to: the last day of the stay or of the last booking."""
        return max(first + days - 1, self.last_day or first)

    def _count(self, first: int, days: int) -> StayFigures:
        key = (first, days)
        figures = self._counts.get(key)
        if figures is None:
            figures = self._counts[key] = self._figures(
                self._with_stay(first, days), self._as_of(first, days)
            )
        return figures

    def _overstays(self, first: int, days: int) -> list[int]:
        """The overstay days on or after ``first`` with a stay of ``days`` days from ``first``."""
        over = self._count(first, days).overstay_days
        return over[bisect.bisect_left(over, first) :]

    def _surely_unlawful(self, first: int, days: int) -> bool:
        """A necessary test, cheaper than a count, that is exact where it answers True.

        A stay is unlawful when it alone holds more counted days than the per-entry cap, or
        (no exempt day inside, terms unchanged) more consecutive counted days than the limit;
        or when the window of its first or of its last counted day holds more than the limit
        with the record's days before the stay.
        """
        if first < self.counting_starts:
            return False
        as_of = self._as_of(first, days)
        exit_counts = self._counts_exit_day(as_of)
        if exit_counts is None:
            return False
        last_counted = first + days - 1 if exit_counts else first + days - 2
        if last_counted < first:
            return False
        counted, first_free = self._uncovered(first, last_counted)
        cap = self._cap(first)
        if cap is not None and counted > cap:
            return True
        limit, window = self._term(self.limits, first), self._term(self.windows, first)
        same_terms = all(
            bisect.bisect_right(timeline.starts, first) == bisect.bisect_right(timeline.starts, last_counted)
            for timeline in (self.limits, self.windows)
        )
        if (
            limit is not None
            and window is not None
            and same_terms
            and counted == last_counted - first + 1
            and counted > limit
            and window > limit
        ):
            return True
        if first_free is None or exit_counts != self._counts_exit_day(self.baseline_as_of):
            return False
        # The record's days are counted as in the baseline (the stay shares no day with a trip).
        return self._window_full(first, first_free) or (
            self._uncovered(last_counted, last_counted)[0] == 1 and self._window_full(first, last_counted)
        )

    def _window_full(self, first: int, day: int) -> bool:
        """Whether ``day``, a counted day of a stay beginning on ``first``, is an overstay day
        by its window: the record's counted days before the stay plus the stay's own."""
        limit, window = self._term(self.limits, day), self._term(self.windows, day)
        if limit is None or window is None:
            return False
        start = day - window + 1
        record_days = self.baseline.counted_days
        in_window = max(bisect.bisect_left(record_days, first) - bisect.bisect_left(record_days, start), 0)
        in_window += self._uncovered(max(first, start), day)[0]
        return in_window > limit

    # --- the searches -----------------------------------------------------------------------

    def longest(self, first: int) -> _Longest:
        """The longest lawful stay from ``first`` (a day on no trip): binary search between a
        lawful and an unlawful length, the upper one bounded by the next booking, by the day
        an open-ended exemption begins, or by the last change of the law plus a full limit."""
        following = bisect.bisect_right(self.entries, first)
        gap = self.entries[following] - first if following < len(self.entries) else None
        if self._overstays(first, 1):
            return self._bound(first, 0)
        open_cover = self._open_cover()
        if gap is not None:
            high = gap
        elif open_cover is not None:
            # From open_cover.first on no day counts: a stay past it changes no count.
            high = max(open_cover.first - first, 0) + 1
        else:
            # From the last change on, limit+1 (or cap+1) consecutive counted days overstay
            # unless the window never fills; one day more for an uncounted exit day.
            widest_rule = max(self._largest(self.limits), self._cap(first) or 0)
            high = max(first, self.settles) - first + widest_rule + 2
        if gap is None:
            high = min(high, HORIZON_DAYS)  # a century: the engine's latest exit gives up there too
        if not self._overstays(first, high):
            if gap is not None:
                return _Longest(high, PlanBound.NEXT_BOOKING, None)
            return _Longest(None, None, None)
        # A lawful and an unlawful length: probe just past the limit, double while lawful (the
        # upper length may be a century away: counts of long stays are slow), then halve.
        low, probe = 1, min(self._largest(self.limits) + 1, high - 1)
        while probe > low:
            if self._overstays(first, probe):
                high = probe
                break
            low, probe = probe, min(probe * 2, high - 1)
        while high - low > 1:
            middle = (low + high) // 2
            if self._overstays(first, middle):
                high = middle
            else:
                low = middle
        return self._bound(first, low)

    def _bound(self, first: int, days: int) -> _Longest:
        """What a stay of ``days + 1`` days from ``first`` breaks: its first overstay day, in
        the stay (the per-entry cap or the window) or in a booking."""
        over = self._overstays(first, days + 1)
        day = over[0]
        if day > first + days:
            return _Longest(days, PlanBound.BOOKED_TRIP, day)
        counted = self._count(first, days + 1).counted_days
        in_stay = bisect.bisect_right(counted, day) - bisect.bisect_left(counted, first)
        cap = self._cap(first)
        bound = PlanBound.PER_ENTRY_LIMIT if cap is not None and in_stay > cap else PlanBound.WINDOW_LIMIT
        return _Longest(days, bound, day)

    def earliest(self, start: int, days: int) -> tuple[int | None, int | None]:
        """The first day from ``start`` on which a stay of ``days`` days may begin, and the
        day from which every day is alike (None when that is beyond a century: the search
        then stops a century ahead)."""
        behind = self.last_day + self.widest_window if self.last_day is not None else 0
        alike = max(start, self.settles, behind)
        settled = min(alike, start + HORIZON_DAYS)
        first = start
        while first <= settled:
            at = bisect.bisect_right(self.entries, first) - 1
            if at >= 0 and self.trips[at][1] >= first:
                first = self.trips[at][1] + 1  # on a trip: try the day after its exit
                continue
            if at + 1 < len(self.trips) and first + days - 1 >= self.trips[at + 1][0]:
                first = self.trips[at + 1][1] + 1  # the stay would run into the next trip
                continue
            if not self._surely_unlawful(first, days) and not self._overstays(first, days):
                return first, settled
            first += 1
        return None, settled if settled == alike else None

    # --- the answer -------------------------------------------------------------------------

    def answer(self, wanted: int) -> Plan:
        enter = self.enter
        longest = self.longest(enter)
        notes: list[str] = []
        if longest.days is None:
            status = PlanStatus.UNLIMITED
            earliest: int | None = enter  # no maximum: any length may begin on enter
            open_cover = self._open_cover()
            person = self._with_stay(enter, 1, open_ended=True)
            on = max(enter, open_cover.first) if open_cover is not None else enter
            notes.append(self._unlimited_note())
        else:
            status = PlanStatus.LIMITED
            notes.append(self._bound_note(longest))
            if longest.days >= wanted:
                earliest = enter
            else:
                earliest, settled = self.earliest(enter + 1, wanted)
                if earliest is None:
                    notes.append(self._never_note(settled, wanted))
            if longest.days:
                person = self._with_stay(enter, longest.days)
                on = enter + longest.days - 1
            else:  # no day allowed: a one-day stay, on the first day it breaks the limit
                person = self._with_stay(enter, 1)
                on = longest.first_overstay if longest.first_overstay is not None else enter
        verdict = self.evaluator.evaluate(person, _day(on))
        warnings = [*self._record_warnings(), *_own_warnings(self.evaluator, person, _day(on), verdict)]
        if longest.first_overstay is not None:
            warnings.extend(self._judged_otherwise(longest, verdict))
        return Plan(
            format=PLAN_FORMAT,
            engine_version=__version__,
            person_id=self.person.person_id,
            enter=_day(enter),
            policy=verdict.policy,
            status=status,
            days=wanted,
            max_stay_days=longest.days,
            latest_exit=_day(enter + longest.days - 1) if longest.days else None,
            earliest_entry=_day(earliest) if earliest is not None else None,
            limited_by=longest.bound,
            notes=tuple(notes),
            warnings=tuple(dict.fromkeys(warnings)),
            trace=_about_this_stay(verdict, _day(enter)),
        )

    def _judged_otherwise(self, longest: _Longest, verdict: Verdict) -> list[str]:
        """A warning when the policy does not call the day that ends the plan an overstay: a
        rule (not an exemption) that sets the limit aside from a later day is not seen by the
        count, so the plan stays on the safe side and says so."""
        day = longest.first_overstay
        if day is None:
            return []
        if not longest.days and verdict.as_of == _day(day):
            on_day = verdict
        else:
            on_day = self.evaluator.evaluate(self._with_stay(self.enter, (longest.days or 0) + 1), _day(day))
        if on_day.stay.status is StayStatus.OVERSTAY:
            return []
        rules = ", ".join(e.rule for e in on_day.trace if e.decisive) or "no rule"
        return [
            f"on {_day(day)}, the day one more day of stay would make an overstay day, the policy's "
            f"verdict is {on_day.stay.status.value} ({rules}): the plan counts days as the stay limit "
            "does and may be shorter than that verdict allows"
        ]

    def _record_warnings(self) -> list[str]:
        """Overstay days of the record as it stands: history before enter, bookings after."""
        over = self.baseline.overstay_days
        split = bisect.bisect_left(over, self.enter)
        warnings = []
        if split:
            warnings.append(
                f"the record holds {split} overstay day(s) before {_day(self.enter)} "
                f"({_days_text(runs(over[:split]))}): they stay on the record, and forbid a new stay "
                "only where the window makes its own days overstay days"
            )
        if split < len(over):
            warnings.append(
                f"the booked trips hold {len(over) - split} overstay day(s) even without a new stay "
                f"({_days_text(runs(over[split:]))}): no stay may begin on {_day(self.enter)} "
                "until the bookings are changed"
            )
        return warnings

    def _bound_note(self, longest: _Longest) -> str:
        days = longest.days or 0
        if longest.bound is PlanBound.NEXT_BOOKING:
            return f"the stay must end before the booked trip entering on {_day(self.enter + days)}"
        day = longest.first_overstay if longest.first_overstay is not None else self.enter + days
        more = f"a stay of {days + 1} day(s) would make {_day(day)}"
        if longest.bound is PlanBound.BOOKED_TRIP:
            return f"{more}, a day of a booked trip, an overstay day"
        if longest.bound is PlanBound.PER_ENTRY_LIMIT:
            return f"{more} an overstay day: beyond the {self._cap(self.enter)} days allowed per entry"
        limit, window = self._term(self.limits, day), self._term(self.windows, day)
        return f"{more} an overstay day: more than {limit} counted days in the {window} days ending on it"

    def _unlimited_note(self) -> str:
        open_cover = self._open_cover()
        if open_cover is None:
            until = self.enter + HORIZON_DAYS - 1
            covering = next((c for c in self.cover if c.first <= until <= c.last), None)
            if covering is not None:
                return (
                    f"no maximum within a century: every day from {_day(max(self.enter, covering.first))} "
                    f"to {_day(covering.last)} is covered by {', '.join(covering.rules)}"
                )
            return "no maximum: under this policy the window never fills and no per-entry cap applies"
        since = _day(max(self.enter, open_cover.first))
        by = ", ".join(open_cover.rules)
        return (
            f"no maximum: every day from {since} is covered by {by} with no end date, and a covered "
            "day does not count towards the limit"
        )

    def _never_note(self, settled: int | None, wanted: int) -> str:
        """Why no day allows ``wanted`` days: what breaks on a day when the record is behind."""
        if settled is None:
            return (
                f"no day within a century of {_day(self.enter)} allows a stay of {wanted} days "
                "(the search looks no further)"
            )
        longest = self.longest(settled)
        if longest.bound is PlanBound.PER_ENTRY_LIMIT:
            reason = f"it is longer than the {self._cap(settled)} days allowed per entry"
        else:
            limit, window = self._term(self.limits, settled), self._term(self.windows, settled)
            reason = f"it would hold more than {limit} counted days in {window}"
        return (
            f"no day on or after {_day(self.enter)} allows a stay of {wanted} days: {reason}, even "
            f"with the record far behind (from {_day(settled)} on every day is alike, and at most "
            f"{longest.days} day(s) may be spent)"
        )
