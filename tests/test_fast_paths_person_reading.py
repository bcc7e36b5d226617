"""The person record's fast reading of the eleventh round of speed work, against the reading it replaces.

* a :data:`models._fields.Day` given as ``YYYY-MM-DD`` text or as a date is read by pydantic-core
  without a Python call; anything else is read by ``parse_day``. The reference here is
  ``parse_day`` as it was before it had a fast path of its own: each value gives the same day,
  or the same error;
* :meth:`models.person.Person.model_validate` leaves the checks of the trips out of pydantic's
  reading and makes them in one pass; a record that fails one is read again in full. The
  reference here is a copy of the models as they were: every day read by the reference
  ``parse_day`` before pydantic's date, every check a validator. Each record gives the same
  person, or the same errors (type, place, message, input and context, in the same order),
  through every way of reading it.
"""

from __future__ import annotations

import datetime as dt
import functools
import json
import re
from typing import Annotated, Any

from budget import examples
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from pydantic import (
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    TypeAdapter,
    ValidationError,
    field_validator,
    model_validator,
)

from models import person as people
from models._fields import Day, shown
from models.crossing import Crossing

SETTINGS = settings(max_examples=examples(400), deadline=None, suppress_health_check=[HealthCheck.too_slow])


def reference_day(value: object) -> dt.date:
    """A day as the models always read it: a date that is not a date and time, or text of
    exactly four, two and two ASCII digits that names a day of the calendar."""
    if isinstance(value, dt.datetime):
        raise ValueError("expected a date (YYYY-MM-DD), not a date and time")
    if isinstance(value, dt.date):
        return value
    if isinstance(value, str) and re.fullmatch(r"[0-9]{4}-[0-9]{2}-[0-9]{2}", value):
        try:
            return dt.date.fromisoformat(value)
        except ValueError:
            raise ValueError(f"{shown(value)} is not a day that exists") from None
    raise ValueError(f"expected a date (YYYY-MM-DD), not {shown(value)}")


_ReferenceDay = Annotated[dt.date, BeforeValidator(reference_day)]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Trip(_Strict):
    """The trip as it was: each day read by ``reference_day``, its check a validator."""

    entry: _ReferenceDay
    exit: _ReferenceDay | None = None
    registered_on: _ReferenceDay | None = None

    _exit_not_before_entry = model_validator(mode="after")(people.Trip._exit_not_before_entry)


class Status(_Strict):
    """The status as it was."""

    kind: Annotated[str, Field(min_length=1, max_length=64)]
    valid_from: _ReferenceDay
    valid_to: _ReferenceDay | None = None
    document: str | None = Field(default=None, max_length=200)

    _kind_is_a_code = field_validator("kind")(people.Status._kind_is_a_code.__func__)  # type: ignore[attr-defined]
    _valid_to_not_before_valid_from = model_validator(mode="after")(
        people.Status._valid_to_not_before_valid_from
    )


class Person(_Strict):
    """The person as it was: the checks of its trips are validators of the list and the record."""

    model_config = ConfigDict(extra="allow", frozen=True)

    person_id: Annotated[str, Field(min_length=1, max_length=128)]
    citizenship: str | None = None
    statuses: tuple[Status, ...] = Field(default=(), max_length=people.MAX_STATUSES)
    trips: tuple[Trip, ...] | None = Field(default=None, max_length=people.MAX_TRIPS)
    crossings: tuple[Crossing, ...] | None = Field(default=None, max_length=2 * people.MAX_TRIPS)

    _citizenship_is_alpha2 = field_validator("citizenship", mode="before")(
        people.Person._citizenship_is_alpha2.__func__  # type: ignore[attr-defined]
    )
    _trips_or_crossings = model_validator(mode="after")(people.Person._trips_or_crossings)
    _trips_in_order_without_overlap = field_validator("trips")(
        people.Person._trips_in_order_without_overlap.__func__  # type: ignore[attr-defined]
    )


class _LaterDay(dt.date):
    """A date of a class of its own (kept as given)."""


class _Text(str):
    """Text of a class of its own."""

    __slots__ = ()


