"""The text a caseworker reads: the verdict, its figures, and why, rule by rule."""

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

__all__ = ["render_text", "section_lines", "trace_lines", "warning_lines"]

_CHECK = {
    "met": "met",
    "failed": "FAILED",
    "unknown": "unknown",
    "set_aside": "set aside",
    "not_in_force": "not in force",
}

_HEADLINE = {
    StayStatus.COMPLIANT: "COMPLIANT - no day of stay breaks the limit",
    StayStatus.OVERSTAY: "OVERSTAY - the record holds days beyond the limit",
    # An overstay verdict whose evaluation date is not itself an overstay day reads as past.
    "overstay_now": "OVERSTAY NOW - the person is in the country beyond the limit",
    "overstay_past": "OVERSTAY IN THE PAST - no overstay on this day; the record holds earlier overstay days",
    StayStatus.EXEMPT: "EXEMPT - a valid exempt status covers the evaluation date",
    StayStatus.NOT_APPLICABLE: "NOT APPLICABLE - the stay limit does not apply",
    StayStatus.UNDETERMINED: "UNDETERMINED - facts are missing",
}


def _value(value: Any) -> str:
    """A value for a reader: amounts with thousands separators, records as ``key value`` pairs,
    long lists of records counted rather than spelt out."""
    if isinstance(value, bool):
        return str(value).lower()
    if isinstance(value, int) and abs(value) >= 10_000:
        return f"{value:,}"
    if isinstance(value, dict):
        return ", ".join(f"{key} {_value(item)}" for key, item in value.items())
    if isinstance(value, list | tuple):
        if not value:
            return "none"
        if all(isinstance(item, dict) for item in value) and len(value) > 2:
            return f"[{len(value)} items]"
        return "[" + "; ".join(_value(v) for v in value) + "]"
    return str(value)


def trace_lines(entry: TraceEntry) -> list[str]:
    """One trace entry for a reader: the rule and its outcome, title, source, what it saw."""
    if entry.overridden_by:
        mark = "-"
        outcome = f"{entry.outcome}, set aside by {entry.overridden_by}"
    else:
        mark = "*" if entry.decisive else "+"
        outcome = entry.outcome
    start, end = entry.in_force
    span = f"rule in force from {start}" + (f" to {end}" if end else "")
    act = f"  [act of {entry.source.date}]" if entry.source.date is not None else ""
    lines = [
        f"  {mark} {entry.rule}  [{outcome}]",
        f"      {entry.title}",
        f"      {entry.source.title}{act}",
        f"      {entry.source.href} ({span})",
    ]
    if entry.facts:
        seen = ", ".join(f"{name}={_value(value)}" for name, value in entry.facts.items())
        lines.append(f"      saw: {seen}")
    if entry.missing:
        lines.append(f"      missing: {', '.join(entry.missing)}")
    if entry.note:
        lines.append(f"      note: {entry.note}")
    for derivation in entry.derivations:
        operands = ", ".join(f"{name}={_value(value)}" for name, value in derivation.operands.items())
        shown = "unknown" if derivation.value is None else _value(derivation.value)
        of = operands or "constants"
        lines.append(f"      computed: {derivation.fact} = {shown}  ({derivation.formula} of {of})")
    return lines


def _decision(decision: Decision) -> str:
    """``FINE (fine_mci 10, fine_kzt 43,250) - provisional``: a decision on one line."""
    shown = ", ".join(
        f"{name} {value:,}" if isinstance(value, int) else f"{name} {_value(value)}"
        for name, value in decision.values.items()
    )
    text = decision.status.upper().replace("_", " ") + (f" ({shown})" if shown else "")
    if decision.note:
        text += f" - {decision.note}"
    return text + (" - provisional: the sources do not publish this rule" if decision.provisional else "")


def _stay_headline(stay: StayResult) -> str:
    """The stay headline; an overstay verdict says whether the overstay is now or in the past."""
    if stay.status == StayStatus.OVERSTAY and stay.overstay_now is not None:
        return _HEADLINE["overstay_now" if stay.overstay_now else "overstay_past"]
    return _HEADLINE[stay.status]


def _sanction_line(stay: StayResult) -> str:
    """The sanction, naming the overstay it is for (the latest run of overstay days)."""
    assert stay.sanction is not None
    if stay.overstay_periods:
        latest = stay.overstay_periods[-1]
        offence = f"the overstay of {latest.start} to {latest.end} ({latest.days} day(s))"
    else:
        offence = "the latest overstay"
    return f"  sanction for {offence}: {_decision(stay.sanction)}"


