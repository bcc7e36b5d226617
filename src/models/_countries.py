"""ISO 3166-1 alpha-2 codes, from pycountry (a maintained copy of the ISO tables).

The codes are read from the table pycountry itself reads, ``pycountry/databases/iso3166-1.json``,
without importing the package: its import (its version looked up in the installed packages'
metadata, its resources, its logging) costs more than a one-person ``kzmig check`` spends on
everything else it reads. Where that file cannot be found or does not read as that table, the
package is imported and asked, as before; both give the same codes (a test checks it).
"""

from __future__ import annotations

import json
from functools import lru_cache

from models._packages import package_directory

__all__ = ["is_country_code"]

# Codes in wide use on travel documents though not assigned in ISO 3166-1 itself.
_USER_ASSIGNED = frozenset({"XK"})
#: The table of countries in pycountry's package, and the most bytes read of it (it is ~60 KB).
_TABLE = ("databases", "iso3166-1.json")
_TABLE_KEY = "3166-1"
_TABLE_MAX_BYTES = 1 << 22


@lru_cache(maxsize=1)
def _assigned() -> frozenset[str]:
    codes = _codes_of_table()
    if codes is None:
        import pycountry

        codes = frozenset(country.alpha_2 for country in pycountry.countries)
    return codes | _USER_ASSIGNED


def _codes_of_table() -> frozenset[str] | None:
    """The alpha-2 codes of pycountry's table of countries, or ``None`` when it cannot be found
    or read, or any entry lacks a code of two capital letters."""
    package = package_directory("pycountry")
    if package is None:
        return None
    try:
        with package.joinpath(*_TABLE).open("rb") as stream:
            content = stream.read(_TABLE_MAX_BYTES + 1)
        table = json.loads(content) if len(content) <= _TABLE_MAX_BYTES else None
    except (OSError, ValueError):
        return None
    entries = table.get(_TABLE_KEY) if isinstance(table, dict) else None
    if not isinstance(entries, list) or not entries:
        return None
    codes: list[str] = []
    for entry in entries:
        code = entry.get("alpha_2") if isinstance(entry, dict) else None
        if not (isinstance(code, str) and len(code) == 2 and code.isascii() and code.isupper()):
            return None
        codes.append(code)
    return frozenset(codes)


def is_country_code(code: str) -> bool:
    """Whether ``code`` is an assigned alpha-2 country code (``XK``, Kosovo, included)."""
    return code in _assigned()
