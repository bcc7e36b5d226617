"""Reading person records from files: one person, a list of persons, or JSON Lines.

In a batch every input record yields exactly one item here -- the record's data or the
problems that stop it being read -- so that nothing is lost: a broken line in a JSON Lines
file is one error record, and the lines around it are still evaluated.
"""

from __future__ import annotations

import collections
import itertools
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path
from typing import Any, BinaryIO, cast

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
    parse_json,
    parse_json_document,
    parse_json_values,
    read_document,
    read_text,
)

__all__ = [
    "MAX_LINE_BYTES",
    "InputFormat",
    "Record",
    "Records",
    "named_json_lines",
    "named_parquet",
    "open_person_file",
    "place_problems",
    "read_records",
]


@dataclass(frozen=True)
class Record:
    """One input record: its position, its data (or ``None``) and the problems reading it."""

    index: int
    where: str
    data: dict[str, Any] | None
    problems: tuple[Problem, ...] = ()
    document: Document | None = None
    prefix: tuple[str | int, ...] = ()


class InputFormat(StrEnum):
    """How a person file is read. ``auto``: by its name (``.jsonl``: JSON Lines; ``.json``:
    JSON; ``.parquet``: a Parquet persons table; else YAML), and standard input by its first
    lines (see :func:`read_records`); otherwise as named, whatever the file is called. Only
    ``kzmig compare`` reads a Parquet persons table (a file: Parquet cannot be streamed)."""

    auto = "auto"
    jsonl = "jsonl"
    json = "json"
    yaml = "yaml"
    parquet = "parquet"


def named_parquet(source: str, input_format: InputFormat = InputFormat.auto) -> bool:
    """Whether ``source`` is read as a Parquet persons table: by its ``.parquet`` name, or
    told so."""
    if input_format is InputFormat.auto:
        return source.endswith(".parquet")
    return input_format is InputFormat.parquet


def named_json_lines(source: str, input_format: InputFormat = InputFormat.auto) -> bool:
    """Whether ``source`` is a named file read as JSON Lines, by its name or the format given.
    Never for standard input (``-``), which is no file to open again: it is told by its first
    lines, or by ``jsonl`` (see :func:`read_records`)."""
    if source == "-":
        return False
    if input_format is InputFormat.auto:
        return source.endswith(".jsonl")
    return input_format is InputFormat.jsonl


class Records(Iterator[Record]):
    """The records of one source, one at a time (read once), and whether they are ``streamed``:
    read as they are asked for (JSON Lines, one record a line; JSON values one after another),
    a batch however many there are. The records of one document are in memory already."""

    def __init__(self, items: Iterator[Record], streamed: bool) -> None:
        self._items = items
        self.streamed = streamed

    def __next__(self) -> Record:
        return next(self._items)


