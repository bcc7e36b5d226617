"""Records read where they lie: ``kzmig compare --workers-read`` and the blocks of a file.

Each worker reads the lines that begin in its block of bytes. Whatever the cut, every line is
read exactly once, numbered as one reader numbers it, and the comparison gives exactly what it
gives when this command reads the file: the same summary, changed records, JSON lines, error
records (placed at ``file:line``) and exit code.
"""

from __future__ import annotations

import datetime as dt
import io
import json
import os
from pathlib import Path

import pytest
from budget import examples
from hypothesis import given, settings
from hypothesis import strategies as st
from typer.testing import CliRunner

from rules.analysis.aggregate import Impact
from rules.analysis.partitions import Tally, answers_of_files
from rules.analysis.population import PolicySpec, Population
from rules.analysis.population import Tally as PopulationTally
from rules.cli.app import app
from rules.policy.documents import MAX_LINE_BYTES, count_json_lines, json_lines

ROOT = Path(__file__).resolve().parents[1]
POPULATION = ROOT / "examples" / "persons" / "population-2026.jsonl"
SIXTY_DAYS = str(ROOT / "examples" / "amendments" / "limit-60-days.yaml")
runner = CliRunner()


def hostile_population(path: Path, copies: int = 3, *, long_line: bool = True) -> Path:
    """The example population, with lines no reader can take among the records: blank, not
    JSON, not UTF-8, not a mapping, too long, an impossible day."""
    lines = POPULATION.read_bytes().splitlines() * copies
    lines[5:5] = [b"", b"{not json", b'{"person_id": "\xff\xfe", "citizenship": "RU"}', b"[1, 2]", b"null"]
    if long_line:
        lines.insert(12, b'{"person_id": "' + b"x" * (MAX_LINE_BYTES + 10) + b'"}')
    lines.insert(20, b"   \r")
    lines.insert(30, b'{"person_id": "bad", "citizenship": "RU", "trips": [{"entry": "2026-02-30"}]}')
    path.write_bytes(b"\n".join(lines) + b"\n")
    return path


def reference_lines(data: bytes) -> list[tuple[int, bytes]]:
    """Brute force: every line (split at line feeds only) that is not blank, with its number."""
    pieces = data.split(b"\n")
    if pieces and pieces[-1] == b"":
        pieces.pop()  # the text after the last line feed is no line
    return [(number, line) for number, line in enumerate(pieces, 1) if line.strip()]


def read_in_blocks(data: bytes, cuts: list[int]) -> list[tuple[int, bytes]]:
    """The lines of ``data`` read block by block, each block numbering from the counts of
    those before it, as the workers do."""
    bounds = [0, *sorted(set(cut for cut in cuts if 0 < cut < len(data))), len(data)]
    found: list[tuple[int, bytes]] = []
    number = 1
    for start, end in zip(bounds, bounds[1:], strict=False):
        for line in json_lines(io.BytesIO(data), "f", start=start, end=end, first_number=number):
            found.append((line.number, json.dumps(line.data).encode() if not line.problems else b"?"))
        lines, records = count_json_lines(io.BytesIO(data), start=start, end=end)
        assert records == sum(1 for _ in json_lines(io.BytesIO(data), "f", start=start, end=end))
        number += lines
    return found


LINE = st.one_of(
    st.just(b""),
    st.just(b"  "),
    st.just(b"\r"),
    st.integers(-5, 10**6).map(lambda n: str(n).encode()),
    st.text(alphabet='ab\r {}"', max_size=12).map(lambda t: json.dumps({"k": t}).encode()),
    st.binary(max_size=8).filter(lambda b: b"\n" not in b),
)


@settings(max_examples=examples(300), deadline=None)
@given(st.lists(LINE, max_size=25), st.booleans(), st.lists(st.integers(0, 400), max_size=8))
def test_a_file_read_in_any_blocks_gives_each_line_once_with_its_number(
    lines: list[bytes], final_feed: bool, cuts: list[int]
) -> None:
    data = b"\n".join(lines) + (b"\n" if final_feed and lines else b"")
    whole = [
        (line.number, json.dumps(line.data).encode() if not line.problems else b"?")
        for line in json_lines(io.BytesIO(data), "f")
    ]
    assert [number for number, _ in whole] == [number for number, _ in reference_lines(data)]
    assert read_in_blocks(data, cuts) == whole


def test_a_line_longer_than_the_limit_is_one_problem_whichever_block_it_begins_in() -> None:
    data = b'{"a": 1}\n' + b"x" * (MAX_LINE_BYTES + 5) + b'\n{"b": 2}\n'
    for cut in (3, 9, 10, 500_000, MAX_LINE_BYTES + 14):
        found = read_in_blocks(data, [cut])
        assert found == [(1, b'{"a": 1}'), (2, b"?"), (3, b'{"b": 2}')], cut


