"""Reading YAML and JSON documents safely, keeping the line of every value.

Policy files are written by analysts and person files come from other systems, so both are
read as plain data only: YAML tags (``!!python/object`` and the like) are refused, and every
value keeps its line number so that an error can say where it is.
"""

from __future__ import annotations

import datetime as dt
import json
import stat
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from pydantic import ValidationError
from ruamel.yaml import YAML
from ruamel.yaml.comments import CommentedMap, CommentedSeq
from ruamel.yaml.constructor import RoundTripConstructor
from ruamel.yaml.error import MarkedYAMLError, YAMLError

from rules.errors import Problem

__all__ = [
    "MAX_DEPTH",
    "MAX_DOCUMENT_BYTES",
    "MAX_VALUES",
    "cut",
    "decode",
    "nesting_depth",
    "parse_json",
    "parse_json_document",
    "read_bytes",
    "Document",
    "DocumentError",
    "format_path",
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

    def line_of(self, path: Iterable[str | int]) -> int | None:
        """The line of the deepest known node along ``path``."""
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

    def spend(self, path: PathKey) -> None:
        self.left -= 1
        if self.left < 0:
            raise UnsafeDocument(
                f"the document expands to more than {MAX_VALUES:,} values (YAML aliases repeating "
                f"values?), at {format_path(path) or 'top level'}"
            )
        if len(path) > MAX_DEPTH:
            raise UnsafeDocument(f"nested more than {MAX_DEPTH} levels deep, at {format_path(path)}")


def _plain(node: Any, path: PathKey, lines: dict[PathKey, int], name: str, budget: _Budget) -> Any:
    """Turn ruamel's round-trip nodes into dicts/lists/scalars and record their lines."""
    budget.spend(path)
    tag = getattr(node, "tag", None)
    tag_value = getattr(tag, "value", tag) if tag is not None else None
    if isinstance(tag_value, str):
        # Any explicit tag: '!include', and '!!python/...' which ruamel expands to
        # 'tag:yaml.org,2002:python/...'. Plain data never needs one.
        shown = tag_value.replace("tag:yaml.org,2002:", "!!")
        raise UnsafeDocument(f"YAML tag {shown!r} at {format_path(path) or 'top level'}")
    if isinstance(node, CommentedMap):
        result: dict[str, Any] = {}
        for key, value in node.items():
            if not isinstance(key, str | int | bool | dt.date):
                raise UnsafeDocument(f"a key at {format_path(path) or 'top level'} is not plain")
            text_key = str(key)
            child = (*path, text_key)
            try:
                lines[child] = node.lc.key(key)[0] + 1
            except (KeyError, TypeError, AttributeError):
                pass
            result[text_key] = _plain(value, child, lines, name, budget)
        return result
    if isinstance(node, CommentedSeq):
        items = []
        for index, value in enumerate(node):
            child = (*path, index)
            try:
                lines[child] = node.lc.item(index)[0] + 1
            except (KeyError, TypeError, AttributeError, IndexError):
                pass
            items.append(_plain(value, child, lines, name, budget))
        return items
    if node is None or isinstance(node, bool | int | float):
        return node
    if isinstance(node, dt.datetime):
        return node
    if isinstance(node, dt.date):
        return dt.date(node.year, node.month, node.day)
    if isinstance(node, str):
        return str(node).rstrip("\n")  # a folded block (>) ends in a newline nobody wrote
    raise UnsafeDocument(
        f"value of type {type(node).__name__} at {format_path(path) or 'top level'} is not plain data"
    )


class _PlainDates(RoundTripConstructor):
    """ruamel's constructor, except that a date that does not exist (``2024-02-30``) stays
    text instead of raising a bare ``ValueError`` mid-parse: validation then reports it at
    its line and path, like any other bad value."""

    def construct_yaml_timestamp(self, node: Any, values: Any = None) -> Any:
        try:
            return super().construct_yaml_timestamp(node, values)
        except (ValueError, OverflowError):
            return str(node.value)


_PlainDates.add_constructor("tag:yaml.org,2002:timestamp", _PlainDates.construct_yaml_timestamp)


def _yaml_tree(text: str, name: str) -> Any:
    yaml = YAML(typ="rt", pure=True)
    yaml.Constructor = _PlainDates
    yaml.allow_duplicate_keys = False
    if nesting_depth(text) > MAX_DEPTH:
        raise DocumentError(name, f"refused: nested more than {MAX_DEPTH} levels deep")
    try:
        return yaml.load(text)
    except MarkedYAMLError as error:
        mark = error.problem_mark
        where = f"{name}:{mark.line + 1}" if mark is not None else name
        raise DocumentError(where, f"not valid YAML/JSON: {cut(str(error.problem or error))}") from None
    except YAMLError as error:
        raise DocumentError(name, f"not valid YAML/JSON: {cut(str(error))}") from None
    except RecursionError:
        raise DocumentError(name, f"refused: nested more than {MAX_DEPTH} levels deep") from None


def parse_document(text: str, name: str) -> Document:
    """Parse YAML into plain data with lines. Raises :class:`DocumentError` with a place.

    The cost is bounded: at most :data:`MAX_VALUES` values after aliases are followed, nested
    at most :data:`MAX_DEPTH` levels; tags and anything but plain data are refused."""
    tree = _yaml_tree(text, name)
    lines: dict[PathKey, int] = {(): 1}
    try:
        data = _plain(tree, (), lines, name, _Budget(MAX_VALUES))
    except UnsafeDocument as error:
        raise DocumentError(name, f"refused: {error}; only plain data is allowed") from None
    return Document(name=name, data=data, lines=lines)


def _no_constants(token: str) -> Any:
    raise ValueError(f"{token} is not a JSON number")


def _no_duplicates(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    found: dict[str, Any] = {}
    for key, value in pairs:
        if key in found:
            raise ValueError(f"the key {cut(key, 60)!r} is given twice")
        found[key] = value
    return found


def parse_json(text: str, name: str, first_line: int = 1) -> Any:
    """Strict JSON: no ``NaN`` or ``Infinity``, no key given twice, nested at most
    :data:`MAX_DEPTH` levels, numbers of at most 4,300 digits. Raises :class:`DocumentError`."""
    if nesting_depth(text) > MAX_DEPTH:
        raise DocumentError(f"{name}:{first_line}", f"refused: nested more than {MAX_DEPTH} levels deep")
    try:
        return json.loads(text, parse_constant=_no_constants, object_pairs_hook=_no_duplicates)
    except json.JSONDecodeError as error:
        where = f"{name}:{first_line + error.lineno - 1}"
        raise DocumentError(where, f"not valid JSON: {error.msg} (column {error.colno})") from None
    except (ValueError, RecursionError) as error:
        raise DocumentError(f"{name}:{first_line}", f"not valid JSON: {cut(str(error))}") from None


def parse_json_document(text: str, name: str) -> Document:
    """A JSON file: its data read strictly as JSON (:func:`parse_json`), the line of each value
    found as YAML reads it (best effort: no line is no harm)."""
    data = parse_json(text, name)
    lines: dict[PathKey, int] = {(): 1}
    try:
        _plain(_yaml_tree(text, name), (), lines, name, _Budget(MAX_VALUES))
    except (DocumentError, UnsafeDocument):
        pass
    return Document(name=name, data=data, lines=lines)


def nesting_depth(text: str) -> int:
    """The deepest nesting of brackets in JSON or flow YAML text, strings left out (a cheap
    check before a parser recurses)."""
    depth = deepest = 0
    quote = ""
    escaped = False
    for char in text:
        if quote:
            if escaped:
                escaped = False
            elif char == "\\" and quote == '"':
                escaped = True
            elif char == quote:
                quote = ""
        elif char in "\"'":
            quote = char
        elif char in "[{":
            depth += 1
            deepest = max(deepest, depth)
        elif char in "]}":
            depth = max(0, depth - 1)
    return deepest


def cut(text: str, limit: int = 200) -> str:
    """``text`` cut to ``limit`` characters, so an error never repeats a huge input in full."""
    return text if len(text) <= limit else text[:limit] + f"... ({len(text):,} characters)"


def read_bytes(path: Path, limit: int = MAX_DOCUMENT_BYTES) -> bytes:
    """The bytes of a regular file of at most ``limit`` bytes. A device, a pipe or a socket is
    refused before it is opened for reading (``/dev/zero`` never ends, a FIFO may never start)."""
    try:
        mode = path.stat().st_mode
    except FileNotFoundError:
        raise DocumentError(str(path), "no such file") from None
    except OSError as error:
        raise DocumentError(str(path), f"cannot be read ({error.strerror})") from None
    if stat.S_ISDIR(mode):
        raise DocumentError(str(path), "is a directory, not a file")
    if not stat.S_ISREG(mode):
        raise DocumentError(str(path), "is not a regular file (a device, a pipe or a socket): refused")
    try:
        with path.open("rb") as handle:
            data = handle.read(limit + 1)
    except OSError as error:
        raise DocumentError(str(path), f"cannot be read ({error.strerror})") from None
    if len(data) > limit:
        raise DocumentError(str(path), f"larger than {limit:,} bytes: refused")
    return data


def decode(data: bytes, where: str) -> str:
    """UTF-8 text, or a :class:`DocumentError` naming the first byte that is not."""
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as error:
        raise DocumentError(where, f"not UTF-8 text (byte {error.start})") from None


def read_document(path: Path, limit: int = MAX_DOCUMENT_BYTES) -> Document:
    """Read a ``.json``, ``.yaml`` or ``.yml`` file of at most ``limit`` bytes. JSON is read
    strictly as JSON (one parser for the check and the data); YAML as plain data."""
    text = decode(read_bytes(path, limit), str(path))
    if path.suffix.lower() == ".json":
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
