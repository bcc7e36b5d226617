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
from dataclasses import dataclass
from typing import Any

from pydantic import ValidationError

from models.person import Person
from models.policy import Rule
from models.verdict import Decision, PolicyRef, RegistrationDue, SourceRef, StayStatus, TraceEntry, Verdict
from rules.engine.durable import CompiledRuleset, Firing
from rules.engine.patterns import compile_rule, decode_value, encode_fact, facts_read_by, parameters_read_by
from rules.errors import EvaluationError, InputError, PolicyError, Problem, did_you_mean
from rules.policy.documents import format_path, located_messages
from rules.policy.loader import Policy, load_policy
from rules.stay.consequences import consequence_facts, decision_values
from rules.stay.crossings import trips_from_crossings
from rules.stay.limit import PROGRAMME, Derived, StayProgramme
from rules.stay.registration import registration_due, registration_problems

__all__ = ["Evaluator", "evaluate", "evaluator_for", "parse_person"]

DEFAULT_TIME_ZONE = "crossings.default_time_zone"
BORDER_POSTS = "crossings.border_posts"


@dataclass(frozen=True)
class _Decided:
    """A programme's outcome: its status, the rules that decided it, and what they found."""

    status: str
    rules: tuple[Rule, ...]
    missing: tuple[str, ...]


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
        problems = registration_problems(policy)
        if problems:
            raise PolicyError(f"policy {policy.name} cannot decide registration", problems)
        self._rules = {rule.id: rule for rule in policy.rules}
        self._reads = {rule_id: facts_read_by(rule) for rule_id, rule in self._rules.items()}
        self._parameters = {rule_id: parameters_read_by(rule) for rule_id, rule in self._rules.items()}
        self._position = {rule_id: index for index, rule_id in enumerate(self._rules)}
        self._sources = {
            rule_id: SourceRef(title=rule.source.title, href=rule.source.href)
            for rule_id, rule in self._rules.items()
        }
        self._ruleset = CompiledRuleset(
            f"{policy.name}@{policy.version}",
            {rule_id: compile_rule(rule, policy.parameters) for rule_id, rule in self._rules.items()},
            cache_size=cache_size,
        )
        self._order = {name: index for index, name in enumerate(policy.programmes)}
        self._rank = {
            name: {status: index for index, status in enumerate(programme.precedence)}
            for name, programme in policy.programmes.items()
        }
        self._ref = PolicyRef(name=policy.name, version=policy.version)

    def evaluate(self, person: Person | Mapping[str, Any], on: dt.date | None = None) -> Verdict:
        """The verdict for ``person`` on ``on`` (default: today), under this policy."""
        record = parse_person(person, self.policy)
        as_of = on if on is not None else dt.date.today()
        record, read_warnings = self._trips_from_crossings(record, as_of)
        derived = self.stay.derive(record, as_of)
        # Phase 1: the stay limit. Phase 2: what follows from its status (sanction, entry),
        # whose facts carry that status so the policy's rules state the dependency.
        firings = self._ruleset.fire([encode_fact(PROGRAMME, derived.fact)])
        stay = self._decide(PROGRAMME, [rule_id for rule_id, _ in firings], self._set_aside(firings))
        if stay is None:
            raise EvaluationError(
                f"policy {self.policy.name} ({self.policy.version}) decides no stay status "
                f"on {as_of}: no rule in force applies to this case"
            )
        following = consequence_facts(record, as_of, derived, stay.status)
        if following:
            firings += self._ruleset.fire([encode_fact(fact["t"], fact) for fact in following])
        fired = [rule_id for rule_id, _ in firings]
        overridden_by = self._set_aside(firings)
        by_programme: dict[str, list[str]] = {}
        for rule_id in fired:
            by_programme.setdefault(self._rules[rule_id].programme, []).append(rule_id)
        decided = {
            name: decision
            for name, rule_ids in by_programme.items()
            if (decision := self._decide(name, rule_ids, overridden_by)) is not None
        }
        for name, programme in self.policy.programmes.items():
            if programme.required and name not in decided:
                raise EvaluationError(
                    f"policy {self.policy.name} ({self.policy.version}) decides no {name} status "
                    f"on {as_of}: no rule in force applies to this case"
                )
        warnings = [*read_warnings, *derived.warnings]
        consequences = {
            name: self._decision(decided[name], as_of, warnings) for name in decided if name != PROGRAMME
        }
        trace = [
            self._trace_entry(rule_id, matched, overridden_by.get(rule_id), derived, decided)
            for rule_id, matched in sorted(firings, key=lambda firing: self._reading_order(firing[0]))
        ]
        trace.extend(self._past_exemptions(fired, derived))
        warnings.extend(self._provisional_warnings(decided))
        return Verdict(
            person_id=record.person_id,
            as_of=as_of,
            policy=self._ref,
            stay=self.stay.result(
                derived,
                StayStatus(stay.status),
                stay.missing,
                sanction=consequences.get("sanction"),
                entry_check=consequences.get("entry"),
                registration=self._registration(record, as_of, warnings),
            ),
            trace=tuple(trace),
            warnings=tuple(dict.fromkeys(warnings)),
        )

    def _trips_from_crossings(self, person: Person, as_of: dt.date) -> tuple[Person, tuple[str, ...]]:
        """A record given as border crossings, read into trips with the policy's post table.

        A record that cannot be read safely becomes one whose trips are unknown: the verdict
        is then undetermined, and the warnings name the crossings concerned."""
        if person.crossings is None:
            return person, ()
        try:
            default_tz = self.policy.parameter(DEFAULT_TIME_ZONE, as_of).value
        except EvaluationError:
            raise PolicyError(
                f"policy {self.policy.name} has no {DEFAULT_TIME_ZONE} on {as_of}: crossings cannot be read"
            ) from None
        table = self.policy.tables.get(BORDER_POSTS)
        posts = {
            post: found.value["tz"]
            for post in (table.rows if table is not None else ())
            if (found := self.policy.row(BORDER_POSTS, post, as_of)) is not None
        }
        reading = trips_from_crossings(person.crossings, posts, default_tz)
        if reading.readable:
            return person.model_copy(update={"trips": reading.trips}), reading.warnings
        unreadable = "the border crossings cannot be read safely, so the trips are not known"
        return person.model_copy(update={"trips": None}), (*reading.warnings, unreadable)

    def _registration(self, person: Person, as_of: dt.date, warnings: list[str]) -> RegistrationDue | None:
        """The registration due for the trip the person is on at ``as_of`` (none if absent).

        The procedure follows the regime of the citizenship on the day of entry."""
        current = next(
            (
                trip
                for trip in reversed(person.trips or ())
                if trip.entry <= as_of and (trip.exit is None or trip.exit >= as_of)
            ),
            None,
        )
        if current is None or person.citizenship is None:
            return None
        regime = self.policy.row("stay.regime_of_citizenship", person.citizenship, current.entry)
        if regime is None:
            return None
        try:
            return registration_due(self.policy, current.entry, regime.value)
        except EvaluationError as error:
            warnings.append(f"registration of the entry on {current.entry}: {error.summary}")
            return None

    def _set_aside(self, firings: tuple[Firing, ...]) -> dict[str, str]:
        """Which fired rules an exception sets aside, and by which rule.

        Only an exception that is itself in effect sets its base rules aside: when a
        suspension overrides a refusal, the refusal no longer overrides anything (Catala's
        reading). The loader refuses cycles of ``overrides``, so this terminates.
        """
        fired = [rule_id for rule_id, _ in firings]
        overriders: dict[str, list[str]] = {}
        for rule_id in fired:
            for base in self._rules[rule_id].overrides:
                overriders.setdefault(base, []).append(rule_id)
        by: dict[str, str | None] = {}

        def setter(rule_id: str) -> str | None:
            if rule_id not in by:
                by[rule_id] = next(
                    (other for other in overriders.get(rule_id, ()) if setter(other) is None), None
                )
            return by[rule_id]

        return {rule_id: found for rule_id in fired if (found := setter(rule_id)) is not None}

    def _decide(self, programme: str, fired: list[str], overridden_by: dict[str, str]) -> _Decided | None:
        """Exceptions set their base rules aside; the programme's precedence picks the status.

        ``fired`` holds rules of ``programme`` only (the stay rules, in the first phase)."""
        rules = self._rules
        deciding = [
            rules[rule_id]
            for rule_id in fired
            if rule_id not in overridden_by and rules[rule_id].then.status is not None
        ]
        if not deciding:
            return None
        rank = self._rank[programme]
        status = min((rule.then.status for rule in deciding if rule.then.status), key=rank.__getitem__)
        chosen = tuple(rule for rule in deciding if rule.then.status == status)
        missing = tuple(dict.fromkeys(item for rule in chosen for item in rule.then.missing))
        return _Decided(status, chosen, missing)

    def _decision(self, decided: _Decided, as_of: dt.date, warnings: list[str]) -> Decision:
        """An optional programme's outcome as the verdict reports it, values resolved."""
        rule = decided.rules[0]
        values, missing_values = decision_values(self.policy, rule, as_of)
        warnings.extend(missing_values)
        return Decision(
            status=decided.status,
            rule=rule.id,
            values=values,
            provisional=any(r.provisional for r in decided.rules)
            or any(self.policy.parameters[p].provisional for p in self._parameters[rule.id]),
            note=rule.then.note or rule.note,
        )

    def _reading_order(self, rule_id: str) -> tuple[int, int, int]:
        """By programme; within one, rules that only apply (a base rule) first, then by the
        precedence of their status."""
        rule = self._rules[rule_id]
        status = rule.then.status
        rank = 0 if status is None else 1 + self._rank[rule.programme][status]
        return (self._order[rule.programme], rank, self._position[rule_id])

    def _trace_entry(
        self,
        rule_id: str,
        matched: dict[str, Any],
        overridden_by: str | None,
        derived: Derived,
        decided: dict[str, _Decided],
    ) -> TraceEntry:
        rule = self._rules[rule_id]
        programme = rule.programme
        facts = {
            name: decode_value(programme, name, matched[name])
            for name in self._reads[rule_id]
            if name in matched
        }
        facts["as_of"] = decode_value(programme, "as_of", matched["as_of"])
        note = rule.then.note or rule.note
        if rule.exempts is not None:
            facts["status"] = rule.exempts
            if derived.figures is not None:
                facts["days_not_counted"] = derived.figures.exempt_days_by_rule.get(rule_id, 0)
        decision = decided.get(programme)
        # Built from the checked policy and the engine's own facts: nothing to validate again.
        return TraceEntry.model_construct(
            rule=rule_id,
            title=rule.title,
            source=self._sources[rule_id],
            in_force=(rule.start, rule.end),
            outcome=rule.then.status or "applies",
            facts=facts,
            missing=tuple(rule.then.missing),
            overridden_by=overridden_by,
            decisive=overridden_by is None and decision is not None and rule.then.status == decision.status,
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
                        source=self._sources[rule.id],
                        in_force=(rule.start, rule.end),
                        outcome="days_not_counted",
                        facts={"status": rule.exempts, "days_not_counted": removed},
                        note="the status covered earlier days of stay, not the evaluation date",
                    )
                )
        return entries

    def _provisional_warnings(self, decided: dict[str, _Decided]) -> list[str]:
        """Every verdict that rests on a provisional rule or parameter says so."""
        warnings = []
        for decision in decided.values():
            for rule in decision.rules:
                if rule.provisional:
                    warnings.append(
                        f"rule {rule.id} is provisional: the sources do not publish it as encoded"
                    )
                warnings.extend(
                    f"parameter {name} is provisional: the sources do not publish it"
                    for name in self._parameters[rule.id]
                    if self.policy.parameters[name].provisional
                )
        return warnings


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
            f"unknown status kind {status.kind!r}{did_you_mean(status.kind, policy.status_kinds)}; "
            f"policy {policy.name} knows: {', '.join(sorted(policy.status_kinds))}",
            ("statuses", index, "kind"),
        )
        for index, status in enumerate(record.statuses)
        if status.kind not in policy.status_kinds
    ]
    if unknown:
        raise InputError("the person record is not valid", unknown)
    return record


def _person_problems(error: ValidationError) -> list[Problem]:
    return [Problem(format_path(loc) or "person", message, loc) for loc, message in located_messages(error)]


_default_lock = threading.Lock()
_evaluators: OrderedDict[tuple[str, str], Evaluator] = OrderedDict()
_KEPT_EVALUATORS = 8  # policy versions kept compiled by evaluate(); older ones are freed


def evaluator_for(policy: Policy | None) -> Evaluator:
    """The compiled evaluator of ``policy`` (default: the shipped one), kept for reuse: the
    last few policy versions stay compiled."""
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
    return evaluator_for(policy).evaluate(person, on)
