"""The fast path of the fifteenth round of speed work on facts and sections, against the path
it replaces.

A value that carries nothing (no missing input, no gap, no provisional source) of a whole
number, a truth, text or a day is no longer made again for every fact and case: it is made once
and shared (``computation.plain``, and the same look-up written out where a case reads a
mechanism fact or an input and where a formula's usual result is made). Checked:

* ``plain(value)`` is ``Val(value)``, field for field and type for type, for any value
  (hypothesis), and the same object for equal values of the shared types only (never ``1`` for
  ``True``, never one decimal for another of another exponent, never ``0.0`` for ``-0.0``);
* the memo stays bounded;
* every verdict (with its trace, warnings, figures and missing facts), every error and every
  fact asked is the same with the sharing on as with it off (every value made anew, the path
  it replaces), for every example case and the benchmarks' generated persons and population
  records under amendments.
"""

from __future__ import annotations

import datetime as dt
import functools
from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from budget import examples
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import rules
from rules.engine import computation
from rules.engine.computation import PLAIN_VALS, Val, plain
from rules.errors import KzmigError

ROOT = Path(__file__).resolve().parents[1]
POLICY = ROOT / "policies" / "kz"
AMENDMENTS = ROOT / "examples" / "amendments"

from sample_cases import SampleCase, example_cases, generated_cases  # noqa: E402

SETTINGS = settings(max_examples=examples(300), deadline=None, suppress_health_check=[HealthCheck.too_slow])

_VALUES = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(),
    st.text(max_size=8),
    st.dates(),
    st.datetimes(),
    st.decimals(allow_nan=False, allow_infinity=False, places=3),
    st.floats(allow_nan=False),
    st.tuples(st.integers()),
)


def _fields(value: Val) -> tuple[Any, ...]:
    return tuple((type(part), part) for part in (value.value, value.missing, value.gaps, value.provisional))


@SETTINGS
@given(_VALUES)
def test_plain_is_the_value_made_anew(value: Any) -> None:
    found = plain(value)
    assert type(found) is Val
    assert _fields(found) == _fields(Val(value))
    assert found == Val(value)
    assert _fields(plain(value)) == _fields(Val(value))  # kept, then read back


@SETTINGS
@given(_VALUES, _VALUES)
def test_only_values_alike_in_every_way_share_one(first: Any, second: Any) -> None:
    a, b = plain(first), plain(second)
    if a is b:
        assert type(first) is type(second) and first == second
        assert repr(first) == repr(second)


def test_values_equal_but_unlike_are_not_shared() -> None:
    assert plain(1).value is not True and type(plain(True).value) is bool
    assert type(plain(1).value) is int
    assert str(plain(Decimal("1.0")).value) == "1.0" and str(plain(Decimal("1.00")).value) == "1.00"
    assert str(plain(-0.0).value) == "-0.0" and str(plain(0.0).value) == "0.0"
    day = dt.datetime(2024, 1, 1, 12)
    assert type(plain(dt.date(2024, 1, 1)).value) is dt.date
    assert type(plain(day).value) is dt.datetime


def test_the_memo_stays_bounded() -> None:
    for number in range(3 * computation._PLAIN_KEPT):
        assert plain(10**9 + number).value == 10**9 + number
    assert all(len(memo) <= computation._PLAIN_KEPT for memo in PLAIN_VALS.values())


# --- whole evaluations, sharing on and off -----------------------------------------------------


@functools.cache
def _evaluator(amendments: tuple[str, ...]) -> rules.Evaluator:
    policy = rules.load_policy(POLICY, amendments=[AMENDMENTS / name for name in amendments])
    return rules.Evaluator(policy)


_ASKED = ("stay.regime", "stay.overstay_days", "sanction.repeated_part_3", "residence.points")


def _answer(case: SampleCase) -> tuple[Any, ...]:
    amendments, person, on = case
    try:
        found = _evaluator(amendments).evaluate_case(person, on, _ASKED, trace=True, undecided="omit")
    except KzmigError as error:
        return ("error", type(error).__name__, str(error))
    return (
        found.verdict.model_dump_json(),
        tuple(found.verdict.warnings),
        repr(found.facts),
        sorted(found.guarded),
        dict(found.undecided),
    )


def _cases() -> Iterator[SampleCase]:
    yield from example_cases()
    yield from generated_cases(150, 150, 15, ("limit-60-days.yaml", "sanction-fines-doubled.yaml"))


@pytest.fixture
def unshared(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """Every value made anew, as before the fast path: no type is shared."""
    kept = dict(PLAIN_VALS)
    PLAIN_VALS.clear()
    try:
        yield
    finally:
        PLAIN_VALS.update(kept)


def test_every_case_answers_alike_with_values_shared_or_not(unshared: None) -> None:
    cases = list(_cases())
    before = [_answer(case) for case in cases]
    PLAIN_VALS.update({int: {}, bool: {}, str: {}, dt.date: {}})
    after = [_answer(case) for case in cases]
    again = [_answer(case) for case in cases]  # now read from values kept by the first pass
    for case, old, new, kept in zip(cases, before, after, again, strict=True):
        assert new == old, case[2]
        assert kept == old, case[2]
