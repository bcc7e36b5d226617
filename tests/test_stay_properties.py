"""Properties of the 90-in-180 stay limit: the engine agrees with a brute-force oracle.

``tests/reference.py`` recounts every record day by day from the project's definitions; for
random persons (citizenship, up to eight trips, up to two statuses) and random evaluation
dates the engine's verdict must give the same figures. Then a few properties that hold by
the law's own logic: a window holds at most 180 days, a compliant record has no overstay day,
staying on to the latest exit is lawful and a day more is not, more stay (another trip, a
status taken away) never means fewer overstay days, and the trace names the deciding rules.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from budget import examples
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from reference import EXEMPTIONS, expected

from rules import evaluate

D = dt.date
#: EAEU, the 30-day list, the 14-day regime of 42 in 180 (India), a change of regime within the
#: record (China: 14/42 to 30/90 on 10 Nov 2023; Türkiye: 30 to 90 per entry on 25 Aug 2025).
SUBJECTS: tuple[str | None, ...] = ("RU", "KG", "US", "JP", "IN", "CN", "TR")
FIRST_TRIP_DAY = dt.date(2022, 10, 1)
LAST_TRIP_DAY = dt.date(2025, 12, 31)
FIRST_AS_OF = dt.date(2022, 12, 1)
LAST_AS_OF = dt.date(2026, 6, 30)

# Measured on 2 cores: the whole file runs in about 15 s (the oracle test takes 9 s of it).
ORACLE_SETTINGS = settings(
    max_examples=examples(500), deadline=None, suppress_health_check=[HealthCheck.too_slow]
)
SETTINGS = settings(max_examples=examples(200), deadline=None, suppress_health_check=[HealthCheck.too_slow])


@st.composite
def trips(draw: st.DrawFn, max_trips: int = 8) -> list[dict[str, str]]:
    """0 to ``max_trips`` trips in order, without overlap (a same-day re-entry allowed); the last
    one may be open."""
    count = draw(st.integers(0, max_trips))
    day = draw(
        st.one_of(
            st.dates(dt.date(2023, 3, 1), dt.date(2025, 6, 30)),
            st.dates(FIRST_TRIP_DAY, dt.date(2023, 2, 28)),  # around the day the limit began
        )
    )
    found: list[dict[str, str]] = []
    for _ in range(count):
        if day > LAST_TRIP_DAY:
            break
        length = draw(st.one_of(st.integers(0, 40), st.integers(41, 200)))
        exit_ = min(day + dt.timedelta(days=length), LAST_TRIP_DAY)
        found.append({"entry": day.isoformat(), "exit": exit_.isoformat()})
        gap = draw(st.one_of(st.just(0), st.integers(1, 30), st.integers(31, 200)))
        day = exit_ + dt.timedelta(days=gap)
    if found and draw(st.booleans()):
        del found[-1]["exit"]
    return found


@st.composite
def statuses(draw: st.DrawFn) -> list[dict[str, str]]:
    found = []
    for _ in range(draw(st.integers(1, 2))):
        kind = draw(
            st.one_of(
                st.sampled_from(["residence_permit", "international_driver", "aircraft_crew"]),
                st.sampled_from(sorted(EXEMPTIONS)),  # visa and temporary permit seldom
            )
        )
        valid_from = draw(st.dates(dt.date(2022, 6, 1), dt.date(2026, 6, 30)))
        status = {"kind": kind, "valid_from": valid_from.isoformat()}
        if draw(st.integers(0, 3)):
            status["valid_to"] = (valid_from + dt.timedelta(days=draw(st.integers(0, 400)))).isoformat()
        found.append(status)
    return found


@st.composite
def persons(draw: st.DrawFn, citizenships: tuple[str | None, ...] = SUBJECTS) -> dict[str, Any]:
    person: dict[str, Any] = {"person_id": "P-1", "trips": draw(trips())}
    citizenship = draw(st.sampled_from(citizenships))
    if citizenship is not None:
        person["citizenship"] = citizenship
    if draw(st.integers(0, 2)):
        person["statuses"] = draw(statuses())
    return person


@st.composite
def cases(draw: st.DrawFn, people: st.SearchStrategy[dict[str, Any]] | None = None) -> tuple[Any, dt.date]:
    """A person and an evaluation date: any day, or one the record makes interesting (an entry,
    an exit, a day inside a trip, the days the limit and Decree No. 80 took effect)."""
    person = draw(people if people is not None else persons())
    record = person.get("trips") or []
    days = [dt.date.fromisoformat(t[end]) for t in record for end in ("entry", "exit") if end in t]
    days.reverse()  # hypothesis favours the first choices: the latest days
    choices = []
    if days:
        near = st.sampled_from(days).flatmap(
            lambda day: st.integers(-3, 90).map(lambda shift: day + dt.timedelta(days=shift))
        )
        choices += [near, st.sampled_from(days)]
    limits = st.sampled_from([D(2023, 1, 26), D(2023, 1, 27), D(2024, 2, 24), D(2024, 2, 25)])
    on = draw(st.one_of(*choices, st.dates(FIRST_AS_OF, LAST_AS_OF), limits))
    return person, min(max(on, FIRST_AS_OF), LAST_AS_OF)


def stay_figures(person: dict[str, Any], on: dt.date) -> dict[str, Any]:
    stay = evaluate(person, on=on).stay
    return {
        "status": stay.status.value,
        "missing": stay.missing,
        "days_used": stay.days_used,
        "overstay_days": stay.overstay_days,
        "overstay_periods": [(p.start, p.end) for p in stay.overstay_periods],
        "exempt_days": stay.exempt_days,
        "latest_exit": stay.latest_exit,
    }


def oracle_figures(person: dict[str, Any], on: dt.date) -> dict[str, Any]:
    want = expected(person, on)
    return {
        "status": want.status,
        "missing": want.missing,
        "days_used": want.days_used,
        "overstay_days": want.overstay_days,
        "overstay_periods": want.overstay_periods,
        "exempt_days": want.exempt_days,
        "latest_exit": want.latest_exit,
    }


@ORACLE_SETTINGS
@given(case=cases())
def test_engine_agrees_with_the_day_by_day_oracle(case: tuple[dict[str, Any], dt.date]) -> None:
    person, on = case
    assert stay_figures(person, on) == oracle_figures(person, on)
    warned = any("entering after" in warning for warning in evaluate(person, on=on).warnings)
    assert warned == (expected(person, on).later_trips > 0)


@ORACLE_SETTINGS
@given(case=cases(persons(citizenships=("IN", "IR", "CN"))))
def test_a_regime_of_42_days_in_180_agrees_with_the_oracle(case: tuple[dict[str, Any], dt.date]) -> None:
    """The window total of the regime, not the general 90: India and Iran 42 in 180 throughout,
    China 42 until 9 Nov 2023 and 90 from 10 Nov 2023, within one record."""
    person, on = case
    assert stay_figures(person, on) == oracle_figures(person, on)


@st.composite
def any_persons(draw: st.DrawFn) -> dict[str, Any]:
    """Facts may be missing: no citizenship, one with no regime (XK), a citizen (KZ), a visa
    national (AF), no record."""
    person = draw(persons(citizenships=(None, "KZ", "XK", "AF", "RU", "US", "CN")))
    if draw(st.integers(0, 3)) == 0:
        del person["trips"]
    return person


@SETTINGS
@given(case=cases(any_persons()))
def test_engine_agrees_with_the_oracle_when_facts_are_missing(case: tuple[dict[str, Any], dt.date]) -> None:
    person, on = case
    assert stay_figures(person, on) == oracle_figures(person, on)


@SETTINGS
@given(case=cases(any_persons()))
def test_the_trace_explains_the_status_with_sources(case: tuple[dict[str, Any], dt.date]) -> None:
    person, on = case
    verdict = evaluate(person, on=on)
    # The stay programme's decisive rules (a sanction or entry check decides its own status).
    decisive = [entry for entry in verdict.trace if entry.decisive and entry.rule.startswith("stay.")]
    assert decisive, "no rule in the trace decided the status"
    for entry in decisive:
        assert entry.outcome == verdict.stay.status and entry.overridden_by is None
        assert entry.source.title and entry.source.href.startswith("https://")
    if verdict.stay.status == "undetermined":
        assert set(verdict.stay.missing) == {m for entry in decisive for m in entry.missing}
    fired = {entry.rule: entry for entry in verdict.trace}
    exemptions = [rule for rule, entry in fired.items() if entry.outcome in ("exempt", "not_applicable")]
    exempting = [rule for rule in exemptions if rule.startswith(("stay.exemption.", "stay.document."))]
    if "stay.limit" in fired and exempting:
        assert fired["stay.limit"].overridden_by in exempting


@SETTINGS
@given(case=cases())
def test_staying_on_to_the_latest_exit_is_lawful_and_one_day_more_is_an_overstay(
    case: tuple[dict[str, Any], dt.date],
) -> None:
    """What latest_exit means, checked with the engine itself: keep the current trip open and
    evaluate again on the latest exit (no new overstay day) and on the day after (one more)."""
    person, on = case
    stay = evaluate(person, on=on).stay
    if stay.latest_exit is None:
        return
    assert stay.latest_exit >= on
    record = person["trips"]
    current = max(
        index
        for index, one in enumerate(record)
        if D.fromisoformat(one["entry"]) <= on and ("exit" not in one or D.fromisoformat(one["exit"]) >= on)
    )
    staying = {**person, "trips": [*record[:current], {"entry": record[current]["entry"]}]}
    until = evaluate(staying, on=stay.latest_exit).stay
    assert until.overstay_days == stay.overstay_days
    beyond = evaluate(staying, on=stay.latest_exit + dt.timedelta(days=1)).stay
    assert beyond.overstay_days == (stay.overstay_days or 0) + 1
    assert beyond.overstay_periods[-1].end == stay.latest_exit + dt.timedelta(days=1)


@SETTINGS
@given(person=persons(), on=st.dates(FIRST_AS_OF, LAST_AS_OF))
def test_the_window_never_holds_more_than_180_days(person: dict[str, Any], on: dt.date) -> None:
    stay = evaluate(person, on=on).stay
    assert stay.days_used is None or 0 <= stay.days_used <= 180


@SETTINGS
@given(person=persons(), on=st.dates(FIRST_AS_OF, LAST_AS_OF))
def test_a_compliant_record_has_no_overstay_day(person: dict[str, Any], on: dt.date) -> None:
    stay = evaluate(person, on=on).stay
    if stay.status == "compliant":
        assert stay.overstay_days == 0
        assert stay.overstay_periods == ()
    if stay.status == "overstay":
        assert stay.overstay_days and sum(p.days for p in stay.overstay_periods) == stay.overstay_days


@SETTINGS
@given(person=persons(), on=st.dates(FIRST_AS_OF, LAST_AS_OF), data=st.data())
def test_adding_a_trip_never_decreases_overstay_days(
    person: dict[str, Any], on: dt.date, data: st.DataObject
) -> None:
    """Monotonicity: a further trip, in any gap of the record, only adds days of stay. A window
    never holds fewer days, no trip's own count changes, so no overstay day disappears."""
    record = person["trips"]
    bounds = [FIRST_TRIP_DAY - dt.timedelta(days=200)]
    for one in record:
        bounds += [dt.date.fromisoformat(one["entry"]), dt.date.fromisoformat(one.get("exit", "9999-12-31"))]
    bounds.append(LAST_TRIP_DAY + dt.timedelta(days=200))
    gaps = [(bounds[i], bounds[i + 1]) for i in range(0, len(bounds), 2) if bounds[i] <= LAST_TRIP_DAY]
    index = data.draw(st.integers(0, len(gaps) - 1), label="gap")
    first, last = gaps[index]
    entry = data.draw(st.dates(first, last), label="entry")
    extra = {"entry": entry.isoformat(), "exit": data.draw(st.dates(entry, last), label="exit").isoformat()}
    more = [*record[:index], extra, *record[index:]]
    before = evaluate(person, on=on).stay
    after = evaluate({**person, "trips": more}, on=on).stay
    assert (after.overstay_days or 0) >= (before.overstay_days or 0)
    assert (after.days_used or 0) >= (before.days_used or 0)
    if before.overstay_periods:
        days_after = {p.start + dt.timedelta(days=k) for p in after.overstay_periods for k in range(p.days)}
        assert all(p.start in days_after and p.end in days_after for p in before.overstay_periods)


@SETTINGS
@given(person=persons(), on=st.dates(FIRST_AS_OF, LAST_AS_OF))
def test_taking_statuses_away_never_gives_fewer_overstay_days(person: dict[str, Any], on: dt.date) -> None:
    with_statuses = evaluate(person, on=on).stay
    without = evaluate({**person, "statuses": []}, on=on).stay
    assert (without.overstay_days or 0) >= (with_statuses.overstay_days or 0)
    assert (without.days_used or 0) >= (with_statuses.days_used or 0)
