"""The impact of an amendment on a population, summed: counters that grow with the law, not
with the number of records.

:class:`Impact` takes the outcomes of a comparison (:mod:`rules.analysis.outcome`) one
record at a time, and two impacts of parts of a population merge into the impact of the
whole (a Dask partition, a worker's share): the counts are the same however the population
was split. For each evaluation date it counts the records compared, changed and failed; each
programme's status before and after (the transitions, unchanged ones included, so that the
distributions before and after can be drawn); the records each figure changed in; the totals
of every amount (days, points, tenge) before and after; the rules that newly decide, no
longer decide or otherwise fire differently; the differences in the law each changed record
is explained by; and the same counts by citizenship, and by the value of any fact the analyst
groups by (``stay.regime``).
"""

from __future__ import annotations

import datetime as dt
from collections import Counter
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from rules.analysis.figures import plain
from rules.analysis.impact import Comparison
from rules.analysis.law import LawDifference
from rules.analysis.outcome import Outcome
from rules.policy.loaded import Policy

__all__ = ["Alike", "Impact", "Totals", "bucket", "bucket_label"]

#: The key of a status transition: date, programme, status before, status after.
Transition = tuple[dt.date, str, str | None, str | None]


def bucket(value: int | Decimal) -> int:
    """The lower bound of the bucket of ``value`` in the 1-2-5 series (0, 1, 2, 5, 10, 20, 50,
    100, ...; negative amounts mirrored): a distribution whose buckets do not depend on the
    data, so that the distributions of two parts of a population add up."""
    size = abs(int(value))
    if size == 0:
        return 0
    base: int = 10 ** (len(str(size)) - 1)
    lead = size // base
    lower = (5 if lead >= 5 else 2 if lead >= 2 else 1) * base
    return lower if value > 0 else -lower


def _summed(value: Any) -> bool:
    """Whether ``value`` is an amount a total sums: a whole number or a decimal, not a flag."""
    kind = type(value)
    return kind is int or kind is Decimal or (kind is not bool and isinstance(value, int | Decimal))


#: :func:`bucket` of the amounts seen, kept (a few hundred in a population: days, tenge).
_BUCKETS: dict[int | Decimal, int] = {}


def _bucket(value: int | Decimal) -> int:
    """:func:`bucket`, kept per amount (equal amounts fall in one bucket)."""
    found = _BUCKETS.get(value)
    if found is None:
        if len(_BUCKETS) >= 100_000:
            _BUCKETS.clear()
        found = _BUCKETS[value] = bucket(value)
    return found


