"""A block of JSON Lines read as columns (``rules.columns.reading``) gives every record of the
block once, in order, at its line: a record in scope holds exactly what the record engine reads
of its line (``json_lines``, then ``Person``), and every line the record engine refuses, or that
holds anything but ``person_id``, ``citizenship`` and ``trips`` (each trip ``entry`` and
``exit``), goes back to it as it was.

The lines are drawn as the record engine's inputs come: travellers written by ``json.dumps``,
and lines with statuses, unknown fields at the top and in trips, ``registered_on``, keys given
twice, days that are no days (``2024-02-30``, ``2024-1-03``, ``20240103``), citizenships lower-case,
spaced, unassigned, trips out of order or overlapping, an open trip before another, escapes,
text that is not UTF-8, lines that are no object, blank lines.
"""

from __future__ import annotations

import datetime as dt
import io
import itertools
import json
import string
import sys
from pathlib import Path
from typing import Any

import pytest
from budget import examples
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from pydantic import ValidationError

pytest.importorskip("pyarrow")

from models.person import Person  # noqa: E402
from rules.columns.reading import NO_EXIT, Block, read_block  # noqa: E402
from rules.policy.documents import MAX_LINE_BYTES, json_lines  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "benchmarks"))
BENCHMARK_FILE = Path("/tmp/kzmig-bench/population-20000-2026.jsonl")

TOP_KEYS = {"person_id", "citizenship", "trips"}
TRIP_KEYS = {"entry", "exit"}


# --- The reference: the record engine's reading of each line ---------------------------------


def reference(data: bytes, first_number: int) -> list[tuple[int, Person | None, Any]]:
    """Each record of ``data`` as the record engine reads it: its line number, the person it
    reads (``None``: refused) and the plain data of the line."""
    records: list[tuple[int, Person | None, Any]] = []
    for line in json_lines(io.BytesIO(data), "block", first_number=first_number):
        person = None
        if not line.problems and isinstance(line.data, dict):
            try:
                person = Person.model_validate(line.data)
            except ValidationError:
                pass
        records.append((line.number, person, line.data))
    return records


def only_known_keys(data: Any) -> bool:
    """Whether a record holds only the fields in scope, each trip only ``entry`` and ``exit``."""
    trips = data.get("trips")
    return set(data) <= TOP_KEYS and all(
        isinstance(trip, dict) and set(trip) <= TRIP_KEYS
        for trip in (trips if isinstance(trips, list) else ())
    )


def rows(block: Block) -> list[tuple[int, int, int | None]]:
    """Every record of the block in input order: its index, its line number and its row in
    scope (``None``: an other line)."""
    taken = [
        (int(i), int(n), row) for row, (i, n) in enumerate(zip(block.indexes, block.numbers, strict=True))
    ]
    others: list[tuple[int, int, int | None]] = [(other.record, other.number, None) for other in block.others]
    return sorted(taken + others)


def split(data: bytes) -> list[bytes]:
    """The lines of ``data``, each with its line feed (only a line feed ends a line)."""
    pieces = data.split(b"\n")
    return [piece + b"\n" for piece in pieces[:-1]] + ([pieces[-1]] if pieces[-1] else [])


def lines_of(data: bytes, first_number: int) -> dict[int, bytes]:
    """Each line's bytes (with its line feed) by its number."""
    return dict(enumerate(split(data), first_number))


