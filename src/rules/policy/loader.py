"""Loading a policy: a directory of YAML files, optionally amended, checked and content-hashed.

A policy is identified by a hash of its files' content, so a baseline and an amendment can be
loaded side by side in one process and each verdict says which one produced it. Every problem
found while loading is collected and reported together, each with file, line and YAML path:
the files' own problems, the checks across files (unknown names, types, cycles), the gaps an
amendment leaves, and what each programme's mechanism needs.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import importlib.resources
import os
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from pydantic import ValidationError

from models.policy import ComputedFact, Parameter, Programme, Rule, StatusKind, Table
from models.verdict import SECTION_FIELDS
from rules.errors import PolicyError, Problem
from rules.policy.cache import PolicyCache
from rules.policy.catalogue import build_catalogue
from rules.policy.documents import (
    MAX_DOCUMENT_BYTES,
    Document,
    DocumentError,
    parse_document,
    read_bytes,
    validation_problems,
)
from rules.policy.loaded import Policy
from rules.policy.nodes import ReportItem
from rules.policy.registry import MECHANISMS, mechanism_class
from rules.policy.timeline import Timeline
from rules.policy.types import MechanismTraits

if TYPE_CHECKING:
    from rules.policy.reading import FileItems

__all__ = ["AmendmentText", "Policy", "ReportItem", "default_policy_dir", "load_policy"]

_POLICY_SUFFIXES = (".yaml", ".yml")
_NAMED = ("programmes", "parameters", "status_kinds", "facts")


def default_policy_dir() -> Path:
    """The shipped baseline: ``$KZMIG_POLICY_DIR`` if set; else ``policies/kz`` of the checkout
    this code runs from; else the copy installed with the package (``rules.shipped_policies``)."""
    override = os.environ.get("KZMIG_POLICY_DIR")
    if override:
        return Path(override)
    checkout = Path(__file__).resolve().parents[3] / "policies" / "kz"
    if checkout.is_dir():
        return checkout
    try:
        installed = importlib.resources.files("rules.shipped_policies") / "kz"
    except ModuleNotFoundError:
        return checkout
    return Path(str(installed))


@dataclass(frozen=True)
class AmendmentText:
    """An amendment given as text rather than a file: its content and a name for its problems."""

    text: str
    name: str = "<amendment>"

    @property
    def title(self) -> str | None:
        """The amendment's own ``title`` (read with the safe reader; ``None`` if it has none)."""
        try:
            data: Any = parse_document(self.text, self.name).data
        except DocumentError:
            return None
        title = data.get("title") if isinstance(data, dict) else None
        return title if isinstance(title, str) else None


def load_policy(
    directory: Path | str | None = None,
    amendments: Iterable[Path | str | AmendmentText] = (),
    *,
    cache: PolicyCache | None = None,
) -> Policy:
    """Load the policy in ``directory`` (default: the shipped one), then apply ``amendments``
    (files, or :class:`AmendmentText` for content received as text).

    An amendment is a policy file of the same schema: its programmes, parameters, status kinds,
    computed facts and rules replace those of the same name (or id) or are added; its table rows
    replace the rows of the same key (other rows are kept); ``repeals`` removes rules. An
    amendment may not leave a value, row, formula or rule without one on a day the policy
    before it covered. Raises :class:`PolicyError` listing every problem found.

    With a ``cache`` (:class:`~rules.policy.cache.PolicyCache`), a policy loaded before from
    the same bytes by the same code is read from it instead, and a newly loaded one is kept.
    """
    base = Path(directory) if directory is not None else default_policy_dir()
    if not base.is_dir():
        raise PolicyError(
            f"policy {base} cannot be loaded",
            [Problem(str(base), "no such directory (a policy is a directory of .yaml files)")],
        )
    paths = sorted(p for p in base.rglob("*") if p.suffix in _POLICY_SUFFIXES and p.is_file())
    if not paths:
        raise PolicyError(
            f"policy {base} cannot be loaded", [Problem(str(base), "the directory holds no .yaml file")]
        )
    sources = [a if isinstance(a, AmendmentText) else Path(a) for a in amendments]
    # Each file is read once: the cache key, the items and the version are of the same bytes.
    files_named = dict.fromkeys([*paths, *(source for source in sources if isinstance(source, Path))])
    read = {path: _read(path) for path in files_named}
    key = _cache_key(cache, base, paths, sources, read) if cache is not None else None
    if key is not None and cache is not None:
        kept = cache.get(key)
        if kept is not None:
            return kept

    # Read from the files: the reader and the checks are imported only now (a policy read back
    # from the cache needs neither).
    from rules.policy.reading import read_policy_file, read_policy_text

    problems: list[Problem] = []
    files: list[FileItems] = []
    unreadable = False
    for source in [*paths, *sources]:
        if isinstance(source, AmendmentText):
            items = read_policy_text(source.text, source.name, problems)
        elif isinstance(content := read[source], DocumentError):
            problems.append(content.problem)
            items = None
        else:
            amendment = source in sources and source not in paths
            items = read_policy_file(source, content, problems, amendment=amendment)
        if items is not None:
            files.append(items)
        else:
            unreadable = True
    if unreadable:
        # A file that cannot be read at all hides what it defines: checking the others against
        # each other would report its names as unknown. Its own problem comes first.
        raise PolicyError(f"policy {base} cannot be loaded", problems)

    digest = hashlib.sha256()
    for path in paths:
        digest.update(str(path.relative_to(base)).encode() + b"\0" + _content(read[path]) + b"\0")
    for source in sources:
        text = source.text.encode() if isinstance(source, AmendmentText) else _content(read[source])
        digest.update(b"amendment\0" + text + b"\0")
    version = digest.hexdigest()[:12]

    baseline_count = len(paths)
    policy = _assemble(base, files, baseline_count, version, problems)
    if key is not None and cache is not None:
        cache.put(key, policy)
    return policy


