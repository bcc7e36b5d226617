"""The text a caseworker reads: the verdict, its figures, and why, rule by rule.

In English by default; given a :class:`~rules.reports.language.Wording`, in Russian or Kazakh:
the program's words from the catalogues, the titles and notes of the law from the policy where
it gives them in that language, dates and amounts written that language's way. Rule ids, fact
names and legal citations stay as the policy writes them, so a reader can look them up.
"""

from __future__ import annotations

from typing import Any

from models.verdict import (
    Decision,
    ProgrammeSection,
    RegistrationDue,
    StayResult,
    StayStatus,
    TraceEntry,
    Verdict,
)
from rules.reports.language import ENGLISH, LABEL, N_, Wording, sentence

__all__ = ["render_text", "section_lines", "stay_headline_key", "trace_lines", "warning_lines"]

_CHECK = {
    "met": N_("met"),
    "failed": N_("FAILED"),
    "unknown": N_("unknown"),
    "set_aside": N_("set aside"),
    "not_in_force": N_("not in force"),
}

_HEADLINE = {
    StayStatus.COMPLIANT: N_("COMPLIANT - no day of stay breaks the limit"),
    StayStatus.OVERSTAY: N_("OVERSTAY - the record holds days beyond the limit"),
    # An overstay verdict whose evaluation date is not itself an overstay day reads as past.
    "overstay_now": N_("OVERSTAY NOW - the person is in the country beyond the limit"),
    "overstay_past": N_(
        "OVERSTAY IN THE PAST - no overstay on this day; the record holds earlier overstay days"
    ),
    StayStatus.EXEMPT: N_("EXEMPT - a valid exempt status covers the evaluation date"),
    StayStatus.NOT_APPLICABLE: N_("NOT APPLICABLE - the stay limit does not apply"),
    StayStatus.UNDETERMINED: N_("UNDETERMINED - facts are missing"),
}

#: The warnings the engine writes: shown translated, each slot filled with what the engine
#: wrote there (a programme's own warning text in the policy's form in the language, if any).
WARNINGS = (
    # The stay mechanism's own sentences (rules.stay.limit) and notices (rules.stay.notices).
    N_(
        "policy {policy} has no row {key} in table {table} on {day}: the stay regime of this "
        "nationality is not encoded, so the limit cannot be applied (a gap in the policy, not a fact "
        "to supply)"
    ),
    N_(
        "{count} trip(s) entering on {entries} were not counted: the regime of {citizenship} on the "
        "entry day was outside the limit (table {table})"
    ),
    N_(
        "table {table} row {regime} is provisional from {day}: the sources do not publish it as "
        "encoded (per entry {per_entry} days, {total} in the window); the verdict rests on it"
    ),
    N_("an exemption covers every later day with no end date: no latest exit applies"),
    N_(
        "{count} trip(s) entering after {day} (on {entries}) are not counted: the verdict sees the "
        "record up to that day; kzmig plan checks a future stay"
    ),
    N_(
        "the trip entering on {entry} leaves on {exit}, after {day}: only its days up to that day are counted"
    ),
    N_(
        "the exempt status {kind} ends on {end}, {count} day(s) after {day}: from {first} the days of "
        "stay count towards the limit again; latest exit if staying on: {latest}"
    ),
    N_(
        "the exempt status {kind} ends on {end}, {count} day(s) after {day}: from {first} the days of "
        "stay count towards the limit again; no latest exit can be given (see the figures)"
    ),
    N_(
        "registration overdue: {procedure} after the entry on {entry}, due by {due}, {count} day(s) ago; "
        "the record gives no registered_on"
    ),
    N_(
        "registration done late: {procedure} after the entry on {entry}, due by {due}, done on {done}, "
        "{count} day(s) late"
    ),
    N_("rule {rule} is provisional: the sources do not publish it as encoded"),
    N_("parameter {parameter} is provisional: the sources do not publish it"),
    N_("the {programme} verdict rests on values the sources do not publish (provisional): {values}"),
    N_("{programme}: cannot check whether {text}: {reasons}"),
    N_("{programme}: {text}: {items}"),
    N_("{programme}: {text}"),
)


