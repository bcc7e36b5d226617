"""Every ``$ kzmig ...`` block in the README shows exactly what the command prints."""

from __future__ import annotations

import re
import shlex
from pathlib import Path

import pytest
from typer.testing import CliRunner

from rules.cli.app import app

README = Path(__file__).resolve().parents[1] / "README.md"
_BLOCK = re.compile(r"```console\n\$ kzmig (?P<args>[^\n]*)\n(?P<output>.*?)```", re.DOTALL)


def _blocks() -> list[tuple[str, str]]:
    return [(m["args"], m["output"]) for m in _BLOCK.finditer(README.read_text(encoding="utf-8"))]


def test_readme_shows_at_least_one_command_with_its_output() -> None:
    assert _blocks(), "the README should show kzmig at work in ```console blocks"


@pytest.mark.parametrize(("args", "output"), _blocks(), ids=[args for args, _ in _blocks()])
def test_readme_command_prints_what_the_readme_shows(
    args: str, output: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(README.parent)
    result = CliRunner().invoke(app, shlex.split(args))
    assert result.stdout == output, (
        f"README block for `kzmig {args}` is stale; regenerate it with `python tests/test_readme.py` "
        "(the policy version hash changes whenever a policy file changes)"
    )


def _regenerate() -> None:
    """Rewrite every ``$ kzmig ...`` block with what the command prints now (run this file)."""
    import os

    os.chdir(README.parent)

    def fill(match: re.Match[str]) -> str:
        result = CliRunner().invoke(app, shlex.split(match["args"]))
        return f"```console\n$ kzmig {match['args']}\n{result.stdout}```"

    README.write_text(_BLOCK.sub(fill, README.read_text(encoding="utf-8")), encoding="utf-8")


if __name__ == "__main__":
    _regenerate()
