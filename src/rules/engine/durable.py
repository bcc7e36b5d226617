"""A safe wrapper over durable-rules' C extension: compile patterns once, fire them per case.

durable-rules' Python ``Host`` layer is unsafe (background threads, crashes; see
``docs/durable-rules.md``), so this module drives the extension's functions
directly. What each firing returns -- ``{rule_name: {"m": matched_fact}}`` -- is the trace;
no Python action runs per rule. The hazards guarded here, each kept as a regression test:

* a session in which no action ran segfaults on delete: an end-marker fact asserted last in
  every case matches a sentinel rule, so every session runs at least one action;
* session and fact ids are compared by a 32-bit hash: one fixed session id, one case at a
  time under a lock (the C code holds the GIL anyway, so threads would add no throughput);
* facts with identical content are one fact: every fact carries an explicit ``id``;
* at most 1,024 live sessions: the session is deleted after every case, even on error;
* ``pri`` below zero is read as unsigned: all priorities are small and non-negative;
* names ending in ``$state``/``$flow`` change meaning: ruleset names are ``<policy>@<hash>``;
* more than 64 alternatives alive at once for one fact fail with error 303, and 512 sibling
  nodes hang durable for ever: patterns are split into several durable rulesets, each with at
  most ``max_alternatives`` (48) alternatives once and/or are expanded, and a single pattern
  beyond that is refused (the policy loader refuses such a rule first, with its place);
* fact ids are compared by a 32-bit FNV-1a hash: duplicate or colliding ids are refused, and
  the end marker's id and type are reserved.
"""

from __future__ import annotations

import json
import math
import os
import sys
import threading
import weakref
from collections import OrderedDict
from collections.abc import Mapping, Sequence
from typing import Any

from rules.engine.classes import FactClasses, fnv1a
from rules.errors import EngineError
from rules.policy.conditions import MAX_ALTERNATIVES as POLICY_MAX_ALTERNATIVES


def _import_engine() -> Any:
    """durable-rules' C extension, imported with lazy symbol binding.

    CPython 3.13 removed ``PyEval_CallObject``, which the extension names but uses only on its
    callback path (the ``Host`` layer kzmig never uses). Bound lazily, the symbol is resolved
    only if that path runs, so the extension imports and evaluates as on 3.11; the previous
    flags are restored at once. Where there are no dlopen flags (Windows) it imports plainly.
    """
    if not hasattr(sys, "getdlopenflags"):
        import durable_rules_engine

        return durable_rules_engine
    flags = sys.getdlopenflags()
    sys.setdlopenflags((flags & ~os.RTLD_NOW) | os.RTLD_LAZY)
    try:
        import durable_rules_engine
    finally:
        sys.setdlopenflags(flags)
    return durable_rules_engine


_durable = _import_engine()

__all__ = ["MAX_ALTERNATIVES", "CompiledRuleset", "Firing", "alternatives", "check_facts"]

#: Alternatives (and/or expanded) per durable ruleset: below the 64 that fail with error 303.
#: The loader refuses a rule beyond it (:mod:`rules.policy.conditions`).
MAX_ALTERNATIVES = POLICY_MAX_ALTERNATIVES

_SESSION = "w0"
_END_RULE = "__end__"
_END_FACT = {"id": "__end__", "t": "__end__"}
_END_SESSION_FACT = {**_END_FACT, "sid": _SESSION}

Firing = tuple[str, dict[str, Any]]


def alternatives(pattern: Any) -> int:
    """How many alternatives a durable pattern expands to: ``$or`` adds, ``$and`` multiplies."""
    if isinstance(pattern, dict) and len(pattern) == 1:
        ((key, value),) = pattern.items()
        if key == "$and":
            return math.prod(alternatives(part) for part in value)
        if key == "$or":
            return sum(alternatives(part) for part in value)
    return 1


