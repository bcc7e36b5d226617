"""An amendment across a population read where it lies: JSON Lines files read by the workers.

:class:`rules.analysis.population.Population` streams the records through the caller, which
reads and parses every line and hands chunks to workers. At the scale of a border-service
extract the records had better stay where they are, and the caller only aggregate:

* :func:`answers_of_files` splits JSON Lines files into blocks of bytes; each worker (a Dask
  worker, a worker process, or this process: the population's executor) reads the lines that
  begin in its block, compares them and sends back the outcomes, or an error record, of each.
  The caller gets one :class:`~rules.analysis.population.Answer` per record, in input order,
  numbered and placed (``file:line``) as ``kzmig compare`` reads one file, with at most
  ``population.window`` blocks in flight. ``kzmig compare --workers-read`` uses it. With
  ``tally``, the records that changed nothing and failed nowhere are counted where they were
  compared, and a :class:`Tally` of them comes back in their place instead of their answers:
  for a caller that keeps no record of an unchanged record (the text summary, the changed
  records, the report), only the counts travel back.
* :func:`impact_of_bag` takes a ``dask.bag`` of JSON Lines text (e.g.
``dask.bag.read_text("extract/*.jsonl", errors="surrogateescape")``, read by the workers from
storage they share) and returns the :class:`~rules.analysis.aggregate.Impact` of the whole and
the changed records, in input order. Only the counters and the changed records travel back.

Each partition is compared by a worker that builds the two policy versions once (from their
:class:`~rules.analysis.population.PolicySpec`) and keeps them, as for ``Population``. Records
are numbered as ``kzmig compare`` numbers the lines of one file (blank lines skipped), so the
result equals that of one process on the concatenated partitions: a first, cheap pass counts
each partition's records. A line that cannot be read (too long, not UTF-8, not JSON, not a
mapping) counts as one input error, as in every batch: nothing is lost.
"""

from __future__ import annotations

import collections
import datetime as dt
import itertools
import os
from collections.abc import Callable, Iterable, Iterator, Sequence
from typing import Any, BinaryIO, Literal, TypeVar, overload

from rules.analysis.aggregate import Impact
from rules.analysis.impact import Comparison
from rules.analysis.population import (
    Answer,
    PolicySpec,
    Population,
    Tally,
    built_comparison,
    compare_record,
    tallied,
)
from rules.errors import InputError, Problem
from rules.policy.documents import (
    MAX_LINE_BYTES,
    Document,
    DocumentError,
    JsonLine,
    count_json_lines,
    decode,
    json_lines,
    open_regular,
    parse_json,
)

__all__ = [
    "BLOCK_BYTES",
    "MAX_LINE_BYTES",
    "MIN_BLOCK_BYTES",
    "Tally",
    "answers_of_files",
    "impact_of_bag",
    "record_answer",
    "record_answers",
]

R = TypeVar("R")

#: The most bytes of a file one unit of work reads (it ends at the end of its last line): about
#: 500 records of the benchmark's population, two chunks of ``kzmig compare``. The caller holds
#: the outcomes of every block in flight (a few kilobytes a record and date) until their turn.
BLOCK_BYTES = 256 * 1024
#: The fewest: below this, opening the file and sending the work cost more than the reading.
MIN_BLOCK_BYTES = 32 * 1024


@overload
def answers_of_files(
    population: Population,
    paths: Sequence[str],
    *,
    block_bytes: int | None = None,
    tally: Literal[False] = False,
    largest_block: int = ...,
) -> Iterator[Answer]: ...


@overload
def answers_of_files(
    population: Population,
    paths: Sequence[str],
    *,
    block_bytes: int | None = None,
    tally: bool,
    largest_block: int = ...,
) -> Iterator[Answer | Tally]: ...


