"""``kzmig``: the command line for caseworkers and analysts. A thin layer over the library.

Exit codes: 0 every record evaluated; 1 bad input (at least one record could not be
evaluated; the others still were); 2 wrong usage; 3 broken policy; 4 a case the policy does
not decide; 70 an internal error. No traceback is printed for any of the first five, and
never with local variables: applicant data is personal.
"""

from __future__ import annotations

import datetime as dt
import gc
import importlib
import json
import os
import sys
import traceback
from collections.abc import Callable, Collection, Iterable, Iterator
from enum import StrEnum
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any, TypeVar

import typer
import typer.main
from typer.core import TyperGroup

from rules.cli.records import InputFormat, Record, Records, place_problems, read_records
from rules.errors import EvaluationError, InputError, KzmigError, PolicyError, Problem, error_record
from rules.reports.language import LANGUAGE_VARIABLE, LANGUAGES, chosen_language, wording
from rules.stay import HORIZON_DAYS
from rules.version import PLAN_FORMAT, VERDICT_FORMAT, __version__

# The engine, the policy loader and the models are imported by the commands that use them, so
# that ``kzmig --help`` and ``kzmig --version`` answer at once.
if TYPE_CHECKING:
    from models.plan import Plan
    from models.verdict import Verdict
    from rules.engine.evaluator import Evaluator
    from rules.policy.loaded import Policy

__all__ = ["app", "main"]

EXIT_INPUT, EXIT_USAGE, EXIT_POLICY, EXIT_UNDECIDED, EXIT_INTERNAL = 1, 2, 3, 4, 70

#: Commands defined in modules of their own, which register them on ``app`` when imported. They
#: are imported when a command line asks for one of them (to run it, for help, or to suggest a
#: name), not at each start: ``rules.cli.compare`` brings in the whole analysis package.
COMMAND_MODULES = {"compare": "rules.cli.compare", "report": "rules.cli.report"}

#: The cycle collector's threshold for its youngest generation while kzmig starts (700 by
#: default): until the policy is read back, nearly every object made (modules, classes, typer's
#: parsers, the policy) lives as long as the process, and collecting them again and again (and
#: at exit) cost about 7 % of a one-person check's instructions. Still a number, not "off": a
#: command that never calls :func:`started` has a collector all the same.
STARTING_THRESHOLD = 50_000

#: The collector's thresholds that :func:`main` replaced for the start; ``None`` once
#: :func:`started` has restored them, or when the commands run without ``main`` (a test's runner).
_thresholds: tuple[int, int, int] | None = None


class _Commands(TyperGroup):
    """kzmig's command group: every command of ``app`` plus those of :data:`COMMAND_MODULES`,
    listed (in ``--help``) in the order they are registered, as if all had been imported."""

    # ``ctx`` is typer's own click context; its class is private to typer, hence Any.
    def list_commands(self, ctx: Any) -> list[str]:
        self._import_command_modules()
        return super().list_commands(ctx)

    def get_command(self, ctx: Any, cmd_name: str) -> Any:
        if cmd_name not in self.commands:  # one of another module, or a typo to suggest for
            self._import_command_modules()
        return super().get_command(ctx, cmd_name)

    def _import_command_modules(self) -> None:
        if all(name in self.commands for name in COMMAND_MODULES):
            return
        for module in COMMAND_MODULES.values():
            importlib.import_module(module)
        self.commands = typer.main.get_group(app).commands


app = typer.Typer(
    name="kzmig",
    cls=_Commands,
    help="Kazakhstan migration-policy eligibility, explained rule by rule with its legal source.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_show_locals=False,
    # Help and usage errors as plain text: the same in any terminal, in a log or a screen reader,
    # and without importing rich and a Markdown parser (half a second) to print them.
    rich_markup_mode=None,
)
policy_app = typer.Typer(
    help="Inspect and check policy directories and amendment files.", rich_markup_mode=None
)
app.add_typer(policy_app, name="policy")


def _show_version(value: bool) -> None:
    if value:
        typer.echo(f"kzmig {__version__} (verdict format {VERDICT_FORMAT}, plan format {PLAN_FORMAT})")
        raise typer.Exit()


