"""The text a caseworker reads for a plan: the answer in one line, the earliest entry, and why.

Every figure and rule shown comes from the :class:`models.plan.Plan`; nothing is recomputed.
In English by default, or in the language of a :class:`~rules.reports.language.Wording`.
"""

from __future__ import annotations

from models.plan import Plan, PlanBound, PlanStatus
from rules.reports.language import ENGLISH, N_, Wording, sentence
from rules.reports.text import trace_lines, warning_lines

__all__ = ["NOTES", "PLAN_WARNINGS", "render_plan_text"]

_BOUND = {
    PlanBound.WINDOW_LIMIT: N_("the limit of days in the window"),
    PlanBound.PER_ENTRY_LIMIT: N_("the per-entry limit"),
    PlanBound.BOOKED_TRIP: N_("a booked trip would overstay"),
    PlanBound.NEXT_BOOKING: N_("the next booked trip"),
}

#: The notes the planner writes whose words are the program's: shown translated, each slot
#: filled with what the planner wrote there (a note no template matches stays in English).
NOTES = (
    N_("the stay must end before the booked trip entering on {day}"),
    N_("a stay of {days} day(s) would make {day}, a day of a booked trip, an overstay day"),
    N_("a stay of {days} day(s) would make {day} an overstay day: beyond the {cap} days allowed per entry"),
    N_(
        "a stay of {days} day(s) would make {day} an overstay day: more than {limit} counted days "
        "in the {window} days ending on it"
    ),
    N_("no maximum: under this policy the window never fills and no per-entry cap applies"),
    N_("the stay limit does not apply on {day}: {why}"),
    N_("the stay limit does not apply on {day}"),
    N_("facts are missing ({facts}): no figure can be given"),
)

#: The warnings the planner writes about the record as it stands, translated the same way.
PLAN_WARNINGS = (
    N_(
        "the record holds {days} overstay day(s) before {day} ({periods}): they stay on the record, "
        "and forbid a new stay only where the window makes its own days overstay days"
    ),
    N_(
        "the booked trips hold {days} overstay day(s) even without a new stay ({periods}): no stay "
        "may begin on {day} until the bookings are changed"
    ),
)


def _answer(plan: Plan, words: Wording) -> str:
    _ = words.text
    if plan.status is PlanStatus.NOT_APPLICABLE:
        return _("NOT APPLICABLE - the stay limit does not apply on the day of entry")
    if plan.status is PlanStatus.UNDETERMINED:
        return _("UNDETERMINED - facts are missing: {facts}").format(facts=", ".join(plan.missing))
    if plan.status is PlanStatus.UNLIMITED:
        return _("may stay with no maximum (see why below)")
    bound = f" ({_(_BOUND[plan.limited_by])})" if plan.limited_by is not None else ""
    if not plan.max_stay_days:
        return _("may NOT stay: no day may be spent from {day}").format(day=words.date(plan.enter)) + bound
    exit_day = words.date(plan.latest_exit) if plan.latest_exit is not None else ""
    return _("may stay up to {days} days, until {day}").format(days=plan.max_stay_days, day=exit_day) + bound


def _earliest(plan: Plan, words: Wording) -> str | None:
    if plan.status in (PlanStatus.NOT_APPLICABLE, PlanStatus.UNDETERMINED):
        return None
    stay = words.plural("a stay of {days} day", "a stay of {days} days", plan.days).format(days=plan.days)
    if plan.earliest_entry is None:
        return words.text("earliest entry for {stay}: none - no day allows it (see the notes)").format(
            stay=stay
        )
    return words.text("earliest entry for {stay}: {day}").format(
        stay=stay, day=words.date(plan.earliest_entry)
    )


def render_plan_text(plan: Plan, words: Wording = ENGLISH) -> str:
    """A readable report of ``plan``: who, when, the answer, the earliest entry, and why, in
    the language of ``words`` (English by default)."""
    _ = words.text
    lines = [
        _("Person {person} entering on {day}  (policy {policy} {version})").format(
            person=plan.person_id,
            day=words.date(plan.enter),
            policy=plan.policy.name,
            version=plan.policy.version,
        ),
        "",
        _("Stay limit: {answer}").format(answer=_answer(plan, words)),
    ]
    earliest = _earliest(plan, words)
    if earliest is not None:
        lines.append(f"  {earliest}")
    lines += [f"  - {sentence(note, NOTES, words)}" for note in plan.notes]
    as_of = next((e.facts.get("as_of") for e in plan.trace if "as_of" in e.facts), None)
    planned = plan.status in (PlanStatus.LIMITED, PlanStatus.UNLIMITED)
    if as_of is None:
        why = _("Why (* decided, + applied, - set aside by an exception):")
    elif planned:
        why = _(
            "Why (* decided, + applied, - set aside by an exception), for the record with the planned "
            "stay on {day}:"
        ).format(day=words.day(as_of))
    else:
        why = _("Why (* decided, + applied, - set aside by an exception), for the record on {day}:").format(
            day=words.day(as_of)
        )
    lines += ["", why]
    for entry in plan.trace:
        lines += trace_lines(entry, words)
    lines += warning_lines(plan.warnings, words, PLAN_WARNINGS)
    return "\n".join(lines)
