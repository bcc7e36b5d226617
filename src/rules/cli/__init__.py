"""The command line, ``kzmig``: a thin layer over the library for caseworkers and analysts.

It owns reading person files (one person, a list, JSON Lines; one result or one error record
per input record), the commands and their exit codes. Every answer it prints comes from the
library (:mod:`rules`) and the text reports (:mod:`rules.reports`).
"""

from rules.cli.app import app, main

__all__ = ["app", "main"]
