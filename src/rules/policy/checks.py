"""Checks across the files of a policy: programmes, rules and reports.

Each check reports every problem it finds at its file, line and YAML path through the
``problem(section, name, path, message)`` callback of the loader; names of items that failed
their own validation (``broken``) are not reported a second time.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from pydantic import ValidationError

from models.person import CORE_FIELDS
from models.policy import (
    ComputedFact,
    Parameter,
    Programme,
    ReportFromStatus,
    ReportValue,
    Rule,
    StatusKind,
    Table,
    TableValues,
)
from models.verdict import SECTION_KEYS
from rules.errors import did_you_mean
from rules.policy.catalogue import Catalogue
from rules.policy.conditions import MAX_ALTERNATIVES, alternatives, condition_problems
from rules.policy.documents import located_messages
from rules.policy.formulas import Scope, parse_formula, scale_problem
from rules.policy.graph import walk
from rules.policy.nodes import Node, ReportItem, WarningCheck
from rules.policy.titles import Slot, slots
from rules.policy.types import MechanismTraits

__all__ = [
    "check_programmes",
    "check_rules",
    "check_scales",
    "check_warnings",
    "rule_alternatives",
]

Place = tuple[str | int, ...]
Report = Callable[[str, str, Place, str], None]


def check_programmes(
    programmes: Mapping[str, Programme],
    mechanisms: Mapping[str, type[MechanismTraits]],
    tables: Mapping[str, Table],
    broken: frozenset[str],
    problem: Report,
    preferred: list[str] | None = None,
) -> list[str]:
    """Check what programmes declare about each other; return them in evaluation order (each
    after the programmes it reads, otherwise in the order they are written)."""
    records: dict[str, str] = {}
    slots: dict[str, str] = {}
    for name, programme in programmes.items():
        for index, read in enumerate(programme.reads):
            if read == name:
                problem("programmes", name, ("reads", index), "a programme cannot read itself")
            elif read not in programmes and read not in broken:
                hint = did_you_mean(read, programmes)
                problem("programmes", name, ("reads", index), f"reads unknown programme {read!r}{hint}")
        if programme.record is not None:
            if programme.record in CORE_FIELDS:
                problem(
                    "programmes",
                    name,
                    ("record",),
                    f"{programme.record!r} is a field of every person record; name another key",
                )
            elif programme.record in records:
                problem(
                    "programmes",
                    name,
                    ("record",),
                    f"record key {programme.record!r} is already the input of programme "
                    f"{records[programme.record]!r}",
                )
            records[programme.record] = name
        for field_name, spec in _fields(programme.inputs):
            if isinstance(spec.values, TableValues) and spec.values.table not in tables:
                if spec.values.table not in broken:
                    hint = did_you_mean(spec.values.table, tables)
                    problem(
                        "programmes",
                        name,
                        (*field_name, "values", "table"),
                        f"unknown table {spec.values.table!r}{hint}",
                    )
        if programme.section is not None:
            target, _, slot = programme.section.partition(".")
            mechanism = mechanisms.get(target)
            if target not in programmes:
                problem("programmes", name, ("section",), f"unknown programme {target!r} in section")
            elif mechanism is None or slot not in mechanism.slots:
                offered = ", ".join(f"{target}.{s}" for s in mechanism.slots) if mechanism else "none"
                problem(
                    "programmes",
                    name,
                    ("section",),
                    f"the {target!r} section has no slot {slot!r}; its slots: {offered}",
                )
            elif programme.section in slots:
                problem(
                    "programmes",
                    name,
                    ("section",),
                    f"{programme.section} already holds programme {slots[programme.section]!r}",
                )
            else:
                slots[programme.section] = name
            if target not in programme.reads:
                problem(
                    "programmes",
                    name,
                    ("section",),
                    f"a programme reported in {target!r} must read it ('reads')",
                )
    return _order(programmes, problem, preferred or [])


def _fields(inputs: Mapping[str, Any], prefix: Place = ("inputs",)) -> list[tuple[Place, Any]]:
    found = []
    for name, spec in inputs.items():
        place = (*prefix, name)
        found.append((place, spec))
        if spec.fields:
            found.extend(_fields(spec.fields, (*place, "fields")))
    return found


def _order(programmes: Mapping[str, Programme], problem: Report, preferred: list[str]) -> list[str]:
    order, cycles = walk(
        programmes,
        lambda name: (read for read in programmes[name].reads if read in programmes and read != name),
    )
    for name, cycle in cycles:
        problem(
            "programmes", name, ("reads",), "programmes read each other in a cycle: " + " -> ".join(cycle)
        )
    # The order verdicts and the trace list them in: the header's, then the order written. (The
    # engine decides them in rounds of their own: a programme after those it reads.)
    listed = {name: index for index, name in enumerate(preferred)}
    written = {name: len(listed) + index for index, name in enumerate(programmes)}
    return sorted(order, key=lambda name: listed.get(name, written[name]))


def rule_alternatives(rule: Rule, rules: Mapping[str, Rule], parameters: Mapping[str, Parameter]) -> int:
    """How many engine alternatives a rule expands to, with the conditions it refines."""
    count = alternatives(rule.when, parameters) if rule.when is not None else 1
    seen = {rule.id}
    base = rules.get(rule.refines) if rule.refines else None
    while base is not None and base.id not in seen:
        seen.add(base.id)
        count *= alternatives(base.when, parameters) if base.when is not None else 1
        base = rules.get(base.refines) if base.refines else None
    return count


def check_rules(
    programmes: Mapping[str, Programme],
    mechanisms: Mapping[str, type[MechanismTraits]],
    rules: Mapping[str, Rule],
    kinds: Mapping[str, StatusKind],
    parameters: Mapping[str, Parameter],
    tables: Mapping[str, Table],
    catalogue: Catalogue,
    broken: frozenset[str],
    problem: Report,
    *,
    repealed: Mapping[str, str] | None = None,
) -> tuple[dict[str, dict[str, Node]], dict[str, dict[str, ReportItem]]]:
    """Check every rule and report; return the checked formulas of rules' values and of reports.

    ``repealed``: the rules an amendment repealed, with where (a rule that still overrides or
    refines one is told so, rather than that it names an unknown rule)."""
    gone = repealed or {}
    everything_broken = broken | frozenset(catalogue.broken)
    rule_values: dict[str, dict[str, Node]] = {}
    for rule_id, rule in rules.items():
        programme = programmes.get(rule.programme)
        if programme is None:
            if rule.programme not in broken:
                problem(
                    "rules",
                    rule_id,
                    ("id",),
                    f"rule {rule_id!r} belongs to no programme; its id must start with one of "
                    f"{', '.join(sorted(programmes))}",
                )
            continue
        visible = catalogue.visible[rule.programme]
        status = rule.then.status
        if status is not None and status not in programme.precedence:
            problem(
                "rules",
                rule_id,
                ("then", "status"),
                f"status {status!r} is not one of programme {rule.programme!r}: "
                + ", ".join(programme.precedence),
            )
        for index, base in enumerate(rule.overrides):
            _check_base(rule, base, ("overrides", index), programmes, rules, broken, gone, problem)
        if rule.refines is not None:
            _check_base(rule, rule.refines, ("refines",), programmes, rules, broken, gone, problem)
            base_rule = rules.get(rule.refines)
            if base_rule is not None and base_rule.programme != rule.programme:
                problem("rules", rule_id, ("refines",), "a rule refines a rule of its own programme")
        if rule.exempts is not None:
            mechanism = mechanisms.get(rule.programme)
            if mechanism is None or mechanism.exemption_fact is None:
                problem(
                    "rules",
                    rule_id,
                    ("exempts",),
                    f"programme {rule.programme!r} has no mechanism that exempts days",
                )
            elif rule.exempts not in kinds and rule.exempts not in broken:
                hint = did_you_mean(rule.exempts, kinds)
                problem("rules", rule_id, ("exempts",), f"exempts unknown status kind {rule.exempts!r}{hint}")
        scope = Scope(visible, parameters, tables, everything_broken)
        _check_title_slots(rule_id, rule, scope, problem)
        condition_ok = True
        if rule.when is not None:
            for place, message in condition_problems(
                rule.when, rule.programme, visible, parameters, everything_broken, ("when",)
            ):
                problem("rules", rule_id, place, message)
                condition_ok = False
        for index, name in enumerate(rule.then.missing):
            if name not in visible and name not in everything_broken:
                hint = did_you_mean(name, visible)
                problem("rules", rule_id, ("then", "missing", index), f"unknown fact {name!r}{hint}")
        values: dict[str, Node] = {}
        for name, raw in rule.then.values.items():
            node = parse_formula(raw, scope, ("then", "values", name))
            if node is not None:
                values[name] = node
        for place, message in scope.problems:
            problem("rules", rule_id, place, message)
        rule_values[rule_id] = values
        size = rule_alternatives(rule, rules, parameters) if condition_ok else 0
        if size > MAX_ALTERNATIVES:
            problem(
                "rules",
                rule_id,
                ("when",),
                f"the condition expands to {size} alternatives (each 'any', 'in' and dated "
                f"parameter multiplies them); at most {MAX_ALTERNATIVES}: split it into rules",
            )
    _override_cycles(rules, problem)
    reports = {
        name: _report(name, programme, catalogue, parameters, tables, everything_broken, problem)
        for name, programme in programmes.items()
    }
    return rule_values, reports


def _check_title_slots(rule_id: str, rule: Rule, scope: Scope, problem: Report) -> None:
    """A title's slots (``{sanction.fine_mci}``, ``{residence.pass_mark on residence.submitted}``,
    see :mod:`rules.policy.titles`) name parameters, read on a date the rule's programme sees;
    and a Russian or Kazakh title quotes the same ones as the English title. ``scope`` is the
    rule's; each slot read on a day is checked in a scope of its own, so that its problems are
    said with the slot."""
    english = slots(rule.title)
    for field in ("title", "title_ru", "title_kk"):
        text = getattr(rule, field)
        if text is None:
            continue
        found = slots(text)
        for written in found:
            slot = Slot.of(written)
            if slot.parameter not in scope.parameters:
                if slot.parameter not in scope.broken:
                    hint = did_you_mean(slot.parameter, scope.parameters)
                    problem("rules", rule_id, (field,), f"{{{written}}} names no parameter{hint}")
            elif slot.on is not None:  # checked as the formula it stands for
                read = Scope(scope.facts, scope.parameters, scope.tables, scope.broken)
                parse_formula({"param": slot.parameter, "on": slot.on}, read, ())
                for _, message in read.problems:
                    problem("rules", rule_id, (field,), f"{{{written}}}: {message}")
        if field != "title" and set(found) != set(english):
            quoted = ", ".join(f"{{{name}}}" for name in english) or "no parameter"
            problem(
                "rules",
                rule_id,
                (field,),
                f"quotes {', '.join(f'{{{name}}}' for name in found) or 'no parameter'} where the "
                f"English title quotes {quoted}: a translation quotes the same parameters",
            )


def check_scales(
    parameters: Mapping[str, Parameter],
    facts: Mapping[str, ComputedFact],
    rules: Mapping[str, Rule],
    programmes: Mapping[str, Programme],
    broken: frozenset[str],
    problem: Report,
) -> frozenset[str]:
    """Check every parameter a formula reads as a scale (``band``) at its own values, where it
    is written: an amendment that breaks a scale is told at its bracket, not at the formula of
    the baseline that reads it. Return the scales refused (the formulas reading them are not
    refused again)."""
    readers: dict[str, str] = {}
    for name, fact in facts.items():
        for formula in fact.formulas:
            for scale in _scales(formula.formula):
                readers.setdefault(scale, name)
    for rule_id, rule in rules.items():
        for scale in _scales(rule.then.values):
            readers.setdefault(scale, f"rule {rule_id}")
    for name, programme in programmes.items():
        for scale in _scales([programme.report, [(w.when, w.items) for w in programme.warnings]]):
            readers.setdefault(scale, f"programme {name}")
    refused: set[str] = set()
    for scale, reader in readers.items():
        parameter = parameters.get(scale)
        if parameter is None or scale in broken:
            continue  # an unknown name is reported at the formula
        for index, dated in enumerate(parameter.values):
            found = scale_problem(dated.value) if dated.value is not None else None
            if found is not None:
                inside, message = found
                where: Place = ("values", index, "value", *inside)
                problem("parameters", scale, where, f"a scale (read by 'band' in {reader}): {message}")
                refused.add(scale)
                break
    return frozenset(refused)


def _scales(data: Any) -> Any:
    """The names of the scales a raw formula (or a structure holding formulas) reads."""
    if isinstance(data, Mapping):
        band = data.get("band")
        if isinstance(band, str):
            yield band
        for value in data.values():
            yield from _scales(value)
    elif isinstance(data, list | tuple):
        for value in data:
            yield from _scales(value)


def _check_base(
    rule: Rule,
    base: str,
    place: Place,
    programmes: Mapping[str, Programme],
    rules: Mapping[str, Rule],
    broken: frozenset[str],
    repealed: Mapping[str, str],
    problem: Report,
) -> None:
    if base not in rules:
        if base in repealed:
            problem(
                "rules",
                rule.id,
                place,
                f"{place[0]} rule {base!r}, which {repealed[base]} repeals: repeal this rule as well, "
                f"or amend it so that it no longer {place[0]} {base!r}",
            )
        elif base not in broken:
            problem("rules", rule.id, place, f"{place[0]} unknown rule {base!r}{did_you_mean(base, rules)}")
        return
    other = rules[base].programme
    if other != rule.programme and programmes.get(other) is not None and programmes[other].required:
        problem(
            "rules",
            rule.id,
            place,
            f"a {rule.programme!r} rule cannot override {base!r}: the {other!r} programme is decided first",
        )


def _override_cycles(rules: Mapping[str, Rule], problem: Report) -> None:
    """A rule may not, through ``overrides`` or ``refines``, set itself aside."""
    _, cycles = walk(rules, lambda rule_id: (base for base in rules[rule_id].bases if base in rules))
    for rule_id, cycle in cycles:
        problem("rules", rule_id, ("overrides",), "overrides form a cycle: " + " -> ".join(cycle))


def _report(
    name: str,
    programme: Programme,
    catalogue: Catalogue,
    parameters: Mapping[str, Parameter],
    tables: Mapping[str, Table],
    broken: frozenset[str],
    problem: Report,
) -> dict[str, ReportItem]:
    scope = Scope(catalogue.visible[name], parameters, tables, broken)
    items: dict[str, ReportItem] = {}
    for key, raw in programme.report.items():
        place: Place = ("report", key)
        if key in SECTION_KEYS:
            problem("programmes", name, place, f"{key!r} is a key of every section; name the item otherwise")
            continue
        if isinstance(raw, Mapping) and set(raw) == {"timeline"}:
            items[key] = _timeline(raw["timeline"], scope, place)
            continue
        try:
            if isinstance(raw, Mapping) and ("rules_with_status" in raw or "checklist" in raw):
                spec = ReportFromStatus.model_validate(raw)
                status = spec.rules_with_status or spec.checklist
                if status not in programme.precedence:
                    problem(
                        "programmes",
                        name,
                        place,
                        f"status {status!r} is not one of {', '.join(programme.precedence)}",
                    )
                    continue
                items[key] = ReportItem(rules_with_status=spec.rules_with_status, checklist=spec.checklist)
                continue
            if isinstance(raw, Mapping) and "when_status" in raw:
                shown = ReportValue.model_validate(raw)
                unknown = [s for s in shown.when_status if s not in programme.precedence]
                if unknown:
                    problem(
                        "programmes",
                        name,
                        (*place, "when_status"),
                        f"not a status of {name!r}: {', '.join(unknown)}",
                    )
                    continue
                node = parse_formula(shown.value, scope, (*place, "value"))
                if node is not None:
                    items[key] = ReportItem(node=node, when_status=tuple(shown.when_status))
                continue
        except ValidationError as error:
            for loc, message in located_messages(error):
                problem("programmes", name, (*place, *loc), message)
            continue
        node = parse_formula(raw, scope, place)
        if node is not None:
            items[key] = ReportItem(node=node)
    for place, message in scope.problems:
        problem("programmes", name, place, message)
    return items


def _timeline(raw: Any, scope: Scope, place: Place) -> ReportItem:
    """``{timeline: {label: DATE, ...}}``: named dates, shown in order of date."""
    if not isinstance(raw, Mapping) or not raw:
        scope.problems.append(((*place, "timeline"), "'timeline' takes a mapping of labels to dates"))
        return ReportItem()
    entries = []
    for label, formula in raw.items():
        node = parse_formula(formula, scope, (*place, "timeline", str(label)))
        if node is None:
            continue
        if node.type.kind != "date":
            scope.problems.append(
                ((*place, "timeline", str(label)), f"a time line shows dates, not a {node.type}")
            )
            continue
        entries.append((str(label), node))
    return ReportItem(timeline=tuple(entries))


def check_warnings(
    programmes: Mapping[str, Programme],
    catalogue: Catalogue,
    parameters: Mapping[str, Parameter],
    tables: Mapping[str, Table],
    broken: frozenset[str],
    problem: Report,
) -> dict[str, tuple[WarningCheck, ...]]:
    """Each programme's warnings, their conditions and items checked."""
    checked: dict[str, tuple[WarningCheck, ...]] = {}
    for name, programme in programmes.items():
        scope = Scope(catalogue.visible[name], parameters, tables, broken | frozenset(catalogue.broken))
        found = []
        for index, spec in enumerate(programme.warnings):
            place: Place = ("warnings", index)
            when = parse_formula(spec.when, scope, (*place, "when"))
            if when is not None and when.type.kind != "boolean":
                scope.problems.append(((*place, "when"), f"'when' takes a condition, not a {when.type}"))
                when = None
            items = parse_formula(spec.items, scope, (*place, "items")) if spec.items is not None else None
            if when is not None and (spec.items is None or items is not None):
                found.append(WarningCheck(when, spec.text, items))
        for place, message in scope.problems:
            problem("programmes", name, place, message)
        checked[name] = tuple(found)
    return checked