@app.callback()
def _options(
    version: Annotated[
        bool,
        typer.Option(
            "--version",
            help="Print the version of kzmig and of its documents.",
            callback=_show_version,
            is_eager=True,
        ),
    ] = False,
) -> None:
    """Kazakhstan migration-policy eligibility, explained rule by rule with its legal source."""


class OutputFormat(StrEnum):
    text = "text"
    json = "json"


PolicyOption = Annotated[
    Path | None,
    typer.Option(
        "--policy",
        help="Policy directory to evaluate under (default: the shipped baseline, policies/kz).",
        file_okay=False,
        metavar="DIR",
    ),
]
PersonArgument = Annotated[
    str,
    typer.Argument(
        help="Person file (.json, .yaml, .yml: one person or a list; .jsonl: one per line; .json "
        "also objects one after another, as jq prints them), or - for standard input.",
        metavar="PERSON",
    ),
]
InputFormatOption = Annotated[
    InputFormat,
    typer.Option(
        "--input-format",
        help="How the person file is read: auto tells by its name (.jsonl, .json, else YAML; "
        ".parquet for compare) and standard input by its first lines (JSON Lines when the first "
        "is a JSON object and more lines follow); jsonl, json or yaml read it so, whatever its "
        "name or first lines; parquet reads a Parquet persons table (compare, a file).",
    ),
]
FormatOption = Annotated[
    OutputFormat,
    typer.Option(
        "--format", "-f", help="text for people; json for systems (one line per record in a batch)."
    ),
]
AmendOption = Annotated[
    list[Path] | None,
    typer.Option(
        "--amend",
        help="Amendment file applied over the policy (repeatable, applied in order).",
        dir_okay=False,
        metavar="FILE",
    ),
]


def _parse_language(value: str | None) -> str:
    try:
        return chosen_language(value)
    except KzmigError as error:
        raise typer.BadParameter(error.summary) from None


LanguageOption = Annotated[
    str | None,
    typer.Option(
        "--lang",
        help=f"Language of the text output: {', '.join(LANGUAGES)} (default: env {LANGUAGE_VARIABLE}, "
        "else en). Rule and programme titles follow where the policy gives them in that language. "
        "JSON stays English: its keys and values are a contract.",
        metavar="LANG",
        callback=_parse_language,
    ),
]


def _parse_day(value: str) -> dt.date:
    try:
        return dt.date.fromisoformat(value)
    except ValueError:
        raise typer.BadParameter(f"{value!r} is not a date of the form YYYY-MM-DD") from None


def started() -> None:
    """The start is over (the policy is loaded, or the command is about to run for long): what
    it made lives until the process ends, so the collector leaves it out from now on
    (``gc.freeze``), and collects what the command makes at its usual pace."""
    _collect_as_usual(freeze=True)


def _collect_as_usual(*, freeze: bool) -> None:
    global _thresholds
    if _thresholds is not None:
        if freeze:
            gc.freeze()
        gc.set_threshold(*_thresholds)
        _thresholds = None


def _load(policy_dir: Path | None, amendments: list[Path] | None) -> Policy:
    """The policy, through the cache of loaded policies (``KZMIG_CACHE_DIR``; ``off``: none)."""
    from rules.policy.cache import PolicyCache
    from rules.policy.loader import load_policy

    try:
        return load_policy(policy_dir, amendments or (), cache=PolicyCache.default())
    finally:
        started()


def _compiled(policy: Policy) -> Evaluator:
    from rules.engine.evaluator import Evaluator

    return Evaluator(policy)


def _fail(error: KzmigError, code: int) -> typer.Exit:
    typer.echo(f"kzmig: {error.describe()}", err=True)
    return typer.Exit(code)


