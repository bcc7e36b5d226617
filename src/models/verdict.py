"""The verdict: what the engine answers, with the trace that explains it.

``Verdict.model_dump(mode="json")`` is the stable JSON document that ``kzmig check --format
json`` prints and that consular systems code against. Field names and meanings change only
with a new major version.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from enum import StrEnum
from typing import Any, Literal, TypeVar

from pydantic import BaseModel, ConfigDict, Field

__all__ = [
    "SECTION_FIELDS",
    "SECTION_KEYS",
    "ChecklistItem",
    "Decision",
    "Derivation",
    "ProgrammeSection",
    "RuleRef",
    "OverstayPeriod",
    "PolicyGap",
    "PolicyRef",
    "RegistrationDue",
    "SourceRef",
    "StayResult",
    "StayStatus",
    "TraceEntry",
    "Verdict",
]


class _Out(BaseModel):
    model_config = ConfigDict(
        defer_build=True, extra="forbid", frozen=True, validate_by_name=True, serialize_by_alias=True
    )


class StayStatus(StrEnum):
    """The stay-limit status of a person on the evaluation date."""

    COMPLIANT = "compliant"
    OVERSTAY = "overstay"
    EXEMPT = "exempt"
    NOT_APPLICABLE = "not_applicable"
    UNDETERMINED = "undetermined"


class SourceRef(_Out):
    """A legal source: its title, where to read it, and the act's own date when the policy gives it."""

    title: str
    href: str
    date: dt.date | None = None


class PolicyRef(_Out):
    """Which policy produced a verdict: its name and content hash."""

    name: str
    version: str


class Derivation(_Out):
    """How a computed fact was computed: the operator of its formula, the facts and parameters
    it read with their values, and whether it rests on provisional law or missing inputs."""

    fact: str
    value: Any = None
    formula: str = Field(description="The formula's operator, e.g. 'add' or 'lookup'.")
    operands: dict[str, Any] = Field(
        default_factory=dict, description="The facts the formula read, with their values (null: none)."
    )
    reads: tuple[str, ...] = Field(default=(), description="The parameters and tables the formula read.")
    missing: tuple[str, ...] = ()
    provisional: tuple[str, ...] = Field(
        default=(), description="The provisional parameters and tables the value rests on."
    )


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
    derivations: tuple[Derivation, ...] = Field(
        default=(),
        description="The computed facts the rule read, each with its operands, in the order computed.",
    )


class OverstayPeriod(_Out):
    """A run of consecutive overstay days."""

    start: dt.date = Field(alias="from")
    end: dt.date = Field(alias="to")
    days: int


class PolicyGap(_Out):
    """A value the policy lacks for this record: the table, the key and the day with no row.

    Not a fact the caseworker can supply: the policy must be completed (or amended)."""

    table: str
    key: str
    on: dt.date
    note: str


class Decision(_Out):
    """The outcome of a programme that follows from the stay limit (a sanction, the check at
    entry): its status, the rule that decided it, and the values that rule reports (e.g.
    ``fine_mci`` and ``fine_kzt``). ``provisional`` marks a decision resting on a rule or
    value the sources do not publish."""

    status: str
    rule: str
    values: dict[str, Any] = Field(default_factory=dict)
    provisional: bool = False
    missing: tuple[str, ...] = ()
    note: str | None = None


class RuleRef(_Out):
    """A rule named in a section: its id and title."""

    rule: str
    title: str


class ChecklistItem(_Out):
    """One rule of a checklist (the gates of a pre-selection): ``failed`` when it fired,
    ``met`` when its facts are known and it did not fire, ``unknown`` when a fact it reads is
    unknown, ``set_aside`` when an exception set it aside, ``not_in_force`` on a date it does
    not cover."""

    rule: str
    title: str
    result: Literal["failed", "met", "unknown", "set_aside", "not_in_force"]


#: The keys every programme section has; a policy's report adds its own beside them.
SECTION_KEYS = ("title", "status", "decided_by", "missing", "provisional")


class ProgrammeSection(_Out):
    """The section of a programme the policy declares (``residence``, say).

    ``title`` is the programme's title in the policy; ``status`` its status; ``decided_by`` the
    rules that decided it; ``missing`` the input paths whose absence left it undetermined;
    ``provisional`` whether it rests on a value the sources do not publish. Every other key is a
    value the policy's ``report`` declares for the programme (``points``, ``pass_mark``, ...):
    null when it cannot be computed, left out when the policy shows it only for other statuses.
    """

    model_config = ConfigDict(
        defer_build=True, extra="allow", frozen=True, validate_by_name=True, serialize_by_alias=True
    )

    title: str
    status: str
    decided_by: tuple[str, ...] = ()
    missing: tuple[str, ...] = ()
    provisional: bool = False


