"""A person as the engine receives them: citizenship, statuses held, and trips to Kazakhstan.

These models are the input contract for consular systems and for ``kzmig check``. They are
strict (unknown fields are refused) and every problem is reported with its place, so that a
caller can fix the record instead of guessing. A fact the caller does not know is left out
(``None``): the engine then answers ``undetermined`` and names it, never a silent default.
"""

from __future__ import annotations

import datetime as dt
import functools
import re
from collections.abc import Callable, Collection
from typing import Annotated, Any, Self

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    ModelWrapValidatorHandler,
    ValidationError,
    ValidationInfo,
    field_validator,
    model_validator,
)
from pydantic_core import SchemaValidator

from models._fields import Day, refused_as_always, shown
from models.crossing import Crossing

__all__ = ["CORE_FIELDS", "MAX_STATUSES", "MAX_TRIPS", "Person", "Status", "Trip"]

_COUNTRY_CODE = re.compile(r"^[A-Z]{2}$")
#: Citizenship texts already read, with their code: bounded, so that a flood of distinct texts
#: cannot grow it (past the bound each is read anew).
_CITIZENSHIPS: dict[str, str] = {}
_CITIZENSHIPS_KEPT = 4096
_STATUS_KIND = re.compile(r"^[a-z][a-z0-9_]*$")


class _Strict(BaseModel):
    model_config = ConfigDict(defer_build=True, extra="forbid", frozen=True)

    @model_validator(mode="wrap")
    @classmethod
    def _refused_as_always(
        cls, data: Any, handler: ModelWrapValidatorHandler[Self], info: ValidationInfo
    ) -> Self:
        """A refused day is reported as :func:`models._fields.parse_day` refuses it (a
        :data:`Day` read without it reports each branch of its reading)."""
        try:
            return handler(data)
        except ValidationError as error:
            as_always = refused_as_always(error, info.mode)
            if as_always is None:
                raise
            raise as_always from None


class Trip(_Strict):
    """One stay in Kazakhstan: the day of entry and, once left, the day of exit (both local days)."""

    entry: Day
    exit: Day | None = Field(
        default=None, description="Day of exit; absent while the person is still in the country."
    )
    registered_on: Day | None = Field(
        default=None,
        description=(
            "Day the stay of this trip was registered (the host's notification or the "
            "immigrant's own registration); absent when not known or not done."
        ),
    )

    @model_validator(mode="after")
    def _exit_not_before_entry(self) -> Trip:
        if self.exit is not None and self.exit < self.entry:
            raise ValueError(f"exit {self.exit} is before entry {self.entry}")
        if self.registered_on is not None and self.registered_on < self.entry:
            raise ValueError(f"registered_on {self.registered_on} is before entry {self.entry}")
        return self


class Status(_Strict):
    """A status the person holds (residence permit, crew member, ...), valid between two days.

    ``kind`` must be one of the status kinds declared by the policy in use; the engine checks
    that, since the list of kinds is law and lives in the policy files.
    """

    kind: Annotated[str, Field(min_length=1, max_length=64)]
    valid_from: Day
    valid_to: Day | None = Field(
        default=None, description="Last day of validity; absent for a status without an end date."
    )
    document: str | None = Field(
        default=None, max_length=200, description="Optional reference of the proving document."
    )

    @field_validator("kind")
    @classmethod
    def _kind_is_a_code(cls, value: str) -> str:
        if not _STATUS_KIND.match(value):
            raise ValueError(f"status kind {shown(value)} is not a snake_case code such as 'aircraft_crew'")
        return value

    @model_validator(mode="after")
    def _valid_to_not_before_valid_from(self) -> Status:
        if self.valid_to is not None and self.valid_to < self.valid_from:
            raise ValueError(f"valid_to {self.valid_to} is before valid_from {self.valid_from}")
        return self

    def covers(self, day: dt.date) -> bool:
        """Whether the status is valid on ``day`` (both ends inclusive)."""
        return self.valid_from <= day and (self.valid_to is None or day <= self.valid_to)


#: Bounds on one record, so that one record cannot cost without bound: no travel history comes
#: near them (a daily commuter for 27 years makes 10,000 trips).
MAX_TRIPS = 10_000
MAX_STATUSES = 1_000

#: The fields every person record may carry; a policy's programmes add sections of their own.
CORE_FIELDS = ("person_id", "citizenship", "statuses", "trips", "crossings")