def _cache_key(
    cache: PolicyCache,
    base: Path,
    paths: list[Path],
    sources: list[Path | AmendmentText],
    read: dict[Path, bytes | DocumentError],
) -> str | None:
    """The cache key of these files, or ``None`` when one cannot be read (the loader then
    reports why, as without a cache)."""
    if any(isinstance(content, DocumentError) for content in read.values()):
        return None
    contents = [(str(path.relative_to(base)), _content(read[path])) for path in paths]
    for source in sources:
        if isinstance(source, AmendmentText):
            contents.append((f"amendment text {source.name}", source.text.encode()))
        else:
            contents.append((f"amendment {source}", _content(read[source])))
    return cache.key(base, contents)


def _read(path: Path) -> bytes | DocumentError:
    """A policy or amendment file's bytes (bounded, a regular file), or why it cannot be read."""
    try:
        return read_bytes(path, MAX_DOCUMENT_BYTES)
    except DocumentError as error:
        return error


def _content(read: bytes | DocumentError) -> bytes:
    """The bytes read, of a file its caller knows was read: an unreadable file is turned away
    before (no cache key, or the policy's problems), so the error is raised here only if that
    ever changed, rather than its bytes taken for empty."""
    if isinstance(read, DocumentError):
        raise read
    return read


class _Merged:
    """The items of all files merged in order, with where each was written."""

    def __init__(self) -> None:
        self.header: Any = None
        self.programmes: dict[str, Programme] = {}
        self.parameters: dict[str, Parameter] = {}
        self.tables: dict[str, Table] = {}
        self.status_kinds: dict[str, StatusKind] = {}
        self.facts: dict[str, ComputedFact] = {}
        self.rules: dict[str, Rule] = {}
        self.rule_places: dict[str, tuple[Document, int]] = {}
        self.documents: dict[tuple[str | int, ...], Document] = {}
        self.broken: set[str] = set()
        #: The rules an amendment repealed, with where it repeals each.
        self.repealed: dict[str, str] = {}


