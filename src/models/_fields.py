"""Field types and messages the models share.

``Day`` is a calendar day given exactly as ``YYYY-MM-DD`` (or a :class:`datetime.date`): not a
number (pydantic would read ``0`` as 1970-01-01), not a date and time, not an ISO week date.
``shown`` quotes a refused value cut to a bounded length, so that an error never repeats a huge
input in full.
"""

from __future__ import annotations

import datetime as dt
import re
from typing import Annotated, Literal

from pydantic import GetCoreSchemaHandler, GetJsonSchemaHandler
from pydantic.json_schema import JsonSchemaValue
from pydantic_core import InitErrorDetails, ValidationError, core_schema

__all__ = ["DAY_FORMAT", "Day", "parse_day", "refused_as_always", "shown"]

#: The only text form of a day the engine reads.
DAY_FORMAT = re.compile(r"^[0-9]{4}-[0-9]{2}-[0-9]{2}$")
#: The most characters of a refused value an error message repeats.
SHOWN_CHARACTERS = 60


def shown(value: object) -> str:
    """``repr(value)``, cut to :data:`SHOWN_CHARACTERS` characters of the value with its length."""
    if isinstance(value, str) and len(value) > SHOWN_CHARACTERS:
        return f"{value[:SHOWN_CHARACTERS]!r}... ({len(value):,} characters)"
    return repr(value)


_fromisoformat = dt.date.fromisoformat


def parse_day(value: object) -> dt.date:
    """A day from a :class:`datetime.date` or ``YYYY-MM-DD`` text; ``ValueError`` otherwise."""
    if value.__class__ is str:
        # The usual case first: ten ASCII characters with dashes at 5 and 8 that read as a day
        # are exactly DAY_FORMAT's days (fromisoformat reads the other eight as ASCII digits;
        # its other forms, 20240315 and 2024-W11-5, are never of that shape). Anything else
        # takes the checks below, with their messages.
        if len(value) == 10 and value[4] == "-" and value[7] == "-" and value.isascii():
            try:
                return _fromisoformat(value)
            except ValueError:
                pass
    elif value.__class__ is dt.date:
        return value
    if isinstance(value, dt.datetime):
        raise ValueError("expected a date (YYYY-MM-DD), not a date and time")
    if isinstance(value, dt.date):
        return value
    if isinstance(value, str) and DAY_FORMAT.fullmatch(value):
        try:
            return dt.date.fromisoformat(value)
        except ValueError:
            raise ValueError(f"{shown(value)} is not a day that exists") from None
    raise ValueError(f"expected a date (YYYY-MM-DD), not {shown(value)}")


#: The schema of a :data:`Day` as it always was: :func:`parse_day`, then pydantic's date.
_PARSED_DAY = core_schema.no_info_before_validator_function(parse_day, core_schema.date_schema())
#: The branches of a :data:`Day`'s quick reading, as pydantic places their errors (in ``loc``).
_AS_TEXT, _AS_DATE, _BY_PARSE_DAY = "Day as text", "Day as a date", "Day by parse_day"


class _ReadDay:
    """How pydantic reads a :data:`Day`: as :func:`parse_day` does, its usual inputs without it.

    Text of :data:`DAY_FORMAT` that reads as a day, and a :class:`datetime.date` that is not a
    date and time, are read by pydantic-core itself: the same day as :func:`parse_day` gives
    (such text is a day for both or for neither). Anything else, and such text that is no day,
    is handed to :func:`parse_day`, which accepts or refuses it as always. A refused value has
    failed each branch, and pydantic reports the three errors: :func:`refused_as_always` keeps
    the one of :func:`parse_day`, in its place. A lax validation (``strict=False`` given to it)
    reads as always (pydantic's lax date would read numbers, bytes, dates and times).
    """

    def __get_pydantic_core_schema__(
        self, source: object, handler: GetCoreSchemaHandler
    ) -> core_schema.CoreSchema:
        text = (
            core_schema.chain_schema(
                [core_schema.str_schema(pattern=DAY_FORMAT.pattern, strict=True), core_schema.date_schema()]
            ),
            _AS_TEXT,
        )
        other = (core_schema.no_info_plain_validator_function(parse_day), _BY_PARSE_DAY)
        quick = core_schema.json_or_python_schema(
            json_schema=core_schema.union_schema([text, other], mode="left_to_right"),
            python_schema=core_schema.union_schema(
                [text, (core_schema.date_schema(strict=True), _AS_DATE), other], mode="left_to_right"
            ),
        )
        return core_schema.lax_or_strict_schema(
            lax_schema=_PARSED_DAY,
            strict_schema=quick,
            strict=True,
            serialization=core_schema.simple_ser_schema("date"),
        )

    def __get_pydantic_json_schema__(
        self, schema: core_schema.CoreSchema, handler: GetJsonSchemaHandler
    ) -> JsonSchemaValue:
        return handler(_PARSED_DAY)


#: A calendar day, read strictly (see :func:`parse_day`).
Day = Annotated[dt.date, _ReadDay()]


def refused_as_always(
    error: ValidationError, input_type: Literal["python", "json"]
) -> ValidationError | None:
    """``error`` with each refused :data:`Day` reported as :func:`parse_day` refuses it: its single
    error, in the day's place (not pydantic's three, one per branch, in places of their own),
    the others as they are; ``None`` when no day was refused.

    A refused day's errors are those placed at its branches: the one of :func:`parse_day` is a
    ``value_error`` (so that an unknown field of that name, refused as such, is not taken for
    one), the others are placed beside it.
    """
    errors = error.errors(include_url=False)
    refusals = [
        problem["loc"][-1:] == (_BY_PARSE_DAY,) and problem["type"] == "value_error" for problem in errors
    ]
    days = {problem["loc"][:-1] for problem, refusal in zip(errors, refusals, strict=True) if refusal}
    if not days:
        return None
    kept: list[InitErrorDetails] = []
    for problem, refusal in zip(errors, refusals, strict=True):
        place = problem["loc"][:-1]
        if place in days and problem["loc"][-1:] in ((_AS_TEXT,), (_AS_DATE,)):
            continue
        details = InitErrorDetails(
            type=problem["type"], loc=place if refusal else problem["loc"], input=problem["input"]
        )
        if "ctx" in problem:
            details["ctx"] = problem["ctx"]
        kept.append(details)
    return ValidationError.from_exception_data(error.title, kept, input_type)