def read_records(source: str, input_format: InputFormat = InputFormat.auto) -> Records:
    """The records of ``source``: a path (``.json``, ``.yaml``, ``.yml``, ``.jsonl``) or ``-``.

    JSON Lines are streamed, one record a line, whatever the size of the file; so is standard
    input whose first line is a JSON object by itself, followed by lines that are no YAML
    comment or document marker (``zcat extract.jsonl.gz | kzmig compare -``). Any other
    standard input is one document, as a ``.json`` or ``.yaml`` file is; standard input or a
    ``.json`` file that opens with ``{`` and is not one document is read as JSON values one
    after another (as ``jq`` prints them) when the first is valid JSON, one at a time.
    ``input_format`` other than ``auto`` reads ``source`` as it says instead, whatever its
    name or first lines.

    A source that cannot be read at all raises :class:`InputError` here, before any record;
    a record that cannot be read is yielded with its problems.
    """
    auto = input_format is InputFormat.auto
    if named_parquet(source, input_format):  # binary: read as text it would only say "not UTF-8"
        raise InputError(
            "the person file cannot be read",
            [
                Problem(
                    "<stdin>" if source == "-" else source,
                    "a Parquet persons table is read by kzmig compare (with --trips and --statuses); "
                    "this command reads .json, .yaml, .yml or .jsonl",
                )
            ],
        )
    if source == "-":
        stream = _Rejoined(sys.stdin.buffer)
        if input_format is InputFormat.jsonl or (auto and stream.json_lines()):
            # Read line by line from the start: all json_lines asks of its handle is readline.
            return Records(_json_lines_of(cast(BinaryIO, stream), "<stdin>"), True)
    elif named_json_lines(source, input_format):
        return Records(_file_json_lines(open_person_file(Path(source)), source), True)
    text = None  # standard input, once decoded
    try:
        if source == "-":
            data = stream.read(MAX_DOCUMENT_BYTES + 1)
            if len(data) > MAX_DOCUMENT_BYTES:
                raise DocumentError("<stdin>", f"larger than {MAX_DOCUMENT_BYTES:,} bytes: refused")
            text = decode(data, "<stdin>")
            as_json = input_format is InputFormat.json
            document = parse_json_document(text, "<stdin>") if as_json else parse_document(text, "<stdin>")
        elif auto and Path(source).suffix.lower() == ".json":
            text = read_text(Path(source))
            document = parse_json_document(text, source)
        else:
            document = read_document(Path(source), as_json=None if auto else input_format is InputFormat.json)
    except DocumentError as error:
        problems = [error.problem]
        # JSON, but not one document? JSON values one after another, if the first is valid.
        if auto and (stream.opens_with_a_brace if source == "-" else _opens_with_a_brace(text)):
            values = _json_values(text, "<stdin>" if source == "-" else source) if text is not None else None
            if values is not None:
                return Records(values, True)
            if source == "-":
                problems.append(Problem("<stdin>", _READ_AS_ONE_DOCUMENT))
        raise InputError("the person file cannot be read", problems) from None
    return Records(_document_records(document), False)


#: Said of standard input that opens with a brace and fails as one document.
_READ_AS_ONE_DOCUMENT = (
    "read as one document: JSON Lines are told by a first line that is a whole JSON object, with "
    "more lines after it, and JSON objects one after another (as jq prints them) are read when "
    "every one is valid JSON; --input-format jsonl reads every line as a record"
)


def _opens_with_a_brace(text: str | None) -> bool:
    """Whether a file's text, read, begins with ``{`` (past white space): a JSON object first."""
    return text is not None and text.lstrip().startswith("{")


def _json_values(text: str, name: str) -> Iterator[Record] | None:
    """The records of ``text`` read as JSON values one after another, each placed at the line
    it starts on, read one at a time; ``None`` unless the first is valid JSON. A later value
    that is not is an error record at its place, and reading goes on at the next line that
    opens with ``{`` (:func:`~rules.policy.documents.parse_json_values` with ``resume``)."""
    values = parse_json_values(text, name, resume=True)
    try:
        first = next(values, None)
    except DocumentError:  # nested too deep: refused before any value
        return None
    if first is None or isinstance(first[1], DocumentError):
        return None
    return _value_records(itertools.chain([first], values), name)


def _value_records(values: Iterator[tuple[int, Any]], name: str) -> Iterator[Record]:
    for index, (line, value) in enumerate(values):
        if isinstance(value, DocumentError):
            yield Record(index, value.where, None, (value.problem,))
        else:
            yield _record(index, Document(name=name, data=value, lines={(): line}), (), value)


def _document_records(document: Document) -> Iterator[Record]:
    """The records of one document: a person, or a list of persons; else :class:`InputError`
    (raised here, before any record)."""
    data = document.data
    if isinstance(data, list):
        return (_record(index, document, (index,), item) for index, item in enumerate(data))
    if isinstance(data, dict):
        return iter([_record(0, document, (), data)])
    raise InputError(
        "the person file cannot be read",
        [Problem(document.where(()), "expected a person (a mapping) or a list of persons")],
    )


