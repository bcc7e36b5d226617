"""The text a caseworker reads for a plan: the answer in one line, the earliest entry, and why.

Every figure and rule shown comes from the :class:`models.plan.Plan`; nothing is recomputed.
"""

from __future__ import annotations

from models.plan import Plan, PlanBound, PlanStatus
from rules.reports.text import trace_lines, warning_lines

__all__ = ["render_plan_text"]

_BOUND = {
    PlanBound.WINDOW_LIMIT: "the limit of days in the window",
    PlanBound.PER_ENTRY_LIMIT: "the per-entry limit",
    PlanBound.BOOKED_TRIP: "a booked trip would overstay",
    PlanBound.NEXT_BOOKING: "the next booked trip",
}


def _answer(plan: Plan) -> str:
    if plan.status is PlanStatus.NOT_APPLICABLE:
        return "NOT APPLICABLE - the stay limit does not apply on the day of entry"
    if plan.status is PlanStatus.UNDETERMINED:
        return "UNDETERMINED - facts are missing: " + ", ".join(plan.missing)
    if plan.status is PlanStatus.UNLIMITED:
        return "may stay with no maximum (see why below)"
    bound = f" ({_BOUND[plan.limited_by]})" if plan.limited_by is not None else ""
    if not plan.max_stay_days:
        return f"may NOT stay: no day may be spent from {plan.enter}{bound}"
    return f"may stay up to {plan.max_stay_days} days, until {plan.latest_exit}{bound}"


def _earliest(plan: Plan) -> str | None:
    if plan.status in (PlanStatus.NOT_APPLICABLE, PlanStatus.UNDETERMINED):
        return None
    stay = f"a stay of {plan.days} day{'s' if plan.days != 1 else ''}"
    if plan.earliest_entry is None:
        return f"earliest entry for {stay}: none - no day allows it (see the notes)"
    return f"earliest entry for {stay}: {plan.earliest_entry}"


def render_plan_text(plan: Plan) -> str:
    """A readable report of ``plan``: who, when, the answer, the earliest entry, and why."""
    policy = f"{plan.policy.name} {plan.policy.version}"
    lines = [
        f"Person {plan.person_id} entering on {plan.enter}  (policy {policy})",
        "",
        f"Stay limit: {_answer(plan)}",
    ]
    earliest = _earliest(plan)
    if earliest is not None:
        lines.append(f"  {earliest}")
    lines += [f"  - {note}" for note in plan.notes]
    as_of = next((e.facts.get("as_of") for e in plan.trace if "as_of" in e.facts), None)
    planned = plan.status in (PlanStatus.LIMITED, PlanStatus.UNLIMITED)
    record = "the record with the planned stay" if planned else "the record"
    seen = f", for {record} on {as_of}" if as_of is not None else ""
    lines += ["", f"Why (* decided, + applied, - set aside by an exception){seen}:"]
    for entry in plan.trace:
        lines += trace_lines(entry)
    lines += warning_lines(plan.warnings)
    return "\n".join(lines)
