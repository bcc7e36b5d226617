"""Evaluating a person under a policy: derive facts, fire rules, resolve, explain.

Resolution is the policy's, not the code's:

1. every rule in force whose condition holds *fires* (durable-rules matches them);
2. a fired rule named in the ``overrides`` of another fired rule is set aside (an exception
   beats its base rule, as in Catala);
3. among the remaining rules' statuses, the programme's ``precedence`` picks the verdict.

No fired rule with a status means the policy does not decide the case: an
:class:`EvaluationError`, never a default.
"""

from __future__ import annotations

import datetime as dt
import threading
from collections import OrderedDict
from collections.abc import Mapping
from typing import Any

from pydantic import ValidationError

from models.person import Person
from models.verdict import PolicyRef, SourceRef, StayStatus, TraceEntry, Verdict
from rules.conditions import compile_rule, decode_value, encode_fact, facts_read_by
from rules.documents import format_path, located_messages
from rules.engine import CompiledRuleset
from rules.errors import EvaluationError, InputError, Problem
from rules.policy import Policy, load_policy
from rules.stay_limit import PROGRAMME, Derived, StayProgramme

__all__ = ["Evaluator", "evaluate", "parse_person"]


class Evaluator:
    """A policy compiled for evaluation. Build one per policy version and reuse it.

    Thread-safe; evaluations run one at a time inside the engine (durable-rules holds the
    GIL), so scale out with processes, each building its own evaluator.
    """

    def __init__(self, policy: Policy, *, cache_size: int = 0) -> None:
        """Compile ``policy``. ``cache_size`` > 0 keeps that many recent firings for reuse by
        identical fact sets (identical facts always fire identically). Off by default: the
        benchmark measured no gain over distinct persons, only when the same case repeats."""
        self.policy = policy
        self.stay = StayProgramme(policy)
        self._rules = {rule.id: rule for rule in policy.rules_of(PROGRAMME)}
        self._reads = {rule_id: facts_read_by(rule) for rule_id, rule in self._rules.items()}
        self._position = {rule_id: index for index, rule_id in enumerate(self._rules)}
        self._ruleset = CompiledRuleset(
            f"{policy.name}@{policy.version}",
            {rule_id: compile_rule(rule, policy.parameters) for rule_id, rule in self._rules.items()},
            cache_size=cache_size,
        )
        self._precedence = policy.programmes[PROGRAMME].precedence
        self._ref = PolicyRef(name=policy.name, version=policy.version)

    def evaluate(self, person: Person | Mapping[str, Any], on: dt.date | None = None) -> Verdict:
        """The verdict for ``person`` on ``on`` (default: today), under this policy."""
        record = parse_person(person, self.policy)
        as_of = on if on is not None else dt.date.today()
        derived = self.stay.derive(record, as_of)
        firings = self._ruleset.fire([encode_fact(PROGRAMME, derived.fact)])

        fired = [rule_id for rule_id, _ in firings]
        overridden_by = {
            base: rule_id for rule_id in fired for base in self._rules[rule_id].overrides if base in fired
        }
        deciding = [
            self._rules[rule_id]
            for rule_id in fired
            if rule_id not in overridden_by and self._rules[rule_id].then.status is not None
        ]
        if not deciding:
            raise EvaluationError(
                f"policy {self.policy.name} ({self.policy.version}) decides no stay status "
                f"on {as_of}: no rule in force applies to this case"
            )
        rank = {status: index for index, status in enumerate(self._precedence)}
        status = min((rule.then.status for rule in deciding if rule.then.status), key=rank.__getitem__)
        missing = tuple(
            dict.fromkeys(
                item for rule in deciding if rule.then.status == status for item in rule.then.missing
            )
        )
        trace = [
            self._trace_entry(rule_id, matched, overridden_by.get(rule_id), derived, decided=status)
            for rule_id, matched in sorted(firings, key=lambda f: self._reading_order(f[0], rank))
        ]
        trace.extend(self._past_exemptions(fired, derived))
        return Verdict(
            person_id=record.person_id,
            as_of=as_of,
            policy=self._ref,
            stay=self.stay.result(derived, StayStatus(status), missing),
            trace=tuple(trace),
            warnings=derived.warnings + self._provisional_warnings(),
        )

    def _reading_order(self, rule_id: str, rank: dict[str, int]) -> tuple[int, int]:
        """Rules that only apply (the base rule) first, then by the precedence of their status."""
        status = self._rules[rule_id].then.status
        return (0 if status is None else 1 + rank[status], self._position[rule_id])

    def _trace_entry(
        self,
        rule_id: str,
        matched: dict[str, Any],
        overridden_by: str | None,
        derived: Derived,
        decided: str,
    ) -> TraceEntry:
        rule = self._rules[rule_id]
        facts = {name: _decode(name, matched[name]) for name in self._reads[rule_id] if name in matched}
        facts["as_of"] = _decode("as_of", matched["as_of"])
        note = rule.then.note or rule.note
        if rule.exempts is not None:
            facts["status"] = rule.exempts
            if derived.figures is not None:
                facts["days_not_counted"] = derived.figures.exempt_days_by_rule.get(rule_id, 0)
        return TraceEntry(
            rule=rule_id,
            title=rule.title,
            source=SourceRef(title=rule.source.title, href=rule.source.href),
            in_force=(rule.start, rule.end),
            outcome=rule.then.status or "applies",
            facts=facts,
            missing=tuple(rule.then.missing),
            overridden_by=overridden_by,
            decisive=overridden_by is None and rule.then.status == decided,
            note=note,
        )

    def _past_exemptions(self, fired: list[str], derived: Derived) -> list[TraceEntry]:
        """Exemptions that removed days earlier but do not cover the evaluation date."""
        if derived.figures is None:
            return []
        entries = []
        for rule in self.stay.exemptions:
            removed = derived.figures.exempt_days_by_rule.get(rule.id, 0)
            if removed and rule.id not in fired:
                entries.append(
                    TraceEntry(
                        rule=rule.id,
                        title=rule.title,
                        source=SourceRef(title=rule.source.title, href=rule.source.href),
                        in_force=(rule.start, rule.end),
                        outcome="days_not_counted",
                        facts={"status": rule.exempts, "days_not_counted": removed},
                        note="the status covered earlier days of stay, not the evaluation date",
                    )
                )
        return entries

    def _provisional_warnings(self) -> tuple[str, ...]:
        return tuple(
            f"parameter {name} is provisional: the sources do not publish it"
            for name, parameter in self.policy.parameters.items()
            if parameter.provisional and name.startswith(f"{PROGRAMME}.")
        )


