"""The figures of a verdict that an impact analysis compares, by dotted name.

A verdict's sections (``stay`` and every programme the policy evaluated) are flattened into
leaves: ``stay.status``, ``stay.days_used``, ``stay.sanction.status``,
``stay.sanction.values.fine_kzt``, ``stay.registration.due``, ``residence.points``,
``residence.points_by_criterion.age``, ``social_contract.refund_kzt``. Lists (overstay
periods, checklists) are one figure each, compared whole. A figure with no value (``null``, an
empty list, an empty slot such as no sanction) is left out: it reads the same as a figure the
other version's verdict does not have.

Left out are the words that describe a figure rather than the person's outcome (titles,
notes, sources, the rules that decided: the *why* of an analysis reports those), and the
limit and window of the stay section, which are the law in force rather than an outcome
(an amendment that changes them is reported as a difference in the law, and every figure it
moves is compared).
"""

from __future__ import annotations

import datetime as dt
import enum
from collections.abc import Mapping
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from pydantic import BaseModel

if TYPE_CHECKING:
    from models.verdict import Verdict

__all__ = [
    "amount_pairs",
    "dumped_figures",
    "figures",
    "is_amount",
    "mapping_figures",
    "model_figures",
    "plain",
]

#: Keys that describe a figure (the why reports the rules; the policy reports its sources).
_DESCRIPTIVE = frozenset({"title", "note", "source", "rule", "decided_by", "provisional"})
#: Figures of the stay section that are the law in force, the same for everyone on a date.
_LAW_IN_FORCE = frozenset({"stay.limit", "stay.window"})
#: Types of values that are a figure as they are (neither a mapping nor a list, never empty).
_LEAVES = frozenset({int, str, bool, float, Decimal, dt.date})


def figures(verdict: Verdict) -> dict[str, Any]:
    """Every compared figure of ``verdict``, by dotted name, in the verdict's reading order.

    The figures are read off the sections' models as they are (:func:`model_figures`): every figure
    a population run compares, once or twice per record, without dumping each section into
    dicts first. A section holding a value of a type that walk does not know is read through
    its dump (:func:`dumped_figures`, which gives the same figures for every section)."""
    found: dict[str, Any] = {}
    try:
        model_figures("stay", verdict.stay, found)
        for programme, section in verdict.sections.items():
            model_figures(programme, section, found)
    except _Unknown:
        return dumped_figures(verdict)
    return found


def dumped_figures(verdict: Verdict) -> dict[str, Any]:
    """:func:`figures` read from each section's ``model_dump`` (Python mode, by alias): the
    definition the walk of :func:`figures` keeps to."""
    found: dict[str, Any] = {}
    _flatten("stay", verdict.stay.model_dump(mode="python", by_alias=True), found)
    for programme, section in verdict.sections.items():
        _flatten(programme, section.model_dump(mode="python", by_alias=True), found)
    return found


class _Unknown(Exception):
    """A value whose dump the walk of :func:`figures` does not know."""


#: Per model class, its fields in declaration order with the names a dump gives them.
_DUMP_NAMES: dict[type, tuple[tuple[str, str], ...]] = {}


def _dump_names(cls: type[BaseModel]) -> tuple[tuple[str, str], ...]:
    names = _DUMP_NAMES.get(cls)
    if names is None:
        names = _DUMP_NAMES[cls] = tuple(
            (name, info.serialization_alias or info.alias or name) for name, info in cls.model_fields.items()
        )
    return names


#: Per model class and dotted place, its fields in declaration order that may be figures: each
#: with the name a dump gives it and the figure's dotted name.
_PLACES: dict[tuple[type, str], tuple[tuple[str, str, str], ...]] = {}


def _place(cls: type[BaseModel], prefix: str) -> tuple[tuple[str, str, str], ...]:
    found = _PLACES.get((cls, prefix))
    if found is None:
        found = tuple(
            (name, key, f"{prefix}.{key}")
            for name, key in _dump_names(cls)
            if key not in _DESCRIPTIVE and f"{prefix}.{key}" not in _LAW_IN_FORCE
        )
        if len(_PLACES) >= 1024:  # the places are the policy's few: kept unless something is amiss
            _PLACES.clear()
        _PLACES[(cls, prefix)] = found
    return found


