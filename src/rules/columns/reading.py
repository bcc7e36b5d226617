"""Reading a block of a JSON Lines population file as columns: the records in scope as arrays,
the other lines as they were, for the record engine.

``kzmig compare`` reads a population file by blocks of bytes, one record a line
(:func:`rules.policy.documents.json_lines`). :func:`read_block` reads the lines of one block with
pyarrow's JSON reader into columns and keeps, as arrays, the records *in scope*: a JSON object
whose keys are among ``person_id``, ``citizenship`` and ``trips``, each trip's among ``entry``
and ``exit``, that the record engine (:func:`~rules.policy.documents.parse_json`, then
:class:`models.person.Person`) reads without a problem and to exactly the values the arrays
hold. Every other line that is not blank goes back as it was (:class:`OtherLine`), for the record
engine to read and, if need be, to report; so does every line this module is not sure of. The
record engine stays the reference: being sure is worth more here than taking a few more lines.

What makes a line sure, cheaply and for the whole block at once:

* **Bytes**: printable ASCII only (no byte over 0x7F, no control character, no backslash, so no
  escape to decode: a string's bytes are its text), opening with ``{`` and closing with ``}``,
  at most :data:`~rules.policy.documents.MAX_LINE_BYTES` long. Anything else (a BOM, UTF-8 text,
  a tab, white space around the object) is left to the record engine; a line that is only
  white space is blank, as the record engine reads it.
* **One object a line**: pyarrow reads ``{..} {..}`` as two rows, so the rows are counted
  against the lines; a line pyarrow refuses (bad JSON, a field of another type, a known key
  given twice) fails the whole read, and the lines are then read again in parts, the refused
  line alone (pyarrow names its row) until every line is read or found refused.
* **Keys**: pyarrow leaves out a key the schema does not name, wherever it is. The colons of a
  line are its keys and the colons inside its strings, so a line whose colons are exactly its
  fields with a value (``person_id``, ``citizenship``, ``trips``, each trip's ``entry`` and
  ``exit``) plus the colons in its ``person_id`` and ``citizenship`` has no other key, nowhere
  (dates are checked to hold none). A field given as ``null`` has a colon and no value: such a
  line is left to the record engine too.
* **Values**: ``person_id`` of an allowed length; ``citizenship`` absent, or a text that trimmed
  of spaces and upper-cased is an assigned code (:func:`models._countries.is_country_code`): it
  is kept so; every trip an object with an entry, each day exactly ``YYYY-MM-DD`` and a day that
  exists (pyarrow would read other forms as dates, so days are read as text and checked here),
  no exit before its entry, the trips in order without overlap, only the last one open, at most
  :data:`~models.person.MAX_TRIPS` of them. ``trips`` absent is no travel record
  (:attr:`Block.has_trips` false), not the same as ``[]``.

Days are ordinals (``date.toordinal()``); an open trip's exit is :data:`NO_EXIT`.
"""

from __future__ import annotations

import functools
import re
import string
from dataclasses import dataclass
from typing import Any, NamedTuple

import numpy as np
import numpy.typing as npt
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.json as pj

from models._countries import is_country_code
from models.person import MAX_TRIPS, Person
from rules.policy.documents import MAX_LINE_BYTES

__all__ = ["NO_EXIT", "Block", "OtherLine", "read_block"]

#: The exit of an open trip (no real day has it).
NO_EXIT = -1

Ints = npt.NDArray[np.int64]
Flags = npt.NDArray[np.bool_]

_OPEN, _CLOSE, _COLON, _BACKSLASH, _DASH, _ZERO = b"{}:\\-0"

#: The columns read; every other field is left out by pyarrow (and found by its colon).
_SCHEMA = pa.schema(
    [
        ("person_id", pa.string()),
        ("citizenship", pa.string()),
        ("trips", pa.list_(pa.struct([("entry", pa.string()), ("exit", pa.string())]))),
    ]
)
_PARSING = pj.ParseOptions(explicit_schema=_SCHEMA, unexpected_field_behavior="ignore")
#: Reads of a block before the lines not yet read are all left to the record engine: a block
#: of many lines pyarrow refuses would otherwise be read again once per such line.
_MAX_READS = 64
#: Where pyarrow names the row it refused.
_REFUSED_ROW = re.compile(r"\bin row (\d+)\b")
#: Days before each month (1-12) in a common year; and the days of each month.
_BEFORE_MONTH = np.array([0, 0, 31, 59, 90, 120, 151, 181, 212, 243, 273, 304, 334], dtype=np.int64)
_MONTH_DAYS = np.array([0, 31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31], dtype=np.int64)


