"""Border crossings read into trips: the local day at the post, the order, and the anomalies.

The law notes (docs/law-notes.md, "Time") decide that a timestamp counts on the calendar day at the border
post, read with the IANA database, never with a fixed offset: the eastern regions were UTC+6
until 00:00 on 1 March 2024 (2024-02-29T18:00Z) and UTC+5 since, so the local hour
23:00-23:59 of 29 February happened twice there. Post ids and the default zone come from
the shipped policy (policies/kz/border-posts.yaml).
"""

from __future__ import annotations

import datetime as dt
import itertools
import zoneinfo
from typing import Any

import pytest
from budget import examples
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st
from pydantic import ValidationError

from models.crossing import Crossing
from models.person import Trip
from rules import InputError, Policy, PolicyError, load_policy
from rules.stay.crossings import CrossingReading, trips_from_crossings

D = dt.date
ON = D(2024, 6, 1)
POLICY = load_policy()
KAZAKH_ZONES = (
    "Asia/Almaty",
    "Asia/Qostanay",
    "Asia/Qyzylorda",
    "Asia/Aqtobe",
    "Asia/Oral",
    "Asia/Atyrau",
    "Asia/Aqtau",
)
FIXED_UTC_PLUS_5 = dt.timezone(dt.timedelta(hours=5))


def posts_of(policy: Policy, on: dt.date) -> dict[str, str]:
    """The policy's table crossings.border_posts as the post id -> IANA zone mapping in force on ``on``."""
    table = "crossings.border_posts"
    rows = {post: policy.row(table, post, on) for post in policy.tables[table].rows}
    return {post: row.value["tz"] for post, row in rows.items() if row is not None}


POSTS = posts_of(POLICY, ON)
DEFAULT_TZ = str(POLICY.parameter("crossings.default_time_zone", ON).value)


def read(*events: dict[str, Any]) -> CrossingReading:
    return trips_from_crossings([Crossing.model_validate(event) for event in events], POSTS, DEFAULT_TZ)


def entry(at: str, **place: str) -> dict[str, Any]:
    return {"direction": "entry", "at": at, **place}


def exit_(at: str, **place: str) -> dict[str, Any]:
    return {"direction": "exit", "at": at, **place}


def fixed_plus_5_day(at: str) -> dt.date:
    """What a naive fixed UTC+5 conversion would say (the mistake the law notes rule out)."""
    return dt.datetime.fromisoformat(at).astimezone(FIXED_UTC_PLUS_5).date()


# --- the shipped policy data ------------------------------------------------------------------


def test_default_time_zone_is_asia_almaty_before_and_after_1_march_2024() -> None:
    for on in (D(2023, 1, 27), D(2024, 2, 29), D(2024, 3, 1), D(2026, 1, 1)):
        assert POLICY.parameter("crossings.default_time_zone", on).value == "Asia/Almaty"


def test_every_border_post_has_a_name_and_a_kazakh_iana_zone_in_the_tzdata_package() -> None:
    import importlib.resources

    assert len(POSTS) >= 8
    for post, zone in POSTS.items():
        assert post.isidentifier() and post == post.lower(), post
        assert zone in KAZAKH_ZONES, (post, zone)
        area, city = zone.split("/")
        assert importlib.resources.files(f"tzdata.zoneinfo.{area}").joinpath(city).is_file(), zone
        assert POLICY.row("crossings.border_posts", post, ON).value["name"]  # type: ignore[union-attr]


# --- local days: the switch from UTC+6 to UTC+5 on 1 March 2024 -------------------------------


