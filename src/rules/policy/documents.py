"""Reading YAML and JSON documents safely, keeping the line of every value.

Policy files are written by analysts and person files come from other systems, so both are
read as plain data only: YAML tags (``!!python/object`` and the like) are refused, and every
value keeps its line number so that an error can say where it is.
"""

from __future__ import annotations

import datetime as dt
import json
import math
import os
import re
import stat
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, BinaryIO

from pydantic import ValidationError

from rules.errors import Problem

__all__ = [
    "MAX_DEPTH",
    "MAX_DOCUMENT_BYTES",
    "MAX_LINE_BYTES",
    "MAX_VALUES",
    "copy_plain",
    "cut",
    "decode",
    "nesting_depth",
    "open_regular",
    "parse_json",
    "parse_json_document",
    "parse_json_values",
    "read_bytes",
    "read_text",
    "Document",
    "DocumentError",
    "JsonLine",
    "count_json_lines",
    "format_path",
    "json_lines",
    "numbered_lines",
    "too_long_line",
    "located_messages",
    "parse_document",
    "read_document",
    "validation_problems",
]

PathKey = tuple[str | int, ...]


@dataclass(frozen=True)
class Document:
    """Plain data read from a file, with the line (1-based) of each path inside it."""

    name: str
    data: Any
    lines: dict[PathKey, int] = field(default_factory=dict)
    #: JSON text whose lines are found when a line is first asked for (most documents are
    #: never asked: only a problem names a line), then dropped.
    text: str | None = field(default=None, repr=False, compare=False)

    def known_lines(self) -> dict[PathKey, int]:
        """The line of each path (found now in JSON text, if not yet)."""
        text = self.text
        if text is not None:
            object.__setattr__(self, "text", None)
            try:
                _yaml_data(text, self.name, self.lines)
            except (DocumentError, UnsafeDocument):
                pass  # best effort: no line is no harm
        return self.lines

    def line_of(self, path: Iterable[str | int]) -> int | None:
        """The line of the deepest known node along ``path``."""
        if path != ():
            self.known_lines()
        key: PathKey = ()
        best = self.lines.get((), None)
        for part in path:
            key = (*key, part)
            if key in self.lines:
                best = self.lines[key]
            else:
                break
        return best

    def where(self, path: Iterable[str | int]) -> str:
        """``file:line at a.b[2].c``: a place a person can go to."""
        path = tuple(path)
        line = self.line_of(path)
        place = f"{self.name}:{line}" if line else self.name
        return f"{place} at {format_path(path)}" if path else place

    def placed(self, problems: Iterable[Problem], prefix: PathKey = ()) -> tuple[Problem, ...]:
        """Problems found in the fields of the value at ``prefix``, each placed at its line."""
        return tuple(
            Problem(self.where((*prefix, *problem.path)), problem.message)
            if problem.path or not problem.where
            else problem
            for problem in problems
        )


def format_path(path: Iterable[str | int]) -> str:
    """``("trips", 2, "exit")`` -> ``trips[2].exit``."""
    text = ""
    for part in path:
        if isinstance(part, int):
            text += f"[{part}]"
        else:
            text += f".{part}" if text else str(part)
    return text


class UnsafeDocument(ValueError):
    """A document holding something other than plain data."""


class DocumentError(ValueError):
    """A file that cannot be read as plain data: ``where`` (file, line) and ``message``."""

    def __init__(self, where: str, message: str) -> None:
        self.where = where
        self.message = message
        super().__init__(f"{where}: {message}")

    @property
    def problem(self) -> Problem:
        """The problem, at its place, as an error's list of problems gives it."""
        return Problem(self.where, self.message)


#: The most bytes a single document (a policy file, a person file) may hold.
MAX_DOCUMENT_BYTES = 10 * 1024 * 1024
#: The most values a document may expand to: YAML aliases repeat a value by reference, and a
#: few hundred bytes of nested aliases can stand for billions of values ("billion laughs").
MAX_VALUES = 200_000
#: The deepest nesting of mappings and lists a document may have.
MAX_DEPTH = 64