def _registration_line(due: RegistrationDue) -> str:
    unit = "working days" if due.counted == "working_days" else "calendar days"
    procedure = due.procedure.replace("_", " ")
    period = f"({due.days} {unit} after the entry on {due.entry})"
    if due.state == "done":
        return f"  registration: {procedure} done on {due.registered_on}, due by {due.due} {period}"
    if due.state == "done_late":
        return f"  registration: {procedure} done LATE on {due.registered_on}, due by {due.due} {period}"
    if due.state == "overdue":
        return f"  registration: {procedure} OVERDUE, due by {due.due} {period}"
    return f"  registration: {procedure} due by {due.due} {period}"


def render_text(verdict: Verdict) -> str:
    """A readable report of ``verdict``; every figure and rule shown is from the verdict."""
    stay = verdict.stay
    lines = [
        f"Person {verdict.person_id} on {verdict.as_of}  "
        f"(policy {verdict.policy.name} {verdict.policy.version})",
        "",
        f"Stay limit: {_stay_headline(stay)}",
    ]
    if stay.missing:
        lines.append(f"  missing facts: {', '.join(stay.missing)}")
    if stay.days_used is not None:
        lines.append(
            f"  days used in the {stay.window}-day window ending {verdict.as_of}: "
            f"{stay.days_used} of {stay.limit}"
        )
        if stay.per_entry_limit is not None:
            lines.append(f"  per-entry limit: {stay.per_entry_limit} days")
        lines.append(f"  overstay days in the record: {stay.overstay_days}")
        for period in stay.overstay_periods:
            lines.append(f"    {period.start} to {period.end}: {period.days} day(s)")
        lines.append(f"  days not counted (exemptions): {stay.exempt_days}")
        if stay.latest_exit is not None:
            lines.append(f"  latest exit if staying on: {stay.latest_exit}")
    if stay.sanction is not None:
        lines.append(_sanction_line(stay))
    if stay.entry_check is not None:
        lines.append(f"  at the border on {verdict.as_of}: {_decision(stay.entry_check)}")
    if stay.registration is not None:
        lines.append(_registration_line(stay.registration))
    for name, section in verdict.sections.items():
        lines += ["", *section_lines(name, section)]
    lines += ["", "Why (* decided the verdict, + applied, - set aside by an exception):"]
    for entry in verdict.trace:
        lines += trace_lines(entry)
    lines += warning_lines(verdict.warnings)
    return "\n".join(lines)


def _label(name: str) -> str:
    return name.replace("_", " ")


def section_lines(name: str, section: ProgrammeSection) -> list[str]:
    """A programme's own section for a reader: its status, then each value its policy reports
    (a list of rules as a checklist), with nothing added that the section does not hold."""
    headline = section.status.upper().replace("_", " ")
    lines = [f"{section.title}: {headline}" + ("  (provisional)" if section.provisional else "")]
    if section.missing:
        lines.append(f"  missing facts: {', '.join(section.missing)}")
    document = section.model_dump(mode="json")
    absent = "unknown" if section.missing else "none"
    for key in section.model_extra or {}:
        value = document[key]
        label = _label(key)
        if isinstance(value, list) and value and all(isinstance(item, dict) for item in value):
            lines.append(f"  {label}:")
            lines += [f"    {line}" for line in _items(value)]
        elif isinstance(value, dict):
            shown = ", ".join(f"{_label(k)} {absent if v is None else _value(v)}" for k, v in value.items())
            lines.append(f"  {label}: {shown}")
        elif isinstance(value, list) and not value:
            lines.append(f"  {label}: none")
        else:
            lines.append(f"  {label}: {absent if value is None else _value(value)}")
    return lines


def _items(items: list[dict[str, Any]]) -> list[str]:
    """A list of records: a checklist of rules, a time line of dates, or plain records."""
    if all("rule" in item for item in items):
        marks = [_CHECK.get(item.get("result", "failed"), str(item.get("result"))) for item in items]
        return [
            f"{mark:<9} {item['title']}  ({item['rule']})" for mark, item in zip(marks, items, strict=True)
        ]
    if all(set(item) == {"label", "date"} for item in items):
        return [f"{item['date']}  {item['label']}" for item in items]
    return [_value(item) for item in items]


def warning_lines(warnings: tuple[str, ...]) -> list[str]:
    """The closing section of a report: each warning on its own line (none: nothing)."""
    return ["", "Warnings:", *(f"  ! {warning}" for warning in warnings)] if warnings else []
