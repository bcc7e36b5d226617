"""Where kzmig keeps what it computed once and can read back faster than compute again.

Two things are kept, both derived from inputs that rarely change and both checked on reading:
loaded policies (:mod:`rules.policy.cache`, used by the command line) and the working days of
the Kazakh calendar (:mod:`rules.stay.registration`, which would otherwise import the holiday
package, most of a one-person check's time). Nothing kept is personal data.

The directory is ``$KZMIG_CACHE_DIR``; else ``$XDG_CACHE_HOME/kzmig``; else ``~/.cache/kzmig``.
``KZMIG_CACHE_DIR=off`` (or empty) keeps nothing. A directory that cannot be created or written
is not an error: kzmig then computes everything as if nothing were kept.
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

__all__ = ["cache_directory", "write_atomically"]

_OFF = frozenset({"", "0", "off", "no", "false", "none"})


def cache_directory() -> Path | None:
    """The cache directory (see the module's text); ``None`` when turned off or no home
    directory is known."""
    chosen = os.environ.get("KZMIG_CACHE_DIR")
    if chosen is not None:
        return None if chosen.strip().lower() in _OFF else Path(chosen)
    base = os.environ.get("XDG_CACHE_HOME")
    if base:
        return Path(base) / "kzmig"
    try:
        return Path.home() / ".cache" / "kzmig"
    except (RuntimeError, KeyError):  # no home directory
        return None


def write_atomically(directory: Path, name: str, content: bytes) -> bool:
    """Write ``content`` to ``directory/name`` so that a reader sees the old file or the whole
    new one, never a part; ``False`` when the directory cannot be written."""
    try:
        directory.mkdir(mode=0o700, parents=True, exist_ok=True)
        handle, temporary = tempfile.mkstemp(dir=directory, prefix=f".{name}.", suffix=".part")
        try:
            with os.fdopen(handle, "wb") as stream:
                stream.write(content)
            os.replace(temporary, directory / name)
        except BaseException:
            Path(temporary).unlink(missing_ok=True)
            raise
    except OSError:
        return False
    return True
