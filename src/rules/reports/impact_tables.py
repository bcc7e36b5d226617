"""The impact of an amendment as tables, for pandas, polars or duckdb (``kzmig compare --tables``).

Two tables, in CSV or Parquet, written as the records stream through (Parquet in row groups,
so memory stays flat):

* ``records``: a row per record and date: ``record``, ``person_id``, ``as_of``,
  ``citizenship``, ``changed`` (true/false), ``changed_figures`` (their names, ``;``-joined),
  ``notes``, ``error`` (the error of a record that could not be compared: then ``as_of`` is
  empty), and ``<programme>_before`` / ``<programme>_after``: each programme's status.
* ``changes``: a row per changed figure: ``record``, ``person_id``, ``as_of``, ``figure``,
  ``before`` and ``after`` as JSON text, and ``before_number`` / ``after_number`` when the
  figure is an amount (days, points, tenge).
"""

from __future__ import annotations

import csv
import json
from enum import StrEnum
from pathlib import Path
from types import TracebackType
from typing import TYPE_CHECKING, Any

from rules.analysis.figures import is_amount, plain
from rules.errors import KzmigError

if TYPE_CHECKING:
    from rules.analysis.outcome import Outcome

__all__ = ["TableFormat", "TableWriter"]


class TableFormat(StrEnum):
    csv = "csv"
    parquet = "parquet"


_CHANGES = ("record", "person_id", "as_of", "figure", "before", "after", "before_number", "after_number")
_ROWS_PER_GROUP = 50_000


class TableWriter:
    """Writes the two tables to ``directory`` (created if needed) as outcomes arrive."""

    def __init__(self, directory: Path, table_format: TableFormat, programmes: list[str]) -> None:
        self.directory = directory
        self.format = table_format
        self.programmes = programmes
        self.record_columns = [
            "record",
            "person_id",
            "as_of",
            "citizenship",
            "changed",
            "changed_figures",
            "notes",
            "error",
            *(f"{name}_{side}" for name in programmes for side in ("before", "after")),
        ]
        self._rows: dict[str, list[dict[str, Any]]] = {"records": [], "changes": []}
        self._sinks: dict[str, Any] = {}
        self._files: list[Any] = []

    def __enter__(self) -> TableWriter:
        try:
            self.directory.mkdir(parents=True, exist_ok=True)
        except OSError as error:
            raise KzmigError(f"{self.directory}: cannot be created ({error.strerror})") from None
        if self.format is TableFormat.csv:
            for name, columns in (("records", self.record_columns), ("changes", list(_CHANGES))):
                handle = (self.directory / f"{name}.csv").open("w", encoding="utf-8", newline="")
                self._files.append(handle)
                sink = csv.DictWriter(handle, fieldnames=columns)
                sink.writeheader()
                self._sinks[name] = sink
        else:
            try:
                import pyarrow as pa  # noqa: F401 - imported here: only Parquet needs it
            except ImportError:
                raise KzmigError("Parquet tables need pyarrow: pip install 'kzmig[analysis]'") from None
        return self

    def outcome(self, outcome: Outcome) -> None:
        """Add one record on one date."""
        row: dict[str, Any] = {
            "record": outcome.record,
            "person_id": outcome.person_id,
            "as_of": outcome.as_of,
            "citizenship": outcome.citizenship,
            "changed": bool(outcome.changed),
            "changed_figures": ";".join(outcome.changed),
            "notes": " | ".join(outcome.notes) or None,
            "error": None,
        }
        for name in self.programmes:
            before, after = outcome.statuses.get(name, (None, None))
            row[f"{name}_before"], row[f"{name}_after"] = before, after
        self._add("records", row)
        detail = outcome.detail or {}
        old, new = detail.get("before", {}), detail.get("after", {})
        for figure in outcome.changed:
            amounts = outcome.amounts.get(figure, (None, None))
            self._add(
                "changes",
                {
                    "record": outcome.record,
                    "person_id": outcome.person_id,
                    "as_of": outcome.as_of,
                    "figure": figure,
                    "before": json.dumps(old.get(figure), ensure_ascii=False),
                    "after": json.dumps(new.get(figure), ensure_ascii=False),
                    "before_number": _number(amounts[0]),
                    "after_number": _number(amounts[1]),
                },
            )

    def error(self, record: int, person_id: str | None, error: dict[str, Any]) -> None:
        """Add a record that could not be compared."""
        row = dict.fromkeys(self.record_columns)
        row.update(
            record=record,
            person_id=person_id,
            changed=False,
            changed_figures="",
            error=f"{error['kind']}: {error['message']}",
        )
        self._add("records", row)

    def _add(self, table: str, row: dict[str, Any]) -> None:
        if self.format is TableFormat.csv:
            self._sinks[table].writerow({key: _cell(value) for key, value in row.items()})
            return
        rows = self._rows[table]
        rows.append(row)
        if len(rows) >= _ROWS_PER_GROUP:
            self._flush(table)

    def _flush(self, table: str) -> None:
        import pyarrow as pa
        import pyarrow.parquet as pq

        rows = self._rows[table]
        schema = self._schema(table)
        batch = pa.Table.from_pylist(rows, schema=schema)
        writer = self._sinks.get(table)
        if writer is None:
            writer = self._sinks[table] = pq.ParquetWriter(self.directory / f"{table}.parquet", schema)
        writer.write_table(batch)
        rows.clear()

    def _schema(self, table: str) -> Any:
        import pyarrow as pa

        if table == "changes":
            return pa.schema(
                [
                    ("record", pa.int64()),
                    ("person_id", pa.string()),
                    ("as_of", pa.date32()),
                    ("figure", pa.string()),
                    ("before", pa.string()),
                    ("after", pa.string()),
                    ("before_number", pa.float64()),
                    ("after_number", pa.float64()),
                ]
            )
        fields = [
            ("record", pa.int64()),
            ("person_id", pa.string()),
            ("as_of", pa.date32()),
            ("citizenship", pa.string()),
            ("changed", pa.bool_()),
            ("changed_figures", pa.string()),
            ("notes", pa.string()),
            ("error", pa.string()),
        ]
        fields += [(name, pa.string()) for name in self.record_columns[len(fields) :]]
        return pa.schema(fields)

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        if self.format is TableFormat.parquet:
            for table in ("records", "changes"):
                if self._rows[table] or table not in self._sinks:
                    self._flush(table)
                self._sinks[table].close()
        for handle in self._files:
            handle.close()


def _number(value: Any) -> float | None:
    return float(value) if is_amount(value) else None


def _cell(value: Any) -> Any:
    value = plain(value)
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    return value
