"""Hostile input, one regression test per reproducer measured against kzmig: each gives a clear
error or the right verdict, and a batch keeps every other record.

The cases that could hang or exhaust memory if the guard failed run in a child interpreter
with a limit on its address space and a timeout, so that a regression fails one test cleanly.
Timing is never asserted here: ``benchmarks/bench_hostile.py`` measures time and memory.
"""

from __future__ import annotations

import datetime as dt
import importlib
import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st
from typer.testing import CliRunner

import rules
from rules.cli import app, main

ROOT = Path(__file__).resolve().parents[1]
runner = CliRunner()
RUSSIAN = {"person_id": "R", "citizenship": "RU", "trips": [{"entry": "2024-01-10", "exit": "2024-02-10"}]}


def kzmig(*args: str) -> tuple[int, str, str]:
    result = runner.invoke(app, list(args))
    return result.exit_code, result.stdout, result.stderr


def billion_laughs(levels: int = 9) -> str:
    """A YAML document of a few hundred bytes that stands for 9^levels values through aliases."""
    lines = ['a0: &a0 ["lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol"]']
    for level in range(1, levels):
        refs = ", ".join([f"*a{level - 1}"] * 9)
        lines.append(f"a{level}: &a{level} [{refs}]")
    return "\n".join(lines) + "\n"


def run_bounded(code: str, memory_mb: int = 600, timeout: float = 60) -> subprocess.CompletedProcess[str]:
    """``code`` in a fresh interpreter limited to ``memory_mb`` of address space."""
    prelude = (
        f"import resource\nresource.setrlimit(resource.RLIMIT_AS, ({memory_mb} << 20, {memory_mb} << 20))\n"
    )
    return subprocess.run(
        [sys.executable, "-c", prelude + textwrap.dedent(code)],
        capture_output=True,
        text=True,
        timeout=timeout,
        cwd=ROOT,
    )


def kzmig_bounded(*args: str, timeout: float = 60) -> subprocess.CompletedProcess[str]:
    """``kzmig args`` in a fresh interpreter with bounded memory."""
    argv = ["kzmig", *args]
    code = f"import sys; from rules.cli import main; sys.argv = {argv!r}; main()"
    return run_bounded(code, timeout=timeout)


# --- YAML aliases expanded without bound --------------------------------------------------------


def test_an_amendment_of_nested_yaml_aliases_is_refused_not_expanded(tmp_path: Path) -> None:
    path = tmp_path / "laughs.yaml"
    path.write_text("schema: kzmig/policy/2\ntitle: Billion laughs\n" + billion_laughs(), encoding="utf-8")
    assert len(path.read_bytes()) < 600
    done = run_bounded(
        f"""
        import rules
        try:
            rules.load_policy(amendments=[{str(path)!r}])
        except rules.PolicyError as error:
            print(error.describe())
        """
    )
    assert done.returncode == 0, done.stderr
    assert "expands to more than 200,000 values" in done.stdout


def test_a_person_file_of_nested_yaml_aliases_is_refused_with_exit_1(tmp_path: Path) -> None:
    path = tmp_path / "laughs.yaml"
    path.write_text("person_id: L\n" + billion_laughs(), encoding="utf-8")
    done = kzmig_bounded("check", str(path))
    assert done.returncode == 1, done.stderr
    assert "expands to more than 200,000 values" in done.stderr
    assert "Traceback" not in done.stderr


# --- one record cannot stop a batch -------------------------------------------------------------


def _batch(tmp_path: Path, lines: list[bytes]) -> Path:
    path = tmp_path / "batch.jsonl"
    path.write_bytes(b"".join(line + b"\n" for line in lines))
    return path


def _json_lines(out: str) -> list[dict[str, object]]:
    return [json.loads(line) for line in out.splitlines() if line.strip()]


GOOD = json.dumps(RUSSIAN).encode()
DRIVER = ROOT / "examples" / "persons" / "driver-A-17.json"