def assert_read_as_the_record_engine_reads(data: bytes, first_number: int = 1) -> Block:
    """The whole property: one row per record, in order, at its line; a row in scope equal to
    the person the record engine reads; an other line as it was."""
    block = read_block(data, first_number)
    expected = reference(data, first_number)
    found = rows(block)
    assert [index for index, _, _ in found] == list(range(len(expected)))
    assert [number for _, number, _ in found] == [number for number, _, _ in expected]
    assert block.records == len(expected)
    assert block.lines == len(split(data))
    assert block.offsets.shape == (len(block) + 1,) and block.offsets[0] == 0
    assert len(block.entry) == len(block.exit) == len(block.has_exit) == block.offsets[-1]
    text = lines_of(data, first_number)
    for other in block.others:
        assert other.line == text[other.number]
    person_ids, citizenships = block.person_id.to_pylist(), block.citizenship.to_pylist()
    offsets, entry, exit, has_exit = (
        a.tolist() for a in (block.offsets, block.entry, block.exit, block.has_exit)
    )
    for (_, number, row), (_, person, plain) in zip(found, expected, strict=True):
        if row is None:
            continue
        assert person is not None, f"line {number} is in scope, but the record engine refuses it"
        assert only_known_keys(plain), f"line {number} is in scope, but holds other fields: {plain}"
        assert person_ids[row] == person.person_id
        assert citizenships[row] == person.citizenship
        assert bool(block.has_trips[row]) == (person.trips is not None)
        start, end = offsets[row], offsets[row + 1]
        trips = person.trips or ()
        assert entry[start:end] == [trip.entry.toordinal() for trip in trips]
        assert has_exit[start:end] == [trip.exit is not None for trip in trips]
        assert exit[start:end] == [
            trip.exit.toordinal() if trip.exit is not None else NO_EXIT for trip in trips
        ]
    return block


def in_scope_numbers(block: Block) -> set[int]:
    return {int(number) for number in block.numbers}


# --- Lines drawn as the record engine's inputs come --------------------------------------------

#: An object as its keys and values one after another (a key may come twice).
Pairs = list[tuple[str, Any]]


class Obj:
    """A JSON object written key by key, so that a key can be given twice."""

    def __init__(self, pairs: Pairs) -> None:
        self.pairs = pairs


def write(value: Any, comma: str, colon: str, ascii_only: bool) -> str:
    """``value`` as JSON text, with these separators."""
    if isinstance(value, Obj):
        inner = comma.join(
            json.dumps(key, ensure_ascii=ascii_only) + colon + write(item, comma, colon, ascii_only)
            for key, item in value.pairs
        )
        return "{" + inner + "}"
    if isinstance(value, list):
        return "[" + comma.join(write(item, comma, colon, ascii_only) for item in value) + "]"
    if isinstance(value, Raw):
        return value.text
    return json.dumps(value, ensure_ascii=ascii_only)


class Raw:
    """JSON text written as it is (a number for a day, ``NaN``)."""

    def __init__(self, text: str) -> None:
        self.text = text

    def __repr__(self) -> str:  # the same in every process (pytest-xdist compares the ids)
        return f"Raw({self.text!r})"


FIRST_DAY = dt.date(2023, 1, 1).toordinal()

BAD_DAYS = [
    "2024-02-30",
    "2023-02-29",
    "2024-1-03",
    "20240103",
    "2024-01-03T00:00",
    " 2024-01-03",
    "2024-01-03 ",
    "0000-01-01",
    "2024-13-01",
    "2024-00-10",
    "2024-01-00",
    "2024-01-32",
    "2024/01/03",
    "2024/01-03",
    "2024-01/03",
    "2024-W01-3",
    "２０２４-01-03",
    "",
    Raw("20240103"),
    None,
    Raw("NaN"),
]

CITIZENSHIPS = [
    "RU",
    "KZ",
    "US",
    "XK",
    "ru",
    "Kz",
    " RU",
    "RU ",
    "  de  ",
    "\tRU",
    "XX",
    "ZZ",
    "AA",
    "RUS",
    "R",
    "",
    "R U",
    "ß",
    "ＲＵ",
    "\\u0052U",
    Raw('"\\u0052U"'),
    None,
    Raw("1"),
    ["RU"],
]


@st.composite
def days(draw: st.DrawFn) -> list[int]:
    """Ordered day ordinals, with repeats (a re-entry on the day of exit)."""
    steps = draw(st.lists(st.integers(0, 40), max_size=12))
    return list(itertools.accumulate(steps, initial=FIRST_DAY + draw(st.integers(0, 400))))


def iso(ordinal: int) -> str:
    return dt.date.fromordinal(ordinal).isoformat()


