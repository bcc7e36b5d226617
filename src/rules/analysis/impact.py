"""What an amendment changes: the same person under two policy versions, side by side, and why.

Legal analysts ask "which verdicts would change if ...?". Both policies are compiled in one
process (each verdict names its version), every person is evaluated under both, and every
figure of every programme that differs is listed (:mod:`rules.analysis.figures`). For a
changed record the *why* names the rules that decided differently and the items of the law
that differ between the versions and that those rules or programmes read
(:mod:`rules.analysis.law`).

A record may carry what only one version knows: a status kind, a programme's section or an
input field the amendment adds (or removes). On the side that does not know it, it is treated
as absent (the status is not held, the field is unknown), and the comparison says so in its
``notes``. A record that neither version accepts is an input error.
"""

from __future__ import annotations

import copy
import datetime as dt
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any

from pydantic import ValidationError

from models.person import Person
from models.verdict import PolicyRef, TraceEntry, Verdict, copied
from rules.analysis.figures import figures, plain
from rules.analysis.law import LawDifference, Readings, law_differences
from rules.engine.computation import Entry
from rules.engine.evaluator import Evaluation, Evaluator
from rules.errors import EvaluationError, InputError, KzmigError, Problem
from rules.frozen import made

__all__ = ["Compared", "Comparison", "Difference", "RuleChange", "Why", "changed_figures", "compare"]


@dataclass(frozen=True)
class RuleChange:
    """A rule that decided differently: what it did under each version (``None``: did not fire).

    What a rule did reads ``<outcome>``, then ``, decisive`` when its outcome became the
    programme's status, or ``, set aside by <rule>`` when an exception set it aside.
    """

    rule: str
    before: str | None
    after: str | None

    @property
    def effect(self) -> str:
        """What changed for the rule: ``newly decides``, ``no longer decides``, ``newly fires``,
        ``no longer fires`` or ``fires differently``."""
        decided_before = self.before is not None and ", decisive" in self.before
        decided_after = self.after is not None and ", decisive" in self.after
        if decided_after and not decided_before:
            return "newly decides"
        if decided_before and not decided_after:
            return "no longer decides"
        if self.before is None:
            return "newly fires"
        if self.after is None:
            return "no longer fires"
        return "fires differently"

    def to_json(self) -> dict[str, Any]:
        return {"rule": self.rule, "before": self.before, "after": self.after, "effect": self.effect}


@dataclass(frozen=True)
class Why:
    """Why a record changed: the rules that decided differently, and the differences in the law
    (on the evaluation date) read by those rules or by the programmes whose figures moved."""

    rules: tuple[RuleChange, ...] = ()
    law: tuple[LawDifference, ...] = ()

    def to_json(self) -> dict[str, Any]:
        return {
            "rules": [change.to_json() for change in self.rules],
            "law": [difference.to_json() for difference in self.law],
        }


@dataclass(frozen=True)
class Difference:
    """One person under two policies: both verdicts, the figures that differ, and why.

    ``figures_before`` and ``figures_after`` hold every compared figure by dotted name
    (``stay.sanction.values.fine_kzt``); ``changed`` names those that differ, in reading order.
    ``notes`` say what of the record one version did not know (and so treated as absent).
    ``statuses`` holds each programme's status before and after (``None``: no decision on that
    side), a sanction reported inside the stay section included. ``groups`` holds the values,
    under the baseline, of the facts the comparison was asked to group by.
    """

    before: Verdict
    after: Verdict
    changed: tuple[str, ...]
    figures_before: dict[str, Any] = field(default_factory=dict, repr=False)
    figures_after: dict[str, Any] = field(default_factory=dict, repr=False)
    why: Why = field(default_factory=Why)
    notes: tuple[str, ...] = ()
    statuses: dict[str, tuple[str | None, str | None]] = field(default_factory=dict)
    groups: dict[str, Any] = field(default_factory=dict)

    @property
    def person_id(self) -> str:
        return self.before.person_id

    def to_json(self) -> dict[str, Any]:
        """``{"person_id", "as_of", "changed", "before", "after", "why", "notes"}``: the
        figures that differ (all of them when none does), both versions' values, the why."""
        names = self.changed or tuple(dict.fromkeys((*self.figures_before, *self.figures_after)))
        shown: dict[str, Any] = {
            "person_id": self.person_id,
            "as_of": self.before.as_of.isoformat(),
            "changed": list(self.changed),
            "before": {name: plain(self.figures_before.get(name)) for name in names},
            "after": {name: plain(self.figures_after.get(name)) for name in names},
        }
        if self.changed:
            shown["why"] = self.why.to_json()
        if self.notes:
            shown["notes"] = list(self.notes)
        return shown


