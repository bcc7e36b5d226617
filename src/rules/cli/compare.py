"""``kzmig compare``: an amendment across a population, for legal analysts. A thin layer over
:mod:`rules.analysis` (the comparison, the aggregates) and :mod:`rules.reports` (the text
summary, the tables).

Records stream through (a JSON Lines file of any size is never held whole); each one yields
exactly one result line per date, or one error record, in input order whatever the number of
worker processes or a Dask cluster doing the work.
"""

from __future__ import annotations

import datetime as dt
import functools
import glob
import itertools
import json
import sys
import time
from collections.abc import Iterator
from contextlib import ExitStack
from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

from rules.cli.app import (
    EXIT_INPUT,
    EXIT_POLICY,
    EXIT_USAGE,
    AmendOption,
    InputFormatOption,
    OutputFormat,
    PolicyOption,
    _exit_for,
    _fail,
    _parse_day,
    _read,
    _show_error,
    app,
    started,
)
from rules.cli.parquet import read_parquet_records
from rules.cli.records import InputFormat, named_json_lines, named_parquet, place_problems
from rules.errors import InputError, KzmigError, PolicyError, Problem
from rules.policy.documents import DocumentError, open_regular
from rules.reports.impact_tables import TableFormat, TableWriter

if TYPE_CHECKING:  # the engine and the analysis are imported when the command runs, not for --help
    from rules.analysis.outcome import Outcome
    from rules.analysis.population import Answer, Population, Submitter, Tally
    from rules.cli.records import Record

__all__ = ["compare"]


class ProgressMode(StrEnum):
    auto = "auto"
    on = "on"
    off = "off"


class Engine(StrEnum):
    auto = "auto"
    records = "records"
    columns = "columns"


