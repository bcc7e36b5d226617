"""The floor under a cold ``kzmig check``: the same start without kzmig's policy and engine.

``bench_cold_start.py`` runs this as its ``check floor`` command, with the arguments of ``check
driver``. It starts the way the ``kzmig`` console script does and runs kzmig's own command line
(``rules.cli.app``: typer and its parsing of every option of ``check``), but the command's body is
replaced by a stand-in that reads the person file and validates it with a small pydantic model
(so pydantic's import and the building of one validator are counted) and prints one line. What
it does not do is everything kzmig's engine does: import the models, the loader and the engine,
read the policy back from the cache, compile it, evaluate, write the report.

So ``check driver`` minus ``check floor`` is the part of a cold check that kzmig's own design
decides; the floor is what the interpreter and the dependencies cost before kzmig does any work.
"""

from __future__ import annotations

import datetime as dt
import functools
import importlib
import json
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict


class _Trip(BaseModel):
    model_config = ConfigDict(extra="allow", frozen=True)

    entry: dt.date
    exit: dt.date | None = None


class _Person(BaseModel):
    model_config = ConfigDict(extra="allow", frozen=True)

    person_id: str
    citizenship: str | None = None
    trips: tuple[_Trip, ...] = ()


def main() -> Any:
    """Run kzmig's command line with the body of ``check`` replaced by the stand-in."""
    cli = importlib.import_module("rules.cli.app")
    original = cli.check

    @functools.wraps(original)  # typer reads the parameters of the original
    def check(person: str, **_: Any) -> None:
        found = _Person.model_validate(json.loads(Path(person).read_bytes()))
        print(f"{found.person_id}: {len(found.trips)} trips")

    replaced = 0
    for command in cli.app.registered_commands:
        if command.callback is original:
            command.callback = check
            replaced += 1
    if replaced != 1:
        raise SystemExit("kzmig's command line has no 'check' command to stand in for")
    return cli.main()