@app.command()
def check(
    person: PersonArgument,
    on: Annotated[
        str | None,
        typer.Option(
            "--on", help="Evaluation date, YYYY-MM-DD (default: today in Kazakhstan).", metavar="DATE"
        ),
    ] = None,
    output: FormatOption = OutputFormat.text,
    input_format: InputFormatOption = InputFormat.auto,
    policy_dir: PolicyOption = None,
    amend: AmendOption = None,
    lang: LanguageOption = None,
) -> None:
    """Check a person against the stay limit on a date, with the rules that decided it."""
    from rules.reports.text import render_text

    as_of = _parse_day(on) if on is not None else None  # None: today in Kazakhstan, per the policy
    try:
        evaluator = _compiled(_load(policy_dir, amend))
    except PolicyError as error:
        raise _fail(error, EXIT_POLICY) from None
    records = _read(person, input_format)
    words = wording(lang, evaluator.policy)

    _answer_each(
        records,
        output,
        lambda data: evaluator.evaluate(data, as_of),
        lambda verdict: render_text(verdict, words),
    )


def _answer_each(
    records: Records,
    output: OutputFormat,
    run: Callable[[dict[str, Any]], Verdict | Plan],
    render: Callable[[Any], str],
) -> None:
    """Run every record and print each answer (text, or JSON: one line each in a batch) or
    its error record, then exit as the errors say."""
    each, batch = _batch(records)
    failures: set[str] = set()
    for record in each:
        outcome = _run_record(record, run)
        if not isinstance(outcome, dict):  # a verdict or a plan, not an error record
            if output is OutputFormat.json:
                typer.echo(json.dumps(outcome.to_json(), ensure_ascii=False, indent=None if batch else 2))
            else:
                typer.echo(render(outcome) + ("\n" if batch else ""))
        else:
            failures.add(outcome["error"]["kind"])
            _show_error(outcome, as_json=output is OutputFormat.json and batch)
    _exit_for(failures)


def _read(source: str, input_format: InputFormat) -> Records:
    """The records of ``source``, one at a time (JSON Lines are streamed); a file that cannot be
    read at all exits 1 with its problem."""
    try:
        return read_records(source, input_format)
    except InputError as error:
        raise _fail(error, EXIT_INPUT) from None


def _batch(records: Records) -> tuple[Iterator[Record], bool]:
    """The records, and whether they are a batch (streamed, or a file of another number than
    one person): a batch prints one JSON line a record."""
    if records.streamed:
        return iter(records), True
    held = list(records)  # one document, at most MAX_DOCUMENT_BYTES: already in memory
    return iter(held), len(held) != 1


def _show_error(error: dict[str, Any], as_json: bool) -> None:
    """An error record: a JSON line among the results, or a message on standard error."""
    if as_json:
        typer.echo(json.dumps(error, ensure_ascii=False))
    else:
        problems = "".join(f"\n  {p}" for p in error["error"]["problems"])
        typer.echo(f"kzmig: {error['where']}: {error['error']['message']}{problems}", err=True)


def _exit_for(failures: Collection[str]) -> None:
    """Exit 4 when every failure (by the kind of its error record) is a case the policy does
    not decide, 1 for bad input; nothing when there is none."""
    if failures:
        raise typer.Exit(EXIT_UNDECIDED if set(failures) == {"undecided"} else EXIT_INPUT)


def _error_record(record: Record, kind: str, message: str, problems: Iterable[Problem]) -> dict[str, Any]:
    """The error record of ``record``: its place, its person id, and the problems, each placed
    at its file and line where the record came from a document."""
    person_id = record.data.get("person_id") if record.data else None
    return error_record(
        record.index, record.where, person_id, kind, message, place_problems(record, tuple(problems))
    )


_Result = TypeVar("_Result")


def _run_record(record: Record, run: Callable[[dict[str, Any]], _Result]) -> _Result | dict[str, Any]:
    """One record -> ``run``'s result, or an error record naming the problems. Never neither."""
    if record.data is None:
        return _error_record(record, "input", "cannot be read", record.problems)
    try:
        return run(record.data)
    except InputError as error:
        return _error_record(record, "input", error.summary, error.problems)
    except EvaluationError as error:
        return _error_record(record, "undecided", error.summary, ())