class _Budget:
    """Values left to expand while a document is turned into plain data."""

    __slots__ = ("left",)

    def __init__(self, values: int) -> None:
        self.left = values

    def spend(self, path: PathKey, values: int = 1) -> None:
        self.left -= values
        if self.left < 0:
            raise UnsafeDocument(
                f"the document expands to more than {MAX_VALUES:,} values (YAML aliases repeating "
                f"values?), at {format_path(path) or 'top level'}"
            )
        if len(path) > MAX_DEPTH:
            raise UnsafeDocument(f"nested more than {MAX_DEPTH} levels deep, at {format_path(path)}")


# --- YAML, read as plain data from libyaml's events ----------------------------------------------
#
# YAML 1.2's core schema, as a YAML 1.2 reader resolves plain (unquoted) scalars: "yes", "no",
# "on" and "off" stay text, so a country code NO is never false.
_NULL = re.compile(r"^(?:~|null|Null|NULL|)$")
_BOOL = re.compile(r"^(?:true|True|TRUE|false|False|FALSE)$")
_INT = re.compile(r"^(?:[-+]?0b[0-1_]+|[-+]?0o?[0-7_]+|[-+]?[0-9_]+|[-+]?0x[0-9a-fA-F_]+)$")
_FLOAT = re.compile(
    r"""^(?:[-+]?(?:[0-9][0-9_]*)\.[0-9_]*(?:[eE][-+]?[0-9]+)?
    |[-+]?(?:[0-9][0-9_]*)(?:[eE][-+]?[0-9]+)
    |[-+]?\.[0-9_]+(?:[eE][-+][0-9]+)?
    |[-+]?\.(?:inf|Inf|INF)
    |\.(?:nan|NaN|NAN))$""",
    re.X,
)
_DATE = re.compile(r"^([0-9]{4})-([0-9]{2})-([0-9]{2})$")
_TIMESTAMP = re.compile(
    r"""^([0-9]{4})-([0-9]{1,2})-([0-9]{1,2})
    (?:[Tt]|[ \t]+)([0-9]{1,2}):([0-9]{2}):([0-9]{2})(?:\.([0-9]*))?
    (?:[ \t]*(Z|([-+])([0-9]{1,2})(?::([0-9]{2}))?))?$""",
    re.X,
)
_MERGE = "<<"


def _scalar(value: str, plain: bool, where: str) -> Any:
    """A scalar's value: quoted and block scalars are text; a plain one is resolved."""
    if not plain:
        return value.rstrip("\n")  # a folded or literal block ends in a newline nobody wrote
    if _NULL.match(value):
        return None
    if _BOOL.match(value):
        return value[0] in "tT"
    if _INT.match(value):
        text = value.replace("_", "")
        sign = -1 if text.startswith("-") else 1
        digits = text.lstrip("+-")
        base = {"0b": 2, "0o": 8, "0x": 16}.get(digits[:2], 10)
        try:
            return sign * int(digits[2:] if base != 10 else digits, base)
        except ValueError:
            problem = f"{cut(value, 40)} cannot be read as a number (too many digits?)"
            raise DocumentError(where, problem) from None
    if _FLOAT.match(value):
        text = value.replace("_", "").lower()
        if text.endswith("inf"):
            return -math.inf if text.startswith("-") else math.inf
        return math.nan if text.endswith("nan") else float(text)
    return _timestamp(value)


def _timestamp(value: str) -> Any:
    """A YAML timestamp as a date or an aware/naive datetime; a day that does not exist
    (``2024-02-30``) stays text, for validation to report at its line and path."""
    try:
        found = _DATE.match(value)
        if found:
            return dt.date(int(found[1]), int(found[2]), int(found[3]))
        found = _TIMESTAMP.match(value)
        if not found:
            return value
        year, month, day, hour, minute, second = (int(found[i]) for i in range(1, 7))
        micro = int((found[7] or "0")[:6].ljust(6, "0"))
        zone = None
        if found[8] == "Z":
            zone = dt.UTC
        elif found[8]:
            offset = dt.timedelta(hours=int(found[10]), minutes=int(found[11] or 0))
            zone = dt.timezone(-offset if found[9] == "-" else offset)
        return dt.datetime(year, month, day, hour, minute, second, micro, tzinfo=zone)
    except (ValueError, OverflowError):
        return value


