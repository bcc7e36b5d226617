"""How a model's error shows the value it refuses: quoted, and cut, so a huge input is never
repeated in full in a message."""

from __future__ import annotations

__all__ = ["shown"]

#: The most characters of a refused value an error message repeats.
SHOWN_CHARACTERS = 60


def shown(value: object) -> str:
    """``repr(value)``, cut to :data:`SHOWN_CHARACTERS` characters of the value with its length."""
    if isinstance(value, str) and len(value) > SHOWN_CHARACTERS:
        return f"{value[:SHOWN_CHARACTERS]!r}... ({len(value):,} characters)"
    return repr(value)
