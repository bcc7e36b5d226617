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
by ``person_id`` and looked up per person (for 10 million trips, a few hundred MB). Each row of
the persons table yields exactly one record, its trips and statuses in the order of the day
they start (an extract need not be sorted); a row the engine cannot read is an error record
in its place, like a JSON line.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from pathlib import Path
from typing import Any, BinaryIO

from rules.cli.records import Record, open_person_file
from rules.errors import InputError, Problem

__all__ = ["read_parquet_records"]

_BATCH = 10_000


def read_parquet_records(
    persons: Path, trips: Path | None = None, statuses: Path | None = None
) -> Iterator[Record]:
    """The records of ``persons`` with their ``trips`` and ``statuses`` (see the module)."""
    try:
        import pyarrow.parquet as pq
    except ImportError:
        raise InputError(
            "Parquet input needs pyarrow", [Problem(str(persons), "pip install 'kzmig[analysis]'")]
        ) from None
    companions = {
        "trips": _Companion(trips, ("person_id", "entry")) if trips is not None else None,
        "statuses": (
            _Companion(statuses, ("person_id", "kind", "valid_from")) if statuses is not None else None
        ),
    }
    with open_person_file(persons) as handle:
        source = _parquet(persons, handle, pq)
        if "person_id" not in source.schema_arrow.names:
            raise InputError("the person file cannot be read", [Problem(str(persons), "no column person_id")])
        index = 0
        for batch in source.iter_batches(batch_size=_BATCH):
            for row in batch.to_pylist():
                where = f"{persons}: row {index + 1}"
                person = {key: _plain(value) for key, value in row.items() if value is not None}
                person_id = person.get("person_id")
                for key, companion in companions.items():
                    if companion is not None and isinstance(person_id, str):
                        found = companion.rows_of(person_id)
                        if found:
                            person[key] = found
                yield Record(index, where, person)
                index += 1


class _Companion:
    """A table of rows per person (trips, statuses), sorted by person for look-up."""

    def __init__(self, path: Path, required: tuple[str, ...]) -> None:
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
        table = table.filter(pc.is_valid(table.column("person_id")))
        # By person, then by the day each row starts (a trip's entry, a status's valid_from): an
        # extract lists rows in no particular order, a record lists trips in the order of time.
        table = table.sort_by([("person_id", "ascending"), (required[-1], "ascending")])
        encoded = pc.run_end_encode(table.column("person_id").combine_chunks())
        ends = encoded.run_ends.to_pylist()
        self._runs = {
            person_id: (ends[number - 1] if number else 0, end)
            for number, (person_id, end) in enumerate(zip(encoded.values.to_pylist(), ends, strict=True))
        }
        self._table = table.drop_columns(["person_id"])

    def rows_of(self, person_id: str) -> list[dict[str, Any]]:
        run = self._runs.get(person_id)
        if run is None:
            return []
        start, end = run
        rows = self._table.slice(start, end - start).to_pylist()
        return [{key: _plain(value) for key, value in row.items() if value is not None} for row in rows]


def _parquet(path: Path, handle: BinaryIO, pq: Any) -> Any:
    """The Parquet file read from ``handle`` (the file ``path``, open)."""
    try:
        return pq.ParquetFile(handle)
    except (OSError, ValueError) as error:
        raise InputError(
            "the person file cannot be read", [Problem(str(path), f"not a Parquet file ({error})")]
        ) from None


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
