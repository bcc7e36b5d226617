"""Loading a policy: a directory of YAML files, optionally amended, checked and content-hashed.

A policy is identified by a hash of its files' content, so a baseline and an amendment can be
loaded side by side in one process and each verdict says which one produced it. Every problem
found while loading is collected and reported together, each with file, line and YAML path.
"""

from __future__ import annotations

import bisect
import datetime as dt
import hashlib
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TypeVar

from pydantic import ValidationError

from models.policy import DatedValue, Parameter, PolicyFile, Programme, Rule, StatusKind, Table
from rules.errors import EvaluationError, PolicyError, Problem, did_you_mean
from rules.policy.documents import Document, DocumentError, read_document, validation_problems

__all__ = ["Policy", "Timeline", "default_policy_dir", "load_policy"]

_Named = TypeVar("_Named", Parameter, Table, StatusKind)

_POLICY_SUFFIXES = (".yaml", ".yml")


def default_policy_dir() -> Path:
    """The shipped baseline: ``policies/kz`` of this checkout (or ``$KZMIG_POLICY_DIR``)."""
    import os

    override = os.environ.get("KZMIG_POLICY_DIR")
    if override:
        return Path(override)
    return Path(__file__).resolve().parents[3] / "policies" / "kz"


@dataclass(frozen=True)
class Timeline:
    """Dated values of one parameter or table row, for fast look-up by day."""

    starts: tuple[int, ...]
    values: tuple[DatedValue, ...]

    @classmethod
    def of(cls, values: Sequence[DatedValue]) -> Timeline:
        return cls(tuple(v.start.toordinal() for v in values), tuple(values))

    def at(self, day: dt.date | int) -> DatedValue | None:
        """The dated value in force on ``day``; ``None`` before the first, or once repealed."""
        ordinal = day if isinstance(day, int) else day.toordinal()
        index = bisect.bisect_right(self.starts, ordinal) - 1
        if index < 0:
            return None
        found = self.values[index]
        return None if found.value is None else found

    def segments(self) -> list[tuple[int, int | None, DatedValue]]:
        """``(first ordinal, last ordinal or None, dated value)`` for each value that is set."""
        result = []
        for index, value in enumerate(self.values):
            if value.value is None:
                continue
            end = self.starts[index + 1] - 1 if index + 1 < len(self.starts) else None
            result.append((self.starts[index], end, value))
        return result


@dataclass(frozen=True)
class Policy:
    """A loaded, checked policy. Immutable; compile it once and evaluate many cases with it."""

    name: str
    title: str
    version: str
    files: tuple[str, ...]
    programmes: dict[str, Programme]
    parameters: dict[str, Parameter]
    tables: dict[str, Table]
    status_kinds: dict[str, StatusKind]
    rules: tuple[Rule, ...]
    _parameter_timelines: dict[str, Timeline] = field(repr=False, default_factory=dict)
    _row_timelines: dict[tuple[str, str], Timeline] = field(repr=False, default_factory=dict)
    _documents: dict[tuple[str | int, ...], Document] = field(repr=False, default_factory=dict)

    def where(self, section: str, name: str, *path: str | int) -> str:
        """``file:line at section.name...``: where an item of the policy is written (a table
        row may come from an amendment, so the longest known prefix decides the file)."""
        full = (section, name, *path)
        for length in range(len(full), 1, -1):
            document = self._documents.get(full[:length])
            if document is not None:
                return document.where(full)
        return f"policy {self.name} at {section}.{name}"

    def parameter(self, name: str, on: dt.date | int) -> DatedValue:
        """The dated value of parameter ``name`` in force on ``on``; an error if none is."""
        timeline = self._parameter_timelines.get(name)
        if timeline is None:
            raise EvaluationError(f"policy {self.name} has no parameter {name!r}")
        found = timeline.at(on)
        if found is None:
            day = on if isinstance(on, dt.date) else dt.date.fromordinal(on)
            raise EvaluationError(f"parameter {name!r} of policy {self.name} has no value on {day}")
        return found

    def parameter_timeline(self, name: str) -> Timeline:
        return self._parameter_timelines[name]

    def row(self, table: str, key: str, on: dt.date | int) -> DatedValue | None:
        """The dated value of ``table[key]`` on ``on``; ``None`` for an unknown key or date."""
        timeline = self._row_timelines.get((table, key))
        return timeline.at(on) if timeline is not None else None

    def rules_of(self, programme: str) -> tuple[Rule, ...]:
        return tuple(rule for rule in self.rules if rule.programme == programme)


