"""An amendment across a population: every record under both versions, on one or more dates.

The records stream through: each is compared on every evaluation date, and what the analysis
keeps of it is an :class:`Outcome` per date (its statuses, its amounts, the figures that
changed and why), or one error outcome. Outcomes are aggregated into an :class:`Impact`
(:mod:`rules.analysis.aggregate`) and the changed records written out as they come; nothing
grows with the number of records but the counters.

Records are compared in chunks. A chunk runs in this process, in a pool of worker processes
(``jobs``), or on a Dask cluster (any executor with ``submit(fn, *args)`` returning a
future, such as ``distributed.Client``). A worker builds each policy once from a
:class:`PolicySpec` (the policy directory and the amendments' text) and checks that it got the
same version as the caller. Results come back in input order whatever the executor, so a run
gives the same output on one process, on several, and on a cluster.
"""

from __future__ import annotations

import collections
import contextlib
import datetime as dt
import gc
from collections.abc import Callable, Iterable, Iterator, Sequence
from concurrent.futures import Future
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal, Protocol, TypeVar, overload

from rules.analysis.aggregate import Impact
from rules.analysis.impact import Comparison
from rules.analysis.outcome import Outcome
from rules.engine.evaluator import Evaluator, today
from rules.errors import (
    EvaluationError,
    InputError,
    KzmigError,
    PolicyError,
    Problem,
    did_you_mean,
    error_record,
)
from rules.policy.documents import DocumentError, read_text
from rules.policy.loader import AmendmentText, Policy, load_policy

__all__ = [
    "Answer",
    "Outcome",
    "PolicySpec",
    "Population",
    "Tally",
    "built_comparison",
    "compare_chunk",
    "compare_record",
]

T = TypeVar("T")
U = TypeVar("U")
R = TypeVar("R")


@dataclass(frozen=True)
class PolicySpec:
    """How to build one policy version anywhere: its directory (``None``: the shipped policy)
    and its amendments as text. ``version`` is the version the caller loaded: a worker that
    builds another (a different directory on another machine) refuses to go on.

    ``cached``: load through kzmig's cache of loaded policies where the loading runs
    (:meth:`PolicyCache.default <rules.policy.cache.PolicyCache.default>`, which follows that
    process's ``KZMIG_CACHE_DIR``), so that each worker process reads the policy back instead of
    parsing and checking its files again. Off by default, as for :func:`load_policy`."""

    directory: str | None = None
    amendments: tuple[AmendmentText, ...] = ()
    version: str | None = None
    cached: bool = False

    @classmethod
    def of_files(
        cls, directory: Path | str | None, amendments: Iterable[Path | str] = (), *, cached: bool = False
    ) -> PolicySpec:
        """The spec of a directory and amendment files (read now, so workers need not see them)."""
        texts = []
        for path in amendments:
            try:
                texts.append(AmendmentText(read_text(Path(path)), str(path)))
            except DocumentError as error:
                raise PolicyError(
                    f"amendment {path} cannot be loaded", [Problem(str(path), error.message)]
                ) from None
        return cls(str(directory) if directory is not None else None, tuple(texts), cached=cached)

    def load(self) -> Policy:
        """Load the policy (a :class:`PolicyError` when it is not the version expected)."""
        cache = None
        if self.cached:
            from rules.policy.cache import PolicyCache

            cache = PolicyCache.default()
        policy = load_policy(self.directory, self.amendments, cache=cache)
        if self.version is not None and policy.version != self.version:
            raise PolicyError(
                f"the policy built here is version {policy.version}, not {self.version}",
                [Problem(self.directory or "<shipped policy>", "give every worker the same policy files")],
            )
        return policy

    def pinned(self, policy: Policy) -> PolicySpec:
        """This spec, expecting ``policy``'s version."""
        return PolicySpec(self.directory, self.amendments, policy.version, self.cached)


@dataclass(frozen=True)
class Tally:
    """Records that a worker compared and that changed nothing and failed nowhere: how many
    they are, and their part of the impact, to merge (:meth:`Impact.merge
    <rules.analysis.aggregate.Impact.merge>`). A worker sends one back instead of their
    outcomes when the caller keeps no record of an unchanged record (``tally``). The record
    engine's tallies count consecutive records, in their place; the columnar path's counts a
    block's unchanged records wherever they are in it, ahead of the block's other answers
    (:func:`rules.columns.population.column_answers`)."""

    impact: Impact

    @property
    def records(self) -> int:
        """How many records the tally counts (each counted once by its impact)."""
        return self.impact.records


