"""The version of kzmig, and of the documents it writes.

``__version__`` is the installed package's version. Each document a consular system stores
carries the version of its format (``kzmig/verdict/2``): a new major number only when a field
changes meaning or goes away; fields are added within a version.
"""

from __future__ import annotations

import importlib.metadata

__all__ = ["PLAN_FORMAT", "VERDICT_FORMAT", "__version__"]

#: The format of the verdict document (2: programme sections beside ``stay``, policy format 2).
VERDICT_FORMAT = "kzmig/verdict/2"
#: The format of the plan document.
PLAN_FORMAT = "kzmig/plan/1"

try:
    __version__ = importlib.metadata.version("kzmig")
except importlib.metadata.PackageNotFoundError:  # running from a checkout that is not installed
    __version__ = "0+unknown"
