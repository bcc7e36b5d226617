"""``kzmig compare --engine columns``: the same output as the record engine's, for every output
and for the example populations; refused where it cannot read the file as columns."""

from __future__ import annotations

from pathlib import Path

import pytest
from typer.testing import CliRunner

from rules.cli.app import app

runner = CliRunner()
ROOT = Path(__file__).resolve().parents[1]
PERSONS = ROOT / "examples" / "persons"
AMENDMENTS = ROOT / "examples" / "amendments"


@pytest.mark.parametrize(
    ("people", "on", "amendment"),
    [
        ("population-2026.jsonl", "2026-03-20", "limit-60-days.yaml"),
        ("generated-2026.jsonl", "2026-03-01", "sanction-fines-doubled.yaml"),
        ("generated-2026.jsonl", "2024-08-01", "kyrgyz-citizens-not-subject.yaml"),
        ("applicants-2026.jsonl", "2026-06-01", "residence-language-b1.yaml"),
        ("families-2027.jsonl", "2027-07-01", "social-contract-pro-rata.yaml"),
    ],
)
@pytest.mark.parametrize("jobs", ["1", "2"])
def test_every_example_population_compared_by_columns_gives_the_record_engines_output(
    tmp_path: Path, people: str, on: str, amendment: str, jobs: str
) -> None:
    outputs = []
    for engine in ("records", "columns"):
        summary, changes = tmp_path / f"{engine}.json", tmp_path / f"{engine}.jsonl"
        arguments = ["compare", str(PERSONS / people), "--on", on, "--amend", str(AMENDMENTS / amendment)]
        result = runner.invoke(
            app,
            [*arguments, "--jobs", jobs, "--engine", engine, "--by", "stay.regime",
             "--summary", str(summary), "--changes", str(changes)],
        )  # fmt: skip
        assert result.exit_code == 0, result.stderr
        as_json = runner.invoke(app, [*arguments, "--engine", engine, "-f", "json"])
        assert as_json.exit_code == 0, as_json.stderr
        outputs.append((result.stdout, summary.read_text(), changes.read_text(), as_json.stdout))
    assert outputs[0] == outputs[1]


def test_2026_03_20_two_dates_compared_by_columns_give_the_record_engines_summary(tmp_path: Path) -> None:
    found = []
    for engine in ("records", "columns"):
        result = runner.invoke(
            app,
            ["compare", str(PERSONS / "population-2026.jsonl"), "--on", "2026-03-20", "--on", "2025-11-01",
             "--amend", str(AMENDMENTS / "limit-60-days.yaml"), "--engine", engine, "-f", "json"],
        )  # fmt: skip
        assert result.exit_code == 0, result.stderr
        found.append(result.stdout)
    assert found[0] == found[1] and '"changed"' in found[0]


def test_columns_refuse_standard_input_a_chunk_size_and_a_parquet_extract_saying_why(tmp_path: Path) -> None:
    amend = ["--amend", str(AMENDMENTS / "limit-60-days.yaml"), "--engine", "columns"]
    text = (PERSONS / "population-2026.jsonl").read_text(encoding="utf-8")
    piped = runner.invoke(app, ["compare", "-", *amend], input=text)
    assert piped.exit_code == 2 and "JSON Lines files" in piped.stderr
    chunked = runner.invoke(app, ["compare", str(PERSONS / "population-2026.jsonl"), "--chunk", "5", *amend])
    assert chunked.exit_code == 2 and "--chunk" in chunked.stderr
    told = runner.invoke(app, ["compare", str(PERSONS / "population-2026.jsonl"), "--command-reads", *amend])
    assert told.exit_code == 2 and "JSON Lines files" in told.stderr
    parquet = tmp_path / "persons.parquet"
    parquet.write_bytes(b"PAR1")
    refused = runner.invoke(app, ["compare", str(parquet), *amend])
    assert refused.exit_code == 2 and "JSON Lines files" in refused.stderr


@pytest.mark.parametrize(
    ("options", "lacking", "by_columns"),
    [
        (["--jobs", "2"], [], True),  # the workers read one JSON Lines file: the columns
        (["--jobs", "2", "--command-reads"], [], False),
        (["--jobs", "2", "--chunk", "50"], [], False),
        (["--jobs", "1"], [], False),  # the command reads the file
        (["--jobs", "2"], ["pyarrow"], False),  # without the columns' libraries: the records
        (["--jobs", "2", "--engine", "records"], [], False),
    ],
)
def test_2026_03_20_by_default_the_workers_reading_a_json_lines_file_compare_by_columns_with_the_same_output(
    monkeypatch: pytest.MonkeyPatch, options: list[str], lacking: list[str], by_columns: bool
) -> None:
    import rules.cli.compare as command

    chosen: list[bool] = []
    real = command._column_answers

    def column_answers() -> object:
        chosen.append(True)
        return real()

    monkeypatch.setattr(command, "_column_answers", column_answers)
    monkeypatch.setattr(command, "_columns_lacking", lambda: lacking)
    arguments = ["compare", str(PERSONS / "population-2026.jsonl"), "--on", "2026-03-20",
                 "--amend", str(AMENDMENTS / "limit-60-days.yaml"), "--progress", "off"]  # fmt: skip
    found = runner.invoke(app, [*arguments, *options])
    assert bool(chosen) is by_columns
    expected = runner.invoke(app, [*arguments, "--engine", "records"])
    assert (found.exit_code, found.stdout) == (expected.exit_code, expected.stdout)


def test_auto_chooses_the_record_engine_for_a_dask_cluster_whose_workers_may_lack_the_columns() -> None:
    from rules.cli.compare import Engine, _engine_for

    assert _engine_for(True, "tcp://scheduler:8786", None) is Engine.records
    assert _engine_for(False, None, None) is Engine.records
