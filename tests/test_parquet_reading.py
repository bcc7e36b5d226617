"""Reading a border-service extract from Parquet, column by column: each row is the record
field by field as pyarrow gives it row by row (a null cell left out, an instant as ISO text, a
struct without its null fields), and a cell no Python value can hold (a day beyond the year
9999) makes its record an error record, not the whole run an error."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

import pytest
from budget import examples
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from typer.testing import CliRunner

from rules.cli.app import app

pa = pytest.importorskip("pyarrow")
pq = pytest.importorskip("pyarrow.parquet")

from rules.cli.parquet import _plain, _rows  # noqa: E402  (needs pyarrow)

ROOT = Path(__file__).resolve().parents[1]
SIXTY_DAYS = str(ROOT / "examples" / "amendments" / "limit-60-days.yaml")
runner = CliRunner()


def _reference(table: Any) -> list[dict[str, Any]]:
    """Row by row, as pyarrow gives the rows."""
    return [
        {key: _plain(value) for key, value in row.items() if value is not None} for row in table.to_pylist()
    ]


_DAYS = st.one_of(st.none(), st.dates(dt.date(1, 1, 1), dt.date(9999, 12, 31)))
_COLUMNS = {
    "day32": (pa.date32(), _DAYS),
    "day64": (pa.date64(), _DAYS),
    "text": (pa.string(), st.one_of(st.none(), st.text(max_size=4))),
    "number": (pa.int64(), st.one_of(st.none(), st.integers(-(2**40), 2**40))),
    "flag": (pa.bool_(), st.one_of(st.none(), st.booleans())),
    "instant": (
        pa.timestamp("s"),
        st.one_of(st.none(), st.datetimes(dt.datetime(1900, 1, 1), dt.datetime(2100, 1, 1))),
    ),
    "section": (
        pa.struct([("born", pa.date32()), ("points", pa.int32())]),
        st.one_of(
            st.none(),
            st.fixed_dictionaries({"born": _DAYS, "points": st.one_of(st.none(), st.integers(0, 999))}),
        ),
    ),
    "codes": (pa.list_(pa.string()), st.one_of(st.none(), st.lists(st.text(max_size=2), max_size=3))),
}


@st.composite
def tables(draw: st.DrawFn) -> Any:
    names = draw(st.lists(st.sampled_from(sorted(_COLUMNS)), min_size=1, max_size=5, unique=True))
    size = draw(st.integers(0, 12))
    columns = {}
    for name in names:
        kind, cells = _COLUMNS[name]
        columns[name] = pa.array(draw(st.lists(cells, min_size=size, max_size=size)), kind)
    return pa.table(columns)


@settings(max_examples=examples(300), deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(tables(), st.booleans())
def test_a_table_read_column_by_column_gives_each_row_as_pyarrow_gives_it(table: Any, as_batch: bool) -> None:
    source = table.to_batches()[0] if as_batch and table.num_rows else table
    rows = _rows(source)
    assert rows == _reference(table)
    assert [list(row) for row in rows] == [list(row) for row in _reference(table)]  # the fields' order too


def test_a_trip_day_beyond_the_year_9999_makes_its_record_an_error_record_and_the_others_are_compared(
    tmp_path: Path,
) -> None:
    persons, trips = tmp_path / "persons.parquet", tmp_path / "trips.parquet"
    pq.write_table(pa.table({"person_id": ["A", "B"], "citizenship": ["RU", "RU"]}), persons)
    days = [20_400, 5_000_000]  # 2025-11-08, and a day no calendar of ours holds
    pq.write_table(
        pa.table(
            {
                "person_id": ["A", "B"],
                "entry": pa.array(days, pa.date32()),
                "exit": pa.array(days, pa.date32()),
            }
        ),
        trips,
    )
    result = runner.invoke(
        app, ["compare", str(persons), "--trips", str(trips), "--on", "2026-03-20", "--amend", SIXTY_DAYS]
    )
    assert result.exit_code == 1, result.stderr
    assert "records: 2; changed: 0; unchanged: 1; errors: 1" in result.stdout
    assert f"{persons}: row 2: the person record is not valid" in result.stderr
    assert "trips[0].entry" in result.stderr and "+5,000,000 days from 1970-01-01" in result.stderr
    assert "internal error" not in result.stderr


def test_2026_an_exit_and_a_re_entry_on_one_day_in_an_unsorted_extract_read_as_two_trips_in_order(
    tmp_path: Path,
) -> None:
    from rules.cli.parquet import read_parquet_records

    persons, trips = tmp_path / "persons.parquet", tmp_path / "trips.parquet"
    pq.write_table(pa.table({"person_id": ["A"], "citizenship": ["RU"]}), persons)
    day = dt.date.fromisoformat
    stays = [  # as an extract may list them: newest first, the open trip before the day trip
        ("2026-02-01", None),
        ("2026-02-01", "2026-02-01"),
        ("2026-01-10", "2026-01-20"),
        ("2026-01-10", "2026-01-10"),
    ]
    entries = pa.array([day(entry) for entry, _ in stays], pa.date32())
    exits = pa.array([day(exit_) if exit_ else None for _, exit_ in stays], pa.date32())
    pq.write_table(pa.table({"person_id": ["A"] * 4, "entry": entries, "exit": exits}), trips)
    (record,) = read_parquet_records(persons, trips)
    assert record.data is not None
    assert record.data["trips"] == [
        {"entry": day("2026-01-10"), "exit": day("2026-01-10")},
        {"entry": day("2026-01-10"), "exit": day("2026-01-20")},
        {"entry": day("2026-02-01"), "exit": day("2026-02-01")},
        {"entry": day("2026-02-01")},
    ]
    result = runner.invoke(
        app, ["compare", str(persons), "--trips", str(trips), "--on", "2026-03-20", "--amend", SIXTY_DAYS]
    )
    assert result.exit_code == 0, result.stderr
    assert "errors: 0" in result.stdout
