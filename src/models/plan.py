"""The plan: how long a person may stay if they enter on a date, and when they may come.

``Plan.to_json()`` is the stable JSON document that ``kzmig plan --format json`` prints and
that ``rules.planning.plan`` returns as a model. The fields every consumer relies on are
``person_id``, ``enter``, ``max_stay_days``, ``latest_exit``, ``earliest_entry`` and
``trace``; the others say why (``status``, ``limited_by``, ``notes``, ``warnings``) and
under which law (``policy``). Figures the engine cannot give are ``null``, never a guess or
a huge number: an open-ended exemption gives ``status: unlimited`` with
``max_stay_days: null``.
"""

from __future__ import annotations

import datetime as dt
from enum import StrEnum
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from models.verdict import PolicyRef, TraceEntry

__all__ = ["Plan", "PlanBound", "PlanStatus"]


class PlanStatus(StrEnum):
    """What kind of answer the plan is."""

    LIMITED = "limited"  # max_stay_days is a number (0 when no day may be spent)
    UNLIMITED = "unlimited"  # an exemption (or the policy) sets no end: max_stay_days is null
    NOT_APPLICABLE = "not_applicable"  # the stay limit does not apply on the day of entry
    UNDETERMINED = "undetermined"  # a fact is missing: ``missing`` names it


class PlanBound(StrEnum):
    """What stops the stay one day after ``latest_exit`` (for a limited plan)."""

    WINDOW_LIMIT = "window_limit"  # a day of the stay would exceed the limit in its window
    PER_ENTRY_LIMIT = "per_entry_limit"  # a day of the stay would lie beyond the per-entry cap
    BOOKED_TRIP = "booked_trip"  # a day of a booked trip would become an overstay day
    NEXT_BOOKING = "next_booking"  # the stay must end before the booked trip begins


class Plan(BaseModel):
    """The answer for one person planning to enter Kazakhstan on ``enter``.

    ``max_stay_days`` is the longest stay that may begin on ``enter`` (0 if none; null when
    not ``limited``) and ``latest_exit`` its last day (null when 0 or not limited).
    ``earliest_entry`` is the first day on or after ``enter`` on which a stay of ``days``
    days may begin (null when no day ever allows it, or when the plan is not applicable or
    undetermined). ``trace`` holds the rules that decided, each with its legal source.
    """

    model_config = ConfigDict(defer_build=True, extra="forbid", frozen=True)

    format: str = Field(default="kzmig/plan/1", description="The version of this document's format.")
    engine_version: str = Field(default="", description="The version of kzmig that wrote it.")
    person_id: str
    enter: dt.date
    policy: PolicyRef
    status: PlanStatus
    days: int = Field(ge=1, description="The length of stay earliest_entry is for (default 1).")
    max_stay_days: int | None = Field(ge=0)
    latest_exit: dt.date | None
    earliest_entry: dt.date | None
    limited_by: PlanBound | None = None
    missing: tuple[str, ...] = ()
    notes: tuple[str, ...] = ()
    warnings: tuple[str, ...] = ()
    trace: tuple[TraceEntry, ...]

    def to_json(self) -> dict[str, Any]:
        """The stable JSON document (dates as ISO strings)."""
        return self.model_dump(mode="json")