@dataclass(frozen=True)
class Compared:
    """What :meth:`Comparison.compared` finds of one record: a :class:`Difference` but for the
    amended verdict of a record that was not evaluated again (``after`` is ``None``), made from
    the baseline's only when :meth:`difference` asks for it."""

    before: Verdict
    after: Verdict | None
    changed: tuple[str, ...]
    figures_before: dict[str, Any]
    figures_after: dict[str, Any]
    why: Why
    notes: tuple[str, ...]
    statuses: dict[str, tuple[str | None, str | None]]
    groups: dict[str, Any]
    #: The amended version, and what its mechanisms restate of the baseline's sections (see
    #: :func:`_restated`), for the amended verdict of a record not evaluated again.
    amended: PolicyRef
    restated: Mapping[str, Mapping[str, Any]]

    @property
    def person_id(self) -> str:
        return self.before.person_id

    def difference(self) -> Difference:
        """The :class:`Difference`, with both verdicts."""
        after = self.after
        if after is None:
            after = _restated(self.before, self.amended, self.restated)
        return Difference(
            self.before,
            after,
            self.changed,
            self.figures_before,
            self.figures_after,
            self.why,
            self.notes,
            self.statuses,
            self.groups,
        )

    def to_json(self) -> dict[str, Any]:
        """As :meth:`Difference.to_json` (which reads neither verdict's sections)."""
        return self.difference().to_json()