def population(jobs: int = 1) -> Population:
    return Population(
        PolicySpec.of_files(None), PolicySpec.of_files(None, [SIXTY_DAYS]), [dt.date(2026, 3, 20)], jobs=jobs
    )


def test_2026_03_20_sixty_days_read_by_blocks_of_any_size_gives_the_answers_of_one_reader(tmp_path) -> None:
    people = hostile_population(tmp_path / "people.jsonl", long_line=False)  # small blocks: a short file
    arguments = ["compare", str(people), "--on", "2026-03-20", "--amend", SIXTY_DAYS, "-f", "json"]
    alone = runner.invoke(app, arguments)
    assert alone.exit_code == 1  # the lines that cannot be read: error records, the rest compared
    expected = [json.loads(line) for line in alone.stdout.splitlines()]
    assert sum("error" in line for line in expected) == 5  # "   \r" is blank, as "" is
    for block_bytes in (1, 97, 5_000, 10**9):
        found = []
        for answer in answers_of_files(population(), [str(people)], block_bytes=block_bytes):
            if answer.error is not None:
                found.append(answer.error)
            else:
                found.extend(
                    {"record": answer.record, **outcome.detail}
                    for outcome in answer.outcomes
                    if outcome.detail
                )
        assert found == [line for line in expected if "error" in line or line["changed"]], block_bytes


def test_2026_03_20_sixty_days_tallied_by_the_workers_counts_what_every_answer_counts(tmp_path) -> None:
    people = hostile_population(tmp_path / "people.jsonl", long_line=False)
    chosen = population()
    for block_bytes in (97, 5_000, 10**9):
        every = list(answers_of_files(chosen, [str(people)], block_bytes=block_bytes))
        tallied = list(answers_of_files(chosen, [str(people)], block_bytes=block_bytes, tally=True))
        whole, counted = (
            Impact.of(chosen.comparison, chosen.dates),
            Impact.of(chosen.comparison, chosen.dates),
        )
        for answer in every:
            whole.add(answer.outcomes, unreadable=not answer.outcomes)
        unchanged = [
            answer for answer in every if answer.error is None and not any(o.changed for o in answer.outcomes)
        ]
        kept = []
        for item in tallied:
            if isinstance(item, Tally):
                assert item.records > 0
                counted.merge(item.impact)
            else:
                counted.add(item.outcomes, unreadable=not item.outcomes)
                kept.append(item)
        assert sum(item.records for item in tallied if isinstance(item, Tally)) == len(unchanged) > 0
        assert kept == [answer for answer in every if answer not in unchanged]  # the same, in order
        assert counted.to_json() == whole.to_json(), block_bytes


def _read_here(path: Path) -> list[tuple[int, dict | None]]:
    """Each line of ``path`` that is not blank, numbered, as this command reads it for the
    population (``None``: a line it cannot read), and after every third one a record that
    cannot be read either: among unchanged records too."""
    found: list[dict | None] = []
    for index, line in enumerate(json_lines(io.BytesIO(path.read_bytes()), str(path))):
        found.append(line.data if not line.problems and isinstance(line.data, dict) else None)
        if index % 3 == 2:
            found.append(None)
    return list(enumerate(found))


def _numbered_when_read(records: list[tuple[int, dict | None]]) -> list[tuple[int, dict | None]]:
    """``records`` as a caller numbers them who counts only what it could read: the readable
    ones one after the other, those it could not read with no number of their own (-1)."""
    numbers = iter(range(len(records)))
    return [(next(numbers) if data is not None else -1, data) for _, data in records]


