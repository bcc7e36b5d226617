"""One case being evaluated: a person on a date, and the facts computed for it so far.

A fact is computed at most once per case, when a rule, a formula or a report first needs it,
from what the policy's :class:`~rules.engine.compiled.CompiledPolicy` holds.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from typing import Any

from models.person import Person
from rules.engine.classes import FactClasses
from rules.engine.compiled import CompiledPolicy
from rules.engine.computation import PLAIN_VALS, Val, kept_plain, plain
from rules.engine.patterns import encode_value
from rules.policy.types import FactSpec, ValueType

__all__ = ["AS_IS", "Case", "EngineKeys", "KeyPlan"]

_NONE = Val()
_EMPTY: Mapping[str, Any] = {}
_UNSEEN = object()

#: Per fact of an engine fact: its name, its engine key, its type, where its mechanism holds it
#: (``None``: not a mechanism fact) and whether a whole number, text or boolean value is given
#: to the engine as it is (see :meth:`Case.engine_fact`).
EngineKeys = tuple[tuple[str, str, ValueType, tuple[str, str] | None, bool], ...]

#: The types of the values an engine fact holds as they are, when its fact's type lets it.
AS_IS: frozenset[type] = frozenset({int, str, bool})

#: Per programme asserted: the parts of the class key of its fact's ``id`` and ``t`` (see
#: :meth:`FactClasses.part`), and its engine keys, as :data:`EngineKeys` but for the last of
#: each: the types of its values given to the engine as they are (:data:`AS_IS`, or none).
KeyPlan = tuple[Any, Any, tuple[tuple[str, str, ValueType, tuple[str, str] | None, frozenset[type]], ...]]


class Case:
    """A person on a date under a compiled policy: a source of facts for formulas and rules."""

    def __init__(
        self, compiled: CompiledPolicy, person: Person, sections: Mapping[str, Any], as_of: dt.date
    ) -> None:
        self.compiled = compiled
        self.person = person
        self.sections = sections
        self.as_of = as_of
        self.day = as_of.toordinal()
        self.values: dict[str, Val] = {}
        self.statuses: dict[str, str] = {}
        self.mechanism_facts: dict[str, Mapping[str, Any]] = {}

    # --- the FactSource protocol --------------------------------------------------------------

    def fact(self, name: str) -> Val:
        """The value of fact ``name`` in this case (computed once)."""
        found = self.values.get(name)
        if found is None:
            found = self.values[name] = self._compute(name)
        return found

    def parameter(self, name: str, day: dt.date) -> Val:
        memo = self.compiled.parameter_memo
        key = (name, day)
        found = memo.get(key) if type(day) is dt.date else None
        if found is None:
            provisional = (
                frozenset({f"parameter {name}"})
                if name in self.compiled.provisional_parameters
                else frozenset()
            )
            dated = self.compiled.policy.dated_parameter(name, day)
            if dated is None:
                return Val(None, gaps=(f"parameter {name} has no value on {day}",), provisional=provisional)
            found = Val(dated.value, provisional=provisional)
            if type(day) is dt.date:
                self.compiled.remember(memo, key, found)
        return found

    def row(self, table: str, key: str, day: dt.date) -> Val:
        memo = self.compiled.row_memo
        try:
            memo_key = (table, key, day)
            found = memo.get(memo_key) if type(day) is dt.date else None
        except TypeError:  # an unhashable key: the policy's own look-up says why
            memo_key, found = None, None
        if found is None:
            provisional = (
                frozenset({f"table {table}"}) if table in self.compiled.provisional_tables else frozenset()
            )
            dated = self.compiled.policy.row(table, key, day)
            found = Val(dated.value if dated is not None else None, provisional=provisional)
            if memo_key is not None and type(day) is dt.date:
                self.compiled.remember(memo, memo_key, found)
        return found

    # --- computing ----------------------------------------------------------------------------

    def _compute(self, name: str) -> Val:
        spec = self.compiled.specs[name]
        origin = spec.origin
        if origin == "computed":  # by a formula: the usual case, asked first
            closure = self.compiled.formula(name, self.day)
            if closure is None:
                return Val(None, gaps=(f"fact {name} has no formula on {self.as_of}",))
            computed: Val = closure(self, None)
            return computed
        if origin == "as_of":
            return plain(self.as_of)
        if origin == "status":
            status = self.statuses.get(spec.programme)
            return plain(status) if status is not None else _NONE
        if origin == "mechanism":
            programme, local = self.compiled.mechanism_local[name]
            value = self.mechanism_facts.get(programme, _EMPTY).get(local)
            if value is None:
                return _NONE
            memo = PLAIN_VALS.get(type(value))  # as plain() gives it, without the call
            if memo is None:
                return Val(value)
            found = memo.get(value)
            return found if found is not None else kept_plain(memo, value)
        return self._input(name, spec)  # "input": the only origin left

    def _input(self, name: str, spec: FactSpec) -> Val:
        record, path = self.compiled.inputs[name]
        value: Any = self.sections.get(record)
        for part in path:
            # A plain dict, the usual section, or none (a section not given), without the
            # abstract class's check per part.
            if value is None or (type(value) is not dict and not isinstance(value, Mapping)):
                value = None
                break
            value = value.get(part)
        if value is None or (isinstance(value, str) and value in spec.unknown_values):
            return Val(None, frozenset({spec.path or name}))
        memo = PLAIN_VALS.get(type(value))  # as plain() gives it, without the call
        if memo is None:
            return Val(value)
        found = memo.get(value)
        return found if found is not None else kept_plain(memo, value)

    def engine_value(self, name: str, where: tuple[str, str] | None) -> Any:
        """The value of fact ``name`` as an engine fact holds it before encoding (``None``: no
        value): read straight from its mechanism's facts when ``where`` (programme, local name)
        says where they hold it, the hot path of every case; else computed."""
        if where is not None:
            return self.mechanism_facts.get(where[0], _EMPTY).get(where[1])
        return self.fact(name).value

    def engine_values(self, reads: Sequence[tuple[str, str, tuple[str, str] | None]]) -> dict[str, Any]:
        """:meth:`engine_value` of each of ``reads`` (its engine key, its fact, where its
        mechanism holds it), by engine key."""
        found: dict[str, Any] = {}
        mechanism_facts = self.mechanism_facts
        values = self.values
        for key, name, where in reads:
            if where is not None:
                found[key] = mechanism_facts.get(where[0], _EMPTY).get(where[1])
            else:
                known = values.get(name)
                found[key] = (known if known is not None else self.fact(name)).value
        return found

    def engine_fact(self, programme: str, keys: EngineKeys) -> dict[str, Any]:
        """The engine fact of ``programme``: its date and every fact its rules read.

        ``keys``: per fact, its name, its engine key, its type, where its mechanism holds it
        (``None``: not a mechanism fact) and whether a whole number, text or boolean value is
        given to the engine as it is (every type but lists, records and codes: the fast path
        of :func:`encode_value`)."""
        fact: dict[str, Any] = {"id": programme, "t": programme, "as_of": self.day}
        mechanism_facts = self.mechanism_facts
        values = self.values
        for name, key, value_type, where, given_as_is in keys:
            # As engine_value reads it, without a call per fact.
            if where is not None:
                value = mechanism_facts.get(where[0], _EMPTY).get(where[1])
            else:
                found = values.get(name)
                value = (found if found is not None else self.fact(name)).value
            if value is None:
                continue
            kind = type(value)
            if given_as_is and (kind is int or kind is str or kind is bool):
                fact[key] = value
                continue
            encoded = encode_value(value, value_type)
            if encoded is not None:
                fact[key] = encoded
        return fact

    def engine_key(self, plans: Sequence[KeyPlan], classes: FactClasses) -> tuple[Any, ...] | None:
        """:meth:`FactClasses.key` of the engine facts of the programmes of ``plans``, in order
        (``None``: a value the classes do not cover), read straight from the case's values
        without building the facts.

        The same tuple, part for part: each fact's ``id``, ``t`` and ``as_of``, then every value
        :meth:`engine_fact` would give it, encoded as it encodes it, then the fact's end. A class
        memo then answers nearly every case from it, and the facts are built only when it does
        not. The facts' values are computed as :meth:`engine_fact` computes them, in its order."""
        memo = classes.items
        day = self.day
        as_of = memo.get(("as_of", int, day), _UNSEEN)
        if as_of is _UNSEEN:
            as_of = classes.part("as_of", day)
        if as_of is None:
            return None
        found: list[Any] = []
        add = found.append
        mechanism_facts = self.mechanism_facts
        values = self.values
        for id_part, type_part, keys in plans:
            add(id_part)
            add(type_part)
            add(as_of)
            for name, key, value_type, where, as_is in keys:
                # As engine_fact reads and encodes it; then as FactClasses.key classes it.
                if where is not None:
                    value = mechanism_facts.get(where[0], _EMPTY).get(where[1])
                else:
                    known = values.get(name)
                    value = (known if known is not None else self.fact(name)).value
                if value is None:
                    continue
                kind = type(value)
                if kind not in as_is:
                    if kind is tuple and value_type.kind == "codes":
                        # Codes (the statuses held), whose part is kept by the codes as read: not
                        # made into the engine's list and classed again per case.
                        try:
                            item = memo.get((key, kind, value), _UNSEEN)
                        except TypeError:  # codes of another kind than text: classed, not kept
                            item = _UNSEEN
                        if item is _UNSEEN:
                            item = classes.codes_part(key, value, encode_value(value, value_type))
                        if item is None:
                            return None
                        add(item)
                        continue
                    value = encode_value(value, value_type)
                    if value is None:
                        continue
                    kind = type(value)
                    if kind not in AS_IS:
                        item = classes.part(key, value)
                        if item is None:
                            return None
                        add(item)
                        continue
                # Kept for the usual value; None too when the classes do not cover it.
                item = memo.get((key, kind, value))
                if item is None:
                    item = classes.part(key, value)
                    if item is None:
                        return None
                add(item)
            add(None)  # the end of one fact
        return tuple(found)
