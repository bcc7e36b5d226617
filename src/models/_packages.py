"""Where an installed package keeps its files, found without importing the package.

kzmig reads data files of two dependencies directly (pycountry's table of countries, the
``holidays`` calendar's version): importing either costs more than what is read of it.
"""

from __future__ import annotations

import importlib.util
from pathlib import Path

__all__ = ["package_directory"]


def package_directory(name: str) -> Path | None:
    """The directory of the installed package ``name``, found without importing it; ``None``
    when it is not installed, cannot be looked up, or is not a package with a directory."""
    try:
        spec = importlib.util.find_spec(name)
    except (ImportError, ValueError):
        return None
    places = list(spec.submodule_search_locations or ()) if spec is not None else []
    return Path(places[0]) if places else None