def _value(value: Any, words: Wording = ENGLISH) -> str:
    """A value for a reader: amounts with thousands separators, records as ``key value`` pairs,
    long lists of records counted rather than spelt out."""
    if isinstance(value, bool):
        return str(value).lower()
    if isinstance(value, int) and abs(value) >= 10_000:
        return words.amount(value)
    if isinstance(value, dict):
        return ", ".join(f"{key} {_value(item, words)}" for key, item in value.items())
    if isinstance(value, list | tuple):
        if not value:
            return words.text("none")
        if all(isinstance(item, dict) for item in value) and len(value) > 2:
            return words.plural("[{count} item]", "[{count} items]", len(value)).format(count=len(value))
        return "[" + "; ".join(_value(v, words) for v in value) + "]"
    return str(value)


def trace_lines(entry: TraceEntry, words: Wording = ENGLISH) -> list[str]:
    """One trace entry for a reader: the rule and its outcome, title, source, what it saw."""
    _ = words.text
    if entry.overridden_by:
        mark = "-"
        outcome = _("{outcome}, set aside by {rule}").format(
            outcome=words.code(entry.outcome), rule=entry.overridden_by
        )
    else:
        mark = "*" if entry.decisive else "+"
        outcome = words.code(entry.outcome)
    start, end = entry.in_force
    if end:
        span = _("rule in force from {start} to {end}").format(start=words.date(start), end=words.date(end))
    else:
        span = _("rule in force from {start}").format(start=words.date(start))
    act = (
        "  " + _("[act of {day}]").format(day=words.date(entry.source.date))
        if entry.source.date is not None
        else ""
    )
    lines = [
        f"  {mark} {entry.rule}  [{outcome}]",
        f"      {words.of_policy(entry.title)}",
        f"      {words.of_policy(entry.source.title)}{act}",
        f"      {entry.source.href} ({span})",
    ]
    if entry.facts:
        seen = ", ".join(f"{name}={_value(value, words)}" for name, value in entry.facts.items())
        lines.append("      " + _("saw: {facts}").format(facts=seen))
    if entry.missing:
        lines.append("      " + _("missing: {facts}").format(facts=", ".join(entry.missing)))
    if entry.note:
        lines.append("      " + _("note: {note}").format(note=words.of_policy(entry.note)))
    for derivation in entry.derivations:
        operands = ", ".join(f"{name}={_value(value, words)}" for name, value in derivation.operands.items())
        shown = _("unknown") if derivation.value is None else _value(derivation.value, words)
        line = _("computed: {fact} = {value}  ({formula} of {operands})").format(
            fact=derivation.fact, value=shown, formula=derivation.formula, operands=operands or _("constants")
        )
        lines.append(f"      {line}")
    return lines


def _names_provision(value: Any) -> bool:
    """Whether a decision's value names the provision of an offence (``{provision, start, end,
    days}``): the text shows the provision, the line it is on already shows the days."""
    return isinstance(value, dict) and isinstance(value.get("provision"), str)


def _decision(decision: Decision, words: Wording) -> str:
    """``FINE (fine_mci 10, fine_kzt 43,250) - provisional``: a decision on one line."""
    shown = ", ".join(
        words.text("{name} {value}").format(
            name=words.code(name, LABEL),
            value=words.amount(value)
            if isinstance(value, int) and not isinstance(value, bool)
            else _value(value, words),
        )
        for name, value in decision.values.items()
        if not _names_provision(value)
    )
    provisions = [str(value["provision"]) for value in decision.values.values() if _names_provision(value)]
    if provisions:  # the offence's provision first; its days are on the line already
        shown = "; ".join([*provisions, *([shown] if shown else [])])
    text = words.status(decision.status).upper() + (f" ({shown})" if shown else "")
    if decision.note:
        text += f" - {words.of_policy(decision.note)}"
    provisional = words.text(" - provisional: the sources do not publish this rule")
    return text + (provisional if decision.provisional else "")


