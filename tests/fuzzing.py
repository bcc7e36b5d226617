"""Fuzzing kzmig's inputs: strategies for hostile records, batches and policy files, and the
checks every answer must pass whatever the input.

Used by ``tests/test_fuzz.py`` (a few hundred inputs, in the suite) and by
``scripts/fuzz.py`` (as many as asked, with timings and memory). The promise checked:

- a record gives a verdict valid under the verdict schema, or a :class:`rules.KzmigError` whose
  message is bounded -- never another exception;
- a batch file, whatever the bytes of its lines, gives exactly one result or one error record
  per non-blank line, in order, and an exit code of the documented set;
- a policy file, however broken, loads or gives a :class:`rules.PolicyError` whose every
  problem names its place; a policy that loads evaluates a person or refuses with a KzmigError.

Records are drawn from the person schema the engine writes (so most of them reach the rules,
not just the reader), then damaged: a field replaced by any JSON value, dates at the ends of
the calendar, offsets of +14:00, huge numbers, odd text.
"""

from __future__ import annotations

import datetime as dt
import json
import string
from pathlib import Path
from typing import Any

import jsonschema
from hypothesis import strategies as st

import rules

__all__ = [
    "ROOT",
    "MAX_MESSAGE",
    "any_json",
    "batch_lines",
    "check_batch",
    "check_policy_text",
    "check_record",
    "dates",
    "hostile_records",
    "policy_texts",
]

ROOT = Path(__file__).resolve().parents[1]
#: The longest error text an input may provoke (messages are cut; many problems are listed).
MAX_MESSAGE = 100_000
#: Exit codes of ``kzmig check`` on a batch: all read, some records refused, some undecided.
BATCH_EXITS = {0, 1, 4}

_SCHEMA = rules.schema("person")
_POLICY = rules.load_policy()


# --- values -----------------------------------------------------------------------------------

_odd_text = st.one_of(
    st.text(max_size=12),
    st.sampled_from(["", " ", "\r", "\u2028", "\x00", "NaN", "-1", "0001-01-01", "9999-12-31", "localtime"]),
    st.text(alphabet=string.digits + "-T:+Z", max_size=25),
)

_any_scalar = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(),
    st.integers(min_value=-(10**40), max_value=10**40),
    st.floats(allow_nan=False, allow_infinity=False),
    _odd_text,
)

#: Any JSON value, small.
any_json: st.SearchStrategy[Any] = st.recursive(
    _any_scalar,
    lambda inner: st.one_of(
        st.lists(inner, max_size=4), st.dictionaries(st.text(max_size=8), inner, max_size=4)
    ),
    max_leaves=12,
)

#: Days across the whole calendar, weighted to the years the law speaks of.
dates = st.one_of(
    st.dates(min_value=dt.date(2022, 6, 1), max_value=dt.date(2031, 12, 31)),
    st.dates(),
)


def _date_text() -> st.SearchStrategy[str]:
    return dates.map(dt.date.isoformat)


def _datetime_text() -> st.SearchStrategy[str]:
    offsets = st.sampled_from(["+14:00", "-12:00", "+05:00", "+06:00", "Z", "+00:00"])
    times = st.times().map(lambda t: t.replace(microsecond=0).isoformat())
    return st.builds(lambda d, t, o: f"{d}T{t}{o}", _date_text(), times, offsets)


# --- schema-driven records ----------------------------------------------------------------------


def _types(schema: dict[str, Any]) -> list[str]:
    kind = schema.get("type")
    if isinstance(kind, list):
        return kind
    return [kind] if isinstance(kind, str) else []