@app.command()
def compare(
    people: Annotated[
        str,
        typer.Argument(
            help="Person file (one, a list, .jsonl, or a .parquet persons table), or - for standard input.",
            metavar="PEOPLE",
        ),
    ],
    on: Annotated[
        list[str] | None,
        typer.Option(
            "--on",
            help="Evaluation date, YYYY-MM-DD; repeat for several (default: today in Kazakhstan).",
            metavar="DATE",
        ),
    ] = None,
    months: Annotated[
        str | None,
        typer.Option(
            "--months",
            help="Evaluate on the first day of every month from one month to another, "
            "YYYY-MM..YYYY-MM (with --on, both).",
            metavar="FROM..TO",
        ),
    ] = None,
    policy_dir: PolicyOption = None,
    amend: AmendOption = None,
    against: Annotated[
        Path | None,
        typer.Option(
            "--against",
            metavar="DIR",
            help="Compare with another whole policy directory (amendments, if any, apply to it).",
            file_okay=False,
        ),
    ] = None,
    output: Annotated[
        OutputFormat,
        typer.Option(
            "--format",
            "-f",
            help="text: the summary; json: one line per record and date (error records in place).",
        ),
    ] = OutputFormat.text,
    show: Annotated[
        int,
        typer.Option(
            "--show", metavar="N", help="Text format: list at most this many changed records.", min=0
        ),
    ] = 50,
    changes: Annotated[
        Path | None,
        typer.Option(
            "--changes",
            metavar="FILE",
            help="Write the changed records, with why they changed, as JSON Lines to this file.",
            dir_okay=False,
        ),
    ] = None,
    summary: Annotated[
        Path | None,
        typer.Option(
            "--summary",
            metavar="FILE",
            help="Write the aggregates as a JSON document to this file.",
            dir_okay=False,
        ),
    ] = None,
    report: Annotated[
        Path | None,
        typer.Option(
            "--report",
            metavar="FILE",
            help="Write a self-contained HTML report (charts, the law that differs, the changed "
            "records and why) to this file.",
            dir_okay=False,
        ),
    ] = None,
    tables: Annotated[
        Path | None,
        typer.Option(
            "--tables",
            metavar="DIR",
            help="Write records.<fmt> (a row per record and date) and changes.<fmt> (a row per "
            "changed figure) to this directory.",
            file_okay=False,
        ),
    ] = None,
    table_format: Annotated[
        TableFormat, typer.Option("--table-format", help="Format of --tables: csv or parquet.")
    ] = TableFormat.csv,
    by: Annotated[
        list[str] | None,
        typer.Option(
            "--by",
            help="Count records by the value of a fact of the policy under the baseline, e.g. "
            "stay.regime (repeatable).",
            metavar="FACT",
        ),
    ] = None,
    jobs: Annotated[
        int,
        typer.Option("--jobs", "-j", metavar="N", help="Worker processes comparing records.", min=1, max=256),
    ] = 1,
    dask: Annotated[
        str | None,
        typer.Option(
            "--dask",
            help="Run on a Dask cluster: the scheduler's address (tcp://host:8786). "
            "Every worker needs kzmig and the policy directory.",
            metavar="ADDRESS",
        ),
    ] = None,
    dask_timeout: Annotated[
        float,
        typer.Option(
            "--dask-timeout",
            metavar="SECONDS",
            help="Seconds to wait for the Dask scheduler.",
            min=0.1,
            max=3600,
        ),
    ] = 30.0,
    workers_read: Annotated[
        bool | None,
        typer.Option(
            "--workers-read/--command-reads",
            help="The workers read PEOPLE themselves, a block of the file each, instead of this "
            "command reading every record and sending it to them: for large populations, with "
            "--dask (every worker must see the files at the same path) or --jobs. PEOPLE is a "
            "JSON Lines file or a quoted pattern naming several ('extract/*.jsonl', read in "
            "order of name). The unit of work is then a block of a file, not --chunk records. "
            "Default: the workers read a pattern, and, with --jobs and no --chunk, one regular "
            "JSON Lines file; the command reads otherwise. The output is the same either way.",
            show_default=False,
        ),
    ] = None,
    chunk: Annotated[
        int | None,
        typer.Option(
            "--chunk",
            metavar="N",
            help="Records per unit of work sent to a worker, when this command reads PEOPLE "
            "(giving it means the command reads).  [default: 250]",
            min=1,
            max=100_000,
            show_default=False,
        ),
    ] = None,
    input_format: InputFormatOption = InputFormat.auto,
    trips: Annotated[
        Path | None,
        typer.Option(
            "--trips",
            metavar="FILE",
            help="With a Parquet PEOPLE: the trips table (person_id, entry, exit).",
            dir_okay=False,
        ),
    ] = None,
    statuses: Annotated[
        Path | None,
        typer.Option(
            "--statuses",
            metavar="FILE",
            help="With a Parquet PEOPLE: the statuses table (person_id, kind, valid_from, valid_to).",
            dir_okay=False,
        ),
    ] = None,
    progress: Annotated[
        ProgressMode,
        typer.Option("--progress", help="A progress line on standard error (auto: on a terminal)."),
    ] = ProgressMode.auto,
    engine: Annotated[
        Engine,
        typer.Option(
            "--engine",
            help="How the records are compared: one by one (records), or the travellers without "
            "a status read and decided as columns, a block at a time, and every other record one "
            "by one (columns: faster, the same output; JSON Lines files read by the workers, "
            "needs pyarrow and numpy). auto: columns where the workers read JSON Lines files "
            "on this machine (--jobs N with a .jsonl file, or a pattern) and pyarrow and numpy "
            "are installed, else records.",
        ),
    ] = Engine.auto,
) -> None:
    """Which verdicts an amendment changes, and why: every person under both policy versions."""
    if not amend and against is None:
        raise typer.BadParameter("name what to compare with: --amend FILE and/or --against DIR")
    if jobs > 1 and dask is not None:
        raise typer.BadParameter("give --jobs or --dask, not both")
    if people == "-" and input_format is InputFormat.parquet:
        raise typer.BadParameter("a Parquet persons table is read from a file, not standard input")
    if (trips is not None or statuses is not None) and not named_parquet(people, input_format):
        raise typer.BadParameter(
            "--trips and --statuses go with a Parquet persons table (.parquet, or --input-format parquet)"
        )
    if workers_read and not named_json_lines(people, input_format):
        raise typer.BadParameter(
            "--workers-read reads JSON Lines files (.jsonl, or --input-format jsonl), not standard "
            "input, YAML, JSON or Parquet"
        )
    if engine is Engine.columns:
        if workers_read is False or not named_json_lines(people, input_format):
            raise typer.BadParameter(
                "--engine columns reads JSON Lines files where they lie (.jsonl, read by the workers)"
            )
        if chunk is not None:
            raise typer.BadParameter("--engine columns reads blocks of the file, not --chunk records")
        _columns_available()
        workers_read = True
    if workers_read is None:
        workers_read = _workers_may_read(people, input_format, jobs, dask, chunk)
    if engine is Engine.auto:
        engine = _engine_for(workers_read, dask, chunk)
    chosen = [_parse_day(day) for day in on or ()]
    chosen += _months(months) if months is not None else []
    from rules.analysis.population import PolicySpec, Population

    try:
        # Through kzmig's cache of loaded policies, here and in every worker process.
        baseline_spec = PolicySpec.of_files(policy_dir, cached=True)
        amended_spec = PolicySpec.of_files(
            against if against is not None else policy_dir, amend or (), cached=True
        )
        dates = sorted(set(chosen)) or None  # None: today in Kazakhstan, under the baseline
        with ExitStack() as stack:
            client = _dask_client(dask, dask_timeout, stack) if dask is not None else None
            sized: dict[str, Any] = {"chunk": chunk} if chunk is not None else {}  # else its own
            population = Population(
                baseline_spec,
                amended_spec,
                dates,
                jobs=jobs,
                executor=client,
                group_by=tuple(dict.fromkeys(by or ())),
                block_answers=_column_answers() if engine is Engine.columns else None,
                **sized,
            )
            # The two policies are compiled (here, for the law and a run in this process): a long
            # run begins, with the collector at its usual pace and the start frozen, those included.
            started()
            # Unchanged records are counted by the workers when none is written out one by one.
            tally = output is OutputFormat.text and tables is None
            if workers_read:
                from rules.analysis.partitions import BLOCK_BYTES, answers_of_files

                largest = _column_block_bytes() if engine is Engine.columns else BLOCK_BYTES
                answers = answers_of_files(population, _files(people), tally=tally, largest_block=largest)
            else:
                answers = _local_answers(population, _records(people, input_format, trips, statuses), tally)
            titles = [text.title or text.name for text in amended_spec.amendments]
            outputs = _Outputs(
                output, show, changes, summary, report, tables, table_format, progress,
                " + ".join(titles) if titles else None,
            )  # fmt: skip
            _run(population, people, input_format, answers, outputs, stack)
    except PolicyError as error:
        raise _fail(error, EXIT_POLICY) from None
    except InputError as error:  # a file the workers are to read that cannot be read
        raise _fail(error, EXIT_INPUT) from None
    except KzmigError as error:  # an output that cannot be written
        raise _fail(error, EXIT_USAGE) from None