@pytest.mark.parametrize(
    ("bad", "message"),
    [
        pytest.param(b"[" * 1000 + b"]" * 1000, "nested more than 64 levels deep", id="nested 1,000 deep"),
        pytest.param(
            b'{"person_id": "N", "citizenship": "RU", "trips": [], "x": ' + b"9" * 5000 + b"}",
            "not valid JSON",
            id="a 5,000-digit integer",
        ),
        pytest.param(b'{"person_id": "U", "citizenship": "R\xff"}', "not UTF-8 text", id="a byte not UTF-8"),
        pytest.param(b'{"person_id": "D", "person_id": "E"}', "given twice", id="a key given twice"),
        pytest.param(b'{"person_id": NaN}', "NaN is not a JSON number", id="NaN"),
    ],
)
def test_a_batch_keeps_every_record_around_a_line_that_cannot_be_read(
    tmp_path: Path, bad: bytes, message: str
) -> None:
    path = _batch(tmp_path, [GOOD, bad, GOOD])
    code, out, _ = kzmig("check", str(path), "--on", "2024-03-01", "--format", "json")
    records = _json_lines(out)
    assert code == 1
    assert len(records) == 3
    assert [("error" in record) for record in records] == [False, True, False]
    error = records[1]["error"]
    assert isinstance(error, dict) and message in " ".join(error["problems"])
    assert records[2]["person_id"] == "R"


def test_a_carriage_return_inside_a_record_does_not_split_it_or_shift_the_records(tmp_path: Path) -> None:
    with_cr = b'{"person_id": "C\rR", "citizenship": "RU", "trips": []}'
    path = _batch(tmp_path, [GOOD, with_cr, GOOD])
    code, out, _ = kzmig("check", str(path), "--on", "2024-03-01", "--format", "json")
    records = _json_lines(out)
    assert code == 1 and len(records) == 3
    assert records[1]["where"] == f"{path}:2"
    assert "control character" in records[1]["error"]["problems"][0]
    assert "error" not in records[2] and records[2]["person_id"] == "R"


def test_a_byte_not_utf8_loses_only_its_own_record_of_2000(tmp_path: Path) -> None:
    lines = [GOOD] * 2000
    lines[1000] = b'{"person_id": "B\xc3"}'
    path = _batch(tmp_path, lines)
    code, out, _ = kzmig("check", str(path), "--on", "2024-03-01", "--format", "json")
    records = _json_lines(out)
    assert code == 1
    assert len(records) == 2000
    assert sum(1 for record in records if "error" in record) == 1
    assert records[1000]["where"] == f"{path}:1001"


def test_2024_01_01_a_crossing_at_year_1_plus_14_hours_is_an_error_record_and_the_batch_goes_on(
    tmp_path: Path,
) -> None:
    early = {
        "person_id": "Y1",
        "citizenship": "RU",
        "crossings": [{"direction": "entry", "at": "0001-01-01T00:00:00+14:00"}],
    }
    path = _batch(tmp_path, [GOOD, json.dumps(early).encode(), GOOD])
    code, out, _ = kzmig("check", str(path), "--on", "2024-01-01", "--format", "json")
    records = _json_lines(out)
    assert code == 1 and len(records) == 3
    error = records[1]["error"]
    assert isinstance(error, dict)
    assert "crossings[0].at" in " ".join(error["problems"])


def test_2022_12_01_a_crossings_record_before_the_limit_is_not_applicable_like_the_same_trips() -> None:
    crossings = {
        "person_id": "X",
        "citizenship": "RU",
        "crossings": [{"direction": "entry", "at": "2022-10-01"}, {"direction": "exit", "at": "2022-11-01"}],
    }
    trips = {"person_id": "X", "citizenship": "RU", "trips": [{"entry": "2022-10-01", "exit": "2022-11-01"}]}
    on = dt.date(2022, 12, 1)
    statuses = {rules.evaluate(record, on=on).stay.status for record in (crossings, trips)}
    assert statuses == {"not_applicable"}


# --- .json read by one strict parser ------------------------------------------------------------


def test_an_escaped_emoji_in_a_json_file_is_read(tmp_path: Path) -> None:
    path = tmp_path / "emoji.json"
    path.write_text('{"person_id": "\\ud83d\\ude00", "citizenship": "RU", "trips": []}', encoding="utf-8")
    code, out, _ = kzmig("check", str(path), "--on", "2024-03-01", "--format", "json")
    assert code == 0 and json.loads(out)["person_id"] == "\U0001f600"


@pytest.mark.parametrize(
    ("text", "message"),
    [
        pytest.param('{"person_id": NaN, "trips": []}', "NaN is not a JSON number", id="NaN"),
        pytest.param('{"person_id": "A", "person_id": "B"}', "given twice", id="duplicate key"),
    ],
)
def test_a_json_file_is_refused_as_its_json_lines_are(tmp_path: Path, text: str, message: str) -> None:
    path = tmp_path / "person.json"
    path.write_text(text, encoding="utf-8")
    code, _, err = kzmig("check", str(path), "--on", "2024-03-01")
    assert code == 1 and message in err and "Traceback" not in err


