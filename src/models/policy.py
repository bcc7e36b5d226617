"""The schema of a policy file (format ``kzmig/policy/2``): the law as data.

One schema for every file under ``policies/`` and for every amendment an analyst writes.
A file holds any of these sections, each item dated and sourced:

* ``policy``: the header (name, title); exactly one file of a policy carries it;
* ``programmes``: what the policy decides -- each programme's statuses in precedence order,
  when it is evaluated, the programmes it reads, the inputs it takes from the person record
  and what its section of the verdict reports;
* ``parameters``: named values (a limit, a pass mark, a scale of points), each a list of
  dated values;
* ``tables``: named, keyed families of dated values (the regime of each nationality);
* ``status_kinds``: the statuses a person may hold (the vocabulary of the input);
* ``facts``: computed facts, each a list of dated formulas in a closed set of operators;
* ``rules``: decisions, each a condition over named facts;
* ``repeals``: in an amendment, rules it removes.

Nothing here is executable: formulas and conditions are plain data that the loader checks and
the engine interprets or compiles to durable-rules patterns, and the loader refuses YAML tags,
so an amendment file is safe to load. Formulas are kept as plain data here and parsed by
:mod:`rules.policy.formulas`, which reports each problem at its YAML path.

Each item is validated on its own (see :mod:`rules.policy.loader`), so one broken rule does not
hide the problems of the rest of its file: every problem comes in one round.
"""

from __future__ import annotations

import datetime as dt
import math
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

from models._fields import shown

__all__ = [
    "AllOf",
    "AnyOf",
    "Comparison",
    "ComputedFact",
    "Condition",
    "DatedValue",
    "Formula",
    "InputField",
    "NotOf",
    "Outcome",
    "Parameter",
    "ParamRef",
    "PolicyFile",
    "PolicyHeader",
    "Programme",
    "WarningSpec",
    "Rule",
    "TRANSLATED_LANGUAGES",
    "Source",
    "StatusKind",
    "Table",
    "COMPARISON_OPERATORS",
    "OLD_SCHEMA_ID",
    "SCHEMA_ID",
    "SECTIONS",
]

SCHEMA_ID = "kzmig/policy/2"
OLD_SCHEMA_ID = "kzmig/policy/1"

#: The sections a policy file may hold, besides ``schema``, ``title`` and ``description``.
SECTIONS = ("policy", "programmes", "parameters", "tables", "status_kinds", "facts", "rules", "repeals")

#: The closed set of comparison operators a rule condition may use.
COMPARISON_OPERATORS = ("eq", "ne", "lt", "lte", "gt", "gte", "in", "not_in", "contains", "missing")

DOTTED_NAME = r"^[a-z][a-z0-9_]*(\.[a-z][a-z0-9_]*)+$"
CODE = r"^[a-z][a-z0-9_]*$"
_URL = re.compile(r"^https?://\S+$")

Scalar = str | bool | int | float | dt.date
DottedName = Annotated[str, Field(pattern=DOTTED_NAME, max_length=120)]
Code = Annotated[str, Field(pattern=CODE, max_length=64)]


class _Data(BaseModel):
    model_config = ConfigDict(defer_build=True, extra="forbid", frozen=True, validate_by_name=True)


#: The languages a title or note may carry beside English (``title_ru``, ``note_kk``, ...):
#: the languages a caseworker reads. Where a form is missing, the English one is shown.
TRANSLATED_LANGUAGES = ("ru", "kk")

_Wording = Annotated[str, Field(min_length=3)]


