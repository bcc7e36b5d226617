"""Classes of fact values: which side of each constant of the compiled patterns a value falls.

A durable-rules pattern compares a fact's properties with constants only (patterns are single
facts, with no joins), so whether a pattern matches a fact depends on the outcome of each of
those comparisons and on nothing else. Two facts whose values fall on the same side of every
constant their properties are compared with -- the same *class* -- match the same patterns, in
the same order. :class:`FactClasses` computes that class from the patterns themselves, so that
:class:`rules.engine.durable.CompiledRuleset` fires durable-rules once per class and replays the
firings for every later fact set of the same classes.

The class is exact only where the engine's comparison is known to be the plain one
(``rules/engine/durable`` drives durable-rules 2.0.28; its C code was read for this):

* numbers against numbers: integers are read as 64-bit, decimals with ``atof``; a class by
  position among the property's sorted constants holds for integers below 2**53 (so that a
  comparison with a decimal constant is exact) and for finite decimals written without an
  exponent (the engine's reader takes ``1e-05`` for the integer 1);
* text against text with ``==`` or ``!=`` only: the engine compares the JSON text of both, and
  JSON text is one-to-one with the string; the class is the constant it equals, if any;
* lists of text with ``$iany``/``$iall``: the class is the set of constants the list holds and
  whether it is empty.

Anything else -- text compared with a number or ordered, a boolean, a number beyond those
bounds, a list where a scalar is compared -- gets the value itself as its class (always sound:
the engine is deterministic), and a value of no JSON scalar or text-list shape, or a property
whose name the engine could confuse with a compared one (the same 32-bit hash), gets no class:
the facts are then fired in the engine as they are. A pattern of a shape this module does not
know disables the classes for the whole ruleset.

The class of one property is a function of its name, the exact type of its value and the
value, so :meth:`FactClasses.key` keeps it by those three for whole numbers, text, booleans and
lists of exact text (equal values of one exact type compare alike with every constant); not for
floats, where equal values may differ in the text the engine reads (``-0.0`` and ``0.0``).

``tests/test_fast_paths_firing.py`` checks the replayed firings against durable-rules itself,
for every operator of the condition language and for hostile values.
"""

from __future__ import annotations

import bisect
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

__all__ = ["FactClasses", "fnv1a"]

_ORDERING = {"$lt", "$lte", "$gt", "$gte"}
_EXACT_INT = 2**53
_ITEMS_KEPT = 1 << 16  # parts of keys kept (see FactClasses.key); emptied when full
_UNSEEN = object()


def fnv1a(text: str) -> int:
    """The 32-bit FNV-1a hash durable-rules compares names and ids by."""
    value = 0x811C9DC5
    for byte in text.encode():
        value = ((value ^ byte) * 0x01000193) & 0xFFFFFFFF
    return value


class _Unknown(Exception):
    """A pattern of a shape the classes do not cover."""


@dataclass
class _Property:
    """What the patterns compare one property with."""

    numbers: list[int | float] = field(default_factory=list)
    texts: set[str] = field(default_factory=set)
    items: set[str] = field(default_factory=set)
    ordered_text: bool = False
    scalar: bool = False  # compared as a scalar (==, !=, <, ...)
    listed: bool = False  # compared as a list ($iany, $iall)
    other: bool = False  # a constant that is neither a number nor a text

    def finish(self) -> None:
        self.numbers = sorted(set(self.numbers))
        self.ordered_text = self.ordered_text and bool(self.texts)


def _scalar(prop: _Property, operator: str, constant: Any) -> None:
    prop.scalar = True
    if isinstance(constant, bool) or constant is None:
        prop.other = True
    elif isinstance(constant, int):
        prop.numbers.append(constant)
    elif isinstance(constant, float):
        if not math.isfinite(constant) or "e" in repr(constant):
            raise _Unknown(constant)
        prop.numbers.append(constant)
    elif isinstance(constant, str):
        prop.texts.add(constant)
        if operator in _ORDERING:
            prop.ordered_text = True
    else:
        raise _Unknown(constant)


def _walk(pattern: Any, props: dict[str, _Property]) -> None:
    if not isinstance(pattern, dict) or len(pattern) != 1:
        raise _Unknown(pattern)
    ((key, value),) = pattern.items()
    if key in ("$and", "$or"):
        if not isinstance(value, list):
            raise _Unknown(pattern)
        for part in value:
            _walk(part, props)
        return
    if key in ("$ex", "$nex"):
        if not isinstance(value, dict) or len(value) != 1:
            raise _Unknown(pattern)
        props.setdefault(next(iter(value)), _Property())
        return
    if key in ("$neq", *_ORDERING):
        if not isinstance(value, dict) or len(value) != 1:
            raise _Unknown(pattern)
        ((name, constant),) = value.items()
        _scalar(props.setdefault(name, _Property()), key, constant)
        return
    if key in ("$iany", "$iall"):
        if not isinstance(value, dict) or len(value) != 1:
            raise _Unknown(pattern)
        ((name, inner),) = value.items()
        if key == "$iall" and isinstance(inner, dict) and set(inner) == {"$neq"}:
            inner = inner["$neq"]
        if not isinstance(inner, dict) or set(inner) != {"$i"} or not isinstance(inner["$i"], str):
            raise _Unknown(pattern)
        prop = props.setdefault(name, _Property())
        prop.listed = True
        prop.items.add(inner["$i"])
        return
    if key.startswith("$"):
        raise _Unknown(pattern)
    _scalar(props.setdefault(key, _Property()), "$eq", value)


