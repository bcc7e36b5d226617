"""The lines of a block of a population file compared by the columnar path where it can, by the
record engine where it cannot: one :class:`~rules.analysis.population.Answer` per record, in
input order, the same as the record engine alone gives.

The lines are read as columns (:func:`rules.columns.reading.read_block`); the travellers in
scope are counted as arrays (:func:`array_count`) and compared as columns
(:func:`rules.columns.compare.compared_block`); every record the columns leave (a line out of
scope, a record that changed, one the columns do not cover) is read and compared as
``kzmig compare`` reads and compares any line.
"""

from __future__ import annotations

import datetime as dt
import io
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import BinaryIO

import numpy as np
import numpy.typing as npt

from rules.analysis.aggregate import Impact
from rules.analysis.impact import Comparison
from rules.analysis.partitions import record_answer
from rules.analysis.population import Answer, Tally
from rules.columns.compare import Travellers, compared_block, tallied_block
from rules.columns.counting import CountingTerms, count_block
from rules.columns.facts import NO_DAY
from rules.columns.reading import read_block
from rules.errors import KzmigError
from rules.policy.documents import json_lines, numbered_lines, too_long_line
from rules.stay.limit import StayLimit

__all__ = ["BLOCK_BYTES", "ArrayCount", "answers_of_lines", "array_count", "column_answers"]

#: The largest block of a file a worker of the columnar path reads at once: a block costs more
#: to begin as columns than line by line (the reader, the law's terms as arrays, the decisions
#: not yet kept), so the blocks are larger than the record engine's; its answers are kept until
#: the block is done, a few thousand records.
BLOCK_BYTES = 2 * 1024 * 1024

Ints = npt.NDArray[np.int64]
Flags = npt.NDArray[np.bool_]


@dataclass(frozen=True)
class ArrayCount:
    """A block's count as :mod:`rules.columns.compare` reads it (see
    :class:`~rules.columns.compare.BlockCount`), from :func:`~rules.columns.counting.count_block`."""

    days_used: Ints
    overstay_count: Ints
    period_offsets: Ints
    period_first: Ints
    period_last: Ints
    present: Flags
    latest_exit: Ints
    counted_here: Flags


def array_count(stay: StayLimit, travellers: Travellers, on: dt.date) -> ArrayCount:
    """The count of ``travellers`` on ``on`` under ``stay``'s law, as arrays: each record whose
    nationality is subject to the limit counted under its nationality's terms; a record the
    arrays cannot count as the record engine does is not ``counted_here``."""
    day = on.toordinal()
    first, last = stay.in_force
    groups: dict[str, int] = {}
    terms: list[CountingTerms] = []
    size = len(travellers)
    group = np.zeros(size, dtype=np.int64)
    needed = np.zeros(size, dtype=np.bool_)
    if first <= day <= last:
        for row, code in enumerate(travellers.citizenship):
            if code is None:
                continue
            index = groups.get(code)
            if index is None:
                recorded, _, subject = stay.regime_on(code, day)
                if not (recorded and subject):
                    index = groups[code] = -1
                else:
                    try:
                        counting = stay.counting(code, day)
                    except KzmigError:  # the record engine raises: its error, record by record
                        index = groups[code] = -2
                    else:
                        index = groups[code] = len(terms)
                        terms.append(CountingTerms.of(counting))
            if index >= 0:
                group[row] = index
                needed[row] = True
            elif index == -2:
                group[row] = -2
    needed &= travellers.trips_recorded
    refused = group == -2
    if not terms:
        zeros = np.zeros(size, dtype=np.int64)
        return ArrayCount(
            zeros,
            zeros,
            np.zeros(size + 1, dtype=np.int64),
            zeros[:0],
            zeros[:0],
            np.zeros(size, dtype=np.bool_),
            np.full(size, NO_DAY, dtype=np.int64),
            ~refused,
        )
    group[~needed] = 0
    counted = count_block(
        travellers.offsets,
        travellers.entry,
        travellers.exit,
        travellers.exit != NO_DAY,
        group,
        terms,
        day,
    )
    return ArrayCount(
        counted.days_used,
        counted.overstay,
        counted.periods,
        counted.periods_first,
        counted.periods_last,
        counted.present,
        counted.latest_exit,
        ~(needed & counted.elsewhere) & ~refused,
    )


