"""``kzmig compare`` and ``rules.compare``: which verdicts an amendment changes across a population."""

from __future__ import annotations

import datetime as dt
import json
import shutil
from pathlib import Path

import pytest
from typer.testing import CliRunner

import rules
from rules.cli.app import app

ROOT = Path(__file__).resolve().parents[1]
POPULATION = str(ROOT / "examples" / "persons" / "population-2026.jsonl")
SIXTY_DAYS = str(ROOT / "examples" / "amendments" / "limit-60-days.yaml")
ON = dt.date(2026, 3, 20)
runner = CliRunner()


def test_2026_03_20_russian_with_70_days_is_compliant_at_90_and_overstays_at_60() -> None:
    baseline = rules.Evaluator(rules.load_policy())
    amended = rules.Evaluator(rules.load_policy(amendments=[SIXTY_DAYS]))
    person = {
        "person_id": "RU-70",
        "citizenship": "RU",
        "trips": [{"entry": "2026-01-05", "exit": "2026-03-15"}],
    }
    difference = rules.compare(baseline, amended, person, ON)
    assert difference.changed == ("status", "overstay_days")
    assert difference.before.policy.version != difference.after.policy.version
    assert difference.to_json()["before"]["status"] == "compliant"
    assert difference.to_json()["after"]["overstay_days"] == 10


def test_same_policy_on_both_sides_changes_nothing() -> None:
    evaluator = rules.Evaluator(rules.load_policy())
    person = {"person_id": "RU-50", "citizenship": "RU", "trips": [{"entry": "2026-02-01"}]}
    assert rules.compare(evaluator, evaluator, person, ON).changed == ()


def test_compare_text_lists_changed_people_and_status_transitions() -> None:
    result = runner.invoke(app, ["compare", POPULATION, "--on", "2026-03-20", "--amend", SIXTY_DAYS])
    assert result.exit_code == 0, result.stderr
    out = result.stdout
    assert "records: 8; changed: 3; unchanged: 5; errors: 0" in out
    assert "RU-70: status compliant -> overstay; overstay_days 0 -> 10" in out
    assert "BY-65: status compliant -> overstay; overstay_days 0 -> 5" in out
    assert "RU-50: latest_exit 2026-05-01 -> 2026-04-01" in out
    assert "compliant -> overstay: 2" in out


def test_compare_json_gives_one_line_per_record_errors_included(tmp_path: Path) -> None:
    people = tmp_path / "people.jsonl"
    lines = Path(POPULATION).read_text().splitlines()
    lines.insert(2, '{"person_id": "bad", "citizenship": "RU", "trips": [{"entry": "2026-02-30"}]}')
    people.write_text("\n".join(lines) + "\n")
    result = runner.invoke(
        app, ["compare", str(people), "--on", "2026-03-20", "--amend", SIXTY_DAYS, "-f", "json"]
    )
    assert result.exit_code == 1
    records = [json.loads(line) for line in result.stdout.splitlines()]
    assert [r["record"] for r in records] == list(range(9))
    assert records[2]["error"]["kind"] == "input" and records[2]["person_id"] == "bad"
    assert sum(bool(r.get("changed")) for r in records) == 3


def test_compare_against_another_policy_directory(tmp_path: Path) -> None:
    other = tmp_path / "kz-amended"
    shutil.copytree(ROOT / "policies" / "kz", other)
    shutil.copy(SIXTY_DAYS, other / "zz-limit-60-days.yaml")
    # a file in the directory that redefines a parameter is a conflict, not an amendment
    result = runner.invoke(app, ["compare", POPULATION, "--on", "2026-03-20", "--against", str(other)])
    assert result.exit_code == 3
    assert "'stay.limit_days' is defined twice" in result.stderr
    (other / "zz-limit-60-days.yaml").unlink()
    result = runner.invoke(app, ["compare", POPULATION, "--on", "2026-03-20", "--against", str(other)])
    assert result.exit_code == 0
    assert "records: 8; changed: 0; unchanged: 8; errors: 0" in result.stdout
    assert "no status changes." in result.stdout


def test_compare_without_anything_to_compare_with_is_a_usage_error() -> None:
    result = runner.invoke(app, ["compare", POPULATION, "--on", "2026-03-20"])
    assert result.exit_code == 2
    assert "--amend FILE and/or --against DIR" in result.stderr


@pytest.mark.parametrize("show", ["0", "1"])
def test_compare_show_limits_the_listed_records(show: str) -> None:
    result = runner.invoke(
        app, ["compare", POPULATION, "--on", "2026-03-20", "--amend", SIXTY_DAYS, "--show", show]
    )
    assert result.exit_code == 0
    listed = [
        line
        for line in result.stdout.splitlines()
        if line.startswith("  ")
        and ": " in line
        and "->" in line
        and "status changes" not in line
        and not line.startswith("  compliant")
    ]
    assert len(listed) == int(show)
    assert f"and {3 - int(show)} more" in result.stdout