def _column_block_bytes() -> int:
    """The largest block the workers of ``--engine columns`` read (imported only for it)."""
    from rules.columns.population import BLOCK_BYTES

    return BLOCK_BYTES


def _column_answers() -> Any:
    """How the workers of ``--engine columns`` answer a block (imported only for it)."""
    from rules.columns.population import column_answers

    return column_answers


def _columns_lacking() -> list[str]:
    """The libraries ``--engine columns`` needs that are not installed."""
    import importlib.util

    return [name for name in ("numpy", "pyarrow") if importlib.util.find_spec(name) is None]


def _engine_for(workers_read: bool, dask: str | None, chunk: int | None) -> Engine:
    """The engine ``--engine auto`` chooses: the columns where the workers read JSON Lines
    files on this machine (not on a Dask cluster, whose workers may lack the columns'
    libraries; not in ``--chunk`` sizes) and numpy and pyarrow are installed; else the record
    engine. Both give the same output."""
    if workers_read and dask is None and chunk is None and not _columns_lacking():
        return Engine.columns
    return Engine.records


def _columns_available() -> None:
    """Refuse ``--engine columns`` where its libraries are not installed, saying which."""
    lacking = _columns_lacking()
    if lacking:
        raise typer.BadParameter(
            f"--engine columns needs {' and '.join(lacking)}: pip install 'kzmig[analysis]'"
        )


def _workers_may_read(
    people: str, input_format: InputFormat, jobs: int, dask: str | None, chunk: int | None
) -> bool:
    """Whether the workers read PEOPLE themselves when not told (see ``--workers-read``): a
    pattern of JSON Lines files, which only they read; with ``--jobs`` and no ``--chunk`` size,
    one regular JSON Lines file on this machine (not a pipe, which only one reader may read).
    Never for a Dask cluster unless told: its workers may not see this machine's files."""
    if dask is not None or not named_json_lines(people, input_format):
        return False
    if glob.has_magic(people):
        return True
    return jobs > 1 and chunk is None and Path(people).is_file()


def _files(people: str) -> list[str]:
    """The JSON Lines files a pattern names (in order of name), or the one file named."""
    if not glob.has_magic(people):
        return [people]
    found = sorted(glob.glob(people))
    if not found:
        raise InputError("no person file", [Problem(people, "no file matches this pattern")])
    return found