def from_schema(schema: dict[str, Any], defs: dict[str, Any], depth: int = 0) -> st.SearchStrategy[Any]:
    """Values valid under the subset of JSON Schema kzmig writes (types, enum, const, $ref,
    anyOf, properties, items, bounds, date formats), with lists kept short."""
    if "$ref" in schema:
        return from_schema(defs[schema["$ref"].rsplit("/", 1)[-1]], defs, depth)
    if "const" in schema:
        return st.just(schema["const"])
    if "enum" in schema:
        return st.sampled_from(schema["enum"])
    if "anyOf" in schema:
        return st.one_of([from_schema(option, defs, depth) for option in schema["anyOf"]])
    options: list[st.SearchStrategy[Any]] = []
    for kind in _types(schema) or ["null"]:
        if kind == "null":
            options.append(st.none())
        elif kind == "boolean":
            options.append(st.booleans())
        elif kind == "integer":
            low, high = schema.get("minimum"), schema.get("maximum")
            options.append(st.integers(min_value=low, max_value=high))
        elif kind == "number":
            options.append(st.floats(min_value=schema.get("minimum"), max_value=schema.get("maximum")))
        elif kind == "string":
            if schema.get("format") == "date":
                options.append(_date_text())
            elif schema.get("format") == "date-time":
                options.append(_datetime_text())
            else:
                options.append(st.text(min_size=schema.get("minLength", 0), max_size=12))
        elif kind == "array":
            items = from_schema(schema.get("items", {}), defs, depth + 1)
            options.append(st.lists(items, max_size=min(schema.get("maxItems", 6), 6)))
        elif kind == "object":
            options.append(_object(schema, defs, depth))
    return st.one_of(options)


def _object(schema: dict[str, Any], defs: dict[str, Any], depth: int) -> st.SearchStrategy[dict[str, Any]]:
    properties = schema.get("properties", {})
    required = set(schema.get("required", ()))
    return st.fixed_dictionaries(
        {name: from_schema(value, defs, depth + 1) for name, value in properties.items() if name in required},
        optional={
            name: from_schema(value, defs, depth + 1)
            for name, value in properties.items()
            if name not in required
        },
    )


def _damaged(record: dict[str, Any], data: st.DataObject) -> dict[str, Any]:
    """``record`` with up to three values, anywhere in it, replaced by any JSON value."""
    for _ in range(data.draw(st.integers(min_value=0, max_value=3))):
        node: Any = record
        for _depth in range(4):
            if isinstance(node, dict) and node:
                key = data.draw(st.sampled_from(sorted(node, key=str)))
                if data.draw(st.booleans()) or not isinstance(node[key], dict | list):
                    node[key] = data.draw(any_json)
                    break
                node = node[key]
            elif isinstance(node, list) and node:
                index = data.draw(st.integers(min_value=0, max_value=len(node) - 1))
                if data.draw(st.booleans()) or not isinstance(node[index], dict | list):
                    node[index] = data.draw(any_json)
                    break
                node = node[index]
            else:
                break
    return record


@st.composite
def hostile_records(draw: st.DrawFn) -> Any:
    """A person record: valid under the schema, damaged, or any JSON value at all."""
    choice = draw(st.integers(min_value=0, max_value=9))
    if choice == 0:
        return draw(any_json)
    record = draw(from_schema(_SCHEMA, _SCHEMA["$defs"]))
    if choice <= 4:
        return record
    return _damaged(record, draw(st.data()))


# --- batches ----------------------------------------------------------------------------------


def _line(value: Any) -> bytes:
    return json.dumps(value, ensure_ascii=False).encode("utf-8", "surrogatepass")


batch_lines: st.SearchStrategy[list[bytes]] = st.lists(
    st.one_of(
        hostile_records().map(_line),
        st.binary(max_size=60).map(lambda raw: raw.replace(b"\n", b" ")),
        st.sampled_from(
            [b"", b"   ", b"\r", b"{", b"[]", b"null", b'{"person_id": "A"}\r', b"\xef\xbb\xbf{}"]
        ),
        st.integers(min_value=1, max_value=300).map(lambda n: b"[" * n + b"]" * n),
    ),
    min_size=1,
    max_size=8,
)


def check_batch(path: Path, lines: list[bytes]) -> str:
    """Run ``kzmig check`` on the JSON Lines file of ``lines``; assert one output per record.
    Returns the exit code, for the large run's tally."""
    from typer.testing import CliRunner

    from rules.cli import app

    path.write_bytes(b"\n".join(lines) + b"\n")
    result = CliRunner().invoke(app, ["check", str(path), "--on", "2026-06-01", "--format", "json"])
    assert result.exit_code in BATCH_EXITS, (result.exit_code, result.output[-2000:])
    expected = [line for line in b"\n".join(lines).split(b"\n") if line.strip()]
    # Split on line feeds only: str.splitlines would also split at a U+2028 inside a value.
    answers = [json.loads(line) for line in result.stdout.split("\n") if line.strip()]
    assert len(answers) == len(expected), (len(answers), len(expected))
    for index, answer in enumerate(answers):
        if "error" in answer:
            assert answer["record"] == index
            assert len(json.dumps(answer)) < MAX_MESSAGE
        else:
            assert answer["person_id"] == json.loads(expected[index])["person_id"]  # exactly as given
    return f"exit {result.exit_code}"