class Comparison:
    """Two compiled policy versions, side by side: compare a record on a date, say why.

    Build one per pair of versions and reuse it; the differences in the law are computed
    once per evaluation date.

    With ``skip_unaffected``, a record is evaluated under the amended version only when some
    programme evaluated for it reads an item of the law that differs (see
    :mod:`rules.analysis.law`; a programme a guard ruled out of the baseline evaluation reads
    only its rules and its guard's facts); otherwise its figures cannot differ, and the amended
    verdict is the baseline's, naming the amended version (its titles and notes are the
    baseline's). When every difference that reaches it is read only by a mechanism's count (the
    limit of the stay, its window: ``counting_reads``, see :mod:`rules.policy.mechanisms`), the
    amended mechanism counts the record again instead (``rederive``), and only if its count
    differs is the record evaluated again (a 60-day limit reaches every traveller, but changes
    only those whose windows held more than 60 days). Its verdicts are first built without
    their traces; only for a record whose figures changed are the traces built, for the why,
    from the cases just evaluated (:meth:`Evaluation.traced
    <rules.engine.evaluator.Evaluation.traced>`): the verdicts of an unchanged record have an
    empty trace. Population runs use it; :func:`compare` does not.
    """

    def __init__(self, baseline: Evaluator, amended: Evaluator, *, skip_unaffected: bool = False) -> None:
        self.baseline = baseline
        self.amended = amended
        self.skip_unaffected = skip_unaffected
        self._affected: dict[tuple[dt.date, frozenset[str], frozenset[str]], bool | _KeyedRows] = {}
        self._amended_ref = PolicyRef(name=amended.policy.name, version=amended.policy.version)
        self._readings = (Readings(baseline), Readings(amended))
        #: What each version reads beside its mechanisms (for :meth:`_recount_plan`). Built
        #: with the comparison, so that a worker freezing it out of the cycle collector's sight
        #: freezes these too (they live as long as it does).
        self._beside: tuple[Readings, Readings] | None = (
            (Readings(baseline, through_mechanisms=False), Readings(amended, through_mechanisms=False))
            if skip_unaffected
            else None
        )
        #: Per date, record keys and guarded programmes: the mechanisms whose count to make
        #: again instead of evaluating again, with the differences each reads, or ``None``
        #: (see :meth:`_recount_plan`).
        self._recounts: dict[tuple[dt.date, frozenset[str], frozenset[str]], _Recounts | None] = {}
        #: Per table, what :meth:`_row_sources` found of its keys (filled on first use).
        self._sources: dict[str, tuple[frozenset[_KeySource], frozenset[str]] | None] = {}
        self._law: dict[dt.date, tuple[LawDifference, ...]] = {}
        #: Per figure's name, the programme whose status it is, or ``None`` (:meth:`_status_figure`).
        self._status_figures: dict[str, str | None] = {}
        #: Per set of figures' names (in order), those that are a status (:meth:`_statuses_among`).
        self._statuses_of: dict[tuple[str, ...], tuple[tuple[str, str], ...]] = {}
        self._slots = {
            programme.section: name
            for evaluator in (baseline, amended)
            for name, programme in evaluator.policy.programmes.items()
            if programme.section is not None
        }

    def law(self, on: dt.date) -> tuple[LawDifference, ...]:
        """The items of the law in force on ``on`` that differ between the versions."""
        found = self._law.get(on)
        if found is None:
            if len(self._law) > 1000:
                self._law.clear()
            found = self._law[on] = law_differences(self.baseline.policy, self.amended.policy, on)
        return found

    def compare(
        self,
        person: Person | Mapping[str, Any],
        on: dt.date,
        *,
        group_by: tuple[str, ...] = (),
        core: Person | Mapping[str, Any] | None = None,
    ) -> Difference:
        """Evaluate ``person`` on ``on`` under both versions; name the figures that differ.

        ``core``: what :meth:`core` gave for ``person`` (a caller comparing one record on
        several dates reads it once). Raises :class:`InputError` when neither version accepts
        the record (the baseline's problems), and what :meth:`Evaluator.evaluate` raises
        otherwise.
        """
        return self.compared(person, on, group_by=group_by, core=core).difference()

    def compared(
        self,
        person: Person | Mapping[str, Any],
        on: dt.date,
        *,
        group_by: tuple[str, ...] = (),
        core: Person | Mapping[str, Any] | None = None,
    ) -> Compared:
        """What :meth:`compare` finds, before the amended verdict of a record that was not
        evaluated again is made from the baseline's: a population run keeps only the figures of
        an unchanged record and never asks for that verdict. Raises as :meth:`compare` does."""
        shared = core if core is not None else self.core(person)
        groups: dict[str, Any] = {}
        lazy = self.skip_unaffected  # figures first; the traces only for a changed record
        first, second, notes, restated = self._evaluate_both(
            person, shared, on, group_by, groups, trace=not lazy
        )
        notes = (*notes, *_undecided(first, second, on))
        before, after = first.verdict, second.verdict if second is not None else None
        old = figures(before)
        changed: tuple[str, ...]
        if after is None:  # not evaluated again: the amended figures are the baseline's own
            new, changed = old, ()
        else:
            new = figures(after)
            changed = changed_figures(old, new)
        if changed and lazy:  # the traces, for the why, built from the cases just evaluated
            before = first.traced()
            after = second.traced() if second is not None else None
        if changed:
            if after is None:
                after = _restated(before, self._amended_ref, restated)
            why = self._why(before, after, changed, (first, second))
        else:
            why = _NO_WHY
        names = tuple(old) if new is old else tuple(dict.fromkeys((*old, *new)))
        statuses = {
            programme: (old.get(name), new.get(name)) for name, programme in self.statuses_among(names)
        }
        return made(
            Compared,
            {
                "before": before,
                "after": after,
                "changed": changed,
                "figures_before": old,
                "figures_after": new,
                "why": why,
                "notes": notes,
                "statuses": statuses,
                "groups": groups,
                "amended": self._amended_ref,
                "restated": restated,
            },
        )

    def statuses_among(self, names: tuple[str, ...]) -> tuple[tuple[str, str], ...]:
        """The figures among ``names`` that are a programme's status, each with its programme
        (``stay.sanction.status``: ``sanction``), kept by the names."""
        shown = self._statuses_of.get(names)
        return shown if shown is not None else self._statuses_among(names)

    def _statuses_among(self, names: tuple[str, ...]) -> tuple[tuple[str, str], ...]:
        """The figures among ``names`` that are a programme's status, with the programme, kept
        by the names: the records of a population have few sets of figures."""
        found = []
        known = self._status_figures
        for name in names:
            programme = known.get(name, _UNSEEN)
            if programme is _UNSEEN:
                programme = self._status_figure(name)
            if programme is not None:
                found.append((name, programme))
        if len(self._statuses_of) > 10_000:
            self._statuses_of.clear()
        shown = self._statuses_of[names] = tuple(found)
        return shown

    def _status_figure(self, name: str) -> str | None:
        """The programme whose status the figure ``name`` is (``None``: not a status), kept:
        the names of figures are the policy's few."""
        found = self.programme_of(name) if name.endswith(".status") and self._is_status(name) else None
        if len(self._status_figures) > 10_000:
            self._status_figures.clear()
        self._status_figures[name] = found
        return found

    def _is_status(self, name: str) -> bool:
        dots = name.count(".")
        return dots == 1 or (dots == 2 and name.rsplit(".", 1)[0] in self._slots)

    def programme_of(self, figure: str) -> str:
        """The programme a figure belongs to (``stay.sanction.status`` -> ``sanction``)."""
        head, _, rest = figure.partition(".")
        slot = f"{head}.{rest.partition('.')[0]}"
        return self._slots.get(slot, head)

    def affected(
        self,
        record_keys: Iterable[str],
        on: dt.date,
        guarded: Iterable[str] = (),
        case: Evaluation | None = None,
    ) -> bool:
        """Whether a record with these top-level keys may be judged differently on ``on``: some
        programme evaluated for it (in either version) reads an item of the law that differs
        (a programme reads its own definition), or it holds statuses and a status kind is
        declared by one version only.

        ``guarded``: the programmes a guard ruled out of the record's baseline evaluation
        (``Evaluation.guarded``). Those read only their definition, their rules and what their
        guards' facts read (``Readings.of_guard``): with the same facts and the same rules, a
        guard rules them out under the other version too.

        ``case``: the record's baseline evaluation. When the only differences it may read are
        rows of tables looked up by known keys (:meth:`Readings.keys`), it is reached only if
        a key fact of its case holds the key of such a row: a case that looks up no row that
        differs computes every value the same way under both versions."""
        keys = frozenset(key for key in record_keys if isinstance(key, str))
        out = frozenset(guarded)
        found = self._affected.get((on, keys, out))
        if found is None:
            found = self._reach(keys, on, out)
            if len(self._affected) > 10_000:
                self._affected.clear()
            self._affected[(on, keys, out)] = found
        if isinstance(found, bool):
            return found
        if case is None:
            return True
        return any(not rows.isdisjoint(_key_values(case, source)) for source, rows in found)

    def _reach(self, keys: frozenset[str], on: dt.date, out: frozenset[str]) -> bool | _KeyedRows:
        """What :meth:`affected` answers for every record with these keys: ``True`` or
        ``False``, or the rows that reach a record whose key facts hold their keys."""
        found = self._reached(keys, on, out)
        if found is None:
            return True  # a status the record holds may be known to one version only
        reached, _ = found
        if not reached:
            return False
        if any(difference.kind != "table row" for difference in reached):
            return True
        by_source: dict[_KeySource, set[str]] = {}
        for difference in reached:
            key, sources = self._row_sources(difference)
            if sources is None:
                return True  # looked up by a key that cannot be told, or by this one
            for source in sources:
                by_source.setdefault(source, set()).add(key)
        return tuple((source, frozenset(rows)) for source, rows in by_source.items())

    def _reached(
        self, keys: frozenset[str], on: dt.date, out: frozenset[str]
    ) -> tuple[list[LawDifference], tuple[frozenset[str], frozenset[str]]] | None:
        """The differences on ``on`` that the programmes evaluated for a record with these keys
        read, in either version (a programme ``out``, ruled out by a guard, reads less), and
        those programmes, per version; ``None`` when the record holds statuses and a status
        kind is declared by one version only."""
        law = self.law(on)
        if "statuses" in keys and any(difference.kind == "status kind" for difference in law):
            return None
        read: set[str] = set()
        evaluated: list[frozenset[str]] = []
        for evaluator, readings in zip((self.baseline, self.amended), self._readings, strict=True):
            names = frozenset(
                name
                for name, programme in evaluator.policy.programmes.items()
                if programme.evaluated == "always" or programme.record in keys
            )
            for name in names:
                limited = readings.of_guard.get(name) if name in out else None
                read |= readings.of_programme[name] if limited is None else limited
            evaluated.append(names)
        return [difference for difference in law if difference.name in read], (evaluated[0], evaluated[1])

    def _row_sources(self, difference: LawDifference) -> tuple[str, frozenset[_KeySource] | None]:
        """A table row's key, and where a case holds the keys its table is looked up by, in
        either version (a fact, or a field of each item of a list fact); ``None`` when every
        case may read the row: some look-up's key cannot be told, or is this row's, a constant."""
        table, key = _row(difference.name)
        if table not in self._sources:
            self._sources[table] = self._table_sources(table)
        found = self._sources[table]
        if found is None or key in found[1]:
            return key, None
        return key, found[0]

    def _table_sources(self, table: str) -> tuple[frozenset[_KeySource], frozenset[str]] | None:
        """Where a case holds the keys ``table`` is looked up by, in either version, and the
        constant keys (as text); ``None`` when some look-up's key cannot be told."""
        sources: set[_KeySource] = set()
        constants: set[str] = set()
        for readings in self._readings:
            keys = readings.keys(table)
            if keys is None:
                return None
            sources.update((fact, None) for fact in keys.facts)
            sources.update(keys.items)
            constants |= {str(constant) for constant in keys.constants}
        return frozenset(sources), frozenset(constants)

    @staticmethod
    def core(person: Person | Mapping[str, Any]) -> Person | Mapping[str, Any]:
        """The core of the record (citizenship, statuses, trips) read as a :class:`Person`, the
        same for both versions; the record as it is when its core cannot be read (then each
        version reports its own problems)."""
        if isinstance(person, Person):
            return person
        try:
            return Person.model_validate(dict(person))
        except (ValidationError, TypeError, ValueError):
            return person

    def _evaluate_both(
        self,
        person: Person | Mapping[str, Any],
        shared: Person | Mapping[str, Any],
        on: dt.date,
        group_by: tuple[str, ...],
        groups: dict[str, Any],
        *,
        trace: bool,
    ) -> tuple[Evaluation, Evaluation | None, tuple[str, ...], Mapping[str, Mapping[str, Any]]]:
        """Both cases evaluated (the amended ``None`` when no difference can reach the record,
        or when the amended mechanisms count it as the baseline did), the notes, and the fields
        of mechanisms' sections that are the law in force under the amended version when it
        was counted again (see :meth:`_recounted`); ``groups`` receives the baseline's values
        of the facts ``group_by``."""

        def evaluated(
            side: str, evaluator: Evaluator, record: Person | Mapping[str, Any], names: tuple[str, ...]
        ) -> Evaluation:
            # A programme one version leaves undecided is left out of its verdict (see
            # _undecided); any other case a version does not decide is an error naming it.
            try:
                return evaluator.evaluate_case(record, on, names, trace=trace, undecided="omit")
            except EvaluationError as error:
                raise _under(side, error) from None

        def baseline(record: Person | Mapping[str, Any]) -> Evaluation:
            found = evaluated("baseline", self.baseline, record, group_by)
            groups.update(found.facts)
            return found

        def amended(record: Person | Mapping[str, Any]) -> Evaluation:
            return evaluated("amended", self.amended, record, ())

        # ``shared``: the core of the record, read once for both versions (see :meth:`core`).
        if self.skip_unaffected and isinstance(shared, Person):
            keys = [*(shared.model_extra or {}), *(("statuses",) if shared.statuses else ())]
            try:
                first = baseline(shared)
                # What the baseline's guards ruled out read less: a difference may still not
                # reach the record (a raised fine and a traveller who did not overstay).
                if not self.affected(keys, on, first.guarded, first):
                    return first, None, (), {}
                restated = self._recounted(keys, on, first)
                if restated is not None:
                    return first, None, (), restated
                return first, amended(shared), (), {}
            except InputError:
                pass  # the general path below says what each version makes of it
        outcomes: list[Evaluation | InputError] = []
        for evaluate in (baseline, amended):
            try:
                outcomes.append(evaluate(shared))
            except InputError as error:
                outcomes.append(error)
        before, after = outcomes
        if isinstance(before, Evaluation) and isinstance(after, Evaluation):
            return before, after, (), {}
        if isinstance(before, InputError) and isinstance(after, InputError):
            raise before
        if not isinstance(person, Mapping):
            raise before if isinstance(before, InputError) else after  # type: ignore[misc]
        side, refused = ("baseline", before) if isinstance(before, InputError) else ("amended", after)
        assert isinstance(refused, InputError)
        reduced, notes = _without(person, refused.problems, side)
        if reduced is None:
            raise refused
        found = baseline(reduced) if side == "baseline" else amended(reduced)
        if side == "baseline":
            assert isinstance(after, Evaluation)
            return found, after, notes, {}
        assert isinstance(before, Evaluation)
        return before, found, notes, {}

    def _recounted(
        self, keys: Iterable[str], on: dt.date, first: Evaluation
    ) -> dict[str, Mapping[str, Any]] | None:
        """For a record some difference reaches: when every such difference is read only by
        mechanisms' counts (:meth:`_recount_plan`) and each amended mechanism, counting the
        record again, finds what the baseline's found, the fields of their sections that are
        the law in force under the amended version; ``None``: evaluate the record again."""
        record_keys = frozenset(key for key in keys if isinstance(key, str))
        out = frozenset(first.guarded)
        key = (on, record_keys, out)
        if key in self._recounts:
            plan = self._recounts[key]
        else:
            plan = self._recount_plan(record_keys, on, out)
            if len(self._recounts) > 10_000:
                self._recounts.clear()
            self._recounts[key] = plan
        if not plan:
            return None
        restated: dict[str, Mapping[str, Any]] = {}
        for name, differing in plan.items():
            derived = first.derived.get(name)
            if derived is None:
                return None
            mechanism: Any = self.amended.mechanisms[name]
            try:
                found = mechanism.rederive(derived, on, self.baseline.mechanisms[name], differing)
            except KzmigError:
                return None  # evaluated again, the amended version says what it cannot judge
            if found is None:
                return None
            restated[name] = found
        return restated

    def _recount_plan(self, keys: frozenset[str], on: dt.date, out: frozenset[str]) -> _Recounts | None:
        """The programmes whose mechanisms to count a record with these keys again, instead of
        evaluating it again, each with the differences it reads (parameters, ``table[key]``
        rows): every difference the record reads must be a parameter or a table of the
        ``counting_reads`` of the mechanism of a programme evaluated for it (the same kind of
        mechanism in both versions), and read by nothing else of either version (its rules,
        formulas, reports, warnings and inputs). ``None`` otherwise."""
        found = self._reached(keys, on, out)
        if found is None:
            return None
        reached, evaluated = found
        if self._beside is None:
            self._beside = (
                Readings(self.baseline, through_mechanisms=False),
                Readings(self.amended, through_mechanisms=False),
            )
        beside: set[str] = set()
        for own, names in zip(self._beside, evaluated, strict=True):
            for name in names:
                beside |= own.of_programme[name]
        plan: dict[str, set[str]] = {}
        for difference in reached:
            if difference.kind not in ("parameter", "table row") or difference.name in beside:
                return None
            item = difference.name if difference.kind == "parameter" else _row(difference.name)[0]
            owners = [name for name in sorted(evaluated[0] | evaluated[1]) if self._counts(name, item)]
            if not owners:
                return None
            for owner in owners:
                plan.setdefault(owner, set()).add(difference.name)
        return {name: frozenset(items) for name, items in plan.items()} or None

    def _counts(self, programme: str, item: str) -> bool:
        """Whether ``item`` (a parameter, or a table by name) is read by the count of the
        mechanism of ``programme``, of the same kind in both versions, that can count again."""
        mechanisms = (self.baseline.mechanisms.get(programme), self.amended.mechanisms.get(programme))
        first, second = mechanisms
        return (
            first is not None
            and type(first) is type(second)
            and hasattr(second, "rederive")
            and item in getattr(first, "counting_reads", ())
        )

    def _why(
        self,
        before: Verdict,
        after: Verdict,
        changed: tuple[str, ...],
        cases: tuple[Evaluation, Evaluation | None],
    ) -> Why:
        """The rules that decided differently, and the differences of the law that what
        changed reads. A table row is kept only when the record may have been looked up by
        its key (:meth:`_row_read`): a fine raised for large businesses does not explain the
        changed fine of a medium one."""
        old, new = _did(before.trace), _did(after.trace)
        rules = tuple(
            RuleChange(rule, old.get(rule), new.get(rule))
            for rule in dict.fromkeys((*old, *new))
            if old.get(rule) != new.get(rule)
        )
        law = self.law(before.as_of)
        if not law:
            return Why(rules, ())
        # What the rules that changed and the programmes whose figures moved read, in either
        # version: asked of each difference (a few), without joining those sets (hundreds).
        reading = [
            *(readings.of_rule.get(change.rule, _NOTHING) for readings in self._readings for change in rules),
            *(
                readings.of_programme.get(programme, _NOTHING)
                for readings in self._readings
                for programme in dict.fromkeys(self.programme_of(name) for name in changed)
            ),
        ]
        evaluated = [case for case in cases if case is not None]
        return Why(
            rules,
            tuple(
                difference
                for difference in law
                if any(difference.name in read for read in reading)
                and (difference.kind != "table row" or self._row_read(difference, evaluated))
            ),
        )

    def _row_read(self, difference: LawDifference, cases: list[Evaluation]) -> bool:
        """Whether a record may have read a table row that differs in either of its cases: a
        row every case may read (:meth:`_row_sources`), or one whose key a case holds."""
        key, sources = self._row_sources(difference)
        return sources is None or any(
            key in _key_values(case, source) for case in cases for source in sources
        )


