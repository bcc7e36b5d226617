"""``kzmig report``: one person on one date as a printable page (HTML, and PDF where a
renderer is installed). A thin layer over :mod:`rules.reports.person_report`.

The page is in English, Russian or Kazakh (``--lang``, else ``KZMIG_LANG``, else English).

Errors are those of ``kzmig check``, with its exit codes: a record that cannot be read or is
not valid exits 1 with its problems, a broken policy 3, a date the policy does not decide 4;
a wrong date or option 2 (a language kzmig does not speak too, with check's message). The
HTML page is written whatever happens to the PDF: when no renderer is installed or it fails,
the message says so and the exit code is 0 (the page asked for is there; print it from a
browser).
"""

from __future__ import annotations

import itertools
import os
import tempfile
from pathlib import Path
from typing import Annotated, Any

import typer

from rules.cli.app import (
    EXIT_INPUT,
    EXIT_POLICY,
    AmendOption,
    InputFormatOption,
    LanguageOption,
    PersonArgument,
    PolicyOption,
    _exit_for,
    _fail,
    _load,
    _parse_day,
    _read,
    _run_record,
    _show_error,
    app,
)
from rules.cli.records import InputFormat
from rules.errors import PolicyError
from rules.reports.language import DEFAULT_LANGUAGE

__all__ = ["report"]


@app.command()
def report(
    person: PersonArgument,
    on: Annotated[
        str,
        typer.Option("--on", help="Evaluation date, YYYY-MM-DD.", metavar="DATE"),
    ],
    out: Annotated[
        Path | None,
        typer.Option(
            "--out",
            help="Write the HTML page to this file (default: standard output, or beside the PDF with --pdf).",
            dir_okay=False,
            metavar="FILE.html",
        ),
    ] = None,
    pdf: Annotated[
        Path | None,
        typer.Option(
            "--pdf",
            help="Also print the page to this PDF file (needs Chromium; the HTML is written anyway).",
            dir_okay=False,
            metavar="FILE.pdf",
        ),
    ] = None,
    policy_dir: PolicyOption = None,
    amend: AmendOption = None,
    lang: LanguageOption = None,
    input_format: InputFormatOption = InputFormat.auto,
) -> None:
    """A printable page of one person on a date: verdicts, a time line of days, the law.

    In English, Russian or Kazakh (--lang ru|kk|en, or KZMIG_LANG): the page's sentences,
    statuses and dates in that language, rule and programme titles and sources where the
    policy gives them in it (else in English)."""
    from rules.engine.evaluator import Evaluator  # the engine only when a command runs
    from rules.reports.person_report import PdfError, person_report, write_pdf

    as_of = _parse_day(on)
    try:
        evaluator = Evaluator(_load(policy_dir, amend))
    except PolicyError as error:
        raise _fail(error, EXIT_POLICY) from None
    language = lang or DEFAULT_LANGUAGE  # the option's callback has read KZMIG_LANG
    records = list(itertools.islice(_read(person, input_format), 2))
    if len(records) != 1:
        many = "more than one record" if records else "no record"
        typer.echo(f"kzmig: {person}: {many}: a report is of one person", err=True)
        raise typer.Exit(EXIT_INPUT)
    record = records[0]
    outcome: Any = _run_record(record, lambda data: person_report(evaluator, data, as_of, lang=language))
    if not isinstance(outcome, str):
        _show_error(outcome, as_json=False)
        _exit_for({outcome["error"]["kind"]})
        return
    page = outcome
    if out is not None:
        html = out
    elif pdf is not None:
        html = pdf.with_suffix(".html")  # the page beside its PDF, kept whatever the PDF does
    else:
        typer.echo(page, nl=False)
        return
    _write(html, page)
    typer.echo(f"kzmig: report written to {html}", err=True)
    if pdf is not None:
        try:
            made = write_pdf(html, pdf)
        except PdfError as error:
            typer.echo(f"kzmig: no PDF made: {error.describe()}; the HTML report is {html}", err=True)
            return
        typer.echo(f"kzmig: PDF written to {made}", err=True)


def _write(path: Path, text: str) -> None:
    """Write ``text`` to ``path`` whole or not at all (a temporary file moved into place)."""
    temporary: str | None = None
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        handle, temporary = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
        with os.fdopen(handle, "w", encoding="utf-8") as stream:
            stream.write(text)
        # A temporary file is private (0600); the page is an ordinary file, as the umask says.
        umask = os.umask(0)
        os.umask(umask)
        os.chmod(temporary, 0o666 & ~umask)
        os.replace(temporary, path)
    except OSError as error:
        if temporary is not None:
            Path(temporary).unlink(missing_ok=True)
        typer.echo(f"kzmig: cannot write {path}: {error.strerror or type(error).__name__}", err=True)
        raise typer.Exit(EXIT_INPUT) from None
