"""Feeding trips or the equivalent border crossings gives the same verdict (issue 3)."""

from __future__ import annotations

import datetime as dt
import random
import zoneinfo
from typing import Any

from budget import examples
from hypothesis import given, settings
from hypothesis import strategies as st

import rules

ZONES = ("Asia/Almaty", "Asia/Qostanay", "Asia/Aqtobe", "Asia/Oral", "Asia/Aqtau", "Asia/Atyrau")
START = dt.date(2022, 12, 1)


@st.composite
def records(draw: st.DrawFn) -> tuple[list[dict[str, Any]], dt.date, str, list[dict[str, Any]]]:
    """Random trips, the same trips as shuffled crossings (timestamps at random local times in
    random Kazakh zones, or plain dates), an evaluation date and a citizenship."""
    trips: list[dict[str, Any]] = []
    day = START + dt.timedelta(days=draw(st.integers(0, 60)))
    for index in range(draw(st.integers(0, 6))):
        day += dt.timedelta(days=draw(st.integers(0 if index else 0, 50)))
        length = draw(st.integers(0, 60))
        last = index == 5 or draw(st.booleans()) and draw(st.booleans())
        exit_day = None if last and draw(st.booleans()) else day + dt.timedelta(days=length)
        trips.append({"entry": day, "exit": exit_day})
        if exit_day is None:
            break
        day = exit_day
    seed = draw(st.integers(0, 2**32 - 1))
    chooser = random.Random(seed)
    crossings = []
    on_day: dict[dt.date, int] = {}  # events so far on each day: real crossings are chronological
    for trip in trips:
        for direction in ("entry", "exit"):
            local_day = trip[direction]
            if local_day is None:
                continue
            order = on_day[local_day] = on_day.get(local_day, -1) + 1
            crossings.append(_crossing(direction, local_day, order, chooser))
    chooser.shuffle(crossings)
    on = START + dt.timedelta(days=draw(st.integers(60, 1000)))
    citizenship = draw(st.sampled_from(["RU", "KG", "US", "JP", "KZ"]))
    return trips, on, citizenship, crossings


def _crossing(direction: str, local_day: dt.date, order: int, chooser: random.Random) -> dict[str, Any]:
    if chooser.random() < 0.3:
        return {"direction": direction, "at": local_day.isoformat()}
    zone = chooser.choice(ZONES)
    # The n-th event of a day at 02:00 + 90n minutes local (plus up to 29): consecutive events
    # are more than an hour apart, more than any two Kazakh zones differ, so the instants keep
    # the order of the events; twelve events end before 19:00, clear of the doubled hour of
    # 29 Feb 2024 in the eastern zones.
    minutes = 120 + 90 * order + chooser.randint(0, 29)
    clock = dt.time(minutes // 60, minutes % 60)
    local = dt.datetime.combine(local_day, clock, zoneinfo.ZoneInfo(zone))
    instant = local.astimezone(dt.UTC) if chooser.random() < 0.5 else local
    return {"direction": direction, "at": instant.isoformat(), "tz": zone}


@settings(max_examples=examples(150), deadline=None)
@given(record=records())
def test_trips_and_the_equivalent_crossings_give_the_same_verdict(
    record: tuple[list[dict[str, Any]], dt.date, str, list[dict[str, Any]]],
) -> None:
    trips, on, citizenship, crossings = record
    as_trips = rules.evaluate(
        {
            "person_id": "P",
            "citizenship": citizenship,
            "trips": [
                {"entry": t["entry"].isoformat(), **({"exit": t["exit"].isoformat()} if t["exit"] else {})}
                for t in trips
            ],
        },
        on=on,
    )
    as_crossings = rules.evaluate(
        {"person_id": "P", "citizenship": citizenship, "crossings": crossings}, on=on
    )
    assert as_crossings.stay == as_trips.stay
    assert [e.rule for e in as_crossings.trace] == [e.rule for e in as_trips.trace]
    assert as_crossings.warnings == as_trips.warnings


def test_a_record_with_both_trips_and_crossings_is_refused() -> None:
    try:
        rules.evaluate(
            {"person_id": "P", "citizenship": "RU", "trips": [], "crossings": []}, on=dt.date(2024, 1, 1)
        )
    except rules.InputError as error:
        assert [p.message for p in error.problems] == ["give either trips or crossings, not both"]
    else:  # pragma: no cover
        raise AssertionError("both trips and crossings must be refused")


def test_unknown_border_post_is_an_input_error_naming_the_crossing() -> None:
    person = {
        "person_id": "P",
        "citizenship": "RU",
        "crossings": [{"direction": "entry", "at": "2024-01-10", "post": "almaty_airprot"}],
    }
    try:
        rules.evaluate(person, on=dt.date(2024, 1, 20))
    except rules.InputError as error:
        (problem,) = error.problems
        assert problem.where == "crossings[0].post"
        assert "did you mean 'almaty_airport'" in problem.message
    else:  # pragma: no cover
        raise AssertionError("an unknown post must be refused")


def test_2024_03_20_unreadable_crossings_are_undetermined_and_the_warnings_name_the_events() -> None:
    person = {
        "person_id": "P",
        "citizenship": "RU",
        "crossings": [
            {"direction": "exit", "at": "2024-01-05"},
            {"direction": "entry", "at": "2024-02-01"},
        ],
    }
    verdict = rules.evaluate(person, on=dt.date(2024, 3, 20))
    assert verdict.stay.status == "undetermined" and verdict.stay.missing == ("trips",)
    assert any("crossings[0]" in warning for warning in verdict.warnings)
    assert verdict.warnings[-1] == "the border crossings cannot be read safely, so the trips are not known"