#: Where a case holds the keys a table is looked up by: a fact (``(fact, None)``), or a field of
#: each item of a list fact (``(fact, field)``).
_KeySource = tuple[str, str | None]
#: What reaches a record when only rows of tables looked up by known keys differ: for each
#: source of keys, the keys (as text) of the rows that differ.
_KeyedRows = tuple[tuple[_KeySource, frozenset[str]], ...]


def _key_values(case: Evaluation, source: _KeySource) -> set[str]:
    """The keys (as text) a case holds at ``source``."""
    fact, field_name = source
    value = case.fact(fact)
    if value is None:
        return set()
    if field_name is None:
        return {str(value)}
    found: set[str] = set()
    for item in value if isinstance(value, list | tuple) else ():
        fields = item.fields if isinstance(item, Entry) else item
        if isinstance(fields, Mapping) and fields.get(field_name) is not None:
            found.add(str(fields[field_name]))
    return found


#: The mechanisms to count a record again, by programme, with the differences each reads.
_Recounts = Mapping[str, frozenset[str]]
#: A name a memo does not hold yet (``None`` is one of its answers).
_UNSEEN: Any = object()
_NOTHING: frozenset[str] = frozenset()
#: The why of a record that did not change (shared: a :class:`Why` is not changed once made).
_NO_WHY = Why()