def copy_plain(value: Any) -> Any:
    """A copy of plain data: new mappings and lists, the same (immutable) scalars. Several
    times faster than :func:`copy.deepcopy`, which plain data does not need."""
    if isinstance(value, dict):
        return {key: copy_plain(item) for key, item in value.items()}
    if isinstance(value, list):
        return [copy_plain(item) for item in value]
    return value


@dataclass
class _Open:
    """A mapping or list being built: its path and line, its anchor, how many values it
    stands for (aliases expanded), and, in a mapping, the key waiting for its value."""

    value: dict[str, Any] | list[Any]
    path: PathKey
    line: int
    anchor: str | None
    size: int = 1
    key: str | None = None
    merging: bool = False
    merges: list[dict[str, Any]] = field(default_factory=list)


class _Builder:
    """Plain data from parse events, one document, with the line of each key and list item."""

    def __init__(self, name: str, lines: dict[PathKey, int]) -> None:
        self.name = name
        self.lines = lines
        self.anchors: dict[str, tuple[Any, int, PathKey]] = {}
        self.stack: list[_Open] = []
        self.root: list[Any] = []
        self.budget = _Budget(MAX_VALUES)

    def at_key(self) -> bool:
        """Whether the next value is a mapping's key."""
        if not self.stack:
            return False
        top = self.stack[-1]
        return isinstance(top.value, dict) and top.key is None and not top.merging

    def path(self) -> PathKey:
        """The path of the next value."""
        if not self.stack:
            return ()
        top = self.stack[-1]
        if isinstance(top.value, list):
            return (*top.path, len(top.value))
        return (*top.path, top.key) if top.key is not None else top.path

    def where(self) -> str:
        return format_path(self.path()) or "top level"

    def scalar(self, event: Any, line: int) -> None:
        plain = bool(event.implicit[0]) and not event.style
        value = _scalar(event.value, plain, f"{self.name}:{line}")
        if self.at_key():
            self._key(value, plain, line)
            if event.anchor is not None:
                self.anchors[event.anchor] = (value, 1, self.path())
            return
        self.budget.spend(self.path())
        self._place(value, 1, line, event.anchor, self.path())

    def open(self, event: Any, line: int, mapping: bool) -> None:
        if self.at_key():
            raise UnsafeDocument(f"a key at {self.where()} is not plain")
        path = self.path()
        self.budget.spend(path)
        if len(self.stack) >= MAX_DEPTH:
            raise UnsafeDocument(f"nested more than {MAX_DEPTH} levels deep, at {format_path(path)}")
        value: dict[str, Any] | list[Any] = {} if mapping else []
        self.stack.append(_Open(value, path, line, event.anchor))

    def close(self) -> None:
        done = self.stack.pop()
        if isinstance(done.value, dict):
            for merged in done.merges:  # keys written in the mapping win, then earlier merges
                for key, value in merged.items():
                    if key not in done.value:
                        done.value[key] = copy_plain(value)
        self._place(done.value, done.size, done.line, done.anchor, done.path)

    def alias(self, event: Any, line: int) -> None:
        if event.anchor not in self.anchors:
            raise DocumentError(
                f"{self.name}:{line}", f"the alias *{cut(str(event.anchor), 60)} names no anchor before it"
            )
        value, size, source = self.anchors[event.anchor]
        if self.at_key():
            self._key(value, False, line)
            return
        target = self.path()
        self.budget.spend(target, size)  # refused here, before anything is copied
        self._place(copy_plain(value), size, line, None)
        self._copy_lines(value, source, target)

    def _copy_lines(self, value: Any, source: PathKey, target: PathKey) -> None:
        """The values an alias repeats keep the lines where the anchor wrote them, so a
        problem in a repeated value is reported where it can be fixed."""
        pending: list[tuple[Any, PathKey]] = [(value, ())]
        while pending:
            node, relative = pending.pop()
            children = (
                node.items() if isinstance(node, dict) else enumerate(node) if isinstance(node, list) else ()
            )
            for key, child in children:
                path = (*relative, key)
                line = self.lines.get((*source, *path))
                if line is not None:
                    self.lines[(*target, *path)] = line
                pending.append((child, path))

    def _key(self, value: Any, plain: bool, line: int) -> None:
        top = self.stack[-1]
        assert isinstance(top.value, dict)
        if plain and value == _MERGE:
            top.merging = True
            return
        if isinstance(value, dict | list | float) or value is None:
            raise UnsafeDocument(f"a key at {self.where()} is not plain")
        key = str(value)
        if key in top.value:
            place = format_path(top.path) or "top level"
            raise DocumentError(f"{self.name}:{line}", f'duplicate key "{cut(key, 60)}" in {place}')
        self.lines[(*top.path, key)] = line
        top.key = key

    def _place(self, value: Any, size: int, line: int, anchor: str | None, source: PathKey = ()) -> None:
        if anchor is not None:
            self.anchors[anchor] = (value, size, source)
        if not self.stack:
            self.root.append(value)
            return
        top = self.stack[-1]
        top.size += size
        if isinstance(top.value, list):
            self.lines[(*top.path, len(top.value))] = line
            top.value.append(value)
        elif top.merging:
            top.merging = False
            merged = value if isinstance(value, list) else [value]
            if not all(isinstance(item, dict) for item in merged):
                place = format_path(top.path) or "top level"
                raise UnsafeDocument(f"a merge (<<) in {place} is not of mappings")
            top.merges.extend(merged)
        else:
            assert top.key is not None
            top.value[top.key] = value
            top.key = None