@app.command()
def plan(
    person: PersonArgument,
    enter: Annotated[
        str,
        typer.Option("--enter", help="The planned day of entry, YYYY-MM-DD.", metavar="DATE"),
    ],
    days: Annotated[
        int | None,
        typer.Option(
            "--days",
            help="Find the earliest entry for a stay this long (default 1).",
            min=1,
            max=HORIZON_DAYS,
        ),
    ] = None,
    output: FormatOption = OutputFormat.text,
    input_format: InputFormatOption = InputFormat.auto,
    policy_dir: PolicyOption = None,
    amend: AmendOption = None,
    lang: LanguageOption = None,
) -> None:
    """How long a person may stay if they enter on a date, and the earliest entry for N days."""
    from rules.reports.plan_text import render_plan_text
    from rules.stay.planning import plan_with

    day = _parse_day(enter)
    try:
        evaluator = _compiled(_load(policy_dir, amend))
    except PolicyError as error:
        raise _fail(error, EXIT_POLICY) from None
    records = _read(person, input_format)
    words = wording(lang, evaluator.policy)

    _answer_each(
        records,
        output,
        lambda data: plan_with(evaluator, data, day, days),
        lambda found: render_plan_text(found, words),
    )


class SchemaKind(StrEnum):
    person = "person"
    verdict = "verdict"
    plan = "plan"
    policy = "policy"


@app.command()
def schema(
    kind: Annotated[
        SchemaKind,
        typer.Argument(
            help="person: the record the engine reads; verdict and plan: what it answers; "
            "policy: a policy or amendment file."
        ),
    ],
    policy_dir: PolicyOption = None,
    amend: AmendOption = None,
) -> None:
    """Print the JSON Schema of a person record, a verdict, a plan or a policy file, for a policy."""
    from rules.engine.schemas import schema as schema_of

    try:
        policy = _load(policy_dir, amend)
    except PolicyError as error:
        raise _fail(error, EXIT_POLICY) from None
    document = schema_of(kind.value, policy)
    typer.echo(json.dumps(document, ensure_ascii=False, indent=2))


@app.command()
def serve(
    host: Annotated[
        str | None,
        typer.Option(
            help="Address to listen on (env KZMIG_SERVICE_HOST; default 127.0.0.1: this machine only)."
        ),
    ] = None,
    port: Annotated[int | None, typer.Option(help="Port (env KZMIG_SERVICE_PORT; default 8000).")] = None,
    workers: Annotated[
        int | None,
        typer.Option(help="Worker processes, one per core (env KZMIG_SERVICE_WORKERS; default 1)."),
    ] = None,
    token: Annotated[
        str | None,
        typer.Option(
            help="Bearer token every route but /v1/health requires (env KZMIG_SERVICE_TOKEN, "
            "better: other users can read a command line).",
            show_default=False,
        ),
    ] = None,
    max_body_bytes: Annotated[
        int | None,
        typer.Option(help="Largest request body (env KZMIG_SERVICE_MAX_BODY_BYTES; default 1048576)."),
    ] = None,
    timeout: Annotated[
        float | None,
        typer.Option(
            help="Seconds one request may evaluate (env KZMIG_SERVICE_TIMEOUT_SECONDS; default 10)."
        ),
    ] = None,
    policy_dir: PolicyOption = None,
    amend: AmendOption = None,
) -> None:
    """Serve the engine over HTTP: check, explain, plan, schemas, amendments, compare."""
    from rules.service.cli import serve as run_service

    started()

    run_service(
        host=host,
        port=port,
        workers=workers,
        token=token,
        max_body_bytes=max_body_bytes,
        timeout_seconds=timeout,
        policy_dir=policy_dir,
        amendments=amend,
    )


@policy_app.command("check")
def policy_check(
    policy_dir: PolicyOption = None,
    amend: AmendOption = None,
) -> None:
    """Load a policy (and amendments), report every problem, and print its identity."""
    try:
        policy = _load(policy_dir, amend)
        _compiled(policy)
    except PolicyError as error:
        raise _fail(error, EXIT_POLICY) from None
    typer.echo(
        f"policy {policy.name} {policy.version}: {len(policy.programmes)} programmes "
        f"({', '.join(policy.programmes)}), {len(policy.rules)} rules, "
        f"{len(policy.parameters)} parameters, {len(policy.tables)} tables, "
        f"{len(policy.facts)} computed facts, "
        f"{len(policy.status_kinds)} status kinds from {len(policy.files)} file(s) - OK"
    )