def _fact_type(pattern: Any) -> str | None:
    """The fact type (``t``) a pattern requires, when it requires one at its top."""
    if isinstance(pattern, dict):
        if isinstance(pattern.get("t"), str):
            return str(pattern["t"])
        for part in pattern.get("$and", ()):
            if isinstance(part, dict) and isinstance(part.get("t"), str):
                return str(part["t"])
    return None


def _chunks(patterns: Mapping[str, dict[str, Any]], limit: int) -> list[list[str]]:
    chunks: list[list[str]] = []
    room = 0
    for name, pattern in patterns.items():
        size = alternatives(pattern)
        if size > limit:
            raise EngineError(
                f"pattern {name!r} expands to {size} alternatives; at most {limit} fit in one ruleset"
            )
        if not chunks or size > room:
            chunks.append([])
            room = limit
        chunks[-1].append(name)
        room -= size
    return chunks or [[]]


class CompiledRuleset:
    """Named patterns compiled into one durable-rules ruleset.

    ``fire(facts)`` asserts the facts in a fresh session and returns, once for each rule and
    fact its pattern matched, ``(rule name, matched fact)``. Results for identical fact sets are
    identical, so recent ones are reused from a bounded cache.
    """

    def __init__(
        self,
        name: str,
        patterns: Mapping[str, dict[str, Any]],
        cache_size: int = 0,
        max_alternatives: int | None = None,
        class_memo: int = 0,
    ):
        if name.endswith(("$state", "$flow")):
            raise EngineError(f"ruleset name {name!r} would be read as a statechart or flowchart")
        self.name = name
        self._handles: list[Any] = []
        self._names: list[dict[str, str]] = []
        # The fact types each part's patterns require (None: a pattern that requires none), so
        # that a case asserts its facts only into the parts that can match them.
        self._types: list[frozenset[str] | None] = []
        try:
            limit = MAX_ALTERNATIVES if max_alternatives is None else max_alternatives
            for number, chunk in enumerate(_chunks(patterns, limit)):
                names = {f"r{index}": rule for index, rule in enumerate(chunk)}
                definition: dict[str, Any] = {
                    key: {"all": [{"m": patterns[rule]}], "pri": 1} for key, rule in names.items()
                }
                definition[_END_RULE] = {"all": [{"m": {"t": _END_FACT["t"]}}], "pri": 2}
                self._handles.append(_durable.create_ruleset(f"{name}#{number}", json.dumps(definition)))
                self._names.append(names)
                types = [_fact_type(patterns[rule]) for rule in chunk]
                self._types.append(None if None in types else frozenset(t for t in types if t is not None))
        except _durable.error as error:
            self._free()
            raise EngineError(f"durable-rules refused the compiled ruleset {name!r}: {error}") from None
        self._lock = threading.Lock()
        self._closed = False
        self._poisoned = False
        self._busy = False
        _LIVE.add(self)
        self._cache: OrderedDict[str, tuple[Firing, ...]] = OrderedDict()
        self._cache_size = cache_size
        # Firings by class of the facts' values (rules.engine.classes): the rules and the facts
        # (by position) that fired, replayed for any later fact set of the same classes.
        self._classes = FactClasses(list(patterns.values())) if class_memo > 0 else None
        # Each with the names alone, as fired() gives them.
        self._memo: dict[tuple[Any, ...], tuple[tuple[tuple[str, int], ...], tuple[str, ...]]] = {}
        self._memo_size = class_memo

    @property
    def parts(self) -> int:
        """How many durable rulesets the patterns were split into."""
        return len(self._handles)

    def fire(self, facts: Sequence[Mapping[str, Any]]) -> tuple[Firing, ...]:
        """Assert ``facts`` (each with a distinct ``id`` and a type ``t``); return every firing."""
        firings, replay = self._fire(facts)
        if replay is None:
            return firings
        return tuple((name, _matched(facts[index])) for name, index in replay[0])

    def fired(self, facts: Sequence[Mapping[str, Any]]) -> tuple[str, ...]:
        """The rules :meth:`fire` reports for ``facts``, in its order, without the facts they
        matched: an evaluator reads only which rules fired, and a replay then builds none."""
        firings, replay = self._fire(facts)
        if replay is None:
            return tuple(name for name, _ in firings)
        return replay[1]

    def _fire(
        self, facts: Sequence[Mapping[str, Any]]
    ) -> tuple[tuple[Firing, ...], tuple[tuple[tuple[str, int], ...], tuple[str, ...]] | None]:
        """The firings of ``facts``, or their replay from the class memo (see _remember)."""
        check_facts(facts)
        classes = self._classes.key(facts) if self._classes is not None else None
        with self._lock:
            if self._closed or self._poisoned:
                self._refuse_if_unusable()
            if classes is not None:
                replay = self._memo.get(classes)
                if replay is not None:
                    return (), replay
            # The exact facts' text only when the class memo does not answer (it answers nearly
            # every case): a replay and the cached firings are equal, both what durable-rules fires.
            key = json.dumps(facts, sort_keys=True, separators=(",", ":")) if self._cache_size else ""
            cached = self._cache.get(key) if self._cache_size else None
            if cached is not None:
                self._cache.move_to_end(key)
                return cached, None
            payload = json.dumps([*({**fact, "sid": _SESSION} for fact in facts), _END_SESSION_FACT])
            present = {fact["t"] for fact in facts}
            self._busy = True
            # A rule whose condition has several true alternatives matches a fact once per
            # alternative: it fired once for that fact, so it is reported once.
            found: dict[tuple[str, Any], Firing] = {}
            for handle, names, types in zip(self._handles, self._names, self._types, strict=True):
                if types is not None and not types & present:
                    continue  # no fact of this case can match a pattern of this part
                for name, matched in self._run(handle, names, payload):
                    found.setdefault((name, matched.get("id")), (name, matched))
            firings = tuple(found.values())
            self._busy = False
            if classes is not None:
                self._remember(classes, facts, firings)
            if self._cache_size:
                self._cache[key] = firings
                if len(self._cache) > self._cache_size:
                    self._cache.popitem(last=False)
            return firings, None

    @property
    def classes(self) -> FactClasses | None:
        """The classes the firings are kept by for replay (``None``: no class memo, or patterns
        of a shape the classes do not cover): :meth:`replayed` is asked by their key."""
        return self._classes if self._classes is not None and self._classes.usable else None

    def replayed(self, classes: tuple[Any, ...]) -> tuple[str, ...] | None:
        """What :meth:`fired` gives for facts whose :meth:`FactClasses.key` is ``classes``, when
        the class memo holds it (``None``: fire the facts themselves).

        A caller that can make the key without the facts (an evaluator reads it straight from
        its case) builds the facts only when this gives ``None``; it must have checked their ids
        and types as :meth:`fired` would. A closed or poisoned ruleset refuses as :meth:`fired`
        does."""
        with self._lock:
            if self._closed or self._poisoned:
                self._refuse_if_unusable()
            replay = self._memo.get(classes)
        return None if replay is None else replay[1]

    def _refuse_if_unusable(self) -> None:
        """The error of a closed ruleset, or of one that kept a session (under the lock): each
        firing asks for it when either holds."""
        if self._closed:
            raise EngineError(f"ruleset {self.name!r} is closed")
        if self._poisoned:
            raise EngineError(
                f"ruleset {self.name!r} kept a session after a failure or a fork; build a new evaluator"
            )

    def _remember(
        self, classes: tuple[Any, ...], facts: Sequence[Mapping[str, Any]], firings: tuple[Firing, ...]
    ) -> None:
        """Keep which rules fired on which fact, when each matched fact is the one asserted."""
        position = {fact["id"]: index for index, fact in enumerate(facts)}
        replay = []
        for name, matched in firings:
            index = position.get(matched.get("id"))
            if index is None or matched != _matched(facts[index]):
                return  # not the plain echo of an asserted fact: not replayed
            replay.append((name, index))
        if len(self._memo) >= self._memo_size:
            del self._memo[next(iter(self._memo))]
        self._memo[classes] = (tuple(replay), tuple(name for name, _ in replay))

    def _run(self, handle: Any, names: dict[str, str], payload: str) -> list[Firing]:
        firings: list[Firing] = []
        ended = False
        try:
            result = _durable.assert_facts(handle, payload)
            state_handle = result[1]
            message = _durable.start_action_for_state(handle, state_handle)
            message_text = message[1] if message else None
            while message_text:
                for key, matched in json.loads(message_text).items():
                    if key == _END_RULE:
                        ended = True
                    else:
                        firings.append((names[key], matched["m"]))
                message_text = _durable.complete_and_start_action(handle, state_handle)
        except _durable.error as error:
            self._poisoned = not ended
            raise EngineError(f"durable-rules failed on ruleset {self.name!r}: {error}") from None
        finally:
            if ended:
                _durable.delete_state(handle, _SESSION)
        if not ended:
            self._poisoned = True
            raise EngineError(
                f"the end marker did not fire in ruleset {self.name!r}; the session was kept "
                "rather than risk deleting a session in which no action ran"
            )
        return firings

    def close(self) -> None:
        """Free the rulesets in the engine. The object is unusable afterwards."""
        with self._lock:
            self._closed = True
            self._cache.clear()
            self._memo.clear()
            self._free()

    def _free(self) -> None:
        while self._handles:
            _durable.delete_ruleset(self._handles.pop())

    def __del__(self) -> None:  # pragma: no cover - interpreter shutdown order is not ours
        try:
            self._free()
        except Exception:
            pass


