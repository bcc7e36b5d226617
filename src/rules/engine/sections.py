"""A programme's outcome as the verdict reports it: its status, the rules behind it, what is
missing, what is provisional, and the values its policy reports.

Two shapes, both declared by the policy:

* a programme reported in a slot of another programme's section (``section: stay.sanction``)
  gives a :class:`~models.verdict.Decision`: the deciding rule and the values it reports;
* any other programme without a mechanism gives a section of its own,
  :class:`~models.verdict.ProgrammeSection`, holding the values of its ``report``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from models.policy import Rule
from models.verdict import ChecklistItem, Decision, ProgrammeSection, RuleRef, built, built_whole
from rules.engine.case import Case
from rules.engine.compiled import CompiledPolicy
from rules.engine.computation import Val, json_value
from rules.policy.nodes import ReportItem

__all__ = [
    "Decided",
    "decision",
    "fact_paths",
    "programme_section",
    "programme_warnings",
    "report_missing",
    "rest_on",
]


_NO_VALUES: dict[str, Any] = {}
#: The fields of a programme section: a report value of the same name is refused by validation.
_SECTION_FIELDS = frozenset(ProgrammeSection.model_fields)


@dataclass
class Decided:
    """A programme's outcome: its status, the rules that decided it, the input paths they found
    missing, and the provisional parameters and tables its figures rest on."""

    status: str
    rules: tuple[Rule, ...]
    missing: tuple[str, ...]
    provisional_sources: set[str] = field(default_factory=set)
    gaps: dict[str, None] = field(default_factory=dict)


def fact_paths(compiled: CompiledPolicy, name: str, case: Case) -> tuple[str, ...]:
    """What a verdict lists for a missing fact: the input paths whose absence left it unknown,
    or the fact's own path (its input path, or what its mechanism names)."""
    found = case.fact(name)
    if found.value is None and found.missing:
        return tuple(sorted(found.missing))
    spec = compiled.policy.catalogue.facts.get(name)
    return ((spec.path if spec is not None and spec.path else name),)


def report_missing(compiled: CompiledPolicy, chosen: tuple[Rule, ...], case: Case) -> tuple[str, ...]:
    """The missing facts of the deciding rules: those they name in ``then.missing``, and every
    fact they test with ``missing: true`` that has no value."""
    paths: dict[str, None] = {}
    for rule in chosen:
        reads = compiled.missing_reads.get(rule.id)
        if reads is None:
            continue  # a rule that names none and tests none for absence: the usual case
        named, tested = reads
        for name in named:
            paths.update(dict.fromkeys(fact_paths(compiled, name, case)))
        for name in tested:
            if case.fact(name).value is None:
                paths.update(dict.fromkeys(fact_paths(compiled, name, case)))
    return tuple(paths)


def rest_on(compiled: CompiledPolicy, found: Decided, case: Case) -> None:
    """Record the provisional sources of the facts the deciding rules read, and the gaps of the
    policy that left any of them without a value (only a computed fact has either)."""
    fact = case.fact
    for rule in found.rules:
        for name in compiled.computed_reads[rule.id]:
            value = fact(name)
            if value.provisional:
                found.provisional_sources |= value.provisional
            for gap in value.gaps:
                found.gaps[f"{gap}: {name} has no value"] = None


def _shown(value: Val, what: str, warnings: list[str]) -> Any:
    """A value for the verdict; each gap behind it (in the value, or a field of a record) is a
    warning naming what is left out."""
    if value.gaps:
        warnings.extend(f"{gap}: {what} is left out" for gap in value.gaps)
    return json_value(value.value)


def _provisional(compiled: CompiledPolicy, found: Decided) -> bool:
    if found.provisional_sources:
        return True
    provisional = compiled.provisional_rules
    for rule in found.rules:  # as a loop: no generator's frame per verdict
        if rule.id in provisional:
            return True
    return False


def decision(compiled: CompiledPolicy, found: Decided, case: Case, warnings: list[str]) -> Decision:
    """A programme's outcome placed in another programme's section, its values computed."""
    rule = found.rules[0]
    values: dict[str, Any] = {}
    for name, closure in compiled.rule_values.get(rule.id, _NO_VALUES).items():
        value = closure(case, None)
        if value.provisional:
            found.provisional_sources |= value.provisional
        # As _shown gives it, without a call when there is no gap (the usual case).
        values[name] = _shown(value, "the figure", warnings) if value.gaps else json_value(value.value)
    # Every value is already what validation keeps (the policy is checked): built as it is.
    return built(
        Decision,
        {
            "status": found.status,
            "rule": rule.id,
            "values": values,
            "provisional": _provisional(compiled, found),
            "missing": found.missing,
            "note": rule.then.note or rule.note,
        },
    )


