"""The stay limit's mechanism: days of stay counted in a sliding window, as named facts.

The policy's ``stay`` programme names this mechanism (``mechanism: stay_limit``). The policy
supplies everything legal: parameters ``stay.limit_days``, ``stay.window_days`` and
``stay.count_exit_day``; tables ``stay.regime_of_citizenship`` (citizenship -> regime) and
``stay.regimes`` (regime -> ``{subject, per_entry_days, window_total_days}``, a null window
total meaning ``stay.limit_days``, ``provisional: true`` a value the sources do not publish);
the base rule ``stay.limit``, whose
``from`` date is the day counting starts (the limit is not retroactive); every rule with
``exempts: <status kind>``, whose in-force period, intersected with the validity of a status
of that kind, is a period of days not counted; ``crossings.default_time_zone`` and the table
``crossings.border_posts`` for records given as border crossings; and the registration
parameters (:mod:`rules.stay.registration`).

The mechanism supplies the facts of :data:`STAY_FACTS` to the rules, and builds the verdict's
``stay`` section, which holds the decisions of the programmes reported in its slots
(``stay.sanction``, ``stay.entry_check``), the registration due and the gaps of the policy.

The regime of a nationality may change within a record (China: 14 days per entry and 42 in 180
until 9 Nov 2023, 30 and 90 from 10 Nov 2023). The policy's decisions, which this module
applies (the note of table ``stay.regime_of_citizenship``): a trip is counted only if the
regime on its entry day is subject to the limit; its per-entry cap is that regime's; the window
ending on a day is judged by the window total of the regime in force on that day (on a day the
nationality is under no subject regime, the last subject regime's total still judges the days
of a trip entered under it).
"""

from __future__ import annotations

import bisect
import datetime as dt
from collections.abc import Callable, Collection, Mapping
from dataclasses import dataclass, fields
from typing import Any, ClassVar, Literal

from models._countries import is_country_code
from models.person import Person, Trip
from models.policy import DatedValue, Rule
from models.verdict import (
    Decision,
    OverstayPeriod,
    PolicyGap,
    RegistrationDue,
    SourceRef,
    StayResult,
    StayStatus,
    TraceEntry,
    built,
    built_whole,
)
from rules.errors import EvaluationError, PolicyError, Problem, did_you_mean
from rules.frozen import made
from rules.policy.loaded import Policy
from rules.policy.mechanisms import Derived, MechanismFact
from rules.policy.timeline import Timeline
from rules.policy.titles import rule_title
from rules.policy.types import BOOLEAN, CODES, DATE, INTEGER, STRING
from rules.stay.crossings import trips_from_crossings
from rules.stay.notices import (
    EXEMPTION_NOTICE_DAYS,
    ending_exemptions,
    later_trips,
    notice_problems,
    registration_state,
    registration_warning,
)
from rules.stay.registration import READS as REGISTRATION_READS
from rules.stay.registration import (
    REGISTRATION_FACTS,
    DueDates,
    RegistrationFacts,
    latest_registration,
    registration_problems,
)
from rules.stay.window import (
    UNBOUNDED,
    ExemptPeriod,
    NoValueInForce,
    Schedule,
    StayFigures,
    WindowRules,
    count_again,
    count_same_again,
    count_stay,
    count_trips,
)

__all__ = ["STAY_FACTS", "StayDerived", "StayLimit"]

_PARAMETERS = ("stay.limit_days", "stay.window_days", "stay.count_exit_day")
REGIME_OF_CITIZENSHIP = "stay.regime_of_citizenship"
REGIMES = "stay.regimes"
_TABLES = (REGIME_OF_CITIZENSHIP, REGIMES)
_REGIME_KEYS = frozenset({"subject", "per_entry_days", "window_total_days", "provisional"})
DEFAULT_TIME_ZONE = "crossings.default_time_zone"
_LAST_ORDINAL = dt.date.max.toordinal()
BORDER_POSTS = "crossings.border_posts"
_REGISTRATIONS_KEPT = 1 << 14  # registrations due kept per mechanism (by entry day and regime)
_DAYS_KEPT = 1 << 12  # look-ups kept per mechanism by nationality and evaluation day
_PERIODS_KEPT = 1 << 14  # overstay periods kept per mechanism
_STATUSES = {status.value: status for status in StayStatus}  # without the enum's call
_SHOWS_LATEST_EXIT = frozenset({StayStatus.COMPLIANT, StayStatus.OVERSTAY, StayStatus.EXEMPT})
_NONE_LEFT_OUT: list[dt.date] = []  # no trip left out of the count (never changed)

#: The facts the stay limit's rules read (``stay.<name>``). The day figures are present only
#: when the person is subject, the trips are recorded and the base rule is in force.
STAY_FACTS: dict[str, MechanismFact] = {
    "citizenship": MechanismFact(
        STRING, "ISO 3166-1 alpha-2 code of the citizenship; absent if not given", "citizenship"
    ),
    "regime": MechanismFact(
        STRING,
        "The stay regime of the citizenship on the evaluation date (table stay.regime_of_citizenship)",
        "regime",
    ),
    "regime_recorded": MechanismFact(
        BOOLEAN,
        "Whether table stay.regime_of_citizenship has a row for the citizenship on the evaluation date "
        "(absent if no citizenship is given)",
        "citizenship",
    ),
    "subject": MechanismFact(BOOLEAN, "Whether that regime is subject to the limit", "citizenship"),
    "trips_recorded": MechanismFact(
        BOOLEAN, "Whether the record has a travel record (trips or crossings that can be read)", "trips"
    ),
    "present": MechanismFact(BOOLEAN, "Whether a trip covers the evaluation date", "trips"),
    "days_used": MechanismFact(INTEGER, "Counted days in the window ending on the evaluation date", "trips"),
    "overstay_days": MechanismFact(
        INTEGER, "Overstay days in the whole record up to the evaluation date", "trips"
    ),
    "exempt_days": MechanismFact(
        INTEGER, "Days of stay not counted because an exemption covered them", "trips"
    ),
    "statuses": MechanismFact(CODES, "Kinds of the statuses valid on the evaluation date", "statuses"),
    "overstay_period_days": MechanismFact(
        INTEGER, "Length of the latest run of consecutive overstay days (absent if none)", "trips"
    ),
    "overstay_period_end": MechanismFact(DATE, "The last day of that run", "trips"),
    "overstay_period_start": MechanismFact(DATE, "The first day of that run", "trips"),
    "previous_overstay_period_days": MechanismFact(
        INTEGER, "Length of the run of overstay days before the latest (absent if none)", "trips"
    ),
    "previous_overstay_period_end": MechanismFact(DATE, "The last day of that earlier run", "trips"),
    **REGISTRATION_FACTS,
    "entered_today": MechanismFact(BOOLEAN, "Whether a trip enters on the evaluation date", "trips"),
    "over_limit": MechanismFact(
        BOOLEAN,
        "Whether the window ending on the evaluation date holds more counted days than the limit",
        "trips",
    ),
}


