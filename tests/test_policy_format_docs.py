"""The format reference (``docs/policy-format.md``) is run, not just read.

* every ``yaml`` block parses as plain YAML;
* a block with a ``formula`` is an operator example: it runs in a small programme ``example``
  (inputs ``signed``, ``region``, ``members``, ``payments``) over the shipped policy, on
  2026-06-01 unless it says ``on``, and must give what its ``gives`` says;
* a block made of policy-file sections loads as an amendment over the shipped policy without a
  problem (a block opening with ``# an excerpt`` is part of a file and only parses);
* the loader messages the page shows are the loader's own.
"""

from __future__ import annotations

import datetime as dt
import json
import re
from pathlib import Path
from typing import Any

import pytest
import yaml

import rules
from rules.policy.documents import parse_document

ROOT = Path(__file__).resolve().parents[1]
DOC = ROOT / "docs" / "policy-format.md"
SECTIONS = {"schema", "title", "description", "policy", "programmes", "parameters", "tables"}
SECTIONS |= {"status_kinds", "facts", "rules", "repeals"}
ON = dt.date(2026, 6, 1)

HARNESS = """\
schema: kzmig/policy/2
title: The programme the operator examples of docs/policy-format.md run in
programmes:
  example:
    title: An operator example
    precedence: [done]
    evaluated: with_record
    record: example_input
    inputs:
      signed: {type: date, description: A day}
      region: {type: string, description: A code}
      members: {type: integer, description: A count}
      payments:
        type: list
        description: Payments
        fields:
          kind: {type: string, description: The kind}
          paid_on: {type: date, description: The day paid}
          amount_kzt: {type: integer, description: The amount}
    report:
      result: example.result
facts:
  example.result:
    description: The formula under test
    type: integer
    formulas:
      - from: 2000-01-01
        source: {title: docs/policy-format.md, href: https://example.org/docs}
        formula: 0
rules:
  - id: example.done
    title: The example is computed
    source: {title: docs/policy-format.md, href: https://example.org/docs}
    from: 2000-01-01
    then: {status: done}
"""


def _blocks() -> list[tuple[int, str]]:
    text = DOC.read_text(encoding="utf-8")
    found = []
    for match in re.finditer(r"```yaml\n(.*?)```", text, flags=re.DOTALL):
        found.append((text[: match.start()].count("\n") + 1, match.group(1)))
    return found


def _load(text: str) -> Any:
    return parse_document(text, "docs/policy-format.md").data


def _as_json(value: Any) -> Any:
    return json.loads(json.dumps(value, default=lambda v: v.isoformat()))


BLOCKS = _blocks()
EXAMPLES = [
    (line, block) for line, block in BLOCKS if isinstance(_load(block), dict) and "formula" in _load(block)
]
FILES = [
    (line, block)
    for line, block in BLOCKS
    if not block.startswith("# an excerpt")
    and isinstance(_load(block), dict)
    and "formula" not in _load(block)
    and set(_load(block)) <= SECTIONS | {key for key in _load(block) if str(key).startswith("x-")}
]


def test_the_format_reference_has_operator_examples_and_file_examples():
    assert len(EXAMPLES) >= 25 and len(FILES) >= 8


@pytest.mark.parametrize(("line", "block"), BLOCKS, ids=[f"line {line}" for line, _ in BLOCKS])
def test_every_yaml_block_of_the_format_reference_parses(line, block):
    _load(block)


def _type_of(gives: Any) -> str:
    if isinstance(gives, bool):
        return "boolean"
    if isinstance(gives, int):
        return "integer"
    if isinstance(gives, float):
        return "decimal"
    if isinstance(gives, dt.date):
        return "date"
    if isinstance(gives, list):
        return "list"
    return "string"


@pytest.mark.parametrize(("line", "block"), EXAMPLES, ids=[f"line {line}" for line, _ in EXAMPLES])
def test_operator_example_of_the_format_reference_gives_what_it_says(tmp_path, line, block):
    example = _load(block)
    assert set(example) <= {"formula", "gives", "given", "type", "on"}, f"line {line}: unknown keys"
    harness = _load(HARNESS)
    if isinstance(example["gives"], dict):  # a record is shown in a report, not declared as a fact
        harness["programmes"]["example"]["report"]["result"] = example["formula"]
        del harness["facts"]
    else:
        fact = harness["facts"]["example.result"]
        fact["type"] = example.get("type") or _type_of(example["gives"])
        fact["formulas"][0]["formula"] = example["formula"]
    path = tmp_path / "example.yaml"
    with path.open("w", encoding="utf-8") as handle:
        yaml.safe_dump(harness, handle, allow_unicode=True, sort_keys=False)
    policy = rules.load_policy(amendments=[path])
    person = {"person_id": "doc-example", "example_input": _as_json(example.get("given") or {})}
    verdict = rules.evaluate(person, on=example.get("on", ON), policy=policy)
    section = verdict.section("example")
    assert section is not None
    assert section.model_dump(mode="json")["result"] == _as_json(example["gives"]), f"line {line}"


@pytest.mark.parametrize(("line", "block"), FILES, ids=[f"line {line}" for line, _ in FILES])
def test_file_example_of_the_format_reference_loads_over_the_shipped_policy(tmp_path, line, block):
    data = _load(block)
    header = (
        "" if "schema" in data else "schema: kzmig/policy/2\ntitle: An example of docs/policy-format.md\n"
    )
    path = tmp_path / "example.yaml"
    path.write_text(header + block, encoding="utf-8")
    rules.load_policy(amendments=[path])


def test_the_loader_messages_the_format_reference_shows_are_the_loaders_own(tmp_path):
    text = DOC.read_text(encoding="utf-8")
    shown = re.search(r"```text\nkzmig: policy policies/kz cannot be loaded\n(.*?)```", text, flags=re.DOTALL)
    assert shown is not None
    expected = [line.split(" at ", 1)[1] for line in shown.group(1).strip().splitlines()]
    path = tmp_path / "what-if.yaml"
    path.write_text(
        "schema: kzmig/policy/2\ntitle: A what-if with two mistakes\n"
        "parameters:\n  stay.limit_days:\n    description: The limit.\n    values:\n"
        "      - {from: 2026-01-01, value: 60, source: {title: A what-if, href: https://example.org/}}\n"
        "rules:\n  - id: stay.extra\n    title: A rule reading a misspelt fact\n"
        "    source: {title: A what-if, href: https://example.org/}\n    from: 2023-01-27\n"
        "    when: {fact: stay.days_usde, gt: 3}\n",
        encoding="utf-8",
    )
    with pytest.raises(rules.PolicyError) as caught:
        rules.load_policy(amendments=[path])
    actual = [problem.where.split(" at ", 1)[1] + ": " + problem.message for problem in caught.value.problems]
    assert actual == expected
