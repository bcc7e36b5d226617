"""A safe wrapper over durable-rules' C extension: compile patterns once, fire them per case.

durable-rules' Python ``Host`` layer is unsafe (background threads, crashes; see
``shared/engineering/durable-rules.md``), so this module drives the extension's functions
directly. What each firing returns -- ``{rule_name: {"m": matched_fact}}`` -- is the trace;
no Python action runs per rule. The hazards guarded here, each kept as a regression test:

* a session in which no action ran segfaults on delete: an end-marker fact asserted last in
  every case matches a sentinel rule, so every session runs at least one action;
* session and fact ids are compared by a 32-bit hash: one fixed session id, one case at a
  time under a lock (the C code holds the GIL anyway, so threads would add no throughput);
* facts with identical content are one fact: every fact carries an explicit ``id``;
* at most 1,024 live sessions: the session is deleted after every case, even on error;
* ``pri`` below zero is read as unsigned: all priorities are small and non-negative;
* names ending in ``$state``/``$flow`` change meaning: ruleset names are ``<policy>@<hash>``.
"""

from __future__ import annotations

import json
import threading
from collections import OrderedDict
from collections.abc import Mapping, Sequence
from typing import Any

import durable_rules_engine as _durable

from rules.errors import EngineError

__all__ = ["CompiledRuleset", "Firing"]

_SESSION = "w0"
_END_RULE = "__end__"
_END_FACT = {"id": "__end__", "t": "__end__"}

Firing = tuple[str, dict[str, Any]]


class CompiledRuleset:
    """Named patterns compiled into one durable-rules ruleset.

    ``fire(facts)`` asserts the facts in a fresh session and returns, for each rule whose
    pattern matched, ``(rule name, matched fact)``. Results for identical fact sets are
    identical, so recent ones are reused from a bounded cache.
    """

    def __init__(self, name: str, patterns: Mapping[str, dict[str, Any]], cache_size: int = 4096):
        if name.endswith(("$state", "$flow")):
            raise EngineError(f"ruleset name {name!r} would be read as a statechart or flowchart")
        self.name = name
        self._names = {f"r{index}": rule for index, rule in enumerate(patterns)}
        definition: dict[str, Any] = {
            key: {"all": [{"m": patterns[rule]}], "pri": 1} for key, rule in self._names.items()
        }
        definition[_END_RULE] = {"all": [{"m": {"t": _END_FACT["t"]}}], "pri": 2}
        try:
            self._handle = _durable.create_ruleset(name, json.dumps(definition))
        except _durable.error as error:
            raise EngineError(f"durable-rules refused the compiled ruleset {name!r}: {error}") from None
        self._lock = threading.Lock()
        self._handle_poisoned = False
        self._cache: OrderedDict[str, tuple[Firing, ...]] = OrderedDict()
        self._cache_size = cache_size

    def fire(self, facts: Sequence[Mapping[str, Any]]) -> tuple[Firing, ...]:
        """Assert ``facts`` (each with ``id`` and type ``t``) and return every firing."""
        for fact in facts:
            if "id" not in fact or "t" not in fact:
                raise EngineError("every fact needs an explicit 'id' and a type 't'")
        key = json.dumps(facts, sort_keys=True, separators=(",", ":")) if self._cache_size else ""
        with self._lock:
            if self._handle is None:
                raise EngineError(f"ruleset {self.name!r} is closed")
            if self._handle_poisoned:
                raise EngineError(
                    f"ruleset {self.name!r} kept a session after a failure; build a new evaluator"
                )
            cached = self._cache.get(key)
            if cached is not None:
                self._cache.move_to_end(key)
                return cached
            firings = self._run([*facts, _END_FACT])
            if self._cache_size:
                self._cache[key] = firings
                if len(self._cache) > self._cache_size:
                    self._cache.popitem(last=False)
            return firings

    def _run(self, facts: Sequence[Mapping[str, Any]]) -> tuple[Firing, ...]:
        payload = json.dumps([{**fact, "sid": _SESSION} for fact in facts])
        firings: list[Firing] = []
        ended = False
        try:
            result = _durable.assert_facts(self._handle, payload)
            state_handle = result[1]
            message = _durable.start_action_for_state(self._handle, state_handle)
            message_text = message[1] if message else None
            while message_text:
                for key, matched in json.loads(message_text).items():
                    if key == _END_RULE:
                        ended = True
                    else:
                        firings.append((self._names[key], matched["m"]))
                message_text = _durable.complete_and_start_action(self._handle, state_handle)
        except _durable.error as error:
            self._handle_poisoned = not ended
            raise EngineError(f"durable-rules failed on ruleset {self.name!r}: {error}") from None
        finally:
            if ended:
                _durable.delete_state(self._handle, _SESSION)
        if not ended:
            self._handle_poisoned = True
            raise EngineError(
                f"the end marker did not fire in ruleset {self.name!r}; the session was kept "
                "rather than risk deleting a session in which no action ran"
            )
        return tuple(firings)

    def close(self) -> None:
        """Free the ruleset in the engine. The object is unusable afterwards."""
        with self._lock:
            if self._handle is not None:
                _durable.delete_ruleset(self._handle)
                self._handle = None
                self._cache.clear()

    def __del__(self) -> None:  # pragma: no cover - interpreter shutdown order is not ours
        try:
            self.close()
        except Exception:
            pass