def _decode(name: str, value: Any) -> Any:
    return decode_value(PROGRAMME, name, value)


def parse_person(person: Person | Mapping[str, Any], policy: Policy) -> Person:
    """Validate a person (model or plain dict) and check its status kinds against ``policy``.

    Raises :class:`InputError` listing every problem with its path (``trips[2].exit``).
    """
    if isinstance(person, Person):
        record = person
    elif isinstance(person, Mapping):
        try:
            record = Person.model_validate(dict(person))
        except ValidationError as error:
            raise InputError("the person record is not valid", _person_problems(error)) from None
    else:
        raise InputError(f"a person is a mapping or a models.Person, not {type(person).__name__}")
    unknown = [
        Problem(
            f"statuses[{index}].kind",
            f"unknown status kind {status.kind!r}{_suggestion(status.kind, policy.status_kinds)}; "
            f"policy {policy.name} knows: {', '.join(sorted(policy.status_kinds))}",
            ("statuses", index, "kind"),
        )
        for index, status in enumerate(record.statuses)
        if status.kind not in policy.status_kinds
    ]
    if unknown:
        raise InputError("the person record is not valid", unknown)
    return record


def _suggestion(name: str, known: Mapping[str, Any]) -> str:
    import difflib

    close = difflib.get_close_matches(name, list(known), n=1)
    return f" (did you mean {close[0]!r}?)" if close else ""


def _person_problems(error: ValidationError) -> list[Problem]:
    return [Problem(format_path(loc) or "person", message, loc) for loc, message in located_messages(error)]


_default_lock = threading.Lock()
_evaluators: OrderedDict[tuple[str, str], Evaluator] = OrderedDict()
_KEPT_EVALUATORS = 8  # policy versions kept compiled by evaluate(); older ones are freed


def _evaluator_for(policy: Policy | None) -> Evaluator:
    with _default_lock:
        key = ("", "") if policy is None else (policy.name, policy.version)
        evaluator = _evaluators.get(key)
        if evaluator is None or (policy is not None and evaluator.policy != policy):
            evaluator = Evaluator(load_policy() if policy is None else policy)
            _evaluators[key] = evaluator
            if len(_evaluators) > _KEPT_EVALUATORS:
                _evaluators.popitem(last=False)
        _evaluators.move_to_end(key)
        return evaluator


def evaluate(
    person: Person | Mapping[str, Any], on: dt.date | None = None, policy: Policy | None = None
) -> Verdict:
    """The verdict for ``person`` on ``on`` (default today) under ``policy`` (default: shipped).

    Accepts a :class:`models.Person` or a plain dict of the same shape. Compiled policies are
    kept per version, so repeated calls cost only the evaluation.
    """
    return _evaluator_for(policy).evaluate(person, on)
