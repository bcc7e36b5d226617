"""The tenth round's short paths of the stay limit, against the paths they stand in for.

* :func:`rules.stay.window.count_trips` counts a record's trips as it reads them (no exemption,
  one per-entry cap): it must give the figures :func:`count_stay` gives for their spans, and
  the number of trips entering after the evaluation day, in order or not;
* :meth:`WindowRules.around` gives the terms of a day with the days they hold unchanged, which
  :func:`count_stay` takes instead of looking them up again: the figures must not change;
* the stay facts of a record with no citizenship or no trip entered are a plain mapping, and
  read as the lazy :class:`RegistrationFacts` would read them.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from hypothesis import given
from hypothesis import strategies as st
from test_fast_paths_stay import SETTINGS, _figures, laws, records

from models.person import Person
from rules.policy.loader import load_policy
from rules.stay.limit import StayLimit
from rules.stay.registration import REGISTRATION_FACTS, RegistrationFacts
from rules.stay.window import NoValueInForce, TripSpan, WindowRules, count_stay, count_trips


@dataclass(frozen=True)
class _Dated:
    """A trip as a record gives it: its days as dates."""

    entry: dt.date
    exit: dt.date | None


def _dated(spans: list[TripSpan]) -> list[_Dated]:
    return [
        _Dated(dt.date.fromordinal(span.entry), dt.date.fromordinal(span.last) if span.has_exit else None)
        for span in spans
    ]


def _by_trips(trips: list[_Dated], as_of: int, rules: WindowRules, cap: int | None, terms: object) -> object:
    try:
        figures, later = count_trips(trips, as_of, rules, cap, terms)
    except NoValueInForce as missing:
        return ("no value", missing.name, missing.day)
    return _figures(lambda: figures), later


def _by_spans(trips: list[_Dated], as_of: int, rules: WindowRules, cap: int | None) -> object:
    spans = [
        (t.entry.toordinal(), as_of if t.exit is None else t.exit.toordinal(), t.exit is not None, cap)
        for t in trips
        if t.entry.toordinal() <= as_of
    ]
    found = _figures(count_stay, spans, as_of, rules, [])
    return found if found[0] == "no value" else (found, len(trips) - len(spans))


@SETTINGS
@given(records(), laws(), st.integers(0, 3), st.booleans())
def test_counting_trips_as_read_gives_the_figures_of_their_spans(record, rules, after, reverse):
    spans, as_of, _ = record
    cap = spans[0].per_entry_cap if spans else None
    trips = _dated(spans)
    top = max([as_of, *(span.last for span in spans)])
    trips += [
        _Dated(dt.date.fromordinal(top + 5 + 10 * i), dt.date.fromordinal(top + 8 + 10 * i))
        for i in range(after)
    ]
    if reverse:
        trips = trips[::-1]  # not a record's order: counted by the spans
    expected = _by_spans(trips, as_of, rules, cap)
    assert _by_trips(trips, as_of, rules, cap, None) == expected
    try:
        terms = rules.around(as_of)
    except NoValueInForce:
        return
    assert _by_trips(trips, as_of, rules, cap, terms) == expected


@SETTINGS
@given(records(), laws())
def test_the_terms_of_the_day_give_the_figures_of_terms_looked_up(record, rules):
    trips, as_of, periods = record
    try:
        terms = rules.around(as_of)
    except NoValueInForce:
        return
    limit, window, first, last = terms
    assert first <= as_of <= last
    for day in {first, as_of, last if last < as_of + 400 else as_of + 400}:
        assert rules.terms(day)[:2] == (limit, window)
        assert rules.terms(day)[2] == last
    expected = _figures(count_stay, trips, as_of, rules, periods)
    assert _figures(lambda: count_stay(trips, as_of, rules, periods, terms)) == expected


def test_a_record_without_registration_has_plain_facts_read_alike():
    stay = StayLimit(load_policy())
    on = dt.date(2025, 6, 1)
    records = {
        "no citizenship": Person.model_validate({"person_id": "P", "trips": [{"entry": "2025-05-01"}]}),
        "no trips": Person.model_validate({"person_id": "P", "citizenship": "RU"}),
        "trips later": Person.model_validate(
            {"person_id": "P", "citizenship": "RU", "trips": [{"entry": "2025-07-01"}]}
        ),
        "a trip entered": Person.model_validate(
            {"person_id": "P", "citizenship": "RU", "trips": [{"entry": "2025-05-01"}]}
        ),
    }
    for name, person in records.items():
        facts = stay.derive(person, on).facts
        lazy = RegistrationFacts(stay.derive_stay(person, on).fact, stay.policy, person, on)
        del lazy["as_of"]
        assert (type(facts) is dict) == (name != "a trip entered"), name
        for fact in (*lazy, *REGISTRATION_FACTS):
            assert facts.get(fact) == lazy.get(fact), (name, fact)
