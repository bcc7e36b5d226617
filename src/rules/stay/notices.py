"""What a caseworker must be told beside the stay figures: the warnings and states that read
the record around the evaluation date.

Three things a verdict on one day can hide:

* trips that enter or run after the evaluation date (the verdict sees the record up to that
  day only, so they are named, with their dates, instead of being dropped without a word);
* an exempt status that ends soon: the person is exempt today, but from the day after the
  status ends the days count again, so the notice gives that day and the latest exit after it.
  How soon is "soon" is a project decision kept in the policy (parameter
  :data:`EXEMPTION_NOTICE_DAYS`; without it, no notice is given);
* the registration of the current trip: done (on or before its due day), done late, still due,
  or overdue, from the trip's optional ``registered_on``.

Nothing here decides a status: the rules do. These are the notes that make a verdict read right.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Sequence
from typing import Literal

from models.person import Status, Trip
from models.policy import Rule
from models.verdict import RegistrationDue, copied
from rules.errors import EvaluationError, Problem
from rules.policy.loaded import Policy

__all__ = [
    "EXEMPTION_NOTICE_DAYS",
    "RegistrationState",
    "ending_exemptions",
    "later_trips",
    "notice_problems",
    "registration_state",
    "registration_warning",
]

#: The parameter that says how many days ahead the end of an exempt status is announced.
EXEMPTION_NOTICE_DAYS = "stay.exemption_ending_notice_days"

RegistrationState = Literal["done", "done_late", "due", "overdue"]


def later_trips(trips: Sequence[Trip], as_of: dt.date) -> list[str]:
    """Warnings for the trips the verdict of ``as_of`` does not see, or sees only in part."""
    after = [trip for trip in trips if trip.entry > as_of]
    running = [trip for trip in trips if trip.entry <= as_of and trip.exit is not None and trip.exit > as_of]
    warnings = []
    if after:
        entries = ", ".join(str(trip.entry) for trip in after[:5]) + (", ..." if len(after) > 5 else "")
        warnings.append(
            f"{len(after)} trip(s) entering after {as_of} (on {entries}) are not counted: the "
            "verdict sees the record up to that day; kzmig plan checks a future stay"
        )
    for trip in running:
        warnings.append(
            f"the trip entering on {trip.entry} leaves on {trip.exit}, after {as_of}: only its days "
            "up to that day are counted"
        )
    return warnings


def ending_exemptions(
    policy: Policy,
    exemptions: Iterable[Rule],
    statuses: Sequence[Status],
    as_of: dt.date,
    latest_exit: dt.date | None,
) -> list[str]:
    """Warnings for the exempt statuses valid on ``as_of`` that end within the notice period.

    ``latest_exit`` is the last day the person may stay if they stay on (the exempt days not
    counted, the days after the status ends counted): the notice gives it."""
    if not statuses:
        return []  # most records: no status, nothing to look up
    notice = _notice_days(policy, as_of)
    if notice is None:
        return []
    kinds = {rule.exempts for rule in exemptions if rule.exempts is not None and rule.in_force(as_of)}
    warnings = []
    for status in statuses:
        if status.kind not in kinds or not status.covers(as_of) or status.valid_to is None:
            continue
        left = (status.valid_to - as_of).days
        if left > notice:
            continue
        counting = status.valid_to + dt.timedelta(days=1)
        ends = (
            f"the exempt status {status.kind} ends on {status.valid_to}, {left} day(s) after {as_of}: "
            f"from {counting} the days of stay count towards the limit again"
        )
        if latest_exit is not None:
            warnings.append(f"{ends}; latest exit if staying on: {latest_exit}")
        else:
            warnings.append(f"{ends}; no latest exit can be given (see the figures)")
    return warnings


def registration_state(due: RegistrationDue, trip: Trip, as_of: dt.date) -> RegistrationDue:
    """``due`` with the state of the trip's registration on ``as_of`` (and its day, if done)."""
    state: RegistrationState
    if trip.registered_on is not None and trip.registered_on <= as_of:
        state = "done" if trip.registered_on <= due.due else "done_late"
        return copied(due, {"state": state, "registered_on": trip.registered_on})
    state = "due" if as_of <= due.due else "overdue"
    return copied(due, {"state": state})  # as model_copy, without its general copy


def registration_warning(due: RegistrationDue, as_of: dt.date) -> str | None:
    """A warning for a registration overdue or done late; none otherwise."""
    procedure = due.procedure.replace("_", " ")
    if due.state == "overdue":
        late = (as_of - due.due).days
        return (
            f"registration overdue: {procedure} after the entry on {due.entry}, due by {due.due}, "
            f"{late} day(s) ago; the record gives no registered_on"
        )
    if due.state == "done_late" and due.registered_on is not None:
        late = (due.registered_on - due.due).days
        return (
            f"registration done late: {procedure} after the entry on {due.entry}, due by {due.due}, "
            f"done on {due.registered_on}, {late} day(s) late"
        )
    return None


def notice_problems(policy: Policy) -> list[Problem]:
    """Values of :data:`EXEMPTION_NOTICE_DAYS` that are not a whole number of days, at their line."""
    parameter = policy.parameters.get(EXEMPTION_NOTICE_DAYS)
    if parameter is None:
        return []
    return [
        Problem(
            policy.where("parameters", EXEMPTION_NOTICE_DAYS, "values", index, "value"),
            f"{EXEMPTION_NOTICE_DAYS} must be a whole number of days (0 or more), not {dated.value!r}",
        )
        for index, dated in enumerate(parameter.values)
        if dated.value is not None and not _is_whole_days(dated.value)
    ]


def _is_whole_days(value: object) -> bool:
    """A number of days: a whole number, 0 or more (not a boolean)."""
    return isinstance(value, int) and not isinstance(value, bool) and value >= 0


def _notice_days(policy: Policy, as_of: dt.date) -> int | None:
    if EXEMPTION_NOTICE_DAYS not in policy.parameters:
        return None
    try:
        value = policy.parameter(EXEMPTION_NOTICE_DAYS, as_of).value
    except EvaluationError:
        return None  # no value in force on that day: no notice
    return value if _is_whole_days(value) else None
