"""``kzmig``: the command line for caseworkers and analysts. A thin layer over the library.

Exit codes: 0 every record evaluated; 1 bad input (at least one record could not be
evaluated; the others still were); 2 wrong usage; 3 broken policy; 4 a case the policy does
not decide; 70 an internal error. No traceback is printed for any of the first five, and
never with local variables: applicant data is personal.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import sys
from enum import StrEnum
from pathlib import Path
from typing import Annotated, Any

import typer

from models.verdict import Verdict
from rules.errors import EvaluationError, InputError, KzmigError, PolicyError
from rules.evaluation import Evaluator
from rules.policy import Policy, default_policy_dir, load_policy
from rules.records import Record, place_problems, read_records
from rules.report import render_text

__all__ = ["app", "main"]

EXIT_INPUT, EXIT_USAGE, EXIT_POLICY, EXIT_UNDECIDED, EXIT_INTERNAL = 1, 2, 3, 4, 70

app = typer.Typer(
    name="kzmig",
    help="Kazakhstan migration-policy eligibility, explained rule by rule with its legal source.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_show_locals=False,
)
policy_app = typer.Typer(help="Inspect and check policy directories and amendment files.")
app.add_typer(policy_app, name="policy")


class OutputFormat(StrEnum):
    text = "text"
    json = "json"


PolicyOption = Annotated[
    Path | None,
    typer.Option(
        "--policy",
        help="Policy directory to evaluate under (default: the shipped baseline, policies/kz).",
        file_okay=False,
    ),
]
AmendOption = Annotated[
    list[Path] | None,
    typer.Option(
        "--amend",
        help="Amendment file applied over the policy (repeatable, applied in order).",
        dir_okay=False,
    ),
]


def _parse_day(value: str | None) -> dt.date:
    if value is None:
        return dt.date.today()
    try:
        return dt.date.fromisoformat(value)
    except ValueError:
        raise typer.BadParameter(f"{value!r} is not a date of the form YYYY-MM-DD") from None


def _load(policy_dir: Path | None, amendments: list[Path] | None) -> Policy:
    return load_policy(policy_dir, amendments or ())


def _fail(error: KzmigError, code: int) -> typer.Exit:
    typer.echo(f"kzmig: {error.describe()}", err=True)
    return typer.Exit(code)


@app.command()
def check(
    person: Annotated[
        str,
        typer.Argument(
            help="Person file (.json, .yaml, .yml: one person or a list; .jsonl: one per line), "
            "or - for standard input.",
            metavar="PERSON",
        ),
    ],
    on: Annotated[
        str | None,
        typer.Option("--on", help="Evaluation date, YYYY-MM-DD (default: today).", metavar="DATE"),
    ] = None,
    output: Annotated[
        OutputFormat,
        typer.Option(
            "--format",
            "-f",
            help="text for people; json for systems (one line per record in a batch).",
        ),
    ] = OutputFormat.text,
    policy_dir: PolicyOption = None,
    amend: AmendOption = None,
) -> None:
    """Check a person against the stay limit on a date, with the rules that decided it."""
    as_of = _parse_day(on)
    try:
        evaluator = Evaluator(_load(policy_dir, amend))
    except PolicyError as error:
        raise _fail(error, EXIT_POLICY) from None
    try:
        records = list(read_records(person))
    except InputError as error:
        raise _fail(error, EXIT_INPUT) from None

    batch = len(records) != 1 or person.endswith(".jsonl")
    failures = undecided = 0
    for record in records:
        outcome = _evaluate_record(evaluator, record, as_of)
        if isinstance(outcome, Verdict):
            if output is OutputFormat.json:
                typer.echo(json.dumps(outcome.to_json(), ensure_ascii=False, indent=None if batch else 2))
            else:
                typer.echo(render_text(outcome) + ("\n" if batch else ""))
            continue
        failures += 1
        undecided += outcome["error"]["kind"] == "undecided"
        if output is OutputFormat.json and batch:
            typer.echo(json.dumps(outcome, ensure_ascii=False))
        else:
            problems = "".join(f"\n  {p}" for p in outcome["error"]["problems"])
            typer.echo(f"kzmig: {record.where}: {outcome['error']['message']}{problems}", err=True)
    if failures:
        raise typer.Exit(EXIT_UNDECIDED if undecided == failures else EXIT_INPUT)


def _evaluate_record(evaluator: Evaluator, record: Record, as_of: dt.date) -> Verdict | dict[str, Any]:
    """One record -> its verdict, or an error record naming the problems. Never neither."""
    person_id = record.data.get("person_id") if record.data else None
    base = {"record": record.index, "where": record.where, "person_id": person_id}
    if record.data is None:
        problems = [str(p) for p in record.problems]
        return {
            **base,
            "error": {"kind": "input", "message": "cannot be read", "problems": problems},
        }
    try:
        return evaluator.evaluate(record.data, as_of)
    except InputError as error:
        problems = [str(p) for p in place_problems(record, error.problems)]
        return {**base, "error": {"kind": "input", "message": error.summary, "problems": problems}}
    except EvaluationError as error:
        return {**base, "error": {"kind": "undecided", "message": error.summary, "problems": []}}


@policy_app.command("check")
def policy_check(
    policy_dir: PolicyOption = None,
    amend: AmendOption = None,
) -> None:
    """Load a policy (and amendments), report every problem, and print its identity."""
    try:
        policy = _load(policy_dir, amend)
        Evaluator(policy)
    except PolicyError as error:
        raise _fail(error, EXIT_POLICY) from None
    typer.echo(
        f"policy {policy.name} {policy.version}: {len(policy.rules)} rules, "
        f"{len(policy.parameters)} parameters, {len(policy.tables)} tables, "
        f"{len(policy.status_kinds)} status kinds from {len(policy.files)} file(s) - OK"
    )


@policy_app.command("show")
def policy_show(
    policy_dir: PolicyOption = None,
    amend: AmendOption = None,
    on: Annotated[
        str | None,
        typer.Option("--on", help="Show the law in force on this date (default: today).", metavar="DATE"),
    ] = None,
) -> None:
    """List the rules and parameter values in force on a date, each with its source."""
    day = _parse_day(on)
    try:
        policy = _load(policy_dir, amend)
    except PolicyError as error:
        raise _fail(error, EXIT_POLICY) from None
    typer.echo(f"policy {policy.name} {policy.version} on {day}: {policy.title}")
    typer.echo(f"  from {default_policy_dir() if policy_dir is None else policy_dir}")
    typer.echo("\nParameters:")
    for name, parameter in sorted(policy.parameters.items()):
        found = policy.parameter_timeline(name).at(day)
        value = "(no value in force)" if found is None else _show(found.value)
        flag = "  [provisional]" if parameter.provisional else ""
        typer.echo(f"  {name} = {value}{flag}")
        if found is not None:
            typer.echo(f"      since {found.start}: {found.source.title}")
    typer.echo("\nRules in force:")
    for rule in policy.rules:
        if rule.in_force(day):
            status = rule.then.status or "applies"
            typer.echo(f"  {rule.id}  [{status}]  {rule.title}")
    typer.echo("\nStatus kinds: " + ", ".join(sorted(policy.status_kinds)))


def _show(value: Any) -> str:
    return json.dumps(value, default=str) if not isinstance(value, str) else value


def main() -> None:
    """Console entry point: no traceback for expected errors, no locals ever."""
    try:
        app()
    except KzmigError as error:  # pragma: no cover - commands catch their own
        typer.echo(f"kzmig: {error.describe()}", err=True)
        sys.exit(EXIT_INPUT)
    except Exception as error:  # noqa: BLE001 - last line of defence for personal data
        if os.environ.get("KZMIG_DEBUG"):
            raise
        typer.echo(
            f"kzmig: internal error ({type(error).__name__}); this is a bug in kzmig. "
            "Rerun with KZMIG_DEBUG=1 to see the traceback.",
            err=True,
        )
        sys.exit(EXIT_INTERNAL)