# --- records ----------------------------------------------------------------------------------


def check_record(record: Any, on: dt.date) -> str:
    """Evaluate ``record``: a verdict valid under the verdict schema, or a bounded KzmigError.
    A record the engine accepts is valid under the person schema (the schema is never stricter
    than the engine). Returns what happened, for the large run's tally."""
    try:
        verdict = rules.evaluate(record, on=on, policy=_POLICY)
    except rules.KzmigError as error:
        assert len(error.describe()) < MAX_MESSAGE
        return type(error).__name__
    _VERDICTS.validate(verdict.model_dump(mode="json"))
    _PERSONS.validate(record)
    return "verdict"


_VERDICTS = jsonschema.Draft202012Validator(rules.schema("verdict"))
_PERSONS = jsonschema.Draft202012Validator(_SCHEMA, format_checker=jsonschema.FormatChecker())


# --- policy files ---------------------------------------------------------------------------

_POLICY_FILES = sorted((ROOT / "policies" / "kz").glob("*.yaml")) + sorted(
    (ROOT / "examples" / "amendments").glob("*.yaml")
)


@st.composite
def policy_texts(draw: st.DrawFn) -> str:
    """A policy file: a real one damaged line by line, or odd text."""
    if draw(st.integers(min_value=0, max_value=5)) == 0:
        return draw(st.one_of(st.text(max_size=200), any_json.map(json.dumps)))
    path = draw(st.sampled_from(_POLICY_FILES))
    lines = path.read_text(encoding="utf-8").splitlines()
    for _ in range(draw(st.integers(min_value=1, max_value=4))):
        if not lines:
            break
        at = draw(st.integers(min_value=0, max_value=len(lines) - 1))
        action = draw(st.sampled_from(["delete", "duplicate", "number", "date", "text", "indent", "cut"]))
        line = lines[at]
        if action == "delete":
            del lines[at]
        elif action == "duplicate":
            lines.insert(at, line)
        elif action == "number":
            digits = [i for i, c in enumerate(line) if c.isdigit()]
            if digits:
                i = draw(st.sampled_from(digits))
                lines[at] = line[:i] + str(draw(st.integers(min_value=-10, max_value=10**20))) + line[i + 1 :]
        elif action == "date":
            lines[at] = line.replace("20", draw(st.sampled_from(["00", "99", "21", "1"])), 1)
        elif action == "text":
            i = draw(st.integers(min_value=0, max_value=len(line)))
            lines[at] = (
                line[:i]
                + draw(st.sampled_from(["*x", "&a", "!!python/object", "{", "- ", ": ", "'"]))
                + line[i:]
            )
        elif action == "indent":
            lines[at] = "  " + line if draw(st.booleans()) else line.lstrip()
        else:
            lines = lines[:at]
    return "\n".join(lines) + "\n"


def check_policy_text(text: str) -> str:
    """Load ``text`` as an amendment of the shipped policy: a policy, or problems that each name
    their place; a policy that loads evaluates a person or refuses with a KzmigError."""
    try:
        policy = rules.load_policy(amendments=[rules.AmendmentText(text, "fuzzed.yaml")])
    except rules.PolicyError as error:
        assert error.problems
        for problem in error.problems:
            assert problem.where, problem
        assert len(error.describe()) < MAX_MESSAGE
        return "PolicyError"
    person = {
        "person_id": "F-1",
        "citizenship": "RU",
        "trips": [{"entry": "2026-01-01", "exit": "2026-03-01"}],
    }
    try:
        rules.evaluate(person, on=dt.date(2026, 6, 1), policy=policy)
    except rules.KzmigError as error:
        assert len(error.describe()) < MAX_MESSAGE
        return type(error).__name__
    return "policy"
