"""Typed models for everything that crosses the engine's boundary.

* input: :class:`Person`, :class:`Trip`, :class:`Status`;
* output: :class:`Verdict` with its :class:`StayResult` and :class:`TraceEntry` items;
* policy files: :class:`PolicyFile` and its parts (see :mod:`models.policy`).
"""

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