_DIGITS = {
    "arabic-indic": "٠١٢٣٤٥٦٧٨٩",
    "fullwidth": "０１２３４５６７８９",
    "devanagari": "०१२३४५६७८९",
}
_iso = st.dates().map(dt.date.isoformat)
_shapes = st.builds(
    lambda year, month, day: f"{year:04d}-{month:02d}-{day:02d}",
    st.integers(0, 9999),
    st.integers(0, 13),
    st.integers(0, 32),
)
_other_digits = st.builds(
    lambda text, digits, at: "".join(
        digits[int(c)] if c.isdigit() and (at is None or i == at) else c for i, c in enumerate(text)
    ),
    _iso,
    st.sampled_from(list(_DIGITS.values())),
    st.none() | st.integers(0, 9),
)
_day_values: st.SearchStrategy[Any] = st.one_of(
    _iso,
    _iso,
    st.dates(),
    _shapes,
    st.sampled_from(
        ["2023-02-29", "2024-02-29", "2024-13-01", "0000-01-01", "9999-12-31", "0001-01-01", "2024-00-10"]
        + ["2024-01-15\n", " 2024-01-15", "2024-01-15 ", "2024-01-15T00:00:00", "2024-01-15T00:00:00Z"]
        + ["2024-W11-5", "2024-W11", "2024-075", "20240315", "2024-3-15", "2024/03/15", "1704067200"]
        + ["", "2024-01-1", "2024-01-150", "+2024-01-15", "-2024-01-1", "2024-01-15\x00", "２０２４-01-15"]
    ),
    st.text(alphabet="0123456789-+T:Z ./W\n", min_size=10, max_size=10),
    st.text(min_size=10, max_size=10),
    _other_digits,
    st.tuples(_iso, st.sampled_from([" ", "\t", "\n", "\u00a0", "\u3000"]), st.booleans()).map(
        lambda t: t[1] + t[0] if t[2] else t[0] + t[1]
    ),
    st.datetimes().map(dt.datetime.isoformat),
    st.datetimes().map(lambda moment: moment.isoformat(sep=" ")),
    st.dates().map(
        lambda day: f"{day.isocalendar()[0]:04d}-W{day.isocalendar()[1]:02d}-{day.isocalendar()[2]}"
    ),
    st.dates().map(lambda day: day.strftime("%Y%m%d")),
    st.integers(-(2**40), 2**40),
    st.floats(allow_nan=True, allow_infinity=True),
    st.booleans(),
    _iso.map(str.encode),
    st.none(),
    st.datetimes(),
    st.datetimes(timezones=st.just(dt.UTC)),
    st.dates().map(lambda day: _LaterDay(day.year, day.month, day.day)),
    _iso.map(_Text),
    st.text(min_size=61, max_size=300),
    _iso.map(lambda day: day * 40),
    st.lists(_iso, max_size=2),
    st.dictionaries(st.sampled_from(["year", "month", "day"]), st.integers(1, 12), max_size=3),
)


def _outcome(read: Any, value: Any) -> tuple[str, str]:
    """What ``read(value)`` gives, as text: the value with its class, or the errors in full."""
    try:
        return "read", repr(read(value))
    except ValidationError as error:
        return "refused", repr(
            [
                (e["type"], e["loc"], e["msg"], repr(e["input"]), repr(e.get("ctx")))
                for e in error.errors(include_url=False)
            ]
        )


def _model(read: Any, value: Any) -> tuple[str, str]:
    """What validating ``value`` with ``read`` gives: the record's fields as given, or the errors."""
    return _outcome(
        lambda given: (lambda made: (type(made).__name__, made.model_dump(), made.model_fields_set))(
            read(given)
        ),
        value,
    )


@SETTINGS
@given(_day_values)
def test_a_day_is_read_or_refused_by_the_day_type_as_the_reference_reads_it(value: Any) -> None:
    try:
        expected: object = reference_day(value)
    except ValueError:
        expected = None
    try:
        got: object = TypeAdapter(Day).validate_python(value)
    except ValidationError as error:
        # Refused by every branch: the reference's message is among pydantic's errors.
        assert expected is None
        assert any(e["type"] == "value_error" for e in error.errors())
        return
    assert got == expected
    assert type(got) is type(expected)