@st.composite
def trip_objects(draw: st.DrawFn) -> list[Any]:
    """Trips, mostly sound (ordered, closed but for the last), sometimes not."""
    ends = draw(days())
    trips: list[Any] = []
    for entry, exit in zip(ends[::2], ends[1::2], strict=False):
        trips.append([("entry", iso(entry)), ("exit", iso(exit))])
    if len(ends) % 2 and draw(st.booleans()):
        trips.append([("entry", iso(ends[-1]))])
    for pairs in trips:
        if draw(st.integers(0, 12)) == 0:  # a bad day
            key = draw(st.sampled_from(["entry", "exit"]))
            pairs[:] = [(k, draw(st.sampled_from(BAD_DAYS)) if k == key else v) for k, v in pairs]
        if draw(st.integers(0, 25)) == 0:  # registered_on, or another field
            pairs.append(
                draw(st.sampled_from([("registered_on", pairs[0][1]), ("note", "x"), ("exit", None)]))
            )
        if draw(st.integers(0, 25)) == 0:  # a key given twice
            pairs.append(draw(st.sampled_from(pairs)))
        if draw(st.integers(0, 30)) == 0:  # no entry
            pairs[:] = [(k, v) for k, v in pairs if k != "entry"]
        if draw(st.integers(0, 30)) == 0:
            draw(st.randoms()).shuffle(pairs)
    if len(trips) > 1 and draw(st.integers(0, 8)) == 0:  # out of order, overlapping or open early
        change = draw(st.sampled_from(["swap", "open", "overlap"]))
        if change == "swap":
            trips[0], trips[1] = trips[1], trips[0]
        elif change == "open":
            trips[0] = [(k, v) for k, v in trips[0] if k != "exit"]
        else:
            trips[1] = [("entry", trips[0][0][1]), *trips[1][1:]]
    written: list[Any] = [Obj(pairs) for pairs in trips]
    if written and draw(st.integers(0, 40)) == 0:
        written[draw(st.integers(0, len(written) - 1))] = draw(st.sampled_from([None, 1, "x", [], Obj([])]))
    return written


PERSON_IDS = st.one_of(
    st.from_regex(r"\AP-[0-9]{7}\Z"),
    st.text(st.characters(codec="ascii"), max_size=140),
    st.text(st.characters(codec="ascii", exclude_categories=["Cc"]), min_size=1, max_size=20),
    st.text(min_size=1, max_size=10),
    st.sampled_from(["", "a:b", "{", "}", '"', "\\", "é", "\u2028", "x" * 128, "x" * 129]),
)


@st.composite
def records(draw: st.DrawFn) -> Obj:
    """A person record, mostly a traveller."""
    pairs: Pairs = []
    if draw(st.integers(0, 40)):
        pairs.append(
            ("person_id", draw(PERSON_IDS) if draw(st.integers(0, 40)) else draw(st.sampled_from([1, None])))
        )
    if draw(st.integers(0, 6)):
        pairs.append(
            ("citizenship", draw(st.sampled_from(CITIZENSHIPS)) if draw(st.integers(0, 3)) == 0 else "RU")
        )
    if draw(st.integers(0, 8)):
        pairs.append(
            (
                "trips",
                draw(trip_objects()) if draw(st.integers(0, 40)) else draw(st.sampled_from([None, "x"])),
            )
        )
    extra = draw(st.integers(0, 12))
    if extra == 0:
        pairs.append(("statuses", [Obj([("kind", "aircraft_crew"), ("valid_from", "2024-01-01")])]))
    elif extra == 1:
        pairs.append(
            draw(st.sampled_from([("note", None), ("entry", "2024-01-01"), ("registered_on", "2024-01-01")]))
        )
    elif extra == 2 and pairs:
        pairs.append(draw(st.sampled_from(pairs)))  # a key given twice
    elif extra == 3:
        pairs.append(("residence_application", Obj([("submitted", "2026-03-10"), ("x", Raw("NaN"))])))
    if draw(st.integers(0, 10)) == 0:
        draw(st.randoms()).shuffle(pairs)
    return Obj(pairs)