class RegistrationDue(_Out):
    """The registration due after one entry.

    ``procedure`` is ``host_notification`` (the host notifies the migration police) or
    ``self_registration`` (the immigrant registers online). ``due`` is the last day to do it:
    ``days`` days counted as ``counted`` (working days of the Kazakh calendar, or calendar
    days) from ``entry``, by the counting convention of the policy. ``source`` is the act that
    sets the deadline; ``note`` the policy's remark on it, if any.
    """

    procedure: Literal["host_notification", "self_registration"]
    entry: dt.date = Field(description="The day of the border crossing that starts the period.")
    due: dt.date = Field(description="The last day to complete the procedure.")
    counted: Literal["working_days", "calendar_days"]
    days: int = Field(description="The length of the period, in the unit given by 'counted'.")
    source: SourceRef
    note: str | None = None
    state: Literal["done", "done_late", "due", "overdue"] | None = Field(
        default=None,
        description=(
            "On the evaluation date: done (registered_on on or before due), done_late (after it), "
            "due (not yet done, due not passed) or overdue (not done, due passed)."
        ),
    )
    registered_on: dt.date | None = Field(
        default=None, description="The day the record says the registration was done."
    )


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
    overstay_now: bool | None = Field(
        default=None,
        description=(
            "Whether the evaluation date itself is an overstay day (the person is in the country "
            "beyond the limit), as against overstay days only in the past; null without figures."
        ),
    )
    overstay_periods: tuple[OverstayPeriod, ...] = ()
    exempt_days: int | None = None
    latest_exit: dt.date | None = None
    missing: tuple[str, ...] = ()
    sanction: Decision | None = Field(
        default=None, description="Code of Administrative Offences art. 517, for the latest overstay."
    )
    entry_check: Decision | None = Field(
        default=None, description="Migration Law art. 48, on a day the person entered."
    )
    registration: RegistrationDue | None = Field(
        default=None, description="The registration the current trip needs, and when it is due."
    )
    regime: str | None = Field(
        default=None,
        description="The stay regime of the citizenship on the evaluation date (table stay.regimes).",
    )
    policy_gaps: tuple[PolicyGap, ...] = Field(
        default=(),
        description=(
            "Values the policy lacks for this record (undetermined, with nothing the caseworker can supply)."
        ),
    )


#: The sections every verdict has, whatever the policy: consular systems code against them.
SECTION_FIELDS = ("stay",)


class Verdict(_Out):
    """The engine's answer for one person on one date.

    ``stay`` is always there; each other programme the policy evaluated for this record adds a
    section of its own under its name (``residence``, ``social_contract``): a
    :class:`ProgrammeSection`. ``verdict.section("residence")`` reads one; it is ``None`` when
    the record carried no input for that programme.
    """

    model_config = ConfigDict(
        defer_build=True, extra="allow", frozen=True, validate_by_name=True, serialize_by_alias=True
    )
    __pydantic_extra__: dict[str, ProgrammeSection] = Field(init=False)

    format: str = Field(default="kzmig/verdict/2", description="The version of this document's format.")
    engine_version: str = Field(default="", description="The version of kzmig that wrote it.")
    person_id: str
    as_of: dt.date
    policy: PolicyRef
    stay: StayResult
    trace: tuple[TraceEntry, ...]
    warnings: tuple[str, ...] = ()

    def section(self, programme: str) -> ProgrammeSection | None:
        """The section of ``programme`` (``None`` when the verdict has none)."""
        extra = self.model_extra or {}
        found = extra.get(programme)
        return found if isinstance(found, ProgrammeSection) else None

    @property
    def sections(self) -> dict[str, ProgrammeSection]:
        """Every programme section beside ``stay``, by programme."""
        return {
            name: value
            for name, value in (self.model_extra or {}).items()
            if isinstance(value, ProgrammeSection)
        }

    def to_json(self) -> dict[str, Any]:
        """The stable JSON document (aliases applied, dates as ISO strings)."""
        return self.model_dump(mode="json")


# --- building a verdict from values already valid ---------------------------------------------

_Model = TypeVar("_Model", bound=BaseModel)

