"""The text summary of an amendment's impact (``kzmig compare``), for an analyst's terminal.

First the versions and the dates; for several dates, a line per date (when the amendment
bites); then, for each date on which records changed, the changed records (up to ``show``),
the status changes per programme, the rules that decided differently, the differences in the
law with the number of changed records each explains, and the totals that moved.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from rules.analysis.aggregate import Impact
from rules.analysis.figures import plain
from rules.analysis.law import LawDifference
from rules.analysis.outcome import Outcome

__all__ = ["MOST_GROUPS", "describe_change", "render_impact_text", "shown_value"]


def render_impact_text(impact: Impact, shown: list[Outcome], show: int) -> str:
    """The summary of ``impact``; ``shown`` holds the first changed outcomes (at most ``show``)."""
    dates = impact.dates
    errors = sum(impact.errors.values())
    when = f"on {dates[0]}" if len(dates) == 1 else f"on {len(dates)} dates, {dates[0]} to {dates[-1]}"
    lines = [f"baseline {impact.baseline} -> amended {impact.amended} {when}"]
    if len(dates) == 1:
        on = dates[0]
        changed = impact.changed[on]
        lines.append(
            f"records: {impact.records}; changed: {changed}; "
            f"unchanged: {impact.compared[on] - changed}; errors: {errors}"
        )
    else:
        lines.append(f"records: {impact.records}; errors: {errors}")
        lines.append("  date        compared   changed")
        lines += [f"  {on}  {impact.compared[on]:>8}  {impact.changed[on]:>8}" for on in dates]
    bitten = [on for on in dates if impact.changed[on]]
    if len(bitten) > 1:
        lines.append(
            f"the details below are of {bitten[-1]}, the last date with changes "
            "(every date: --summary FILE, --report FILE.html)"
        )
    for on in bitten[-1:]:
        if len(dates) > 1:
            lines.append(f"on {on}:")
        lines += _records(on, shown, impact.changed[on], show)
        lines += _statuses(impact, on)
        lines += _rules(impact, on)
        lines += _law(impact, on)
        lines += _totals(impact, on)
        lines += _groups(impact, on)
    if not any(impact.changed[on] for on in dates):
        lines.append("no changes.")
        law: dict[str, LawDifference] = {}  # each difference once, as the first date states it
        for on in dates:
            for difference in impact.law.get(on, ()):
                law.setdefault(difference.name, difference)
        if not law:
            lines.append("the two versions state the same law on these dates.")
        else:  # the amendment does differ: say what, so that 'no changes' is not taken for 'no law'
            lines.append("the law that differs changes none of these verdicts:")
            lines += [f"  {_difference(difference)}" for difference in law.values()]
    return "\n".join(lines)


def _records(on: dt.date, shown: list[Outcome], changed: int, show: int) -> list[str]:
    here = [outcome for outcome in shown if outcome.as_of == on][:show]
    lines = [f"  {outcome.person_id}: {describe_change(outcome)}" for outcome in here]
    if changed > len(here):
        lines.append(f"  ... and {changed - len(here)} more (--show N, or --changes FILE for all)")
    return lines


def describe_change(outcome: Outcome) -> str:
    """``figure old -> new; ...`` for the figures that changed (a checklist: the rules that did)."""
    detail = outcome.detail or {}
    before, after = detail.get("before", {}), detail.get("after", {})
    return "; ".join(_change(name, before.get(name), after.get(name)) for name in outcome.changed)


def _change(name: str, before: Any, after: Any) -> str:
    if _is_checklist(before) and _is_checklist(after):
        old = {item["rule"]: item["result"] for item in before}
        new = {item["rule"]: item["result"] for item in after}
        changes = [
            f"{rule} {old.get(rule, '-')} -> {new.get(rule, '-')}"
            for rule in dict.fromkeys([*old, *new])
            if old.get(rule) != new.get(rule)
        ]
        return f"{name}: " + ", ".join(changes)
    return f"{name} {shown_value(before)} -> {shown_value(after)}"


def _is_checklist(value: Any) -> bool:
    return isinstance(value, list) and all(isinstance(item, dict) and "result" in item for item in value)


def shown_value(value: Any) -> str:
    """A figure as text: ``-`` for none, ``true`` and ``false`` as JSON and the policy files
    write them, lists of rules by their ids, records key by key."""
    value = plain(value)
    if value is None:
        return "-"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, list):
        shown = [item["rule"] if isinstance(item, dict) and "rule" in item else _item(item) for item in value]
        return "[" + ", ".join(shown) + "]"
    if isinstance(value, dict):
        return "{" + ", ".join(f"{key} {shown_value(item)}" for key, item in value.items()) + "}"
    return str(value)


def _item(item: Any) -> str:
    if isinstance(item, dict) and {"from", "to"} <= set(item):
        return f"{item['from']}..{item['to']}"
    return shown_value(item)


def _statuses(impact: Impact, on: dt.date) -> list[str]:
    changes = impact.status_changes(on)
    if not changes:
        return ["  no status changes."]
    lines = ["  status changes (records):"]
    lines += [
        f"    {programme}: {before or '-'} -> {after or '-'}: {count}"
        for programme, before, after, count in changes
    ]
    return lines


def _rules(impact: Impact, on: dt.date) -> list[str]:
    found = sorted(
        ((rule, effect, count) for (day, rule, effect), count in impact.rules.items() if day == on),
        key=lambda item: (-item[2], item[0], item[1]),
    )
    if not found:
        return []
    return ["  rules deciding differently (records):"] + [
        f"    {rule}: {effect}: {count}" for rule, effect, count in found
    ]


def _law(impact: Impact, on: dt.date) -> list[str]:
    law = impact.law.get(on, ())
    if not law:
        return ["  the two versions state the same law on this date."]
    lines = ["  the law that differs (changed records it may explain):"]
    for difference in law:
        count = impact.explained_by[(on, difference.name)]
        lines.append(f"    {_difference(difference)}: {count}")
    return lines


def _difference(difference: LawDifference) -> str:
    """One item of the law that differs: its name, its values before and after, its days."""
    named = difference.kind in ("parameter", "computed fact", "table row")
    what = f"{difference.kind} {difference.name}" if named else difference.name
    change = f"{shown_value(difference.before)} -> {shown_value(difference.after)}"
    if difference.changed:
        change += f" ({', '.join(difference.changed)})"
    if difference.start is not None:
        change += f" from {difference.start}"
    if difference.end is not None:
        change += f" to {difference.end}"
    return f"{what}: {change}"


def _totals(impact: Impact, on: dt.date) -> list[str]:
    moved = [
        (name, totals)
        for (day, name), totals in sorted(impact.totals.items())
        if day == on and (totals.before, totals.records_before) != (totals.after, totals.records_after)
    ]
    if not moved:
        return []
    lines = ["  totals over the records (before -> after):"]
    for name, totals in moved:
        delta = totals.after - totals.before
        sign = "+" if delta >= 0 else ""
        change = f"{sign}{shown_value(delta)}"
        if totals.records_before != totals.records_after:
            change += f"; records {totals.records_before} -> {totals.records_after}"
        lines.append(f"    {name}: {shown_value(totals.before)} -> {shown_value(totals.after)} ({change})")
    return lines


#: The values of a fact grouped by (``--by``) that the summary lists, those with the most
#: changed records first; the HTML report draws as many.
MOST_GROUPS = 20


def _groups(impact: Impact, on: dt.date) -> list[str]:
    """Changed of compared records by the value of each fact grouped by (``--by``)."""
    counts: dict[str, dict[str, list[int]]] = {}
    for (day, fact, value, changed), count in impact.by_group.items():
        if day == on:
            row = counts.setdefault(fact, {}).setdefault(value, [0, 0])
            row[0] += count if changed else 0
            row[1] += count
    lines = []
    for fact in sorted(counts):
        ordered = sorted(counts[fact].items(), key=lambda item: (-item[1][0], -item[1][1], item[0]))
        shown = "; ".join(
            f"{value} {changed} of {compared}" for value, (changed, compared) in ordered[:MOST_GROUPS]
        )
        rest = ordered[MOST_GROUPS:]
        if rest:  # a fact of many values (days, points, tenge): the line stays readable
            shown += (
                f"; ... and {len(rest)} more values ({sum(row[0] for _, row in rest)} changed of "
                f"{sum(row[1] for _, row in rest)}; --summary FILE for all)"
            )
        lines.append(f"  by {fact} (changed of compared): {shown}")
    return lines