class OtherLine(NamedTuple):
    """A line that is not blank and not in scope: for the record engine, which reads it (and
    reports its problem, if it has one) as it reads any line. As any line: one longer than
    :data:`~rules.policy.documents.MAX_LINE_BYTES` is refused as too long, as
    :func:`~rules.policy.documents.json_lines` refuses it, not parsed."""

    #: Its record's index among the block's records (a blank line is no record).
    record: int
    #: Its line number in the file.
    number: int
    #: The line as it was given (with its line feed, if it had one).
    line: bytes


@dataclass(frozen=True, eq=False)
class Block:
    """The records of a block of lines: those in scope as arrays (one item per record, in input
    order; trips flat, record ``i``'s being ``offsets[i]:offsets[i + 1]``), the others as lines.

    ``indexes`` and :attr:`OtherLine.record` place every record of the block: together they are
    ``0 .. records - 1``, each once, so the two streams merge back into input order.
    """

    #: The line number of each record in scope.
    numbers: Ints
    #: The index of each record in scope among the block's records.
    indexes: Ints
    #: ``person_id`` of each record in scope (a pyarrow string array).
    person_id: Any
    #: The citizenship of each record in scope as :class:`~models.person.Person` keeps it (the
    #: code, trimmed and upper-cased), null where the record gives none (a pyarrow string array).
    citizenship: Any
    #: The citizenship of each record in scope as the record gives it (what an impact analysis
    #: counts by), null where it gives none (a pyarrow string array).
    citizenship_given: Any
    #: Whether each record in scope has a travel record (``trips`` given, maybe empty).
    has_trips: Flags
    #: Where each record's trips begin in ``entry`` and ``exit`` (one more than the records).
    offsets: Ints
    #: The day of entry of each trip (an ordinal).
    entry: Ints
    #: The day of exit of each trip (an ordinal), :data:`NO_EXIT` for an open trip.
    exit: Ints
    #: Whether each trip has an exit.
    has_exit: Flags
    #: The lines that are not blank and not in scope, in input order.
    others: tuple[OtherLine, ...]
    #: The lines of the block, blank ones included (where the next block's numbers start).
    lines: int
    #: The records of the block: its lines that are not blank.
    records: int

    def __len__(self) -> int:
        """The records in scope."""
        return len(self.numbers)


def read_block(data: bytes, first_number: int = 1) -> Block:
    """The records of ``data``, whole lines of a JSON Lines file (the last may lack its line
    feed), numbered from ``first_number``: those in scope as arrays, the others as lines (see
    the module)."""
    lines = _Lines(data)
    count = len(lines.starts)
    blank = lines.lengths == 0
    candidate = lines.candidates()
    for line in np.flatnonzero(~candidate & ~blank).tolist():
        blank[line] = not data[lines.starts[line] : lines.ends[line]].strip()
    index_of_line = np.cumsum(~blank) - 1
    read, table = lines.read(np.flatnonzero(candidate))
    person_id = table.column("person_id").combine_chunks()
    citizenship = table.column("citizenship").combine_chunks()
    codes = _codes_given(citizenship)
    trips = _Trips.of(table.column("trips").combine_chunks())
    taken = _in_scope(person_id, citizenship, codes, trips, lines.colons(read))
    chosen = read[taken]
    rows = pa.array(taken)
    kept = trips.kept(taken)
    other = ~blank
    other[chosen] = False
    other_lines = np.flatnonzero(other)
    others = tuple(
        map(
            OtherLine,
            index_of_line[other_lines].tolist(),
            (other_lines + first_number).tolist(),
            map(
                data.__getitem__,
                map(slice, lines.starts[other_lines].tolist(), lines.spans[other_lines].tolist()),
            ),
        )
    )
    return Block(
        numbers=(chosen + first_number).astype(np.int64),
        indexes=index_of_line[chosen].astype(np.int64),
        person_id=person_id.filter(rows),
        citizenship=codes.filter(rows),
        citizenship_given=citizenship.filter(rows),
        has_trips=kept.given,
        offsets=kept.offsets,
        entry=kept.entry,
        exit=kept.exit,
        has_exit=kept.has_exit,
        others=others,
        lines=count,
        records=int(count - np.count_nonzero(blank)),
    )