@dataclass(frozen=True, slots=True)
class StayDerived:
    """The facts of the stay limit for one record on one date, and the figures behind them."""

    fact: dict[str, Any]
    figures: StayFigures | None
    per_entry_limit: int | None
    limit: int | None
    window: int | None
    warnings: tuple[str, ...]
    gaps: tuple[PolicyGap, ...] = ()


_set_fact, _set_figures, _set_per_entry, _set_limit, _set_window, _set_warnings, _set_gaps = (
    StayDerived.__dict__[name].__set__
    for name in ("fact", "figures", "per_entry_limit", "limit", "window", "warnings", "gaps")
)


def _stay_derived(
    fact: dict[str, Any],
    figures: StayFigures | None,
    per_entry_limit: int | None,
    limit: int | None,
    window: int | None,
    warnings: tuple[str, ...],
    gaps: tuple[PolicyGap, ...],
) -> StayDerived:
    """``StayDerived(...)`` of these fields, each set by its slot's own setter: the frozen
    dataclass's ``__init__`` sets each through ``object.__setattr__`` (one per record)."""
    derived = object.__new__(StayDerived)
    _set_fact(derived, fact)
    _set_figures(derived, figures)
    _set_per_entry(derived, per_entry_limit)
    _set_limit(derived, limit)
    _set_window(derived, window)
    _set_warnings(derived, warnings)
    _set_gaps(derived, gaps)
    return derived


#: What :meth:`StayLimit.rederive` compares of two counts: every field of :class:`StayDerived`
#: but the law in force (the limit and window), which the section shows and no figure compares.
_COUNTED = tuple(field.name for field in fields(StayDerived) if field.name not in ("limit", "window"))


@dataclass(frozen=True, slots=True)
class RegimeTerms:
    """The terms of a nationality's regime from day ``start`` on (until the next change).

    ``window_total`` is the regime's own window total, or ``stay.limit_days`` where the regime
    leaves it null (``None``: neither has a value). ``regime`` is ``None`` where the nationality
    has no row."""

    start: int
    regime: str | None
    subject: bool
    per_entry_days: int | None
    window_total: int | None
    provisional: bool


@dataclass(frozen=True, slots=True)
class RegimeCourse:
    """The regime terms of one nationality over time, for look-up by day.

    ``limits`` is the window total the counter applies on each day: that of the regime in force,
    or on a day under no subject regime the last subject regime's (the days counted then belong
    to a trip entered under it). ``uniform`` says that every trip counted from ``counting_starts``
    has one cap and is counted: the usual case, with no look-up per trip."""

    terms: tuple[RegimeTerms, ...]
    limits: Schedule
    uniform: bool
    starts: tuple[int, ...] = ()
    provisional: bool = False  # whether any of the terms is provisional

    def at(self, day: int) -> RegimeTerms | None:
        index = bisect.bisect_right(self.starts, day) - 1
        return self.terms[index] if index >= 0 else None

    def provisional_between(self, first: int, last: int) -> list[RegimeTerms]:
        """The provisional subject terms in force on some day of ``first..last``."""
        found: list[RegimeTerms] = []
        if not self.provisional:
            return found
        for index, terms in enumerate(self.terms):
            end = self.terms[index + 1].start - 1 if index + 1 < len(self.terms) else UNBOUNDED
            if terms.provisional and terms.subject and terms.start <= last and end >= first:
                found.append(terms)
        return found


@dataclass(frozen=True, slots=True)
class _Counting:
    """What counting a nationality's record on one day reads of the policy: the course of its
    regime, the per-entry cap in force that day, the counter's rules, and the limit and window
    of the window ending that day, with the days those hold unchanged (``terms``, as
    :meth:`WindowRules.around` gives them)."""

    course: RegimeCourse
    per_entry: int | None
    rules: WindowRules
    limit: int
    window: int
    terms: tuple[int, int, int, int]


