"""``kzmig`` from a caseworker's seat: verdicts, batches, and bad input with no traceback."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
from typer.testing import CliRunner

from rules.cli.app import app

ROOT = Path(__file__).resolve().parents[1]
DRIVER = ROOT / "examples" / "persons" / "driver-A-17.json"
runner = CliRunner()


def kzmig(*args: str, stdin: str | None = None) -> tuple[int, str, str]:
    result = runner.invoke(app, list(args), input=stdin)
    return result.exit_code, result.stdout, result.stderr


def write(tmp_path: Path, name: str, text: str) -> str:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return str(path)


def test_2024_08_01_driver_json_output_is_exactly_the_library_verdict() -> None:
    from rules import evaluate

    code, out, _ = kzmig("check", str(DRIVER), "--on", "2024-08-01", "--format", "json")
    assert code == 0
    person = json.loads(DRIVER.read_text())
    import datetime as dt

    expected = evaluate(person, on=dt.date(2024, 8, 1)).model_dump(mode="json")
    assert json.loads(out) == expected
    assert expected["stay"]["status"] == "exempt"


def test_2024_08_01_driver_text_report_names_the_exemption_and_its_source() -> None:
    code, out, _ = kzmig("check", str(DRIVER), "--on", "2024-08-01")
    assert code == 0
    assert "EXEMPT" in out
    assert "stay.exemption.international_driver" in out
    assert "https://adilet.zan.kz/rus/docs/P2400000080" in out
    assert "set aside by stay.exemption.international_driver" in out


def test_check_without_on_evaluates_today_in_kazakhstan_not_on_the_machines_day() -> None:
    # From 19:00 UTC the day in Almaty (UTC+5) is already the next one: the machine's own
    # calendar day is not what kzmig means by today.
    from rules.engine.evaluator import today
    from rules.policy.loader import load_policy

    code, out, _ = kzmig("check", str(DRIVER), "--format", "json")
    assert code == 0
    assert json.loads(out)["as_of"] == today(load_policy()).isoformat()


def test_person_from_standard_input_is_read_as_yaml_or_json() -> None:
    code, out, _ = kzmig(
        "check", "-", "--on", "2024-06-01", "-f", "json", stdin=DRIVER.read_text(encoding="utf-8")
    )
    assert code == 0
    assert json.loads(out)["person_id"] == "A-17"


POPULATION = ROOT / "examples" / "persons" / "population-2026.jsonl"


def test_json_lines_on_standard_input_are_read_line_by_line_as_the_file_is() -> None:
    text = POPULATION.read_text(encoding="utf-8")
    lines = text.splitlines()
    lines[1:1] = ["not json"]  # a line that cannot be read, second: one error record
    lines[3:3] = ["", "{not json", '{"person_id": "bad", "trips": [{"entry": "2026-02-30"}]}']
    broken = "\n".join(lines) + "\n"
    from_file = kzmig("check", str(POPULATION), "--on", "2026-03-20", "-f", "json")
    from_stdin = kzmig("check", "-", "--on", "2026-03-20", "-f", "json", stdin=text)
    assert from_file[0] == from_stdin[0] == 0
    assert from_stdin[1] == from_file[1]
    code, out, err = kzmig("check", "-", "--on", "2026-03-20", "-f", "json", stdin=broken)
    assert code == 1
    assert len(out.splitlines()) == len(lines) - 1  # one verdict or error record per line not blank
    assert all(f"<stdin>:{number}" in out for number in (2, 5, 6))  # each placed at its line
    assert "Traceback" not in out + err


@pytest.mark.parametrize(
    "text",
    [
        '{"person_id": "A-17", "citizenship": "RU", "trips": []}\n',  # one line: one document
        '{\n  "person_id": "A-17", "citizenship": "RU", "trips": []\n}\n',
        "person_id: A-17\ncitizenship: RU\ntrips: []\n",
        '{"person_id": "A-17", "citizenship": "RU", "trips": []}\n\n\n',
        '{"person_id": "A-17", "citizenship": "RU", "trips": []}\n# read as YAML\n',
        '{"person_id": "A-17", "citizenship": "RU", "trips": []}\n...\n',
    ],
    ids=["json on one line", "json", "yaml", "one line and blank lines", "one line and a comment", "an end"],
)
def test_one_person_on_standard_input_is_one_document(text: str) -> None:
    code, out, _ = kzmig("check", "-", "--on", "2024-06-01", "-f", "json", stdin=text)
    assert code == 0
    assert json.loads(out)["person_id"] == "A-17"


def test_json_lines_on_standard_input_are_streamed_past_the_size_of_one_document(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    import io

    from rules.cli.records import read_records
    from rules.policy.documents import MAX_DOCUMENT_BYTES

    trips = [{"entry": "2024-01-01", "exit": "2024-01-02"}] * 60
    line = json.dumps({"person_id": "P", "citizenship": "RU", "trips": trips}) + "\n"
    count = MAX_DOCUMENT_BYTES // len(line) + 10
    stdin = io.TextIOWrapper(io.BytesIO(line.encode() * count), encoding="utf-8")
    monkeypatch.setattr(sys, "stdin", stdin)
    found = 0
    for record in read_records("-"):
        assert record.data is not None and not record.problems
        found += 1
    assert found == count
    assert count * len(line) > MAX_DOCUMENT_BYTES


def test_standard_input_of_blank_lines_past_the_size_of_one_document_is_refused_as_too_large() -> None:
    import io

    from rules.cli.records import MAX_LINE_BYTES, _Rejoined
    from rules.policy.documents import MAX_DOCUMENT_BYTES

    blank = " " * 1000 + "\n"
    code, out, err = kzmig("check", "-", stdin=blank * (MAX_DOCUMENT_BYTES // len(blank) + 2))
    assert code == 1
    assert "<stdin>" in err and "larger than" in err
    assert "Traceback" not in out + err
    endless = io.BytesIO(blank.encode() * (3 * MAX_DOCUMENT_BYTES // len(blank)))
    assert not _Rejoined(endless).json_lines()
    assert endless.tell() <= MAX_DOCUMENT_BYTES + MAX_LINE_BYTES + 1  # what it read ahead: bounded
    # Short blank lines after a first record: bounded in number too, not only in bytes.
    record = b'{"person_id": "A-17"}\n'
    newlines = io.BytesIO(record + b"\n" * MAX_DOCUMENT_BYTES + record)
    assert not _Rejoined(newlines).json_lines()
    assert newlines.tell() <= len(record) + 1000


def test_json_lines_on_standard_input_are_answered_one_by_one_as_they_come() -> None:
    """A pipe of JSON Lines (a consular system's stream) is answered record by record: the
    first answers are out before the rest is written, and nothing is held whole."""
    import threading

    lines = POPULATION.read_text(encoding="utf-8").splitlines()
    command = [sys.executable, "-u", "-c", "from rules.cli.app import main; main()"]
    with subprocess.Popen(
        [*command, "check", "-", "--on", "2026-03-20", "-f", "json"],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    ) as process:
        assert process.stdin is not None and process.stdout is not None
        process.stdin.write(lines[0] + "\n" + lines[1] + "\n")
        process.stdin.flush()
        answered: list[str] = []
        reader = threading.Thread(target=lambda: answered.extend(process.stdout.readline() for _ in range(2)))
        reader.start()
        reader.join(timeout=120)  # not a timing: a held input would never answer before its end
        if reader.is_alive():
            process.kill()  # which ends the reader's line
            reader.join()
            pytest.fail("no answer before the end of the input")
        assert [json.loads(line)["person_id"] for line in answered] == [
            json.loads(line)["person_id"] for line in lines[:2]
        ]
        rest, errors = process.communicate("\n".join(lines[2:]) + "\n", timeout=300)
    assert process.returncode == 0, errors
    assert len(rest.splitlines()) == len(lines) - 2


def test_input_format_reads_a_file_as_told_whatever_its_name(tmp_path: Path) -> None:
    ndjson = tmp_path / "people.ndjson"
    ndjson.write_bytes(POPULATION.read_bytes())
    by_name = kzmig("check", str(POPULATION), "--on", "2026-03-20", "-f", "json")
    told = kzmig("check", str(ndjson), "--input-format", "jsonl", "--on", "2026-03-20", "-f", "json")
    assert told[0] == by_name[0] == 0
    assert told[1] == by_name[1]
    code, _, err = kzmig("check", str(ndjson), "--on", "2026-03-20")  # by its name: one YAML document
    assert code == 1 and f"{ndjson}:2" in err
    text = tmp_path / "person.txt"
    text.write_text(DRIVER.read_text(encoding="utf-8"), encoding="utf-8")
    code, out, _ = kzmig("check", str(text), "--input-format", "json", "--on", "2024-08-01", "-f", "json")
    assert code == 0 and json.loads(out)["person_id"] == "A-17"
    yaml = write(tmp_path, "person.json", "person_id: A-17\ncitizenship: RU\ntrips: []\n")
    code, _, err = kzmig("check", yaml, "--on", "2024-08-01")  # by its name: strict JSON
    assert code == 1 and "not valid JSON" in err
    code, out, _ = kzmig("check", yaml, "--input-format", "yaml", "--on", "2024-08-01", "-f", "json")
    assert code == 0 and json.loads(out)["person_id"] == "A-17"
    code, _, err = kzmig("check", str(DRIVER), "--input-format", "csv")
    assert code == 2 and "--input-format" in err


@pytest.mark.parametrize("command", ["check", "plan", "report"])
@pytest.mark.parametrize("source", ["people.bin", "-"])
def test_a_file_told_parquet_is_sent_to_compare_not_read_as_text(
    tmp_path: Path, command: str, source: str
) -> None:
    path = write(tmp_path, "people.bin", "PAR1 not text")
    name = path if source != "-" else "-"
    extra = {"check": (), "plan": ("--enter", "2026-05-01"), "report": ("--on", "2026-05-01")}[command]
    code, out, err = kzmig(command, name, "--input-format", "parquet", *extra, stdin="PAR1 not text")
    assert code == 1 and "read by kzmig compare" in err and "Traceback" not in out + err
    assert (path if source != "-" else "<stdin>") in err


def test_standard_input_told_json_lines_is_one_record_a_line_whatever_its_first_lines() -> None:
    from rules.policy.documents import MAX_LINE_BYTES

    record = POPULATION.read_text(encoding="utf-8").splitlines()[0]
    arguments = ("check", "-", "--input-format", "jsonl", "--on", "2026-03-20", "-f", "json")
    # One line: a batch of one, so one compact JSON line (told by its lines, it is a document).
    code, out, _ = kzmig(*arguments, stdin=record + "\n")
    assert code == 0 and out.count("\n") == 1 and json.loads(out)["person_id"]
    # A record spread over lines, then a record: each line is a record, those lines broken.
    pretty = json.dumps(json.loads(record), indent=2)
    code, out, err = kzmig(*arguments, stdin=pretty + "\n" + record + "\n")
    found = [json.loads(line) for line in out.splitlines()]
    assert code == 1 and len(found) == len(pretty.splitlines()) + 1
    assert all("error" in line for line in found[:-1]) and "error" not in found[-1]
    assert found[0]["where"] == "<stdin>:1" and "Traceback" not in out + err
    # A first line too long to read: its error record, then the next line's verdict.
    too_long = '{"person_id": "' + "x" * MAX_LINE_BYTES + '"}\n' + record + "\n"
    code, out, err = kzmig(*arguments, stdin=too_long)
    found = [json.loads(line) for line in out.splitlines()]
    assert code == 1 and len(found) == 2
    assert found[0]["where"] == "<stdin>:1" and "longer than" in json.dumps(found[0])
    assert "error" not in found[1]
    # Not told, both are JSON objects one after another, read as such (as jq prints them).
    code, out, _ = kzmig("check", "-", "--on", "2026-03-20", "-f", "json", stdin=too_long)
    found = [json.loads(line) for line in out.splitlines()]
    assert code == 1 and len(found) == 2 and "error" in found[0] and "error" not in found[1]
    code, out, _ = kzmig("check", "-", "--on", "2026-03-20", "-f", "json", stdin=pretty + "\n" + record)
    assert code == 0 and len(out.splitlines()) == 2
    # Neither one document nor JSON values: the message says how else it may be read.
    code, out, err = kzmig("check", "-", "--on", "2026-03-20", stdin="{\n" + record + "\n")
    assert code == 1 and "--input-format jsonl" in err and "Traceback" not in out + err


def test_json_objects_one_after_another_on_standard_input_are_read_as_jq_prints_them() -> None:
    """``jq . people.json | kzmig check -``: each object over several lines, one after another,
    gives the verdicts of the same records as JSON Lines; a value that is no person is an error
    record at the line it starts on."""
    lines = POPULATION.read_text(encoding="utf-8").splitlines()[:3]
    arguments = ("check", "-", "--on", "2026-03-20", "-f", "json")
    as_lines = kzmig(*arguments, stdin="\n".join(lines) + "\n")
    pretty = "\n".join(json.dumps(json.loads(line), indent=2) for line in lines) + "\n"
    as_printed = kzmig(*arguments, stdin=pretty)
    assert as_printed[0] == as_lines[0] == 0, as_printed[2]
    assert as_printed[1] == as_lines[1] and as_printed[1].count("\n") == 3
    code, out, _ = kzmig(*arguments, stdin=pretty + "[1]\n")
    last = json.loads(out.splitlines()[-1])
    assert code == 1 and last["where"] == f"<stdin>:{pretty.count(chr(10)) + 1}" and "error" in last
    # A broken object is an error record at its line, after the verdicts of those before it;
    # reading goes on at the next line that opens with a brace, as jq begins each object.
    verdicts = [json.loads(line) for line in as_lines[1].splitlines()]
    broken = pretty + '{"person_id": "X",\n  "trips": [}\n' + pretty
    code, out, err = kzmig(*arguments, stdin=broken)
    found = [json.loads(line) for line in out.splitlines()]
    assert code == 1 and len(found) == 7 and found[:3] == verdicts == found[4:]
    assert found[3]["where"] == f"<stdin>:{pretty.count(chr(10)) + 2}" and "not valid JSON" in out
    assert found[3]["record"] == 3 and [verdict["person_id"] for verdict in found[4:]] == [
        verdict["person_id"] for verdict in verdicts
    ]
    # With no line opening with a brace after it, a broken object is the last record.
    code, out, err = kzmig(*arguments, stdin=pretty + '{"person_id": "X",\n  "trips": [}  {"a": 1}\n')
    found = [json.loads(line) for line in out.splitlines()]
    assert code == 1 and len(found) == 4 and "error" in found[3]
    assert "Traceback" not in out + err


def test_a_json_file_of_objects_one_after_another_is_read_as_jq_prints_them(tmp_path: Path) -> None:
    """``jq '.[]' people.json > each.json``: a ``.json`` file of objects one after another gives
    the verdicts the same objects give on standard input; a broken one is an error record at its
    line, and reading goes on at the next line that opens with a brace. Told ``--input-format
    json``, the file is one document still, and so is a list followed by more: each is refused
    as JSON that is not valid, at its line."""
    lines = POPULATION.read_text(encoding="utf-8").splitlines()[:3]
    pretty = "\n".join(json.dumps(json.loads(line), indent=2) for line in lines) + "\n"
    arguments = ("--on", "2026-03-20", "-f", "json")
    path = write(tmp_path, "each.json", pretty)
    code, out, err = kzmig("check", path, *arguments)
    assert (code, out) == kzmig("check", "-", *arguments, stdin=pretty)[:2] and code == 0, err
    assert out.count("\n") == 3
    broken = write(tmp_path, "broken.json", pretty + '{"person_id": "X",\n  "trips": [}\n' + lines[0] + "\n")
    code, out, err = kzmig("check", broken, *arguments)
    found = [json.loads(line) for line in out.splitlines()]
    assert code == 1 and len(found) == 5 and all("error" not in found[index] for index in (0, 1, 2, 4))
    assert found[3]["where"] == f"{broken}:{pretty.count(chr(10)) + 2}" and "not valid JSON" in out
    code, out, err = kzmig("check", path, "--input-format", "json", *arguments)
    assert code == 1 and out == "" and f"{path}:" in err and "not valid JSON" in err
    listed = write(tmp_path, "listed.json", json.dumps([json.loads(lines[0])]) + "\n" + lines[1] + "\n")
    code, out, err = kzmig("check", listed, *arguments)
    assert code == 1 and out == "" and f"{listed}:2" in err and "not valid JSON" in err
    assert "Traceback" not in out + err


def test_malformed_json_names_file_and_line_and_exits_1_without_traceback(tmp_path: Path) -> None:
    path = write(tmp_path, "p.json", '{"person_id": "X",\n "trips": [\n')
    code, out, err = kzmig("check", path, "--on", "2024-01-01")
    assert code == 1
    assert f"{path}:3" in err and "not valid JSON" in err
    assert "Traceback" not in out + err


def test_every_problem_of_a_bad_record_is_named_with_its_line(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        "p.yaml",
        "person_id: C-3\n"
        "citizenship: XX\n"
        "nickname: bob\n"
        "statuses:\n"
        "  - {kind: aircraft_crew, valid_from: 2024-05-01, valid_to: 2024-04-01}\n"
        "trips:\n"
        "  - {entry: 2024-03-10, exit: 2024-03-01}\n",
    )
    code, _, err = kzmig("check", path, "--on", "2024-05-20")
    assert code == 1
    assert f"{path}:2 at citizenship" in err
    assert f"{path}:3 at nickname: unknown field" in err
    assert f"{path}:5 at statuses[0]" in err and "valid_to 2024-04-01 is before" in err
    assert f"{path}:7 at trips[0]" in err and "exit 2024-03-01 is before entry 2024-03-10" in err
    assert "Traceback" not in err


def test_overlapping_trips_are_refused_with_both_trips_named(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        "p.yaml",
        "person_id: D-4\ncitizenship: RU\ntrips:\n"
        "  - {entry: 2024-01-01, exit: 2024-01-20}\n"
        "  - {entry: 2024-01-15, exit: 2024-02-01}\n",
    )
    code, _, err = kzmig("check", path, "--on", "2024-05-20")
    assert code == 1
    assert "trips[1] enters on 2024-01-15, before the exit of trips[0] (2024-01-20): trips overlap" in err


def test_trips_out_of_order_are_refused(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        "p.yaml",
        "person_id: D-5\ncitizenship: RU\ntrips:\n"
        "  - {entry: 2024-03-01, exit: 2024-03-05}\n"
        "  - {entry: 2024-01-01, exit: 2024-01-05}\n",
    )
    code, _, err = kzmig("check", path, "--on", "2024-05-20")
    assert code == 1
    assert "chronological order" in err


def test_unknown_status_kind_suggests_the_nearest_kind(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        "p.json",
        json.dumps(
            {
                "person_id": "E",
                "citizenship": "RU",
                "statuses": [{"kind": "aircraft_crews", "valid_from": "2024-01-01"}],
                "trips": [],
            }
        ),
    )
    code, _, err = kzmig("check", path, "--on", "2024-05-20")
    assert code == 1
    assert "unknown status kind 'aircraft_crews' (did you mean 'aircraft_crew'?)" in err


def test_impossible_date_in_a_record_is_reported_not_crashed(tmp_path: Path) -> None:
    path = write(
        tmp_path, "p.json", '{"person_id": "F", "citizenship": "RU", "trips": [{"entry": "2024-02-30"}]}'
    )
    code, _, err = kzmig("check", path, "--on", "2024-05-20")
    assert code == 1
    assert "trips[0].entry" in err


def test_impossible_evaluation_date_is_a_usage_error() -> None:
    code, _, err = kzmig("check", str(DRIVER), "--on", "2024-13-01")
    assert code == 2
    assert "not a date of the form YYYY-MM-DD" in err


def test_missing_person_file_is_named() -> None:
    code, _, err = kzmig("check", "no/such/person.json")
    assert code == 1
    assert "no/such/person.json: no such file" in err


@pytest.mark.parametrize("command", ["check", "plan", "report"])
def test_a_parquet_table_given_to_a_command_that_reads_person_files_names_the_command_that_reads_it(
    tmp_path: Path, command: str
) -> None:
    """Read as text, a Parquet file would only be 'not UTF-8': say what reads it instead."""
    table = tmp_path / "persons.parquet"
    table.write_bytes(b"PAR1\x15\x04\xee" + bytes(range(256)) + b"PAR1")
    day = "--enter" if command == "plan" else "--on"
    code, out, err = kzmig(command, str(table), day, "2026-05-01")
    assert code == 1
    assert out == ""
    assert err == (
        "kzmig: the person file cannot be read\n"
        f"  {table}: a Parquet persons table is read by kzmig compare (with --trips and "
        "--statuses); this command reads .json, .yaml, .yml or .jsonl\n"
    )


def test_batch_of_jsonl_yields_exactly_one_result_or_error_per_record(tmp_path: Path) -> None:
    lines = [
        json.dumps({"person_id": "ok-1", "citizenship": "RU", "trips": []}),
        "{broken",
        "",
        json.dumps(
            {
                "person_id": "bad-kind",
                "citizenship": "RU",
                "statuses": [{"kind": "pilot", "valid_from": "2024-01-01"}],
                "trips": [],
            }
        ),
        json.dumps(
            {
                "person_id": "ok-2",
                "citizenship": "US",
                "trips": [{"entry": "2024-01-01", "exit": "2024-02-15"}],
            }
        ),
        "[1, 2]",
    ]
    path = write(tmp_path, "batch.jsonl", "\n".join(lines) + "\n")
    code, out, _ = kzmig("check", path, "--on", "2024-05-20", "-f", "json")
    assert code == 1
    results = [json.loads(line) for line in out.splitlines()]
    assert len(results) == 5  # the blank line is not a record
    assert [r.get("person_id") for r in results] == ["ok-1", None, "bad-kind", "ok-2", None]
    assert results[0]["stay"]["status"] == "compliant"
    assert results[1]["error"]["kind"] == "input" and results[1]["where"].endswith(":2")
    assert "unknown status kind 'pilot'" in results[2]["error"]["problems"][0]
    assert results[3]["stay"]["status"] == "overstay"
    assert results[4]["error"]["problems"] == [f"{path}:6: a person is a mapping of fields"]


def test_batch_of_a_yaml_list_keeps_going_past_a_bad_record(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        "people.yaml",
        "- {person_id: a, citizenship: RU, trips: []}\n"
        "- {person_id: b, citizenship: RU, trips: [{entry: 2024-05-01, exit: 2024-04-01}]}\n"
        "- {person_id: c, citizenship: KZ}\n",
    )
    code, out, _ = kzmig("check", path, "--on", "2024-05-20", "-f", "json")
    assert code == 1
    results = [json.loads(line) for line in out.splitlines()]
    assert [r["person_id"] for r in results] == ["a", "b", "c"]
    assert "error" in results[1] and f"{path}:2 at [1].trips[0]" in results[1]["error"]["problems"][0]
    assert results[2]["stay"]["status"] == "not_applicable"


def test_a_date_before_any_stay_rule_is_undecided_exit_4() -> None:
    code, _, err = kzmig("check", str(DRIVER), "--on", "2005-01-01")
    assert code == 4
    assert "decides no stay status on 2005-01-01" in err


def test_broken_policy_directory_exits_3_naming_the_file_and_line(tmp_path: Path) -> None:
    import shutil

    policy = tmp_path / "kz"
    shutil.copytree(ROOT / "policies" / "kz", policy)
    path = policy / "stay-limit.yaml"
    path.write_text(path.read_text().replace("value: 90\n", "value: ninety\n"), encoding="utf-8")
    code, _, err = kzmig("check", str(DRIVER), "--on", "2024-08-01", "--policy", str(policy))
    # 'ninety' is a valid value for a parameter, but not for the stay limit's integer count
    assert code == 3, err
    assert "stay.limit_days" in err
    assert "Traceback" not in err


def test_policy_check_reports_identity_of_the_baseline() -> None:
    code, out, _ = kzmig("policy", "check")
    assert code == 0
    assert out.startswith("policy kz ") and "OK" in out


def test_policy_show_lists_the_law_in_force_on_a_date() -> None:
    code, out, _ = kzmig("policy", "show", "--on", "2024-01-01")
    assert code == 0
    assert "stay.limit_days = 90" in out
    assert "stay.exemption.residence_permit" in out
    assert "stay.exemption.aircraft_crew" not in out  # Decree No. 80 applies from 2024-02-25
    code, out, _ = kzmig("policy", "show", "--on", "2024-02-25")
    assert "stay.exemption.aircraft_crew" in out


def test_help_texts_describe_every_command() -> None:
    for args in (
        ["--help"],
        ["check", "--help"],
        ["policy", "check", "--help"],
        ["policy", "show", "--help"],
    ):
        code, out, _ = kzmig(*args)
        assert code == 0 and "Usage" in out


@pytest.mark.parametrize("broken", ["{", "[1, 2", "person_id: [unclosed"])
def test_console_script_never_prints_a_traceback_on_bad_input(tmp_path: Path, broken: str) -> None:
    path = write(tmp_path, "p.yaml", broken)
    result = subprocess.run(
        [sys.executable, "-c", "from rules.cli.app import main; main()", "check", path, "--on", "2024-01-01"],
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 1
    assert "Traceback" not in result.stdout + result.stderr
    assert "not valid YAML/JSON" in result.stderr


def test_impossible_unquoted_yaml_date_in_a_person_file_is_placed_at_its_line(tmp_path: Path) -> None:
    path = write(tmp_path, "p.yaml", "person_id: X\ncitizenship: RU\ntrips:\n  - {entry: 2024-02-30}\n")
    code, _, err = kzmig("check", path, "--on", "2024-06-01")
    assert code == 1
    assert f"{path}:4 at trips[0].entry: '2024-02-30' is not a day that exists" in err
    assert "internal error" not in err and "Traceback" not in err


def test_impossible_unquoted_yaml_date_in_a_policy_file_is_placed_at_its_line(tmp_path: Path) -> None:
    import shutil

    policy = tmp_path / "kz"
    shutil.copytree(ROOT / "policies" / "kz", policy)
    path = policy / "exemptions-decree-80.yaml"
    text = path.read_text(encoding="utf-8")
    line = text[: text.index("    from: 2024-02-25")].count("\n") + 1
    path.write_text(text.replace("    from: 2024-02-25", "    from: 2024-02-30", 1), encoding="utf-8")
    code, _, err = kzmig("policy", "check", "--policy", str(policy))
    assert code == 3
    assert f"{path}:{line} at rules[" in err and "day value is outside expected range" in err
    assert "internal error" not in err
