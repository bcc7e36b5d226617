"""Field types and messages the models share.

``Day`` is a calendar day given exactly as ``YYYY-MM-DD`` (or a :class:`datetime.date`): not a
number (pydantic would read ``0`` as 1970-01-01), not a date and time, not an ISO week date.
``shown`` quotes a refused value cut to a bounded length, so that an error never repeats a huge
input in full.
"""

from __future__ import annotations

import datetime as dt
import re
from typing import Annotated

from pydantic import BeforeValidator

__all__ = ["DAY_FORMAT", "Day", "parse_day", "shown"]

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
    if isinstance(value, str) and DAY_FORMAT.match(value):
        try:
            return dt.date.fromisoformat(value)
        except ValueError:
            raise ValueError(f"{shown(value)} is not a day that exists") from None
    raise ValueError(f"expected a date (YYYY-MM-DD), not {shown(value)}")


#: A calendar day, read strictly (see :func:`parse_day`).
Day = Annotated[dt.date, BeforeValidator(parse_day)]