@pytest.mark.parametrize(
    ("at", "local_day", "fixed_plus_5"),
    [
        # UTC+6 still: 18:30Z is 00:30 the next day in Almaty, 23:30 the same day at a fixed +5.
        ("2024-02-10T18:30:00Z", D(2024, 2, 11), D(2024, 2, 10)),
        ("2024-02-10T23:30:00+05:00", D(2024, 2, 11), D(2024, 2, 10)),
        ("2024-02-28T18:30:00Z", D(2024, 2, 29), D(2024, 2, 28)),
        # the last minute of UTC+6: 23:59 on 29 February
        ("2024-02-29T17:59:00Z", D(2024, 2, 29), D(2024, 2, 29)),
        # the switch: 00:00 (+6) becomes 23:00 (+5) again, still 29 February
        ("2024-02-29T18:00:00Z", D(2024, 2, 29), D(2024, 2, 29)),
        ("2024-02-29T18:30:00Z", D(2024, 2, 29), D(2024, 2, 29)),
        ("2024-02-29T19:00:00Z", D(2024, 3, 1), D(2024, 3, 1)),
        # UTC+5 since: 18:30Z is 23:30 on the same day (a fixed +6 would say the next day)
        ("2024-03-01T18:30:00Z", D(2024, 3, 1), D(2024, 3, 1)),
        ("2024-03-01T19:30:00Z", D(2024, 3, 2), D(2024, 3, 2)),
    ],
)
def test_2024_timestamp_at_almaty_counts_on_the_local_day_of_the_iana_zone(
    at: str, local_day: dt.date, fixed_plus_5: dt.date
) -> None:
    assert read(entry(at, tz="Asia/Almaty")).local_days == (local_day,)
    assert fixed_plus_5_day(at) == fixed_plus_5


def test_2024_02_10_1830_utc_is_11_february_at_almaty_where_a_fixed_utc_plus_5_says_the_10th() -> None:
    at = "2024-02-10T18:30:00Z"
    assert read(entry(at, tz="Asia/Almaty")).local_days[0] != fixed_plus_5_day(at)


def test_2024_03_01_1830_utc_is_1_march_at_almaty_where_the_old_utc_plus_6_says_the_2nd() -> None:
    at = "2024-03-01T18:30:00Z"
    old_plus_6 = dt.datetime.fromisoformat(at).astimezone(dt.timezone(dt.timedelta(hours=6))).date()
    assert read(entry(at, tz="Asia/Almaty")).local_days == (D(2024, 3, 1),)
    assert old_plus_6 == D(2024, 3, 2)


def test_2024_kairak_post_in_qostanay_switches_on_1_march_like_almaty() -> None:
    reading = read(entry("2024-02-10T18:30:00Z", post="kairak"), exit_("2024-03-10T18:30:00Z", post="kairak"))
    assert reading.local_days == (D(2024, 2, 11), D(2024, 3, 10))
    assert reading.trips == (Trip(entry=D(2024, 2, 11), exit=D(2024, 3, 10)),)


def test_2024_02_10_1830_utc_is_the_10th_at_syrym_in_oral_but_the_11th_at_nur_zholy() -> None:
    at = "2024-02-10T18:30:00Z"
    assert read(entry(at, post="syrym")).local_days == (D(2024, 2, 10),)
    assert read(entry(at, post="aktau_sea_port")).local_days == (D(2024, 2, 10),)
    assert read(entry(at, post="nur_zholy")).local_days == (D(2024, 2, 11),)


def test_2024_02_10_crossing_with_no_post_or_zone_is_read_in_the_default_zone_asia_almaty() -> None:
    assert DEFAULT_TZ == "Asia/Almaty"
    assert read(entry("2024-02-10T18:30:00Z")).local_days == (D(2024, 2, 11),)


def test_2024_02_29_plain_date_is_that_local_day_whatever_the_post_or_zone() -> None:
    reading = read(
        entry("2024-02-29", tz="Asia/Almaty"),
        exit_("2024-02-29", post="syrym"),
        entry("2024-02-29"),
    )
    assert reading.local_days == (D(2024, 2, 29),) * 3


# --- order and pairing ------------------------------------------------------------------------


