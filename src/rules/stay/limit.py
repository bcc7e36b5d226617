"""The stay limit's mechanism: days of stay counted in a sliding window, as named facts.

The policy's ``stay`` programme names this mechanism (``mechanism: stay_limit``). The policy
supplies everything legal: parameters ``stay.limit_days``, ``stay.window_days`` and
``stay.count_exit_day``; tables ``stay.regime_of_citizenship`` (citizenship -> regime) and
``stay.regimes`` (regime -> ``{subject, per_entry_days}``); the base rule ``stay.limit``, whose
``from`` date is the day counting starts (the limit is not retroactive); every rule with
``exempts: <status kind>``, whose in-force period, intersected with the validity of a status
of that kind, is a period of days not counted; ``crossings.default_time_zone`` and the table
``crossings.border_posts`` for records given as border crossings; and the registration
parameters (:mod:`rules.stay.registration`).

The mechanism supplies the facts of :data:`STAY_FACTS` to the rules, and builds the verdict's
``stay`` section, which holds the decisions of the programmes reported in its slots
(``stay.sanction``, ``stay.entry_check``) and the registration due.
"""

from __future__ import annotations

import bisect
import datetime as dt
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any, ClassVar

from models.person import Person
from models.policy import Rule
from models.verdict import (
    Decision,
    OverstayPeriod,
    RegistrationDue,
    SourceRef,
    StayResult,
    StayStatus,
    TraceEntry,
    built,
)
from rules.errors import EvaluationError, PolicyError, Problem, did_you_mean
from rules.policy.loader import Policy
from rules.policy.mechanisms import Derived, MechanismFact
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
    RegistrationFacts,
    registration_due,
    registration_problems,
)
from rules.stay.window import (
    UNBOUNDED,
    ExemptPeriod,
    NoValueInForce,
    Schedule,
    StayFigures,
    TripSpan,
    WindowRules,
    count_stay,
)

__all__ = ["STAY_FACTS", "StayDerived", "StayLimit"]

_PARAMETERS = ("stay.limit_days", "stay.window_days", "stay.count_exit_day")
_TABLES = ("stay.regime_of_citizenship", "stay.regimes")
DEFAULT_TIME_ZONE = "crossings.default_time_zone"
_LAST_ORDINAL = dt.date.max.toordinal()
BORDER_POSTS = "crossings.border_posts"

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


@dataclass(frozen=True)
class StayDerived:
    """The facts of the stay limit for one record on one date, and the figures behind them."""

    fact: dict[str, Any]
    figures: StayFigures | None
    per_entry_limit: int | None
    limit: int | None
    window: int | None
    warnings: tuple[str, ...]