@pytest.mark.parametrize("numbered", ["every record", "only the readable"])
@pytest.mark.parametrize("chunk", [1, 4, 250])
def test_2026_03_20_sixty_days_tallied_where_compared_counts_what_every_outcome_counts(
    tmp_path: Path, chunk: int, numbered: str
) -> None:
    """The records read here and compared by the workers in chunks (a Parquet extract, a pipe):
    with ``tally``, each run of unchanged records numbered one after the other comes back as
    one tally, never across a record that could not be read, and the rest as they were;
    however the caller numbers the records it could not read."""
    records = _read_here(hostile_population(tmp_path / "people.jsonl", long_line=False))
    if numbered == "only the readable":
        records = _numbered_when_read(records)
    assert any(data is None for _, data in records)
    baseline, amended = PolicySpec.of_files(None), PolicySpec.of_files(None, [SIXTY_DAYS])
    chosen = Population(baseline, amended, [dt.date(2026, 3, 20)], chunk=chunk)
    every = list(chosen.outcomes(records, lambda item: item))
    tallied = list(chosen.outcomes(records, lambda item: item, tally=True))
    assert Tally is PopulationTally
    whole, counted = Impact.of(chosen.comparison, chosen.dates), Impact.of(chosen.comparison, chosen.dates)
    for (_, data), outcomes in every:
        whole.add(outcomes, unreadable=data is None)

    def unchanged(outcomes: list) -> bool:
        return bool(outcomes) and outcomes[0].error is None and not any(o.changed for o in outcomes)

    covered: list[int] = []  # the numbers of the records each tally stands for, in order
    handed_back: list[int] = []  # the numbers of unchanged records that came back as themselves
    kept = []
    position = 0  # in every
    for item in tallied:
        if isinstance(item, Tally):
            assert item.records > 0
            run = every[position : position + item.records]
            assert all(data is not None and unchanged(outcomes) for (_, data), outcomes in run)
            numbers = [number for (number, _), _ in run]
            assert numbers == list(range(numbers[0], numbers[0] + len(numbers)))  # one after the other
            covered.extend(numbers)
            counted.merge(item.impact)
            position += item.records
        else:
            (number, data), outcomes = item
            assert item == every[position]
            if data is not None and unchanged(outcomes):  # sent back one by one: see below
                handed_back.append(number)
            counted.add(outcomes, unreadable=data is None)
            kept.append(item)
            position += 1
    assert position == len(every)
    unchanged_numbers = [number for (number, data), found in every if data is not None and unchanged(found)]
    assert sorted(covered + handed_back) == unchanged_numbers
    assert kept
    if numbered == "every record":  # as kzmig numbers them: each unchanged record is in a tally
        assert covered == unchanged_numbers and not handed_back
    # Numbered only where readable, a chunk whose numbers run on across an unreadable record
    # comes back record by record, and the tallies of the others still never span one.
    assert counted.to_json() == whole.to_json()


@pytest.mark.parametrize("extra", [[], ["--jobs", "2"]], ids=["one process", "two worker processes"])
def test_kzmig_compare_with_workers_reading_prints_and_writes_what_it_does_reading_itself(
    tmp_path: Path, extra: list[str]
) -> None:
    people = hostile_population(tmp_path / "people.jsonl")
    outputs = {}
    for name, more in (("alone", []), ("workers", ["--workers-read", *extra])):
        summary, changes = tmp_path / f"{name}.json", tmp_path / f"{name}.jsonl"
        result = runner.invoke(
            app,
            ["compare", str(people), "--months", "2026-01..2026-03", "--amend", SIXTY_DAYS,
             "--summary", str(summary), "--changes", str(changes), *more],
        )  # fmt: skip
        written = (summary.read_text(), changes.read_text())
        outputs[name] = (result.exit_code, result.stdout, result.stderr, *written)
    assert outputs["workers"] == outputs["alone"]
    assert outputs["alone"][0] == 1
    assert f"{people}:7: cannot be read" in outputs["alone"][2]  # the line that is not JSON


def test_a_pattern_names_several_files_read_in_order_of_name_as_one_population(tmp_path: Path) -> None:
    lines = POPULATION.read_text(encoding="utf-8").splitlines()
    whole = tmp_path / "whole.jsonl"
    whole.write_text("\n".join(lines * 2) + "\n", encoding="utf-8")
    parts = tmp_path / "parts"
    parts.mkdir()
    (parts / "b.jsonl").write_text("\n".join(lines) + "\n", encoding="utf-8")
    (parts / "a.jsonl").write_text("\n".join(lines) + "\n", encoding="utf-8")
    arguments = ["--on", "2026-03-20", "--amend", SIXTY_DAYS]
    alone = runner.invoke(app, ["compare", str(whole), *arguments])
    spread = runner.invoke(app, ["compare", str(parts / "*.jsonl"), *arguments, "--workers-read"])
    assert spread.exit_code == alone.exit_code == 0, spread.stderr
    assert spread.stdout.replace(str(parts / "*.jsonl"), "X") == alone.stdout.replace(str(whole), "X")


@pytest.mark.parametrize(
    ("people", "message", "code"),
    [
        ("missing.jsonl", "missing.jsonl: no such file", 1),
        ("none-*.jsonl", "none-*.jsonl: no file matches this pattern", 1),
        ("-", "--workers-read reads JSON Lines files", 2),
        ("people.parquet", "--workers-read reads JSON Lines files", 2),
    ],
)
def test_what_the_workers_cannot_read_is_a_clear_error(
    tmp_path: Path, monkeypatch, people: str, message: str, code: int
) -> None:
    monkeypatch.chdir(tmp_path)
    result = runner.invoke(
        app, ["compare", people, "--on", "2026-03-20", "--amend", SIXTY_DAYS, "--workers-read"]
    )
    assert result.exit_code == code
    assert message in result.stderr
    assert "Traceback" not in result.stderr