def _record(index: int, document: Document, prefix: tuple[str | int, ...], item: Any) -> Record:
    where = document.where(prefix)
    if not isinstance(item, dict):
        return Record(index, where, None, (Problem(where, "a person is a mapping of fields"),))
    return Record(index, where, item, document=document, prefix=prefix)


def _json_lines_of(handle: BinaryIO, name: str) -> Iterator[Record]:
    """One record a line of ``handle``, placed in ``name``: each line read as bytes (only a
    line feed ends a line; a carriage return inside a record is part of it), decoded and
    parsed on its own, at most :data:`MAX_LINE_BYTES` long. Whatever a line holds, it yields
    one record or one error."""
    for index, line in enumerate(json_lines(handle, name)):
        where = f"{name}:{line.number}"
        if line.problems:
            yield Record(index, where, None, line.problems)
        else:
            document = Document(name=name, data=line.data, lines={(): line.number})
            yield _record(index, document, (), line.data)


def _file_json_lines(handle: BinaryIO, name: str) -> Iterator[Record]:
    """The records of the JSON Lines file open in ``handle``, which is closed at the end."""
    with handle:
        yield from _json_lines_of(handle, name)


#: How the lines begin that may follow a one-line mapping in one YAML document: a comment, the
#: end of the document, another document.
_NOT_A_RECORD = (b"#", b"...", b"---")
#: The most lines read ahead to tell JSON Lines from one document (blank lines included): with
#: the bytes of one document, what is held ahead stays small, however short the lines.
_LINES_AHEAD = 1000


class _Rejoined:
    """Standard input, with its first two lines read ahead (to tell JSON Lines from one
    document) and handed back first: a pipe cannot be read again."""

    def __init__(self, stream: BinaryIO) -> None:
        self._stream = stream
        self._ahead: collections.deque[bytes] = collections.deque()
        self._bytes_ahead = 0
        #: Whether the first line that is not blank begins with ``{`` (JSON Lines would).
        self.opens_with_a_brace = False

    def json_lines(self) -> bool:
        """Whether the input is JSON Lines: its first line (not blank) is a JSON object by
        itself, and another line follows that is not blank, a YAML comment or a YAML document
        marker. Such input is no single YAML or JSON document (after a mapping on one line,
        a document holds nothing else), so every input read as one document before still is,
        a single line included; a line of JSON Lines that cannot be read is one error record."""
        first = self._line()
        while first is not None and not first.strip():
            first = self._line()
        self.opens_with_a_brace = first is not None and first.lstrip().startswith(b"{")
        if not self.opens_with_a_brace or first is None or not first.endswith(b"\n"):
            return False
        try:
            found = parse_json(decode(first, "<stdin>"), "<stdin>")
        except DocumentError:
            return False
        if not isinstance(found, dict):
            return False
        following = self._line()
        while following is not None and not following.strip():
            following = self._line()
        return following is not None and not following.lstrip().startswith(_NOT_A_RECORD)

    def _line(self) -> bytes | None:
        """The next line read ahead, of at most :data:`MAX_LINE_BYTES` (``None``: the end, or
        more blank lines ahead than :data:`_LINES_AHEAD` or one document's bytes: what is read
        ahead stays bounded, and the input is then one document)."""
        if self._bytes_ahead > MAX_DOCUMENT_BYTES or len(self._ahead) >= _LINES_AHEAD:
            return None
        line = self._stream.readline(MAX_LINE_BYTES + 1)
        if not line:
            return None
        self._ahead.append(line)
        self._bytes_ahead += len(line)
        return line

    def readline(self, size: int = -1) -> bytes:
        if self._ahead:
            return self._ahead.popleft()
        return self._stream.readline(size)

    def read(self, size: int = -1) -> bytes:
        ahead = b"".join(self._ahead)
        self._ahead.clear()
        if size < 0:
            return ahead + self._stream.read()
        return ahead + self._stream.read(max(size - len(ahead), 0))


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
