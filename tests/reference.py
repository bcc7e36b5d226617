"""An independent, brute-force oracle for the 90-in-180 stay limit.

Written from the project's decisions (docs/law-notes.md, "The stay limit" and "Exemptions of
Decree No. 80"), day by day and without the engine's counting code, so that the tests compare
two readings of the same definitions:

* a day of stay is any day from entry to exit, both included; an open trip runs to ``as_of``;
  only trips entering on or after the day the limit took effect, and not after ``as_of``, count;
* a day covered by a valid exempting status, on a day its exemption is in force, is an exempt
  day; every other day of stay is a counted day (a day shared by an exit and a re-entry is one
  day);
* a trip counts only if the regime of the nationality on its entry day is subject to the limit;
  its per-entry cap is that regime's;
* a counted day is an overstay day when the 180 days ending on it hold more counted days than
  the window total of the regime in force on it (90, or 42 for the 14-day regime; on a day under
  no subject regime, the last subject regime's), or when it lies beyond the per-entry cap of its
  trip (exempt days skipped);
* ``latest_exit`` extends the current trip one day at a time until the first overstay day.

The law the oracle needs (dates, regimes, caps, exemptions) is in the constants below, in one
place; it mirrors the shipped policy files under ``policies/kz``.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

ONE_DAY = dt.timedelta(days=1)

# --- the law, as the oracle knows it -------------------------------------------------------------

LIMIT_IN_FORCE = dt.date(2023, 1, 27)  # Decree No. 1146: counting starts, not retroactive
DECREE_80_IN_FORCE = dt.date(2024, 2, 25)  # Decree No. 80: the nine categories become exempt
LIMIT_DAYS = 90
WINDOW_DAYS = 180

CHINA_AGREEMENT = dt.date(2023, 11, 10)  # China: 30 days per entry, 90 in 180
DECREE_2025 = dt.date(2025, 8, 25)  # Türkiye: 90 days per entry

#: regime -> (subject, per-entry cap, window total)
REGIMES: dict[str, tuple[bool, int | None, int | None]] = {
    "eaeu": (True, None, LIMIT_DAYS),
    "visa_free": (True, 30, LIMIT_DAYS),
    "visa_free_90": (True, 90, LIMIT_DAYS),
    "visa_free_14": (True, 14, LIMIT_DAYS),
    "visa_free_14_42": (True, 14, 42),
    "visa_required": (False, None, None),
    "citizen": (False, None, None),
}
EAEU = ("RU", "BY", "AM", "KG")
VISA_FREE = ("US", "GB", "DE", "FR", "IT", "ES", "NL", "JP", "AU", "CA", "UZ")
#: citizenship -> [(first day, regime)], in order; a code not here has no row (Kosovo)
REGIME_OF: dict[str, list[tuple[dt.date, str]]] = {
    **{c: [(LIMIT_IN_FORCE, "eaeu")] for c in EAEU},
    **{c: [(LIMIT_IN_FORCE, "visa_free")] for c in VISA_FREE},
    "CN": [(LIMIT_IN_FORCE, "visa_free_14_42"), (CHINA_AGREEMENT, "visa_free")],
    "TR": [(LIMIT_IN_FORCE, "visa_free"), (DECREE_2025, "visa_free_90")],
    "IN": [(LIMIT_IN_FORCE, "visa_free_14_42")],
    "IR": [(LIMIT_IN_FORCE, "visa_free_14_42")],
    "GE": [(LIMIT_IN_FORCE, "visa_free_90")],
    "HK": [(LIMIT_IN_FORCE, "visa_free_14")],
    "AF": [(LIMIT_IN_FORCE, "visa_required")],
    "KZ": [(LIMIT_IN_FORCE, "citizen")],
}


def regime_on(citizenship: str, day: dt.date) -> str | None:
    found = None
    for first, regime in REGIME_OF.get(citizenship, ()):
        if first <= day:
            found = regime
    return found


def subject_on(citizenship: str, day: dt.date) -> bool:
    regime = regime_on(citizenship, day)
    return regime is not None and REGIMES[regime][0]


def cap_on(citizenship: str, day: dt.date) -> int | None:
    """The per-entry cap for a trip entering on ``day``."""
    regime = regime_on(citizenship, day)
    return REGIMES[regime][1] if regime is not None and REGIMES[regime][0] else None


def limit_on(citizenship: str, day: dt.date) -> int:
    """The window total judging the window ending on ``day``: the regime's in force, or the last
    subject regime's on a day under none."""
    found = LIMIT_DAYS
    for first, regime in REGIME_OF.get(citizenship, ()):
        if first <= day and REGIMES[regime][0]:
            found = REGIMES[regime][2] or LIMIT_DAYS
    return found