def model_figures(prefix: str, model: BaseModel, found: dict[str, Any]) -> None:
    """The figures of ``model`` (a section, or a part of one) at ``prefix``, added to ``found``:
    :func:`_flatten` of ``model``'s dump, read off the model itself."""
    values = model.__dict__
    for attribute, _, name in _place(type(model), prefix):
        item = values[attribute]
        if item is not None:
            _figure(name, item, found)
    extra = model.__pydantic_extra__
    if extra:
        mapping_figures(prefix, extra, found)


def mapping_figures(prefix: str, values: Mapping[str, Any], found: dict[str, Any]) -> None:
    """The figures of ``values`` (a decision's values, say) at ``prefix``, added to ``found``."""
    for key, item in values.items():
        if item is None or key in _DESCRIPTIVE:
            continue
        name = f"{prefix}.{key}"
        if name not in _LAW_IN_FORCE:
            _figure(name, item, found)


def _figure(name: str, item: Any, found: dict[str, Any]) -> None:
    """The figures of the value ``item`` (not ``None``) at ``name``, as :func:`_flatten` makes them."""
    kind = type(item)
    if kind in _LEAVES:
        found[name] = item
    elif kind is list or kind is tuple:  # one figure, compared whole; an empty one is none
        if item:
            found[name] = _dump(item)
    elif kind is dict:
        mapping_figures(name, item, found)
    elif isinstance(item, BaseModel):
        model_figures(name, item, found)
    elif isinstance(item, enum.Enum):
        found[name] = item  # kept as it is by a dump in Python mode: a figure as it is
    else:
        raise _Unknown(kind)


def _dump(value: Any) -> Any:
    """``value`` as a dump in Python mode gives it: models as dicts by alias, containers kept."""
    kind = type(value)
    if kind in _LEAVES or value is None or isinstance(value, enum.Enum):
        return value
    if kind is tuple:
        return tuple(_dump(item) for item in value)
    if kind is list:
        return [_dump(item) for item in value]
    if kind is dict:
        return {key: _dump(item) for key, item in value.items()}
    if isinstance(value, BaseModel):
        values = value.__dict__
        dumped = {key: _dump(values[name]) for name, key in _dump_names(type(value))}
        return dumped if not value.__pydantic_extra__ else {**dumped, **_dump(value.__pydantic_extra__)}
    raise _Unknown(kind)


def _flatten(prefix: str, value: Any, found: dict[str, Any]) -> None:
    if type(value) is dict or isinstance(value, Mapping):
        for key, item in value.items():
            if item is None or key in _DESCRIPTIVE:
                continue
            name = f"{prefix}.{key}"
            if name in _LAW_IN_FORCE:
                continue
            kind = type(item)
            if kind in _LEAVES:  # a figure as it is: the common case, without recursing
                found[name] = item
            elif kind is list:  # one figure, compared whole; an empty list is no figure
                if item:
                    found[name] = item
            else:
                _flatten(name, item, found)
        return
    if value is None or (isinstance(value, list | tuple) and not value):
        return  # nothing to report: the same as a figure the verdict does not have
    found[prefix] = value


#: Types of values that are amounts as they are, and of values that never are.
_AMOUNTS = frozenset({int, Decimal, float})
_NOT_AMOUNTS = frozenset({str, bool, list, tuple, dt.date})


def amount_pairs(found: Mapping[str, Any]) -> dict[str, tuple[Any, Any]]:
    """Each amount of ``found`` paired with itself: the amounts before and after of a record
    the two versions judge alike, in one pass."""
    return {
        name: (value, value)
        for name, value in found.items()
        if (kind := type(value)) in _AMOUNTS or (kind not in _NOT_AMOUNTS and _is_amount_of(value, kind))
    }


def is_amount(value: Any) -> bool:
    """Whether ``value`` is a number an analysis may sum (days, points, tenge), not a flag."""
    return _is_amount_of(value, type(value))


def _is_amount_of(value: Any, kind: type) -> bool:
    # The usual types are told by a look-up; a subclass (an IntEnum, a bool) by its ancestry.
    if kind in _AMOUNTS:
        return True
    return kind not in _NOT_AMOUNTS and kind is not bool and isinstance(value, int | Decimal | float)


def plain(value: Any) -> Any:
    """``value`` as JSON can carry it: dates as ISO text, decimals as numbers when exact."""
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, Decimal):
        return int(value) if value == value.to_integral_value() else float(value)
    if isinstance(value, list | tuple):
        return [plain(item) for item in value]
    if isinstance(value, Mapping):
        return {str(key): plain(item) for key, item in value.items()}
    return value