def _merge(files: list[FileItems], baseline_count: int, problems: list[Problem]) -> _Merged:
    merged = _Merged()
    first_seen: dict[tuple[str, str], str] = {}
    for position, items in enumerate(files):
        document = items.document
        is_amendment = position >= baseline_count
        merged.broken |= items.broken
        if items.header is not None:
            if merged.header is not None and not is_amendment:
                problems.append(Problem(document.where(("policy",)), "a second policy header; keep one"))
            merged.header = items.header
        for name, raw in items.raw_programmes.items():
            _change_programme(merged, name, raw, document, problems)
        for section in _NAMED:
            target: dict[str, Any] = getattr(merged, section)
            for name, value in items.section(section).items():
                place = document.where((section, name))
                if name in target and not is_amendment:
                    first = first_seen.get((section, name))
                    problems.append(
                        Problem(
                            place, f"{name!r} is defined twice" + (f" (first at {first})" if first else "")
                        )
                    )
                elif name in target:
                    problems.extend(_gap(section, name, target[name], value, document))
                first_seen.setdefault((section, name), place)
                target[name] = value
                merged.documents[(section, name)] = document
        for name, table in items.tables.items():
            if name in merged.tables and is_amendment:
                # An amendment's table changes only the rows it lists (to end a row, give it a
                # dated null); a new table is added whole.
                old = merged.tables[name]
                for key, values in table.rows.items():
                    if key in old.rows:
                        problems.extend(_row_gap(name, key, old.rows[key], values, document))
                merged.tables[name] = table.model_copy(update={"rows": {**old.rows, **table.rows}})
            elif name in merged.tables:
                first = first_seen.get(("tables", name))
                problems.append(
                    Problem(
                        document.where(("tables", name)),
                        f"{name!r} is defined twice" + (f" (first at {first})" if first else ""),
                    )
                )
            else:
                merged.tables[name] = table
                first_seen.setdefault(("tables", name), document.where(("tables", name)))
            merged.documents.setdefault(("tables", name), document)
            merged.documents.update({("tables", name, "rows", key): document for key in table.rows})
        for index, repealed in enumerate(items.repeals):
            if merged.rules.pop(repealed, None) is not None:
                merged.repealed[repealed] = document.where(("repeals", index))
            elif repealed not in merged.broken:
                problems.append(Problem(document.where(("repeals",)), f"repeals unknown rule {repealed!r}"))
        for index, rule in items.rules:
            if rule.id in merged.rules and not is_amendment:
                first_document, first_index = merged.rule_places[rule.id]
                first = first_document.where(("rules", first_index, "id"))
                problems.append(
                    Problem(
                        document.where(("rules", index, "id")),
                        f"rule {rule.id!r} is defined twice (first at {first})",
                    )
                )
            elif rule.id in merged.rules and rule.start > merged.rules[rule.id].start:
                was = merged.rules[rule.id].start
                problems.append(
                    Problem(
                        document.where(("rules", index, "from")),
                        f"rule {rule.id!r} was in force from {was}; this amendment starts it on "
                        f"{rule.start}, leaving {was} to {rule.start - dt.timedelta(days=1)} without it. "
                        "Keep its 'from' (and give it a 'to' to end it), or repeal it and add a rule "
                        "with a new id",
                    )
                )
            merged.rules[rule.id] = rule
            merged.rule_places[rule.id] = (document, index)
    return merged


def _change_programme(
    merged: _Merged, name: str, raw: Any, document: Document, problems: list[Problem]
) -> None:
    """An amendment's programme: a new one whole, or the keys it gives of an existing one (its
    ``inputs`` and ``report`` merged name by name, every other key replaced)."""
    base = merged.programmes.get(name)
    data = raw
    if base is not None and isinstance(raw, dict):
        data = base.model_dump(by_alias=True)
        for key, value in raw.items():
            if key in ("inputs", "report") and isinstance(value, dict):
                data[key] = {**data.get(key, {}), **value}
            else:
                data[key] = value
    try:
        merged.programmes[name] = Programme.model_validate(data)
    except ValidationError as error:
        problems.extend(validation_problems(error, document, ("programmes", name)))
        merged.broken.add(name)
        return
    merged.documents[("programmes", name)] = document


def _first_start(values: list[Any]) -> dt.date:
    first: dt.date = min(value.start for value in values)
    return first


def _gap(section: str, name: str, old: Any, new: Any, document: Document) -> list[Problem]:
    """An amendment that starts a dated item later than the policy before it leaves a gap."""
    key = {"parameters": "values", "facts": "formulas"}.get(section)
    if key is None:
        return []
    old_start, new_start = _first_start(getattr(old, key)), _first_start(getattr(new, key))
    if new_start <= old_start:
        return []
    kind = {"parameters": "parameter", "facts": "fact"}[section]
    return [
        Problem(
            document.where((section, name, key, 0, "from")),
            f"{kind} {name!r} had a {key[:-1]} from {old_start}; this amendment's first starts on "
            f"{new_start}, leaving {old_start} to {new_start - dt.timedelta(days=1)} without one. "
            f"Start it on {old_start} (end a {key[:-1]} with a dated null instead)",
        )
    ]


def _row_gap(table: str, key: str, old: list[Any], new: list[Any], document: Document) -> list[Problem]:
    old_start, new_start = _first_start(old), _first_start(new)
    if new_start <= old_start:
        return []
    return [
        Problem(
            document.where(("tables", table, "rows", key, 0, "from")),
            f"row {key!r} of table {table!r} had a value from {old_start}; this amendment's first "
            f"starts on {new_start}, leaving {old_start} to {new_start - dt.timedelta(days=1)} "
            f"without one. Start it on {old_start} (end a value with a dated null instead)",
        )
    ]