def tallied(
    comparison: Comparison,
    dates: Sequence[dt.date],
    items: Iterable[tuple[int, R, list[Outcome] | None]],
) -> Iterator[R | Tally]:
    """What was found of each record (``items``: its number, what was found, and its outcomes
    when it changed nothing on any date and failed nowhere, else ``None``), in order, with
    each run of such records numbered one after the other as one :class:`Tally` in its place;
    what was found of any other record as it is."""
    counted: Impact | None = None  # the run being tallied
    last = -2
    for index, item, outcomes in items:
        if outcomes is not None:
            if counted is not None and index != last + 1:
                yield Tally(counted)
                counted = None
            if counted is None:
                counted = Impact.of(comparison, dates, law=False)
            counted.add(outcomes)
            last = index
            continue
        if counted is not None:
            yield Tally(counted)
            counted = None
        yield item
    if counted is not None:
        yield Tally(counted)


def unchanged_outcomes(outcomes: list[Outcome]) -> list[Outcome] | None:
    """``outcomes`` when the record they are of changed nothing on any date and is no error."""
    if outcomes[0].error is None and not any(outcome.changed for outcome in outcomes):
        return outcomes
    return None


@dataclass(frozen=True)
class Answer:
    """What a batch gives for one input record: its outcomes (one per date), or its error
    record (see :func:`rules.errors.error_record`). A record that could not be read has no
    outcome; one the versions could not compare has its one error outcome, for the counts."""

    record: int
    outcomes: list[Outcome]
    error: dict[str, Any] | None = None

    def unchanged(self) -> list[Outcome] | None:
        """The outcomes of this record when it changed nothing on any date and is no error
        record (one that could not be read has none); else ``None``."""
        return unchanged_outcomes(self.outcomes) if self.error is None else None

    @classmethod
    def unread(cls, index: int, where: str, problems: Iterable[Problem]) -> Answer:
        """The answer of a record that could not be read (``problems`` say why)."""
        return cls(index, [], error_record(index, where, None, "input", "cannot be read", problems))

    @classmethod
    def compared(
        cls,
        index: int,
        where: str,
        data: dict[str, Any],
        outcomes: list[Outcome],
        placed: Callable[[tuple[Problem, ...]], tuple[Problem, ...]],
    ) -> Answer:
        """The answer of a record read and compared: its outcomes, with its error record when
        the versions could not compare it (its problems placed by ``placed``, at their line)."""
        failed = outcomes[0].error if outcomes and outcomes[0].error is not None else None
        if failed is None:
            return cls(index, outcomes)
        person_id = data.get("person_id") if data else None
        problems = placed(outcomes[0].problems)
        error = error_record(index, where, person_id, failed["kind"], failed["message"], problems)
        return cls(index, outcomes, error)


class Submitter(Protocol):
    """What runs chunks: ``concurrent.futures`` executors and ``distributed.Client`` both fit."""

    def submit(self, fn: Callable[..., Any], /, *args: Any, **kwargs: Any) -> Any: ...


#: Comparisons built in this process, by the specs of their two versions.
_BUILT: dict[tuple[PolicySpec, PolicySpec], Comparison] = {}

#: Set in the worker processes of :meth:`Population.running`'s own pool (which run nothing but
#: units of work): a comparison built there lives as long as the worker, so once built it is
#: frozen out of the cycle collector's sight (``gc.freeze``) instead of being examined again at
#: every full collection (3-5 % of a record's time). Never in a caller's process or on Dask.
_FREEZE_WHEN_BUILT = False


def _pool_worker_started() -> None:
    """The initializer of the pool's worker processes (see :data:`_FREEZE_WHEN_BUILT`)."""
    global _FREEZE_WHEN_BUILT
    _FREEZE_WHEN_BUILT = True


def built_comparison(baseline: PolicySpec, amended: PolicySpec) -> Comparison:
    """The comparison of the two versions, built once per process and kept (a few at most)."""
    key = (baseline, amended)
    found = _BUILT.get(key)
    if found is None:
        if len(_BUILT) >= 4:
            _BUILT.clear()
        found = _BUILT[key] = Comparison(
            Evaluator(baseline.load()), Evaluator(amended.load()), skip_unaffected=True
        )
        if _FREEZE_WHEN_BUILT:
            gc.freeze()
    return found


def compare_chunk(
    baseline: PolicySpec,
    amended: PolicySpec,
    records: Sequence[tuple[int, dict[str, Any]]],
    dates: Sequence[dt.date],
    group_by: tuple[str, ...] = (),
    tally: bool = False,
) -> list[list[Outcome] | Tally]:
    """Compare each ``(index, data)`` record on every date: one list of outcomes per record;
    with ``tally``, each run of records numbered one after the other that changed nothing
    and failed nowhere is one :class:`Tally` instead.

    The unit of work of every executor (a worker process, a Dask task): the two policies are
    built once per process and kept."""
    comparison = built_comparison(baseline, amended)
    found = [compare_record(comparison, index, data, dates, group_by) for index, data in records]
    if not tally:
        return list(found)
    numbered = zip((index for index, _ in records), found, map(unchanged_outcomes, found), strict=True)
    return list(tallied(comparison, dates, numbered))