class _Noted(_Data):
    """An item whose ``note`` may carry Russian and Kazakh forms beside English: ``note_ru``,
    ``note_kk`` (a rule's outcome, and through :class:`_Translated` a rule or a programme).
    English stays the form of record (the JSON verdict, the trace); the forms are what the text
    output shows in that language."""

    note_ru: _Wording | None = Field(default=None, description="The note in Russian, for the Russian text.")
    note_kk: _Wording | None = Field(default=None, description="The note in Kazakh, for the Kazakh text.")

    def noted(self, language: str) -> str | None:
        """The note in ``language``, or in English where the policy gives no such form."""
        english = self._english("note")
        if english is None:
            return None
        return {"ru": self.note_ru, "kk": self.note_kk}.get(language) or english

    def _english(self, field: str) -> str | None:
        """The English ``title`` or ``note`` that each subclass declares in its own place."""
        value = getattr(self, field)
        return value if isinstance(value, str) else None

    @model_validator(mode="after")
    def _forms_have_their_english(self) -> _Noted:
        if self._english("note") is None and (self.note_ru or self.note_kk):
            raise ValueError("a translated note ('note_ru', 'note_kk') needs the English 'note' beside it")
        return self


class _Translated(_Noted):
    """An item whose ``title`` may also carry Russian and Kazakh forms: ``title_ru``,
    ``title_kk``."""

    title_ru: _Wording | None = Field(default=None, description="The title in Russian, for the Russian text.")
    title_kk: _Wording | None = Field(default=None, description="The title in Kazakh, for the Kazakh text.")

    def titled(self, language: str) -> str:
        """The title in ``language``, or in English where the policy gives no such form."""
        forms = {"ru": self.title_ru, "kk": self.title_kk}
        return forms.get(language) or self._english("title") or ""


class Source(_Data):
    """A legal source: the act, article or official statement, and where to read it; its title
    may carry Russian and Kazakh forms (``title_ru``, ``title_kk``) for the text in those
    languages."""

    title: Annotated[str, Field(min_length=3)]
    href: str
    date: dt.date | None = Field(
        default=None, description="The act's own date (adopted or signed), shown with every citation."
    )
    title_ru: _Wording | None = Field(default=None, description="The title in Russian, for the Russian text.")
    title_kk: _Wording | None = Field(default=None, description="The title in Kazakh, for the Kazakh text.")

    def titled(self, language: str) -> str:
        """The title in ``language``, or in English where the policy gives no such form."""
        return {"ru": self.title_ru, "kk": self.title_kk}.get(language) or self.title

    @field_validator("href")
    @classmethod
    def _href_is_a_url(cls, value: str) -> str:
        if not _URL.match(value):
            raise ValueError(f"{shown(value)} is not an http(s) address")
        return value


def _finite(value: Any) -> bool:
    """Whether every number in a plain value is finite (``.inf`` and ``.nan`` are no law)."""
    if isinstance(value, float):
        return math.isfinite(value)
    if isinstance(value, dict):
        return all(_finite(item) for item in value.values())
    if isinstance(value, list):
        return all(_finite(item) for item in value)
    return True


class DatedValue(_Data):
    """A value in force from a date, with the source that sets it.

    A later dated value replaces an earlier one; ``value: null`` ends it (repeal). This is
    OpenFisca's convention: a value is never deleted, so a past date keeps its law.
    """

    start: dt.date = Field(alias="from")
    value: Any
    source: Source
    note: str | None = None

    @field_validator("value")
    @classmethod
    def _numbers_are_finite(cls, value: Any) -> Any:
        if not _finite(value):
            raise ValueError("a number in the value is not finite (.inf or .nan)")
        return value


def _check_timeline(values: list[Any]) -> list[Any]:
    starts = [value.start for value in values]
    if starts != sorted(starts):
        raise ValueError("dated values must be listed in order of their 'from' date")
    if len(set(starts)) != len(starts):
        raise ValueError("two dated values start on the same day")
    return values


class Parameter(_Data):
    """A named value of the law, dated. ``provisional`` marks a value the sources do not publish.

    A *scale* is a parameter whose value is a list of brackets ``{at_least: N, value: V}`` in
    increasing order (the first may leave ``at_least`` out: it then takes every lower
    amount); the ``band`` operator reads it."""

    description: Annotated[str, Field(min_length=3)]
    unit: str | None = None
    provisional: bool = False
    values: Annotated[list[DatedValue], Field(min_length=1)]

    _ordered = field_validator("values")(_check_timeline)


