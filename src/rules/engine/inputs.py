"""Reading a person record against a policy: the core fields, and each programme's section.

The core of a record (``person_id``, ``citizenship``, ``statuses``, ``trips``, ``crossings``)
is :class:`models.Person`. Each programme that takes inputs adds a section of its own
(``residence_application``), whose fields the policy declares; it is validated here against
the policy in force, with every problem at its path (``residence_application.language_test.
reading_pct``). A field left out, or given as ``null``, is *unknown*: the rules that need it
decide ``undetermined`` and name it. Any other top-level field is refused.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping
from decimal import Decimal, InvalidOperation
from typing import Any

from pydantic import ValidationError

from models._fields import parse_day
from models.person import CORE_FIELDS, Person
from models.policy import InputField, Programme, TableValues
from rules.engine.computation import Entry
from rules.errors import InputError, Problem, did_you_mean
from rules.policy.documents import format_path, located_messages
from rules.policy.loaded import Policy

__all__ = ["parse_person", "read_person", "read_sections"]

_LARGEST = 10**15  # numbers beyond this are refused: no input of the law is that large

Path = tuple[str | int, ...]


def parse_person(person: Person | Mapping[str, Any], policy: Policy) -> Person:
    """Validate a person (model or plain dict), its status kinds and its programme sections.

    Raises :class:`InputError` listing every problem with its path (``trips[2].exit``).
    """
    return read_person(person, policy)[0]


def read_person(
    person: Person | Mapping[str, Any], policy: Policy
) -> tuple[Person, dict[str, dict[str, Any]]]:
    """The validated person and its programme sections as typed values (see :func:`parse_person`)."""
    # A plain dict, the usual input, is known without the abstract classes' checks (a model's
    # class and Mapping each check in Python); it is read as it is (validation copies nothing
    # of it back, so it needs no copy of its own).
    plain = type(person) is dict
    if plain or (not isinstance(person, Person) and isinstance(person, Mapping)):
        try:
            record = Person.model_validate(person if plain else dict(person))
        except ValidationError as error:
            undeclared = [key for key in person if key not in CORE_FIELDS and key not in _records(policy)]
            raise InputError(
                "the person record is not valid",
                [
                    *_person_problems(error),
                    *(Problem(str(key), "unknown field", (str(key),)) for key in undeclared),
                ],
            ) from None
    elif isinstance(person, Person):
        record = person
    else:
        raise InputError(f"a person is a mapping or a models.Person, not {type(person).__name__}")
    problems = (
        []
        if not record.statuses
        else [
            Problem(
                f"statuses[{index}].kind",
                f"unknown status kind {status.kind!r}{did_you_mean(status.kind, policy.status_kinds)}; "
                f"policy {policy.name} knows: {', '.join(sorted(policy.status_kinds))}",
                ("statuses", index, "kind"),
            )
            for index, status in enumerate(record.statuses)
            if status.kind not in policy.status_kinds
        ]
    )
    sections, section_problems = _sections(record, policy)
    problems.extend(section_problems)
    if problems:
        raise InputError("the person record is not valid", problems)
    return record, sections


def read_sections(person: Person, policy: Policy) -> dict[str, dict[str, Any]]:
    """The programme sections of a record parsed by :func:`parse_person`, as typed values."""
    sections, problems = _sections(person, policy)
    if problems:
        raise InputError("the person record is not valid", problems)
    return sections


def _sections(person: Person, policy: Policy) -> tuple[dict[str, dict[str, Any]], list[Problem]]:
    extra = person.__pydantic_extra__  # what model_extra gives, without the property's call
    if not extra:
        return {}, []
    declared = _records(policy)
    sections: dict[str, dict[str, Any]] = {}
    problems: list[Problem] = []
    readers = _readers(policy)
    for key, value in extra.items():
        programme = declared.get(key)
        if programme is None:
            problems.append(Problem(key, "unknown field", (key,)))
            continue
        if value is None:
            continue
        # A section read as it usually is, valid: in one pass without paths or messages; any
        # other is read again the full way, which names every problem at its path.
        quick = readers[key](value, key)
        if quick is not _REREAD:
            sections[key] = quick
            continue
        parsed = _record(value, programme.inputs, (key,), policy, problems)
        if parsed is not None:
            sections[key] = parsed
    return sections, problems


class _Reread:
    """What a quick reader gives for a value it does not take as it is (see :func:`_reader`)."""


_REREAD: Any = _Reread()

#: A quick reader: a value, as the full reading gives it for a valid value, or :data:`_REREAD`.
#: It is given the value and the path of its place as text (``social_contract.support``).
_Quick = Callable[[Any, str], Any]


def _readers(policy: Policy) -> dict[str, _Quick]:
    """The quick reader of each programme section of ``policy``, made once per policy."""
    return _kept(policy)[2]


def _reader(spec: InputField, policy: Policy) -> _Quick:
    """A reader of the values of ``spec`` that gives what :func:`_value` gives for each value it
    accepts without a problem, and :data:`_REREAD` for a value it may refuse or read otherwise
    (a float for a whole number, a subclass of text): that value is then read by :func:`_value`."""
    kind = spec.type
    if kind == "date":
        return _date_reader
    if kind == "boolean":
        return _boolean_reader
    if kind == "integer":
        return _integer_reader(spec)
    if kind == "decimal":
        return _decimal_reader(spec)
    if kind == "string":
        return _string_reader(spec, policy)
    if kind == "record":
        return _record_reader(spec.fields or {}, policy)
    return _list_reader(spec, policy)


def _date_reader(raw: Any, path: str) -> Any:
    try:
        return parse_day(raw)
    except ValueError:
        return _REREAD


def _boolean_reader(raw: Any, path: str) -> Any:
    return raw if raw.__class__ is bool else _REREAD


def _bounds(spec: InputField) -> tuple[Decimal | None, Decimal | None]:
    """The bounds of a number as :func:`_number` compares with them."""
    return (
        Decimal(str(spec.minimum)) if spec.minimum is not None else None,
        Decimal(str(spec.maximum)) if spec.maximum is not None else None,
    )


def _integer_reader(spec: InputField) -> _Quick:
    low, high = _bounds(spec)

    def read(raw: Any, path: str) -> Any:
        if (
            raw.__class__ is int
            and -_LARGEST <= raw <= _LARGEST
            and (low is None or raw >= low)
            and (high is None or raw <= high)
        ):
            return raw
        return _REREAD

    return read


def _decimal_reader(spec: InputField) -> _Quick:
    low, high = _bounds(spec)

    def read(raw: Any, path: str) -> Any:
        kind = raw.__class__
        if kind is not int and kind is not float and kind is not str:
            return _REREAD
        text = str(raw)
        if len(text) > 40:
            return _REREAD
        try:
            value = Decimal(text)
        except InvalidOperation:
            return _REREAD
        if (
            not value.is_finite()
            or abs(value) > _LARGEST
            or (low is not None and value < low)
            or (high is not None and value > high)
        ):
            return _REREAD
        return value

    return read


def _string_reader(spec: InputField, policy: Policy) -> _Quick:
    longest = spec.max_length
    allowed: Any = spec.values
    if isinstance(allowed, TableValues):
        table = policy.tables.get(allowed.table)
        if table is None:
            return lambda raw, path: _REREAD  # the full reading says what is wrong
        allowed = table.rows
    elif allowed is not None:
        allowed = frozenset(allowed)

    def read(raw: Any, path: str) -> Any:
        if raw.__class__ is str and len(raw) <= longest and (allowed is None or raw in allowed):
            return raw
        return _REREAD

    return read


def _record_reader(fields: Mapping[str, InputField], policy: Policy) -> _Quick:
    # Each field's reader, and whether it is given its place (lists name their items by it).
    readers = tuple(
        (name, _reader(spec, policy), spec.type in ("record", "list")) for name, spec in fields.items()
    )

    def read(data: Any, path: str) -> Any:
        if data.__class__ is not dict or not fields.keys() >= data.keys():
            return _REREAD  # not a mapping, or an unknown field
        values: dict[str, Any] = {}
        for name, reader, placed in readers:
            raw = data.get(name)
            if raw is None:
                continue
            value = reader(raw, f"{path}.{name}" if placed else path)
            if value is _REREAD:
                return _REREAD
            values[name] = value
        return values

    return read


def _list_reader(spec: InputField, policy: Policy) -> _Quick:
    item_reader = _record_reader(spec.fields or {}, policy)
    most, unique = spec.max_items, spec.unique

    def read(raw: Any, path: str) -> Any:
        if raw.__class__ is not list or len(raw) > most:
            return _REREAD
        entries = []
        seen: set[Any] = set()
        for index, item in enumerate(raw):
            place = f"{path}[{index}]"
            fields = item_reader(item, place)
            if fields is _REREAD:
                return _REREAD
            if unique is not None:
                key = fields.get(unique)
                if key is not None:
                    if key in seen:
                        return _REREAD  # given twice: the full reading says where
                    seen.add(key)
            entries.append(Entry(fields, place))
        return tuple(entries)

    return read


#: Per policy read lately, by identity (a policy is immutable), the record key of each programme
#: that takes inputs and the quick reader of its section: a record with sections asks them
#: every time. Emptied when full.
_RECORDS: dict[int, tuple[Policy, dict[str, Programme], dict[str, _Quick]]] = {}
_RECORDS_KEPT = 16


def _records(policy: Policy) -> dict[str, Programme]:
    """The record key of each programme that takes inputs (do not change what it gives)."""
    return _kept(policy)[1]


def _kept(policy: Policy) -> tuple[Policy, dict[str, Programme], dict[str, _Quick]]:
    """What :data:`_RECORDS` keeps of ``policy``, made on first use."""
    kept = _RECORDS.get(id(policy))
    if kept is not None and kept[0] is policy:
        return kept
    found = {
        programme.record: programme
        for programme in policy.programmes.values()
        if programme.record is not None
    }
    readers = {key: _record_reader(programme.inputs, policy) for key, programme in found.items()}
    if len(_RECORDS) >= _RECORDS_KEPT:
        _RECORDS.clear()
    kept = _RECORDS[id(policy)] = (policy, found, readers)
    return kept


def _problem(path: Path, message: str, problems: list[Problem]) -> None:
    problems.append(Problem(format_path(path), message, path))


def _record(
    data: Any, fields: Mapping[str, InputField], path: Path, policy: Policy, problems: list[Problem]
) -> dict[str, Any] | None:
    if not isinstance(data, Mapping):
        _problem(path, "expected a mapping of fields", problems)
        return None
    values: dict[str, Any] = {}
    for name in data:
        if name not in fields:
            hint = did_you_mean(str(name), fields)
            _problem((*path, str(name)), f"unknown field{hint}", problems)
    for name, spec in fields.items():
        raw = data.get(name)
        if raw is None:
            continue
        value = _value(raw, spec, (*path, name), policy, problems)
        if value is not None:
            values[name] = value
    return values


def _value(raw: Any, spec: InputField, path: Path, policy: Policy, problems: list[Problem]) -> Any:
    kind = spec.type
    if kind == "date":
        try:
            return parse_day(raw)
        except ValueError as error:
            _problem(path, str(error), problems)
            return None
    if kind == "boolean":
        if isinstance(raw, bool):
            return raw
        _problem(path, "expected true or false", problems)
        return None
    if kind in ("integer", "decimal"):
        return _number(raw, spec, path, problems)
    if kind == "string":
        return _string(raw, spec, path, policy, problems)
    if kind == "record":
        return _record(raw, spec.fields or {}, path, policy, problems)
    return _list(raw, spec, path, policy, problems)


def _number(raw: Any, spec: InputField, path: Path, problems: list[Problem]) -> int | Decimal | None:
    if isinstance(raw, bool) or not isinstance(raw, int | float | str):
        _problem(path, f"expected {'a whole number' if spec.type == 'integer' else 'a number'}", problems)
        return None
    value: int | Decimal
    if spec.type == "integer":
        if isinstance(raw, float) and raw.is_integer():
            raw = int(raw)
        if not isinstance(raw, int):
            _problem(path, "expected a whole number", problems)
            return None
        if abs(raw) > _LARGEST:
            _problem(path, f"the number is larger than {_LARGEST:,}", problems)
            return None
        value = raw
    else:
        if isinstance(raw, float) and not math.isfinite(raw):
            _problem(path, "expected a finite number", problems)
            return None
        try:
            value = Decimal(str(raw)) if len(str(raw)) <= 40 else Decimal("NaN")
        except InvalidOperation:
            value = Decimal("NaN")
        if not value.is_finite() or abs(value) > _LARGEST:
            _problem(path, "expected a number (at most 40 characters, not larger than 10^15)", problems)
            return None
    if spec.minimum is not None and value < Decimal(str(spec.minimum)):
        _problem(path, f"{value} is below the minimum {spec.minimum}", problems)
        return None
    if spec.maximum is not None and value > Decimal(str(spec.maximum)):
        _problem(path, f"{value} is above the maximum {spec.maximum}", problems)
        return None
    return value


def _string(raw: Any, spec: InputField, path: Path, policy: Policy, problems: list[Problem]) -> str | None:
    if not isinstance(raw, str):
        _problem(path, "expected a string", problems)
        return None
    if len(raw) > spec.max_length:
        _problem(path, f"longer than {spec.max_length} characters", problems)
        return None
    allowed: Any = spec.values
    if isinstance(allowed, TableValues):
        table = policy.tables.get(allowed.table)
        if table is None or raw in table.rows:  # a key of the table: the usual case, no list made
            return raw
        allowed = list(table.rows)
    if allowed is not None and raw not in allowed:
        shown = ", ".join(sorted(allowed)) if len(allowed) <= 25 else f"{len(allowed)} codes of the policy"
        _problem(path, f"{_cut(raw)!r} is not one of {shown}{did_you_mean(raw, allowed)}", problems)
        return None
    return raw


def _cut(text: str, limit: int = 40) -> str:
    return text if len(text) <= limit else text[:limit] + "..."


def _list(
    raw: Any, spec: InputField, path: Path, policy: Policy, problems: list[Problem]
) -> tuple[Entry, ...] | None:
    if not isinstance(raw, list):
        _problem(path, "expected a list", problems)
        return None
    if len(raw) > spec.max_items:
        _problem(path, f"more than {spec.max_items} items", problems)
        return None
    entries = []
    seen: dict[Any, int] = {}
    before = len(problems)
    for index, item in enumerate(raw):
        fields = _record(item, spec.fields or {}, (*path, index), policy, problems)
        if fields is None:
            continue
        if spec.unique is not None and fields.get(spec.unique) is not None:
            key = fields[spec.unique]
            if key in seen:
                _problem(
                    (*path, index, spec.unique),
                    f"{_cut(str(key))!r} is given twice (also in item {seen[key]})",
                    problems,
                )
            seen.setdefault(key, index)
        entries.append(Entry(fields, format_path((*path, index))))
    return tuple(entries) if len(problems) == before else None


def _person_problems(error: ValidationError) -> list[Problem]:
    return [Problem(format_path(loc) or "person", message, loc) for loc, message in located_messages(error)]
