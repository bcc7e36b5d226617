"""The lines of a population file compared by the columnar path where it can and by the record
engine where it cannot (``rules.columns.population``) give every record exactly the answer the
record engine alone gives it, in input order: travellers, applicants, families, records with
statuses, and lines that are blank, broken, too long or not UTF-8."""

from __future__ import annotations

import datetime as dt
import io
import json
from pathlib import Path
from typing import Any

import pytest
from budget import examples
from columns_blocks import travellers
from hypothesis import given, settings
from hypothesis import strategies as st

from rules.analysis.partitions import record_answer
from rules.analysis.population import PolicySpec, Tally, built_comparison
from rules.columns.population import answers_of_lines
from rules.policy.documents import MAX_LINE_BYTES, json_lines, numbered_lines

AMENDMENTS = Path(__file__).resolve().parents[1] / "examples" / "amendments"
AMENDED = ("limit-60-days.yaml", "sanction-fines-doubled.yaml", "kyrgyz-citizens-not-subject.yaml")


@pytest.fixture(scope="module")
def comparisons() -> dict[str, object]:
    return {
        name: built_comparison(PolicySpec.of_files(None), PolicySpec.of_files(None, [str(AMENDMENTS / name)]))
        for name in AMENDED
    }


def _both(comparison: object, text: bytes, dates: list[dt.date], group_by: tuple[str, ...]) -> None:
    expected = [
        record_answer(comparison, index, "people.jsonl", line, dates, group_by)  # type: ignore[arg-type]
        for index, line in enumerate(json_lines(io.BytesIO(text), "people.jsonl"))
    ]
    lines = numbered_lines(io.BytesIO(text), 0, None, 1)
    found = answers_of_lines(comparison, "people.jsonl", lines, 0, dates, group_by)  # type: ignore[arg-type]
    assert found == expected
    # Counted as columns: the same impact, and the answers of the others as they were.
    lines = numbered_lines(io.BytesIO(text), 0, None, 1)
    tallied = answers_of_lines(comparison, "people.jsonl", lines, 0, dates, group_by, tally=True)  # type: ignore[arg-type]
    from rules.analysis.aggregate import Impact

    impacts = [Impact.of(comparison, dates), Impact.of(comparison, dates)]  # type: ignore[arg-type]
    for answer in expected:
        impacts[0].add(answer.outcomes, unreadable=not answer.outcomes)
    for item in tallied:
        if isinstance(item, Tally):
            impacts[1].merge(item.impact)
        else:
            impacts[1].add(item.outcomes, unreadable=not item.outcomes)
    assert impacts[1] == impacts[0]
    assert [item for item in tallied if not isinstance(item, Tally)] == [
        answer for answer in expected if answer.error is not None or any(o.changed for o in answer.outcomes)
    ]


def test_2026_06_01_a_generated_population_is_answered_as_by_the_record_engine(
    comparisons: dict[str, object],
) -> None:
    from bench_population import population_records

    lines = [json.dumps(record) for record in population_records(400, 2026)]
    lines[5:5] = ["", "{broken", '{"person_id": "P-x", "citizenship": " ru", "trips": []}', "[1, 2]"]
    lines.insert(40, '{"person_id": "P-y", "trips": [{"entry": "2026-02-30"}]}')
    text = (
        ("\n".join(lines) + "\n").encode()
        + b"\xff\xfe\n"
        + b'{"person_id": "'
        + b"x" * MAX_LINE_BYTES
        + b'"}\n'
    )
    for name in AMENDED:
        _both(comparisons[name], text, [dt.date(2026, 6, 1), dt.date(2025, 1, 1)], ("stay.regime",))


@settings(max_examples=examples(30), deadline=None)
@given(
    st.lists(travellers(), min_size=1, max_size=12),
    st.dates(dt.date(2023, 1, 1), dt.date(2027, 12, 31)),
    st.sampled_from(AMENDED),
)
def test_any_day_generated_travellers_are_answered_as_by_the_record_engine(
    comparisons: dict[str, object], persons: list[object], as_of: dt.date, amendment: str
) -> None:
    text = "".join(
        json.dumps(person.model_dump(mode="json", exclude_none=True, exclude_defaults=True)) + "\n"  # type: ignore[attr-defined]
        for person in persons
    ).encode()
    _both(comparisons[amendment], text, [as_of], ())


@pytest.mark.parametrize("tally", [False, True])
def test_a_file_read_in_small_blocks_by_columns_gives_the_record_engines_answers_and_tallies(
    tmp_path: Path, tally: bool
) -> None:
    from bench_population import population_records

    from rules.analysis.partitions import answers_of_files
    from rules.analysis.population import Population
    from rules.columns.population import column_answers

    people = tmp_path / "people.jsonl"
    lines = [json.dumps(record) for record in population_records(300, 2026)]
    lines[7:7] = ["", "{broken"]
    people.write_text("\n".join(lines) + "\n", encoding="utf-8")
    found = []
    for answers in (None, column_answers):
        population = Population(
            PolicySpec.of_files(None),
            PolicySpec.of_files(None, [str(AMENDMENTS / "limit-60-days.yaml")]),
            [dt.date(2026, 3, 20)],
            block_answers=answers,
        )
        found.append(list(answers_of_files(population, [str(people)], block_bytes=4096, tally=tally)))
    if tally:  # the same answers of the records that changed or failed, in order, and the same impact
        # (the columns count a block's unchanged records in one tally, ahead of its other answers)
        for run in found:
            assert any(isinstance(item, Tally) for item in run)
        assert _impact(population, found[0]).to_json() == _impact(population, found[1]).to_json()
        found = [[item for item in run if not isinstance(item, Tally)] for run in found]
    assert found[0] == found[1]


def _impact(population: Any, items: list[Any]) -> Any:
    """The impact of a run's answers and tallies, as ``kzmig compare`` sums them."""
    from rules.analysis.aggregate import Impact

    impact = Impact.of(population.comparison, population.dates)
    for item in items:
        if isinstance(item, Tally):
            impact.merge(item.impact)
        else:
            impact.add(item.outcomes, unreadable=not item.outcomes)
    return impact
