"""Reading raw border crossings into trips: local days, order, pairing and anomalies.

A border system records events, not trips: ``entry`` and ``exit``, in any order, each at an
instant (a timestamp with its offset) or only on a day. :func:`trips_from_crossings` turns
them into :class:`~models.person.Trip` items, and says when it cannot do so safely.

**Local day.** A timestamp becomes the calendar day at the border post, in the post's IANA
zone (the crossing's ``tz``; else the zone of its ``post`` in the policy table
``crossings.border_posts``; else the policy's ``crossings.default_time_zone``). Never a fixed
offset: the eastern regions (Asia/Almaty, Asia/Qostanay) were UTC+6 until 00:00 on
1 March 2024 and UTC+5 since, so 2024-02-10T18:30Z is 11 February in Almaty, not the 10th.
Zones are read from the tzdata package (a dependency, 2024a or later, which has that switch),
so the answer does not depend on the host's own time-zone files; a name the package lacks
falls back to the system database. A plain date is taken as the local day itself.

**Order.** Events are ordered by local day. Within a day, timestamped events are ordered by
instant. A plain date says nothing about the hour, and neither does a tie between two
identical instants, so those events take the place in their day that the alternation of
entries and exits needs: a plain-date event comes before a timestamped event of its day
only when that event could not otherwise follow (an exit before a re-entry when the person
is inside, an entry before an exit when outside); the rest come after the day's timestamped
events, alternating from where the person then is. Every order this allows gives the same
trips, since a trip only records days, so the order of the input never matters (only which
of two interchangeable events a warning names: the one first in the input). A plain date
never creates an anomaly some order within its day would avoid, and never hides one.

**Pairing.** Each exit closes the entry before it: one trip from the entry's day to the
exit's day. An exit and a re-entry on the same day are lawful and give two trips sharing
that day. An entry still open after the last event is a trip in progress (no exit), not an
anomaly.

**Anomalies**, each reported with the events concerned (index in the input, direction,
local day) and never repaired or dropped:

* *two entries in a row*: an entry while the previous entry has no exit yet;
* *an exit with no entry*: an exit that is the first event, or follows another exit;
* *an exit before its entry*: an exit whose instant is earlier than that of the entry before
  it, although its local day is not earlier (possible only across posts whose UTC offsets
  differ, e.g. Asia/Oral and Asia/Almaty before 1 March 2024). Any other two timestamped
  events whose instants run against the order of their days (a re-entry timed before the
  exit it follows, say) are reported as *events out of order* for the same reason.

**Unreadable.** Any anomaly makes the record unreadable: ``readable`` is false and ``trips``
is empty, so nobody counts days from it (the engine answers ``undetermined`` with ``trips``
missing). Each anomaly means a crossing is missing, doubled or wrongly timed, and every
repair (invent the missing exit on some day, drop a doubled entry) changes the days of stay
and so possibly the verdict; the law gives no rule for choosing one. Check ``readable``
before reading ``trips``: an empty ``trips`` is "never entered" only when it is true.

An unknown post id is not an anomaly but an error in the input: :class:`InputError`, with a
"did you mean" and the known ids.
"""

from __future__ import annotations

import datetime as dt
import functools
import importlib.resources
import itertools
import zoneinfo
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass

from models.crossing import Crossing
from models.person import Trip
from rules.errors import InputError, PolicyError, Problem, did_you_mean

__all__ = ["CrossingReading", "trips_from_crossings"]


@dataclass(frozen=True)
class CrossingReading:
    """What the crossings say: the trips (empty unless ``readable``), the anomalies found, and
    the local day of each input event, in input order."""

    trips: tuple[Trip, ...]
    warnings: tuple[str, ...]
    readable: bool
    local_days: tuple[dt.date, ...]


@dataclass(frozen=True)
class _Event:
    """One crossing of the record, as read: its place in the list, its direction and day."""

    index: int
    direction: str
    day: dt.date
    instant: dt.datetime | None  # in UTC; None for a plain date

    def __str__(self) -> str:
        return f"crossings[{self.index}] ({self.direction}, {self.day})"


def trips_from_crossings(
    crossings: Sequence[Crossing], posts: Mapping[str, str], default_tz: str
) -> CrossingReading:
    """Pair ``crossings`` into trips, as the module docstring defines.

    ``posts`` maps a border post id to its IANA zone (the policy table
    ``crossings.border_posts``); ``default_tz`` is the zone of a crossing that names neither
    ``tz`` nor ``post``. Raises :class:`InputError` for unknown post ids (all of them at once)
    and :class:`PolicyError` for a zone name in ``posts`` or ``default_tz`` that is not one.
    """
    unknown = [
        _unknown_post(index, crossing.post, posts)
        for index, crossing in enumerate(crossings)
        if crossing.post is not None and crossing.post not in posts
    ]
    if unknown:
        raise InputError("the crossings name unknown border posts", unknown)
    events = [
        _Event(index, crossing.direction, *_local_day(index, crossing, _zone_of(crossing, posts, default_tz)))
        for index, crossing in enumerate(crossings)
    ]
    trips, warnings = _pair(_in_order(events))
    readable = not warnings
    return CrossingReading(
        trips=tuple(trips) if readable else (),
        warnings=tuple(warnings),
        readable=readable,
        local_days=tuple(event.day for event in events),
    )