def _assemble(
    base: Path, files: list[FileItems], baseline_count: int, version: str, problems: list[Problem]
) -> Policy:
    from rules.policy.checks import check_programmes, check_rules, check_scales, check_warnings

    merged = _merge(files, baseline_count, problems)
    documents = merged.documents
    broken = frozenset(merged.broken)

    def where(section: str, name: str, *path: str | int) -> str:
        if section == "rules" and name in merged.rule_places:
            document, index = merged.rule_places[name]
            return document.where(("rules", index, *path))
        written = documents.get((section, name))
        return written.where((section, name, *path)) if written else f"{section}.{name}"

    def problem(section: str, name: str, path: tuple[str | int, ...], message: str) -> None:
        problems.append(Problem(where(section, name, *path), message))

    if merged.header is None:
        problems.append(Problem(str(base), "no file carries the 'policy' header (name, title)"))
    for field_name in SECTION_FIELDS:
        if field_name not in merged.programmes and field_name not in broken:
            problems.append(
                Problem(str(base), f"the verdict's {field_name!r} section needs a programme {field_name!r}")
            )

    mechanisms: dict[str, type[MechanismTraits]] = {}
    for name, programme in merged.programmes.items():
        if programme.mechanism is not None:
            found = mechanism_class(programme.mechanism)
            if found is None:
                problem(
                    "programmes",
                    name,
                    ("mechanism",),
                    f"unknown mechanism {programme.mechanism!r}; known: {', '.join(sorted(MECHANISMS))}",
                )
            else:
                mechanisms[name] = found

    # A rule a mechanism needs, repealed by an amendment, is refused at the repeal (and not
    # again by the mechanism, which would place it at the policy as a whole).
    for name, mechanism in mechanisms.items():
        for local in mechanism.required_rules:
            rule_id = f"{name}.{local}"
            if rule_id in merged.repealed:
                problems.append(
                    Problem(
                        merged.repealed[rule_id],
                        f"repeals rule {rule_id!r}, which the {merged.programmes[name].mechanism} "
                        f"mechanism of programme {name!r} needs: amend it instead",
                    )
                )
                broken |= {rule_id}

    preferred = list(merged.header.order) if merged.header is not None else []
    for index, name in enumerate(preferred):
        if name not in merged.programmes and name not in broken:
            problems.append(
                Problem(str(base), f"the policy header orders unknown programme {name!r} (order[{index}])")
            )
    order = check_programmes(merged.programmes, mechanisms, merged.tables, broken, problem, preferred)
    programmes = {name: merged.programmes[name] for name in order}
    # A scale refused at its own values is not reported again at each formula that reads it.
    broken |= check_scales(merged.parameters, merged.facts, merged.rules, programmes, broken, problem)
    catalogue = build_catalogue(
        programmes, mechanisms, merged.facts, merged.parameters, merged.tables, broken, problem
    )
    warnings = check_warnings(programmes, catalogue, merged.parameters, merged.tables, broken, problem)
    rule_values, reports = check_rules(
        programmes,
        mechanisms,
        merged.rules,
        merged.status_kinds,
        merged.parameters,
        merged.tables,
        catalogue,
        broken,
        problem,
        repealed=merged.repealed,
    )

    # The policy keeps of each file only what says where an item is written (its name and the
    # line of each path), not its data: that is in the items, and would double what a policy
    # holds (and what the cache of loaded policies reads back).
    places = {
        id(document): Document(name=document.name, data=None, lines=document.known_lines())
        for document in (*documents.values(), *(document for document, _ in merged.rule_places.values()))
    }
    policy = Policy(
        name=merged.header.name if merged.header is not None else "unnamed",
        title=merged.header.title if merged.header is not None else "unnamed",
        version=version,
        files=tuple(items.document.name for items in files),
        programmes=programmes,
        parameters=merged.parameters,
        tables=merged.tables,
        status_kinds=merged.status_kinds,
        facts=merged.facts,
        rules=tuple(merged.rules.values()),
        catalogue=catalogue,
        rule_values=rule_values,
        reports=reports,
        warnings=warnings,
        _documents={key: places[id(document)] for key, document in documents.items()},
        _rule_places={
            rule: (places[id(document)], index) for rule, (document, index) in merged.rule_places.items()
        },
        broken=broken,
        _parameter_timelines={name: Timeline.of(p.values) for name, p in merged.parameters.items()},
        _row_timelines={
            (name, key): Timeline.of(values)
            for name, table in merged.tables.items()
            for key, values in table.rows.items()
        },
    )
    for name, mechanism in mechanisms.items():
        problems.extend(mechanism.problems(policy, name))
    if problems:
        raise PolicyError(f"policy {base} cannot be loaded", problems)
    return policy