class StayLimit:
    """The stay limit's mechanism for one policy (see the module docstring)."""

    facts: ClassVar[Mapping[str, MechanismFact]] = STAY_FACTS
    slots: ClassVar[tuple[str, ...]] = ("sanction", "entry_check")
    exemption_fact: ClassVar[str | None] = "statuses"
    #: The base limit: the rule the exemptions and the other outcomes override.
    required_rules: ClassVar[tuple[str, ...]] = ("limit",)
    #: Every parameter and table the mechanism reads, registration included: an impact
    #: analysis knows from it which differences in the law can move a stay figure
    #: (``tests/test_compare.py`` checks it against what the mechanism reads).
    reads: ClassVar[tuple[str, ...]] = (
        *_PARAMETERS,
        *_TABLES,
        DEFAULT_TIME_ZONE,
        BORDER_POSTS,
        EXEMPTION_NOTICE_DAYS,
        *REGISTRATION_READS,
    )
    #: The tables of :attr:`reads` the mechanism looks up by one key only, and the fact of its
    #: own that holds that key: an impact analysis names a row that differs only for the
    #: records that hold its key (``tests/test_compare.py`` checks the keys looked up).
    keyed_reads: ClassVar[Mapping[str, str]] = {REGIME_OF_CITIZENSHIP: "citizenship"}
    #: The items of :attr:`reads` that only the count (:meth:`derive_stay`) and the
    #: registration read, and that :meth:`rederive` compares: not the crossings, the rest of the
    #: section or the trace (``tests/test_compare.py`` checks it). An impact analysis counts a
    #: record only these reach again rather than evaluating it again.
    counting_reads: ClassVar[tuple[str, ...]] = (*_PARAMETERS, *_TABLES, EXEMPTION_NOTICE_DAYS)
    #: The items of :attr:`counting_reads` the registration reads too: when one of them
    #: differs, :meth:`rederive` finds the registration under both versions and compares it.
    registration_reads: ClassVar[tuple[str, ...]] = _TABLES

    def __init__(self, policy: Policy, programme: str = "stay") -> None:
        problems = self.problems(policy, programme)
        if problems:
            raise PolicyError(f"policy {policy.name} cannot decide the stay limit", problems)
        self.policy = policy
        self.programme = programme
        rules = {rule.id: rule for rule in policy.rules_of(programme)}
        self.base = rules[f"{programme}.limit"]
        self.exemptions: tuple[Rule, ...] = tuple(r for r in rules.values() if r.exempts)
        self._courses: dict[str, RegimeCourse] = {}
        # The counter's rules per nationality and counting convention (built from the course).
        self._window_rules: dict[tuple[str, bool], WindowRules] = {}
        # The registration due after an entry, by entry day and regime (the policy is
        # immutable: the same look-up always gives the same answer); bounded.
        self._registrations: dict[tuple[dt.date, Any], RegistrationDue | None] = {}
        self._dues = DueDates(policy)  # what a miss of it computes, the policy read per span
        # The same in its state, with its warning, by nationality, entry day, day registered and
        # evaluation day (a verdict shares the frozen model); bounded.
        self._registration_states: dict[
            tuple[str, dt.date, dt.date | None, dt.date], tuple[RegistrationDue | None, str | None]
        ] = {}
        # The overstay periods shown, by their days; bounded.
        self._periods: dict[tuple[int, int], OverstayPeriod] = {}
        # The regime and what the count reads of the policy, by nationality and day; bounded.
        self._regimes_on: dict[tuple[str, int], tuple[bool, Any, bool]] = {}
        self._countings: dict[tuple[str, int], _Counting] = {}
        self._windows = _schedule(policy, "stay.window_days")
        # The baseline :meth:`rederive` was last given, and whether it counts alike but for the
        # count's parameters (:meth:`_counts_alike`).
        self._alike: tuple[StayLimit, bool] | None = None
        # The days the base rule is in force, as ordinals (``UNBOUNDED``: no end).
        self._in_force = (
            self.base.start.toordinal(),
            UNBOUNDED if self.base.end is None else self.base.end.toordinal(),
        )
        self._sources = {
            rule.id: SourceRef(title=rule.source.title, href=rule.source.href, date=rule.source.date)
            for rule in self.exemptions
        }

    @classmethod
    def problems(cls, policy: Policy, programme: str) -> list[Problem]:
        """What the policy lacks for the stay limit, each at its place."""
        here = f"policy {policy.name}"
        problems = [
            Problem(here, f"parameter {name!r} is required by the stay limit")
            for name in (*_PARAMETERS, DEFAULT_TIME_ZONE)
            if name not in policy.parameters and name not in policy.broken
        ] + [
            Problem(here, f"table {name!r} is required by the stay limit")
            for name in (*_TABLES, BORDER_POSTS)
            if name not in policy.tables and name not in policy.broken
        ]
        if programme != "stay":
            problems.append(
                Problem(
                    policy.where("programmes", programme, "mechanism"),
                    "the stay_limit mechanism reports the verdict's 'stay' section: "
                    "its programme is named 'stay'",
                )
            )
        known = {status.value for status in StayStatus}
        declared = policy.programmes.get(programme)
        unknown = [status for status in (declared.precedence if declared else ()) if status not in known]
        if unknown:
            problems.append(
                Problem(
                    policy.where("programmes", programme, "precedence"),
                    f"the stay limit decides only {', '.join(sorted(known))}; not {', '.join(unknown)}",
                )
            )
        for local in cls.required_rules:
            base = f"{programme}.{local}"
            if base not in {rule.id for rule in policy.rules} and base not in policy.broken:
                problems.append(Problem(here, f"rule {base!r} (the base limit) is required"))
        if not problems and not policy.broken:
            problems.extend(_value_problems(policy))
            problems.extend(registration_problems(policy))
            problems.extend(notice_problems(policy))
        return problems

    # --- the mechanism's contract -------------------------------------------------------------

    def derive(self, person: Person, as_of: dt.date) -> Derived:
        """The stay facts of ``person`` on ``as_of`` (crossings read into trips first)."""
        read_warnings: tuple[str, ...] = ()
        if person.crossings is None:  # most records: trips given as such
            record = person
        else:
            record, read_warnings = self._trips_from_crossings(person, as_of)
        stay = self.derive_stay(record, as_of)
        trips = record.trips
        facts: dict[str, Any]
        if (
            trips
            and record.citizenship is not None
            and (trips[0].entry <= as_of or any(trip.entry <= as_of for trip in trips))
        ):
            # The registration facts are computed only when a rule reads them (art. 518 for hosts).
            facts = RegistrationFacts(stay.fact, self.policy, record, as_of)
        else:
            # No citizenship, or no trip entered by the evaluation date: there is no registration
            # fact to find, and a plain mapping is read without a call per fact.
            facts = dict(stay.fact)
        del facts["as_of"]  # the section's, not a fact of the rules
        warnings = (*read_warnings, *stay.warnings) if read_warnings else stay.warnings
        return made(Derived, {"facts": facts, "person": record, "warnings": warnings, "state": stay})

    def section(
        self,
        derived: Derived,
        status: str,
        missing: tuple[str, ...],
        slots: Mapping[str, Decision],
        warnings: list[str],
    ) -> StayResult:
        stay: StayDerived = derived.state
        fact = stay.fact
        person = derived.person
        # A person the count found on no trip has no registration due (most records), nor one
        # with no trip or no citizenship.
        registration = (
            None
            if fact.get("present") is False or not person.trips or person.citizenship is None
            else self._registration(person, dt.date.fromordinal(fact["as_of"]), warnings)
        )
        return self.result(
            stay,
            _STATUSES.get(status) or StayStatus(status),
            missing,
            sanction=slots.get("sanction"),
            entry_check=slots.get("entry_check"),
            registration=registration,
        )

    def rule_facts(self, derived: Derived, rule: Rule) -> dict[str, Any]:
        """What the trace shows beside a fired exemption: its status kind and the days it removed."""
        if rule.exempts is None:
            return {}
        stay: StayDerived = derived.state
        shown: dict[str, Any] = {"status": rule.exempts}
        if stay.figures is not None:
            shown["days_not_counted"] = stay.figures.exempt_days_by_rule.get(rule.id, 0)
        return shown

    def trace(self, derived: Derived, fired: set[str]) -> list[TraceEntry]:
        """Exemptions that removed days earlier but do not cover the evaluation date."""
        stay: StayDerived = derived.state
        if stay.figures is None or not stay.figures.exempt_days_by_rule:
            return []  # no exemption removed a day (most records)
        entries = []
        as_of = dt.date.fromordinal(stay.fact["as_of"])
        for rule in self.exemptions:
            removed = stay.figures.exempt_days_by_rule.get(rule.id, 0)
            if removed and rule.id not in fired:
                entries.append(
                    TraceEntry(
                        rule=rule.id,
                        title=rule_title(self.policy, rule, as_of),
                        source=self._sources[rule.id],
                        in_force=(rule.start, rule.end),
                        outcome="days_not_counted",
                        facts={"status": rule.exempts, "days_not_counted": removed},
                        note="the status covered earlier days of stay, not the evaluation date",
                    )
                )
        return entries

    def rederive(
        self, derived: Derived, as_of: dt.date, baseline: StayLimit, differing: Collection[str]
    ) -> dict[str, Any] | None:
        """The count of ``derived`` (made by ``baseline``, this mechanism under another version
        of the policy) made again under this one: ``None`` when a fact, figure or warning
        differs; otherwise the limit and window of the stay section, which are the law in force,
        as this version has them. Only :attr:`counting_reads` may differ between the versions
        (``differing``: the parameters and ``table[key]`` rows that do): the crossings were read
        the same way under both. When a row of a table the registration reads differs, the
        registration of the record is found under both and compared too."""
        before: StayDerived = derived.state
        if self._alike is None or self._alike[0] is not baseline:
            self._alike = (baseline, self._counts_alike(baseline))
        found = self._recounted(derived, as_of, before) if self._alike[1] else False
        if found is False:  # counted again in full, every fact, figure and warning compared
            after = self.derive_stay(derived.person, as_of, before.figures)
            if any(getattr(after, name) != getattr(before, name) for name in _COUNTED):
                return None
            found = {"limit": after.limit, "window": after.window}
        elif found is None:
            return None
        if any(item.partition("[")[0] in self.registration_reads for item in differing):
            person = derived.person
            if latest_registration(baseline.policy, person, as_of) != latest_registration(
                self.policy, person, as_of
            ):
                return None  # the registration facts a rule may read
            said: tuple[list[str], list[str]] = ([], [])
            if baseline._registration(person, as_of, said[0]) != self._registration(person, as_of, said[1]):
                return None  # the registration the section reports
            if said[0] != said[1]:
                return None
        return found

    def _counts_alike(self, baseline: StayLimit) -> bool:
        """Whether ``baseline`` (this mechanism under another version of the policy) can differ
        from this one in what :meth:`derive_stay` reads only by the parameters of the count
        (``stay.limit_days``, ``stay.window_days``, ``stay.count_exit_day``): the same policy
        name (the gaps and errors quote it), regime tables, notice parameter, base rule dates
        and exemptions. Asked once per baseline (:meth:`_recounted` rests on it)."""
        mine, theirs = self.policy, baseline.policy
        return (
            mine.name == theirs.name
            and all(mine.tables.get(name) == theirs.tables.get(name) for name in _TABLES)
            and mine.parameters.get(EXEMPTION_NOTICE_DAYS) == theirs.parameters.get(EXEMPTION_NOTICE_DAYS)
            and self._in_force == baseline._in_force  # the base rule's first and last day
            and [(r.id, r.exempts, r.start, r.end) for r in self.exemptions]
            == [(r.id, r.exempts, r.start, r.end) for r in baseline.exemptions]
        )

    def _recounted(
        self, derived: Derived, as_of: dt.date, before: StayDerived
    ) -> dict[str, Any] | Literal[False] | None:
        """:meth:`rederive`'s count when the versions differ only by the count's parameters
        (:meth:`_counts_alike`): only the figures, the per-entry cap, ``over_limit`` and the
        law shown can differ then, so only the figures are made again (the runs of ``before``
        reused when the count makes the same), the rest compared. The regime facts, the gaps,
        the trips left out, the trips after ``as_of`` and the notices of ending exemptions
        read nothing that differs, or only the figures compared. ``False``: count in full
        (a provisional regime, whose warnings quote the window total, which may differ)."""
        figures = before.figures
        if figures is None:
            # No count under either: the same regime facts and gaps, and no law shown.
            return {"limit": None, "window": None}
        person = derived.person
        citizenship = person.citizenship
        assert citizenship is not None  # a subject regime is that of a citizenship
        day = as_of.toordinal()
        counting = self._countings.get((citizenship, day)) or self._counting(citizenship, day)
        if counting.course.provisional:
            return False
        per_entry, limit = counting.per_entry, counting.limit
        if per_entry != before.per_entry_limit:
            return None
        try:
            # The same trips, caps and exempt periods as the count of ``figures``.
            again = count_same_again(figures, day, counting.rules, counting.terms)
        except NoValueInForce as missing:
            raise self._no_value(missing) from None
        if again is None:
            after = self._count(person, as_of, day, counting, citizenship, None)[0]
            if after != figures:
                return None
        else:
            # The same runs of the same trips: the days counted, the exempt days and the trip
            # the person is on are those of ``figures``.
            after = again
            if (
                after.days_used != figures.days_used
                or after.periods != figures.periods
                or after.latest_exit != figures.latest_exit
                or after.latest_exit_unbounded != figures.latest_exit_unbounded
            ):
                return None
        if (after.days_used > limit) is not before.fact["over_limit"]:
            return None
        return {"limit": limit, "window": counting.window}

    # --- counting -----------------------------------------------------------------------------

    def derive_stay(self, person: Person, as_of: dt.date, previous: StayFigures | None = None) -> StayDerived:
        """The stay facts for a record whose trips are known (planning calls this directly).

        ``previous``: the figures of the same record on the same day under another version of
        the policy (:meth:`rederive`), whose runs of counted days are taken as they are when
        this version makes the same runs (:func:`~rules.stay.window.count_again`)."""
        day = as_of.toordinal()
        trips = person.trips
        statuses = person.statuses
        warnings: list[str] = []
        fact: dict[str, Any] = {
            "as_of": day,
            "trips_recorded": trips is not None,
            "statuses": tuple(sorted({s.kind for s in statuses if s.covers(as_of)})) if statuses else (),
        }
        gaps: tuple[PolicyGap, ...] = ()
        first_day, last_day = self._in_force
        in_force = first_day <= day <= last_day  # the base rule's, on ``as_of``
        citizenship = person.citizenship
        subject = False
        if citizenship is not None:
            fact["citizenship"] = citizenship
            recorded, regime, subject = self._regimes_on.get((citizenship, day)) or self._regime_on(
                citizenship, day
            )
            fact["regime_recorded"] = recorded
            if recorded:
                fact["regime"] = regime
                fact["subject"] = subject
            elif in_force:
                gaps = (self._gap(citizenship, as_of),)
                warnings.append(gaps[0].note)
        limit = window = per_entry = None
        figures = None
        if subject and trips is not None and in_force:
            assert citizenship is not None  # a subject regime is that of a citizenship
            counting = self._countings.get((citizenship, day)) or self._counting(citizenship, day)
            per_entry, limit, window = counting.per_entry, counting.limit, counting.window
            figures, later, counted, outside = self._count(
                person, as_of, day, counting, citizenship, previous
            )
            if outside:
                warnings.append(
                    f"{len(outside)} trip(s) entering on {', '.join(str(e) for e in outside[:3])}"
                    f"{' and later' if len(outside) > 3 else ''} were not counted: the regime of "
                    f"{citizenship} on the entry day was outside the limit (table {REGIME_OF_CITIZENSHIP})"
                )
            if counting.course.provisional:
                warnings.extend(self._provisional_warnings(counting.course, person, as_of))
            # A trip left out of the count (entered under a regime outside the limit) is still a
            # stay: the person is present on it.
            present = figures.present or (
                counted is not None
                and any(t.entry <= as_of and (t.exit is None or t.exit >= as_of) for t in trips)
            )
            periods = figures.periods
            days_used = figures.days_used
            fact["days_used"] = days_used
            fact["overstay_days"] = figures.overstay_count if periods else 0
            fact["exempt_days"] = figures.exempt_days
            fact["present"] = present
            # A trip entering on the evaluation date covers it: only a person present has one.
            fact["entered_today"] = present and any(trip.entry == as_of for trip in trips)
            fact["over_limit"] = days_used > limit
            if periods:
                first, last = periods[-1]
                fact["overstay_period_days"] = last - first + 1
                fact["overstay_period_end"] = dt.date.fromordinal(last)
                fact["overstay_period_start"] = dt.date.fromordinal(first)
                if len(periods) > 1:
                    first, last = periods[-2]
                    fact["previous_overstay_period_days"] = last - first + 1
                    fact["previous_overstay_period_end"] = dt.date.fromordinal(last)
            # A trip entering after the evaluation date is not counted (``later`` of them); one
            # running past it covers it: with neither (most records) there is nothing to tell.
            if present or later:
                warnings.extend(later_trips(trips, as_of))
            if statuses:
                latest = figures.latest_exit
                if latest is not None and latest > _LAST_ORDINAL:
                    latest = None
                warnings.extend(
                    ending_exemptions(
                        self.policy,
                        self.exemptions,
                        statuses,
                        as_of,
                        None if latest is None else dt.date.fromordinal(latest),
                    )
                )
            if figures.latest_exit_unbounded:
                warnings.append(
                    "an exemption covers every later day with no end date: no latest exit applies"
                )
        return _stay_derived(fact, figures, per_entry, limit, window, tuple(warnings), gaps)

    def _count(
        self,
        person: Person,
        as_of: dt.date,
        day: int,
        counting: _Counting,
        citizenship: str,
        previous: StayFigures | None,
    ) -> tuple[StayFigures, int, tuple[Any, ...] | None, list[dt.date]]:
        """The figures of a subject's record (``day``: ``as_of``'s ordinal), the trips entering
        after ``as_of``, the trips counted (``None``: every trip) and the entry days of those
        left out (:meth:`derive_stay`; ``previous`` as there)."""
        trips = person.trips
        assert trips is not None  # counted only when the trips are recorded
        per_entry = counting.per_entry
        # One cap for every trip counted (those entering from the day counting starts) is
        # the usual case, looked up once, with every trip counted.
        uniform = counting.course.uniform
        counted, outside = (
            (None, _NONE_LEFT_OUT) if uniform else self._counted_trips(person, counting.course, as_of)
        )
        exempt = self.exempt_periods(person) if person.statuses else ()
        try:
            if uniform and not exempt:  # most records: each trip counted as it is read
                again = (
                    count_again(previous, day, counting.rules, per_entry, counting.terms)
                    if previous is not None
                    else None
                )
                figures, later = again or count_trips(trips, day, counting.rules, per_entry, counting.terms)
            else:
                # Each span made as the plain tuple it is (cheaper than a TripSpan).
                spans = [
                    (
                        entry,
                        day if (exit_ := trip.exit) is None else exit_.toordinal(),
                        exit_ is not None,
                        per_entry if uniform else self.per_entry_cap(citizenship, entry),
                    )
                    for trip in (trips if counted is None else counted)
                    if (entry := trip.entry.toordinal()) <= day
                ]
                figures = count_stay(spans, day, counting.rules, exempt, counting.terms)
                later = len(trips) - len(spans)
        except NoValueInForce as missing:  # a parameter with no value on a day it must judge
            raise self._no_value(missing) from None
        return figures, later, counted, outside

    def _gap(self, citizenship: str, as_of: dt.date) -> PolicyGap:
        return PolicyGap(
            table=REGIME_OF_CITIZENSHIP,
            key=citizenship,
            on=as_of,
            note=(
                f"policy {self.policy.name} has no row {citizenship!r} in table "
                f"{REGIME_OF_CITIZENSHIP} on {as_of}: the stay regime of this nationality is not "
                "encoded, so the limit cannot be applied (a gap in the policy, not a fact to supply)"
            ),
        )

    def _counted_trips(
        self, person: Person, course: RegimeCourse, as_of: dt.date
    ) -> tuple[tuple[Any, ...] | None, list[dt.date]]:
        """The trips whose entry-day regime (in ``course``) is subject to the limit (``None``:
        every trip), and the entry days of those left out (counted trips only: from the day
        counting starts)."""
        if course.uniform:
            return None, []
        starts = self.base.start
        kept, outside = [], []
        for trip in person.trips or ():
            terms = course.at(trip.entry.toordinal())
            if terms is not None and terms.subject:
                kept.append(trip)
            elif starts <= trip.entry <= as_of:
                outside.append(trip.entry)
        return (tuple(kept) if outside else None), outside

    def _provisional_warnings(self, course: RegimeCourse, person: Person, as_of: dt.date) -> list[str]:
        """Every verdict that counts a day under a provisional regime value (in ``course``) says so."""
        if not course.provisional:
            return []
        entries = [trip.entry for trip in person.trips or () if self.base.start <= trip.entry <= as_of]
        first = min(entries, default=as_of).toordinal()
        return [
            f"table {REGIMES} row {terms.regime} is provisional from {dt.date.fromordinal(terms.start)}: "
            f"the sources do not publish it as encoded (per entry {terms.per_entry_days} days, "
            f"{terms.window_total} in the window); the verdict rests on it"
            for terms in course.provisional_between(first, as_of.toordinal())
        ]

    def result(
        self,
        derived: StayDerived,
        status: StayStatus,
        missing: tuple[str, ...],
        sanction: Decision | None = None,
        entry_check: Decision | None = None,
        registration: RegistrationDue | None = None,
    ) -> StayResult:
        """The stay section of the verdict, from the derived figures and the decided statuses."""
        figures = derived.figures
        fact = derived.fact
        # Every value below is already what validation keeps: built without validating again.
        if figures is None:
            section: dict[str, Any] = {
                "status": status,
                "limit": derived.limit,
                "window": derived.window,
                "missing": missing,
                "sanction": sanction,
                "entry_check": entry_check,
                "registration": registration,
                "regime": fact.get("regime"),
                "policy_gaps": derived.gaps,
            }
            return built(StayResult, section)
        latest = figures.latest_exit
        periods = figures.periods
        # With figures every field is given: the fields in their declaration order, as built
        # would lay them out (tests/test_fast_paths_days_over_by_runs.py checks the order).
        return built_whole(
            StayResult,
            {
                "status": status,
                "days_used": figures.days_used,
                "limit": derived.limit,
                "window": derived.window,
                "per_entry_limit": derived.per_entry_limit,
                "overstay_days": fact["overstay_days"],  # the figures' overstay count
                "overstay_now": bool(figures.present and periods[-1][1] == fact["as_of"])
                if periods
                else False,
                # None in most records; one in most of the others (made without a comprehension).
                "overstay_periods": ()
                if not periods
                else (self._period(*periods[0]),)
                if len(periods) == 1
                else tuple([self._period(first, last) for first, last in periods]),
                "exempt_days": figures.exempt_days,
                # A latest exit beyond the calendar's last day (an evaluation in year 9999) is none.
                "latest_exit": dt.date.fromordinal(latest)
                if latest and latest <= _LAST_ORDINAL and status in _SHOWS_LATEST_EXIT
                else None,
                "missing": missing,
                "sanction": sanction,
                "entry_check": entry_check,
                "registration": registration,
                "regime": fact.get("regime"),
                "policy_gaps": derived.gaps,
            },
        )

    def _period(self, first: int, last: int) -> OverstayPeriod:
        """The overstay period of days ``first..last`` (built once: the model is frozen)."""
        found = self._periods.get((first, last))
        if found is None:
            fromordinal = dt.date.fromordinal
            found = built(
                OverstayPeriod,
                {"start": fromordinal(first), "end": fromordinal(last), "days": last - first + 1},
            )
            if len(self._periods) >= _PERIODS_KEPT:
                self._periods.clear()
            self._periods[(first, last)] = found
        return found

    def per_entry_cap(self, citizenship: str | None, day: int) -> int | None:
        """The per-entry cap of the regime of ``citizenship`` on ``day`` (one look-up per trip)."""
        if citizenship is None:
            return None
        terms = self.course(citizenship).at(day)
        return terms.per_entry_days if terms is not None and terms.subject else None

    def limit_timeline(self, citizenship: str | None) -> Timeline:
        """The window total applied to ``citizenship`` day by day, as a timeline of dated values
        (the planner reads it as it reads a parameter)."""
        if citizenship:
            schedule = self.course(citizenship).limits
        else:
            schedule = _schedule(self.policy, "stay.limit_days")
        source = self.policy.parameters["stay.limit_days"].values[0].source
        return Timeline(
            schedule.starts,
            tuple(
                DatedValue.model_construct(start=dt.date.fromordinal(s), value=v, source=source, note=None)
                for s, v in zip(schedule.starts, schedule.values, strict=True)
            ),
        )

    def course(self, citizenship: str) -> RegimeCourse:
        """The regime terms of ``citizenship`` over time (built once per nationality)."""
        found = self._courses.get(citizenship)
        if found is None:
            found = self._courses[citizenship] = self._course(citizenship)
        return found

    def _course(self, citizenship: str) -> RegimeCourse:
        """Terms on every day the row of ``citizenship``, a regime or ``stay.limit_days`` changes,
        consecutive equal terms merged."""
        policy = self.policy
        own = policy.tables[REGIME_OF_CITIZENSHIP].rows.get(citizenship, ())
        days = {value.start.toordinal() for value in own}
        for values in policy.tables[REGIMES].rows.values():
            days.update(value.start.toordinal() for value in values)
        days.update(policy.parameter_timeline("stay.limit_days").starts)
        terms: list[RegimeTerms] = []
        for day in sorted(days):
            found = self._terms_on(citizenship, day)
            if not terms or _differ(terms[-1], found):
                terms.append(found)
        # The limit of each day: the regime's total, carried over days under no subject regime.
        starts: list[int] = []
        limits: list[int | None] = []
        carried: int | None = None
        for found in terms:
            if found.subject:
                carried = found.window_total
            if not limits or limits[-1] != carried:
                starts.append(found.start)
                limits.append(carried)
        counting = self.base.start.toordinal()
        counted = [found for found in terms if found.start > counting]
        before = [found for found in terms if found.start <= counting]
        uniform = (
            bool(before)
            and before[-1].subject
            and all(found.subject and found.per_entry_days == before[-1].per_entry_days for found in counted)
        )
        return RegimeCourse(
            tuple(terms),
            Schedule("stay.limit_days", tuple(starts), tuple(limits)),
            uniform,
            tuple(found.start for found in terms),
            any(found.provisional for found in terms),
        )

    def _terms_on(self, citizenship: str, day: int) -> RegimeTerms:
        policy = self.policy
        general = policy.parameter_timeline("stay.limit_days").at(day)
        general_limit = None if general is None else general.value
        row = policy.row(REGIME_OF_CITIZENSHIP, citizenship, day)
        regime = None if row is None else str(row.value)
        terms = None if regime is None else policy.row(REGIMES, regime, day)
        if terms is None:
            return RegimeTerms(day, regime, False, None, None, False)
        value = terms.value
        cap = value.get("per_entry_days")
        total = value.get("window_total_days")
        return RegimeTerms(
            day,
            regime,
            bool(value["subject"]),
            int(cap) if cap is not None else None,
            int(total) if total is not None else (int(general_limit) if general_limit is not None else None),
            bool(value.get("provisional", False)),
        )

    def exempt_periods(self, person: Person) -> list[ExemptPeriod]:
        """The days each exemption covers: its rule's in-force period intersected with the
        validity of each of the person's statuses of its kind (``UNBOUNDED``: no end)."""
        if not person.statuses:
            return []  # most records
        return [
            ExemptPeriod(rule.id, first, last)
            for rule in self.exemptions
            for status in person.statuses
            if status.kind == rule.exempts
            for first, last in [_intersect(rule, status.valid_from, status.valid_to)]
            if first <= last
        ]

    @property
    def in_force(self) -> tuple[int, int]:
        """The first and last day (ordinals; ``UNBOUNDED``: no end) the base limit is in force."""
        return self._in_force

    def regime_on(self, citizenship: str, day: int) -> tuple[bool, Any, bool]:
        """Whether the regime table has a row for ``citizenship`` on ``day`` (an ordinal), its
        value and whether that regime is subject to the limit, as :meth:`derive_stay` reads them."""
        return self._regimes_on.get((citizenship, day)) or self._regime_on(citizenship, day)

    def counting(self, citizenship: str, day: int) -> _Counting:
        """What counting the record of a subject of ``citizenship`` on ``day`` (an ordinal)
        reads of the policy, as :meth:`derive_stay` reads it; raises as it would."""
        return self._countings.get((citizenship, day)) or self._counting(citizenship, day)

    def _regime_on(self, citizenship: str, day: int) -> tuple[bool, Any, bool]:
        """Whether table stay.regime_of_citizenship has a row for ``citizenship`` on ``day``,
        its value (``None``: no row) and whether that regime is subject to the limit: looked up
        once per nationality and day (the records of a population are evaluated on a few days)."""
        key = (citizenship, day)
        found = self._regimes_on.get(key)
        if found is None:
            policy = self.policy
            row = policy.row(REGIME_OF_CITIZENSHIP, citizenship, day)
            terms = None if row is None else policy.row(REGIMES, row.value, day)
            found = (
                row is not None,
                None if row is None else row.value,
                bool(terms is not None and terms.value["subject"]),
            )
            if len(self._regimes_on) >= _DAYS_KEPT:
                self._regimes_on.clear()
            self._regimes_on[key] = found
        return found

    def _counting(self, citizenship: str, day: int) -> _Counting:
        """What counting the record of a subject of ``citizenship`` on ``day`` reads of the
        policy, looked up once per nationality and day (a failed look-up is not kept)."""
        key = (citizenship, day)
        found = self._countings.get(key)
        if found is not None:
            return found
        course = self.course(citizenship)
        count_exit_day = bool(self.policy.parameter("stay.count_exit_day", day).value)
        rules = self._window_rules.get((citizenship, count_exit_day))
        if rules is None:
            rules = WindowRules(
                counting_starts=self.base.start.toordinal(),
                limits=course.limits,
                windows=self._windows,
                count_exit_day=count_exit_day,
            )
            self._window_rules[(citizenship, count_exit_day)] = rules  # one per nationality
        try:
            terms = rules.around(day)
        except NoValueInForce as missing:
            raise self._no_value(missing) from None
        found = _Counting(course, self.per_entry_cap(citizenship, day), rules, terms[0], terms[1], terms)
        if len(self._countings) >= _DAYS_KEPT:
            self._countings.clear()
        self._countings[key] = found
        return found

    def _no_value(self, missing: NoValueInForce) -> EvaluationError:
        return EvaluationError(
            f"parameter {missing.name!r} of policy {self.policy.name} has no value on "
            f"{dt.date.fromordinal(missing.day)}, a day the stay limit must judge"
        )

    # --- crossings and registration -----------------------------------------------------------

    def _trips_from_crossings(self, person: Person, as_of: dt.date) -> tuple[Person, tuple[str, ...]]:
        """A record given as border crossings, read into trips with the policy's post table.

        A record that cannot be read safely becomes one whose trips are unknown: the verdict
        is then undetermined, and the warnings name the crossings concerned."""
        if person.crossings is None:
            return person, ()
        if not self.base.in_force(as_of):
            # Before the limit (or after it), no day is counted: the crossings are not read, and
            # the policy's rules decide the date as they would for trips.
            return person.model_copy(update={"trips": None}), ()
        try:
            default_tz = self.policy.parameter(DEFAULT_TIME_ZONE, as_of).value
        except EvaluationError:
            raise PolicyError(
                f"policy {self.policy.name} has no {DEFAULT_TIME_ZONE} on {as_of}: crossings cannot be read"
            ) from None
        table = self.policy.tables.get(BORDER_POSTS)
        posts = {
            post: found.value["tz"]
            for post in (table.rows if table is not None else ())
            if (found := self.policy.row(BORDER_POSTS, post, as_of)) is not None
        }
        reading = trips_from_crossings(person.crossings, posts, default_tz)
        if reading.readable:
            return person.model_copy(update={"trips": reading.trips}), reading.warnings
        unreadable = "the border crossings cannot be read safely, so the trips are not known"
        return person.model_copy(update={"trips": None}), (*reading.warnings, unreadable)

    def _registration(self, person: Person, as_of: dt.date, warnings: list[str]) -> RegistrationDue | None:
        """The registration due for the trip the person is on at ``as_of`` (none if absent).

        The procedure follows the regime of the citizenship on the day of entry."""
        if person.citizenship is None:
            return None
        for current in reversed(person.trips or ()):
            if current.entry <= as_of and (current.exit is None or current.exit >= as_of):
                break
        else:
            return None
        key = (person.citizenship, current.entry, current.registered_on, as_of)
        found = self._registration_states.get(key)
        if found is None:
            try:
                found = self._registration_state(person.citizenship, current, as_of)
            except EvaluationError as error:
                warnings.append(f"registration of the entry on {current.entry}: {error.summary}")
                return None
            if len(self._registration_states) >= _REGISTRATIONS_KEPT:
                self._registration_states.clear()
            self._registration_states[key] = found
        due, late = found
        if late is not None:
            warnings.append(late)
        return due

    def registration_after(self, citizenship: str, entry: dt.date, as_of: dt.date) -> RegistrationDue | None:
        """The registration the stay section shows on ``as_of`` for a person of ``citizenship``
        on a trip entered on ``entry`` that the record gives no registration day for: as
        :meth:`_registration` finds it for such a trip (none where it cannot be computed)."""
        key = (citizenship, entry, None, as_of)
        found = self._registration_states.get(key)
        if found is None:
            try:
                found = self._registration_state(citizenship, Trip.model_construct(entry=entry), as_of)
            except EvaluationError:
                return None
            if len(self._registration_states) >= _REGISTRATIONS_KEPT:
                self._registration_states.clear()
            self._registration_states[key] = found
        return found[0]

    def _registration_state(
        self, citizenship: str, trip: Trip, as_of: dt.date
    ) -> tuple[RegistrationDue | None, str | None]:
        """The registration due for ``trip`` in its state on ``as_of``, and the warning that
        state calls for (an :class:`EvaluationError` when the due date cannot be computed)."""
        regime = self.policy.row(REGIME_OF_CITIZENSHIP, citizenship, trip.entry)
        if regime is None:
            return None, None
        key = (trip.entry, regime.value)
        try:
            due = self._registrations[key]
        except KeyError:
            due = self._dues.due(trip.entry, regime.value)
            if len(self._registrations) >= _REGISTRATIONS_KEPT:
                self._registrations.clear()
            self._registrations[key] = due
        if due is None:
            return None, None
        due = registration_state(due, trip, as_of)
        return due, registration_warning(due, as_of)


