"""The stay limit's mechanism: counting days in windows (:mod:`~rules.stay.window`), the
verdict's stay section (:mod:`~rules.stay.limit`), registration, crossings, notices and the
planner."""

#: How far ahead a search looks before it calls a stay unbounded (a century of days): the
#: planner's longest stay and the latest exit's horizon. A bound of the mechanism, not of the law.
HORIZON_DAYS = 100 * 366

__all__ = ["HORIZON_DAYS"]
