"""The schema of a policy file: the law as data.

One schema for every file under ``policies/`` and for every amendment an analyst writes.
A file holds any of four sections, each dated and sourced:

* ``parameters``: named values (a limit, a window length) as a list of dated values;
* ``tables``: named, keyed lists of dated values (the regime of each nationality);
* ``status_kinds``: the statuses a person may hold (the vocabulary of the input);
* ``rules``: decisions, each a condition in a small closed language over named facts.

Exactly one file of a policy carries the ``policy`` header (name and programmes).

Nothing here is executable: conditions are data compiled by the engine to durable-rules
patterns, and the loader refuses YAML tags, so an amendment file is safe to load.
"""

from __future__ import annotations

import datetime as dt
import re
from typing import Annotated, Any, Literal

from pydantic import (
    BaseModel,
    ConfigDict,
    Discriminator,
    Field,
    Tag,
    field_validator,
    model_validator,
)

__all__ = [
    "AllOf",
    "AnyOf",
    "Comparison",
    "Condition",
    "DatedValue",
    "NotOf",
    "Outcome",
    "Parameter",
    "ParamRef",
    "PolicyFile",
    "PolicyHeader",
    "Programme",
    "Rule",
    "Source",
    "StatusKind",
    "Table",
    "COMPARISON_OPERATORS",
    "SCHEMA_ID",
]

SCHEMA_ID = "kzmig/policy/1"

#: The closed set of comparison operators a condition may use.
COMPARISON_OPERATORS = ("eq", "ne", "lt", "lte", "gt", "gte", "in", "not_in", "contains", "missing")

_DOTTED_NAME = r"^[a-z][a-z0-9_]*(\.[a-z][a-z0-9_]*)+$"
_CODE = r"^[a-z][a-z0-9_]*$"
_URL = re.compile(r"^https?://\S+$")

Scalar = str | bool | int | float | dt.date


class _Data(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, validate_by_name=True)


class Source(_Data):
    """A legal source: the act, article or official statement, and where to read it."""

    title: Annotated[str, Field(min_length=3)]
    href: str

    @field_validator("href")
    @classmethod
    def _href_is_a_url(cls, value: str) -> str:
        if not _URL.match(value):
            raise ValueError(f"{value!r} is not an http(s) address")
        return value


class DatedValue(_Data):
    """A value in force from a date, with the source that sets it.

    A later dated value replaces an earlier one; ``value: null`` ends it (repeal). This is
    OpenFisca's convention: a value is never deleted, so a past date keeps its law.
    """

    start: dt.date = Field(alias="from")
    value: Any
    source: Source
    note: str | None = None


def _check_timeline(values: list[DatedValue]) -> list[DatedValue]:
    starts = [value.start for value in values]
    if starts != sorted(starts):
        raise ValueError("dated values must be listed in order of their 'from' date")
    if len(set(starts)) != len(starts):
        raise ValueError("two dated values start on the same day")
    return values


class Parameter(_Data):
    """A named value of the law, dated. ``provisional`` marks a value the sources do not publish."""

    description: Annotated[str, Field(min_length=3)]
    unit: str | None = None
    provisional: bool = False
    values: Annotated[list[DatedValue], Field(min_length=1)]

    _ordered = field_validator("values")(_check_timeline)


class Table(_Data):
    """A keyed family of dated values: e.g. the stay regime of each nationality."""

    description: Annotated[str, Field(min_length=3)]
    key: Annotated[str, Field(min_length=1, description="What the keys are, e.g. 'citizenship'.")]
    provisional: bool = False
    rows: Annotated[dict[str, list[DatedValue]], Field(min_length=1)]

    @field_validator("rows")
    @classmethod
    def _rows_ordered(cls, rows: dict[str, list[DatedValue]]) -> dict[str, list[DatedValue]]:
        for key, values in rows.items():
            if not values:
                raise ValueError(f"row {key!r} has no dated value")
            _check_timeline(values)
        return rows


class StatusKind(_Data):
    """A status a person may hold, as the input names it."""

    description: Annotated[str, Field(min_length=3)]
    source: Source


class ParamRef(_Data):
    """A reference to a parameter, resolved at the evaluation date."""

    param: Annotated[str, Field(pattern=_DOTTED_NAME)]


ConditionValue = Scalar | list[Scalar] | ParamRef


class Comparison(_Data):
    """``{fact: stay.days_used, gt: 90}``: one fact compared by exactly one operator."""

    fact: Annotated[str, Field(pattern=_DOTTED_NAME)]
    eq: ConditionValue | None = None
    ne: ConditionValue | None = None
    lt: ConditionValue | None = None
    lte: ConditionValue | None = None
    gt: ConditionValue | None = None
    gte: ConditionValue | None = None
    in_: ConditionValue | None = Field(default=None, alias="in")
    not_in: ConditionValue | None = None
    contains: ConditionValue | None = None
    missing: bool | None = None

    @model_validator(mode="after")
    def _exactly_one_operator(self) -> Comparison:
        used = [name for name in COMPARISON_OPERATORS if self.operand(name) is not None]
        if len(used) != 1:
            raise ValueError(
                f"a comparison takes exactly one operator of {', '.join(COMPARISON_OPERATORS)}; "
                f"found {len(used)}" + (f" ({', '.join(used)})" if used else "")
            )
        return self

    def operand(self, operator: str) -> Any:
        """The value given for ``operator`` (``None`` when that operator is not used)."""
        return getattr(self, "in_" if operator == "in" else operator)

    @property
    def operator(self) -> str:
        """The one operator this comparison uses."""
        return next(name for name in COMPARISON_OPERATORS if self.operand(name) is not None)