class _Lines:
    """The lines of a block: where each begins and ends, and which bytes are doubtful."""

    def __init__(self, data: bytes) -> None:
        self.data = data
        self.bytes = np.frombuffer(data, dtype=np.uint8)
        low = np.flatnonzero(self.bytes < 0x20)  # line feeds and other control characters
        feeds = self.bytes[low] == ord("\n")
        ends = low[feeds]
        if data and data[-1:] != b"\n":
            ends = np.append(ends, len(data))
        #: Where each line begins, where its text ends (at its line feed, if it has one), and
        #: where its bytes end (past its line feed).
        self.starts: Ints = np.concatenate(([0], ends[:-1] + 1)).astype(np.int64) if len(ends) else ends
        self.ends: Ints = ends.astype(np.int64)
        self.spans: Ints = np.minimum(self.ends + 1, len(data))
        self.lengths: Ints = self.ends - self.starts
        self.doubtful = np.zeros(len(ends), dtype=np.bool_)
        self._mark(low[~feeds])
        if not data.isascii():
            self._mark(np.flatnonzero(self.bytes >= 0x80))
        if b"\\" in data:
            self._mark(np.flatnonzero(self.bytes == _BACKSLASH))

    def _mark(self, positions: Ints) -> None:
        """The lines holding the bytes at ``positions`` are doubtful."""
        self.doubtful[np.searchsorted(self.ends, positions)] = True

    def candidates(self) -> Flags:
        """The lines pyarrow reads: clean bytes, one object from the first byte to the last."""
        if not len(self.starts):
            return self.doubtful.copy()
        first = self.bytes[self.starts.clip(max=len(self.data) - 1)]
        last = self.bytes[(self.ends - 1).clip(min=0)]
        read: Flags = (
            (self.lengths > 0)
            & (self.lengths <= MAX_LINE_BYTES)
            & ~self.doubtful
            & (first == _OPEN)
            & (last == _CLOSE)
        )
        return read

    def colons(self, lines: Ints) -> Ints:
        """The colons in each of ``lines``."""
        positions = np.flatnonzero(self.bytes == _COLON)
        return np.searchsorted(positions, self.ends[lines]) - np.searchsorted(positions, self.starts[lines])

    def read(self, lines: Ints) -> tuple[Ints, Any]:
        """The lines (of ``lines``) pyarrow reads, each to one row, and their table. A read
        pyarrow refuses is made again in parts: before the row it names, that row alone, after
        it (or in halves, if it names none); a line refused alone is left out."""
        done: list[tuple[Ints, Any]] = []
        pending = [lines] if len(lines) else []
        reads = 0
        while pending:
            part = pending.pop()
            if reads == _MAX_READS:
                continue
            reads += 1
            table, refused = self._table(part)
            if table is not None and table.num_rows == len(part):
                done.append((part, table))
                continue
            if len(part) == 1:
                continue
            if refused is not None and refused < len(part):
                parts = [part[:refused], part[refused : refused + 1], part[refused + 1 :]]
            else:
                parts = [part[: len(part) // 2], part[len(part) // 2 :]]
            pending.extend(reversed([piece for piece in parts if len(piece)]))
        if not done:
            return np.zeros(0, dtype=np.int64), _SCHEMA.empty_table()
        return np.concatenate([part for part, _ in done]), pa.concat_tables([table for _, table in done])

    def _table(self, lines: Ints) -> tuple[Any, int | None]:
        """pyarrow's table of ``lines``, or ``None`` and the row it names as refused."""
        chosen = np.zeros(len(self.starts), dtype=np.bool_)
        chosen[lines] = True
        if chosen.all():
            text: Any = self.data
        else:
            text = self.bytes[np.repeat(chosen, self.spans - self.starts)]
        reading = pj.ReadOptions(use_threads=False, block_size=min(max(len(text) + 1, 1 << 16), 1 << 30))
        try:
            return pj.read_json(
                pa.BufferReader(pa.py_buffer(text)), read_options=reading, parse_options=_PARSING
            ), None
        except pa.ArrowException as error:
            named = _REFUSED_ROW.search(str(error))
            return None, int(named.group(1)) if named else None


def _in_scope(person_id: Any, citizenship: Any, codes: Any, trips: _Trips, colons: Ints) -> Flags:
    """Which rows are records in scope (see the module): their ``person_id``, ``citizenship``
    and its ``codes`` (:func:`_codes_given`) as pyarrow arrays, ``trips``, and ``colons``, the
    colons in each row's line."""
    least, most = _person_id_lengths()
    length = _numbers(pc.binary_length(person_id))
    given = _flags(citizenship.is_valid())
    known = _flags(pc.fill_null(pc.is_in(codes, value_set=_assigned_codes()), False))
    fields = (
        _flags(person_id.is_valid()).astype(np.int64)
        + given
        + trips.given
        + trips.counts
        + trips.exits_per_record()
        + _numbers(pc.count_substring(person_id, ":"))
        + _numbers(pc.count_substring(citizenship, ":"))
    )
    taken: Flags = (
        (length >= least)
        & (length <= most)
        & (known | ~given)
        & (trips.counts <= MAX_TRIPS)
        & trips.sound_records()
        & (colons == fields)
    )
    return taken


@dataclass(frozen=True, eq=False)
class _Trips:
    """The trips of a block's rows, flat (row ``i``'s being ``offsets[i]:offsets[i + 1]``),
    their days read."""

    given: Flags
    counts: Ints
    offsets: Ints
    entry: Ints
    entry_read: Flags
    exit: Ints
    exit_read: Flags
    has_exit: Flags

    @classmethod
    def of(cls, trips: Any) -> _Trips:
        """The trips of a pyarrow list array of trips."""
        counts = _numbers(pc.list_value_length(trips))
        entry, exit = trips.flatten().flatten()  # null where the trip itself is null
        entry_day, entry_read = _days(entry)
        exit_day, exit_read = _days(exit)
        has_exit = _flags(exit.is_valid())
        return cls(
            given=_flags(trips.is_valid()),
            counts=counts,
            offsets=_offsets(counts),
            entry=entry_day,
            entry_read=entry_read,
            exit=np.where(has_exit, exit_day, NO_EXIT),
            exit_read=exit_read,
            has_exit=has_exit,
        )

    def exits_per_record(self) -> Ints:
        """The trips with an exit of each record."""
        exits = np.concatenate(([0], np.cumsum(self.has_exit, dtype=np.int64)))
        return exits[self.offsets[1:]] - exits[self.offsets[:-1]]

    def sound_records(self) -> Flags:
        """Whether each record's trips read as :class:`~models.person.Person` reads them: each
        an object with an entry, its days real days, no exit before its entry; in order
        without overlap, only the last one open."""
        owner = np.repeat(np.arange(len(self.counts)), self.counts)
        unsound = ~self.entry_read | (self.has_exit & (~self.exit_read | (self.exit < self.entry)))
        same_record = owner[1:] == owner[:-1]
        unsound[:-1] |= same_record & (~self.has_exit[:-1] | (self.entry[1:] < self.exit[:-1]))
        sound = np.ones(len(self.counts), dtype=np.bool_)
        sound[owner[unsound]] = False
        return sound

    def kept(self, records: Flags) -> _Trips:
        """The trips of ``records`` only (a mask of the rows)."""
        trips = np.repeat(records, self.counts)
        counts = self.counts[records]
        return _Trips(
            given=self.given[records],
            counts=counts,
            offsets=_offsets(counts),
            entry=self.entry[trips],
            entry_read=self.entry_read[trips],
            exit=self.exit[trips],
            exit_read=self.exit_read[trips],
            has_exit=self.has_exit[trips],
        )


def _offsets(counts: Ints) -> Ints:
    """Where each item's run begins in a flat array, and where the last ends."""
    return np.concatenate(([0], np.cumsum(counts))).astype(np.int64)


def _days(texts: Any) -> tuple[Ints, Flags]:
    """Each text's day as an ordinal and whether it is one: exactly ``YYYY-MM-DD`` and a day
    that exists (as :func:`models._fields.parse_day` reads a text); 0 where it is not (a null
    is none). Each distinct text is read once (a population's trips have a few thousand days)."""
    encoded = pc.dictionary_encode(texts)
    given = _flags(texts.is_valid())
    if len(encoded.dictionary) == 0:
        return np.zeros(len(texts), dtype=np.int64), given
    days, read = _distinct_days(encoded.dictionary)
    indices = _numbers(encoded.indices)
    return np.where(given, days[indices], 0), given & read[indices]


def _distinct_days(texts: Any) -> tuple[Ints, Flags]:
    """:func:`_days` of texts without nulls, each read."""
    count = len(texts)
    shaped = _numbers(pc.binary_length(texts)) == 10
    if count == 0:
        return np.zeros(0, dtype=np.int64), shaped
    if not shaped.all():
        texts = pc.if_else(pa.array(shaped), texts, pa.scalar("0001-01-01"))
    offsets = np.frombuffer(texts.buffers()[1], dtype=np.int32, count=count + 1, offset=4 * texts.offset)
    start = int(offsets[0])
    raw = np.frombuffer(texts.buffers()[2], dtype=np.uint8, count=10 * count, offset=start).reshape(count, 10)
    digits = raw - np.uint8(_ZERO)  # a byte that is no digit wraps past 9
    places = digits.astype(np.int64)
    year = places[:, 0] * 1000 + places[:, 1] * 100 + places[:, 2] * 10 + places[:, 3]
    month = places[:, 5] * 10 + places[:, 6]
    day = places[:, 8] * 10 + places[:, 9]
    first_days, month_days = _calendar()
    month_index = np.minimum(year, _YEARS - 1) * 13 + np.where(month <= 12, month, 0)
    read: Flags = (
        shaped
        & (digits.T[_DIGIT_PLACES].max(axis=0) <= 9)  # across the rows: quicker than along each
        & (raw[:, 4] == _DASH)
        & (raw[:, 7] == _DASH)
        & (day >= 1)
        & (day <= month_days[month_index])
    )
    return np.where(read, first_days[month_index] + day - 1, 0), read


#: Which characters of ``YYYY-MM-DD`` are digits.
_DIGIT_PLACES = [place for place, character in enumerate("YYYY-MM-DD") if character != "-"]
#: The years ``YYYY`` can write, 0 to 9999 (year 0 has no days).
_YEARS = 10_000


@functools.cache
def _calendar() -> tuple[Ints, Ints]:
    """The ordinal of the first day of each month of each year, and its days, by
    ``year * 13 + month``: month 0 (where a month past 12 is looked up too) and every month of
    year 0 have none."""
    year = np.repeat(np.arange(_YEARS, dtype=np.int64), 13)
    month = np.tile(np.arange(13, dtype=np.int64), _YEARS)
    leap = (year % 4 == 0) & ((year % 100 != 0) | (year % 400 == 0))
    before = year - 1
    first = before * 365 + before // 4 - before // 100 + before // 400
    first += _BEFORE_MONTH[month] + (leap & (month > 2)) + 1
    days = np.where(year >= 1, _MONTH_DAYS[month] + (leap & (month == 2)), 0)
    return first, days


def _codes_given(citizenship: Any) -> Any:
    """Each citizenship text as :class:`~models.person.Person` keeps it: trimmed of spaces
    (the only white space a line read here can hold) and upper-cased (it is ASCII)."""
    return pc.ascii_upper(pc.utf8_trim(citizenship, characters=" "))


@functools.cache
def _assigned_codes() -> Any:
    """The assigned country codes (two capital letters each), as a pyarrow array."""
    letters = string.ascii_uppercase
    return pa.array(sorted(a + b for a in letters for b in letters if is_country_code(a + b)))


@functools.cache
def _person_id_lengths() -> tuple[int, int]:
    """The shortest and longest ``person_id`` :class:`~models.person.Person` accepts."""
    least, most = 0, MAX_LINE_BYTES
    for bound in Person.model_fields["person_id"].metadata:
        least = getattr(bound, "min_length", least)
        most = getattr(bound, "max_length", most)
    return least, most


def _numbers(values: Any) -> Ints:
    """A pyarrow array of integers as numpy's, nulls as 0."""
    return np.asarray(pc.fill_null(values, 0).to_numpy(zero_copy_only=False), dtype=np.int64)


def _flags(values: Any) -> Flags:
    """A pyarrow array of booleans (without nulls) as numpy's."""
    return np.asarray(values.to_numpy(zero_copy_only=False), dtype=np.bool_)