def answers_of_lines(
    comparison: Comparison,
    path: str,
    lines: Iterable[tuple[int, bytes | None]],
    first_index: int,
    dates: Sequence[dt.date],
    group_by: tuple[str, ...],
    tally: bool = False,
) -> list[Answer | Tally]:
    """The answer of each record of ``lines`` (each numbered, ``None`` for one too long, as
    :func:`rules.policy.documents.json_lines` reads a file's lines), numbered from
    ``first_index`` (see the module). ``tally``: the records that changed nothing on any date
    and are no error record are counted here, one :class:`~rules.analysis.population.Tally`
    of them first, and the answers of the others follow in input order."""
    answers: list[Answer] = []
    impact = Impact.of(comparison, dates, law=False) if tally else None
    run: list[bytes] = []
    run_start = 0
    placed = 0  # the records answered so far, counted or not

    def flush() -> None:
        nonlocal placed
        if run:
            found = _run_answers(
                comparison, path, run, run_start, first_index + placed, dates, group_by, impact
            )
            placed += found.records
            answers.extend(found.answers)
            run.clear()

    for number, line in lines:
        if line is None:  # too long: the record engine's error record, at its line
            flush()
            read = too_long_line(path, number)
            answers.append(record_answer(comparison, first_index + placed, path, read, dates, group_by))
            placed += 1
            continue
        if not run:
            run_start = number
        run.append(line)
    flush()
    if impact is None:
        return list(answers)
    return [Tally(impact), *answers] if impact.records else list(answers)


@dataclass(frozen=True)
class _Answered:
    """The answers of a run of lines, and how many records the run holds (those counted into an
    impact included)."""

    answers: list[Answer]
    records: int


def _run_answers(
    comparison: Comparison,
    path: str,
    lines: list[bytes],
    first_number: int,
    first_index: int,
    dates: Sequence[dt.date],
    group_by: tuple[str, ...],
    impact: Impact | None,
) -> _Answered:
    """The answers of consecutive whole lines numbered from ``first_number``; with ``impact``,
    the records that changed nothing and are no error record are counted into it instead."""
    block = read_block(b"".join(lines), first_number)
    travellers = Travellers(
        index=block.indexes + first_index,  # each record's number in the whole input
        person_id=block.person_id.to_pylist(),
        citizenship=block.citizenship.to_pylist(),
        trips_recorded=block.has_trips,
        offsets=block.offsets,
        entry=block.entry,
        exit=np.where(block.has_exit, block.exit, NO_DAY),
        citizenship_given=block.citizenship_given.to_pylist(),
    )
    answers: list[Answer | None] = [None] * block.records
    if impact is not None:
        answered, counted = tallied_block(comparison, travellers, dates, group_by, array_count)
        impact.merge(counted)
    else:
        answered = np.zeros(len(travellers), dtype=np.bool_)
        found = compared_block(comparison, travellers, dates, group_by, array_count)
        for row, outcomes in enumerate(found):
            if outcomes is not None:
                index = int(block.indexes[row])
                answers[index] = Answer(first_index + index, outcomes)
                answered[row] = True
    counted_here = {int(index) for index in block.indexes[answered].tolist()} if impact is not None else set()
    left: list[tuple[int, int, bytes]] = [
        (int(block.indexes[row]), int(block.numbers[row]), lines[int(block.numbers[row]) - first_number])
        for row in np.flatnonzero(~answered).tolist()
    ]
    left.extend((other.record, other.number, other.line) for other in block.others)
    for index, number, line in left:
        for read in json_lines(io.BytesIO(line), path, first_number=number):
            answer = record_answer(comparison, first_index + index, path, read, dates, group_by)
            if impact is not None and answer.unchanged() is not None:
                impact.add(answer.outcomes)
                counted_here.add(index)
            else:
                answers[index] = answer
    missing = [index for index, answer in enumerate(answers) if answer is None and index not in counted_here]
    if missing:  # every record yields one answer: a line neither path answered is a fault here
        raise AssertionError(f"records {missing[:5]} of {path} from line {first_number} have no answer")
    return _Answered([answer for answer in answers if answer is not None], block.records)


def column_answers(
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
) -> list[Answer | Tally]:
    """The answer of each record that begins in bytes ``start..end`` of the open file ``path``,
    as :func:`rules.analysis.partitions.record_answers` gives them (see the module): what the
    workers of ``kzmig compare --engine columns`` answer a block of the file with. ``tally``:
    one :class:`~rules.analysis.population.Tally` of the block's records that changed nothing,
    first, then the answers of the others (see :func:`answers_of_lines`)."""
    lines = numbered_lines(handle, start, end, first_number)
    return answers_of_lines(comparison, path, lines, first_index, dates, group_by, tally)
