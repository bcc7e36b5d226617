"""Which figures of a verdict an impact analysis sums: numbers (days, points, tenge), never a
flag, a text, a day or a list, whatever their exact type."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from enum import IntEnum
from typing import Any

from hypothesis import given
from hypothesis import strategies as st

from rules.analysis.figures import amount_pairs, is_amount


class _Tier(IntEnum):
    FIRST = 1


class _Days(int):
    pass


def _reference(value: Any) -> bool:
    """An amount, as the analysis means it: a number, and not a truth value."""
    return isinstance(value, int | Decimal | float) and not isinstance(value, bool)


_FIGURES = st.one_of(
    st.integers(),
    st.floats(allow_nan=False),
    st.decimals(allow_nan=False),
    st.booleans(),
    st.text(max_size=5),
    st.dates(),
    st.lists(st.integers(), max_size=2),
    st.tuples(st.integers()),
    st.none(),
    st.sampled_from([_Tier.FIRST, _Days(3), dt.datetime(2026, 3, 20)]),
)


@given(_FIGURES)
def test_a_figure_is_an_amount_when_it_is_a_number_and_not_a_truth_value(value: Any) -> None:
    assert is_amount(value) is _reference(value)


@given(st.dictionaries(st.text(max_size=8), _FIGURES, max_size=8))
def test_a_record_judged_alike_pairs_each_amount_with_itself_in_the_verdicts_order(
    found: dict[str, Any],
) -> None:
    pairs = amount_pairs(found)
    assert list(pairs) == [name for name, value in found.items() if _reference(value)]
    assert all(before is found[name] and after is found[name] for name, (before, after) in pairs.items())
