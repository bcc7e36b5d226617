"""The verdict: what the engine answers, with the trace that explains it.

``Verdict.model_dump(mode="json")`` is the stable JSON document that ``kzmig check --format
json`` prints and that consular systems code against. Field names and meanings change only
with a new major version.
"""

from __future__ import annotations

import datetime as dt
from enum import StrEnum
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

__all__ = [
    "OverstayPeriod",
    "PolicyRef",
    "SourceRef",
    "StayResult",
    "StayStatus",
    "TraceEntry",
    "Verdict",
]


class _Out(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, validate_by_name=True, serialize_by_alias=True)


class StayStatus(StrEnum):
    """The stay-limit status of a person on the evaluation date."""

    COMPLIANT = "compliant"
    OVERSTAY = "overstay"
    EXEMPT = "exempt"
    NOT_APPLICABLE = "not_applicable"
    UNDETERMINED = "undetermined"


class SourceRef(_Out):
    """A legal source: its title and where to read it."""

    title: str
    href: str


class PolicyRef(_Out):
    """Which policy produced a verdict: its name and content hash."""

    name: str
    version: str


class TraceEntry(_Out):
    """One rule that fired: what it is, where the law says so, what it saw and what it decided.

    ``outcome`` is the status the rule decides (``applies`` for a rule that decides none,
    such as the base counting rule). ``overridden_by`` names the exception that set the rule
    aside, if any; an overridden rule did fire but does not count towards the verdict.
    ``decisive`` marks the entries whose status became the verdict's.
    """

    rule: str
    title: str
    source: SourceRef
    in_force: tuple[dt.date, dt.date | None] = Field(
        description="First and last day the rule is in force (last is null while in force)."
    )
    outcome: str
    facts: dict[str, Any] = Field(default_factory=dict)
    missing: tuple[str, ...] = ()
    overridden_by: str | None = None
    decisive: bool = Field(default=False, description="Whether this rule's outcome is the verdict's status.")
    note: str | None = None


class OverstayPeriod(_Out):
    """A run of consecutive overstay days."""

    start: dt.date = Field(alias="from")
    end: dt.date = Field(alias="to")
    days: int


class StayResult(_Out):
    """The 90-in-180 stay limit on the evaluation date.

    ``days_used`` counts the days in the window ending on ``as_of``; ``overstay_days`` and
    ``overstay_periods`` cover the whole record up to ``as_of``; ``exempt_days`` are days of
    stay not counted because an exemption covered them. Figures the engine could not compute
    (see ``missing``) are null.
    """

    status: StayStatus
    days_used: int | None = None
    limit: int | None = None
    window: int | None = None
    per_entry_limit: int | None = None
    overstay_days: int | None = None
    overstay_periods: tuple[OverstayPeriod, ...] = ()
    exempt_days: int | None = None
    latest_exit: dt.date | None = None
    missing: tuple[str, ...] = ()


class Verdict(_Out):
    """The engine's answer for one person on one date."""

    person_id: str
    as_of: dt.date
    policy: PolicyRef
    stay: StayResult
    trace: tuple[TraceEntry, ...]
    warnings: tuple[str, ...] = ()

    def to_json(self) -> dict[str, Any]:
        """The stable JSON document (aliases applied, dates as ISO strings)."""
        return self.model_dump(mode="json")
