"""The figures of each record of a block, as :func:`rules.analysis.figures.figures` reads them
off the record engine's verdict, made from the block's columns.

A verdict of a traveller in scope has one section, the stay's; its figures are made of parts
that many records share: the status and what the count found, the sanction and the check at
entry (each a decision of a combination of classes, with the values of its deciding rule), the
registration due (one per citizenship and day of entry), the regime. Each part is made once per
distinct value (a decision's values once per distinct combination of the facts they read, by the
rule's own compiled closures) and flattened by the same code the analysis flattens a verdict
with; a record's figures are its parts put together in the order of the section's fields.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt

from models.verdict import StayStatus
from rules.analysis.figures import mapping_figures, model_figures
from rules.columns.decisions import Decisions
from rules.columns.facts import NO_DAY, StayFacts
from rules.columns.values import BlockFacts, Coded
from rules.engine.computation import json_value
from rules.engine.evaluator import Evaluator
from rules.stay.limit import StayLimit

__all__ = ["Periods", "current_entries", "stay_figures"]

Ints = npt.NDArray[np.int64]
Flags = npt.NDArray[np.bool_]

_STATUSES = {status.value: status for status in StayStatus}
#: The statuses whose section shows the latest day to leave.
_SHOWS_LATEST_EXIT = frozenset({StayStatus.COMPLIANT, StayStatus.OVERSTAY, StayStatus.EXEMPT})
_LAST_ORDINAL = dt.date.max.toordinal()


@dataclass(frozen=True)
class Periods:
    """The overstay periods of a block's records: those of record ``i`` are
    ``first[offsets[i]:offsets[i + 1]]`` to ``last[...]``, in order."""

    offsets: Ints
    first: Ints
    last: Ints

    def taken(self, rows: Ints) -> Periods:
        """The periods of the records ``rows`` only, in that order."""
        starts, ends = self.offsets[rows], self.offsets[rows + 1]
        lengths = ends - starts
        offsets = np.zeros(len(rows) + 1, dtype=np.int64)
        np.cumsum(lengths, out=offsets[1:])
        picked = np.repeat(starts - offsets[:-1], lengths) + np.arange(offsets[-1])
        return Periods(offsets, self.first[picked], self.last[picked])


def current_entries(day: int, offsets: Ints, entry: Ints, exit_: Ints) -> Ints:
    """The entry day of the trip each record is on on ``day`` (the last that entered by then and
    has not left before it), :data:`NO_DAY` for a record on none."""
    count = len(offsets) - 1
    found = np.full(count, NO_DAY, dtype=np.int64)
    if len(entry) == 0:
        return found
    on = (entry <= day) & ((exit_ == NO_DAY) | (exit_ >= day))
    index = np.where(on, np.arange(len(entry)), -1)
    filled = np.diff(offsets) > 0
    latest = np.maximum.reduceat(index, offsets[:-1][filled])
    chosen = np.full(count, -1, dtype=np.int64)
    chosen[filled] = latest
    has = chosen >= 0
    found[has] = entry[chosen[has]]
    return found


def _decision_figures(
    evaluator: Evaluator,
    block: BlockFacts,
    decisions: Decisions,
    programme: str,
    prefix: str,
) -> list[dict[str, Any] | None]:
    """The figures of ``programme``'s decision placed at ``prefix`` (``stay.sanction``) for
    each record: its status, its deciding rule's values and the facts it found missing (none
    where the programme decided nothing)."""
    compiled = evaluator.compiled
    size = block.size
    found: list[dict[str, Any] | None] = [None] * size
    by_rule: dict[str, list[int]] = {}
    for code, combination in enumerate(decisions.combinations):
        decided = combination.decided.get(programme)
        if decided is not None:
            by_rule.setdefault(decided.rules[0].id, []).append(code)
    for rule_id, codes in by_rule.items():
        rows = np.flatnonzero(np.isin(decisions.codes, codes))
        values = {
            name: block.evaluated(closure, rows)
            for name, closure in compiled.rule_values.get(rule_id, {}).items()
        }
        heads: dict[int, dict[str, Any]] = {}
        for position, row in enumerate(rows):
            combination = decisions.combinations[int(decisions.codes[row])]
            decided = combination.decided[programme]
            head = heads.get(id(decided))
            if head is None:
                head = heads[id(decided)] = {f"{prefix}.status": decided.status}
            figures = dict(head)
            shown = {name: json_value(column.at(position).value) for name, column in values.items()}
            mapping_figures(f"{prefix}.values", shown, figures)
            if decided.missing:
                figures[f"{prefix}.missing"] = decided.missing
            found[int(row)] = figures
    return found


def stay_figures(
    evaluator: Evaluator,
    facts: StayFacts,
    block: BlockFacts,
    decisions: Decisions,
    periods: Periods,
    latest_exit: Ints,
    current_entry: Ints,
) -> list[dict[str, Any]]:
    """Each record's figures (see the module): ``facts``, ``periods``, ``latest_exit`` (an
    ordinal, :data:`NO_DAY` for none) and ``current_entry`` (see :func:`current_entries`) of
    the same records as ``block`` and ``decisions``, all in scope."""
    stay = evaluator.mechanisms["stay"]
    assert isinstance(stay, StayLimit)  # the stay limit's mechanism: the only one in scope
    as_of = block.as_of
    statuses: Coded = decisions.status("stay")
    sanction = _decision_figures(evaluator, block, decisions, "sanction", "stay.sanction")
    entry = _decision_figures(evaluator, block, decisions, "entry", "stay.entry_check")
    registrations: dict[tuple[str, int], dict[str, Any]] = {}
    fromordinal = dt.date.fromordinal
    figures: list[dict[str, Any]] = []
    for row in range(block.size):
        combination = decisions.combinations[int(decisions.codes[row])]
        status = _STATUSES.get(statuses.at(row).value) or StayStatus(statuses.at(row).value)
        found: dict[str, Any] = {"stay.status": status}
        if facts.counted[row]:
            found["stay.days_used"] = int(facts.days_used[row])
            per_entry = int(facts.per_entry[row])
            if per_entry != NO_DAY:
                found["stay.per_entry_limit"] = per_entry
            found["stay.overstay_days"] = int(facts.overstay_days[row])
            first, end = int(periods.offsets[row]), int(periods.offsets[row + 1])
            found["stay.overstay_now"] = bool(
                end > first and facts.present[row] and int(periods.last[end - 1]) == facts.as_of
            )
            if end > first:
                found["stay.overstay_periods"] = tuple(
                    {"from": fromordinal(start), "to": fromordinal(last), "days": last - start + 1}
                    for start, last in zip(
                        periods.first[first:end].tolist(), periods.last[first:end].tolist(), strict=True
                    )
                )
            found["stay.exempt_days"] = 0
            latest = int(latest_exit[row])
            if latest != NO_DAY and latest and latest <= _LAST_ORDINAL and status in _SHOWS_LATEST_EXIT:
                found["stay.latest_exit"] = fromordinal(latest)
        decided = combination.decided.get("stay")
        if decided is not None and decided.missing:
            found["stay.missing"] = decided.missing
        for part in (sanction[row], entry[row]):
            if part is not None:
                found.update(part)
        code = facts.citizenship[row]
        entered = int(current_entry[row])
        # The section asks for none when the count found the person on no trip: then no trip
        # covers the day, and there is no current entry either.
        if code is not None and entered != NO_DAY:
            key = (code, entered)
            registration = registrations.get(key)
            if registration is None:
                due = stay.registration_after(code, fromordinal(entered), as_of)
                registration = {}
                if due is not None:
                    model_figures("stay.registration", due, registration)
                registrations[key] = registration
            found.update(registration)
        regime = facts.regime[row] if facts.regime_recorded[row] else None
        if regime is not None and code is not None:
            found["stay.regime"] = regime
        figures.append(found)
    return figures