@policy_app.command("show")
def policy_show(
    policy_dir: PolicyOption = None,
    amend: AmendOption = None,
    on: Annotated[
        str | None,
        typer.Option(
            "--on", help="Show the law in force on this date (default: today in Kazakhstan).", metavar="DATE"
        ),
    ] = None,
) -> None:
    """List the programmes, computed facts, parameter values and rules in force on a date, with sources."""
    from rules.engine.evaluator import today
    from rules.policy.loader import default_policy_dir
    from rules.policy.timeline import Timeline
    from rules.policy.titles import rule_title

    chosen = _parse_day(on) if on is not None else None
    try:
        policy = _load(policy_dir, amend)
    except PolicyError as error:
        raise _fail(error, EXIT_POLICY) from None
    day = chosen if chosen is not None else today(policy)
    typer.echo(f"policy {policy.name} {policy.version} on {day}: {policy.title}")
    typer.echo(f"  from {default_policy_dir() if policy_dir is None else policy_dir}")
    typer.echo("\nProgrammes (each decided after those it reads):")
    for name, programme in policy.programmes.items():
        when = "every record" if programme.evaluated == "always" else f"records with {programme.record}"
        extra = [f"evaluated for {when}"]
        if programme.reads:
            extra.append("reads " + ", ".join(programme.reads))
        if programme.mechanism:
            extra.append(f"mechanism {programme.mechanism}")
        if programme.section:
            extra.append(f"reported in {programme.section}")
        typer.echo(f"  {name}: {programme.title}")
        typer.echo(f"      statuses: {' > '.join(programme.precedence)}; " + "; ".join(extra))
        if programme.inputs:
            typer.echo(f"      inputs ({programme.record}): {', '.join(programme.inputs)}")
    typer.echo("\nComputed facts:" if policy.facts else "\nComputed facts: none")
    for name, fact in policy.facts.items():
        formula = Timeline.of(fact.formulas).at(day)
        shown = "(no formula in force)" if formula is None else f"since {formula.start}"
        unit = f", {fact.unit}" if fact.unit else ""
        typer.echo(f"  {name} ({fact.type}{unit}) {shown}: {fact.description}")
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
            typer.echo(f"  {rule.id}  [{status}]  {rule_title(policy, rule, day)}")
    typer.echo("\nStatus kinds: " + ", ".join(sorted(policy.status_kinds)))


def _show(value: Any) -> str:
    return json.dumps(value, default=str) if not isinstance(value, str) else value


def main() -> None:
    """Console entry point: no traceback for expected errors, no locals ever."""
    # Pydantic looks for plugins in the entry points of every installed distribution the first
    # time a model validates (a tenth of a one-person check); kzmig's commands use none. Whoever
    # wants one sets the variable (even to nothing) and pydantic looks as usual.
    os.environ.setdefault("PYDANTIC_DISABLE_PLUGINS", "__all__")
    global _thresholds
    _thresholds = gc.get_threshold()
    gc.set_threshold(STARTING_THRESHOLD, *_thresholds[1:])
    try:
        _run()
    finally:
        _collect_as_usual(freeze=False)  # a command that never called started()


def _run() -> None:
    try:
        app()
    except KzmigError as error:  # pragma: no cover - commands catch their own
        typer.echo(f"kzmig: {error.describe()}", err=True)
        sys.exit(EXIT_INPUT)
    except Exception as error:  # noqa: BLE001 - last line of defence for personal data
        if os.environ.get("KZMIG_DEBUG"):
            # The traceback, for a developer: frames only, never their local variables.
            traceback.print_exc(file=sys.stderr)
            sys.exit(EXIT_INTERNAL)
        typer.echo(
            f"kzmig: internal error ({type(error).__name__}); this is a bug in kzmig. "
            "Rerun with KZMIG_DEBUG=1 to see the traceback.",
            err=True,
        )
        sys.exit(EXIT_INTERNAL)