def test_2024_crossings_in_any_input_order_give_the_same_trips() -> None:
    events = [
        entry("2024-01-05T04:00:00Z", post="almaty_airport"),
        exit_("2024-01-20", post="nur_zholy"),
        entry("2024-01-20T12:00:00+05:00", tz="Asia/Almaty"),  # same-day re-entry
        exit_("2024-03-01T18:30:00Z", post="zhibek_zholy"),
        entry("2024-04-02"),  # still inside
    ]
    expected = (
        Trip(entry=D(2024, 1, 5), exit=D(2024, 1, 20)),
        Trip(entry=D(2024, 1, 20), exit=D(2024, 3, 1)),
        Trip(entry=D(2024, 4, 2)),
    )
    for order in itertools.permutations(events):
        reading = read(*order)
        assert reading.readable and not reading.warnings
        assert reading.trips == expected


def test_2024_same_day_exit_and_re_entry_gives_two_trips_sharing_that_day() -> None:
    for events in (
        [entry("2024-05-01"), exit_("2024-05-10"), entry("2024-05-10"), exit_("2024-05-20")],
        [
            entry("2024-05-01T06:00:00Z"),
            exit_("2024-05-10T03:00:00Z", post="dostyk"),
            entry("2024-05-10T15:00:00+05:00", post="dostyk"),
            exit_("2024-05-20T06:00:00Z"),
        ],
        # one timestamp and one plain date on the shared day: the plain exit goes first
        [entry("2024-05-01"), exit_("2024-05-10"), entry("2024-05-10T08:00:00Z"), exit_("2024-05-20")],
    ):
        reading = read(*reversed(events))
        assert reading.readable, reading.warnings
        assert reading.trips == (
            Trip(entry=D(2024, 5, 1), exit=D(2024, 5, 10)),
            Trip(entry=D(2024, 5, 10), exit=D(2024, 5, 20)),
        )


def test_2024_entry_and_exit_on_one_day_from_outside_is_a_one_day_trip() -> None:
    reading = read(exit_("2024-05-10"), entry("2024-05-10"))
    assert reading.readable
    assert reading.trips == (Trip(entry=D(2024, 5, 10), exit=D(2024, 5, 10)),)


def test_2024_last_entry_without_exit_is_a_trip_still_open_not_an_anomaly() -> None:
    reading = read(entry("2024-06-01T10:00:00Z"), exit_("2024-06-20"), entry("2024-07-01"))
    assert reading.readable and reading.warnings == ()
    assert reading.trips == (Trip(entry=D(2024, 6, 1), exit=D(2024, 6, 20)), Trip(entry=D(2024, 7, 1)))


def test_no_crossings_is_readable_and_means_no_trip() -> None:
    assert read() == CrossingReading(trips=(), warnings=(), readable=True, local_days=())


# --- anomalies: reported with the events concerned, and the record is unreadable -------------


def test_2024_two_entries_in_a_row_are_reported_and_make_the_record_unreadable() -> None:
    reading = read(entry("2024-03-10"), exit_("2024-04-01"), entry("2024-03-01"))
    assert not reading.readable and reading.trips == ()
    assert reading.warnings == (
        "crossings[0] (entry, 2024-03-10) follows crossings[2] (entry, 2024-03-01) "
        "with no exit between: two entries in a row",
    )
    assert reading.local_days == (D(2024, 3, 10), D(2024, 4, 1), D(2024, 3, 1))


def test_2024_exit_with_no_entry_before_it_is_reported_and_makes_the_record_unreadable() -> None:
    reading = read(exit_("2024-03-01"), entry("2024-03-10"), exit_("2024-03-20"))
    assert not reading.readable and reading.trips == ()
    assert reading.warnings == (
        "crossings[0] (exit, 2024-03-01) comes before any entry: an exit with no entry",
    )


def test_2024_two_exits_in_a_row_report_the_second_as_an_exit_with_no_entry() -> None:
    reading = read(entry("2024-03-01"), exit_("2024-03-10"), exit_("2024-03-20T10:00:00Z"))
    assert not reading.readable
    assert reading.warnings == (
        "crossings[2] (exit, 2024-03-20) follows crossings[1] (exit, 2024-03-10) "
        "with no entry between: an exit with no entry",
    )