class Table(_Data):
    """A keyed family of dated values: e.g. the stay regime of each nationality."""

    description: Annotated[str, Field(min_length=3)]
    key: Annotated[str, Field(min_length=1, description="What the keys are, e.g. 'citizenship'.")]
    unit: str | None = None
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


class TableValues(_Data):
    """Allowed values of a string input: the keys of a table of the policy."""

    table: DottedName


class InputField(_Data):
    """One input a programme reads from the person record.

    Every input may be left out of a record (or given as ``null``): it is then *unknown*, and
    a rule that needs it decides ``undetermined`` naming its path. Bounds keep the cost of a
    record bounded: strings are at most ``max_length`` characters, lists ``max_items`` long.
    """

    type: Literal["date", "integer", "decimal", "boolean", "string", "record", "list"]
    description: Annotated[str, Field(min_length=3)]
    unit: str | None = None
    values: list[Annotated[str, Field(min_length=1, max_length=64)]] | TableValues | None = Field(
        default=None, description="string: the allowed values, or {table: NAME} for the keys of a table."
    )
    unknown_values: list[Annotated[str, Field(min_length=1, max_length=64)]] = Field(
        default_factory=list,
        description="string: allowed values that say the answer is not known yet ('pending'): the fact "
        "then has no value, as if the field were left out, and a verdict that needs it names it.",
    )
    minimum: int | float | None = Field(default=None, alias="min")
    maximum: int | float | None = Field(default=None, alias="max")
    max_length: Annotated[int, Field(ge=1, le=10_000)] = 200
    fields: dict[Code, InputField] | None = Field(
        default=None, description="record: its fields; list: the fields of each item (a record)."
    )
    max_items: Annotated[int, Field(ge=1, le=100_000)] = 1000
    unique: Code | None = Field(default=None, description="list: a field no two items may share.")

    @model_validator(mode="after")
    def _keys_fit_the_type(self) -> InputField:
        allowed = {
            "string": {"values", "max_length", "unknown_values"},
            "integer": {"minimum", "maximum"},
            "decimal": {"minimum", "maximum"},
            "record": {"fields"},
            "list": {"fields", "max_items", "unique"},
        }.get(self.type, set())
        defaults: dict[str, object] = {"max_length": 200, "max_items": 1000, "unknown_values": []}
        used = {
            name
            for name in (
                "values",
                "minimum",
                "maximum",
                "max_length",
                "fields",
                "max_items",
                "unique",
                "unknown_values",
            )
            if getattr(self, name) is not None and getattr(self, name) != defaults.get(name)
        }
        wrong = sorted(used - allowed)
        if wrong:
            shown = ", ".join("min" if w == "minimum" else "max" if w == "maximum" else w for w in wrong)
            raise ValueError(f"a {self.type} input takes no {shown}")
        if self.type in ("record", "list") and not self.fields:
            raise ValueError(f"a {self.type} input needs its fields")
        if self.unknown_values and isinstance(self.values, list):
            stray = [value for value in self.unknown_values if value not in self.values]
            if stray:
                raise ValueError(f"unknown_values names {', '.join(stray)}, not among the values")
        if self.unique is not None and self.fields is not None and self.unique not in self.fields:
            raise ValueError(f"unique names {self.unique!r}, which is not one of its fields")
        if (
            self.type == "list"
            and self.fields
            and any(f.type in ("record", "list") for f in self.fields.values())
        ):
            raise ValueError("the items of a list hold plain fields (no record or list inside)")
        return self


class ReportFromStatus(_Data):
    """A report item listing the rules of one status: ``{rules_with_status: refused}`` gives the
    fired rules that decided it; ``{checklist: refused}`` gives every rule of that status in
    force, each ``failed`` (it fired), ``met`` (its facts are known and it did not fire) or
    ``unknown`` (a fact it reads is unknown)."""

    rules_with_status: Code | None = None
    checklist: Code | None = None

    @model_validator(mode="after")
    def _one(self) -> ReportFromStatus:
        if (self.rules_with_status is None) == (self.checklist is None):
            raise ValueError("give one of rules_with_status or checklist")
        return self


