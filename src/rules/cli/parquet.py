"""Reading person records from Parquet tables: a persons table, with a trips table and a
statuses table beside it (the shape of a border-service extract).

* persons: a row per person; ``person_id`` is required, every other column is a field of the
  record (``citizenship``, a programme's section as a struct column such as
  ``residence_application``). A null is a field left out (unknown).
* trips (optional): a row per trip, ``person_id``, ``entry`` and optionally ``exit`` (dates).
  A person with no row here has no travel record (the stay limit names it as missing).
* statuses (optional): a row per status, ``person_id``, ``kind``, ``valid_from`` and
  optionally ``valid_to``, ``document``.

The persons table is streamed in batches; the trips and statuses tables are read whole, sorted
by ``person_id`` (for 10 million trips, a few hundred MB), and the rows of a whole batch of
persons are taken from them at once. Tables are read column by column (days through their
numbers: pyarrow makes dates one by one far more slowly), not row by row. Each row of
the persons table yields exactly one record, its trips and statuses in the order of the day
they start, then of the day they end (an extract need not be sorted: of an exit and a re-entry
on one day, the trip left that day comes first); a row the engine cannot read is an error
record in its place, like a JSON line.

Nothing is dropped without a word. A ``person_id`` on several rows of the persons table makes
each of those rows an error record: whose trips and statuses are whose cannot be told. Rows of
the trips or statuses table that belong to no person of the persons table (or have no
``person_id``) are not read, and ``notice`` is told how many, before the first record.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any, BinaryIO

from rules.cli.records import Record, open_person_file
from rules.errors import InputError, Problem

__all__ = ["read_parquet_records"]

#: Persons read at a time, with their trips and statuses: the rows a batch holds at once are
#: the memory reading adds (2,000 persons with 10 trips each: a few MB).
_BATCH = 2_000


def read_parquet_records(
    persons: Path,
    trips: Path | None = None,
    statuses: Path | None = None,
    notice: Callable[[str], None] | None = None,
) -> Iterator[Record]:
    """The records of ``persons`` with their ``trips`` and ``statuses`` (see the module);
    ``notice`` hears of the rows of ``trips`` and ``statuses`` that are not read."""
    try:
        import pyarrow.parquet as pq
    except ImportError:
        raise InputError(
            "Parquet input needs pyarrow", [Problem(str(persons), "pip install 'kzmig[analysis]'")]
        ) from None
    companions = {
        "trips": _Companion(trips, ("person_id", "entry"), "trip", "exit") if trips is not None else None,
        "statuses": (
            _Companion(statuses, ("person_id", "kind", "valid_from"), "status", "valid_to")
            if statuses is not None
            else None
        ),
    }
    with open_person_file(persons) as handle:
        source = _parquet(persons, handle, pq)
        if "person_id" not in source.schema_arrow.names:
            raise InputError("the person file cannot be read", [Problem(str(persons), "no column person_id")])
        ids = source.read(columns=["person_id"]).column("person_id").combine_chunks()
        repeated = _repeated(ids)
        for companion in companions.values():
            if companion is not None:
                for message in companion.unread(ids, persons):
                    if notice is not None:
                        notice(message)
        index = 0
        for batch in source.iter_batches(batch_size=_BATCH):
            people = _rows(batch)
            # The person_id of each row whose trips and statuses are read (None: not read).
            owners = [_owner(person.get("person_id"), repeated) for person in people]
            # Each companion's rows of the whole batch, taken from its table at once.
            found = [
                (key, companion.rows_of_each(owners))
                for key, companion in companions.items()
                if companion is not None
            ]
            for number, person in enumerate(people):
                where = f"{persons}: row {index + 1}"
                person_id = person.get("person_id")
                rows = repeated.get(person_id) if isinstance(person_id, str) else None
                if rows is not None:
                    message = (
                        f"person_id {person_id!r} is on {rows:,} rows of the persons table: whose "
                        "trips and statuses are whose cannot be told (a person is one row)"
                    )
                    yield Record(index, where, None, (Problem(where, message),))
                    index += 1
                    continue
                for key, of_each in found:
                    if of_each[number]:
                        person[key] = of_each[number]
                yield Record(index, where, person)
                index += 1


def _owner(person_id: Any, repeated: dict[str, int]) -> str | None:
    """The person whose trips and statuses a row of the persons table reads (``None``: none,
    for a row without a textual ``person_id`` or with one on several rows)."""
    return person_id if isinstance(person_id, str) and person_id not in repeated else None


class _Companion:
    """A table of rows per person (trips, statuses), sorted by person for look-up."""

    def __init__(self, path: Path, required: tuple[str, ...], what: str, until: str) -> None:
        import pyarrow as pa
        import pyarrow.compute as pc
        import pyarrow.parquet as pq

        try:
            with open_person_file(path) as handle:
                table = _parquet(path, handle, pq).read()
        except OSError as error:
            raise InputError("the person file cannot be read", [Problem(str(path), str(error))]) from None
        missing = [name for name in required if name not in table.schema.names]
        if missing:
            raise InputError(
                "the person file cannot be read", [Problem(str(path), f"no column {', '.join(missing)}")]
            )
        self._path = path
        self._what = what  # what a row is, in messages
        self._without_person = table.num_rows
        table = table.filter(pc.is_valid(table.column("person_id")))
        self._without_person -= table.num_rows
        # By person, then by the day each row starts (a trip's entry, a status's valid_from) and
        # the day it ends (the column ``until``; none last): an extract lists rows in no
        # particular order, a record lists trips in the order of time, and of two trips entering
        # on one day (an exit and a re-entry that day) the one left that day comes first.
        order = [("person_id", "ascending"), (required[-1], "ascending")]
        if until in table.schema.names:
            order.append((until, "ascending"))
        table = table.sort_by(order)
        encoded = pc.run_end_encode(table.column("person_id").combine_chunks())
        ends = encoded.run_ends.to_pylist()
        self._runs = {
            person_id: (ends[number - 1] if number else 0, end)
            for number, (person_id, end) in enumerate(zip(encoded.values.to_pylist(), ends, strict=True))
        }
        self._ids = encoded.values
        self._lengths = pa.array([end - start for start, end in self._runs.values()], pa.int64())
        self._table = table.drop_columns(["person_id"])

    def unread(self, persons_ids: Any, persons: Path) -> list[str]:
        """What is said of this table's rows that are not read: those without a ``person_id``,
        and those whose ``person_id`` is on no row of the persons table (``persons_ids``)."""
        import pyarrow.compute as pc

        said = []
        if self._without_person:
            said.append(
                f"{self._path}: {self._without_person:,} {self._what} row(s) have no person_id: not read"
            )
        ids = self._ids
        if _textual(ids.type) and _textual(persons_ids.type):
            ids = ids.cast(persons_ids.type)  # string and large_string: the same ids
        if ids.type != persons_ids.type:
            raise InputError(
                "the person file cannot be read",
                [
                    Problem(
                        str(self._path),
                        f"person_id is of type {self._ids.type} here and {persons_ids.type} in "
                        f"{persons}: no row can be matched to a person",
                    )
                ],
            )
        stranger = pc.invert(pc.is_in(ids, value_set=persons_ids))
        strangers = self._ids.filter(stranger)
        if len(strangers):
            rows = pc.sum(self._lengths.filter(stranger)).as_py()
            shown = ", ".join(repr(person_id) for person_id in strangers[:3].to_pylist())
            said.append(
                f"{self._path}: {rows:,} {self._what} row(s) of {len(strangers):,} person_id(s) on no "
                f"row of {persons} ({shown}{', ...' if len(strangers) > 3 else ''}): not read"
            )
        return said

    def rows_of_each(self, owners: list[str | None]) -> list[list[dict[str, Any]]]:
        """The rows of each person of ``owners`` (``None``: none), in the order of the day
        each starts, then ends: taken from the table in one go for all of them (a call into the
        table per person would cost more than the rows themselves)."""
        import pyarrow as pa

        runs = self._runs
        spans = [runs.get(owner) if owner is not None else None for owner in owners]
        positions: list[int] = []
        for span in spans:
            if span is not None:
                positions.extend(range(*span))
        if not positions:
            return [[] for _ in owners]
        rows = _rows(self._table.take(pa.array(positions, pa.int64())))
        found: list[list[dict[str, Any]]] = []
        start = 0
        for span in spans:
            if span is None:
                found.append([])
                continue
            end = start + span[1] - span[0]
            found.append(rows[start:end])
            start = end
        return found


def _textual(kind: Any) -> bool:
    """Whether an Arrow type holds text (``string`` or ``large_string``: the same ids)."""
    import pyarrow as pa

    return bool(pa.types.is_string(kind) or pa.types.is_large_string(kind))


def _repeated(ids: Any) -> dict[str, int]:
    """The ``person_id`` values on more than one row, with their number of rows."""
    import pyarrow.compute as pc

    counts = pc.value_counts(ids)
    several = counts.filter(pc.greater(counts.field("counts"), 1))
    return {
        person_id: rows
        for person_id, rows in zip(
            several.field("values").to_pylist(), several.field("counts").to_pylist(), strict=True
        )
        if isinstance(person_id, str)
    }


def _parquet(path: Path, handle: BinaryIO, pq: Any) -> Any:
    """The Parquet file read from ``handle`` (the file ``path``, open)."""
    try:
        return pq.ParquetFile(handle)
    except (OSError, ValueError) as error:
        raise InputError(
            "the person file cannot be read", [Problem(str(path), f"not a Parquet file ({error})")]
        ) from None


def _rows(table: Any) -> list[dict[str, Any]]:
    """The rows of an Arrow table or record batch as record fields, a null cell left out:
    read column by column (much cheaper than row by row), days through their numbers."""
    columns = [_cells(column) for column in table.columns]
    names = table.column_names
    rows = [dict(zip(names, values, strict=True)) for values in zip(*columns, strict=True)]
    for name, column in zip(names, table.columns, strict=True):
        if column.null_count:  # few columns have nulls (an open trip's exit): only those looked at
            for row in rows:
                if row[name] is None:
                    del row[name]
    return rows


#: The ordinal of 1970-01-01, the day Arrow counts its days from, and the days from it that
#: Python's dates can hold (years 1 to 9999).
_EPOCH = dt.date(1970, 1, 1).toordinal()
_FIRST_DAY, _LAST_DAY = dt.date.min.toordinal() - _EPOCH, dt.date.max.toordinal() - _EPOCH
#: Milliseconds in a day (Arrow's date64 counts them).
_DAY_MS = 86_400_000


def _cells(column: Any) -> list[Any]:
    """The cells of one column as record fields (see :func:`_plain`). A cell no Python value
    can hold (a day beyond the year 9999) is text saying so, for the record to refuse."""
    import pyarrow as pa

    kind = column.type
    if pa.types.is_date(kind):  # trips' days: pyarrow makes each date far more slowly
        days = (
            column.cast(pa.int32()).to_pylist()
            if pa.types.is_date32(kind)
            else [None if ms is None else ms // _DAY_MS for ms in column.cast(pa.int64()).to_pylist()]
        )
        fromordinal = dt.date.fromordinal
        return [
            None
            if day is None
            else fromordinal(day + _EPOCH)
            if _FIRST_DAY <= day <= _LAST_DAY
            else f"{day:+,} days from 1970-01-01 (beyond the years 1-9999)"
            for day in days
        ]
    try:
        cells = column.to_pylist()
    except (ValueError, OverflowError):  # some cell no Python value can hold: said in its place
        cells = [_cell(column, index) for index in range(len(column))]
    return cells if _read_as_it_is(kind) else [_plain(cell) for cell in cells]


def _cell(column: Any, index: int) -> Any:
    try:
        return column[index].as_py()
    except (ValueError, OverflowError):
        return f"a {column.type} value no Python value can hold"


def _read_as_it_is(kind: Any) -> bool:
    """Whether every cell of an Arrow type is a record field as pyarrow gives it (text,
    numbers, truth values, dates): :func:`_plain` would give it back unchanged."""
    import pyarrow as pa

    if pa.types.is_dictionary(kind):
        kind = kind.value_type
    return any(
        test(kind)
        for test in (
            pa.types.is_string,
            pa.types.is_large_string,
            pa.types.is_integer,
            pa.types.is_floating,
            pa.types.is_boolean,
            pa.types.is_date,
            pa.types.is_decimal,
            pa.types.is_null,
        )
    )


def _plain(value: Any) -> Any:
    """A cell as a record field: a date and time as ISO text (a crossing's instant), a struct
    as a mapping without its null fields, a list item by item."""
    if isinstance(value, dt.datetime):
        return value.isoformat()
    if isinstance(value, dict):
        return {key: _plain(item) for key, item in value.items() if item is not None}
    if isinstance(value, list):
        return [_plain(item) for item in value]
    return value