def _restated(verdict: Verdict, amended: PolicyRef, restated: Mapping[str, Mapping[str, Any]]) -> Verdict:
    """The baseline's verdict as the amended version's, for a record no difference moved: it
    names the amended version, and the sections of mechanisms that counted it again show the
    law in force under that version (``restated``: fields by programme)."""
    update: dict[str, Any] = {"policy": amended}
    for programme, fields in restated.items():
        section = verdict.stay if programme == "stay" else verdict.section(programme)
        if section is None:
            continue
        changed = {key: value for key, value in fields.items() if getattr(section, key, None) != value}
        if changed:
            update[programme] = copied(section, changed)
    return copied(verdict, update)


def _undecided(first: Evaluation, second: Evaluation | None, on: dt.date) -> tuple[str, ...]:
    """Notes for the programmes that one version decides and the other does not (no rule of it
    applies): an impact of the amendment, compared as a programme the undecided side's verdict
    leaves out. A programme neither decides makes the record what a plain evaluation makes it, a
    case the law does not decide (:class:`EvaluationError`)."""
    after = first.undecided if second is None else second.undecided
    for name, message in first.undecided.items():
        if name in after:
            raise EvaluationError(f"under both policies: {message}")
    return tuple(
        f"under the {side} policy no rule in force decides the {name} status on {on}: "
        "the programme is left out of its verdict"
        for side, names in (("baseline", first.undecided), ("amended", after))
        for name in names
    )


