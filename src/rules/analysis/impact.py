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
from models.verdict import StayResult, Verdict
from rules.engine.evaluator import Evaluator

__all__ = ["COMPARED_FIGURES", "Difference", "compare"]

#: The figures of the stay result compared between two policies, in reading order. The limit
#: and window are the law itself, the same for everyone: the policy versions name them.
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
            "before": _figures(self.before.stay),
            "after": _figures(self.after.stay),
        }


def _figures(stay: StayResult) -> dict[str, Any]:
    document = stay.model_dump(mode="json")
    return {name: document[name] for name in COMPARED_FIGURES}


def compare(
    baseline: Evaluator, amended: Evaluator, person: Person | Mapping[str, Any], on: dt.date
) -> Difference:
    """Evaluate ``person`` on ``on`` under both evaluators and name the figures that differ.

    Raises what :meth:`Evaluator.evaluate` raises (bad input, or a case either policy does
    not decide).
    """
    before = baseline.evaluate(person, on)
    after = amended.evaluate(person, on)
    old, new = _figures(before.stay), _figures(after.stay)
    return Difference(before, after, tuple(name for name in COMPARED_FIGURES if old[name] != new[name]))