class ReportValue(_Data):
    """A report item shown only for some statuses (``null`` otherwise)."""

    value: Any
    when_status: Annotated[list[Code], Field(min_length=1)]


class WarningSpec(_Data):
    """A warning a programme's section raises: ``text`` when the condition ``when`` holds,
    followed by the items the formula ``items`` lists (the payments concerned, say); when the
    condition cannot be known, the warning says the check could not be made, and why.
    ``text_ru`` and ``text_kk`` give the text in Russian and Kazakh, for the text output in
    those languages (English where missing)."""

    when: Any
    text: Annotated[str, Field(min_length=3, max_length=300)]
    items: Any = None
    text_ru: Annotated[str, Field(min_length=3, max_length=300)] | None = None
    text_kk: Annotated[str, Field(min_length=3, max_length=300)] | None = None

    def texted(self, language: str) -> str:
        """The text in ``language``, or in English where the policy gives no such form."""
        return {"ru": self.text_ru, "kk": self.text_kk}.get(language) or self.text


class Programme(_Translated):
    """A programme the policy decides: its statuses (strongest first) and how it is evaluated.

    * ``evaluated``: ``always`` (every record) or ``with_record`` (only when the person record
      carries the programme's ``record`` key);
    * ``reads``: the programmes decided before this one whose facts (and ``<programme>.status``)
      its formulas and rules may read;
    * ``required``: an evaluated programme that no rule decides is an error (a gap in the law
      as encoded); an optional one (a sanction) is simply absent;
    * ``mechanism``: the name of a Python mechanism that supplies facts the policy cannot state
      as formulas (the stay limit's day counting);
    * ``section``: where the programme's decision is reported; by default a section of the
      verdict named after the programme; ``stay.sanction`` places it in a slot of another
      programme's section;
    * ``inputs``: the fields of the record's ``record`` key, typed;
    * ``report``: the values the programme's section shows, each a formula, a formula shown
      only for some statuses, a time line of dates, or a list of rules;
    * ``warnings``: checks whose failure the verdict warns about, never changing a status;
    * ``title_ru``, ``title_kk``, ``note_ru``, ``note_kk``: the title and note in Russian and
      Kazakh, for the text output in those languages (English where missing).
    """

    title: Annotated[str, Field(min_length=3)]
    precedence: Annotated[list[Code], Field(min_length=1)]
    required: bool = True
    evaluated: Literal["always", "with_record"] = "always"
    record: Code | None = None
    reads: list[Code] = Field(default_factory=list)
    mechanism: Code | None = None
    section: DottedName | None = None
    inputs: dict[Code, InputField] = Field(default_factory=dict)
    report: dict[Code, Any] = Field(default_factory=dict)
    warnings: list[WarningSpec] = Field(default_factory=list)
    note: str | None = None

    @model_validator(mode="after")
    def _record_fits(self) -> Programme:
        if len(set(self.precedence)) != len(self.precedence):
            raise ValueError("a status is listed twice in precedence")
        if self.evaluated == "with_record" and self.record is None:
            raise ValueError("a programme evaluated with_record names its record key ('record')")
        if self.inputs and self.record is None:
            raise ValueError("a programme with inputs names the record key that holds them ('record')")
        if self.section is not None and (self.report or self.warnings):
            raise ValueError(
                "a programme reported in another section ('section') has no report or warnings of its own"
            )
        return self


class Formula(_Data):
    """One dated formula of a computed fact: in force from ``from`` until the next one."""

    start: dt.date = Field(alias="from")
    formula: Any
    source: Source
    note: str | None = None


class ComputedFact(_Data):
    """A fact the engine computes from other facts, parameters and tables, by dated formulas.

    Its name starts with its programme (``residence.points``). ``type`` is checked against
    what the formula computes. A formula of ``null`` ends the fact from its date."""

    description: Annotated[str, Field(min_length=3)]
    type: Literal["date", "integer", "decimal", "boolean", "string", "list", "record"]
    unit: str | None = None
    formulas: Annotated[list[Formula], Field(min_length=1)]

    _ordered = field_validator("formulas")(_check_timeline)


