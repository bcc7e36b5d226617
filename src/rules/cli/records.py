"""Reading person records from files: one person, a list of persons, or JSON Lines.

In a batch every input record yields exactly one item here -- the record's data or the
problems that stop it being read -- so that nothing is lost: a broken line in a JSON Lines
file is one error record, and the lines around it are still evaluated.
"""

from __future__ import annotations

import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any, BinaryIO

from rules.errors import InputError, Problem
from rules.policy.documents import (
    MAX_DOCUMENT_BYTES,
    MAX_LINE_BYTES,
    Document,
    DocumentError,
    decode,
    json_lines,
    open_regular,
    parse_document,
    read_document,
)

__all__ = ["MAX_LINE_BYTES", "Record", "open_person_file", "read_records", "place_problems"]


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

    JSON Lines are streamed, one record a line, whatever the size of the file. A file that cannot
    be read at all raises :class:`InputError`; a record that cannot be read is yielded with its
    problems.
    """
    if source.endswith(".jsonl"):
        yield from _json_lines(Path(source))
        return
    if source.endswith(".parquet"):  # binary: read as text it would only say "not UTF-8"
        raise InputError(
            "the person file cannot be read",
            [
                Problem(
                    source,
                    "a Parquet persons table is read by kzmig compare (with --trips and --statuses); "
                    "this command reads .json, .yaml, .yml or .jsonl",
                )
            ],
        )
    try:
        if source == "-":
            data = sys.stdin.buffer.read(MAX_DOCUMENT_BYTES + 1)
            if len(data) > MAX_DOCUMENT_BYTES:
                raise DocumentError("<stdin>", f"larger than {MAX_DOCUMENT_BYTES:,} bytes: refused")
            document = parse_document(decode(data, "<stdin>"), "<stdin>")
        else:
            document = read_document(Path(source))
    except DocumentError as error:
        raise InputError("the person file cannot be read", [error.problem]) from None
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
    """One record a line: each line read as bytes (only a line feed ends a line; a carriage
    return inside a record is part of it), decoded and parsed on its own, at most
    :data:`MAX_LINE_BYTES` long. Whatever a line holds, it yields one record or one error."""
    with open_person_file(path) as handle:
        for index, line in enumerate(json_lines(handle, str(path))):
            where = f"{path}:{line.number}"
            if line.problems:
                yield Record(index, where, None, line.problems)
            else:
                document = Document(name=str(path), data=line.data, lines={(): line.number})
                yield _record(index, document, (), line.data)


def open_person_file(path: Path) -> BinaryIO:
    """``path`` opened for reading, if it is a regular file (see :func:`open_regular`); else
    the :class:`InputError` saying why."""
    try:
        return open_regular(path)
    except DocumentError as error:
        raise InputError("the person file cannot be read", [error.problem]) from None


def place_problems(record: Record, problems: tuple[Problem, ...]) -> tuple[Problem, ...]:
    """Problems found in a record's fields, placed at their file and line."""
    if record.document is None:
        return problems
    return record.document.placed(problems, record.prefix)
