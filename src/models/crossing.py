"""A raw border-crossing event, as a border system records it: an entry or an exit, and when.

A person's record may carry these events (``crossings``) instead of, or besides, ready-made
``trips``; :func:`rules.crossings.trips_from_crossings` pairs them into trips. Each event is
read strictly, because the day it falls on decides the days of stay:

* ``at`` is either an instant with its UTC offset (``2024-02-10T18:30:00Z``,
  ``2024-02-10T23:30:00+05:00``) or a plain local date (``2024-02-29``). A timestamp without
  an offset is refused: it names no instant, and guessing the offset can move the event to
  another day (eastern Kazakhstan was UTC+6 until 1 March 2024, UTC+5 since).
* ``tz`` is the IANA time-zone name of the border post (``Asia/Almaty``); ``post`` is a post
  id from the policy table ``crossings.border_posts``. At most one of them is given; with
  neither, the policy's default zone (``crossings.default_time_zone``) applies. A zone name
  is checked here against the IANA database; a post id is checked against the policy when
  the crossings are read (the model does not know the policy).
"""

from __future__ import annotations

import datetime as dt
import difflib
import functools
import importlib.resources
import re
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from models._fields import shown

__all__ = ["Crossing"]

_PLAIN_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")


@functools.cache
def _zone_names() -> frozenset[str]:
    """Every zone of the IANA database as the tzdata package ships it. Not the host's own
    files: a name such as ``localtime`` would make the answer depend on the machine."""
    return frozenset(
        importlib.resources.files("tzdata").joinpath("zones").read_text(encoding="utf-8").split()
    )


class Crossing(BaseModel):
    """One crossing of the border of Kazakhstan: its direction, its time and its border post.

    ``at`` holds an aware :class:`datetime.datetime` (an instant) or a :class:`datetime.date`
    (a local day at the post, when only the day is known).
    """

    model_config = ConfigDict(defer_build=True, extra="forbid", frozen=True)

    direction: Literal["entry", "exit"]
    at: dt.datetime | dt.date = Field(
        description="An ISO 8601 timestamp with its UTC offset, or a plain local date (YYYY-MM-DD)."
    )
    tz: Annotated[str, Field(max_length=64)] | None = Field(
        default=None, description="IANA time zone of the border post, e.g. Asia/Almaty."
    )
    post: Annotated[str, Field(min_length=1, max_length=64)] | None = Field(
        default=None, description="Id of the border post in the policy table crossings.border_posts."
    )

    @field_validator("at", mode="before")
    @classmethod
    def _instant_or_local_day(cls, value: object) -> dt.datetime | dt.date:
        if isinstance(value, str):
            text = value.strip()
            if _PLAIN_DATE.match(text):
                try:
                    return dt.date.fromisoformat(text)
                except ValueError as error:
                    raise ValueError(f"{shown(text)} is not a valid date: {error}") from None
            try:
                value = dt.datetime.fromisoformat(text)
            except ValueError:
                raise ValueError(
                    f"{shown(text)} is neither an ISO 8601 timestamp with an offset "
                    "(e.g. 2024-02-10T18:30:00Z or 2024-02-10T23:30:00+05:00) nor a plain date (2024-02-10)"
                ) from None
        if isinstance(value, dt.datetime):
            if value.tzinfo is None or value.utcoffset() is None:
                raise ValueError(
                    f"timestamp {value.isoformat()} has no UTC offset, so it names no instant: "
                    "add an offset such as Z or +05:00, or give a plain date (YYYY-MM-DD)"
                )
            return value
        if isinstance(value, dt.date):
            return value
        raise ValueError("give an ISO 8601 timestamp with an offset or a plain date (YYYY-MM-DD)")

    @field_validator("tz")
    @classmethod
    def _tz_is_an_iana_zone(cls, value: str | None) -> str | None:
        if value is None or value in _zone_names():
            return value
        by_folded = {name.casefold(): name for name in _zone_names()}
        close = difflib.get_close_matches(value.casefold(), list(by_folded), n=1)
        hint = f" (did you mean {by_folded[close[0]]!r}?)" if close else ""
        raise ValueError(
            f"{shown(value)} is not an IANA time zone name such as 'Asia/Almaty' or 'Asia/Oral'{hint}"
        )

    @model_validator(mode="after")
    def _one_place_at_most(self) -> Crossing:
        if self.tz is not None and self.post is not None:
            raise ValueError(
                "give the border post's time zone (tz) or its id (post), not both: "
                "the post's zone comes from the policy"
            )
        return self

    @property
    def is_instant(self) -> bool:
        """Whether ``at`` is an instant (a timestamp) rather than a plain local day."""
        return isinstance(self.at, dt.datetime)