class ParamRef(_Data):
    """A reference to a parameter, resolved at the evaluation date."""

    param: DottedName


ConditionValue = Scalar | list[Scalar] | ParamRef


class Comparison(_Data):
    """``{fact: stay.days_used, gt: 90}``: one fact compared by exactly one operator."""

    fact: DottedName
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


class Outcome(_Noted):
    """What a rule decides when it applies: a status of its programme, the facts whose absence
    it reports (for an ``undetermined`` outcome: each is shown as its input path), and named
    values it reports with the decision, each a formula (a fine:
    ``values: {fine_mci: {param: sanction.fine_mci}}``). An empty outcome means the rule only
    applies."""

    status: Code | None = None
    missing: list[DottedName] = Field(default_factory=list)
    values: dict[Code, Any] = Field(default_factory=dict)
    note: str | None = None


class Rule(_Translated):
    """A dated, sourced decision: when ``when`` holds on the evaluation date, ``then`` applies.

    The rule's programme is the first segment of its id (``stay.overstay`` -> ``stay``).
    ``overrides`` names base rules this rule sets aside when both fire (an exception in the
    sense of Catala). ``refines`` names one base rule whose condition and dates this rule adds
    to its own, and which it overrides: an exception written without restating the base.
    ``exempts`` names a status kind (the stay limit's mechanism): days of stay covered by a
    valid status of that kind, while the rule is in force, are not counted by the base rule
    it overrides. ``title_ru``, ``title_kk``, ``note_ru`` and ``note_kk`` give the title and
    note in Russian and Kazakh, for the text output in those languages (English where missing).
    """

    id: DottedName
    title: Annotated[
        str,
        Field(
            min_length=3,
            description=(
                "What the rule says, in English. A number the law sets is best written as the "
                "parameter that holds it, in braces ({stay.limit_days}): every verdict shows the "
                "value in force on its date."
            ),
        ),
    ]
    source: Source
    start: dt.date = Field(alias="from")
    end: dt.date | None = Field(default=None, alias="to")
    when: Condition | None = None
    then: Outcome = Field(default_factory=Outcome)
    overrides: list[DottedName] = Field(default_factory=list)
    refines: DottedName | None = None
    exempts: Code | None = None
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

    @property
    def bases(self) -> tuple[str, ...]:
        """The rules this rule sets aside when both fire: ``overrides`` and the refined rule."""
        if self.refines is None or self.refines in self.overrides:
            return tuple(self.overrides)
        return (*self.overrides, self.refines)

    def in_force(self, day: dt.date) -> bool:
        """Whether the rule's own dates cover ``day`` (a refinement also needs its base)."""
        return self.start <= day and (self.end is None or day <= self.end)


class PolicyHeader(_Data):
    """The header one file of a policy carries: its name and title, and optionally the order in
    which verdicts and the trace list the programmes (programmes not listed follow in the order
    they are written)."""

    name: Annotated[str, Field(pattern=r"^[a-z][a-z0-9_-]*$", max_length=40)]
    title: Annotated[str, Field(min_length=3)]
    order: list[Code] = Field(default_factory=list)


class PolicyFile(_Data):
    """The outline of one YAML file of a policy (or an amendment).

    The sections hold raw items here; the loader validates each item on its own (with
    :class:`Programme`, :class:`Parameter`, ... ) so that every problem is found in one pass.
    """

    schema_id: Literal["kzmig/policy/2"] = Field(alias="schema")
    title: Annotated[str, Field(min_length=3)]
    description: str | None = None
    policy: dict[str, Any] | None = None
    programmes: dict[Code, Any] = Field(default_factory=dict)
    parameters: dict[DottedName, Any] = Field(default_factory=dict)
    tables: dict[DottedName, Any] = Field(default_factory=dict)
    status_kinds: dict[Code, Any] = Field(default_factory=dict)
    facts: dict[DottedName, Any] = Field(default_factory=dict)
    rules: list[Any] = Field(default_factory=list)
    repeals: list[DottedName] = Field(
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