def _under(side: str, error: EvaluationError) -> EvaluationError:
    """``error`` (of its own class), saying which version of the comparison raised it."""
    return type(error)(f"under the {side} policy: {error.summary}", error.problems)


def _row(name: str) -> tuple[str, str]:
    """The table and the key of a table row's name (``host.fines_mci[medium_business]``)."""
    table, _, key = name.partition("[")
    return table, key[:-1]


def _did(trace: tuple[TraceEntry, ...]) -> dict[str, str]:
    found: dict[str, str] = {}
    for entry in trace:
        shown = entry.outcome
        if entry.decisive:
            shown += ", decisive"
        if entry.overridden_by is not None:
            shown += f", set aside by {entry.overridden_by}"
        found[entry.rule] = shown if entry.rule not in found else f"{found[entry.rule]}; {shown}"
    return found


def _without(
    person: Mapping[str, Any], problems: tuple[Problem, ...], side: str
) -> tuple[dict[str, Any] | None, tuple[str, ...]]:
    """The record without what one side did not accept (the other side did), and notes.

    A status whose kind is unknown is dropped whole; any other item at a problem's path is
    left out (an unknown field, a value that side does not allow). ``None`` when a problem has
    no path to leave out."""
    reduced = copy.deepcopy(dict(person))
    notes: list[str] = []
    # Deepest and last first, so that removing one item does not shift the others' indexes.
    for problem in sorted(problems, key=lambda found: _order(found.path), reverse=True):
        path = list(problem.path)
        if not path:
            return None, ()
        if len(path) >= 2 and isinstance(path[-2], int) and path[-1] == "kind":
            path = path[:-1]  # a status (or any listed item) of an unknown kind goes whole
        if not _remove(reduced, path):
            return None, ()
        said = problem.message.split("; ", 1)[0]  # not the list of what that policy knows
        notes.append(f"{problem.where}: {said}: treated as absent under the {side} policy")
    return reduced, tuple(reversed(notes))


