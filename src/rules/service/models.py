"""The documents of the HTTP API: request bodies, and the answers that are not the library's.

A verdict and a plan are answered exactly as the library writes them
(:class:`models.verdict.Verdict`, :class:`models.plan.Plan`, ``model_dump(mode="json")``). A
person is passed to the library as given and checked there against the policy in use; the
API description shows it with the person schema of the baseline policy (``GET
/v1/schemas/person``). Request bodies are strict: unknown fields are refused, a date is a
``YYYY-MM-DD`` string and a number of days an integer, never a string or a boolean.
"""

from __future__ import annotations

import datetime as dt
import re
from typing import Annotated, Any, Literal

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, Strict, StringConstraints, WithJsonSchema

from models.verdict import PolicyRef, Verdict
from rules.policy.documents import MAX_DOCUMENT_BYTES
from rules.stay.planning import LONGEST_PLAN_DAYS

__all__ = [
    "MAX_COMPARED_PERSONS",
    "PERSON_MARK",
    "AmendmentInfo",
    "AmendmentRequest",
    "CheckRequest",
    "CompareChange",
    "CompareError",
    "CompareRequest",
    "CompareResponse",
    "ErrorBody",
    "ErrorResponse",
    "ExplainResponse",
    "HealthResponse",
    "PlanRequest",
    "PoliciesResponse",
    "PolicyInfo",
    "ProblemOut",
    "ProgrammeInfo",
]

#: The most persons one ``POST /v1/compare`` may carry.
MAX_COMPARED_PERSONS = 1000
#: The key that marks a person in the generated schema, replaced by the policy's person schema.
PERSON_MARK = "x-kzmig-person"

_DAY = re.compile(r"^\d{4}-\d{2}-\d{2}$")


def _iso_day(value: object) -> object:
    """A date from JSON is a ``YYYY-MM-DD`` string; pydantic alone would take a number of
    seconds, or a timestamp at midnight."""
    if isinstance(value, dt.date) and not isinstance(value, dt.datetime):
        return value
    if isinstance(value, str) and _DAY.match(value):
        try:
            return dt.date.fromisoformat(value)
        except ValueError:
            raise ValueError("not a date of the calendar") from None
    raise ValueError("expected a date of the form YYYY-MM-DD")


Day = Annotated[dt.date, BeforeValidator(_iso_day), WithJsonSchema({"type": "string", "format": "date"})]
PersonData = Annotated[
    dict[str, Any],
    WithJsonSchema({"type": "object", PERSON_MARK: True}),
    Field(description="A person record (see GET /v1/schemas/person)."),
]
Version = Annotated[
    str,
    Strict(),
    StringConstraints(pattern=r"^[0-9a-f]{1,64}$"),
    Field(description="The version of a policy loaded by POST /v1/amendments (or the baseline's)."),
]
Days = Annotated[int, Strict(), Field(ge=1, le=LONGEST_PLAN_DAYS)]


class _Request(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class CheckRequest(_Request):
    """One person on one date (``on`` left out: today in Kazakhstan)."""

    person: PersonData
    on: Day | None = Field(default=None, description="The evaluation date (default: today in Kazakhstan).")
    policy_version: Version | None = None


class PlanRequest(_Request):
    """How long the person may stay entering on ``enter``, and when a stay of ``days`` fits."""

    person: PersonData
    enter: Day = Field(description="The planned day of entry.")
    days: Days | None = Field(default=None, description="The length of stay to find the earliest entry for.")
    policy_version: Version | None = None


class AmendmentRequest(_Request):
    """An amendment file's content (YAML, format kzmig/policy/2) and a name for its problems."""

    text: Annotated[str, Strict(), StringConstraints(min_length=1, max_length=MAX_DOCUMENT_BYTES)]
    name: (
        Annotated[str, Strict(), StringConstraints(min_length=1, max_length=100, pattern=r"^[\w.\- ]+$")]
        | None
    ) = Field(default=None, description="The name problems are reported under (default <amendment>).")


class CompareRequest(_Request):
    """Persons evaluated under the baseline and under an amended policy, side by side."""

    persons: list[PersonData] = Field(max_length=MAX_COMPARED_PERSONS)
    on: Day | None = Field(default=None, description="The evaluation date (default: today in Kazakhstan).")
    policy_version: Version


class _Answer(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class ProblemOut(_Answer):
    where: str
    message: str


class ErrorBody(_Answer):
    kind: Literal[
        "input", "undecided", "policy", "not_found", "too_large", "timeout", "unauthorized", "internal"
    ]
    message: str
    problems: list[ProblemOut]


class ErrorResponse(_Answer):
    """Every error the service answers."""

    error: ErrorBody


class HealthResponse(_Answer):
    status: Literal["ok"]
    engine_version: str
    verdict_format: str
    policy: PolicyRef


class ProgrammeInfo(_Answer):
    name: str
    title: str
    statuses: list[str] = Field(description="The statuses it may decide, in order of precedence.")


class PolicyInfo(_Answer):
    """The baseline policy: its name, version (a hash of its files) and title."""

    name: str
    version: str
    title: str
    programmes: list[ProgrammeInfo]


class AmendmentInfo(_Answer):
    """A policy amended over the baseline: ``title`` is the amendment's own, ``source`` the name
    it was loaded under."""

    name: str
    version: str
    title: str | None
    source: str
    programmes: list[ProgrammeInfo]


class PoliciesResponse(_Answer):
    baseline: PolicyInfo
    amendments: list[AmendmentInfo] = Field(description="Most recently loaded first.")


class ExplainResponse(_Answer):
    text: str = Field(description="The verdict as `kzmig check` prints it.")
    verdict: Verdict


class CompareChange(_Answer):
    """One person under both policies: the figures that differ (every figure when none does),
    each version's values, and, for a changed person, why."""

    record: int
    person_id: str
    as_of: dt.date
    changed: list[str] = Field(description="Dotted names of the figures that differ, e.g. stay.status.")
    before: dict[str, Any]
    after: dict[str, Any]
    why: dict[str, Any] | None = Field(
        default=None,
        description="For a changed person: 'rules' that decided differently ({rule, before, after}) "
        "and the 'law' that differs and that they read ({kind, name, before, after}).",
    )
    notes: list[str] | None = Field(
        default=None,
        description="What of the record one version did not know, and so treated as absent.",
    )


class CompareError(_Answer):
    """A person that could not be evaluated, in its place."""

    record: int
    person_id: str | None
    error: ErrorBody


class CompareResponse(_Answer):
    baseline: PolicyRef
    amended: PolicyRef
    on: dt.date
    records: list[CompareChange | CompareError] = Field(description="One per person, in order.")
