"""ISO 3166-1 alpha-2 codes, from pycountry (a maintained copy of the ISO tables)."""

from __future__ import annotations

from functools import lru_cache

import pycountry

# Codes in wide use on travel documents though not assigned in ISO 3166-1 itself.
_USER_ASSIGNED = frozenset({"XK"})


@lru_cache(maxsize=1)
def _assigned() -> frozenset[str]:
    return frozenset(country.alpha_2 for country in pycountry.countries) | _USER_ASSIGNED


def is_country_code(code: str) -> bool:
    """Whether ``code`` is an assigned alpha-2 country code (``XK``, Kosovo, included)."""
    return code in _assigned()