DECREE_80_KINDS = (
    "aircraft_crew",
    "vessel_crew",
    "train_crew",
    "international_driver",
    "intergovernmental_courier",
    "escort_officer",
    "official_delegation",
    "cross_border_facility_staff",
    "leased_territory",
)
#: status kind -> (first day its days are not counted, status it gives on a day it is valid)
EXEMPTIONS: dict[str, tuple[dt.date, str]] = {
    "residence_permit": (LIMIT_IN_FORCE, "exempt"),
    "visa": (LIMIT_IN_FORCE, "not_applicable"),
    "temporary_residence_permit": (LIMIT_IN_FORCE, "not_applicable"),
    **{kind: (DECREE_80_IN_FORCE, "exempt") for kind in DECREE_80_KINDS},
}
PRECEDENCE = ("not_applicable", "undetermined", "overstay", "exempt", "compliant")


# --- the answer ----------------------------------------------------------------------------------


@dataclass
class Expected:
    """What the stay section of the verdict must say. Figures are None when not computed."""

    status: str
    missing: tuple[str, ...] = ()
    days_used: int | None = None
    overstay_days: int | None = None
    overstay_periods: list[tuple[dt.date, dt.date]] = field(default_factory=list)
    exempt_days: int | None = None
    latest_exit: dt.date | None = None
    counted: set[dt.date] = field(default_factory=set)
    overstay: set[dt.date] = field(default_factory=set)
    later_trips: int = 0


# --- reading the record --------------------------------------------------------------------------


def _day(value: Any) -> dt.date:
    return value if isinstance(value, dt.date) else dt.date.fromisoformat(value)


def _days(first: dt.date, last: dt.date) -> list[dt.date]:
    days = []
    day = first
    while day <= last:
        days.append(day)
        day += ONE_DAY
    return days


def _statuses(person: Mapping[str, Any]) -> list[tuple[str, dt.date, dt.date | None]]:
    return [
        (s["kind"], _day(s["valid_from"]), _day(s["valid_to"]) if s.get("valid_to") else None)
        for s in person.get("statuses", ())
    ]


def _trips(person: Mapping[str, Any]) -> list[tuple[dt.date, dt.date | None]]:
    return [(_day(t["entry"]), _day(t["exit"]) if t.get("exit") else None) for t in person.get("trips") or ()]


def status_valid(status: tuple[str, dt.date, dt.date | None], day: dt.date) -> bool:
    _, valid_from, valid_to = status
    return valid_from <= day and (valid_to is None or day <= valid_to)


def exempt_on(statuses: list[tuple[str, dt.date, dt.date | None]], day: dt.date) -> bool:
    """Whether a valid status whose exemption is in force covers ``day``."""
    return any(
        kind in EXEMPTIONS and day >= EXEMPTIONS[kind][0] and status_valid((kind, f, t), day)
        for kind, f, t in statuses
    )


def exempt_forever_from(statuses: list[tuple[str, dt.date, dt.date | None]], day: dt.date) -> bool:
    """Whether every day from ``day`` on is exempt (an open-ended status already in force)."""
    return any(
        kind in EXEMPTIONS and t is None and day >= max(f, EXEMPTIONS[kind][0]) for kind, f, t in statuses
    )


# --- counting ------------------------------------------------------------------------------------


@dataclass
class Record:
    """The days of stay up to a day: counted days, exempt days, and each trip's counted days."""

    counted: set[dt.date]
    exempt: set[dt.date]
    per_trip: list[tuple[dt.date, list[dt.date]]]  # entry and counted days of each counted trip


def count_record(
    trips: list[tuple[dt.date, dt.date | None]],
    statuses: list[tuple[str, dt.date, dt.date | None]],
    as_of: dt.date,
    citizenship: str | None = None,
) -> Record:
    """The counted days (``citizenship`` None: every trip from the limit's first day counts)."""
    record = Record(set(), set(), [])
    for entry, exit_ in trips:
        if entry < LIMIT_IN_FORCE or entry > as_of:
            continue
        if citizenship is not None and not subject_on(citizenship, entry):
            continue
        last = as_of if exit_ is None or exit_ > as_of else exit_
        this_trip = []
        for day in _days(entry, last):
            if exempt_on(statuses, day):
                record.exempt.add(day)
            else:
                record.counted.add(day)
                this_trip.append(day)
        record.per_trip.append((entry, this_trip))
    return record


def in_window(counted: set[dt.date], day: dt.date) -> int:
    """Counted days in the window ending on ``day``: [day - 179, day]."""
    return sum(1 for back in range(WINDOW_DAYS) if day - dt.timedelta(days=back) in counted)


def beyond_cap(trip_days: list[dt.date], cap: int | None) -> set[dt.date]:
    return set() if cap is None else set(trip_days[cap:])