@SETTINGS
@given(_day_values, _day_values, _day_values)
def test_a_trip_read_alone_gives_the_reference_trip_or_its_errors(
    entry: Any, exit_: Any, registered: Any
) -> None:
    given_trip = {"entry": entry, "exit": exit_, "registered_on": registered}
    assert _model(people.Trip.model_validate, given_trip) == _model(Trip.model_validate, given_trip)
    assert _model(lambda t: people.Trip(**t), given_trip) == _model(lambda t: Trip(**t), given_trip)
    for strict in (False, True):
        assert _model(functools.partial(people.Trip.model_validate, strict=strict), given_trip) == _model(
            functools.partial(Trip.model_validate, strict=strict), given_trip
        )


@SETTINGS
@given(_day_values, _day_values)
def test_a_status_read_alone_gives_the_reference_status_or_its_errors(since: Any, until: Any) -> None:
    given_status = {"kind": "aircraft_crew", "valid_from": since, "valid_to": until}
    assert _model(people.Status.model_validate, given_status) == _model(Status.model_validate, given_status)


def test_a_day_given_as_a_date_and_time_is_refused_with_the_same_message() -> None:
    moment = dt.datetime(2024, 3, 15, 0, 0)
    record = {"person_id": "P", "trips": [{"entry": moment}]}
    assert _model(people.Person.model_validate, record) == _model(Person.model_validate, record)
    assert _model(people.Person.model_validate, record)[1] == repr(
        [
            (
                "value_error",
                ("trips", 0, "entry"),
                "Value error, expected a date (YYYY-MM-DD), not a date and time",
                repr(moment),
                repr({"error": ValueError("expected a date (YYYY-MM-DD), not a date and time")}),
            )
        ]
    )


def test_text_that_is_no_day_is_refused_with_the_same_message() -> None:
    for text in ("2023-02-29", "2024-13-01", "0000-01-01"):
        record = {"person_id": "P", "statuses": [{"kind": "crew", "valid_from": text}]}
        outcome = _model(people.Person.model_validate, record)
        assert outcome == _model(Person.model_validate, record)
        assert f"{text!r} is not a day that exists" in outcome[1]


_valid_trips = st.lists(
    st.tuples(st.integers(-40, 40), st.integers(-3, 40), st.none() | st.integers(-3, 40)), max_size=8
).map(
    lambda steps: [
        {
            "entry": (
                entry := dt.date(2024, 1, 1) + dt.timedelta(days=sum(s[0] for s in steps[: i + 1]))
            ).isoformat(),
            "exit": (entry + dt.timedelta(days=length)).isoformat() if length < 38 else None,
            **(
                {}
                if registered is None
                else {"registered_on": (entry + dt.timedelta(days=registered)).isoformat()}
            ),
        }
        for i, (_, length, registered) in enumerate(steps)
    ]
)


@st.composite
def _records(draw: st.DrawFn) -> dict[str, Any]:
    """A person record: trips of any order and length (overlapping, open, exits and
    registrations before entries), any value in any day field, and other fields' problems."""
    trips = draw(_valid_trips)
    for trip in trips:
        for name in ("entry", "exit", "registered_on"):
            if draw(st.integers(0, 9)) == 0:
                trip[name] = draw(_day_values)
        if draw(st.integers(0, 30)) == 0:
            trip["unknown"] = 1
    statuses = draw(
        st.lists(
            st.fixed_dictionaries(
                {"kind": st.sampled_from(["crew", "Crew", "", "diplomat"]), "valid_from": _day_values},
                optional={"valid_to": _day_values, "document": st.sampled_from(["A-1", "x" * 201])},
            ),
            max_size=3,
        )
    )
    record: dict[str, Any] = {"person_id": draw(st.sampled_from(["P-1", "", "x" * 129]))}
    if draw(st.booleans()):
        record["trips"] = draw(
            st.sampled_from([trips, trips, trips, tuple(trips), None, "trips", [1, trips[:1]]])
        )
    if statuses or draw(st.booleans()):
        record["statuses"] = statuses
    if draw(st.integers(0, 5)) == 0:
        record["crossings"] = draw(
            st.sampled_from(
                [[], [{"direction": "entry", "at": "2024-01-01"}], [{"direction": "exit", "at": 5}]]
            )
        )
    if draw(st.booleans()):
        record["citizenship"] = draw(st.sampled_from(["RU", " kz ", "XX", "ß", 7, None, "r"]))
    if draw(st.integers(0, 5)) == 0:
        record["residence_application"] = {"submitted": "2026-03-10"}
    return record