def answers_of_files(
    population: Population,
    paths: Sequence[str],
    *,
    block_bytes: int | None = None,
    tally: bool = False,
    largest_block: int = BLOCK_BYTES,
) -> Iterator[Answer | Tally]:
    """Each record of the JSON Lines files ``paths`` (in that order) compared by ``population``
    where its executor runs, read there: one :class:`Answer` per record, in input order.

    Every worker must see the files at the same paths (a shared file system), and they must
    not change during the run. A file that is missing, not a regular file or unreadable here
    or on a worker is an :class:`InputError` naming it; a line that cannot be read (too long,
    not UTF-8, not JSON, not a mapping) is one error record, as in every batch.

    ``block_bytes``: the bytes of a unit of work (default: enough blocks to keep every worker
    busy, within :data:`MIN_BLOCK_BYTES` and ``largest_block``, :data:`BLOCK_BYTES` unless
    told: the columnar path, whose cost per block is larger, reads larger blocks). Two passes: the first
    counts each block's lines and records (cheap: nothing is parsed), so that every record gets
    the number and line it has in one process; the second compares.

    ``tally``: the records of a block that changed nothing on any date and are no error record
    come back as :class:`Tally` items in their place (one per run of such records), counted by
    the worker: the answers of the others are unchanged, and merging each tally where it comes
    gives the impact that adding every answer gives. (The columnar path's blocks count them all
    in one tally, ahead of the block's other answers: a tally's place then says nothing of its
    records' numbers.)"""
    sizes = {path: _size(path) for path in paths}
    if block_bytes is None:
        block_bytes = _block_bytes(sum(sizes.values()), population.window, largest_block)
    if block_bytes < 1:
        raise ValueError("block_bytes is at least 1")
    blocks: list[tuple[str, int, int]] = []
    for path in paths:
        size = sizes[path]
        blocks.extend((path, start, min(start + block_bytes, size)) for start in range(0, size, block_bytes))
    with population.running() as submitter:
        counts = [submitter.submit(count_block, *block) for block in blocks]
        starts: list[tuple[int, int]] = []  # per block: its first line number, its first record
        number, index, previous = 1, 0, None
        for (path, _, _), future in zip(blocks, counts, strict=True):
            if path != previous:
                number, previous = 1, path
            starts.append((number, index))
            lines, records = _from_worker(path, future.result())
            number += lines
            index += records
        pending: collections.deque[tuple[str, Any]] = collections.deque()

        def finished() -> list[Answer | Tally]:
            path, future = pending.popleft()
            answers: list[Answer | Tally] = _from_worker(path, future.result())
            return answers

        try:
            for (path, start, end), (first_number, first_index) in zip(blocks, starts, strict=True):
                future = submitter.submit(
                    compare_block,
                    population.baseline,
                    population.amended,
                    (path, start, end, first_number, first_index),
                    population.dates,
                    population.group_by,
                    tally,
                    population.block_answers or record_answers,
                )
                pending.append((path, future))
                while len(pending) >= population.window:
                    yield from finished()
            while pending:
                yield from finished()
        finally:
            for _, future in pending:
                future.cancel()