def _yaml_data(text: str, name: str, lines: dict[PathKey, int]) -> Any:
    """The plain data of one YAML document, built from the parse events of libyaml (C, which
    the PyYAML wheels carry), with the line of every key and list item in ``lines``.

    Nothing is constructed but mappings, lists, text, numbers, booleans, null and dates: any
    explicit tag is refused. Aliases are expanded as copies, and every value counts against
    :data:`MAX_VALUES` before it is copied, so a few hundred bytes of nested aliases are
    refused at once; nesting is refused beyond :data:`MAX_DEPTH` levels."""
    import yaml  # here, not with the module: a policy read from the cache needs no YAML

    loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)  # libyaml's when PyYAML has it
    builder = _Builder(name, lines)
    documents = 0
    try:
        for event in yaml.parse(text, Loader=loader):
            line = event.start_mark.line + 1 if event.start_mark is not None else 0
            tag = getattr(event, "tag", None)
            if tag is not None:
                shown = tag.replace("tag:yaml.org,2002:", "!!")
                raise UnsafeDocument(f"YAML tag {shown!r} at {builder.where()}")
            if isinstance(event, yaml.ScalarEvent):
                builder.scalar(event, line)
            elif isinstance(event, yaml.MappingStartEvent | yaml.SequenceStartEvent):
                builder.open(event, line, mapping=isinstance(event, yaml.MappingStartEvent))
            elif isinstance(event, yaml.MappingEndEvent | yaml.SequenceEndEvent):
                builder.close()
            elif isinstance(event, yaml.AliasEvent):
                builder.alias(event, line)
            elif isinstance(event, yaml.DocumentStartEvent):
                documents += 1
                if documents > 1:
                    raise DocumentError(f"{name}:{line}", "more than one YAML document: one is expected")
    except yaml.MarkedYAMLError as error:
        mark = error.problem_mark
        where = f"{name}:{mark.line + 1}" if mark is not None else name
        raise DocumentError(where, f"not valid YAML/JSON: {cut(str(error.problem or error))}") from None
    except yaml.YAMLError as error:
        raise DocumentError(name, f"not valid YAML/JSON: {cut(str(error))}") from None
    return builder.root[0] if builder.root else None


def parse_document(text: str, name: str) -> Document:
    """Parse YAML into plain data with lines. Raises :class:`DocumentError` with a place.

    The cost is bounded: at most :data:`MAX_VALUES` values after aliases are followed, nested
    at most :data:`MAX_DEPTH` levels; tags and anything but plain data are refused."""
    lines: dict[PathKey, int] = {(): 1}
    try:
        data = _yaml_data(text, name, lines)
    except UnsafeDocument as error:
        raise DocumentError(name, f"refused: {error}; only plain data is allowed") from None
    return Document(name=name, data=data, lines=lines)


def _no_constants(token: str) -> Any:
    raise ValueError(f"{token} is not a JSON number")


