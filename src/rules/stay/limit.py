"""The stay-limit programme: derive the ``stay`` fact from a record, and read the verdict back.

The policy supplies everything legal: parameters ``stay.limit_days``, ``stay.window_days``
and ``stay.count_exit_day``; tables ``stay.regime_of_citizenship`` (citizenship -> regime)
and ``stay.regimes`` (regime -> ``{subject, per_entry_days}``); the base rule ``stay.limit``,
whose ``from`` date is the day counting starts (the limit is not retroactive); and every rule
with ``exempts: <status kind>``, whose in-force period, intersected with the validity of a
status of that kind, is a period of days not counted.
"""

from __future__ import annotations

import bisect
import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from models.person import Person
from models.policy import Rule
from models.verdict import Decision, OverstayPeriod, RegistrationDue, StayResult, StayStatus
from rules.errors import EvaluationError, PolicyError, Problem, did_you_mean
from rules.policy.loader import Policy
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

__all__ = ["BASE_RULE", "Derived", "StayProgramme"]

PROGRAMME = "stay"
BASE_RULE = "stay.limit"
_PARAMETERS = ("stay.limit_days", "stay.window_days", "stay.count_exit_day")
_TABLES = ("stay.regime_of_citizenship", "stay.regimes")


@dataclass(frozen=True)
class Derived:
    """The ``stay`` fact asserted into the engine, and the figures behind it."""

    fact: dict[str, Any]
    figures: StayFigures | None
    per_entry_limit: int | None
    limit: int | None
    window: int | None
    warnings: tuple[str, ...]


class StayProgramme:
    """The stay limit of one policy: checks the policy has what the mechanism needs."""

    def __init__(self, policy: Policy) -> None:
        self.policy = policy
        problems = [
            Problem(f"policy {policy.name}", f"parameter {name!r} is required by the stay limit")
            for name in _PARAMETERS
            if name not in policy.parameters
        ] + [
            Problem(f"policy {policy.name}", f"table {name!r} is required by the stay limit")
            for name in _TABLES
            if name not in policy.tables
        ]
        known = {status.value for status in StayStatus}
        programme = policy.programmes.get(PROGRAMME)
        if programme is None:
            problems.append(Problem(f"policy {policy.name} at policy.programmes", "no 'stay' programme"))
        unknown = [status for status in (programme.precedence if programme else ()) if status not in known]
        if unknown:
            problems.append(
                Problem(
                    f"policy {policy.name} at policy.programmes.stay.precedence",
                    f"the stay limit decides only {', '.join(sorted(known))}; not {', '.join(unknown)}",
                )
            )
        rules = {rule.id: rule for rule in policy.rules_of(PROGRAMME)}
        base = rules.get(BASE_RULE)
        if base is None:
            problems.append(
                Problem(f"policy {policy.name}", f"rule {BASE_RULE!r} (the base limit) is required")
            )
        if not problems:
            problems.extend(_value_problems(policy))
        if problems or base is None:
            raise PolicyError(f"policy {policy.name} cannot decide the stay limit", problems)
        self.base = base
        self.exemptions: tuple[Rule, ...] = tuple(r for r in rules.values() if r.exempts)
        self._caps: dict[str, tuple[tuple[int, ...], tuple[int | None, ...]]] = {}
        self._limits = _schedule(policy, "stay.limit_days")
        self._windows = _schedule(policy, "stay.window_days")

    def derive(self, person: Person, as_of: dt.date) -> Derived:
        """The ``stay`` fact for ``person`` on ``as_of``: what the rules will see."""
        policy = self.policy
        day = as_of.toordinal()
        warnings: list[str] = []
        fact: dict[str, Any] = {
            "id": "stay",
            "t": PROGRAMME,
            "as_of": day,
            "trips_recorded": person.trips is not None,
            "statuses": sorted({s.kind for s in person.statuses if s.covers(as_of)}),
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
                overstay_days=len(figures.overstay_days),
                exempt_days=figures.exempt_days,
                present=figures.present,
            )
            later = sum(1 for trip in person.trips if trip.entry > as_of)
            if later:
                warnings.append(
                    f"{later} trip(s) entering after {as_of} were not counted: only the record "
                    "up to the evaluation date is seen"
                )
            if figures.latest_exit_unbounded:
                warnings.append(
                    "an exemption covers every later day with no end date: no latest exit applies"
                )
        return Derived(fact, figures, per_entry, limit, window, tuple(warnings))

    def result(
        self,
        derived: Derived,
        status: StayStatus,
        missing: tuple[str, ...],
        sanction: Decision | None = None,
        entry_check: Decision | None = None,
        registration: RegistrationDue | None = None,
    ) -> StayResult:
        """The stay section of the verdict, from the derived figures and the decided statuses."""
        figures = derived.figures
        if figures is None:
            return StayResult(
                status=status,
                limit=derived.limit,
                window=derived.window,
                missing=missing,
                sanction=sanction,
                entry_check=entry_check,
                registration=registration,
            )
        latest = figures.latest_exit
        show_latest = status in (StayStatus.COMPLIANT, StayStatus.OVERSTAY) and latest is not None
        return StayResult(
            status=status,
            days_used=figures.days_used,
            limit=derived.limit,
            window=derived.window,
            per_entry_limit=derived.per_entry_limit,
            overstay_days=len(figures.overstay_days),
            overstay_periods=tuple(
                OverstayPeriod.model_validate(
                    {
                        "from": dt.date.fromordinal(first),
                        "to": dt.date.fromordinal(last),
                        "days": last - first + 1,
                    }
                )
                for first, last in figures.periods
            ),
            exempt_days=figures.exempt_days,
            latest_exit=dt.date.fromordinal(latest) if show_latest and latest else None,
            missing=missing,
            sanction=sanction,
            entry_check=entry_check,
            registration=registration,
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
        trips = tuple(
            TripSpan(
                entry=trip.entry.toordinal(),
                last=trip.exit.toordinal() if trip.exit is not None else day,
                has_exit=trip.exit is not None,
                per_entry_cap=self.per_entry_cap(person.citizenship, trip.entry.toordinal()),
            )
            for trip in person.trips or ()
            if trip.entry <= as_of
        )
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
