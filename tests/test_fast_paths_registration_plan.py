"""Equivalence tests of the fourteenth round's fast paths of the stay limit, each against the
path it replaces: the registration due read from a plan made once per regime and span of days
(:class:`rules.stay.registration.DueDates`) against :func:`registration_due`, and the state of
a registration copied without pydantic's general copy against ``model_copy``."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from budget import examples
from hypothesis import given, settings
from hypothesis import strategies as st
from window_runs import window_over

import rules
from models.person import Trip
from models.verdict import RegistrationDue
from rules.errors import EvaluationError
from rules.policy.loader import Policy
from rules.stay.notices import registration_state
from rules.stay.registration import DueDates, registration_due
from rules.stay.window import (
    NoValueInForce,
    Schedule,
    WindowRules,
    _Runs,
    _union,
    _window_over_dated,
)

D = dt.date
SETTINGS = settings(max_examples=examples(300), deadline=None)
AMENDMENT_HEADER = "schema: kzmig/policy/2\ntitle: A registration amendment written for a test\nparameters:\n"
TEST_SOURCE = "{title: Test source for a what-if amendment, href: https://example.org/law}"


def _parameter(name: str, *values: tuple[str, str]) -> str:
    lines = "".join(
        f"      - {{from: {start}, value: {value}, source: {TEST_SOURCE}}}\n" for start, value in values
    )
    return f"  {name}:\n    description: Replaced by a test amendment.\n    values:\n{lines}"


#: Registration laws other than the baseline's: the entry day counted from a date, both
#: procedures due at once, a regime left out of every list from a date, a contradiction, and
#: a period repealed (no value) for a while.
_AMENDMENTS = {
    "count_entry_day": _parameter(
        "registration.count_entry_day",
        ("2023-01-27", "false"),
        ("2025-03-01", "true"),
        ("2026-09-01", "false"),
    ),
    "both_due": _parameter(
        "registration.self_registration_replaces_host_notification", ("2023-01-27", "false")
    )
    + _parameter("registration.self_registration_days", ("2023-01-27", "2"), ("2026-07-01", "30")),
    "left_out": _parameter(
        "registration.host_notification_regimes",
        ("2023-01-27", "[eaeu, visa_free, visa_required]"),
        ("2027-01-01", "[eaeu, visa_free]"),
    ),
    "contradiction": _parameter(
        "registration.not_required_regimes", ("2023-01-27", "[citizen]"), ("2025-06-01", "[citizen, eaeu]")
    ),
    "repealed": _parameter(
        "registration.host_notification_working_days",
        ("2023-01-27", "3"),
        ("2024-02-01", "null"),
        ("2024-03-01", "5"),
    ),
}


@pytest.fixture(scope="module")
def policies(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Policy]:
    found = {"baseline": rules.load_policy()}
    for name, text in _AMENDMENTS.items():
        path = tmp_path_factory.mktemp(name) / f"{name}.yaml"
        path.write_text(AMENDMENT_HEADER + text, encoding="utf-8")
        found[name] = rules.load_policy(amendments=[path])
    return found


def _outcome(call: Any, *arguments: Any) -> Any:
    """What a call gives: its model's fields and the fields set, or its error's text."""
    try:
        found = call(*arguments)
    except EvaluationError as error:
        return ("error", str(error), [str(problem) for problem in error.problems])
    if found is None:
        return None
    assert type(found) is RegistrationDue
    return (found.model_dump(), found.__pydantic_fields_set__, found.model_dump_json())


_ENTRIES = st.one_of(
    st.dates(D(2022, 12, 1), D(2028, 12, 31)),
    st.dates(D(2100, 12, 1), D(2101, 1, 10)),  # the calendar's end
    st.sampled_from([D(2023, 1, 26), D(2023, 1, 27), D(2026, 6, 30), D(2026, 7, 1), dt.date.max]),
)
_REGIMES = st.sampled_from(
    [
        "eaeu",
        "visa_free",
        "visa_free_90",
        "visa_free_14",
        "visa_free_14_42",
        "visa_required",
        "citizen",
        "nowhere",
    ]
)


@SETTINGS
@given(entries=st.lists(st.tuples(_ENTRIES, _REGIMES), min_size=1, max_size=12))
def test_due_dates_give_what_registration_due_gives(
    policies: dict[str, Policy], entries: list[tuple[D, str]]
) -> None:
    for policy in policies.values():
        dues = DueDates(policy)  # one per policy, its plans made by the entries before
        for entry, regime in entries:
            expected = _outcome(registration_due, policy, entry, regime)
            assert _outcome(dues.due, entry, regime) == expected, (policy.name, entry, regime)


def test_due_dates_of_no_regime_are_none(policies: dict[str, Policy]) -> None:
    assert DueDates(policies["baseline"]).due(D(2025, 1, 1), None) is None


def test_due_dates_cover_every_day_of_the_spans_of_every_regime(policies: dict[str, Policy]) -> None:
    """Every entry day of 2023-2027 under each law, each regime: the plans of one span serve
    its every day (the days around each change included)."""
    first = D(2023, 1, 20).toordinal()
    for policy in policies.values():
        dues = DueDates(policy)
        for regime in ("eaeu", "visa_required", "citizen"):
            for ordinal in range(first, D(2027, 12, 31).toordinal() + 1, 3):
                entry = D.fromordinal(ordinal)
                expected = _outcome(registration_due, policy, entry, regime)
                assert _outcome(dues.due, entry, regime) == expected, (policy.name, entry, regime)


@SETTINGS
@given(
    entry=st.dates(D(2023, 2, 1), D(2027, 12, 31)),
    registered=st.one_of(st.none(), st.integers(0, 40)),
    later=st.integers(0, 60),
)
def test_registration_state_copies_as_model_copy(
    policies: dict[str, Policy], entry: D, registered: int | None, later: int
) -> None:
    due = registration_due(policies["baseline"], entry, "visa_free")
    assert due is not None
    on = None if registered is None else entry + dt.timedelta(days=registered)
    trip = Trip(entry=entry, registered_on=on)
    as_of = entry + dt.timedelta(days=later)
    found = registration_state(due, trip, as_of)
    # What it was: pydantic's copy.
    if on is not None and on <= as_of:
        state = "done" if on <= due.due else "done_late"
        expected = due.model_copy(update={"state": state, "registered_on": on})
    else:
        expected = due.model_copy(update={"state": "due" if as_of <= due.due else "overdue"})
    assert found == expected
    assert found.__pydantic_fields_set__ == expected.__pydantic_fields_set__
    assert found.model_dump_json() == expected.model_dump_json()
    assert found.__pydantic_extra__ == expected.__pydantic_extra__
    assert found.__pydantic_private__ == expected.__pydantic_private__


# --- the days over the limit under dated terms ---------------------------------------------------


@st.composite
def _held_runs(draw: st.DrawFn) -> _Runs:
    spans = []
    day = draw(st.integers(0, 50))
    for _ in range(draw(st.integers(1, 12))):
        length = draw(st.one_of(st.integers(1, 5), st.integers(6, 70)))
        spans.append((day, day + length - 1))
        day += length + draw(st.one_of(st.integers(0, 3), st.integers(4, 90)))
    return _Runs.of(_union(spans))


@st.composite
def _schedules(draw: st.DrawFn, name: str, values: st.SearchStrategy[int | None]) -> Schedule:
    starts = [-1000, *sorted(draw(st.sets(st.integers(1, 600), max_size=4)))]
    return Schedule(
        name, tuple(starts), tuple([draw(st.integers(1, 120)), *(draw(values) for _ in starts[1:])])
    )


@settings(max_examples=examples(500), deadline=None)
@given(
    held=_held_runs(),
    limits=_schedules("limit", st.one_of(st.integers(1, 120), st.none())),
    windows=_schedules("window", st.one_of(st.integers(1, 200), st.none())),
)
def test_days_over_dated_terms_swept_span_by_span_are_those_searched_run_by_run(
    held: _Runs, limits: Schedule, windows: Schedule
) -> None:
    rules = WindowRules(0, limits, windows)
    expected: list[tuple[int, int]] = []
    try:
        window_over(held, rules, expected)
    except NoValueInForce as missing:
        with pytest.raises(NoValueInForce) as raised:
            _window_over_dated(held, rules, [])
        assert (raised.value.name, raised.value.day) == (missing.name, missing.day)
        return
    found: list[tuple[int, int]] = []
    _window_over_dated(held, rules, found)
    assert sorted(found) == sorted(expected)
    assert _union(found) == _union(expected)