def test_2024_timed_exit_before_a_timed_entry_on_the_same_day_is_an_exit_with_no_entry() -> None:
    # Instants order the day: the exit at 08:00 comes before the entry at 10:00.
    reading = read(entry("2024-03-05T10:00:00+05:00"), exit_("2024-03-05T08:00:00+05:00"))
    assert not reading.readable
    assert reading.warnings == (
        "crossings[1] (exit, 2024-03-05) comes before any entry: an exit with no entry",
    )


def test_2024_02_exit_timed_before_its_entry_across_oral_and_almaty_is_an_exit_before_its_entry() -> None:
    # Entry at Syrym (UTC+5) 23:45 on 10 Feb = 18:45Z; exit at Nur Zholy (UTC+6 then)
    # 00:30 on 11 Feb = 18:30Z: later by local day, earlier by instant.
    reading = read(
        entry("2024-02-10T23:45:00+05:00", post="syrym"), exit_("2024-02-11T00:30:00+06:00", post="nur_zholy")
    )
    assert reading.local_days == (D(2024, 2, 10), D(2024, 2, 11))
    assert not reading.readable and reading.trips == ()
    assert reading.warnings == (
        "crossings[1] (exit, 2024-02-11) is timed before crossings[0] (entry, 2024-02-10), which comes "
        "earlier by local day (posts in different time zones): an exit before its entry",
    )


def test_2024_02_re_entry_timed_before_the_exit_it_follows_is_events_out_of_order() -> None:
    reading = read(
        entry("2024-02-01"),
        exit_("2024-02-10T23:45:00+05:00", post="syrym"),
        entry("2024-02-10T18:30:00Z", post="astana_airport"),  # 00:30 on 11 Feb in Astana
    )
    assert not reading.readable
    assert reading.warnings == (
        "crossings[2] (entry, 2024-02-11) is timed before crossings[1] (exit, 2024-02-10), which comes "
        "earlier by local day (posts in different time zones): events out of order",
    )


def test_2024_every_anomaly_of_a_record_is_reported_not_only_the_first() -> None:
    reading = read(exit_("2024-01-01"), entry("2024-02-01"), entry("2024-03-01"), exit_("2024-04-01"))
    assert len(reading.warnings) == 2
    assert "an exit with no entry" in reading.warnings[0]
    assert "two entries in a row" in reading.warnings[1]


# --- input errors -----------------------------------------------------------------------------


def test_unknown_post_id_is_an_input_error_with_a_suggestion_and_the_known_ids() -> None:
    with pytest.raises(InputError) as raised:
        read(
            entry("2024-03-01", post="syrim"),
            exit_("2024-03-05", post="syrym"),
            exit_("2024-03-09", post="x"),
        )
    first, second = raised.value.problems
    assert first.where == "crossings[0].post" and first.path == ("crossings", 0, "post")
    assert "unknown border post 'syrim' (did you mean 'syrym'?)" in first.message
    assert "known posts: " in first.message and "nur_zholy" in first.message
    assert second.where == "crossings[2].post" and "did you mean" not in second.message


def test_post_table_or_default_naming_no_iana_zone_is_a_policy_error_naming_the_entry() -> None:
    timed = [Crossing.model_validate(entry("2024-03-01T10:00:00Z", post="gate_1"))]
    with pytest.raises(PolicyError) as raised:
        trips_from_crossings(timed, {"gate_1": "UTC+5"}, DEFAULT_TZ)
    assert str(raised.value.problems[0]).startswith("crossings.border_posts[gate_1]: 'UTC+5' is not an IANA")
    with pytest.raises(PolicyError, match="crossings.default_time_zone: 'Asia' is not an IANA"):
        trips_from_crossings([Crossing.model_validate(entry("2024-03-01T10:00:00Z"))], POSTS, "Asia")


