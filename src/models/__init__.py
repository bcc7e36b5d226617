"""Typed models for everything that crosses the engine's boundary.

* input: :class:`Person`, :class:`Trip`, :class:`Status`;
* output: :class:`Verdict` with its :class:`StayResult` and :class:`TraceEntry` items;
* policy files: :class:`PolicyFile` and its parts (see :mod:`models.policy`).
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from models.crossing import Crossing
    from models.person import Person, Status, Trip
    from models.plan import Plan, PlanBound, PlanStatus
    from models.policy import PolicyFile, Rule, Source
    from models.verdict import (
        Decision,
        OverstayPeriod,
        PolicyRef,
        RegistrationDue,
        SourceRef,
        StayResult,
        StayStatus,
        TraceEntry,
        Verdict,
    )

#: Where each name is defined: imported on first use (PEP 562), so that a command checking one
#: person does not build the models of crossings and plans it never reads.
_HOMES = {
    "Crossing": "models.crossing",
    "Person": "models.person",
    "Status": "models.person",
    "Trip": "models.person",
    "Plan": "models.plan",
    "PlanBound": "models.plan",
    "PlanStatus": "models.plan",
    "PolicyFile": "models.policy",
    "Rule": "models.policy",
    "Source": "models.policy",
    **dict.fromkeys(
        (
            "Decision",
            "OverstayPeriod",
            "PolicyRef",
            "RegistrationDue",
            "SourceRef",
            "StayResult",
            "StayStatus",
            "TraceEntry",
            "Verdict",
        ),
        "models.verdict",
    ),
}


def __getattr__(name: str) -> Any:
    home = _HOMES.get(name)
    if home is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(importlib.import_module(home), name)
    globals()[name] = value  # once imported, an ordinary attribute
    return value


def __dir__() -> list[str]:
    return sorted({*globals(), *_HOMES})


__all__ = [
    "Crossing",
    "Decision",
    "OverstayPeriod",
    "Person",
    "Plan",
    "PlanBound",
    "PlanStatus",
    "PolicyFile",
    "PolicyRef",
    "RegistrationDue",
    "Rule",
    "Source",
    "SourceRef",
    "Status",
    "StayResult",
    "StayStatus",
    "TraceEntry",
    "Trip",
    "Verdict",
]