@SETTINGS
@given(_records())
def test_a_person_record_gives_the_reference_person_or_its_errors(record: dict[str, Any]) -> None:
    expected = _model(Person.model_validate, record)
    assert _model(people.Person.model_validate, record) == expected
    assert _model(lambda r: people.Person(**r), record) == _model(lambda r: Person(**r), record)
    for strict in (False, True):  # pydantic's lax dates read more than a day, its strict ones less
        assert _model(functools.partial(people.Person.model_validate, strict=strict), record) == _model(
            functools.partial(Person.model_validate, strict=strict), record
        )
    text = json.dumps(record, default=str)
    assert _model(people.Person.model_validate_json, text) == _model(Person.model_validate_json, text)


def test_a_record_with_several_problems_reports_each_as_before() -> None:
    record = {
        "person_id": "P-1",
        "citizenship": "XX",
        "trips": [
            {"entry": "2024-01-10", "exit": "2024-01-05"},
            {"entry": "2024-01-01", "exit": 20240102},
            {"entry": "2024-02-01", "registered_on": "2024-01-31"},
        ],
        "statuses": [{"kind": "crew", "valid_from": "2024-02-30", "valid_to": dt.datetime(2024, 1, 1)}],
    }
    outcome = _model(people.Person.model_validate, record)
    assert outcome[0] == "refused"
    assert outcome == _model(Person.model_validate, record)


def test_trips_out_of_order_or_overlapping_are_refused_with_the_same_message() -> None:
    for trips in (
        [{"entry": "2024-02-01", "exit": "2024-02-03"}, {"entry": "2024-01-01", "exit": "2024-01-03"}],
        [{"entry": "2024-01-01"}, {"entry": "2024-02-01"}],
        [{"entry": "2024-01-01", "exit": "2024-01-10"}, {"entry": "2024-01-09"}],
    ):
        record = {"person_id": "P", "trips": trips}
        assert _model(people.Person.model_validate, record)[0] == "refused"
        assert _model(people.Person.model_validate, record) == _model(Person.model_validate, record)
    same_day = {
        "person_id": "P",
        "trips": [{"entry": "2024-01-01", "exit": "2024-01-10"}, {"entry": "2024-01-10"}],
    }
    assert _model(people.Person.model_validate, same_day)[0] == "read"


def test_a_person_given_as_a_person_is_kept() -> None:
    made = people.Person.model_validate({"person_id": "P", "trips": [{"entry": "2024-01-01"}]})
    assert people.Person.model_validate(made) is made


def test_the_json_schema_of_a_day_is_a_date() -> None:
    assert TypeAdapter(Day).json_schema() == {"format": "date", "type": "string"}
    assert people.Trip.model_json_schema()["properties"]["entry"] == {
        "format": "date",
        "title": "Entry",
        "type": "string",
    }


def test_an_unknown_field_named_like_a_branch_of_a_day_is_refused_as_before() -> None:
    for names in (["Day by parse_day"], ["Day as text", "Day by parse_day"], ["Day as a date"]):
        trip: dict[str, Any] = {"entry": "2024-01-01", **dict.fromkeys(names, 1)}
        for given_trip in (trip, {**trip, "exit": 5}):
            assert _model(people.Trip.model_validate, given_trip) == _model(Trip.model_validate, given_trip)
            record = {"person_id": "P", "trips": [given_trip]}
            assert _model(people.Person.model_validate, record) == _model(Person.model_validate, record)


def test_a_day_followed_by_a_line_break_is_refused_as_no_date_not_as_a_day_that_does_not_exist() -> None:
    record = {"person_id": "P", "trips": [{"entry": "2024-01-01\n"}]}
    outcome = _model(Person.model_validate, record)
    assert outcome == _model(people.Person.model_validate, record)
    assert "expected a date (YYYY-MM-DD), not '2024-01-01" in outcome[1]
    assert "not a day that exists" not in outcome[1]