def test_unknown_time_zone_name_is_refused_by_the_model_with_a_suggestion() -> None:
    with pytest.raises(ValidationError) as raised:
        Crossing.model_validate(entry("2024-03-01T10:00:00Z", tz="Asia/Almati"))
    assert "did you mean 'Asia/Almaty'?" in str(raised.value)
    with pytest.raises(ValidationError, match="not an IANA time zone name"):
        Crossing.model_validate(entry("2024-03-01T10:00:00Z", tz="UTC+5"))


def test_timestamp_without_offset_is_refused_asking_for_an_offset_or_a_plain_date() -> None:
    for naive in ("2024-02-10T18:30:00", "2024-02-10 18:30", dt.datetime(2024, 2, 10, 18, 30)):
        with pytest.raises(ValidationError) as raised:
            Crossing.model_validate(entry(naive))  # type: ignore[arg-type]
        message = str(raised.value)
        assert "no UTC offset" in message and "Z or +05:00" in message and "plain date" in message


def test_crossing_model_refuses_bad_values_and_both_zone_and_post() -> None:
    for bad in (
        entry("2024-02-30"),
        entry("yesterday"),
        {"direction": "in", "at": "2024-02-10"},
        {**entry("2024-02-10"), "gate": 3},
        entry("2024-02-10", tz="Asia/Almaty", post="nur_zholy"),
    ):
        with pytest.raises(ValidationError):
            Crossing.model_validate(bad)


def test_crossing_keeps_an_instant_or_a_plain_day_and_is_frozen() -> None:
    timed = Crossing.model_validate(entry("2024-02-10T18:30:00Z"))
    plain = Crossing.model_validate_json('{"direction": "exit", "at": "2024-02-29", "post": "syrym"}')
    assert timed.at == dt.datetime(2024, 2, 10, 18, 30, tzinfo=dt.UTC) and timed.is_instant
    assert plain.at == D(2024, 2, 29) and not plain.is_instant
    assert plain.model_dump(mode="json") == {
        "direction": "exit",
        "at": "2024-02-29",
        "tz": None,
        "post": "syrym",
    }
    with pytest.raises(ValidationError):
        timed.direction = "exit"


# --- property: trips -> crossings -> the same trips ------------------------------------------

PLACES = [("tz", zone) for zone in KAZAKH_ZONES] + [("post", post) for post in POSTS] + [("default", "")]
OFFSETS = [dt.timezone(dt.timedelta(hours=hours)) for hours in (-3, 0, 3, 5, 6, 9)]


def _day_in_utc(day: dt.date, zone: zoneinfo.ZoneInfo) -> tuple[dt.datetime, dt.datetime]:
    """The instants [start, end) of the local ``day`` in ``zone``, in UTC."""
    start = dt.datetime.combine(day, dt.time(), zone).astimezone(dt.UTC)
    end = dt.datetime.combine(day + dt.timedelta(days=1), dt.time(), zone).astimezone(dt.UTC)
    return start, end


@st.composite
def trip_lists(draw: st.DrawFn) -> list[Trip]:
    """Up to six trips in order without overlap (same-day re-entry and one-day trips allowed);
    the last one may be open."""
    day = draw(st.dates(D(2023, 1, 27), D(2025, 6, 30)))
    trips: list[Trip] = []
    for number in range(draw(st.integers(0, 6))):
        if number:
            day += dt.timedelta(days=draw(st.integers(0, 40)))
        leaving = day + dt.timedelta(days=draw(st.integers(0, 60)))
        trips.append(Trip(entry=day, exit=leaving))
        day = leaving
    still_inside = draw(st.booleans())
    if trips and still_inside:
        trips[-1] = Trip(entry=trips[-1].entry)
    return trips