def compare_record(
    comparison: Comparison,
    index: int,
    data: dict[str, Any],
    dates: Sequence[dt.date],
    group_by: tuple[str, ...],
) -> list[Outcome]:
    """The outcomes of one record on every date, or its one error outcome."""
    person_id = data.get("person_id")
    shown_id = person_id if isinstance(person_id, str) else None
    citizenship = data.get("citizenship")
    shown_citizenship = citizenship if isinstance(citizenship, str) else None
    outcomes = []
    core = comparison.core(data)  # read once for every date
    for on in dates:
        try:
            difference = comparison.compared(data, on, group_by=group_by, core=core)
        except InputError as error:
            return [_failed(index, shown_id, "input", error.summary, error.problems)]
        except EvaluationError as error:
            return [_failed(index, shown_id, "undecided", error.summary, ())]
        outcomes.append(Outcome.of(index, shown_citizenship, difference))
    return outcomes


def _failed(
    index: int, person_id: str | None, kind: str, message: str, problems: tuple[Problem, ...]
) -> Outcome:
    return Outcome(
        record=index,
        person_id=person_id,
        as_of=None,
        error={"kind": kind, "message": message, "problems": [str(problem) for problem in problems]},
        problems=problems,
    )


class _Here:
    """Runs a chunk at once, in this process (the executor of ``jobs=1``)."""

    def submit(self, fn: Callable[..., Any], /, *args: Any, **kwargs: Any) -> Future[Any]:
        future: Future[Any] = Future()
        try:
            future.set_result(fn(*args, **kwargs))
        except BaseException as error:  # handed to the caller, who re-raises it
            future.set_exception(error)
        return future