class StayLimit:
    """The stay limit's mechanism for one policy (see the module docstring)."""

    facts: ClassVar[Mapping[str, MechanismFact]] = STAY_FACTS
    slots: ClassVar[tuple[str, ...]] = ("sanction", "entry_check")
    exemption_fact: ClassVar[str | None] = "statuses"
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

    def __init__(self, policy: Policy, programme: str = "stay") -> None:
        problems = self.problems(policy, programme)
        if problems:
            raise PolicyError(f"policy {policy.name} cannot decide the stay limit", problems)
        self.policy = policy
        self.programme = programme
        rules = {rule.id: rule for rule in policy.rules_of(programme)}
        self.base = rules[f"{programme}.limit"]
        self.exemptions: tuple[Rule, ...] = tuple(r for r in rules.values() if r.exempts)
        self._caps: dict[str, tuple[tuple[int, ...], tuple[int | None, ...]]] = {}
        self._limits = _schedule(policy, "stay.limit_days")
        self._windows = _schedule(policy, "stay.window_days")
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
        base = f"{programme}.limit"
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
        record, read_warnings = self._trips_from_crossings(person, as_of)
        stay = self.derive_stay(record, as_of)
        facts = {name: value for name, value in stay.fact.items() if name not in ("id", "t", "as_of")}
        # The registration facts are computed only when a rule reads them (art. 518 for hosts).
        with_registration = RegistrationFacts(facts, self.policy, record, as_of)
        return Derived(with_registration, record, (*read_warnings, *stay.warnings), stay)

    def section(
        self,
        derived: Derived,
        status: str,
        missing: tuple[str, ...],
        slots: Mapping[str, Decision],
        warnings: list[str],
    ) -> StayResult:
        stay: StayDerived = derived.state
        as_of = dt.date.fromordinal(stay.fact["as_of"])
        return self.result(
            stay,
            StayStatus(status),
            missing,
            sanction=slots.get("sanction"),
            entry_check=slots.get("entry_check"),
            registration=self._registration(derived.person, as_of, warnings),
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
        if stay.figures is None:
            return []
        entries = []
        for rule in self.exemptions:
            removed = stay.figures.exempt_days_by_rule.get(rule.id, 0)
            if removed and rule.id not in fired:
                entries.append(
                    TraceEntry(
                        rule=rule.id,
                        title=rule.title,
                        source=self._sources[rule.id],
                        in_force=(rule.start, rule.end),
                        outcome="days_not_counted",
                        facts={"status": rule.exempts, "days_not_counted": removed},
                        note="the status covered earlier days of stay, not the evaluation date",
                    )
                )
        return entries

    # --- counting -----------------------------------------------------------------------------

    def derive_stay(self, person: Person, as_of: dt.date) -> StayDerived:
        """The stay facts for a record whose trips are known (planning calls this directly)."""
        policy = self.policy
        day = as_of.toordinal()
        warnings: list[str] = []
        fact: dict[str, Any] = {
            "as_of": day,
            "trips_recorded": person.trips is not None,
            "statuses": tuple(sorted({s.kind for s in person.statuses if s.covers(as_of)})),
        }
        regime = None
        if person.citizenship is not None:
            fact["citizenship"] = person.citizenship
            found = policy.row("stay.regime_of_citizenship", person.citizenship, day)
            if found is not None:
                fact["regime"] = regime = found.value
                terms = policy.row("stay.regimes", regime, day)
                fact["subject"] = bool(terms is not None and terms.value["subject"])
        limit = window = per_entry = None
        figures = None
        if fact.get("subject") and person.trips is not None and self.base.in_force(as_of):
            per_entry = self.per_entry_cap(person.citizenship, day)
            figures, limit, window = self._count(person, as_of)
            fact.update(
                days_used=figures.days_used,
                overstay_days=figures.overstay_count,
                exempt_days=figures.exempt_days,
                present=figures.present,
                entered_today=any(trip.entry == as_of for trip in person.trips),
                over_limit=figures.days_used > limit,
            )
            if figures.periods:
                first, last = figures.periods[-1]
                fact["overstay_period_days"] = last - first + 1
                fact["overstay_period_end"] = dt.date.fromordinal(last)
                fact["overstay_period_start"] = dt.date.fromordinal(first)
            if len(figures.periods) > 1:
                first, last = figures.periods[-2]
                fact["previous_overstay_period_days"] = last - first + 1
                fact["previous_overstay_period_end"] = dt.date.fromordinal(last)
            warnings.extend(later_trips(person.trips, as_of))
            latest = figures.latest_exit
            warnings.extend(
                ending_exemptions(
                    policy,
                    self.exemptions,
                    person.statuses,
                    as_of,
                    dt.date.fromordinal(latest) if latest is not None and latest <= _LAST_ORDINAL else None,
                )
            )
            if figures.latest_exit_unbounded:
                warnings.append(
                    "an exemption covers every later day with no end date: no latest exit applies"
                )
        return StayDerived(fact, figures, per_entry, limit, window, tuple(warnings))

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
        # Every value below is already what validation keeps: built without validating again.
        if figures is None:
            return built(
                StayResult,
                {
                    "status": status,
                    "limit": derived.limit,
                    "window": derived.window,
                    "missing": missing,
                    "sanction": sanction,
                    "entry_check": entry_check,
                    "registration": registration,
                },
            )
        latest = figures.latest_exit
        # A latest exit beyond the calendar's last day (an evaluation in year 9999) is none.
        show_latest = (
            status in (StayStatus.COMPLIANT, StayStatus.OVERSTAY, StayStatus.EXEMPT)
            and latest is not None
            and latest <= _LAST_ORDINAL
        )
        fromordinal = dt.date.fromordinal
        return built(
            StayResult,
            {
                "status": status,
                "days_used": figures.days_used,
                "limit": derived.limit,
                "window": derived.window,
                "per_entry_limit": derived.per_entry_limit,
                "overstay_days": figures.overstay_count,
                "overstay_now": bool(
                    figures.present and figures.periods and figures.periods[-1][1] == derived.fact["as_of"]
                ),
                "overstay_periods": tuple(
                    built(
                        OverstayPeriod,
                        {"start": fromordinal(first), "end": fromordinal(last), "days": last - first + 1},
                    )
                    for first, last in figures.periods
                ),
                "exempt_days": figures.exempt_days,
                "latest_exit": fromordinal(latest) if show_latest and latest else None,
                "missing": missing,
                "sanction": sanction,
                "entry_check": entry_check,
                "registration": registration,
            },
        )

    def per_entry_cap(self, citizenship: str | None, day: int) -> int | None:
        """The per-entry cap of the regime of ``citizenship`` on ``day`` (one look-up per trip)."""
        if citizenship is None:
            return None
        schedule = self._caps.get(citizenship)
        if schedule is None:
            schedule = self._caps[citizenship] = self._cap_schedule(citizenship)
        starts, caps = schedule
        index = bisect.bisect_right(starts, day) - 1
        return caps[index] if index >= 0 else None

    def _cap_schedule(self, citizenship: str) -> tuple[tuple[int, ...], tuple[int | None, ...]]:
        """The days the cap of ``citizenship`` may change (its row's or any regime's dates)."""
        rows = self.policy.tables["stay.regime_of_citizenship"].rows
        days = {value.start.toordinal() for value in rows.get(citizenship, ())}
        for values in self.policy.tables["stay.regimes"].rows.values():
            days.update(value.start.toordinal() for value in values)
        ordered = tuple(sorted(days))
        return ordered, tuple(self._cap_on(citizenship, day) for day in ordered)

    def _cap_on(self, citizenship: str, day: int) -> int | None:
        regime = self.policy.row("stay.regime_of_citizenship", citizenship, day)
        if regime is None:
            return None
        terms = self.policy.row("stay.regimes", regime.value, day)
        if terms is None:
            return None
        cap = terms.value.get("per_entry_days")
        return int(cap) if cap is not None else None

    def exempt_periods(self, person: Person) -> list[ExemptPeriod]:
        """The days each exemption covers: its rule's in-force period intersected with the
        validity of each of the person's statuses of its kind (``UNBOUNDED``: no end)."""
        return [
            ExemptPeriod(rule.id, first, last)
            for rule in self.exemptions
            for status in person.statuses
            if status.kind == rule.exempts
            for first, last in [_intersect(rule, status.valid_from, status.valid_to)]
            if first <= last
        ]

    def _count(self, person: Person, as_of: dt.date) -> tuple[StayFigures, int, int]:
        """The counter's figures, with the limit and window in force on ``as_of``."""
        day = as_of.toordinal()
        citizenship = person.citizenship
        cap = self.per_entry_cap(citizenship, day)
        # One cap for every trip counted (those entering from the day counting starts): the
        # usual case, looked up once.
        starts, caps = self._caps.get(citizenship or "", ((), (None,)))
        constant = len(set(caps)) == 1 and (not starts or starts[0] <= self.base.start.toordinal())
        # One loop, each span made as the tuple it is (a NamedTuple's own constructor is a
        # Python function): the hot path of every record with trips.
        spans: list[TripSpan] = []
        make = tuple.__new__
        for trip in person.trips or ():
            if trip.entry > as_of:
                continue
            entry = trip.entry.toordinal()
            exit_ = trip.exit
            spans.append(
                make(
                    TripSpan,
                    (
                        entry,
                        exit_.toordinal() if exit_ is not None else day,
                        exit_ is not None,
                        cap if constant else self.per_entry_cap(citizenship, entry),
                    ),
                )
            )
        trips = tuple(spans)
        exempt = self.exempt_periods(person)
        count_exit_day = bool(self.policy.parameter("stay.count_exit_day", day).value)
        rules = WindowRules(
            counting_starts=self.base.start.toordinal(),
            limits=self._limits,
            windows=self._windows,
            count_exit_day=count_exit_day,
        )
        try:
            limit, window, _ = rules.terms(day)
            return count_stay(trips, day, rules, exempt), limit, window
        except NoValueInForce as missing:
            raise EvaluationError(
                f"parameter {missing.name!r} of policy {self.policy.name} has no value on "
                f"{dt.date.fromordinal(missing.day)}, a day the stay limit must judge"
            ) from None

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
        current = next(
            (
                trip
                for trip in reversed(person.trips or ())
                if trip.entry <= as_of and (trip.exit is None or trip.exit >= as_of)
            ),
            None,
        )
        if current is None or person.citizenship is None:
            return None
        regime = self.policy.row("stay.regime_of_citizenship", person.citizenship, current.entry)
        if regime is None:
            return None
        try:
            due = registration_due(self.policy, current.entry, regime.value)
        except EvaluationError as error:
            warnings.append(f"registration of the entry on {current.entry}: {error.summary}")
            return None
        if due is None:
            return None
        due = registration_state(due, current, as_of)
        late = registration_warning(due, as_of)
        if late is not None:
            warnings.append(late)
        return due


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
                        "a regime is {subject: true|false, per_entry_days: a number of days or null}",
                    )
                )
    for key, values in policy.tables["stay.regime_of_citizenship"].rows.items():
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
    if not isinstance(value, dict) or set(value) - {"subject", "per_entry_days"}:
        return False
    cap = value.get("per_entry_days")
    return isinstance(value.get("subject"), bool) and (cap is None or _is_count(cap))


def _schedule(policy: Policy, name: str) -> Schedule:
    """A whole-number parameter as the counter reads it (its values are checked on load)."""
    timeline = policy.parameter_timeline(name)
    values = tuple(None if v.value is None else int(v.value) for v in timeline.values)
    return Schedule(name, timeline.starts, values)