def stay_headline_key(stay: StayResult) -> str:
    """Which headline the stay section takes: its status, except that an overstay verdict
    says whether the overstay is now (``overstay_now``) or in the past (``overstay_past``).
    The text and the printable report key their headlines by it."""
    if stay.status == StayStatus.OVERSTAY and stay.overstay_now is not None:
        return "overstay_now" if stay.overstay_now else "overstay_past"
    return stay.status.value


def _sanction_line(stay: StayResult, words: Wording) -> str:
    """The sanction, naming the overstay it is for (the latest run of overstay days)."""
    _ = words.text
    assert stay.sanction is not None
    decision = _decision(stay.sanction, words)
    if not stay.overstay_periods:
        return "  " + _("sanction for the latest overstay: {decision}").format(decision=decision)
    latest = stay.overstay_periods[-1]
    count = words.plural("{days} day(s)", "{days} day(s)", latest.days).format(days=latest.days)
    return "  " + _("sanction for the overstay of {start} to {end} ({count}): {decision}").format(
        start=words.date(latest.start), end=words.date(latest.end), count=count, decision=decision
    )


def _registration_line(due: RegistrationDue, words: Wording) -> str:
    """The registration of the current trip: its procedure, due day, and whether it was done."""
    _ = words.text
    if due.counted == "working_days":
        after = words.plural("{days} working day", "{days} working days", due.days)
    else:
        after = words.plural("{days} calendar day", "{days} calendar days", due.days)
    shown = {
        "procedure": words.status(due.procedure),
        "due": words.date(due.due),
        "after": after.format(days=due.days),
        "entry": words.date(due.entry),
        "done": words.date(due.registered_on) if due.registered_on is not None else "",
    }
    if due.state == "done":
        template = _(
            "registration: {procedure} done on {done}, due by {due} ({after} after the entry on {entry})"
        )
    elif due.state == "done_late":
        template = _(
            "registration: {procedure} done LATE on {done}, due by {due} ({after} after the entry on {entry})"
        )
    elif due.state == "overdue":
        template = _("registration: {procedure} OVERDUE, due by {due} ({after} after the entry on {entry})")
    else:
        template = _("registration: {procedure} due by {due} ({after} after the entry on {entry})")
    return "  " + template.format(**shown)


def render_text(verdict: Verdict, words: Wording = ENGLISH) -> str:
    """A readable report of ``verdict`` in the language of ``words`` (English by default);
    every figure and rule shown is from the verdict."""
    _ = words.text
    stay = verdict.stay
    day = words.date(verdict.as_of)
    lines = [
        _("Person {person} on {day}  (policy {policy} {version})").format(
            person=verdict.person_id, day=day, policy=verdict.policy.name, version=verdict.policy.version
        ),
        "",
        _("Stay limit: {headline}").format(headline=_(_HEADLINE[stay_headline_key(stay)])),
    ]
    if stay.missing:
        lines.append("  " + _("missing facts: {facts}").format(facts=", ".join(stay.missing)))
    if stay.days_used is not None:
        lines.append(
            "  "
            + _("days used in the {window}-day window ending {day}: {used} of {limit}").format(
                window=stay.window, day=day, used=stay.days_used, limit=stay.limit
            )
        )
        if stay.per_entry_limit is not None:
            lines.append("  " + _("per-entry limit: {days} days").format(days=stay.per_entry_limit))
        lines.append("  " + _("overstay days in the record: {days}").format(days=stay.overstay_days))
        for period in stay.overstay_periods:
            count = words.plural("{days} day(s)", "{days} day(s)", period.days).format(days=period.days)
            lines.append(
                "    "
                + _("{start} to {end}: {count}").format(
                    start=words.date(period.start), end=words.date(period.end), count=count
                )
            )
        lines.append("  " + _("days not counted (exemptions): {days}").format(days=stay.exempt_days))
        if stay.latest_exit is not None:
            lines.append(
                "  " + _("latest exit if staying on: {day}").format(day=words.date(stay.latest_exit))
            )
    if stay.sanction is not None:
        lines.append(_sanction_line(stay, words))
    if stay.entry_check is not None:
        lines.append(
            "  "
            + _("at the border on {day}: {decision}").format(
                day=day, decision=_decision(stay.entry_check, words)
            )
        )
    if stay.registration is not None:
        lines.append(_registration_line(stay.registration, words))
    for name, section in verdict.sections.items():
        lines += ["", *section_lines(name, section, words)]
    lines += ["", _("Why (* decided the verdict, + applied, - set aside by an exception):")]
    for entry in verdict.trace:
        lines += trace_lines(entry, words)
    lines += warning_lines(verdict.warnings, words)
    return "\n".join(lines)