def _order(path: tuple[str | int, ...]) -> tuple[tuple[int, int | str], ...]:
    return tuple((0, part) if isinstance(part, int) else (1, part) for part in path)


def _remove(data: Any, path: list[str | int]) -> bool:
    target = data
    for part in path[:-1]:
        if isinstance(part, int) and isinstance(target, list) and 0 <= part < len(target):
            target = target[part]
        elif isinstance(part, str) and isinstance(target, dict) and part in target:
            target = target[part]
        else:
            return False
    last = path[-1]
    if isinstance(last, int) and isinstance(target, list) and 0 <= last < len(target):
        del target[last]
        return True
    if isinstance(last, str) and isinstance(target, dict) and last in target:
        del target[last]
        return True
    return False


def changed_figures(old: dict[str, Any], new: dict[str, Any]) -> tuple[str, ...]:
    """The names of the figures that differ between ``old`` and ``new`` (one side's figure the
    other lacks included), in reading order."""
    names = [*old, *(name for name in new if name not in old)]
    return tuple(name for name in names if old.get(name) != new.get(name))


@lru_cache(maxsize=8)
def _comparison(baseline: Evaluator, amended: Evaluator) -> Comparison:
    return Comparison(baseline, amended)


def compare(
    baseline: Evaluator, amended: Evaluator, person: Person | Mapping[str, Any], on: dt.date
) -> Difference:
    """Evaluate ``person`` on ``on`` under both evaluators and name the figures that differ.

    A shortcut for ``Comparison(baseline, amended).compare(person, on)`` (the comparison of
    the last few pairs of evaluators is kept). Raises :class:`InputError` when neither policy
    accepts the record, and what :meth:`Evaluator.evaluate` raises otherwise.
    """
    return _comparison(baseline, amended).compare(person, on)
