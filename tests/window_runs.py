"""The days over the limit under dated terms, searched run by run: how the stay count found them
before it swept each span of terms (``rules.stay.window._window_over_dated``), kept as the
reference the fast-path tests hold the sweep to."""

from __future__ import annotations

from rules.stay.window import WindowRules, _first_over, _Runs


def window_over(held: _Runs, rules: WindowRules, over: list[tuple[int, int]]) -> None:
    """Append the runs of counted days whose window holds more than the limit (dated terms)."""
    terms_first, terms_last, limit, window = 1, 0, 0, 0  # the terms in force over a span of days
    for first, end in zip(held.firsts, held.lasts, strict=True):
        day = first
        while day <= end:
            if not terms_first <= day <= terms_last:
                limit, window, terms_last = rules.terms(day)
                terms_first = day
            top = min(end, terms_last)
            found = _first_over(day, top, held.upto, window, limit)
            if found is not None:
                over.append((found, top))
            day = top + 1