def _no_duplicates(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    found = dict(pairs)  # built in C: a key given twice leaves fewer entries than pairs
    if len(found) != len(pairs):
        seen: set[str] = set()
        for key, _ in pairs:
            if key in seen:
                raise ValueError(f"the key {cut(key, 60)!r} is given twice")
            seen.add(key)
    return found


#: One decoder for every document (``json.loads`` with options builds a new one per call).
_DECODER = json.JSONDecoder(parse_constant=_no_constants, object_pairs_hook=_no_duplicates)


def parse_json(text: str, name: str, first_line: int = 1) -> Any:
    """Strict JSON: no ``NaN`` or ``Infinity``, no key given twice, nested at most
    :data:`MAX_DEPTH` levels, numbers of at most 4,300 digits. Raises :class:`DocumentError`."""
    _refuse_deep_json(text, f"{name}:{first_line}")
    try:
        if text.startswith("\ufeff"):  # as json.loads says it
            raise json.JSONDecodeError("Unexpected UTF-8 BOM (decode using utf-8-sig)", text, 0)
        return _DECODER.decode(text)
    except json.JSONDecodeError as error:
        where = f"{name}:{first_line + error.lineno - 1}"
        raise DocumentError(where, f"not valid JSON: {error.msg} (column {error.colno})") from None
    except (ValueError, RecursionError) as error:
        raise DocumentError(f"{name}:{first_line}", f"not valid JSON: {cut(str(error))}") from None


def _refuse_deep_json(text: str, where: str) -> None:
    """Refuse JSON text nested more than :data:`MAX_DEPTH` levels deep, before a parser
    recurses into it. Text with no more opening brackets than that cannot nest deeper (the
    usual record): only other text is measured."""
    if text.count("[") + text.count("{") > MAX_DEPTH and nesting_depth(text) > MAX_DEPTH:
        raise DocumentError(where, f"refused: nested more than {MAX_DEPTH} levels deep")


def parse_json_document(text: str, name: str) -> Document:
    """A JSON file: its data read strictly as JSON (:func:`parse_json`), the line of each value
    found as YAML reads it when one is first asked for (best effort: no line is no harm)."""
    data = parse_json(text, name)
    return Document(name=name, data=data, lines={(): 1}, text=text)


def parse_json_values(text: str, name: str, *, resume: bool = False) -> Iterator[tuple[int, Any]]:
    """JSON values one after another, apart only by white space (``jq`` prints objects so, each
    over several lines), each with the line it starts on; as strict as :func:`parse_json`.
    Raises :class:`DocumentError` at the first that is not valid. With ``resume``, that error is
    given in the value's place instead, and reading goes on at the next line that opens with
    ``{`` (where ``jq`` begins each object it prints), if one follows: where a broken value ends
    cannot be told, so all before that line is the one broken value. Text nested too deep is
    refused before any value either way."""
    _refuse_deep_json(text, f"{name}:1")
    position = line_start = 0
    line = 1
    end = len(text)
    while True:
        while position < end and text[position] in _JSON_SPACE:
            position += 1
        if position == end:
            return
        line += text.count("\n", line_start, position)
        line_start = position
        try:
            value, position = _DECODER.raw_decode(text, position)
        except json.JSONDecodeError as error:  # placed in the whole text
            message = f"not valid JSON: {error.msg} (column {error.colno})"
            broken = DocumentError(f"{name}:{error.lineno}", message)
        except (ValueError, RecursionError) as error:
            broken = DocumentError(f"{name}:{line}", f"not valid JSON: {cut(str(error))}")
        else:
            yield line, value
            continue
        if not resume:
            raise broken
        yield line, broken
        following = text.find("\n{", position + 1)
        if following < 0:
            return
        position = following + 1


#: What JSON counts as white space between values.
_JSON_SPACE = " \t\n\r"


_JSON_STRING = re.compile(r'"[^"\\]*(?:\\.[^"\\]*)*"')
_NOT_BRACKET = re.compile(r"[^\[\]{}]+")


def nesting_depth(text: str, limit: int = MAX_DEPTH) -> int:
    """The deepest nesting of brackets in JSON text, strings left out, counted up to just past
    ``limit`` (a cheap check, in C-speed passes, before a parser recurses). Each pass removes
    the innermost pairs; brackets that never close do not count."""
    brackets = _NOT_BRACKET.sub("", _JSON_STRING.sub("", text)).replace("{", "[").replace("}", "]")
    depth = 0
    while depth <= limit and "[]" in brackets:
        brackets = brackets.replace("[]", "")
        depth += 1
    return depth


def cut(text: str, limit: int = 200) -> str:
    """``text`` cut to ``limit`` characters, so an error never repeats a huge input in full."""
    return text if len(text) <= limit else text[:limit] + f"... ({len(text):,} characters)"


def open_regular(path: Path | str) -> BinaryIO:
    """``path`` opened for reading in binary, if it is a regular file; else a
    :class:`DocumentError` saying why. A directory, a device, a pipe or a socket is refused
    before it is opened (``/dev/zero`` never ends, a FIFO may never start); the file is then
    opened without waiting (a FIFO put in its place meanwhile cannot block the open) and
    checked again on the open descriptor, so what is read is the regular file checked."""
    where = str(path)
    try:
        mode = os.stat(path).st_mode
    except OSError as error:
        raise _unreadable(where, error) from None
    _refuse_unless_regular(where, mode)
    try:
        descriptor = os.open(path, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_CLOEXEC", 0))
    except OSError as error:
        raise _unreadable(where, error) from None
    try:
        _refuse_unless_regular(where, os.fstat(descriptor).st_mode)
        os.set_blocking(descriptor, True)
        return os.fdopen(descriptor, "rb")
    except BaseException:
        os.close(descriptor)
        raise


def _unreadable(where: str, error: OSError) -> DocumentError:
    """Why the file at ``where`` could not be looked at, opened or read."""
    if isinstance(error, FileNotFoundError):
        return DocumentError(where, "no such file")
    return DocumentError(where, f"cannot be read ({error.strerror})")


def _refuse_unless_regular(where: str, mode: int) -> None:
    if stat.S_ISDIR(mode):
        raise DocumentError(where, "is a directory, not a file")
    if not stat.S_ISREG(mode):
        raise DocumentError(where, "is not a regular file (a device, a pipe or a socket): refused")


def read_bytes(path: Path, limit: int = MAX_DOCUMENT_BYTES) -> bytes:
    """The bytes of a regular file of at most ``limit`` bytes (see :func:`open_regular`)."""
    try:
        with open_regular(path) as handle:
            data = handle.read(limit + 1)
    except OSError as error:
        raise _unreadable(str(path), error) from None
    if len(data) > limit:
        raise DocumentError(str(path), f"larger than {limit:,} bytes: refused")
    return data


def decode(data: bytes, where: str) -> str:
    """UTF-8 text, or a :class:`DocumentError` naming the first byte that is not."""
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as error:
        raise DocumentError(where, f"not UTF-8 text (byte {error.start})") from None


#: The longest line of a JSON Lines file: one person's record.
MAX_LINE_BYTES = 1024 * 1024


@dataclass(frozen=True, slots=True)
class JsonLine:
    """One line of a JSON Lines file that is not blank: its number (1-based) and its value, or
    the problem that stops it being read (then ``data`` is ``None``; so is the value of a line
    ``null``, which has no problem here)."""

    number: int
    data: Any
    problems: tuple[Problem, ...] = ()


def json_lines(
    handle: BinaryIO, name: str, *, start: int = 0, end: int | None = None, first_number: int = 1
) -> Iterator[JsonLine]:
    """Each line of a JSON Lines file that is not blank, read strictly (:func:`parse_json`).

    Only a line feed ends a line (a carriage return inside a record is part of it); a line is
    decoded and parsed on its own and is at most :data:`MAX_LINE_BYTES` long (a longer one is
    refused, and skipped without being held). Whatever a line holds, it yields one value or one
    problem. With ``start`` and ``end``, only the lines that begin in those bytes of the file
    are read, numbered from ``first_number``: workers reading the blocks of one file between
    them read every line once (see :func:`count_json_lines`)."""
    for number, line in numbered_lines(handle, start, end, first_number):
        where = f"{name}:{number}"
        if line is None:
            yield too_long_line(name, number)
            continue
        if not line.strip():
            continue
        try:
            yield JsonLine(number, parse_json(decode(line, where), name, number))
        except DocumentError as error:
            yield JsonLine(number, None, (error.problem,))


def count_json_lines(handle: BinaryIO, *, start: int = 0, end: int | None = None) -> tuple[int, int]:
    """The lines that begin in bytes ``start`` to ``end`` of a JSON Lines file, and how many of
    them :func:`json_lines` yields (those that are not blank): where the next block's numbers
    start. Nothing is parsed."""
    lines = records = 0
    for _, line in numbered_lines(handle, start, end, 1):
        lines += 1
        if line is None or line.strip():
            records += 1
    return lines, records


def too_long_line(name: str, number: int) -> JsonLine:
    """What :func:`json_lines` gives for line ``number`` of ``name`` when it is longer than
    :data:`MAX_LINE_BYTES`: no value, and the problem that says so, at the line."""
    refused = Problem(f"{name}:{number}", f"the line is longer than {MAX_LINE_BYTES:,} bytes: refused")
    return JsonLine(number, None, (refused,))


def numbered_lines(
    handle: BinaryIO, start: int, end: int | None, number: int
) -> Iterator[tuple[int, bytes | None]]:
    """Each line that begins in bytes ``start..end`` (``None`` for one longer than
    :data:`MAX_LINE_BYTES`, skipped unread), numbered from ``number``, with its line feed:
    the lines :func:`json_lines` reads."""
    if start > 0:
        handle.seek(start - 1)
        if handle.read(1) != b"\n":  # in a line that began before: the block before reads it
            rest = handle.readline(MAX_LINE_BYTES)
            while rest and not rest.endswith(b"\n"):
                rest = handle.readline(MAX_LINE_BYTES)
    while end is None or handle.tell() < end:
        line = handle.readline(MAX_LINE_BYTES + 1)
        if not line:
            return
        if len(line) > MAX_LINE_BYTES and not line.endswith(b"\n"):
            while line and not line.endswith(b"\n"):  # skip the rest of the line, unread
                line = handle.readline(MAX_LINE_BYTES)
            yield number, None
        else:
            yield number, line
        number += 1


def read_text(path: Path, limit: int = MAX_DOCUMENT_BYTES) -> str:
    """The UTF-8 text of a regular file of at most ``limit`` bytes (:func:`read_bytes`,
    :func:`decode`), its problems placed at the file."""
    return decode(read_bytes(path, limit), str(path))


def read_document(path: Path, limit: int = MAX_DOCUMENT_BYTES, *, as_json: bool | None = None) -> Document:
    """Read a ``.json``, ``.yaml`` or ``.yml`` file of at most ``limit`` bytes. JSON is read
    strictly as JSON (one parser for the check and the data); YAML as plain data. ``as_json``
    says which, whatever the file's name (``None``: by its name, ``.json`` being JSON)."""
    text = read_text(path, limit)
    if as_json is None:
        as_json = path.suffix.lower() == ".json"
    if as_json:
        return parse_json_document(text, str(path))
    return parse_document(text, str(path))


def validation_problems(error: ValidationError, document: Document, prefix: PathKey = ()) -> list[Problem]:
    """Pydantic's errors, each placed at its file, line and path in ``document``."""
    return [
        Problem(document.where((*prefix, *loc)), message, loc) for loc, message in located_messages(error)
    ]


def located_messages(error: ValidationError) -> list[tuple[PathKey, str]]:
    """Pydantic's errors as (clean path, plain message) pairs, input values left out."""
    found = []
    for item in error.errors(include_url=False, include_context=False, include_input=False):
        message = item["msg"]
        if item["type"] == "extra_forbidden":
            message = "unknown field"
        elif message.startswith("Value error, "):
            message = message[len("Value error, ") :]
        found.append((_clean_loc(item["loc"]), message))
    return found


def _clean_loc(loc: tuple[Any, ...]) -> PathKey:
    """Drop pydantic's markers from a location: validator names (``function-after[...]``) and
    the tag of a condition (``all``/``any``/``not``/``fact``) that precedes its own fields."""
    tags = {"all", "any", "not", "fact"}
    clean: list[str | int] = []
    for index, part in enumerate(loc):
        if isinstance(part, str) and "[" in part:
            continue
        following = loc[index + 1] if index + 1 < len(loc) else None
        if part in tags and isinstance(following, str) and (part == "fact" or following == part):
            continue
        clean.append(part)
    return tuple(clean)
