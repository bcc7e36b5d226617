"""Rule titles that quote the law's own numbers: ``{stay.limit_days}`` in a title is the value
of that parameter in force on the day of the verdict.

A title is prose that paraphrases the law ("a fine of 10 MCI"). Written with the number, it
goes stale the day an amendment changes the parameter: the verdict says 20 MCI and the rule
that decided it still says 10. Written with a slot, ``a fine of {sanction.fine_mci} MCI``, it
says what the law in force says. A rule that reads a parameter on another day than the
evaluation date quotes it on that day, as its condition reads it: ``{residence.pass_mark on
residence.submitted}`` is the pass mark in force on the day the application was submitted.

Only parameters fill slots (values of the law, not of the case); the loader refuses a slot
that names no parameter, an ``on`` that names no date of the rule's programme, and a Russian or
Kazakh title whose slots are not those of the English one. A brace that holds anything else
(``{90}``) is plain text.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable
from decimal import Decimal
from typing import TYPE_CHECKING, Any, NamedTuple

if TYPE_CHECKING:
    from models.policy import Rule
    from rules.policy.loaded import Policy

__all__ = ["SLOT", "Slot", "render", "rule_title", "slots", "template_pattern"]

_NAME = r"[a-z][a-z0-9_]*(?:\.[a-z0-9_]+)+"
#: A slot: a dotted parameter name in braces, and optionally the fact giving the day to read it
#: on (``{sanction.fine_mci}``, ``{residence.pass_mark on residence.submitted}``).
SLOT = re.compile(rf"\{{({_NAME}(?: on {_NAME})?)\}}")


class Slot(NamedTuple):
    """One slot of a title: the parameter it quotes, and the fact whose day it is read on
    (``None``: the evaluation date)."""

    parameter: str
    on: str | None

    @classmethod
    def of(cls, text: str) -> Slot:
        """The slot written ``text`` (what is between the braces)."""
        parameter, _, on = text.partition(" on ")
        return cls(parameter, on or None)


def slots(text: str) -> tuple[str, ...]:
    """The slots of a title as written between their braces, each once, in the order they first
    appear (``("stay.limit_days", "residence.pass_mark on residence.submitted")``)."""
    return tuple(dict.fromkeys(SLOT.findall(text)))


def render(text: str, value: Callable[[str], Any]) -> str:
    """``text`` with each slot replaced by ``value(slot)`` (``slot`` as written between the
    braces) as a title writes it (a whole number with thousands separated by commas, ``1,160``);
    a slot whose value is ``None`` stays as written, so that no number is made up."""

    def filled(match: re.Match[str]) -> str:
        found = value(match.group(1))
        if found is None:
            return match.group(0)
        return _shown(found)

    return SLOT.sub(filled, text)


def rule_title(
    policy: Policy,
    rule: Rule,
    day: dt.date,
    language: str | None = None,
    fact: Callable[[str], Any] | None = None,
) -> str:
    """The title of ``rule`` (in ``language``: ``ru``, ``kk``; English by default) with its
    slots filled by the parameters of ``policy`` in force on ``day``, or, for a slot read ``on``
    a fact, on the day ``fact(name)`` gives (``fact`` ``None``, no case, a fact with no day or a
    parameter with no value that day: on ``day``, the best account the policy has)."""
    text = rule.title if language is None else rule.titled(language)
    if "{" not in text:
        return text

    def value(written: str) -> Any:
        slot = Slot.of(written)
        dated = None
        if slot.on is not None and fact is not None:
            found = fact(slot.on)
            if isinstance(found, dt.date):
                dated = policy.dated_parameter(slot.parameter, found)
        if dated is None:  # no such day, or no value then (an application before the pilot)
            dated = policy.dated_parameter(slot.parameter, day)
        return dated.value if dated is not None else None

    return render(text, value)


def _shown(value: Any) -> str:
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, int | Decimal):
        return f"{value:,}"
    if isinstance(value, dt.date):
        return value.isoformat()
    return str(value)


def template_pattern(text: str) -> re.Pattern[str]:
    """A regular expression that matches ``text`` rendered with any values, capturing each
    slot's value (group ``slot0``, ``slot1``, ... in the order of :func:`slots`): how a
    rendered English title finds its Russian or Kazakh form."""
    names = slots(text)
    pattern: list[str] = []
    seen: set[str] = set()
    for index, part in enumerate(SLOT.split(text)):
        if index % 2 == 0:
            pattern.append(re.escape(part))
            continue
        group = f"slot{names.index(part)}"
        pattern.append(f"(?P={group})" if part in seen else f"(?P<{group}>.+?)")
        seen.add(part)
    return re.compile(f"^{''.join(pattern)}$", re.DOTALL)