def _records(
    people: str, input_format: InputFormat, trips: Path | None, statuses: Path | None
) -> Iterator[Record]:
    if not named_parquet(people, input_format):
        return _read(people, input_format)
    try:
        found = read_parquet_records(Path(people), trips, statuses, notice=_notice)
        first = next(found, None)
    except InputError as error:
        raise _fail(error, EXIT_INPUT) from None
    return itertools.chain([first] if first is not None else [], found)


def _notice(message: str) -> None:
    """Something of the input that is not read, said on standard error."""
    typer.echo(f"kzmig: {message}", err=True)


@dataclass(frozen=True)
class _Outputs:
    """What the analyst asked to see, and where."""

    format: OutputFormat
    show: int
    changes: Path | None
    summary: Path | None
    report: Path | None
    tables: Path | None
    table_format: TableFormat
    progress: ProgressMode
    title: str | None


#: The changed records an HTML report lists (the rest are counted).
REPORT_RECORDS = 200


def _local_answers(
    population: Population, records: Iterator[Record], tally: bool
) -> Iterator[Answer | Tally]:
    """The answers of records read here and compared by the population's executor; with
    ``tally``, a :class:`Tally` in the place of each run of records that changed nothing."""
    from rules.analysis.population import Answer, Tally

    found = population.outcomes(records, lambda found: (found.index, found.data), tally=tally)
    for item in found:
        if isinstance(item, Tally):
            yield item
            continue
        record, outcomes = item
        if record.data is None:
            yield Answer.unread(record.index, record.where, record.problems)
        else:
            placed = functools.partial(place_problems, record)
            yield Answer.compared(record.index, record.where, record.data, outcomes, placed)


def _run(
    population: Population,
    people: str,
    input_format: InputFormat,
    answers: Iterator[Answer | Tally],
    outputs: _Outputs,
    stack: ExitStack,
) -> None:
    from rules.analysis.aggregate import Impact
    from rules.analysis.population import Tally
    from rules.reports.impact_text import render_impact_text

    output, show = outputs.format, outputs.show
    comparison = population.comparison
    impact = Impact.of(comparison, population.dates)
    # Every output is opened before the first record, so that a path that cannot be written
    # is said at once, not after a long run.
    changes_file = stack.enter_context(_open_output(outputs.changes)) if outputs.changes is not None else None
    summary_file = stack.enter_context(_open_output(outputs.summary)) if outputs.summary is not None else None
    report_file = stack.enter_context(_open_output(outputs.report)) if outputs.report is not None else None
    writer = (
        stack.enter_context(TableWriter(outputs.tables, outputs.table_format, _programmes(population)))
        if outputs.tables is not None
        else None
    )
    counter = _Progress(outputs.progress, people, input_format)
    stack.callback(counter.close)
    shown: dict[dt.date, list[Outcome]] = {}
    reported: list[dict[str, Any]] = []
    failures: set[str] = set()
    for answer in answers:
        if isinstance(answer, Tally):  # records counted by a worker: nothing of them to write
            counter.tick(answer.records)
            impact.merge(answer.impact)
            continue
        counter.tick()
        impact.add(answer.outcomes, unreadable=not answer.outcomes)
        if answer.error is not None:
            failures.add(answer.error["error"]["kind"])
            _show_error(answer.error, as_json=output is OutputFormat.json)
            if writer is not None:
                person_id = answer.outcomes[0].person_id if answer.outcomes else None
                writer.error(answer.record, person_id, answer.error["error"])
            continue
        for outcome in answer.outcomes:
            if output is OutputFormat.json:
                typer.echo(json.dumps({"record": answer.record, **_document(outcome)}, ensure_ascii=False))
            if outcome.changed:
                listed = shown.setdefault(outcome.as_of or population.dates[0], [])
                if len(listed) < show:
                    listed.append(outcome)
                line = {"record": answer.record, **(outcome.detail or {})}
                if changes_file is not None:
                    changes_file.write(json.dumps(line, ensure_ascii=False) + "\n")
                if report_file is not None and len(reported) < REPORT_RECORDS:
                    reported.append(line)
            if writer is not None:
                writer.outcome(outcome)
    counter.close()
    document = impact.to_json()
    if summary_file is not None:
        summary_file.write(json.dumps(document, ensure_ascii=False, indent=2) + "\n")
    if report_file is not None:
        from rules.reports.impact_html import render_impact_html  # only --report draws a page

        report_file.write(render_impact_html(document, reported, title=outputs.title))
    if output is OutputFormat.text:
        typer.echo(render_impact_text(impact, [o for listed in shown.values() for o in listed], show))
    _exit_for(failures)


