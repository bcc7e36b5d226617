"""Frozen records made at the cost of plain ones.

A frozen dataclass's ``__init__`` sets each field with a call of ``object.__setattr__`` (its own
``__setattr__`` refuses). The engine and a population run make a few such records for every
record they evaluate or compare (an :class:`~rules.engine.evaluator.Evaluation`, what a
mechanism derived, a comparison and its outcome), so those are made here, without that
``__init__``: still frozen, equal and alike to what it makes.
"""

from __future__ import annotations

from typing import Any, TypeVar

__all__ = ["made"]

_Frozen = TypeVar("_Frozen")


def made(cls: type[_Frozen], fields: dict[str, Any]) -> _Frozen:
    """The instance ``cls(**fields)`` of the frozen dataclass ``cls``, whose ``fields`` name
    every field in declaration order, made without its ``__init__``: for a class without
    ``__post_init__`` or slots (the tests check each class made so), the same instance."""
    instance = object.__new__(cls)
    instance.__dict__.update(fields)
    return instance