def programme_section(
    compiled: CompiledPolicy,
    programme: str,
    found: Decided,
    case: Case,
    fired: set[str],
    overridden_by: dict[str, str],
    warnings: list[str],
) -> ProgrammeSection:
    """A programme's own section: its status, and every value its report declares."""
    items: dict[str, Any] = {}
    for rule in found.rules:
        for name, compute in compiled.rule_values.get(rule.id, _NO_VALUES).items():
            value = compute(case, None)
            if value.provisional:
                found.provisional_sources |= value.provisional
            items.setdefault(name, _shown(value, f"{programme}.{name}", warnings))
    for name, (item, closure) in compiled.reports.get(programme, {}).items():
        if item.rules_with_status is not None:
            items[name] = [
                built_whole(RuleRef, {"rule": rule_id, "title": compiled.title(rule_id, case)})
                for rule_id in compiled.deciding.get((programme, item.rules_with_status), ())
                if rule_id in fired and rule_id not in overridden_by
            ]
        elif item.checklist is not None:
            items[name] = _checklist(compiled, programme, item.checklist, case, fired, overridden_by)
        elif item.timeline:
            items[name] = _timeline(compiled, item, case, found, f"{programme}.{name}", warnings)
        elif closure is not None:
            if item.when_status and found.status not in item.when_status:
                continue
            value = closure(case, None)
            if value.provisional:
                found.provisional_sources |= value.provisional
            items[name] = _shown(value, f"{programme}.{name}", warnings)
    title = compiled.policy.programmes[programme].title
    decided_by = tuple(rule.id for rule in found.rules)
    provisional = _provisional(compiled, found)
    if (
        _SECTION_FIELDS.isdisjoint(items)
        and type(title) is str
        and type(found.status) is str
        and type(found.missing) is tuple
    ):
        # Every part is already what validation keeps (text from the checked policy, a tuple, a
        # truth; a report's values are kept as they are): built without validating again.
        fields = {
            "title": title,
            "status": found.status,
            "decided_by": decided_by,
            "missing": found.missing,
            "provisional": provisional,
        }
        return built(ProgrammeSection, fields, items)
    return ProgrammeSection(
        title=title,
        status=found.status,
        decided_by=decided_by,
        missing=found.missing,
        provisional=provisional,
        **items,
    )


def _timeline(
    compiled: CompiledPolicy, item: ReportItem, case: Case, found: Decided, what: str, warnings: list[str]
) -> list[dict[str, Any]]:
    """Named dates in order of date (a date with no value is left out)."""
    dates = []
    for label, node in item.timeline:
        value = compiled.closure(node)(case, None)
        found.provisional_sources |= value.provisional
        warnings.extend(f"{gap}: {what} {label} is left out" for gap in value.gaps)
        if value.value is not None:
            dates.append({"label": label, "date": value.value.isoformat()})
    return sorted(dates, key=lambda entry: entry["date"])


def programme_warnings(compiled: CompiledPolicy, programme: str, case: Case) -> list[str]:
    """The warnings a programme declares whose condition holds (or cannot be checked)."""
    found = []
    for text, when, items in compiled.warnings.get(programme, ()):
        holds = when(case, None)
        if holds.value is True:
            listed = _listed(items(case, None).value) if items is not None else ""
            found.append(f"{programme}: {text}" + (f": {listed}" if listed else ""))
        elif holds.value is None and (holds.missing or holds.gaps):
            reasons = [*sorted(holds.missing), *holds.gaps]
            found.append(f"{programme}: cannot check whether {text}: {'; '.join(reasons)}")
    return found


def _listed(value: Any) -> str:
    """Items of a warning as a reader sees them: ``kind housing_certificate, paid_on ...``."""
    shown = json_value(value)
    if isinstance(shown, list):
        return "; ".join(_listed(item) for item in shown)
    if isinstance(shown, dict):
        return ", ".join(f"{key} {_listed(item)}" for key, item in shown.items())
    if isinstance(shown, int) and not isinstance(shown, bool) and abs(shown) >= 10_000:
        return f"{shown:,}"
    return "" if shown is None else str(shown)


def _checklist(
    compiled: CompiledPolicy,
    programme: str,
    status: str,
    case: Case,
    fired: set[str],
    overridden_by: dict[str, str],
) -> list[ChecklistItem]:
    items = []
    as_of = case.as_of
    fact = case.fact
    for rule_id in compiled.deciding.get((programme, status), ()):
        start, end = compiled.in_force[rule_id]
        if as_of < start or (end is not None and as_of > end):
            continue  # the rule, or one it refines, is not in force (Rule.in_force)
        if rule_id in fired:
            result = "set_aside" if rule_id in overridden_by else "failed"
        else:
            result = "met"
            for name in compiled.reads[rule_id]:  # as a loop: no generator's frame per rule
                if fact(name).value is None:
                    result = "unknown"
                    break
        title = compiled.title(rule_id, case)
        # The policy's rule and title, and one of the results the model allows: nothing to check.
        items.append(built_whole(ChecklistItem, {"rule": rule_id, "title": title, "result": result}))
    return items