_LIVE: weakref.WeakSet[CompiledRuleset] = weakref.WeakSet()


def _after_fork_in_child() -> None:
    """A forked child gets a copy of every lock as it was: one held by another thread of the
    parent would never be released. Each ruleset gets a new lock; one that was running a case
    in the parent when it forked holds that case's session, so it refuses further use (the
    child builds a new evaluator)."""
    for ruleset in list(_LIVE):
        ruleset._lock = threading.Lock()
        if ruleset._busy:
            ruleset._poisoned = True


if hasattr(os, "register_at_fork"):  # not on Windows, which does not fork
    os.register_at_fork(after_in_child=_after_fork_in_child)


_ID_HASHES: dict[str, int] = {}


def _id_hash(fact_id: str) -> int:
    """:func:`fnv1a` of a fact id, kept for the few ids a policy's facts use."""
    found = _ID_HASHES.get(fact_id)
    if found is None:
        found = fnv1a(fact_id)
        if len(_ID_HASHES) < 1024:
            _ID_HASHES[fact_id] = found
    return found


def _matched(fact: Mapping[str, Any]) -> dict[str, Any]:
    """A fact as durable-rules gives it back when it matched: read from its JSON, with the
    session id (only for facts whose values the classes cover: text, numbers, lists of text)."""
    return {
        **{name: list(value) if type(value) is list else value for name, value in fact.items()},
        "sid": _SESSION,
    }


def check_facts(facts: Sequence[Mapping[str, Any]]) -> None:
    """Refuse what durable-rules would silently merge or misread."""
    seen: dict[int, str] = {}
    for fact in facts:
        fact_id, fact_type = fact.get("id"), fact.get("t")
        if not isinstance(fact_id, str) or not isinstance(fact_type, str):
            raise EngineError("every fact needs an explicit string 'id' and a type 't'")
        if _END_FACT["id"] in (fact_id, fact_type):
            raise EngineError(f"{_END_FACT['id']!r} is reserved for the end marker")
        hashed = _id_hash(fact_id)
        other = seen.get(hashed)
        seen[hashed] = fact_id
        if other is not None:
            raise EngineError(
                f"fact ids {other!r} and {fact_id!r} would be one fact in durable-rules "
                "(the same id, or the same 32-bit hash)"
            )