class AllOf(_Data):
    """Every condition holds."""

    all: Annotated[list[Condition], Field(min_length=1)]


class AnyOf(_Data):
    """At least one condition holds."""

    any: Annotated[list[Condition], Field(min_length=1)]


class NotOf(_Data):
    """The condition does not hold. A comparison on a missing fact is false, and so is its
    negation: missing facts are caught by ``missing`` conditions, never by negation."""

    not_: Condition = Field(alias="not")


def _condition_tag(value: Any) -> str | None:
    if isinstance(value, dict):
        for key in ("all", "any", "not", "fact"):
            if key in value:
                return key
        return None
    if isinstance(value, BaseModel):
        return {AllOf: "all", AnyOf: "any", NotOf: "not", Comparison: "fact"}.get(type(value))
    return None


Condition = Annotated[
    Annotated[AllOf, Tag("all")]
    | Annotated[AnyOf, Tag("any")]
    | Annotated[NotOf, Tag("not")]
    | Annotated[Comparison, Tag("fact")],
    Discriminator(
        _condition_tag,
        custom_error_type="condition",
        custom_error_message="a condition is a mapping with one of the keys all, any, not or fact",
    ),
]


class Outcome(_Data):
    """What a rule decides when it applies: a status of its programme, the facts it found
    missing (for an ``undetermined`` outcome), and named values it reports with the decision
    (a fine: ``values: {fine_mci: {param: sanction.fine_mci}}``). An empty outcome means the
    rule only applies. A value named ``*_mci`` is also reported in tenge (``*_kzt``) with the
    monthly calculation index ``money.mci_kzt`` in force on the evaluation date."""

    status: Annotated[str, Field(pattern=_CODE)] | None = None
    missing: list[str] = Field(default_factory=list)
    values: dict[Annotated[str, Field(pattern=_CODE)], ConditionValue] = Field(default_factory=dict)
    note: str | None = None


class Rule(_Data):
    """A dated, sourced decision: when ``when`` holds on the evaluation date, ``then`` applies.

    The rule's programme is the first segment of its id (``stay.overstay`` -> ``stay``).
    ``overrides`` names base rules this rule sets aside when both fire (an exception in the
    sense of Catala). ``exempts`` names a status kind: days of stay covered by a valid status
    of that kind, while the rule is in force, are not counted by the base rule it overrides.
    """

    id: Annotated[str, Field(pattern=_DOTTED_NAME)]
    title: Annotated[str, Field(min_length=3)]
    source: Source
    start: dt.date = Field(alias="from")
    end: dt.date | None = Field(default=None, alias="to")
    when: Condition | None = None
    then: Outcome = Field(default_factory=Outcome)
    overrides: list[Annotated[str, Field(pattern=_DOTTED_NAME)]] = Field(default_factory=list)
    exempts: Annotated[str, Field(pattern=_CODE)] | None = None
    provisional: bool = Field(
        default=False,
        description="The sources do not publish this rule as encoded; every verdict it decides says so.",
    )
    note: str | None = None

    @model_validator(mode="after")
    def _dates_in_order(self) -> Rule:
        if self.end is not None and self.end < self.start:
            raise ValueError(f"'to' ({self.end}) is before 'from' ({self.start})")
        if self.exempts is not None and not self.overrides:
            raise ValueError("an exemption must name the base rule it overrides ('overrides')")
        return self

    @property
    def programme(self) -> str:
        return self.id.split(".", 1)[0]

    def in_force(self, day: dt.date) -> bool:
        """Whether the rule is in force on ``day``."""
        return self.start <= day and (self.end is None or day <= self.end)


class Programme(_Data):
    """A programme the policy decides (``stay``): its statuses, strongest first.

    A ``required`` programme must be decided for every case (no deciding rule is an error);
    an optional one (a sanction, a check at entry) is simply absent when no rule decides it.
    """

    title: Annotated[str, Field(min_length=3)]
    precedence: Annotated[list[Annotated[str, Field(pattern=_CODE)]], Field(min_length=1)]
    required: bool = True


class PolicyHeader(_Data):
    """The header one file of a policy carries: its name and the programmes it decides."""

    name: Annotated[str, Field(pattern=r"^[a-z][a-z0-9_-]*$", max_length=40)]
    title: Annotated[str, Field(min_length=3)]
    programmes: Annotated[dict[str, Programme], Field(min_length=1)]


class PolicyFile(_Data):
    """One YAML file of a policy (or an amendment)."""

    schema_id: Literal["kzmig/policy/1"] = Field(alias="schema")
    title: Annotated[str, Field(min_length=3)]
    description: str | None = None
    policy: PolicyHeader | None = None
    parameters: dict[Annotated[str, Field(pattern=_DOTTED_NAME)], Parameter] = Field(default_factory=dict)
    tables: dict[Annotated[str, Field(pattern=_DOTTED_NAME)], Table] = Field(default_factory=dict)
    status_kinds: dict[Annotated[str, Field(pattern=_CODE)], StatusKind] = Field(default_factory=dict)
    rules: list[Rule] = Field(default_factory=list)
    repeals: list[Annotated[str, Field(pattern=_DOTTED_NAME)]] = Field(
        default_factory=list,
        description="In an amendment: ids of baseline rules the amendment removes.",
    )

    @model_validator(mode="before")
    @classmethod
    def _drop_extension_keys(cls, data: Any) -> Any:
        """Top-level ``x-...`` keys hold YAML anchors (shared sources); they are not law."""
        if isinstance(data, dict):
            return {k: v for k, v in data.items() if not str(k).startswith("x-")}
        return data