#: Per output model, each field's name with its default (or default factory), in declaration
#: order: computed once at import, read only afterwards (thread- and fork-safe).
_PLANS: dict[type[BaseModel], tuple[tuple[str, Any, Callable[[], Any] | None], ...]] = {
    cls: tuple(
        (name, field.default, field.default_factory)  # type: ignore[misc]
        for name, field in cls.model_fields.items()
    )
    for cls in (
        Derivation,
        TraceEntry,
        OverstayPeriod,
        Decision,
        RegistrationDue,
        RuleRef,
        ChecklistItem,
        StayResult,
        ProgrammeSection,
        Verdict,
    )
}
#: Per output model, every field with its default, in declaration order (``None`` in the place
#: of a field made by a factory), and the fields made by a factory.
_DEFAULTS: dict[type[BaseModel], dict[str, Any]] = {
    cls: {name: default if factory is None else None for name, default, factory in plan}
    for cls, plan in _PLANS.items()
}
_FACTORIES: dict[type[BaseModel], tuple[tuple[str, Callable[[], Any]], ...]] = {
    cls: tuple((name, factory) for name, _, factory in plan if factory is not None)
    for cls, plan in _PLANS.items()
}
_set = object.__setattr__
#: Per output model, the names of its fields: copied for an instance given every field.
_FIELD_NAMES: dict[type[BaseModel], set[str]] = {cls: set(defaults) for cls, defaults in _DEFAULTS.items()}
#: Per output model, whether it keeps extra fields (``Verdict``'s sections).
_ALLOWS_EXTRA: dict[type[BaseModel], bool] = {cls: cls.model_config.get("extra") == "allow" for cls in _PLANS}
#: The attributes every instance has set when made: its fields, those given, its extra fields
#: and its private attributes.
_INSTANCE_ATTRIBUTES = ("__dict__", "__pydantic_fields_set__", "__pydantic_extra__", "__pydantic_private__")


def _setter(cls: type[BaseModel], name: str) -> Callable[[Any, Any], None]:
    """What ``object.__setattr__(instance, name, value)`` does for an instance of ``cls``: the
    setter of the data descriptor (a slot, the instance dictionary) the class finds under
    ``name``, called directly (without the look-up per call); anything else (``Verdict``
    declares ``__pydantic_extra__`` as a field, which hides the slot) set as that call sets it."""
    found = next((klass.__dict__[name] for klass in cls.__mro__ if name in klass.__dict__), None)
    if found is not None and hasattr(type(found), "__set__"):
        return found.__set__  # type: ignore[no-any-return]
    return lambda instance, value: _set(instance, name, value)


#: Per output model, its ``__new__`` (looked up once, not per instance) and the setters of
#: :data:`_INSTANCE_ATTRIBUTES`, in that order.
_SETTERS: dict[type[BaseModel], tuple[Callable[..., Any], ...]] = {
    cls: (cls.__new__, *(_setter(cls, name) for name in _INSTANCE_ATTRIBUTES)) for cls in _PLANS
}


def built(cls: type[_Model], values: dict[str, Any], extra: dict[str, Any] | None = None) -> _Model:
    """An instance of the output model ``cls`` from ``values`` keyed by field name (not alias)
    that are already what validation would keep (a tuple for a tuple, a member of the enum, an
    instance of the nested model): the same instance as validation builds, without validating.
    Much cheaper than validation, and than ``model_construct``. ``extra``: the extra fields of
    a model that allows them (``Verdict``'s sections)."""
    defaults = _DEFAULTS[cls]
    fields = defaults.copy()  # every field, in declaration order: values replace in place
    fields.update(values)
    if len(fields) != len(defaults):  # a name that is not a field: left out, as validation would
        fields = {name: fields[name] for name in defaults}
    for name, factory in _FACTORIES[cls]:
        if name not in values:
            fields[name] = factory()
    new, set_dict, set_fields_set, set_extra, set_private = _SETTERS[cls]
    model: _Model = new(cls)
    set_dict(model, fields)
    set_fields_set(model, set(values) if extra is None else {*values, *extra})
    set_extra(model, ({} if extra is None else extra) if _ALLOWS_EXTRA[cls] else None)
    set_private(model, None)
    return model


def built_whole(cls: type[_Model], fields: dict[str, Any]) -> _Model:
    """:func:`built` of ``fields`` that give every field of ``cls`` (a model without extra
    fields), in declaration order: the same instance, without filling defaults in (the trace's
    entries and derivations, a section's checklist, made per fired rule)."""
    new, set_dict, set_fields_set, set_extra, set_private = _SETTERS[cls]
    model: _Model = new(cls)
    set_dict(model, fields)
    set_fields_set(model, _FIELD_NAMES[cls].copy())
    set_extra(model, None)
    set_private(model, None)
    return model


def copied(model: _Model, update: dict[str, Any]) -> _Model:
    """``model.model_copy(update=update)``: a shallow copy with ``update``'s fields replaced,
    the same instance as pydantic's, built without its general copy (a verdict is copied per
    record of a population run). Keys that are not fields (a verdict's sections) take
    pydantic's own copy."""
    cls = type(model)
    if not update.keys() <= cls.__pydantic_fields__.keys():
        return model.model_copy(update=update)
    fresh = cls.__new__(cls)
    _set(fresh, "__dict__", {**model.__dict__, **update})
    extra = model.__pydantic_extra__
    _set(fresh, "__pydantic_extra__", None if extra is None else extra.copy())
    _set(fresh, "__pydantic_fields_set__", {*model.__pydantic_fields_set__, *update})
    private = model.__pydantic_private__
    _set(fresh, "__pydantic_private__", None if private is None else private.copy())
    return fresh