# --- dates and zones ----------------------------------------------------------------------------


def test_9999_12_31_a_stay_in_the_calendars_last_year_gets_a_verdict() -> None:
    person = {"person_id": "Y", "citizenship": "RU", "trips": [{"entry": "9999-12-01"}]}
    verdict = rules.evaluate(person, on=dt.date(9999, 12, 31))
    assert verdict.stay.status == "compliant"
    assert verdict.stay.days_used == 31 and verdict.stay.latest_exit is None


def test_a_crossing_in_the_hosts_localtime_zone_is_refused() -> None:
    person = {
        "person_id": "Z",
        "citizenship": "RU",
        "crossings": [{"direction": "entry", "at": "2024-03-01T10:00:00+05:00", "tz": "localtime"}],
    }
    with pytest.raises(rules.InputError) as caught:
        rules.evaluate(person, on=dt.date(2024, 3, 2))
    assert caught.value.problems[0].where == "crossings[0].tz"


# --- special files ------------------------------------------------------------------------------


@pytest.mark.skipif(not Path("/dev/zero").exists(), reason="no /dev/zero")
def test_dev_zero_as_a_person_file_is_refused_at_once() -> None:
    done = kzmig_bounded("check", "/dev/zero")
    assert done.returncode == 1
    assert "not a regular file" in done.stderr


@pytest.mark.skipif(not Path("/dev/zero").exists(), reason="no /dev/zero")
def test_dev_zero_as_an_amendment_is_refused_at_once() -> None:
    done = kzmig_bounded("policy", "check", "--amend", "/dev/zero")
    assert done.returncode == 3
    assert "not a regular file" in done.stderr


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="no named pipes here")
@pytest.mark.parametrize("suffix", [".json", ".jsonl", ".yaml"])
def test_a_named_pipe_as_a_person_file_is_refused_without_blocking(tmp_path: Path, suffix: str) -> None:
    fifo = tmp_path / f"pipe{suffix}"
    os.mkfifo(fifo)
    done = kzmig_bounded("check", str(fifo), timeout=30)
    assert done.returncode == 1
    assert "not a regular file" in done.stderr


def test_a_person_file_larger_than_10_mb_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "big.yaml"
    path.write_bytes(b"person_id: B\n" + b"# padding\n" * 1_100_000)
    code, _, err = kzmig("check", str(path))
    assert code == 1 and "larger than 10,485,760 bytes" in err


def test_a_json_line_longer_than_a_megabyte_is_one_error_record(tmp_path: Path) -> None:
    long_line = b'{"person_id": "' + b"L" * (2 << 20) + b'"}'
    path = _batch(tmp_path, [GOOD, long_line, GOOD])
    code, out, _ = kzmig("check", str(path), "--on", "2024-03-01", "--format", "json")
    records = _json_lines(out)
    assert code == 1 and len(records) == 3 and "error" in records[1]


# --- bounded messages ---------------------------------------------------------------------------


def test_an_error_never_repeats_a_huge_input_in_full() -> None:
    with pytest.raises(rules.InputError) as caught:
        rules.evaluate({"person_id": "P", "citizenship": "X" * 10_000_000})
    text = caught.value.describe()
    assert len(text) < 3_000
    assert "'... (10,000,000 characters) is not an ISO 3166-1 alpha-2 country code" in text


def test_a_record_with_more_than_10000_trips_is_refused() -> None:
    trips = [{"entry": "2024-01-01", "exit": "2024-01-01"}] * 10_001
    with pytest.raises(rules.InputError) as caught:
        rules.evaluate({"person_id": "T", "citizenship": "RU", "trips": trips})
    assert caught.value.problems[0].where == "trips"


# --- forks and internal errors ------------------------------------------------------------------