def _unknown_post(index: int, post: str, posts: Mapping[str, str]) -> Problem:
    hint = did_you_mean(post.casefold(), posts)
    return Problem(
        where=f"crossings[{index}].post",
        message=f"unknown border post {post!r}{hint}; known posts: {', '.join(sorted(posts))}",
        path=("crossings", index, "post"),
    )


def _local_day(index: int, crossing: Crossing, zone: zoneinfo.ZoneInfo) -> tuple[dt.date, dt.datetime | None]:
    """The crossing's local day in ``zone`` and its instant in UTC (``None`` for a plain date).

    An instant whose local day or UTC time lies outside the calendar (year 1 at +14:00) is an
    input error naming the crossing."""
    if not isinstance(crossing.at, dt.datetime):
        return crossing.at, None
    try:
        return crossing.at.astimezone(zone).date(), crossing.at.astimezone(dt.UTC)
    except (OverflowError, ValueError):
        raise InputError(
            "a border crossing cannot be placed on the calendar",
            [
                Problem(
                    f"crossings[{index}].at",
                    "the instant falls outside the calendar (years 1 to 9999) at the border post",
                    ("crossings", index, "at"),
                )
            ],
        ) from None


def _zone_of(crossing: Crossing, posts: Mapping[str, str], default_tz: str) -> zoneinfo.ZoneInfo:
    """The zone of the crossing's post: its ``tz``, else its ``post``'s, else the default."""
    if crossing.tz is not None:
        return _zone(crossing.tz)  # checked by the model
    name, what = (
        (posts[crossing.post], f"crossings.border_posts[{crossing.post}]")
        if crossing.post is not None
        else (default_tz, "crossings.default_time_zone")
    )
    try:
        return _zone(name)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError, OSError):
        raise PolicyError(
            "a border post's time zone cannot be used",
            [Problem(what, f"{name!r} is not an IANA time zone name such as 'Asia/Almaty'")],
        ) from None


@functools.cache
def _zone(name: str) -> zoneinfo.ZoneInfo:
    """The IANA zone ``name``: from the tzdata package if it has it, else from the system."""
    package, _, leaf = f"tzdata.zoneinfo/{name}".rpartition("/")
    try:
        with importlib.resources.files(package.replace("/", ".")).joinpath(leaf).open("rb") as data:
            return zoneinfo.ZoneInfo.from_file(data, key=name)
    except (ImportError, OSError, ValueError):
        return zoneinfo.ZoneInfo(name)


def _in_order(events: Iterable[_Event]) -> list[_Event]:
    """The events by local day; within a day by instant, plain dates where alternation needs them."""
    ordered: list[_Event] = []
    inside = False
    by_day = sorted(events, key=lambda event: (event.day, event.index))
    for _, day in itertools.groupby(by_day, key=lambda event: event.day):
        todays = list(day)
        timed = sorted((e for e in todays if e.instant is not None), key=lambda e: (e.instant, e.index))
        untimed = [e for e in todays if e.instant is None]
        # Events at one instant are a block whose inner order is unknown, like plain dates;
        # the plain dates left after the last block are a last block of their own.
        blocks = [list(block) for _, block in itertools.groupby(timed, key=lambda e: e.instant)]
        for block in [*blocks, untimed]:
            while block:
                wanted = "exit" if inside else "entry"
                chosen = _take(block, wanted) or _take(untimed, wanted) or block.pop(0)
                ordered.append(chosen)
                inside = chosen.direction == "entry"
    return ordered


def _take(events: list[_Event], direction: str) -> _Event | None:
    """Remove and return the first event of ``direction``; ``None`` if there is none."""
    for position, event in enumerate(events):
        if event.direction == direction:
            return events.pop(position)
    return None


def _pair(ordered: Sequence[_Event]) -> tuple[list[Trip], list[str]]:
    """Trips from the ordered events, and a warning for each anomaly."""
    trips: list[Trip] = []
    warnings: list[str] = []
    open_entry: _Event | None = None
    previous: _Event | None = None
    last_timed: _Event | None = None
    for event in ordered:
        if event.instant is not None and last_timed is not None and last_timed.instant is not None:
            if event.instant < last_timed.instant:
                kind = (
                    "an exit before its entry"
                    if (last_timed.direction, event.direction) == ("entry", "exit")
                    else "events out of order"
                )
                warnings.append(
                    f"{event} is timed before {last_timed}, which comes earlier by local day "
                    f"(posts in different time zones): {kind}"
                )
        if event.direction == "entry":
            if open_entry is not None:
                warnings.append(f"{event} follows {open_entry} with no exit between: two entries in a row")
            open_entry = event
        elif open_entry is None:
            before = f"follows {previous} with no entry between" if previous else "comes before any entry"
            warnings.append(f"{event} {before}: an exit with no entry")
        else:
            trips.append(Trip(entry=open_entry.day, exit=event.day))
            open_entry = None
        previous = event
        if event.instant is not None:
            last_timed = event
    if open_entry is not None:
        trips.append(Trip(entry=open_entry.day))
    return trips, warnings
