"""What an analysis keeps of one record on one date: an :class:`Outcome`.

A comparison (:mod:`rules.analysis.impact`) makes one per record and date, the population
(:mod:`rules.analysis.population`) streams them, and the impact (:mod:`rules.analysis.aggregate`)
sums them: a module of its own, so that neither of those two needs the other to have one.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any

from rules.analysis.figures import amount_pairs, is_amount
from rules.analysis.impact import Compared, Difference, Why
from rules.errors import Problem
from rules.frozen import made

__all__ = ["Outcome"]


@dataclass(frozen=True)
class Outcome:
    """What an analysis keeps of one record on one date (or of a record that failed).

    ``statuses`` holds each programme's status before and after; ``amounts`` every numeric
    figure (days, points, tenge) before and after; ``changed`` the figures that differ; ``why``
    and ``detail`` (the record's JSON document of the change) only for a changed record.
    ``error`` is the error record of a record that could not be compared (then ``as_of`` is
    ``None`` and nothing else is set): ``{"kind", "message", "problems"}``.
    """

    record: int
    person_id: str | None
    as_of: dt.date | None
    citizenship: str | None = None
    statuses: dict[str, tuple[str | None, str | None]] = field(default_factory=dict)
    amounts: dict[str, tuple[Any, Any]] = field(default_factory=dict)
    changed: tuple[str, ...] = ()
    why: Why | None = None
    notes: tuple[str, ...] = ()
    detail: dict[str, Any] | None = None
    groups: dict[str, Any] = field(default_factory=dict)
    error: dict[str, Any] | None = None
    problems: tuple[Problem, ...] = ()

    @classmethod
    def of(cls, record: int, citizenship: str | None, difference: Difference | Compared) -> Outcome:
        old, new = difference.figures_before, difference.figures_after
        if new is old:  # not evaluated again: the same figures on both sides
            amounts = amount_pairs(old)
        else:
            amounts = {
                name: (old.get(name), new.get(name))
                for name in dict.fromkeys((*old, *new))
                if is_amount(old.get(name)) or is_amount(new.get(name))
            }
        changed = difference.changed
        return made(
            cls,
            {
                "record": record,
                "person_id": difference.person_id,
                "as_of": difference.before.as_of,
                "citizenship": citizenship,
                "statuses": difference.statuses,
                "amounts": amounts,
                "changed": changed,
                "why": difference.why if changed else None,
                "notes": difference.notes,
                "detail": difference.to_json() if changed else None,
                "groups": difference.groups,
                "error": None,
                "problems": (),
            },
        )
