"""A command imports what it needs when it needs it: starting ``kzmig`` (importing the command
line, all ``kzmig --version`` needs) loads neither the engine, the policy loader and the models,
nor the analysis package, the optional heavy dependencies or a holiday calendar. Checked in a
fresh interpreter, by the modules it holds; nothing here is timed."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

NOT_AT_START = (
    "holidays",
    "rules.engine",  # the engine, the loader and the models: only a command that evaluates
    "rules.policy.loader",
    "models",
    "yaml",
    "rich",  # help and usage errors are plain text
    "fastapi",
    "uvicorn",
    "pyarrow",
    "distributed",
    "dask",
    "rules.analysis",
    "rules.cli.compare",
    "rules.service",
)


def _modules_after(code: str, cache: str = "off") -> set[str]:
    done = subprocess.run(
        [sys.executable, "-c", f"{code}\nimport json, sys\nprint(json.dumps(sorted(sys.modules)))"],
        capture_output=True,
        text=True,
        check=True,
        env={**os.environ, "KZMIG_CACHE_DIR": cache},
    )
    return set(json.loads(done.stdout.splitlines()[-1]))


@pytest.mark.parametrize("code", ["import rules.cli.app", "import rules"])
def test_starting_imports_no_analysis_no_service_no_calendar(code: str) -> None:
    loaded = _modules_after(code)
    packages = tuple(f"{name}." for name in NOT_AT_START)
    assert not {name for name in loaded if name in NOT_AT_START or name.startswith(packages)}


@pytest.mark.parametrize("command", [["--help"], ["compare", "--help"], ["report", "--help"]])
def test_help_lists_every_command_without_loading_the_engine_or_the_analysis(command: list[str]) -> None:
    code = (
        "import sys\nfrom rules.cli.app import main\n"
        f"sys.argv = ['kzmig', *{command!r}]\n"
        "try:\n    main()\nexcept SystemExit:\n    pass"
    )
    loaded = _modules_after(code)
    heavy = ("rules.engine", "rules.policy.loader", "models", "rules.analysis.population",
             "rules.analysis.impact", "rules.analysis.aggregate", "rules.reports.person_report")  # fmt: skip
    assert "rules.cli.compare" in loaded and "rules.cli.report" in loaded  # listed, so imported
    assert not {name for name in loaded if name in heavy or name.startswith(tuple(f"{h}." for h in heavy))}


def test_the_analysis_names_of_rules_are_there_when_asked_for() -> None:
    loaded = _modules_after("from rules import Population, compare, Impact")
    assert {"rules.analysis.population", "rules.analysis.impact", "rules.analysis.aggregate"} <= loaded


_DUE_DATE = (
    "import datetime as dt\nimport rules\n"
    "verdict = rules.evaluate({'person_id': 'P', 'citizenship': 'RU', 'trips': [{'entry': '2024-04-11'}]},"
    " on=dt.date(2024, 4, 20))\n"
    "assert verdict.stay.registration.due == dt.date(2024, 4, 16), verdict.stay.registration"
)


def test_a_due_date_without_a_cache_loads_the_kazakh_calendar_only() -> None:
    loaded = _modules_after(_DUE_DATE)
    assert "holidays" in loaded
    assert "holidays.countries" not in loaded  # the package of every country's calendar


def test_a_due_date_reads_the_working_days_kept_by_an_earlier_run(tmp_path: Path) -> None:
    first = _modules_after(_DUE_DATE, cache=str(tmp_path))
    assert "holidays" in first
    assert [path.name.startswith("calendar-kz-") for path in tmp_path.iterdir()] == [True]
    again = _modules_after(_DUE_DATE, cache=str(tmp_path))
    assert "holidays" not in again  # and the due date is the same (asserted in the code run)


def test_a_check_reads_the_country_codes_without_importing_pycountry() -> None:
    """Citizenship codes come from pycountry's own table, read as a file (see models._countries)."""
    code = (
        "import datetime as dt\nimport rules\n"
        "person = {'person_id': 'P', 'citizenship': 'ru', 'trips': []}\n"
        "verdict = rules.evaluate(person, on=dt.date(2024, 4, 20))\n"
        "assert verdict.stay.status == 'compliant', verdict.stay"
    )
    assert "pycountry" not in _modules_after(code)


def test_a_check_with_the_policy_kept_imports_no_reader_checks_parser_or_yaml(tmp_path: Path) -> None:
    """A policy read back from kzmig's cache needs none of what reads one from its files."""
    driver = Path(__file__).resolve().parents[1] / "examples" / "persons" / "driver-A-17.json"
    code = (
        "import contextlib, io, sys\nfrom rules.cli.app import main\n"
        f"sys.argv = ['kzmig', 'check', {str(driver)!r}, '--on', '2024-08-01']\n"
        "with contextlib.redirect_stdout(io.StringIO()):\n"
        "    try:\n        main()\n    except SystemExit:\n        pass"
    )
    first = _modules_after(code, cache=str(tmp_path))  # reads the files, and keeps the policy
    assert {"rules.policy.reading", "rules.policy.checks", "rules.policy.formulas", "yaml"} <= first
    again = _modules_after(code, cache=str(tmp_path))
    assert "rules.engine.evaluator" in again  # it did evaluate
    parsing = {"rules.policy.reading", "rules.policy.checks", "rules.policy.formulas", "rules.policy.graph"}
    assert not parsing & again and not any(name == "yaml" or name.startswith("yaml.") for name in again)