def load_policy(directory: Path | str | None = None, amendments: Iterable[Path | str] = ()) -> Policy:
    """Load the policy in ``directory`` (default: the shipped one), then apply ``amendments``.

    An amendment is a policy file of the same schema: its parameters and status kinds replace
    those of the same name, its table rows replace the rows of the same key (other rows are
    kept), its rules replace those of the same id or are added, and ``repeals`` removes rules.
    Raises :class:`PolicyError` listing every problem found.
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
    amendment_paths = [Path(p) for p in amendments]

    problems: list[Problem] = []
    loaded: list[tuple[Document, PolicyFile]] = []
    for path in [*paths, *amendment_paths]:
        parsed = _read_policy_file(path, problems)
        if parsed is not None:
            loaded.append(parsed)
    if problems:
        raise PolicyError(f"policy {base} cannot be loaded", problems)

    digest = hashlib.sha256()
    for path in paths:
        digest.update(str(path.relative_to(base)).encode() + b"\0" + path.read_bytes() + b"\0")
    for path in amendment_paths:
        digest.update(b"amendment\0" + path.read_bytes() + b"\0")
    version = digest.hexdigest()[:12]

    baseline_count = len(paths)
    return _assemble(base, loaded, baseline_count, version)


def _read_policy_file(path: Path, problems: list[Problem]) -> tuple[Document, PolicyFile] | None:
    try:
        document = read_document(path)
    except DocumentError as error:
        problems.append(Problem(error.where, error.message))
        return None
    if not isinstance(document.data, dict):
        problems.append(Problem(document.where(()), "a policy file is a mapping of sections"))
        return None
    try:
        return document, PolicyFile.model_validate(document.data)
    except ValidationError as error:
        problems.extend(validation_problems(error, document))
        return None


def _assemble(
    base: Path, loaded: list[tuple[Document, PolicyFile]], baseline_count: int, version: str
) -> Policy:
    problems: list[Problem] = []
    header = None
    parameters: dict[str, Parameter] = {}
    tables: dict[str, Table] = {}
    kinds: dict[str, StatusKind] = {}
    rules: dict[str, Rule] = {}
    rule_places: dict[str, tuple[Document, int]] = {}
    documents: dict[tuple[str | int, ...], Document] = {}
    first_seen: dict[tuple[str, str], str] = {}  # where each name was first defined

    for position, (document, file) in enumerate(loaded):
        is_amendment = position >= baseline_count
        if file.policy is not None:
            if header is not None and not is_amendment:
                problems.append(Problem(document.where(("policy",)), "a second policy header; keep one"))
            header = file.policy
        _merge_named(document, "parameters", parameters, file.parameters, is_amendment, problems, first_seen)
        if is_amendment:
            for name, table in file.tables.items():
                # An amendment's table changes only the rows it lists (to end a row, give it
                # a dated null); a new table is added whole.
                base_rows = tables[name].rows if name in tables else {}
                tables[name] = table.model_copy(update={"rows": {**base_rows, **table.rows}})
        else:
            _merge_named(document, "tables", tables, file.tables, is_amendment, problems, first_seen)
        _merge_named(document, "status_kinds", kinds, file.status_kinds, is_amendment, problems, first_seen)
        documents.update({("parameters", name): document for name in file.parameters})
        for name, table in file.tables.items():
            documents.setdefault(("tables", name), document)
            documents.update({("tables", name, "rows", key): document for key in table.rows})
        for repealed in file.repeals:
            if rules.pop(repealed, None) is None:
                problems.append(Problem(document.where(("repeals",)), f"repeals unknown rule {repealed!r}"))
        for index, rule in enumerate(file.rules):
            if rule.id in rules and not is_amendment:
                first_document, first_index = rule_places[rule.id]
                first = first_document.where(("rules", first_index, "id"))
                problems.append(
                    Problem(
                        document.where(("rules", index, "id")),
                        f"rule {rule.id!r} is defined twice (first at {first})",
                    )
                )
            rules[rule.id] = rule
            rule_places[rule.id] = (document, index)

    if header is None:
        raise PolicyError(
            f"policy {base} cannot be loaded",
            [
                *problems,
                Problem(str(base), "no file carries the 'policy' header (name, programmes)"),
            ],
        )

    from rules.engine.patterns import check_rule  # the compiler knows the facts each programme has

    for rule_id, rule in rules.items():
        document, index = rule_places[rule_id]
        where = ("rules", index)
        programme = header.programmes.get(rule.programme)
        if programme is None:
            problems.append(
                Problem(
                    document.where((*where, "id")),
                    f"rule {rule_id!r} belongs to no programme; its id must start with one of "
                    f"{', '.join(sorted(header.programmes))}",
                )
            )
            continue
        if rule.then.status is not None and rule.then.status not in programme.precedence:
            problems.append(
                Problem(
                    document.where((*where, "then", "status")),
                    f"status {rule.then.status!r} is not one of programme {rule.programme!r}: "
                    f"{', '.join(programme.precedence)}",
                )
            )
        for base_rule in rule.overrides:
            if base_rule not in rules:
                problems.append(
                    Problem(
                        document.where((*where, "overrides")),
                        f"overrides unknown rule {base_rule!r}{did_you_mean(base_rule, rules)}",
                    )
                )
            elif (
                rules[base_rule].programme != rule.programme
                and header.programmes.get(rules[base_rule].programme, programme).required
            ):
                problems.append(
                    Problem(
                        document.where((*where, "overrides")),
                        f"a {rule.programme!r} rule cannot override {base_rule!r}: the "
                        f"{rules[base_rule].programme!r} programme is decided first",
                    )
                )
        if rule.exempts is not None and rule.exempts not in kinds:
            problems.append(
                Problem(
                    document.where((*where, "exempts")),
                    f"exempts unknown status kind {rule.exempts!r}{did_you_mean(rule.exempts, kinds)}",
                )
            )
        for place, message in check_rule(rule, parameters):
            problems.append(Problem(document.where((*where, *place)), message))

    problems.extend(_override_cycles(rules, rule_places))
    if problems:
        raise PolicyError(f"policy {base} cannot be loaded", problems)

    return Policy(
        name=header.name,
        title=header.title,
        version=version,
        files=tuple(document.name for document, _ in loaded),
        programmes=dict(header.programmes),
        parameters=parameters,
        tables=tables,
        status_kinds=kinds,
        rules=tuple(rules.values()),
        _documents=documents,
        _parameter_timelines={name: Timeline.of(p.values) for name, p in parameters.items()},
        _row_timelines={
            (name, key): Timeline.of(values)
            for name, table in tables.items()
            for key, values in table.rows.items()
        },
    )


def _override_cycles(rules: dict[str, Rule], places: dict[str, tuple[Document, int]]) -> list[Problem]:
    """A rule may not, through ``overrides``, set itself aside: that would decide nothing."""
    problems: list[Problem] = []
    state: dict[str, int] = {}  # 1: being visited, 2: done

    def visit(rule_id: str, path: list[str]) -> None:
        state[rule_id] = 1
        for base in rules[rule_id].overrides:
            if base not in rules:
                continue
            if state.get(base) == 1:
                cycle = [*path[path.index(base) :], base]
                document, index = places[rule_id]
                problems.append(
                    Problem(
                        document.where(("rules", index, "overrides")),
                        "overrides form a cycle: " + " -> ".join(cycle),
                    )
                )
            elif base not in state:
                visit(base, [*path, base])
        state[rule_id] = 2

    for rule_id in rules:
        if rule_id not in state:
            visit(rule_id, [rule_id])
    return problems


def _merge_named(
    document: Document,
    section: str,
    target: dict[str, _Named],
    items: dict[str, _Named],
    is_amendment: bool,
    problems: list[Problem],
    first_seen: dict[tuple[str, str], str],
) -> None:
    """Add a file's named items; a baseline may define a name once, an amendment replaces it."""
    for name, value in items.items():
        place = document.where((section, name))
        if name in target and not is_amendment:
            first = first_seen.get((section, name))
            problems.append(
                Problem(place, f"{name!r} is defined twice" + (f" (first at {first})" if first else ""))
            )
        first_seen.setdefault((section, name), place)
        target[name] = value