def overstay_days(record: Record, cap: int | None = None, citizenship: str | None = None) -> set[dt.date]:
    """The overstay days: with ``citizenship``, under its dated regimes; without, under one cap
    and the general limit."""

    def limit(day: dt.date) -> int:
        return LIMIT_DAYS if citizenship is None else limit_on(citizenship, day)

    over = {day for day in record.counted if in_window(record.counted, day) > limit(day)}
    for entry, trip_days in record.per_trip:
        over |= beyond_cap(trip_days, cap if citizenship is None else cap_on(citizenship, entry))
    return over


def runs(days: set[dt.date]) -> list[tuple[dt.date, dt.date]]:
    periods: list[tuple[dt.date, dt.date]] = []
    for day in sorted(days):
        if periods and day == periods[-1][1] + ONE_DAY:
            periods[-1] = (periods[-1][0], day)
        else:
            periods.append((day, day))
    return periods


def current_trip(trips: list[tuple[dt.date, dt.date | None]], as_of: dt.date) -> int | None:
    """The trip the person is on at the end of ``as_of``: the later one on a re-entry day."""
    found = None
    for index, (entry, exit_) in enumerate(trips):
        if entry <= as_of and (exit_ is None or exit_ >= as_of):
            found = index
    return found


def latest_exit(
    trips: list[tuple[dt.date, dt.date | None]],
    statuses: list[tuple[str, dt.date, dt.date | None]],
    as_of: dt.date,
    cap: int | None = None,
    citizenship: str | None = None,
) -> dt.date | None:
    """Stay on from ``as_of`` one day at a time; the day before the first overstay day (with
    ``citizenship``: under its dated regimes; without: under ``cap`` and the general limit)."""
    index = current_trip(trips, as_of)
    if index is None or trips[index][0] < LIMIT_IN_FORCE:
        return None  # not present, or on a trip the limit never counts
    if citizenship is not None:
        if not subject_on(citizenship, trips[index][0]):
            return None  # a trip entered outside the limit is never counted
        cap = cap_on(citizenship, trips[index][0])

    def limit(day: dt.date) -> int:
        return LIMIT_DAYS if citizenship is None else limit_on(citizenship, day)

    record = count_record(trips, statuses, as_of, citizenship)
    trip_days = [d for d in _days(trips[index][0], as_of) if d in record.counted]
    day = as_of
    for _ in range(100 * 366):
        day += ONE_DAY
        if exempt_forever_from(statuses, day):
            return None
        if exempt_on(statuses, day):
            continue
        record.counted.add(day)
        trip_days.append(day)
        if in_window(record.counted, day) > limit(day) or day in beyond_cap(trip_days, cap):
            return day - ONE_DAY
    raise AssertionError("the window never fills: the oracle has no answer")


# --- the verdict ---------------------------------------------------------------------------------


def expected(person: Mapping[str, Any], as_of: dt.date) -> Expected:
    """The stay section the engine must give for ``person`` evaluated on ``as_of``."""
    if as_of < LIMIT_IN_FORCE:
        return Expected(status="not_applicable")
    statuses = _statuses(person)
    citizenship = person.get("citizenship")
    outcomes: list[tuple[str, tuple[str, ...]]] = []
    if citizenship is None:
        outcomes.append(("undetermined", ("citizenship",)))
    elif regime_on(citizenship, as_of) is None:
        outcomes.append(("undetermined", ()))  # a gap in the policy: nothing to supply
    elif not subject_on(citizenship, as_of):
        outcomes.append(("not_applicable", ()))
    subject = citizenship is not None and subject_on(citizenship, as_of)
    if subject and person.get("trips") is None:
        outcomes.append(("undetermined", ("trips",)))
    for kind, f, t in statuses:
        if kind in EXEMPTIONS and as_of >= EXEMPTIONS[kind][0] and status_valid((kind, f, t), as_of):
            outcomes.append((EXEMPTIONS[kind][1], ()))

    result = Expected(status="")
    if subject and person.get("trips") is not None:
        assert citizenship is not None
        trips = _trips(person)
        record = count_record(trips, statuses, as_of, citizenship)
        over = overstay_days(record, citizenship=citizenship)
        result.counted = record.counted
        result.overstay = over
        result.days_used = in_window(record.counted, as_of)
        result.overstay_days = len(over)
        result.overstay_periods = runs(over)
        result.exempt_days = len(record.exempt)
        result.later_trips = sum(1 for entry, _ in trips if entry > as_of)
        outcomes.append(("overstay", ()) if over else ("compliant", ()))
        if as_of not in over:
            result.latest_exit = latest_exit(trips, statuses, as_of, citizenship=citizenship)

    result.status = min((s for s, _ in outcomes), key=PRECEDENCE.index)
    result.missing = tuple(dict.fromkeys(m for s, ms in outcomes if s == result.status for m in ms))
    if result.status not in ("compliant", "overstay", "exempt"):
        result.latest_exit = None
    return result
