"""The share of a property test's examples a run draws (``tests/budget.py``): CI draws a share on
the CPythons after the first; the README's command draws every one."""

from __future__ import annotations

import budget
import pytest


def test_every_example_is_drawn_unless_a_share_is_asked(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(budget, "SHARE", 1.0)
    assert [budget.examples(count) for count in (1, 25, 500)] == [1, 25, 500]


def test_a_share_draws_that_share_but_never_fewer_than_the_fewest_nor_more_than_named(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(budget, "SHARE", 0.2)
    assert [budget.examples(count) for count in (5, 25, 51, 500)] == [5, budget.FEWEST, 11, 100]


@pytest.mark.parametrize("text", ["0", "1.5", "-0.2", "a fifth", "nan"])
def test_a_share_outside_zero_to_one_is_refused_with_the_variable_named(
    monkeypatch: pytest.MonkeyPatch, text: str
) -> None:
    monkeypatch.setenv("KZMIG_TEST_EXAMPLES", text)
    with pytest.raises(ValueError, match="KZMIG_TEST_EXAMPLES must be a fraction between 0 and 1"):
        budget._share()