@st.composite
def record_lines(draw: st.DrawFn) -> bytes:
    """One line (without its line feed): a record written some way, or something else."""
    kind = draw(st.integers(0, 30))
    if kind == 0:
        return draw(st.sampled_from([b"", b"   ", b"\t", b"\r", b" \x0b\x0c ", b"\x1c"]))
    if kind == 1:
        return draw(
            st.sampled_from([b"null", b"[]", b"1", b'"x"', b"true", b"{", b"}", b"{}", b"[{}]", b"{} {}"])
        )
    separators = draw(st.sampled_from([(", ", ": "), (",", ":"), (" , ", " : "), (",\t", ":\r")]))
    text = write(draw(records()), *separators, ascii_only=draw(st.booleans()))
    line = text.encode()
    change = draw(st.integers(0, 30))
    if change == 0:
        line = b" " + line
    elif change == 1:
        line = line + b" \r"
    elif change == 2:
        line = b"\xef\xbb\xbf" + line
    elif change == 3 and len(line) > 2:
        at = draw(st.integers(1, len(line) - 1))
        line = (
            line[:at]
            + draw(st.sampled_from([b"\xff", b"\xc3", b"\x00", b"\\", b'"', b":", b"}", b"{"]))
            + line[at:]
        )
    elif change == 4:
        line = line[: draw(st.integers(0, len(line)))]
    elif change == 5:
        line = line + b" " + line
    elif change == 6:
        line = line.replace(b'"person_id"', b'"person\\u005fid"')
    return line


@st.composite
def blocks(draw: st.DrawFn) -> bytes:
    lines = draw(st.lists(record_lines(), max_size=12))
    data = b"\n".join(lines)
    feed = draw(st.booleans())
    if lines and feed:
        data += b"\n"
    return data