class FactClasses:
    """The class of each fact of a fact set under a set of compiled patterns (see the module)."""

    def __init__(self, patterns: Sequence[Any]) -> None:
        props: dict[str, _Property] = {}
        try:
            for pattern in patterns:
                _walk(pattern, props)
        except _Unknown:
            self.usable = False
            self._props: dict[str, _Property] = {}
            self._hashes: frozenset[int] = frozenset()
            return
        for prop in props.values():
            prop.finish()
        # Two compared names with one hash would be one property to the engine.
        self.usable = len({fnv1a(name) for name in props}) == len(props)
        self._props = props
        self._hashes = frozenset(fnv1a(name) for name in props)
        self._unread: dict[str, bool] = {}
        #: The part of the key of each property by its name, the exact type of its value and the
        #: value (see :meth:`key`); read directly by ``Case.engine_key``, filled by :meth:`part`.
        self.items: dict[tuple[str, type, Any], Any] = {}

    def key(self, facts: Sequence[Mapping[str, Any]]) -> tuple[Any, ...] | None:
        """The classes of ``facts`` in order (``None``: a value the classes do not cover)."""
        if not self.usable:
            return None
        memo = self.items
        found: list[Any] = []
        add = found.append
        for fact in facts:
            for name, value in fact.items():
                if type(name) is not str:
                    return None
                kind = type(value)
                # The part of the key of one property, kept by its name, the exact type of its
                # value and the value: two values equal and of one exact type fall on the same
                # side of every constant. Not for floats (-0.0 equals 0.0 but the engine reads
                # its text), nor lists holding anything but exact text.
                if kind is int or kind is str or kind is bool:
                    item = memo.get((name, kind, value), _UNSEEN)
                    if item is _UNSEEN:
                        item = self._kept(name, value, (name, kind, value))
                elif kind is list and all(type(part) is str for part in value):
                    remembered = (name, kind, tuple(value))
                    item = memo.get(remembered, _UNSEEN)
                    if item is _UNSEEN:
                        item = self._kept(name, value, remembered)
                else:
                    item = self._item(name, value)
                if item is None:
                    return None
                add(item)
            add(None)  # the end of one fact
        return tuple(found)

    def part(self, name: str, value: Any) -> Any:
        """The part of the key of property ``name`` holding ``value``, as :meth:`key` gives it
        for a fact holding it (``None``: a value the classes do not cover); only for usable
        classes. Kept as :meth:`key` keeps it."""
        kind = type(value)
        if kind is int or kind is str or kind is bool:
            remembered: tuple[str, type, Any] = (name, kind, value)
        elif kind is list and all(type(part) is str for part in value):
            remembered = (name, kind, tuple(value))
        else:
            return self._item(name, value)
        item = self.items.get(remembered, _UNSEEN)
        return self._kept(name, value, remembered) if item is _UNSEEN else item

    def codes_part(self, name: str, codes: tuple[str, ...], encoded: Any) -> Any:
        """:meth:`part` of ``encoded``, the engine's value of the codes ``codes`` (a tuple of text),
        kept by the codes themselves under the exact type ``tuple`` (the parts :meth:`key` keeps
        are by an engine value's type, never a tuple): ``Case.engine_key`` reads it so."""
        item = self.part(name, encoded)
        memo = self.items
        if len(memo) >= _ITEMS_KEPT:
            memo.clear()
        try:
            memo[(name, tuple, codes)] = item
        except TypeError:  # codes of another kind than text: not kept
            pass
        return item

    def _kept(self, name: str, value: Any, remembered: tuple[str, type, Any]) -> Any:
        """:meth:`_item`, kept by ``remembered`` (see :meth:`key`)."""
        item = self._item(name, value)
        memo = self.items
        if len(memo) >= _ITEMS_KEPT:
            memo.clear()
        memo[remembered] = item
        return item

    def _item(self, name: str, value: Any) -> Any:
        """The part of the key of property ``name`` holding ``value`` (``None``: not covered)."""
        prop = self._props.get(name)
        if prop is None:
            return name if self._plain(name, value) else None
        kind = self._class(prop, value)
        return None if kind is None else (name, kind)

    def _plain(self, name: str, value: Any) -> bool:
        """A property no pattern reads: its value is never compared, only carried back."""
        safe = self._unread.get(name)
        if safe is None:
            safe = self._unread[name] = fnv1a(name) not in self._hashes
        if not safe:
            return False
        kind = type(value)
        if kind is str or kind is bool or kind is int:
            return True
        if kind is float:
            return math.isfinite(value)
        if kind is list:
            return all(type(item) is str for item in value)
        return False

    @staticmethod
    def _class(prop: _Property, value: Any) -> Any:
        kind = type(value)
        if kind is int:
            if prop.listed or prop.texts or prop.other or not -_EXACT_INT < value < _EXACT_INT:
                return ("=i", value)
            numbers = prop.numbers
            index = bisect.bisect_left(numbers, value)
            return ("i", index, index < len(numbers) and numbers[index] == value)
        if kind is str:
            if prop.listed or prop.numbers or prop.other or prop.ordered_text:
                return ("=s", value)
            return ("s", value if value in prop.texts else None)
        if kind is bool:
            return ("b", value)
        if kind is list:
            if not all(type(item) is str for item in value):
                return None
            if prop.scalar:
                return ("=l", tuple(value))
            return ("l", not value, frozenset(item for item in value if item in prop.items))
        if kind is float:
            if not math.isfinite(value):
                return None
            text = repr(value)
            if prop.listed or prop.texts or prop.other or "e" in text:
                return ("=f", text)
            numbers = prop.numbers
            index = bisect.bisect_left(numbers, value)
            return ("f", index, index < len(numbers) and numbers[index] == value)
        return None