def _intersect(rule: Rule, valid_from: dt.date, valid_to: dt.date | None) -> tuple[int, int]:
    first = max(rule.start, valid_from).toordinal()
    ends = [d.toordinal() for d in (rule.end, valid_to) if d is not None]
    return first, min(ends) if ends else UNBOUNDED


def _is_count(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and value > 0


_PARAMETER_CHECKS: dict[str, tuple[Callable[[Any], bool], str]] = {
    "stay.limit_days": (_is_count, "a whole number of days above 0"),
    "stay.window_days": (_is_count, "a whole number of days above 0"),
    "stay.count_exit_day": (lambda v: isinstance(v, bool), "true or false"),
}


def _value_problems(policy: Policy) -> list[Problem]:
    """Values of the wrong shape for the mechanism, each at its file and line."""
    problems = []
    for name, (is_valid, expected) in _PARAMETER_CHECKS.items():
        for index, dated in enumerate(policy.parameters[name].values):
            if dated.value is not None and not is_valid(dated.value):
                problems.append(
                    Problem(
                        policy.where("parameters", name, "values", index, "value"),
                        f"{name} must be {expected}, not {dated.value!r}",
                    )
                )
    regimes = policy.tables["stay.regimes"].rows
    for key, values in regimes.items():
        for index, dated in enumerate(values):
            if dated.value is not None and not _is_regime(dated.value):
                problems.append(
                    Problem(
                        policy.where("tables", "stay.regimes", "rows", key, index, "value"),
                        "a regime is {subject: true|false, per_entry_days: a number of days or null, "
                        "window_total_days: a number of days or null, provisional: true|false (optional)}",
                    )
                )
    for key, values in policy.tables["stay.regime_of_citizenship"].rows.items():
        if not is_country_code(key):
            problems.append(
                Problem(
                    policy.where("tables", "stay.regime_of_citizenship", "rows", key),
                    f"{key!r} is not an ISO 3166-1 alpha-2 country code (a citizenship is one)",
                )
            )
        for index, dated in enumerate(values):
            if dated.value is not None and dated.value not in regimes:
                problems.append(
                    Problem(
                        policy.where("tables", "stay.regime_of_citizenship", "rows", key, index, "value"),
                        f"regime {dated.value!r} is not in table stay.regimes"
                        + did_you_mean(str(dated.value), regimes),
                    )
                )
    return problems


def _is_regime(value: Any) -> bool:
    if not isinstance(value, dict) or set(value) - _REGIME_KEYS:
        return False
    cap = value.get("per_entry_days")
    total = value.get("window_total_days")
    return (
        isinstance(value.get("subject"), bool)
        and (cap is None or _is_count(cap))
        and (total is None or _is_count(total))
        and isinstance(value.get("provisional", False), bool)
    )


def _differ(one: RegimeTerms, other: RegimeTerms) -> bool:
    """Whether two terms differ in anything but their first day."""
    return (one.regime, one.subject, one.per_entry_days, one.window_total, one.provisional) != (
        other.regime,
        other.subject,
        other.per_entry_days,
        other.window_total,
        other.provisional,
    )


def _schedule(policy: Policy, name: str) -> Schedule:
    """A whole-number parameter as the counter reads it (its values are checked on load)."""
    timeline = policy.parameter_timeline(name)
    values = tuple(None if v.value is None else int(v.value) for v in timeline.values)
    return Schedule(name, timeline.starts, values)
