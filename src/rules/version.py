"""The version of kzmig, and of the documents it writes.

``__version__`` is kzmig's version. It is written here, once: ``pyproject.toml`` declares the
version dynamic and the packaging reads it from this file, so a command needs no look-up in
the installed distributions (``importlib.metadata`` cost a start about 25 ms).

Each document a consular system stores carries the version of its format
(``kzmig/verdict/2``): a new major number only when a field changes meaning or goes away;
fields are added within a version.
"""

from __future__ import annotations

__all__ = ["PLAN_FORMAT", "VERDICT_FORMAT", "__version__"]

#: The format of the verdict document (2: programme sections beside ``stay``, policy format 2).
VERDICT_FORMAT = "kzmig/verdict/2"
#: The format of the plan document.
PLAN_FORMAT = "kzmig/plan/1"

#: kzmig's version (the package's: ``pyproject.toml`` reads it from here).
__version__ = "0.2.0"
