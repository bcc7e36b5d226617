"""Reading person records from files: one person, a list of persons, or JSON Lines.

In a batch every input record yields exactly one item here -- the record's data or the
problems that stop it being read -- so that nothing is lost: a broken line in a JSON Lines
file is one error record, and the lines around it are still evaluated.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from rules.errors import InputError, Problem
from rules.policy.documents import Document, DocumentError, parse_document, read_document

__all__ = ["Record", "read_records", "place_problems"]


@dataclass(frozen=True)
class Record:
    """One input record: its position, its data (or ``None``) and the problems reading it."""

    index: int
    where: str
    data: dict[str, Any] | None
    problems: tuple[Problem, ...] = ()
    document: Document | None = None
    prefix: tuple[str | int, ...] = ()


def read_records(source: str) -> Iterator[Record]:
    """Records from ``source``: a path (``.json``, ``.yaml``, ``.yml``, ``.jsonl``) or ``-``.

    A file that cannot be read at all raises :class:`InputError`; a record that cannot be
    read is yielded with its problems.
    """
    if source.endswith(".jsonl"):
        yield from _json_lines(Path(source))
        return
    try:
        if source == "-":
            document = parse_document(sys.stdin.read(), "<stdin>")
        else:
            document = read_document(Path(source))
    except DocumentError as error:
        raise InputError("the person file cannot be read", [Problem(error.where, error.message)]) from None
    data = document.data
    if isinstance(data, list):
        for index, item in enumerate(data):
            yield _record(index, document, (index,), item)
    elif isinstance(data, dict):
        yield _record(0, document, (), data)
    else:
        raise InputError(
            "the person file cannot be read",
            [Problem(document.where(()), "expected a person (a mapping) or a list of persons")],
        )


def _record(index: int, document: Document, prefix: tuple[str | int, ...], item: Any) -> Record:
    where = document.where(prefix)
    if not isinstance(item, dict):
        return Record(index, where, None, (Problem(where, "a person is a mapping of fields"),))
    return Record(index, where, item, document=document, prefix=prefix)


def _json_lines(path: Path) -> Iterator[Record]:
    try:
        handle = path.open(encoding="utf-8")
    except OSError as error:
        raise InputError(
            "the person file cannot be read", [Problem(str(path), error.strerror or "unreadable")]
        ) from None
    with handle:
        index = 0
        try:
            for number, line in enumerate(handle, start=1):
                if not line.strip():
                    continue
                where = f"{path}:{number}"
                try:
                    item = json.loads(line)
                except json.JSONDecodeError as error:
                    problem = Problem(where, f"not valid JSON: {error.msg} (column {error.colno})")
                    yield Record(index, where, None, (problem,))
                else:
                    document = Document(name=str(path), data=item, lines={(): number})
                    yield _record(index, document, (), item)
                index += 1
        except UnicodeDecodeError as error:
            problem = Problem(f"{path}", f"not UTF-8 text (byte {error.start})")
            yield Record(index, str(path), None, (problem,))


def place_problems(record: Record, problems: tuple[Problem, ...]) -> tuple[Problem, ...]:
    """Problems found in a record's fields, placed at their file and line."""
    if record.document is None:
        return problems
    return tuple(
        Problem(record.document.where((*record.prefix, *problem.path)), problem.message)
        if problem.path or not problem.where
        else problem
        for problem in problems
    )
