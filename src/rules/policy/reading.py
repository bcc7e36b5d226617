"""Reading one policy file: its outline, then each item of each section validated on its own.

Validating item by item means one broken rule does not hide its file's parameters: the loader
then checks the whole policy with every item that is valid, and a reference to a broken item
is not reported a second time (its name is in ``broken``). Every problem comes in one round.
"""

from __future__ import annotations

import hashlib
import threading
from collections import OrderedDict
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ValidationError

from models.policy import (
    OLD_SCHEMA_ID,
    SCHEMA_ID,
    ComputedFact,
    Parameter,
    PolicyFile,
    PolicyHeader,
    Programme,
    Rule,
    StatusKind,
    Table,
)
from rules.errors import Problem
from rules.policy.documents import (
    MAX_DOCUMENT_BYTES,
    Document,
    DocumentError,
    copy_plain,
    decode,
    parse_document,
    parse_json_document,
    validation_problems,
)

__all__ = ["FileItems", "policy_items", "read_policy_file", "read_policy_text", "CONVERSION_HINT"]

#: What a file still in format 1 is told.
CONVERSION_HINT = (
    f"format {OLD_SCHEMA_ID} is no longer read; convert the file to {SCHEMA_ID} "
    "(docs/policy-format.md, 'From format 1'): change the schema line; move the programmes "
    "from the policy header to a top-level 'programmes' section; a sanction or entry rule reads "
    "stay.status and the stay facts (stay.overstay_period_days, stay.entered_today, "
    "stay.over_limit) instead of facts of its own; a tenge amount is a formula "
    "({multiply: [{param: sanction.fine_mci}, {param: money.mci_kzt}]}); 'missing' names facts"
)

_ITEM_MODELS: dict[str, type[BaseModel]] = {
    "programmes": Programme,
    "parameters": Parameter,
    "tables": Table,
    "status_kinds": StatusKind,
    "facts": ComputedFact,
}


@dataclass
class FileItems:
    """The valid items of one file, where it is, and the names of its broken items."""

    document: Document
    header: PolicyHeader | None = None
    programmes: dict[str, Programme] = field(default_factory=dict)
    parameters: dict[str, Parameter] = field(default_factory=dict)
    tables: dict[str, Table] = field(default_factory=dict)
    status_kinds: dict[str, StatusKind] = field(default_factory=dict)
    facts: dict[str, ComputedFact] = field(default_factory=dict)
    rules: list[tuple[int, Rule]] = field(default_factory=list)
    repeals: list[str] = field(default_factory=list)
    broken: set[str] = field(default_factory=set)
    raw_programmes: dict[str, Any] = field(default_factory=dict)

    def section(self, name: str) -> dict[str, Any]:
        found: dict[str, Any] = getattr(self, name)
        return found


def read_policy_file(
    path: Path, content: bytes, problems: list[Problem], amendment: bool = False
) -> FileItems | None:
    """The valid items of the file at ``path``, whose bytes are ``content`` (the loader reads
    each file once, with :func:`~rules.policy.documents.read_bytes`); its problems are added
    to ``problems``.

    In an ``amendment``, a programme may give only the keys it changes: its items are kept as
    written (``raw_programmes``) and checked once merged with the programme they change.
    ``None`` when the file cannot be read at all (not YAML, wrong format, not a mapping)."""
    try:
        document = _parsed(str(path), content, path.suffix.lower() == ".json")
    except DocumentError as error:
        problems.append(error.problem)
        return None
    copied = Document(name=document.name, data=copy_plain(document.data), lines=dict(document.known_lines()))
    return policy_items(copied, problems, amendment)


#: Policy files already parsed in this process, by name and content digest (see :func:`_parsed`).
_PARSED: OrderedDict[tuple[str, bytes, bool], Document] = OrderedDict()
_PARSED_KEPT = 32
_PARSED_LOCK = threading.Lock()


def _parsed(name: str, content: bytes, json_only: bool) -> Document:
    """A policy file's bytes parsed once per process: YAML parsing is most of the cost of
    loading a policy, and a service or a test run loads the same baseline again and again.
    Keyed by the content's digest, so an edited file is parsed anew; callers copy the result.
    Errors are not kept: a broken file is parsed (and reported) every time."""
    key = (name, hashlib.sha256(content).digest(), json_only)
    with _PARSED_LOCK:
        if key in _PARSED:
            _PARSED.move_to_end(key)
            return _PARSED[key]
    text = decode(content, name)
    document = parse_json_document(text, name) if json_only else parse_document(text, name)
    with _PARSED_LOCK:
        _PARSED[key] = document
        while len(_PARSED) > _PARSED_KEPT:
            _PARSED.popitem(last=False)
    return document


def read_policy_text(text: str, name: str, problems: list[Problem]) -> FileItems | None:
    """The valid items of an amendment given as text (an HTTP request's body, say), read with
    the same bounds and checks as a file named ``name``."""
    if len(text) > MAX_DOCUMENT_BYTES:
        problems.append(Problem(name, f"larger than {MAX_DOCUMENT_BYTES:,} characters: refused"))
        return None
    try:
        document = parse_document(text, name)
    except DocumentError as error:
        problems.append(error.problem)
        return None
    return policy_items(document, problems, amendment=True)


def policy_items(document: Document, problems: list[Problem], amendment: bool) -> FileItems | None:
    """The valid items of a policy document already read (see :func:`read_policy_file`)."""
    data = document.data
    if not isinstance(data, dict):
        problems.append(Problem(document.where(()), "a policy file is a mapping of sections"))
        return None
    if data.get("schema") == OLD_SCHEMA_ID:
        problems.append(Problem(document.where(("schema",)), CONVERSION_HINT))
        return None
    try:
        outline = PolicyFile.model_validate(data)
    except ValidationError as error:
        problems.extend(validation_problems(error, document))
        if data.get("schema") != SCHEMA_ID:
            return None
        # Keep the sections whose outline is right, so their items are still checked.
        salvaged = _salvage(data)
        if salvaged is None:
            return None
        outline = salvaged
    items = FileItems(document, repeals=list(outline.repeals))
    if outline.policy is not None:
        try:
            items.header = PolicyHeader.model_validate(outline.policy)
        except ValidationError as error:
            problems.extend(validation_problems(error, document, ("policy",)))
    for section, model in _ITEM_MODELS.items():
        target = items.section(section)
        if section == "programmes" and amendment:
            items.raw_programmes = dict(outline.programmes)
            continue
        for name, raw in getattr(outline, section).items():
            try:
                target[name] = model.model_validate(raw)
            except ValidationError as error:
                problems.extend(validation_problems(error, document, (section, name)))
                items.broken.add(name)
    for index, raw in enumerate(outline.rules):
        try:
            items.rules.append((index, Rule.model_validate(raw)))
        except ValidationError as error:
            problems.extend(validation_problems(error, document, ("rules", index)))
            if isinstance(raw, dict) and isinstance(raw.get("id"), str):
                items.broken.add(raw["id"])
    return items


def _salvage(data: dict[str, Any]) -> PolicyFile | None:
    """The outline with every section that is itself wrong left out (its problem is reported)."""
    kept: dict[str, Any] = {"schema": SCHEMA_ID, "title": "(salvaged)"}
    for key, value in data.items():
        if str(key).startswith("x-") or key in ("schema", "title", "description"):
            continue
        try:
            PolicyFile.model_validate({**kept, key: value})
        except ValidationError:
            continue
        kept[key] = value
    try:
        return PolicyFile.model_validate(kept)
    except ValidationError:  # pragma: no cover - every kept section validated alone
        return None
