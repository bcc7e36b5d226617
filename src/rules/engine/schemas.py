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
from models.policy import InputField, TableValues
from models.verdict import ProgrammeSection, Verdict
from rules.policy.loader import Policy

__all__ = ["person_schema", "verdict_schema"]

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
    schema["title"] = f"Person record (policy {policy.name} {policy.version})"
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
    schema["title"] = f"Verdict (policy {policy.name} {policy.version})"
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