def section_lines(name: str, section: ProgrammeSection, words: Wording = ENGLISH) -> list[str]:
    """A programme's own section for a reader: its status, then each value its policy reports
    (a list of rules as a checklist), with nothing added that the section does not hold."""
    _ = words.text
    headline = words.status(section.status).upper()
    provisional = "  " + _("(provisional)") if section.provisional else ""
    lines = [f"{words.of_policy(section.title)}: {headline}{provisional}"]
    if section.missing:
        lines.append("  " + _("missing facts: {facts}").format(facts=", ".join(section.missing)))
    document = section.model_dump(mode="json")
    absent = _("unknown") if section.missing else _("none")
    for key in section.model_extra or {}:
        value = document[key]
        label = words.label(key)
        if isinstance(value, list) and value and all(isinstance(item, dict) for item in value):
            lines.append(f"  {label}:")
            lines += [f"    {line}" for line in _items(value, words)]
        elif isinstance(value, dict):
            shown = ", ".join(
                f"{words.label(k)} {absent if v is None else _shown(v, words)}" for k, v in value.items()
            )
            lines.append(f"  {label}: {shown}")
        elif isinstance(value, list) and not value:
            lines.append(f"  {label}: {_('none')}")
        else:
            lines.append(f"  {label}: {absent if value is None else _shown(value, words)}")
    return lines


def _shown(value: Any, words: Wording) -> str:
    """A value of a section: a date as the reader writes it, anything else as :func:`_value`."""
    return words.day(value) if isinstance(value, str) else _value(value, words)


def _items(items: list[dict[str, Any]], words: Wording) -> list[str]:
    """A list of records: a checklist of rules, a time line of dates, or plain records."""
    if all("rule" in item for item in items):
        marks = [
            words.text(_CHECK[result]) if (result := item.get("result", "failed")) in _CHECK else str(result)
            for item in items
        ]
        width = max(9, *(len(mark) for mark in marks))
        return [
            f"{mark:<{width}} {words.of_policy(item['title'])}  ({item['rule']})"
            for mark, item in zip(marks, items, strict=True)
        ]
    if all(set(item) == {"label", "date"} for item in items):
        return [f"{words.day(item['date'])}  {words.label(item['label'])}" for item in items]
    return [_value(item, words) for item in items]


def warning_lines(
    warnings: tuple[str, ...], words: Wording = ENGLISH, templates: tuple[str, ...] = ()
) -> list[str]:
    """The closing section of a report: each warning on its own line (none: nothing), in the
    language of ``words`` where it is one of ``templates`` or of :data:`WARNINGS`."""
    if not warnings:
        return []
    shown = (sentence(warning, (*templates, *WARNINGS), words) for warning in warnings)
    return ["", words.text("Warnings:"), *(f"  ! {warning}" for warning in shown)]