class Population:
    """Compare records between two policy versions on one or more dates, in order.

    ``jobs`` > 1 runs chunks in that many worker processes; ``executor`` runs them on any
    :class:`Submitter` (a ``distributed.Client`` for a Dask cluster) instead. At most
    ``window`` chunks are in flight, so memory does not grow with the number of records.
    ``group_by`` names facts of the policy (``stay.regime``) whose baseline values each outcome
    keeps, for counts by group; an unknown name is a :class:`KzmigError`. ``block_answers``
    says how workers that read a file themselves answer a block of it (see
    :func:`rules.analysis.partitions.compare_block`).
    ``dates=None``: today in Kazakhstan, by the baseline's time zone (the baseline is loaded
    once for both).
    """

    def __init__(
        self,
        baseline: PolicySpec,
        amended: PolicySpec,
        dates: Sequence[dt.date] | None,
        *,
        jobs: int = 1,
        executor: Submitter | None = None,
        chunk: int = 250,
        window: int | None = None,
        group_by: Sequence[str] = (),
        block_answers: Callable[..., Iterable[Answer | Tally]] | None = None,
    ) -> None:
        if dates is not None and not dates:
            raise ValueError("name at least one evaluation date (or None: today)")
        if jobs < 1 or chunk < 1:
            raise ValueError("jobs and chunk are at least 1")
        self.comparison = Comparison(
            Evaluator(baseline.load()), Evaluator(amended.load()), skip_unaffected=True
        )
        self.baseline = baseline.pinned(self.comparison.baseline.policy)
        self.amended = amended.pinned(self.comparison.amended.policy)
        _BUILT[(self.baseline, self.amended)] = self.comparison
        self.dates = tuple(dates) if dates is not None else (today(self.comparison.baseline.policy),)
        self.jobs = jobs
        self.chunk = chunk
        self._executor = executor
        self.window = window if window is not None else max(2, 2 * (jobs if executor is None else 8))
        catalogue = self.comparison.baseline.policy.catalogue.facts
        unknown = [name for name in group_by if name not in catalogue]
        if unknown:
            raise KzmigError(
                f"cannot group by {', '.join(unknown)}",
                [
                    Problem(name, f"no such fact in policy {self.comparison.baseline.policy.name}"
                            f"{did_you_mean(name, catalogue)}")
                    for name in unknown
                ],
            )  # fmt: skip
        self.group_by = tuple(group_by)
        #: How workers reading a file themselves answer the records of a block (see
        #: :func:`rules.analysis.partitions.compare_block`; ``None``: one by one, as
        #: ``record_answers`` does): the columnar path's ``column_answers``, say.
        self.block_answers = block_answers

    @property
    def law(self) -> dict[dt.date, tuple[Any, ...]]:
        """The differences in the law on each date (see :func:`rules.analysis.law.law_differences`)."""
        return {on: self.comparison.law(on) for on in self.dates}

    @overload
    def outcomes(
        self,
        items: Iterable[T],
        record: Callable[[T], tuple[int, dict[str, Any] | None]],
        *,
        tally: Literal[False] = False,
    ) -> Iterator[tuple[T, list[Outcome]]]: ...

    @overload
    def outcomes(
        self, items: Iterable[T], record: Callable[[T], tuple[int, dict[str, Any] | None]], *, tally: bool
    ) -> Iterator[tuple[T, list[Outcome]] | Tally]: ...

    def outcomes(
        self,
        items: Iterable[T],
        record: Callable[[T], tuple[int, dict[str, Any] | None]],
        *,
        tally: bool = False,
    ) -> Iterator[tuple[T, list[Outcome]] | Tally]:
        """Each item with its outcomes (one per date, or one error outcome), in input order.

        ``record`` gives an item's record number and data; an item whose data is ``None`` (it
        could not be read) is handed back with no outcome, in its place, for the caller to
        report. ``tally``: the records that changed nothing on any date and failed nowhere are
        counted where they were compared, and each run of them, numbered one after the other,
        comes back as one :class:`Tally` in their place instead (for a caller that keeps no
        record of an unchanged record: only the counts travel back from the workers). A tally
        never stands across an item that could not be read: number every item, as kzmig does,
        for the runs to break there (a chunk whose numbers run on across such an item is sent
        back record by record)."""
        pending: collections.deque[tuple[list[tuple[T, tuple[int, dict[str, Any] | None]]], Any]] = (
            collections.deque()
        )

        def finished() -> Iterator[tuple[T, list[Outcome]] | Tally]:
            chunk, future = pending.popleft()
            results = iter(future.result() if future is not None else ())
            covered = 0  # the records of the last tally after its first: no result of their own
            for item, (_, data) in chunk:
                if data is None:
                    yield item, []
                elif covered:
                    covered -= 1
                else:
                    found = next(results)
                    if isinstance(found, Tally):
                        covered = found.records - 1
                        yield found
                    else:
                        yield item, found

        with self.running() as submitter, _cancelled(pending):
            for chunk in _chunks(((item, record(item)) for item in items), self.chunk):
                readable = [(number, data) for _, (number, data) in chunk if data is not None]
                tally_chunk = tally and _gaps_at_unreadable(chunk)
                future = (
                    submitter.submit(
                        compare_chunk,
                        self.baseline,
                        self.amended,
                        readable,
                        self.dates,
                        self.group_by,
                        tally_chunk,
                    )
                    if readable
                    else None
                )
                pending.append((chunk, future))
                while len(pending) >= self.window:
                    yield from finished()
            while pending:
                yield from finished()

    @contextlib.contextmanager
    def running(self) -> Iterator[Submitter]:
        """What runs the units of work: the executor given, else a pool of ``jobs`` worker
        processes (shut down on leaving), else this process."""
        if self._executor is not None:
            yield self._executor
            return
        if self.jobs == 1:
            yield _Here()
            return
        import multiprocessing  # only for worker processes: kzmig check does without
        from concurrent.futures import ProcessPoolExecutor

        # forkserver: workers start from a clean single-threaded server, not from a process
        # that may run threads (fork() there can deadlock a child); each builds its policies.
        methods = multiprocessing.get_all_start_methods()
        context = multiprocessing.get_context("forkserver" if "forkserver" in methods else "spawn")
        pool = ProcessPoolExecutor(
            max_workers=self.jobs, mp_context=context, initializer=_pool_worker_started
        )
        try:
            yield pool
        finally:
            pool.shutdown(wait=True, cancel_futures=True)


def _gaps_at_unreadable(chunk: Iterable[tuple[Any, tuple[int, dict[str, Any] | None]]]) -> bool:
    """Whether each record of ``chunk`` that could not be read sits at a gap in the numbers of
    the readable ones around it (as when every record is numbered, kzmig's way): only then can
    a run of records numbered one after the other, one :class:`Tally`, never span such a
    record. A caller that numbers only its readable records gets its outcomes one by one."""
    last: int | None = None
    after_unreadable = False
    for _, (number, data) in chunk:
        if data is None:
            after_unreadable = True
            continue
        if after_unreadable and last is not None and number == last + 1:
            return False
        last, after_unreadable = number, False
    return True


@contextlib.contextmanager
def _cancelled(pending: Iterable[tuple[Any, Any]]) -> Iterator[None]:
    """On leaving (a caller that stops reading, an error), cancel the futures still pending."""
    try:
        yield
    finally:
        for _, future in pending:
            if future is not None:
                future.cancel()


def _chunks(items: Iterable[U], size: int) -> Iterator[list[U]]:
    chunk: list[U] = []
    for item in items:
        chunk.append(item)
        if len(chunk) >= size:
            yield chunk
            chunk = []
    if chunk:
        yield chunk