@settings(max_examples=examples(600), deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(blocks(), st.integers(1, 10**6))
def test_every_line_is_one_record_in_order_and_a_record_in_scope_is_what_the_record_engine_reads(
    data: bytes, first_number: int
) -> None:
    assert_read_as_the_record_engine_reads(data, first_number)


@st.composite
def travellers(draw: st.DrawFn) -> dict[str, Any]:
    """A sound traveller, as plain data."""
    person: dict[str, Any] = {"person_id": draw(st.from_regex(r"\A[A-Za-z0-9:_ -]{1,128}\Z"))}
    if draw(st.booleans()):
        person["citizenship"] = draw(st.sampled_from(["RU", "kz", " US ", "De", "XK", "CN"]))
    if draw(st.integers(0, 5)):
        ends = draw(days())
        trips: list[dict[str, str]] = [
            {"entry": iso(entry), "exit": iso(exit)}
            for entry, exit in zip(ends[::2], ends[1::2], strict=False)
        ]
        if len(ends) % 2 and draw(st.booleans()):
            trips.append({"entry": iso(ends[-1])})
        person["trips"] = trips
    return person


@settings(max_examples=examples(300), deadline=None)
@given(st.lists(travellers(), max_size=10), st.sampled_from([None, (",", ":")]))
def test_a_traveller_written_by_json_dumps_is_in_scope(persons: list[dict[str, Any]], compact: Any) -> None:
    data = "".join(json.dumps(person, separators=compact) + "\n" for person in persons).encode()
    block = assert_read_as_the_record_engine_reads(data)
    assert len(block) == len(persons) and not block.others


@pytest.mark.parametrize(
    ("line", "why"),
    [
        (b'{"person_id": "a", "person_id": "b"}', "person_id given twice"),
        (b'{"person_id": "a", "trips": [{"entry": "2024-01-01", "entry": "2024-01-02"}]}', "entry twice"),
        (b'{"person_id": "a", "note": "x", "note": "y"}', "an unknown key twice"),
        (b'{"person_id": "a", "citizenship": null}', "a field given as null"),
        (b'{"person_id": "a", "trips": [{"entry": "2024-01-01", "exit": null}]}', "an exit given as null"),
        (b'{"person_id": "a", "trips": null}', "trips given as null"),
        (
            b'{"person_id": "a", "trips": [{"entry": "2024-01-01", "registered_on": "2024-01-01"}]}',
            "registered_on",
        ),
        (b'{"person_id": "a", "trips": [{"entry": "2024-01-01", "person_id": "b"}]}', "a top key in a trip"),
        (b'{"person_id": "a", "entry": "2024-01-01"}', "a trip key at the top"),
        (b'{"person_id": "a", "statuses": []}', "statuses, even none"),
        (b'{"person_id": "a", "trips": [{"entry": "2024-02-30"}]}', "a day that does not exist"),
        (b'{"person_id": "a", "trips": [{"entry": "2024-1-03"}]}', "a day not YYYY-MM-DD"),
        (b'{"person_id": "a", "trips": [{"entry": "20240103"}]}', "a basic ISO day"),
        (b'{"person_id": "a", "citizenship": "XX"}', "an unassigned code"),
        (b'{"person_id": "a", "citizenship": "\\u0052U"}', "an escape"),
        (b'{"person_id": "a", "citizenship": "RU"} ', "white space after the object"),
        (b'{"person_id": "a"}{"person_id": "b"}', "two objects on a line"),
        (b'\xef\xbb\xbf{"person_id": "a"}', "a BOM"),
        (b'{"person_id": "\xff"}', "not UTF-8"),
        (
            b'{"person_id": "a", "trips": [{"entry": "2024-01-05", "exit": "2024-01-04"}]}',
            "exit before entry",
        ),
        (
            b'{"person_id": "a", "trips": [{"entry": "2024-01-01"},'
            b' {"entry": "2024-01-05", "exit": "2024-01-06"}]}',
            "an open trip before another",
        ),
        (
            b'{"person_id": "a", "trips": [{"entry": "2024-01-01", "exit": "2024-01-09"},'
            b' {"entry": "2024-01-05"}]}',
            "overlapping trips",
        ),
        (b"null", "not an object"),
    ],
)
def test_a_doubtful_line_goes_to_the_record_engine_as_it_was(line: bytes, why: str) -> None:
    ok = b'{"person_id": "ok", "trips": []}\n'
    data = ok + line + b"\n" + ok
    block = assert_read_as_the_record_engine_reads(data, 7)
    assert in_scope_numbers(block) == {7, 9}, why
    assert [(other.record, other.number, other.line) for other in block.others] == [(1, 8, line + b"\n")]


def test_a_line_longer_than_the_limit_goes_to_the_record_engine_even_if_it_would_read() -> None:
    long = b'{"person_id": "a"' + b" " * MAX_LINE_BYTES + b"}"
    data = b'{"person_id": "b"}\n' + long + b'\n{"person_id": "c"}'
    block = read_block(data)
    assert in_scope_numbers(block) == {1, 3}
    assert [(other.number, len(other.line)) for other in block.others] == [(2, len(long) + 1)]


def test_blank_lines_count_as_lines_but_are_no_records() -> None:
    data = b'\n{"person_id": "a"}\n   \n\t\r\n{"person_id": "b", "trips": []}\n\n'
    block = assert_read_as_the_record_engine_reads(data, 10)
    assert block.numbers.tolist() == [11, 14] and block.indexes.tolist() == [0, 1]
    assert (block.lines, block.records, block.others) == (6, 2, ())
    assert block.has_trips.tolist() == [False, True]


def test_a_citizenship_is_kept_as_the_record_engine_keeps_it_and_trips_as_day_ordinals() -> None:
    data = (
        b'{"person_id": "a:1", "citizenship": " kz ", "trips": ['
        b'{"entry": "2024-02-28", "exit": "2024-03-01"}, {"entry": "2024-03-01", "exit": "2024-03-01"},'
        b' {"entry": "2024-12-31"}]}'
    )
    block = assert_read_as_the_record_engine_reads(data)
    assert block.citizenship.to_pylist() == ["KZ"] and block.person_id.to_pylist() == ["a:1"]
    entries = [dt.date(2024, 2, 28), dt.date(2024, 3, 1), dt.date(2024, 12, 31)]
    assert block.entry.tolist() == [day.toordinal() for day in entries]
    assert block.exit.tolist() == [dt.date(2024, 3, 1).toordinal()] * 2 + [NO_EXIT]
    assert block.has_exit.tolist() == [True, True, False]


def test_lines_pyarrow_refuses_go_to_the_record_engine_and_the_lines_around_them_are_read() -> None:
    refused = {0, 41, 42, 150, 299}
    lines = [b'{"person_id": %d}' % i if i in refused else b'{"person_id": "p%d"}' % i for i in range(300)]
    block = assert_read_as_the_record_engine_reads(b"\n".join(lines))
    assert [other.record for other in block.others] == sorted(refused)


def test_a_block_of_many_lines_pyarrow_refuses_is_left_to_the_record_engine_where_need_be() -> None:
    lines = [b'{"person_id": %d}' % i if i % 3 == 0 else b'{"person_id": "p%d"}' % i for i in range(300)]
    block = assert_read_as_the_record_engine_reads(b"\n".join(lines))
    assert {other.record for other in block.others} >= set(range(0, 300, 3))


def population_lines(count: int) -> bytes:
    """The benchmark's population, written as ``bench_population.py`` writes its file."""
    from bench_population import population_records

    return "".join(json.dumps(person) + "\n" for person in population_records(count, 2026)).encode()


def scope_of(data: bytes) -> set[int]:
    """The line numbers of the records the record engine reads that hold only what is in scope."""
    return {
        number
        for number, person, plain in reference(data, 1)
        if person is not None and isinstance(plain, dict) and only_known_keys(plain)
    }


def test_every_traveller_of_a_generated_population_is_in_scope() -> None:
    data = population_lines(3_000)
    block = assert_read_as_the_record_engine_reads(data)
    assert in_scope_numbers(block) == scope_of(data)
    assert len(block) > 0.6 * block.records


@pytest.mark.skipif(not BENCHMARK_FILE.exists(), reason="the benchmark population is not there")
def test_every_traveller_of_the_benchmark_population_is_in_scope() -> None:
    with BENCHMARK_FILE.open("rb") as handle:
        data = b"".join(itertools.islice(handle, 20_000))
    block = assert_read_as_the_record_engine_reads(data)
    assert in_scope_numbers(block) == scope_of(data)
    print(f"in scope: {len(block):,} of {block.records:,} records ({len(block) / block.records:.1%})")


def test_a_block_of_nothing_has_no_record() -> None:
    for data in (b"", b"\n", b"\n\n \n"):
        block = read_block(data, 5)
        assert (len(block), block.records, block.others) == (0, 0, ())
        assert block.offsets.tolist() == [0]


def test_the_assigned_codes_are_those_the_record_engine_accepts() -> None:
    letters = string.ascii_uppercase
    data = "".join(
        json.dumps({"person_id": "a", "citizenship": a + b}) + "\n" for a in letters for b in letters
    ).encode()
    assert_read_as_the_record_engine_reads(data)


@pytest.mark.parametrize("day", BAD_DAYS, ids=repr)
@pytest.mark.parametrize("key", ["entry", "exit"])
def test_a_day_the_record_engine_refuses_sends_its_record_to_it(day: Any, key: str) -> None:
    trip = Obj([("entry", "2024-01-01"), ("exit", "2024-01-31")])
    trip.pairs = [(k, day if k == key else v) for k, v in trip.pairs]
    line = write(Obj([("person_id", "a"), ("trips", [trip])]), ", ", ": ", True).encode()
    block = assert_read_as_the_record_engine_reads(line + b"\n" + line.replace(b"2024-01-31", b"2024-02-01"))
    assert len(block) == 0


@pytest.mark.parametrize("citizenship", CITIZENSHIPS, ids=repr)
def test_a_citizenship_is_in_scope_when_the_record_engine_reads_it_unless_null_or_escaped(
    citizenship: Any,
) -> None:
    line = write(Obj([("person_id", "a"), ("citizenship", citizenship)]), ", ", ": ", False).encode()
    block = assert_read_as_the_record_engine_reads(line)
    doubtful = citizenship is None or b"\\" in line  # a colon with no value; an escape
    assert len(block) == (len(scope_of(line)) and not doubtful)


DAY_TEXTS = st.one_of(
    st.dates().map(dt.date.isoformat),
    st.from_regex(r"\A[0-9]{4}-[0-9]{2}-[0-9]{2}\Z"),
    st.text(alphabet="0123456789-/ T", min_size=8, max_size=12),
)


@settings(max_examples=examples(300), deadline=None)
@given(st.lists(DAY_TEXTS, min_size=1, max_size=20))
def test_a_day_is_in_scope_exactly_when_the_record_engine_reads_it_as_that_day(texts: list[str]) -> None:
    data = "".join(
        json.dumps({"person_id": "a", "trips": [{"entry": text}]}) + "\n" for text in texts
    ).encode()
    block = assert_read_as_the_record_engine_reads(data)
    assert in_scope_numbers(block) == scope_of(data)