def _block_bytes(total: int, window: int, largest: int = BLOCK_BYTES) -> int:
    """Blocks small enough that every worker has work (four blocks for each one in flight),
    within :data:`MIN_BLOCK_BYTES` and ``largest``."""
    return max(MIN_BLOCK_BYTES, min(largest, -(-total // (4 * window))))


def _size(path: str) -> int:
    """The size of the file ``path``, if it is a regular file that can be opened here."""
    try:
        with open_regular(path) as handle:
            return os.fstat(handle.fileno()).st_size
    except DocumentError as error:
        raise InputError("the person file cannot be read", [error.problem]) from None


def _from_worker(path: str, result: R | str) -> R:
    """What a unit of work gave, or the :class:`InputError` of a file it could not read."""
    if isinstance(result, str):
        raise InputError("the person file cannot be read", [Problem(path, result)])
    return result


def count_block(path: str, start: int, end: int) -> tuple[int, int] | str:
    """The lines that begin in bytes ``start..end`` of the JSON Lines file ``path``, and how
    many are records (not blank); or why the file cannot be read here. A unit of work."""
    try:
        with open_regular(path) as handle:
            return count_json_lines(handle, start=start, end=end)
    except (DocumentError, OSError) as error:
        return _refused_here(error)


def record_answers(
    comparison: Comparison,
    path: str,
    handle: BinaryIO,
    start: int,
    end: int,
    first_number: int,
    first_index: int,
    dates: Sequence[dt.date],
    group_by: tuple[str, ...],
    tally: bool = False,
) -> Iterator[Answer]:
    """The answer of each record that begins in bytes ``start..end`` of the open file ``path``,
    its lines numbered from ``first_number`` and its records from ``first_index``: each line
    read and compared on its own (:func:`record_answer`). Every record has its answer, with
    ``tally`` too: :func:`compare_block` tallies them."""
    lines = json_lines(handle, path, start=start, end=end, first_number=first_number)
    for index, line in enumerate(lines, first_index):
        yield record_answer(comparison, index, path, line, dates, group_by)


def compare_block(
    baseline: PolicySpec,
    amended: PolicySpec,
    block: tuple[str, int, int, int, int],
    dates: Sequence[dt.date],
    group_by: tuple[str, ...],
    tally: bool = False,
    answers: Callable[..., Iterable[Answer | Tally]] = record_answers,
) -> list[Answer | Tally] | str:
    """The answers of the records that begin in one block of a JSON Lines file: ``block`` is
    its path, its bytes ``start..end``, the number of its first line and of its first record.
    Or why the file cannot be read here. A unit of work: the policies are built once per process.
    ``tally``: each run of records that changed nothing and are no error record is one
    :class:`Tally` instead (see :func:`answers_of_files`). ``answers`` answers the records of
    the block, as :func:`record_answers` does (the columnar path's ``column_answers`` gives the
    same answers); with ``tally`` it may count records that changed nothing itself, and give
    :class:`Tally` items of them among the answers of the others (``column_answers`` gives one,
    first), which are passed on as they are."""
    path, start, end, first_number, first_index = block
    comparison = built_comparison(baseline, amended)
    try:
        with open_regular(path) as handle:
            found = list(
                answers(
                    comparison, path, handle, start, end, first_number, first_index, dates, group_by, tally
                )
            )
            if not tally:
                return found
            counted = [item for item in found if isinstance(item, Tally)]
            rest = (item for item in found if not isinstance(item, Tally))
            return [*counted, *tallied(comparison, dates, ((a.record, a, a.unchanged()) for a in rest))]
    except (DocumentError, OSError) as error:
        return _refused_here(error)


def _refused_here(error: DocumentError | OSError) -> str:
    """Why a worker cannot read a file the caller checked on its own machine: a worker's file
    system may hold something else at that path, or fail to read it."""
    reason = error.message if isinstance(error, DocumentError) else error.strerror or "unreadable"
    return f"cannot be read on a worker: {reason}"


def record_answer(
    comparison: Comparison,
    index: int,
    path: str,
    line: JsonLine,
    dates: Sequence[dt.date],
    group_by: tuple[str, ...],
) -> Answer:
    """One line's answer, as ``kzmig compare`` gives it for a line of one file."""
    number, data, problems = line.number, line.data, line.problems
    where = f"{path}:{number}"
    if not problems and not isinstance(data, dict):
        problems = (Problem(where, "a person is a mapping of fields"),)
    if problems:
        return Answer.unread(index, where, problems)
    document = Document(name=path, data=data, lines={(): number})
    outcomes = compare_record(comparison, index, data, dates, group_by)
    return Answer.compared(index, where, data, outcomes, document.placed)


def impact_of_bag(
    lines: Any,
    baseline: PolicySpec,
    amended: PolicySpec,
    dates: Sequence[dt.date],
    *,
    group_by: Sequence[str] = (),
    name: str = "records",
) -> tuple[Impact, list[dict[str, Any]]]:
    """The impact of ``amended`` against ``baseline`` on ``dates`` over the JSON Lines text of
    the bag ``lines`` (one record a line), and the changed records (``{"record", "as_of",
    "person_id", "changed", "before", "after", "why", ...}``, in input order).

    ``baseline`` and ``amended`` must be pinned to the versions the caller expects (see
    :meth:`PolicySpec.pinned`): a worker that builds another version refuses to go on. ``name``
    names the input in the changed records' ``where``."""
    # Only for this path: the rest of kzmig runs without Dask.
    from dask.base import compute
    from dask.delayed import delayed

    comparison = built_comparison(baseline, amended)
    impact = Impact.of(comparison, dates)
    counts = lines.map_partitions(_count_records).compute()
    offsets = [0, *itertools.accumulate(counts)][:-1]
    tasks = [
        delayed(_partition_impact)(part, offset, baseline, amended, tuple(dates), tuple(group_by), name)
        for part, offset in zip(lines.to_delayed(), offsets, strict=True)
    ]
    changed: list[dict[str, Any]] = []
    results: tuple[tuple[Impact, list[dict[str, Any]]], ...] = compute(*tasks)  # type: ignore[no-untyped-call]
    for part_impact, part_changed in results:
        impact.merge(part_impact)
        changed.extend(part_changed)
    return impact, changed


def _count_records(lines: Iterable[str]) -> list[int]:
    """The number of records of one partition (its lines that are not blank)."""
    return [sum(1 for line in lines if line.strip())]


def _partition_impact(
    lines: Iterable[str],
    offset: int,
    baseline: PolicySpec,
    amended: PolicySpec,
    dates: tuple[dt.date, ...],
    group_by: tuple[str, ...],
    name: str,
) -> tuple[Impact, list[dict[str, Any]]]:
    """Compare the records of one partition (numbered from ``offset``): its impact and its
    changed records. The unit of work of a Dask task."""
    comparison = built_comparison(baseline, amended)
    impact = Impact.of(comparison, dates, law=False)
    changed: list[dict[str, Any]] = []
    index = offset
    for line in lines:
        if not line.strip():
            continue
        where = f"{name} record {index}"
        data = _record(line, where)
        if data is None:
            impact.add((), unreadable=True)
        else:
            outcomes = compare_record(comparison, index, data, dates, group_by)
            impact.add(outcomes)
            changed.extend(
                {"record": index, **outcome.detail} for outcome in outcomes if outcome.detail is not None
            )
        index += 1
    return impact, changed


def _record(line: str, where: str) -> dict[str, Any] | None:
    """The record of one line, or ``None`` when it cannot be read: longer than
    :data:`MAX_LINE_BYTES`, not UTF-8 (read with ``errors="surrogateescape"``, a byte that is
    not UTF-8 comes back here as it was), not strict JSON, or not a mapping."""
    data = line.encode("utf-8", "surrogateescape")
    if len(data) > MAX_LINE_BYTES:
        return None
    try:
        item = parse_json(decode(data, where), where)
    except DocumentError:
        return None
    return item if isinstance(item, dict) else None
