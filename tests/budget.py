"""How many examples a property test draws.

Every property test names its number of examples through :func:`examples`. The README's test
command draws them all. ``KZMIG_TEST_EXAMPLES``, a fraction between 0 and 1, draws that share
of each instead (at least :data:`FEWEST`): CI sets it for the suite's runs on the CPythons after
the first, which check that the same code behaves the same on another interpreter rather than
search again the same space of cases.
"""

from __future__ import annotations

import math
import os

__all__ = ["FEWEST", "SHARE", "examples"]

#: The fewest examples a property test draws, whatever the share.
FEWEST = 10


def _share() -> float:
    text = os.environ.get("KZMIG_TEST_EXAMPLES", "1")
    try:
        share = float(text)
    except ValueError:
        raise ValueError(f"KZMIG_TEST_EXAMPLES must be a fraction between 0 and 1, not {text!r}") from None
    if not 0 < share <= 1:
        raise ValueError(f"KZMIG_TEST_EXAMPLES must be a fraction between 0 and 1, not {text!r}")
    return share


#: The share of each test's examples this run draws (``KZMIG_TEST_EXAMPLES``, 1 by default).
SHARE = _share()


def examples(count: int) -> int:
    """``count`` examples, or this run's share of them (never fewer than :data:`FEWEST`, never
    more than ``count``)."""
    if SHARE == 1:
        return count
    return min(count, max(FEWEST, math.ceil(count * SHARE)))