def test_a_directory_named_like_a_person_file_is_refused_before_any_work(tmp_path: Path) -> None:
    folder = tmp_path / "folder.jsonl"
    folder.mkdir()
    result = runner.invoke(
        app, ["compare", str(folder), "--on", "2026-03-20", "--amend", SIXTY_DAYS, "--workers-read"]
    )
    assert result.exit_code == 1
    assert "folder.jsonl: is a directory, not a file" in result.stderr


def test_a_worker_that_finds_a_pipe_where_the_file_was_says_so_instead_of_waiting(tmp_path: Path) -> None:
    """The command checks the file on its own machine; a worker's file system may hold a FIFO at
    that path, which would block a plain open for ever."""
    import os

    from rules.analysis.partitions import compare_block, count_block

    pipe = tmp_path / "people.jsonl"
    os.mkfifo(pipe)
    found = count_block(str(pipe), 0, 100)
    refused = "cannot be read on a worker: is not a regular file (a device, a pipe or a socket): refused"
    assert found == refused
    spec = PolicySpec.of_files(None)
    found = compare_block(spec, spec, (str(pipe), 0, 100, 1, 0), [dt.date(2026, 3, 20)], ())
    assert found == refused


def _reader_of_each_run(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """Who read PEOPLE in each ``kzmig compare`` run from here on: the workers or the command."""
    import rules.analysis.partitions as partitions
    import rules.cli.compare as compare

    readers: list[str] = []
    by_workers, by_command = partitions.answers_of_files, compare._local_answers

    def workers(*args, **kwargs):  # type: ignore[no-untyped-def]
        readers.append("workers")
        return by_workers(*args, **kwargs)

    def command(*args, **kwargs):  # type: ignore[no-untyped-def]
        readers.append("command")
        return by_command(*args, **kwargs)

    monkeypatch.setattr(partitions, "answers_of_files", workers)
    monkeypatch.setattr(compare, "_local_answers", command)
    return readers


@pytest.mark.parametrize(
    ("more", "reader"),
    [
        (["--jobs", "2"], "workers"),
        (["--jobs", "2", "--command-reads"], "command"),
        (["--jobs", "2", "--chunk", "40"], "command"),
        ([], "command"),
        (["--workers-read"], "workers"),
    ],
    ids=["jobs: the workers read", "told: the command reads", "a chunk: the command reads",
         "one process: the command reads", "told: the workers read"],
)  # fmt: skip
def test_2026_03_20_sixty_days_with_jobs_the_workers_read_a_json_lines_file_unless_told_alike(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, more: list[str], reader: str
) -> None:
    people = hostile_population(tmp_path / "people.jsonl", copies=2)
    summary = tmp_path / "summary.json"
    arguments = ["compare", str(people), "--on", "2026-03-20", "--amend", SIXTY_DAYS]
    arguments += ["--summary", str(summary)]
    alone = runner.invoke(app, arguments)
    expected = (alone.exit_code, alone.stdout, alone.stderr, summary.read_text())
    readers = _reader_of_each_run(monkeypatch)
    result = runner.invoke(app, [*arguments, *more])
    assert readers == [reader]
    assert (result.exit_code, result.stdout, result.stderr, summary.read_text()) == expected
    assert expected[0] == 1  # the lines no reader can take are error records, either way


def test_with_jobs_a_pipe_or_another_format_is_read_by_the_command_and_a_pattern_by_the_workers(
    tmp_path: Path,
) -> None:
    from rules.cli.compare import _workers_may_read
    from rules.cli.records import InputFormat

    AUTO = InputFormat.auto
    people = str(hostile_population(tmp_path / "people.jsonl", copies=1))
    pipe = tmp_path / "pipe.jsonl"
    os.mkfifo(pipe)
    (tmp_path / "people.json").write_text("[]")
    assert _workers_may_read(people, AUTO, 2, None, None)
    assert not _workers_may_read(people, AUTO, 2, None, 40)  # a chunk size is for the command's reading
    assert not _workers_may_read(people, AUTO, 1, None, None)  # one process: nothing to share out
    assert not _workers_may_read(people, AUTO, 2, "tcp://scheduler:8786", None)  # may not see the file
    assert not _workers_may_read(str(pipe), AUTO, 2, None, None)  # only one reader can read a pipe
    assert not _workers_may_read(str(tmp_path / "people.json"), AUTO, 2, None, None)
    assert not _workers_may_read(str(tmp_path / "absent.jsonl"), AUTO, 2, None, None)  # the command says
    assert not _workers_may_read("-", AUTO, 2, None, None)
    assert _workers_may_read(str(tmp_path / "*.jsonl"), AUTO, 1, None, None)  # only the workers read one
    assert not _workers_may_read(str(tmp_path / "*.jsonl"), AUTO, 2, "tcp://scheduler:8786", None)
    assert _workers_may_read(str(tmp_path / "people.json"), InputFormat.jsonl, 2, None, None)  # as told