class Person(_Strict):
    """A person's migration record.

    Besides these fields, a record may carry one section per programme of the policy that
    takes inputs (``residence_application``, say): the policy declares their fields and types,
    and :func:`rules.engine.inputs.parse_person` validates them. This model keeps them as given
    (``model_extra``); any other field is refused there, with its place.

    ``citizenship`` is an ISO 3166-1 alpha-2 code. ``trips`` must be in chronological order
    and must not overlap; at most the last trip may lack an exit. Instead of ``trips``, a
    record may give the raw ``crossings`` (see :class:`models.crossing.Crossing`). Leaving
    ``citizenship`` or the travel record out means "not known" and yields an ``undetermined``
    verdict that names it; an empty ``trips`` list means "never entered".
    """

    model_config = ConfigDict(defer_build=True, extra="allow", frozen=True)

    person_id: Annotated[str, Field(min_length=1, max_length=128)]
    citizenship: str | None = Field(
        default=None,
        description="ISO 3166-1 alpha-2 code of the citizenship, such as RU (case and surrounding "
        "spaces are ignored); absent or null when not known.",
        json_schema_extra={"pattern": r"^\s*[A-Za-z]{2}\s*$"},
    )
    statuses: tuple[Status, ...] = Field(default=(), max_length=MAX_STATUSES)
    trips: tuple[Trip, ...] | None = Field(default=None, max_length=MAX_TRIPS)
    crossings: tuple[Crossing, ...] | None = Field(
        default=None,
        max_length=2 * MAX_TRIPS,
        description="Raw border-crossing events, in any order, instead of trips: the engine "
        "pairs them into trips at the local day of each border post.",
    )

    @field_validator("citizenship", mode="before")
    @classmethod
    def _citizenship_is_alpha2(cls, value: object) -> object:
        if not isinstance(value, str):
            return value
        known = _CITIZENSHIPS.get(value)
        if known is not None:  # the same text read before (a few hundred codes are ever given)
            return known
        given = value.strip()
        # Upper-case only ASCII: 'ß'.upper() is 'SS', which is South Sudan.
        code = given.upper() if given.isascii() else given
        if not _COUNTRY_CODE.match(code):
            raise ValueError(f"{shown(given)} is not an ISO 3166-1 alpha-2 country code such as 'RU'")
        from models._countries import is_country_code

        if not is_country_code(code):
            raise ValueError(f"{shown(code)} is not an assigned ISO 3166-1 alpha-2 country code")
        if len(_CITIZENSHIPS) < _CITIZENSHIPS_KEPT:
            _CITIZENSHIPS[value] = code
        return code

    @classmethod
    def model_validate(cls, obj: Any, **options: Any) -> Self:
        """The record read as :class:`Person` reads it, with its usual checks made in one pass.

        pydantic-core reads the record without the checks between trips and within each trip
        (Python calls, one per trip); one walk over the trips then makes them. A record that
        fails a check, or the reading, is read again in full, for its errors (:meth:`_checked`
        only says whether to). With options, or for a subclass, the record is read in full.
        """
        if options or cls is not Person:
            return super().model_validate(obj, **options)
        try:
            person: Self = _quick_reading().validate_python(obj)
        except ValidationError:
            return super().model_validate(obj)
        return person if person._checked() else super().model_validate(obj)

    def _checked(self) -> bool:
        """Whether the record passes the checks of its trips: each exit and registration not
        before its entry (:meth:`Trip._exit_not_before_entry`), trips in order without overlap
        (:meth:`_trips_in_order_without_overlap`), not both trips and crossings."""
        trips = self.trips
        if trips is None:
            return True
        if self.crossings is not None:
            return False
        last_exit: dt.date | None = None
        for index, trip in enumerate(trips):
            entry = trip.entry
            if index and (last_exit is None or entry < last_exit):
                return False
            last_exit = trip.exit
            if last_exit is not None and last_exit < entry:
                return False
            registered = trip.registered_on
            if registered is not None and registered < entry:
                return False
        return True

    @model_validator(mode="after")
    def _trips_or_crossings(self) -> Person:
        if self.trips is not None and self.crossings is not None:
            raise ValueError("give either trips or crossings, not both")
        return self

    @field_validator("trips")
    @classmethod
    def _trips_in_order_without_overlap(cls, trips: tuple[Trip, ...] | None) -> tuple[Trip, ...] | None:
        """Checked on the list, so that a problem is placed at ``trips`` (and names the items)."""
        problems: list[str] = []
        for index, (earlier, later) in enumerate(zip(trips or (), (trips or ())[1:], strict=False)):
            if later.entry < earlier.entry:
                problems.append(
                    f"trips[{index + 1}] enters on {later.entry}, before trips[{index}] "
                    f"({earlier.entry}): trips must be in chronological order"
                )
            elif earlier.exit is None:
                problems.append(
                    f"trips[{index}] has no exit but trips[{index + 1}] follows it: "
                    "only the last trip may be open"
                )
            elif later.entry < earlier.exit:
                # Leaving and re-entering on the same day is lawful (and common): that day
                # is one day of stay, not two. Entering before the previous exit is not.
                problems.append(
                    f"trips[{index + 1}] enters on {later.entry}, before the exit of "
                    f"trips[{index}] ({earlier.exit}): trips overlap"
                )
        if problems:
            raise ValueError("; ".join(problems))
        return trips


def _without(schema: Any, leaving: Collection[Callable[..., Any]]) -> Any:
    """``schema`` (a core schema) without the validator functions ``leaving``: each node of one
    is replaced by the schema it wraps, which takes over the node's reference. The functions
    are compared unbound (a classmethod validator's function is bound to its class here)."""
    if isinstance(schema, list):
        return [_without(item, leaving) for item in schema]
    if not isinstance(schema, dict):
        return schema
    function = schema.get("function")
    if isinstance(function, dict) and "schema" in schema:
        if getattr(function["function"], "__func__", function["function"]) in leaving:
            inner = _without(schema["schema"], leaving)
            return {**inner, "ref": schema["ref"]} if "ref" in schema else inner
    return {key: _without(value, leaving) for key, value in schema.items()}


@functools.cache
def _quick_reading() -> SchemaValidator:
    """:class:`Person`'s reading without the checks :meth:`Person._checked` makes (nor
    :meth:`_Strict._refused_as_always`, for a record it refuses is read again in full)."""
    Person.model_rebuild()  # the models defer their schema to first use
    leaving = {
        _Strict._refused_as_always.__func__,
        Trip._exit_not_before_entry,
        Person._trips_in_order_without_overlap.__func__,  # type: ignore[attr-defined]
        Person._trips_or_crossings,
    }
    return SchemaValidator(_without(Person.__pydantic_core_schema__, leaving))