@settings(max_examples=examples(150), deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(trips=trip_lists(), data=st.data())
def test_trips_written_as_crossings_in_any_order_and_zone_read_back_the_same(
    trips: list[Trip], data: st.DataObject
) -> None:
    sequence = [
        (direction, day) for trip in trips for direction, day in (("entry", trip.entry), ("exit", trip.exit))
    ]
    events: list[dict[str, Any]] = []
    last_instant: dt.datetime | None = None
    for direction, day in sequence:
        if day is None:
            continue
        kind, name = data.draw(st.sampled_from(PLACES))
        place = {kind: name} if kind != "default" else {}
        zone_name = name if kind == "tz" else POSTS[name] if kind == "post" else DEFAULT_TZ
        if data.draw(st.booleans()):
            events.append({"direction": direction, "at": day.isoformat(), **place})
            continue
        # An instant within the local day at the post, after the previous timestamped event.
        zone = zoneinfo.ZoneInfo(zone_name)
        start, end = _day_in_utc(day, zone)
        if last_instant is not None:
            start = max(start, last_instant + dt.timedelta(seconds=1))
        seconds = int((end - start).total_seconds())
        assume(seconds > 0)
        instant = start + dt.timedelta(seconds=data.draw(st.integers(0, seconds - 1)))
        last_instant = instant
        written = data.draw(st.sampled_from(["utc", "local", "other"]))
        if written == "utc":
            at = instant.strftime("%Y-%m-%dT%H:%M:%SZ")
        elif written == "local":
            at = instant.astimezone(zone).isoformat()
        else:
            at = instant.astimezone(data.draw(st.sampled_from(OFFSETS))).isoformat()
        events.append({"direction": direction, "at": at, **place})

    order = data.draw(st.permutations(range(len(events))))
    reading = read(*(events[index] for index in order))

    assert reading.warnings == ()
    assert reading.readable
    assert reading.trips == tuple(trips)
    days = [day for _, day in sequence if day is not None]
    assert reading.local_days == tuple(days[index] for index in order)


def _orders_the_rules_allow(crossings: list[Crossing], days: tuple[dt.date, ...]) -> set[tuple[Trip, ...]]:
    """Brute force: the trips of every order by local day, timestamps by instant within their day
    (plain dates and equal instants free), that alternates entry, exit, entry, ..."""
    results = set()
    for order in itertools.permutations(range(len(crossings))):
        if any(days[a] > days[b] for a, b in itertools.pairwise(order)):
            continue
        instants = [crossings[i].at for i in order if isinstance(crossings[i].at, dt.datetime)]
        if any(a > b for a, b in itertools.pairwise(instants)):
            continue
        directions = [crossings[i].direction for i in order]
        if directions != ["entry", "exit"] * (len(order) // 2) + ["entry"] * (len(order) % 2):
            continue
        pairs = [order[i : i + 2] for i in range(0, len(order), 2)]
        trips = [Trip(entry=days[p[0]], exit=days[p[1]] if len(p) == 2 else None) for p in pairs]
        results.add(tuple(trips))
    return results


@settings(max_examples=examples(300), deadline=None)
@given(
    st.lists(
        st.tuples(
            st.sampled_from(["entry", "exit"]),
            st.integers(0, 2),  # day
            st.sampled_from([None, 3, 9, 9, 15]),  # hour at UTC+5, or a plain date
        ),
        max_size=6,
    )
)
def test_2024_05_one_zone_reading_agrees_with_every_order_the_rules_allow(
    raw: list[tuple[str, int, int | None]],
) -> None:
    crossings = []
    for direction, offset, hour in raw:
        day = D(2024, 5, 1) + dt.timedelta(days=offset)
        at = day if hour is None else dt.datetime.combine(day, dt.time(hour), FIXED_UTC_PLUS_5)
        crossings.append(Crossing.model_validate({"direction": direction, "at": at, "tz": "Asia/Aqtau"}))
    reading = trips_from_crossings(crossings, POSTS, DEFAULT_TZ)
    allowed = _orders_the_rules_allow(crossings, reading.local_days)
    assert len(allowed) <= 1  # every lawful order gives the same trips
    assert reading.readable == bool(allowed)
    if allowed:
        assert {reading.trips} == allowed
    else:
        assert reading.trips == ()