def bucket_label(lower: int) -> str:
    """``5-9`` for the bucket that starts at 5, ``1`` for the one that holds 1 only, ``0``
    for zero; a negative bucket as ``-(5-9)``."""
    if lower == 0:
        return "0"
    size = abs(lower)
    upper = (size * 5 // 2 if str(size)[0] == "2" else size * 2) - 1  # 1->2, 2->5, 5->10 next
    shown = f"{size:,}" if upper == size else f"{size:,}-{upper:,}"
    return shown if lower > 0 else f"-({shown})"


@dataclass
class Totals:
    """An amount summed over the records that have it, before and after, and how the records
    spread over the buckets of :func:`bucket` (the distribution before and after)."""

    before: int | Decimal = 0
    after: int | Decimal = 0
    records_before: int = 0
    records_after: int = 0
    spread_before: Counter[int] = field(default_factory=Counter)
    spread_after: Counter[int] = field(default_factory=Counter)

    def add(self, before: Any, after: Any) -> None:
        if _summed(before):
            self.before += before
            self.records_before += 1
            lower = _bucket(before)
            self.spread_before[lower] += 1
            if after is before or (type(after) is type(before) and after == before):
                # The same amount after (the usual record, which no difference moved).
                self.after += after
                self.records_after += 1
                self.spread_after[lower] += 1
                return
        if _summed(after):
            self.after += after
            self.records_after += 1
            self.spread_after[_bucket(after)] += 1

    def add_alike(self, amount: Any, records: int) -> None:
        """Add ``records`` records that have ``amount`` before and after: what :meth:`add`
        of ``(amount, amount)`` ``records`` times adds."""
        if _summed(amount):
            total = amount * records
            self.before += total
            self.after += total
            self.records_before += records
            self.records_after += records
            lower = _bucket(amount)
            self.spread_before[lower] += records
            self.spread_after[lower] += records

    def merge(self, other: Totals) -> None:
        self.before += other.before
        self.after += other.after
        self.records_before += other.records_before
        self.records_after += other.records_after
        self.spread_before.update(other.spread_before)
        self.spread_after.update(other.spread_after)


@dataclass
class Alike:
    """Records that the two versions judge alike on one date (no figure changed, no note, no
    error), counted by what an :class:`Impact` counts of each record: each programme's status,
    each amount and each value of a grouped fact, with how many of the records have it."""

    statuses: list[tuple[str, Any, int]] = field(default_factory=list)  # programme, status, records
    amounts: list[tuple[str, Any, int]] = field(default_factory=list)  # figure, amount, records
    citizenships: list[tuple[str | None, int]] = field(default_factory=list)
    groups: list[tuple[str, Any, int]] = field(default_factory=list)  # fact, value, records


@dataclass
class Impact:
    """What an amendment changes across a population, on each evaluation date (see the module).

    ``law`` holds the differences in the law on each date (the same for every record); the
    rest counts records. ``records`` counts input records, each once whatever the number of
    dates; ``errors`` those that could not be compared.
    """

    baseline: str
    amended: str
    dates: tuple[dt.date, ...]
    law: dict[dt.date, tuple[LawDifference, ...]] = field(default_factory=dict)
    records: int = 0
    errors: Counter[str] = field(default_factory=Counter)
    compared: Counter[dt.date] = field(default_factory=Counter)
    changed: Counter[dt.date] = field(default_factory=Counter)
    with_notes: Counter[dt.date] = field(default_factory=Counter)
    transitions: Counter[Transition] = field(default_factory=Counter)
    figures: Counter[tuple[dt.date, str]] = field(default_factory=Counter)
    totals: dict[tuple[dt.date, str], Totals] = field(default_factory=dict)
    rules: Counter[tuple[dt.date, str, str]] = field(default_factory=Counter)
    explained_by: Counter[tuple[dt.date, str]] = field(default_factory=Counter)
    by_citizenship: Counter[tuple[dt.date, str, bool]] = field(default_factory=Counter)
    by_group: Counter[tuple[dt.date, str, str, bool]] = field(default_factory=Counter)

    @classmethod
    def of(cls, comparison: Comparison, dates: Iterable[dt.date], *, law: bool = True) -> Impact:
        """An empty impact of ``comparison``'s two versions (named ``<policy> <version>``) on
        ``dates``; with ``law``, the differences in the law on each date (a part of a
        population merged into a whole needs none of its own)."""
        days = tuple(dates)
        return cls(
            _version(comparison.baseline.policy),
            _version(comparison.amended.policy),
            days,
            law={on: comparison.law(on) for on in days} if law else {},
        )

    def add(self, outcomes: Iterable[Outcome], *, unreadable: bool = False) -> None:
        """Count one input record: its outcome on each date, or its error.

        ``unreadable`` counts a record that could not even be read (it has no outcome)."""
        self.records += 1
        if unreadable:
            self.errors["input"] += 1
            return
        for outcome in outcomes:
            if outcome.error is not None:
                self.errors[str(outcome.error.get("kind", "input"))] += 1
                return
            self._add(outcome)

    def add_alike(self, records: int, dates: Mapping[dt.date, Alike]) -> None:
        """Count ``records`` input records that the two versions judge alike on every date,
        given as counts on each date (see :class:`Alike`): what :meth:`add` of each record's
        outcomes adds, when no outcome changed a figure, has a note or is an error (the
        columnar path counts a block's records so, without an outcome per record)."""
        self.records += records
        for on, alike in dates.items():
            self.compared[on] += records
            for programme, status, count in alike.statuses:
                self.transitions[(on, programme, status, status)] += count
            for name, amount, count in alike.amounts:
                totals = self.totals.get((on, name))
                if totals is None:
                    totals = self.totals[(on, name)] = Totals()
                totals.add_alike(amount, count)
            for citizenship, count in alike.citizenships:
                self.by_citizenship[(on, citizenship or "-", False)] += count
            for fact, value, count in alike.groups:
                self.by_group[(on, fact, _shown(value), False)] += count

    def _add(self, outcome: Outcome) -> None:
        on = outcome.as_of
        assert on is not None
        self.compared[on] += 1
        changed = bool(outcome.changed)
        if changed:
            self.changed[on] += 1
        if outcome.notes:
            self.with_notes[on] += 1
        for programme, (before, after) in outcome.statuses.items():
            self.transitions[(on, programme, before, after)] += 1
        for name in outcome.changed:
            self.figures[(on, name)] += 1
        for name, (before, after) in outcome.amounts.items():
            totals = self.totals.get((on, name))
            if totals is None:
                totals = self.totals[(on, name)] = Totals()
            totals.add(before, after)
        if outcome.why is not None:
            for change in outcome.why.rules:
                self.rules[(on, change.rule, change.effect)] += 1
            for difference in outcome.why.law:
                self.explained_by[(on, difference.name)] += 1
        self.by_citizenship[(on, outcome.citizenship or "-", changed)] += 1
        for fact, value in outcome.groups.items():
            self.by_group[(on, fact, _shown(value), changed)] += 1

    def merge(self, other: Impact) -> None:
        """Add ``other`` (the impact of another part of the same population) to this one."""
        if (other.baseline, other.amended, other.dates) != (self.baseline, self.amended, self.dates):
            raise ValueError("only impacts of the same two versions on the same dates merge")
        self.law.update(other.law)
        self.records += other.records
        for name in ("errors", "compared", "changed", "with_notes", "transitions", "figures", "rules"):
            getattr(self, name).update(getattr(other, name))
        self.explained_by.update(other.explained_by)
        self.by_citizenship.update(other.by_citizenship)
        self.by_group.update(other.by_group)
        for key, totals in other.totals.items():
            self.totals.setdefault(key, Totals()).merge(totals)

    def status_changes(self, on: dt.date) -> list[tuple[str, str | None, str | None, int]]:
        """``(programme, before, after, records)`` of the statuses that changed on ``on``."""
        found = [
            (programme, before, after, count)
            for (day, programme, before, after), count in self.transitions.items()
            if day == on and before != after
        ]
        return sorted(found, key=lambda item: (-item[3], item[0], str(item[1]), str(item[2])))

    def to_json(self) -> dict[str, Any]:
        """The impact as a JSON document (``kzmig compare --summary FILE``), date by date."""
        return {
            "format": "kzmig/impact/1",
            "baseline": self.baseline,
            "amended": self.amended,
            "records": self.records,
            "errors": dict(sorted(self.errors.items())),
            "dates": [self._date_json(on) for on in self.dates],
        }

    def _date_json(self, on: dt.date) -> dict[str, Any]:
        return {
            "as_of": on.isoformat(),
            "compared": self.compared[on],
            "changed": self.changed[on],
            "with_notes": self.with_notes[on],
            "law": [difference.to_json() for difference in self.law.get(on, ())],
            "statuses": [
                {"programme": programme, "before": before, "after": after, "records": count}
                for (day, programme, before, after), count in sorted(
                    self.transitions.items(), key=lambda item: (item[0][1], str(item[0][2]), str(item[0][3]))
                )
                if day == on
            ],
            "figures": {name: count for (day, name), count in sorted(self.figures.items()) if day == on},
            "totals": {
                name: {
                    "before": plain(totals.before),
                    "after": plain(totals.after),
                    "records_before": totals.records_before,
                    "records_after": totals.records_after,
                    # Records by bucket (its lower bound; see bucket()), before and after.
                    "spread": [
                        {
                            "from": lower,
                            "label": bucket_label(lower),
                            "before": totals.spread_before[lower],
                            "after": totals.spread_after[lower],
                        }
                        for lower in sorted({*totals.spread_before, *totals.spread_after})
                    ],
                }
                for (day, name), totals in sorted(self.totals.items())
                if day == on
            },
            "rules": [
                {"rule": rule, "effect": effect, "records": count}
                for (day, rule, effect), count in sorted(self.rules.items())
                if day == on
            ],
            "explained_by": {
                name: count for (day, name), count in sorted(self.explained_by.items()) if day == on
            },
            "by_citizenship": _by_value(
                {
                    (citizenship, changed): count
                    for (day, citizenship, changed), count in self.by_citizenship.items()
                    if day == on
                }
            ),
            "by": {
                fact: _by_value(
                    {
                        (value, changed): count
                        for (day, name, value, changed), count in self.by_group.items()
                        if day == on and name == fact
                    }
                )
                for fact in sorted({name for (day, name, _, _) in self.by_group if day == on})
            },
        }


#: The text of the values grouped by, kept by type and value (``True`` is not ``1``).
_SHOWN: dict[tuple[type, Any], str] = {}


def _shown(value: Any) -> str:
    """A grouped fact's value as the counts name it: ``-`` for none."""
    if value is None:
        return "-"
    try:
        key = (type(value), value)
        found = _SHOWN.get(key)
    except TypeError:  # not hashable (a list): not kept
        return str(plain(value))
    if found is None:
        if len(_SHOWN) >= 10_000:
            _SHOWN.clear()
        found = _SHOWN[key] = str(plain(value))
    return found


def _version(policy: Policy) -> str:
    return f"{policy.name} {policy.version}"


def _by_value(counts: Mapping[tuple[str, bool], int]) -> dict[str, dict[str, int]]:
    """``{value: {"compared", "changed"}}`` from counts by (value, changed)."""
    shown: dict[str, dict[str, int]] = {}
    for (citizenship, changed), count in sorted(counts.items()):
        row = shown.setdefault(citizenship, {"compared": 0, "changed": 0})
        row["compared"] += count
        if changed:
            row["changed"] += count
    return shown