@pytest.mark.skipif(not hasattr(os, "fork"), reason="no fork here")
def test_forked_children_evaluate_while_the_parent_evaluates_in_another_thread() -> None:
    done = run_bounded(
        """
        import datetime as dt, os, threading, time
        import rules
        trip = {"entry": "2024-01-01", "exit": "2024-03-01"}
        person = {"person_id": "F", "citizenship": "RU", "trips": [trip]}
        rules.evaluate(person, on=dt.date(2024, 3, 2))
        stop = False
        def busy():
            while not stop:
                rules.evaluate(person, on=dt.date(2024, 3, 2))
        thread = threading.Thread(target=busy)
        thread.start()
        hung = 0
        for _ in range(20):
            pid = os.fork()
            if pid == 0:
                verdict = rules.evaluate(person, on=dt.date(2024, 3, 2))
                os._exit(0 if verdict.stay.status == "compliant" else 1)
            deadline = time.monotonic() + 5
            while True:
                done, status = os.waitpid(pid, os.WNOHANG)
                if done:
                    assert os.waitstatus_to_exitcode(status) == 0
                    break
                if time.monotonic() > deadline:
                    hung += 1
                    os.kill(pid, 9)
                    os.waitpid(pid, 0)
                    break
                time.sleep(0.01)
        stop = True
        thread.join()
        print("hung", hung)
        """,
        memory_mb=1500,
        timeout=240,
    )
    assert done.returncode == 0, done.stderr
    assert "hung 0" in done.stdout


