"""Dated values looked up by day: the timeline of one parameter, table row or formula."""

from __future__ import annotations

import bisect
import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from models.policy import DatedValue

__all__ = ["Timeline"]


@dataclass(frozen=True)
class Timeline:
    """Dated values of one parameter or table row, for fast look-up by day.

    Each value has a ``start`` date and a ``value``; a value of ``None`` ends the one before it.
    """

    starts: tuple[int, ...]
    values: tuple[Any, ...]

    @classmethod
    def of(cls, values: Sequence[Any]) -> Timeline:
        return cls(tuple(v.start.toordinal() for v in values), tuple(values))

    def at(self, day: dt.date | int) -> Any:
        """The dated value in force on ``day``; ``None`` before the first, or once repealed."""
        ordinal = day if isinstance(day, int) else day.toordinal()
        index = bisect.bisect_right(self.starts, ordinal) - 1
        if index < 0:
            return None
        found = self.values[index]
        return None if _ended(found) else found

    def segments(self) -> list[tuple[int, int | None, Any]]:
        """``(first ordinal, last ordinal or None, dated value)`` for each value that is set."""
        result = []
        for index, value in enumerate(self.values):
            if _ended(value):
                continue
            end = self.starts[index + 1] - 1 if index + 1 < len(self.starts) else None
            result.append((self.starts[index], end, value))
        return result


def _ended(dated: Any) -> bool:
    """A dated value of ``null`` (a parameter or row) or a formula of ``null`` ends the one before."""
    if isinstance(dated, DatedValue):
        return dated.value is None
    return getattr(dated, "formula", None) is None
