"""The one error hierarchy of kzmig.

::

    KzmigError                  base: catch this to catch everything kzmig raises on purpose
    ├── InputError              a person record is malformed (problems listed with their place)
    ├── PolicyError             a policy or amendment file is broken (file, YAML path, line)
    └── EvaluationError         the policy has no rule for the case (a gap in the law as encoded)
        └── EngineError         the durable-rules engine failed; a bug, never bad input

Every error carries ``problems``: a tuple of :class:`Problem`, each with a place and a message,
so a caller can show all of them at once instead of fixing one at a time.
"""

from __future__ import annotations

import difflib
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

__all__ = [
    "did_you_mean",
    "error_record",
    "EngineError",
    "EvaluationError",
    "InputError",
    "KzmigError",
    "PolicyError",
    "Problem",
]


_LONGEST_WHERE = 300
_LONGEST_MESSAGE = 1000


def _cut(text: str, limit: int) -> str:
    return text[:limit] + f"... ({len(text):,} characters)"


@dataclass(frozen=True, slots=True)
class Problem:
    """One problem: where it is (``file:line`` and/or a path such as ``trips[2].exit``) and what.

    ``path`` keeps the path inside the record as a tuple, so that a reader that knows the
    file can place the problem at its line.
    """

    where: str
    message: str
    path: tuple[str | int, ...] = ()

    def __post_init__(self) -> None:
        # An error never repeats a huge input in full: each part is cut to a readable length.
        if len(self.where) > _LONGEST_WHERE:
            object.__setattr__(self, "where", _cut(self.where, _LONGEST_WHERE))
        if len(self.message) > _LONGEST_MESSAGE:
            object.__setattr__(self, "message", _cut(self.message, _LONGEST_MESSAGE))

    def __str__(self) -> str:
        return f"{self.where}: {self.message}" if self.where else self.message


def error_record(
    index: int, where: str, person_id: Any, kind: str, message: str, problems: Iterable[Problem]
) -> dict[str, Any]:
    """The error record of a record in a batch that yields no result: its number, its place,
    its person id (as the record gives it) and why (``kind``: ``input`` for a record that
    cannot be read or is refused, ``undecided`` for one the policy does not decide). Every
    batch gives each input record one result or one of these: nothing is lost."""
    return {
        "record": index,
        "where": where,
        "person_id": person_id,
        "error": {"kind": kind, "message": message, "problems": [str(problem) for problem in problems]},
    }


def did_you_mean(name: str, known: Iterable[str]) -> str:
    """`` (did you mean 'x'?)`` naming the closest of ``known``, or nothing when none is close."""
    close = difflib.get_close_matches(name, list(known), n=1)
    return f" (did you mean {close[0]!r}?)" if close else ""


class KzmigError(Exception):
    """Base of every error kzmig raises on purpose."""

    def __init__(self, summary: str, problems: tuple[Problem, ...] | list[Problem] = ()) -> None:
        self.summary = summary if len(summary) <= _LONGEST_MESSAGE else _cut(summary, _LONGEST_MESSAGE)
        self.problems: tuple[Problem, ...] = tuple(problems)
        super().__init__(self.describe())

    def describe(self) -> str:
        """The summary followed by one indented line per problem."""
        lines = [self.summary]
        lines.extend(f"  {problem}" for problem in self.problems)
        return "\n".join(lines)


class InputError(KzmigError):
    """A person record (JSON/YAML) that cannot be read or is not valid."""


class PolicyError(KzmigError):
    """A policy or amendment file that cannot be loaded."""


class EvaluationError(KzmigError):
    """A case the policy does not decide, e.g. a date before any rule of a programme."""


class EngineError(EvaluationError):
    """The rules engine failed: a defect in kzmig or durable-rules, not in the input."""
