"""JSON Schemas of the engine's documents for one policy: what an integrator's editor checks.

The person record's schema is the core record (:class:`models.Person`) closed to other fields,
with each programme's section typed from the policy's input declarations, and the status kinds
the policy knows. The verdict's schema is :class:`models.Verdict` with a section for each
programme the policy may report. Both describe exactly what :func:`rules.evaluate` accepts and
returns under that policy: they are built from the same declarations.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from models.person import Person
from models.plan import Plan
from models.policy import (
    ComputedFact,
    InputField,
    Parameter,
    PolicyHeader,
    Programme,
    Rule,
    StatusKind,
    Table,
    TableValues,
)
from models.verdict import ProgrammeSection, Verdict
from rules.policy.loader import Policy, load_policy

__all__ = ["KINDS", "plan_schema", "person_schema", "policy_schema", "schema", "verdict_schema"]

#: The documents kzmig writes a JSON Schema for.
KINDS = ("person", "verdict", "plan", "policy")

_DIALECT = "https://json-schema.org/draft/2020-12/schema"


def _nullable(schema: dict[str, Any]) -> dict[str, Any]:
    """Every input may be null: null means unknown, and the engine says which is missing."""
    kind = schema.get("type")
    if isinstance(kind, str):
        schema["type"] = [kind, "null"]
    return schema


def input_schema(spec: InputField, policy: Policy) -> dict[str, Any]:
    """The JSON Schema of one declared input."""
    described = spec.description + (f" (unit: {spec.unit})" if spec.unit else "")
    schema: dict[str, Any]
    if spec.type == "date":
        schema = {"type": "string", "format": "date"}
    elif spec.type == "integer":
        schema = {"type": "integer"}
    elif spec.type == "decimal":
        schema = {"type": "number"}
    elif spec.type == "boolean":
        schema = {"type": "boolean"}
    elif spec.type == "string":
        schema = {"type": "string", "maxLength": spec.max_length}
        allowed = spec.values
        if isinstance(allowed, TableValues):
            table = policy.tables.get(allowed.table)
            allowed = sorted(table.rows) if table is not None else None
        if allowed is not None:
            schema["enum"] = [*allowed, None]
    elif spec.type == "record":
        schema = _object(spec.fields or {}, policy)
    else:
        schema = {"type": "array", "maxItems": spec.max_items, "items": _object(spec.fields or {}, policy)}
        if spec.unique:
            described += f"; no two items share the same {spec.unique}"
    if spec.minimum is not None:
        schema["minimum"] = spec.minimum
    if spec.maximum is not None:
        schema["maximum"] = spec.maximum
    schema["description"] = described
    return _nullable(schema)


def _object(fields: Mapping[str, InputField], policy: Policy) -> dict[str, Any]:
    return {
        "type": "object",
        "properties": {name: input_schema(spec, policy) for name, spec in fields.items()},
        "additionalProperties": False,
    }


def person_schema(policy: Policy) -> dict[str, Any]:
    """The JSON Schema of a person record under ``policy``."""
    schema = Person.model_json_schema()
    schema["$schema"] = _DIALECT
    schema["title"] = f"Person record (policy {policy.name})"
    schema["additionalProperties"] = False
    status = schema.get("$defs", {}).get("Status", {}).get("properties", {}).get("kind")
    if status is not None:
        status["enum"] = sorted(policy.status_kinds)
    for name, programme in policy.programmes.items():
        if programme.record is None:
            continue
        section = _object(programme.inputs, policy)
        section["description"] = (
            f"The inputs of programme {name!r}: {programme.title}. Leave a field out (or null) when "
            "it is not known: the verdict then names it as missing."
        )
        schema["properties"][programme.record] = _nullable(section)
    return schema


def verdict_schema(policy: Policy) -> dict[str, Any]:
    """The JSON Schema of a verdict under ``policy``: ``stay`` and a section per programme."""
    schema = Verdict.model_json_schema()
    schema["$schema"] = _DIALECT
    schema["title"] = f"Verdict (policy {policy.name})"
    section = ProgrammeSection.model_json_schema(ref_template="#/$defs/{model}")
    schema.setdefault("$defs", {}).update(section.pop("$defs", {}))
    schema["$defs"]["ProgrammeSection"] = section
    schema.pop("additionalProperties", None)
    for name, programme in policy.programmes.items():
        if programme.mechanism is None and programme.section is None:
            schema["properties"][name] = {
                "$ref": "#/$defs/ProgrammeSection",
                "description": f"{programme.title}; present when the programme was evaluated for the record.",
            }
    schema["additionalProperties"] = False
    return schema


def plan_schema(policy: Policy) -> dict[str, Any]:
    """The JSON Schema of a plan (``kzmig plan``, ``rules.plan``)."""
    schema = Plan.model_json_schema(mode="serialization")
    schema["$schema"] = _DIALECT
    schema["title"] = f"Plan (policy {policy.name})"
    return schema


def policy_schema(policy: Policy | None = None) -> dict[str, Any]:
    """The JSON Schema of a policy or amendment file (format ``kzmig/policy/2``). Formulas and
    report items are plain data the loader checks; the schema checks the file's shape."""
    defs: dict[str, Any] = {}
    refs: dict[str, dict[str, str]] = {}
    for model in (PolicyHeader, Programme, Parameter, Table, StatusKind, ComputedFact, Rule):
        found = model.model_json_schema(ref_template="#/$defs/{model}")
        defs.update(found.pop("$defs", {}))
        defs[model.__name__] = found
        refs[model.__name__] = {"$ref": f"#/$defs/{model.__name__}"}
    named = r"^[a-z][a-z0-9_]*(\.[a-z][a-z0-9_]*)+$"
    code = r"^[a-z][a-z0-9_]*$"
    return {
        "$schema": _DIALECT,
        "title": "kzmig policy file (kzmig/policy/2)",
        "type": "object",
        "required": ["schema", "title"],
        "properties": {
            "schema": {"const": "kzmig/policy/2"},
            "title": {"type": "string", "minLength": 3},
            "description": {"type": "string"},
            "policy": refs["PolicyHeader"],
            "programmes": {
                "type": "object",
                "propertyNames": {"pattern": code},
                "additionalProperties": {"type": "object"},
            },
            "parameters": {
                "type": "object",
                "propertyNames": {"pattern": named},
                "additionalProperties": refs["Parameter"],
            },
            "tables": {
                "type": "object",
                "propertyNames": {"pattern": named},
                "additionalProperties": refs["Table"],
            },
            "status_kinds": {
                "type": "object",
                "propertyNames": {"pattern": code},
                "additionalProperties": refs["StatusKind"],
            },
            "facts": {
                "type": "object",
                "propertyNames": {"pattern": named},
                "additionalProperties": refs["ComputedFact"],
            },
            "rules": {"type": "array", "items": refs["Rule"]},
            "repeals": {"type": "array", "items": {"type": "string", "pattern": named}},
        },
        "patternProperties": {"^x-": {}},
        "additionalProperties": False,
        "$defs": defs,
    }


def schema(kind: str, policy: Policy | None = None) -> dict[str, Any]:
    """The JSON Schema of ``kind`` (one of :data:`KINDS`) under ``policy`` (the shipped one by
    default; its schemas are also in the package as ``rules.shipped_schemas``)."""
    if policy is None:
        policy = load_policy()
    if kind == "person":
        return person_schema(policy)
    if kind == "verdict":
        return verdict_schema(policy)
    if kind == "plan":
        return plan_schema(policy)
    if kind == "policy":
        return policy_schema(policy)
    raise ValueError(f"no schema of {kind!r}; one of {', '.join(KINDS)}")
