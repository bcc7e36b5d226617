"""The catalogue of facts: what each programme's formulas and rules may read, with its type.

A programme ``P`` owns these facts:

* ``P.as_of``: the evaluation date;
* ``P.<input>`` for each input it declares, and ``P.<input>.<field>`` for the fields of a
  record input, each with its path in the person record (``residence_application.interview``);
* ``P.<name>`` for each fact its mechanism supplies;
* each computed fact whose name starts with ``P.``.

A programme also sees, for each programme it ``reads``, that programme's facts and the status
it decided (``R.status``). Computed facts are checked in the order of their references, so a
fact's type is known before a formula reads it; a cycle of references is refused.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any

from models.policy import ComputedFact, InputField, Parameter, Programme, Table, TableValues
from rules.policy.nodes import Node
from rules.policy.types import DATE, FactSpec, MechanismTraits, ValueType

__all__ = ["Catalogue", "build_catalogue", "input_type"]

Place = tuple[str | int, ...]
Where = Callable[..., str]
_FACT_NAME = re.compile(r"^[a-z][a-z0-9_]*(\.[a-z][a-z0-9_]*)+$")
_NOT_FACTS = ("lookup", "band", "param", "text", "rounding")


@dataclass
class Catalogue:
    """Every fact of a policy, what each programme sees, and the checked dated formulas."""

    facts: dict[str, FactSpec] = field(default_factory=dict)
    own: dict[str, dict[str, FactSpec]] = field(default_factory=dict)
    visible: dict[str, dict[str, FactSpec]] = field(default_factory=dict)
    formulas: dict[str, tuple[tuple[int, Node | None], ...]] = field(default_factory=dict)
    broken: set[str] = field(default_factory=set)


def input_type(spec: InputField, tables: Mapping[str, Table]) -> ValueType:
    """The type of the facts an input gives (a record or a list with its fields' types)."""
    if spec.type == "string":
        # An answer that means "not known yet" is never the fact's value: it has none then.
        unknown = frozenset(spec.unknown_values)
        if isinstance(spec.values, TableValues):
            table = tables.get(spec.values.table)
            return ValueType("string", values=frozenset(table.rows) - unknown if table is not None else None)
        return ValueType(
            "string", values=frozenset(spec.values) - unknown if spec.values is not None else None
        )
    if spec.type in ("record", "list"):
        fields = tuple((name, input_type(child, tables)) for name, child in (spec.fields or {}).items())
        return ValueType(spec.type, fields)
    return ValueType(spec.type)


def _input_facts(
    programme: str,
    record: str,
    inputs: Mapping[str, InputField],
    tables: Mapping[str, Table],
    prefix: str = "",
) -> Iterator[FactSpec]:
    for name, spec in inputs.items():
        local = f"{prefix}{name}"
        yield FactSpec(
            name=f"{programme}.{local}",
            programme=programme,
            type=input_type(spec, tables),
            origin="input",
            description=spec.description,
            unit=spec.unit,
            path=f"{record}.{local}",
            unknown_values=frozenset(spec.unknown_values),
        )
        if spec.type == "record" and spec.fields:
            yield from _input_facts(programme, record, spec.fields, tables, f"{local}.")


def fact_references(data: Any) -> Iterator[str]:
    """The fact names a raw formula mentions (before it is checked)."""
    if isinstance(data, str):
        if _FACT_NAME.match(data):
            yield data
    elif isinstance(data, Mapping):
        for key, value in data.items():
            if key in _NOT_FACTS and isinstance(value, str):
                continue
            yield from fact_references(value)
    elif isinstance(data, list):
        for item in data:
            yield from fact_references(item)


def build_catalogue(
    programmes: Mapping[str, Programme],
    mechanisms: Mapping[str, type[MechanismTraits]],
    facts: Mapping[str, ComputedFact],
    parameters: Mapping[str, Parameter],
    tables: Mapping[str, Table],
    broken: frozenset[str],
    problem: Callable[[str, str, Place, str], None],
) -> Catalogue:
    """The catalogue; ``problem(section, name, path, message)`` records each problem found."""
    # The formula parser is imported only when a policy is read from its files (a policy read
    # back from the cache holds its catalogue already).
    from rules.policy.formulas import Scope, parse_formula

    catalogue = Catalogue()
    for name, programme in programmes.items():
        own: dict[str, FactSpec] = {}
        own[f"{name}.as_of"] = FactSpec(f"{name}.as_of", name, DATE, "as_of", "The evaluation date")
        if programme.record is not None:
            for spec in _input_facts(name, programme.record, programme.inputs, tables):
                own[spec.name] = spec
        mechanism = mechanisms.get(name)
        if mechanism is not None:
            for local, given in mechanism.facts.items():
                full = f"{name}.{local}"
                own[full] = FactSpec(full, name, given.type, "mechanism", given.description, path=given.path)
        catalogue.own[name] = own

    for fact_name in facts:
        owner = fact_name.split(".", 1)[0]
        if owner not in programmes:
            if owner not in broken:
                problem(
                    "facts",
                    fact_name,
                    (),
                    f"a computed fact's name starts with its programme; no programme {owner!r}",
                )
            catalogue.broken.add(fact_name)
        elif fact_name in catalogue.own[owner]:
            origin = catalogue.own[owner][fact_name].origin
            problem(
                "facts", fact_name, (), f"{fact_name!r} is already a fact ({origin}); choose another name"
            )
            catalogue.broken.add(fact_name)

    order, cycles = _formula_order(facts, catalogue.broken)
    for fact_name, cycle in cycles.items():
        problem("facts", fact_name, ("formulas",), "the facts' formulas form a cycle: " + " -> ".join(cycle))
        catalogue.broken.add(fact_name)

    for fact_name in order:
        if fact_name in catalogue.broken:
            continue
        fact = facts[fact_name]
        owner = fact_name.split(".", 1)[0]
        scope = Scope(
            _visible(catalogue, programmes, owner),
            parameters,
            tables,
            broken | frozenset(catalogue.broken),
        )
        dated: list[tuple[int, Node | None]] = []
        types: list[ValueType] = []
        for index, formula in enumerate(fact.formulas):
            place: Place = ("formulas", index, "formula")
            if formula.formula is None:
                dated.append((formula.start.toordinal(), None))
                continue
            node = parse_formula(formula.formula, scope, place)
            for where, message in scope.problems:
                problem("facts", fact_name, where, message)
            scope.problems.clear()
            if node is None:
                catalogue.broken.add(fact_name)
                continue
            if not _fits(node.type, fact.type):
                problem(
                    "facts",
                    fact_name,
                    place,
                    f"the fact is declared {fact.type}, but its formula gives a {node.type}",
                )
                catalogue.broken.add(fact_name)
                continue
            types.append(node.type)
            dated.append((formula.start.toordinal(), node))
        if fact_name in catalogue.broken:
            continue
        declared = types[0] if types and fact.type in ("list", "record") else ValueType(fact.type)
        if fact.type in ("list", "record") and any(t != declared for t in types):
            problem(
                "facts", fact_name, ("formulas",), f"the dated formulas give {fact.type}s of different fields"
            )
            catalogue.broken.add(fact_name)
            continue
        if fact.type in ("integer", "decimal", "string") and types:
            declared = _declared_scalar(fact.type, types)
        spec = FactSpec(fact_name, owner, declared, "computed", fact.description, fact.unit, path=fact_name)
        catalogue.own[owner][fact_name] = spec
        catalogue.formulas[fact_name] = tuple(dated)

    for name in programmes:
        catalogue.visible[name] = _visible(catalogue, programmes, name)
        catalogue.facts.update(catalogue.visible[name])
    return catalogue


def _declared_scalar(kind: str, types: list[ValueType]) -> ValueType:
    if kind == "string":
        values = [t.values for t in types]
        if all(v is not None for v in values):
            return ValueType("string", values=frozenset().union(*[v for v in values if v is not None]))
    return ValueType(kind)  # type: ignore[arg-type]


def _fits(found: ValueType, declared: str) -> bool:
    if declared == "decimal":
        return found.numeric
    return found.kind == declared


def _visible(catalogue: Catalogue, programmes: Mapping[str, Programme], name: str) -> dict[str, FactSpec]:
    visible = dict(catalogue.own.get(name, {}))
    for read in programmes[name].reads:
        if read not in programmes or read == name:
            continue
        visible.update(catalogue.own.get(read, {}))
        status = f"{read}.status"
        visible[status] = FactSpec(
            status,
            read,
            ValueType("string", values=frozenset(programmes[read].precedence)),
            "status",
            f"The status the {read} programme decided",
        )
    return visible


def _formula_order(
    facts: Mapping[str, ComputedFact], broken: set[str]
) -> tuple[list[str], dict[str, list[str]]]:
    """The computed facts in an order where each comes after the facts it reads, and the
    cycles found (each reported once, at the fact it was found from)."""
    from rules.policy.graph import walk

    depends = {
        name: [ref for formula in fact.formulas for ref in fact_references(formula.formula) if ref in facts]
        for name, fact in facts.items()
    }
    order, found = walk(facts, lambda name: depends[name])
    cycles: dict[str, list[str]] = {}
    for _, cycle in found:
        cycles.setdefault(cycle[0], cycle)
    in_cycle = {name for cycle in cycles.values() for name in cycle}
    broken.update(in_cycle)
    return order, cycles