def _document(outcome: Outcome) -> dict[str, Any]:
    """The JSON line of one record on one date: the changed figures and why, or no change."""
    if outcome.detail is not None:
        return outcome.detail
    shown: dict[str, Any] = {
        "person_id": outcome.person_id,
        "as_of": outcome.as_of.isoformat() if outcome.as_of is not None else None,
        "changed": [],
    }
    if outcome.notes:
        shown["notes"] = list(outcome.notes)
    return shown


def _months(value: str) -> list[dt.date]:
    start, separator, end = value.partition("..")
    first, last = _month(start), _month(end if separator else start)
    if last < first:
        raise typer.BadParameter(f"{value!r}: the last month is before the first", param_hint="--months")
    found = []
    year, month = first.year, first.month
    while (year, month) <= (last.year, last.month):
        found.append(dt.date(year, month, 1))
        year, month = (year + 1, 1) if month == 12 else (year, month + 1)
    if len(found) > 1200:
        raise typer.BadParameter(f"{value!r}: at most 100 years of months", param_hint="--months")
    return found


def _month(value: str) -> dt.date:
    try:
        return dt.date.fromisoformat(f"{value.strip()}-01")
    except ValueError:
        raise typer.BadParameter(
            f"{value!r} is not a month of the form YYYY-MM", param_hint="--months"
        ) from None


def _programmes(population: Population) -> list[str]:
    names: dict[str, None] = {}
    for evaluator in (population.comparison.baseline, population.comparison.amended):
        names.update(dict.fromkeys(evaluator.policy.programmes))
    return list(names)


def _open_output(path: Path) -> Any:
    try:
        return path.open("w", encoding="utf-8", newline="\n")
    except OSError as error:
        typer.echo(f"kzmig: {path}: cannot be written ({error.strerror})", err=True)
        raise typer.Exit(EXIT_USAGE) from None


def _dask_client(address: str, timeout: float, stack: ExitStack) -> Submitter:
    try:
        from distributed import Client
    except ImportError:
        typer.echo("kzmig: --dask needs Dask: pip install 'kzmig[dask]'", err=True)
        raise typer.Exit(EXIT_USAGE) from None
    try:
        client = Client(address, timeout=timeout)  # type: ignore[no-untyped-call]
    except (OSError, TimeoutError) as error:
        typer.echo(f"kzmig: cannot reach the Dask scheduler at {address} ({error})", err=True)
        raise typer.Exit(EXIT_USAGE) from None
    stack.callback(client.close)
    return client


class _Progress:
    """``records: N (R/s)`` on standard error, refreshed at most a few times a second."""

    def __init__(self, mode: ProgressMode, source: str, input_format: InputFormat) -> None:
        self.enabled = mode is ProgressMode.on or (mode is ProgressMode.auto and sys.stderr.isatty())
        self.total = _count_lines(source, input_format) if self.enabled else None
        self.done = 0
        self._start = self._last = _now()

    def tick(self, records: int = 1) -> None:
        self.done += records
        if not self.enabled:
            return
        now = _now()
        if now - self._last < 0.25:
            return
        self._last = now
        self._show(now)

    def _show(self, now: float) -> None:
        rate = self.done / max(now - self._start, 1e-9)
        if self.total:
            share = min(self.done / self.total, 1.0)
            left = (self.total - self.done) / rate if rate > 0 else 0
            line = (
                f"records: {self.done:,} of {self.total:,} ({share:.0%}), {rate:,.0f}/s, {left:,.0f} s left"
            )
        else:
            line = f"records: {self.done:,}, {rate:,.0f}/s"
        sys.stderr.write(f"\r{line}\033[K")
        sys.stderr.flush()

    def close(self) -> None:
        if self.enabled and self.done:
            self._show(_now())
            sys.stderr.write("\n")
            sys.stderr.flush()
            self.enabled = False


def _now() -> float:
    return time.monotonic()


def _count_lines(source: str, input_format: InputFormat) -> int | None:
    """The number of lines of a JSON Lines file (for the share done); ``None`` otherwise."""
    if named_parquet(source, input_format):
        try:
            import pyarrow.parquet as pq

            return int(pq.ParquetFile(source).metadata.num_rows)
        except (ImportError, OSError, ValueError):
            return None
    if not named_json_lines(source, input_format):
        return None
    try:
        with open_regular(source) as handle:  # not a pipe: that is read once, by the comparison
            return sum(block.count(b"\n") for block in iter(lambda: handle.read(1 << 20), b""))
    except (DocumentError, OSError):
        return None
