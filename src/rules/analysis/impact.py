"""What an amendment changes: the same person under two policy versions, side by side.

Legal analysts ask "which verdicts would change if ...?". Both policies are compiled in one
process (each verdict names its version), every person is evaluated under both, and the
figures that differ are listed.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from models.person import Person
from models.verdict import Verdict
from rules.engine.evaluator import Evaluator

__all__ = ["COMPARED_FIGURES", "Difference", "compare"]

#: The figures of the stay result compared between two policies, in reading order. The limit
#: and window are the law itself, the same for everyone: the policy versions name them. Each
#: other programme's section is compared too: its status, missing facts and every value its
#: policy reports, named ``<programme>.<key>`` (absent on a side that has no such section).
COMPARED_FIGURES = (
    "status",
    "days_used",
    "overstay_days",
    "exempt_days",
    "latest_exit",
    "per_entry_limit",
    "missing",
)


@dataclass(frozen=True)
class Difference:
    """One person under two policies: both verdicts and the names of the figures that differ."""

    before: Verdict
    after: Verdict
    changed: tuple[str, ...]

    @property
    def person_id(self) -> str:
        return self.before.person_id

    def to_json(self) -> dict[str, Any]:
        """``{"person_id", "as_of", "changed", "before": {...}, "after": {...}}`` (figures only)."""
        return {
            "person_id": self.person_id,
            "as_of": self.before.as_of.isoformat(),
            "changed": list(self.changed),
            "before": _figures(self.before),
            "after": _figures(self.after),
        }


_NOT_COMPARED = ("title", "decided_by", "provisional")


def _figures(verdict: Verdict) -> dict[str, Any]:
    document = verdict.stay.model_dump(mode="json")
    figures = {name: document[name] for name in COMPARED_FIGURES}
    for programme, section in verdict.sections.items():
        shown = section.model_dump(mode="json")
        figures.update(
            {f"{programme}.{key}": value for key, value in shown.items() if key not in _NOT_COMPARED}
        )
    return figures


def _changed(old: dict[str, Any], new: dict[str, Any]) -> tuple[str, ...]:
    names = [*old, *(name for name in new if name not in old)]
    return tuple(name for name in names if old.get(name) != new.get(name))


def compare(
    baseline: Evaluator, amended: Evaluator, person: Person | Mapping[str, Any], on: dt.date
) -> Difference:
    """Evaluate ``person`` on ``on`` under both evaluators and name the figures that differ.

    Raises what :meth:`Evaluator.evaluate` raises (bad input, or a case either policy does
    not decide).
    """
    before = baseline.evaluate(person, on)
    after = amended.evaluate(person, on)
    return Difference(before, after, _changed(_figures(before), _figures(after)))