def test_with_kzmig_debug_an_internal_error_prints_its_traceback_and_exits_70(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    def broken(*args: object, **kwargs: object) -> None:
        raise RuntimeError("a bug")

    monkeypatch.setattr(importlib.import_module("rules.cli.app"), "_compiled", broken)
    monkeypatch.setenv("KZMIG_DEBUG", "1")
    monkeypatch.setattr(sys, "argv", ["kzmig", "check", str(DRIVER)])
    with pytest.raises(SystemExit) as caught:
        main()
    assert caught.value.code == 70
    err = capsys.readouterr().err
    assert "RuntimeError: a bug" in err and "Traceback" in err


def test_without_kzmig_debug_an_internal_error_exits_70_without_a_traceback(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    def broken(*args: object, **kwargs: object) -> None:
        raise RuntimeError("a bug with personal data")

    monkeypatch.setattr(importlib.import_module("rules.cli.app"), "_compiled", broken)
    monkeypatch.delenv("KZMIG_DEBUG", raising=False)
    monkeypatch.setattr(sys, "argv", ["kzmig", "check", str(DRIVER)])
    with pytest.raises(SystemExit) as caught:
        main()
    assert caught.value.code == 70
    err = capsys.readouterr().err
    assert "Traceback" not in err and "personal data" not in err


# --- found by the fuzz tests ------------------------------------------------------------------


def test_citizenship_sharp_s_is_refused_not_read_as_south_sudan() -> None:
    # 'ß'.upper() is 'SS', the code of South Sudan: only ASCII letters are upper-cased.
    with pytest.raises(rules.InputError) as caught:
        rules.evaluate({"person_id": "S", "citizenship": "ß"}, on=dt.date(2026, 6, 1))
    assert "'ß' is not an ISO 3166-1 alpha-2 country code" in caught.value.describe()


def test_citizenship_in_lower_case_with_spaces_is_read_as_its_code() -> None:
    verdict = rules.evaluate({"person_id": "S", "citizenship": " ru ", "trips": []}, on=dt.date(2026, 6, 1))
    assert verdict.stay.status == "compliant"


@pytest.mark.parametrize(
    ("entry", "message"),
    [
        pytest.param(
            0, "expected a date (YYYY-MM-DD), not 0", id="a number, which pydantic reads as 1970-01-01"
        ),
        pytest.param(
            "2024-01-01T00:00:00", "expected a date (YYYY-MM-DD), not '2024-01-01T00:00:00'", id="a time"
        ),
        pytest.param("2024-W01-1", "expected a date (YYYY-MM-DD), not '2024-W01-1'", id="an ISO week date"),
        pytest.param("2024-02-30", "'2024-02-30' is not a day that exists", id="30 February"),
    ],
)
def test_a_trip_day_is_read_only_as_yyyy_mm_dd(entry: object, message: str) -> None:
    record = {"person_id": "D", "citizenship": "RU", "trips": [{"entry": entry, "exit": "2024-02-01"}]}
    with pytest.raises(rules.InputError) as caught:
        rules.evaluate(record, on=dt.date(2024, 3, 1))
    assert [problem.message for problem in caught.value.problems] == [message]


def _day_by_the_letter(text: str) -> dt.date | None:
    """The reference: a day is text that date.fromisoformat reads and that the day writes back
    exactly (YYYY-MM-DD, ASCII digits)."""
    try:
        day = dt.date.fromisoformat(text)
    except ValueError:
        return None
    return day if day.isoformat() == text else None


@given(
    st.one_of(
        st.text(alphabet="0123456789-W+T: .\u0663\uff12", max_size=12),
        st.builds(
            "{:04d}-{:02d}-{:02d}".format,
            st.integers(0, 10_000),
            st.integers(0, 13),
            st.integers(0, 32),
        ),
    )
)
def test_a_day_is_accepted_exactly_when_it_is_written_yyyy_mm_dd_and_exists(text: str) -> None:
    from models._fields import parse_day

    try:
        found: dt.date | None = parse_day(text)
    except ValueError:
        found = None
    assert found == _day_by_the_letter(text)


def test_a_person_id_is_kept_exactly_as_given_spaces_and_all() -> None:
    verdict = rules.evaluate(
        {"person_id": " A-17\x1f", "citizenship": "RU", "trips": []}, on=dt.date(2024, 3, 1)
    )
    assert verdict.person_id == " A-17\x1f"


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="no named pipes here")
def test_a_named_pipe_put_in_a_files_place_after_its_check_is_refused_without_blocking(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The file is checked, then opened without waiting and checked again on what was opened:
    a FIFO swapped in between (here: the first check is shown a regular file) cannot block."""
    from rules.policy import documents

    regular = tmp_path / "person.json"
    regular.write_text("{}")
    fifo = tmp_path / "swapped.json"
    os.mkfifo(fifo)
    seen = os.stat(regular)
    with monkeypatch.context() as patched, pytest.raises(documents.DocumentError, match="not a regular file"):
        patched.setattr(os, "stat", lambda path: seen)
        documents.open_regular(fifo)  # a blocking open would wait here for a writer for ever


_JSON_VALUES = st.recursive(
    st.none() | st.booleans() | st.integers() | st.text(max_size=8),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=5), inner, max_size=3),
    max_leaves=8,
)


@given(
    values=st.lists(_JSON_VALUES, max_size=5),
    indents=st.lists(st.sampled_from([None, 0, 2]), min_size=5, max_size=5),
    gaps=st.lists(st.sampled_from(["", " ", "\n", "\r\n", "\n\n\t"]), min_size=6, max_size=6),
)
def test_json_values_one_after_another_read_as_json_reads_each_at_the_line_it_starts_on(
    values: list[object], indents: list[int | None], gaps: list[str]
) -> None:
    """What ``jq`` prints (each value over lines, or on one) reads back value by value; a gap
    is needed only where two values would run together (two numbers)."""
    from rules.policy.documents import parse_json_values

    text, expected = gaps[0], []
    for index, value in enumerate(values):
        if index and not gaps[index]:
            text += " "
        expected.append((text.count("\n") + 1, value))
        text += json.dumps(value, indent=indents[index]) + gaps[index + 1]
    assert list(parse_json_values(text, "<stdin>")) == expected


@given(
    objects=st.lists(st.dictionaries(st.text(max_size=5), _JSON_VALUES, max_size=3), min_size=1, max_size=5),
    cuts=st.lists(st.none() | st.floats(min_value=0, max_value=1, exclude_max=True), min_size=5, max_size=5),
)
def test_json_objects_read_on_after_a_broken_one_from_the_next_line_opening_with_a_brace(
    objects: list[dict[str, object]], cuts: list[float | None]
) -> None:
    """Objects as ``jq`` prints them, some cut short anywhere: read with ``resume``, each cut one
    is one error in its place (its value's line), and every whole one after it is read back at
    its line, whatever the broken one before it swallowed as it was read."""
    from rules.policy.documents import DocumentError, parse_json_values

    text, expected = "", []
    for value, cut in zip(objects, cuts, strict=False):
        printed = json.dumps(value, indent=2)
        line = text.count("\n") + 1
        if cut is not None:  # a proper prefix of an object (not empty) is never a whole JSON value
            printed = printed[: 1 + int(cut * (len(printed) - 1))]
            expected.append((line, "broken"))
        else:
            expected.append((line, value))
        text += printed + "\n"
    read = parse_json_values(text, "<stdin>", resume=True)
    found = [(line, "broken" if isinstance(value, DocumentError) else value) for line, value in read]
    assert found == expected


def test_json_values_one_after_another_are_as_strict_as_one_json_document() -> None:
    from rules.policy.documents import DocumentError, parse_json_values

    for text, where in [
        ('{"a": 1}\n{"a": 1, "a": 2}', "<stdin>:2"),
        ('{"a": 1}\n\n{"a": NaN}', "<stdin>:3"),
        ('{"a": 1}\n{"a":', "<stdin>:2"),
        ("[" * 65 + "]" * 65, "<stdin>:1"),
    ]:
        with pytest.raises(DocumentError) as raised:
            list(parse_json_values(text, "<stdin>"))
        assert raised.value.where == where
