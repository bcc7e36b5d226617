"""The one shape of every error the service answers, and how kzmig's errors map onto it.

::

    {"error": {"kind": "input", "message": "the person record is not valid",
               "problems": [{"where": "person.trips[0].exit", "message": "..."}]}}

The kinds are the command line's (``input``, ``undecided``, ``policy``) and the service's own
(``not_found``, ``too_large``, ``timeout``, ``unauthorized``, ``internal``). A problem's
``where`` names the place in the request body (``person.trips[1]``, ``persons[3].citizenship``,
``on``) or, for an amendment, its file, line and YAML path. No error repeats a value of the
request: messages name places, and pydantic's ``input`` is never copied.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping, Sequence
from typing import Any, Literal

from starlette.responses import Response

from rules.errors import EngineError, EvaluationError, InputError, KzmigError, PolicyError, Problem
from rules.policy.documents import format_path

__all__ = [
    "ErrorKind",
    "ServiceError",
    "error_document",
    "error_response",
    "from_kzmig",
    "json_bytes",
    "place",
    "record_error",
]

ErrorKind = Literal[
    "input", "undecided", "policy", "not_found", "too_large", "timeout", "unauthorized", "internal"
]

#: The HTTP status of each kind (a timeout is 504, or 503 when the service is too busy to start).
STATUS: dict[str, int] = {
    "input": 422,
    "undecided": 422,
    "policy": 422,
    "not_found": 404,
    "too_large": 413,
    "timeout": 504,
    "unauthorized": 401,
    "internal": 500,
}


class ServiceError(Exception):
    """An error answered in the service's shape: its kind, HTTP status, message, problems."""

    def __init__(
        self,
        kind: ErrorKind,
        message: str,
        problems: Iterable[tuple[str, str]] = (),
        *,
        status: int | None = None,
        headers: Mapping[str, str] | None = None,
    ) -> None:
        super().__init__(message)
        self.kind: ErrorKind = kind
        self.message = message
        self.problems = tuple(problems)
        self.status = status if status is not None else STATUS[kind]
        self.headers = dict(headers or {})

    def document(self) -> dict[str, Any]:
        return error_document(self.kind, self.message, self.problems)

    def response(self) -> Response:
        return error_response(self.kind, self.message, self.problems, self.status, self.headers)


def error_document(kind: str, message: str, problems: Iterable[tuple[str, str]] = ()) -> dict[str, Any]:
    """``{"error": {"kind", "message", "problems": [{"where", "message"}]}}``."""
    return {
        "error": {
            "kind": kind,
            "message": message,
            "problems": [{"where": where, "message": text} for where, text in problems],
        }
    }


def json_bytes(document: Any) -> bytes:
    """A JSON document as the service writes it: UTF-8, compact, no NaN."""
    return json.dumps(document, ensure_ascii=False, allow_nan=False, separators=(",", ":")).encode()


def error_response(
    kind: str,
    message: str,
    problems: Iterable[tuple[str, str]] = (),
    status: int | None = None,
    headers: Mapping[str, str] | None = None,
) -> Response:
    return Response(
        json_bytes(error_document(kind, message, problems)),
        status_code=status if status is not None else STATUS[kind],
        headers=dict(headers or {}),
        media_type="application/json",
    )


def place(problem: Problem, prefix: Sequence[str | int]) -> str:
    """Where a problem of a person record lies in the request body: ``person.trips[1].exit``.

    A problem of the whole record (two trips out of order, say) names the record itself; a
    problem with no path names a field of the request (``enter``, ``days``)."""
    if problem.path:
        return format_path((*prefix, *problem.path))
    if problem.where in ("", "person"):
        return format_path(prefix)
    return problem.where


def from_kzmig(error: KzmigError, prefix: Sequence[str | int] = ("person",)) -> ServiceError:
    """A library error as the service answers it; ``prefix`` places the record in the body."""
    if isinstance(error, InputError):
        problems = [(place(problem, prefix), problem.message) for problem in error.problems]
        return ServiceError("input", error.summary, problems)
    if isinstance(error, PolicyError):
        return ServiceError("policy", error.summary, [(p.where, p.message) for p in error.problems])
    if isinstance(error, EngineError):
        return ServiceError("internal", "internal error (EngineError): the rules engine failed")
    if isinstance(error, EvaluationError):
        return ServiceError("undecided", error.summary, [(p.where, p.message) for p in error.problems])
    return ServiceError("internal", f"internal error ({type(error).__name__})")


def record_error(error: KzmigError, prefix: Sequence[str | int]) -> dict[str, Any]:
    """The ``error`` member of a record in a batch (``POST /v1/compare``)."""
    found = from_kzmig(error, prefix)
    return {
        "kind": found.kind,
        "message": found.message,
        "problems": [{"where": where, "message": text} for where, text in found.problems],
    }
