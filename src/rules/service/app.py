"""The HTTP service: a thin layer over the library, for consular systems and analysts.

``create_app(settings)`` builds the ASGI application; ``app_from_environment()`` builds it from
the ``KZMIG_SERVICE_*`` environment variables (what each uvicorn worker process calls). Every
answer is the library's document (a verdict or a plan exactly as ``model_dump(mode="json")``
writes it) or one of the small documents of :mod:`rules.service.models`; every error has the
one shape of :mod:`rules.service.errors`. Evaluations run in a worker thread under a time
limit, so that the event loop keeps answering; the engine runs one case at a time and holds
the GIL, so a server scales with worker processes, not threads.

Routes (all under ``/v1``): ``GET health``, ``GET policies``, ``GET schemas/{kind}``, ``POST
check``, ``POST plan``, ``POST explain``, ``POST amendments``, ``POST compare``. The OpenAPI
description is at ``/openapi.json`` and an interactive page at ``/docs``.
"""

from __future__ import annotations

import datetime as dt
import logging
import threading
from collections.abc import Callable, Mapping
from copy import deepcopy
from pathlib import Path as FilePath
from typing import Annotated, Any, TypeVar

import anyio
import anyio.to_thread
from fastapi import FastAPI, Path, Request
from fastapi.exceptions import RequestValidationError
from fastapi.openapi.utils import get_openapi
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.middleware import Middleware
from starlette.responses import Response

from models.plan import Plan
from models.verdict import PolicyRef, Verdict
from rules.analysis.impact import compare as compare_verdicts
from rules.engine.evaluator import Evaluator, today
from rules.engine.schemas import KINDS, schema
from rules.errors import KzmigError, PolicyError
from rules.policy.cache import PolicyCache
from rules.policy.documents import format_path
from rules.policy.loader import default_policy_dir
from rules.reports.text import render_text
from rules.service.errors import ServiceError, error_response, from_kzmig, json_bytes, record_error
from rules.service.middleware import BearerAuth, BodyLimit, CatchAll
from rules.service.models import (
    PERSON_MARK,
    AmendmentInfo,
    AmendmentRequest,
    CheckRequest,
    CompareRequest,
    CompareResponse,
    ErrorResponse,
    ExplainResponse,
    HealthResponse,
    PlanRequest,
    PoliciesResponse,
)
from rules.service.policies import PolicyStore, policy_info
from rules.service.settings import Settings
from rules.stay.planning import plan_with
from rules.version import VERDICT_FORMAT, __version__

__all__ = ["OPEN_PATHS", "app_from_environment", "create_app"]

logger = logging.getLogger(__name__)

#: The paths that need no token: the health check and the API description.
OPEN_PATHS = ("/v1/health", "/openapi.json", "/docs", "/docs/oauth2-redirect")

_T = TypeVar("_T")

_DESCRIPTION = """\
Kazakhstan migration law as code: the verdict on a person's record on a date, with the trace
of every rule that decided it and the law it cites; plans for a stay; what-if amendments
compared over a population. A verdict is exactly the document of `kzmig check --format json`.

Every error is `{"error": {"kind", "message", "problems": [{"where", "message"}]}}`; `where`
names the place in the request body (`person.trips[1].exit`) or in an amendment (file, line,
YAML path).
"""

_ERROR_DESCRIPTIONS = {
    401: "No valid bearer token (when the service requires one).",
    404: "No such policy version, schema or route.",
    413: "The request body is larger than the limit.",
    422: "The request or a person record is not valid (kind input), the policy does not decide "
    "the case (undecided), or an amendment is broken (policy).",
    500: "An internal error: a bug in kzmig (nothing of the request is repeated or logged).",
    503: "The service is busy: too many evaluations are running.",
    504: "The evaluation took longer than the time limit.",
}


class _Runner:
    """Runs a job in a worker thread under the time limit, and counts the jobs running.

    A thread cannot be stopped: a job whose request timed out runs on, and still counts, so
    that slow requests cannot pile up threads without bound; the job gets an event set on
    timeout, and a long job (a comparison) stops at the next person."""

    def __init__(self, timeout_seconds: float, max_pending: int) -> None:
        self._timeout = timeout_seconds
        self._max = max_pending
        self._running = 0
        self._lock = threading.Lock()

    async def run(self, job: Callable[[threading.Event], _T]) -> _T:
        with self._lock:
            if self._running >= self._max:
                raise ServiceError(
                    "timeout",
                    f"the service is busy: {self._running} evaluations are running; retry shortly",
                    status=503,
                    headers={"Retry-After": "1"},
                )
            self._running += 1
        cancelled = threading.Event()
        state = {"started": False, "released": False}

        def release() -> None:
            with self._lock:
                if not state["released"]:
                    state["released"] = True
                    self._running -= 1

        def work() -> _T:
            with self._lock:
                if state["released"]:  # the request gave up before the thread started
                    raise _Abandoned
                state["started"] = True
            try:
                return job(cancelled)
            finally:
                release()

        try:
            with anyio.fail_after(self._timeout):
                return await anyio.to_thread.run_sync(work, abandon_on_cancel=True)
        except TimeoutError:
            cancelled.set()
            self._release_unstarted(state)
            raise ServiceError(
                "timeout",
                f"the request took longer than {self._timeout:g} s and was abandoned",
                [("body", "send fewer or smaller records in one request")],
            ) from None
        except BaseException:
            cancelled.set()
            self._release_unstarted(state)
            raise

    def _release_unstarted(self, state: dict[str, bool]) -> None:
        with self._lock:
            if not state["started"] and not state["released"]:
                state["released"] = True
                self._running -= 1


class _Abandoned(Exception):
    """A job whose request already timed out; nobody reads its result."""


def _library_errors(job: Callable[[], _T], prefix: tuple[str | int, ...] = ("person",)) -> _T:
    """``job()``, with kzmig's errors turned into the service's (``prefix``: where the record is
    in the body)."""
    try:
        return job()
    except KzmigError as error:
        raise from_kzmig(error, prefix) from None


def _json(content: bytes) -> Response:
    return Response(content, media_type="application/json")


def _person_id(person: Mapping[str, Any]) -> str | None:
    found = person.get("person_id")
    return found if isinstance(found, str) else None


def create_app(settings: Settings | None = None, *, policy_cache: PolicyCache | None = None) -> FastAPI:
    """The service's ASGI application. Loads and compiles the baseline policy now: a broken
    policy raises :class:`rules.PolicyError` here, before any request. ``policy_cache``: a
    cache of loaded policies to load the baseline through (none by default)."""
    settings = settings if settings is not None else Settings.from_environment()
    store = PolicyStore(settings, policy_cache)
    runner = _Runner(settings.timeout_seconds, settings.max_pending)
    baseline = store.baseline_policy
    schemas = {kind: schema(kind, baseline) for kind in KINDS}
    schema_bytes = {kind: json_bytes(document) for kind, document in schemas.items()}
    base_dir = str((settings.policy_dir or default_policy_dir()).resolve())

    middleware = [Middleware(CatchAll)]
    if settings.token is not None:
        middleware.append(Middleware(BearerAuth, token=settings.token, open_paths=OPEN_PATHS))
    middleware.append(Middleware(BodyLimit, max_bytes=settings.max_body_bytes))
    app = FastAPI(
        title="kzmig",
        version=__version__,
        description=_DESCRIPTION,
        docs_url="/docs",
        redoc_url=None,
        middleware=middleware,
    )
    app.state.settings = settings
    app.state.store = store

    def errors(*statuses: int) -> dict[int | str, dict[str, Any]]:
        chosen = {*statuses, 413, 500}
        if settings.token is not None:
            chosen.add(401)
        return {
            status: {"model": ErrorResponse, "description": _ERROR_DESCRIPTIONS[status]}
            for status in sorted(chosen)
        }

    evaluating = errors(404, 422, 503, 504)

    # Errors ------------------------------------------------------------------------------

    async def service_error(request: Request, error: Exception) -> Response:
        assert isinstance(error, ServiceError)
        return error.response()

    async def validation_error(request: Request, error: Exception) -> Response:
        assert isinstance(error, RequestValidationError)
        json_body = "json" in request.headers.get("content-type", "")
        return error_response("input", "the request is not valid", _validation_problems(error, json_body))

    async def http_error(request: Request, error: Exception) -> Response:
        assert isinstance(error, StarletteHTTPException)
        status = error.status_code
        headers = dict(error.headers or {})
        if status == 404:
            return error_response("not_found", "no such route", status=404, headers=headers)
        if status == 405:
            return error_response(
                "input", "this route does not take this method", status=405, headers=headers
            )
        if status == 400:  # a body FastAPI cannot decode (not UTF-8, say): like a JSON error
            return error_response(
                "input", "the request is not valid", [("body", "not valid JSON in UTF-8")], status=422
            )
        if status == 413:
            return error_response("too_large", "the request body is too large", status=413)
        kind = "input" if status < 500 else "internal"
        return error_response(kind, f"the request failed with HTTP status {status}", status=status)

    app.add_exception_handler(ServiceError, service_error)
    app.add_exception_handler(RequestValidationError, validation_error)
    app.add_exception_handler(StarletteHTTPException, http_error)

    # Routes ------------------------------------------------------------------------------

    @app.get(
        "/v1/health", summary="Health", response_model=HealthResponse, responses=errors(), tags=["service"]
    )
    async def health() -> HealthResponse:
        """Whether the service runs, and the versions of its engine, verdict and policy."""
        return HealthResponse(
            status="ok",
            engine_version=__version__,
            verdict_format=VERDICT_FORMAT,
            policy=PolicyRef(name=baseline.name, version=baseline.version),
        )

    @app.get(
        "/v1/policies",
        summary="The policies loaded",
        response_model=PoliciesResponse,
        responses=errors(503, 504),
        tags=["policy"],
    )
    async def policies() -> PoliciesResponse:
        """The baseline policy and the amended policies kept, with their programmes."""
        kept = await runner.run(lambda cancelled: store.amendments())
        return PoliciesResponse(baseline=policy_info(baseline), amendments=kept)

    @app.get(
        "/v1/schemas/{kind}",
        summary="A JSON Schema",
        response_model=dict[str, Any],
        responses=errors(404),
        tags=["policy"],
    )
    async def schema_of(
        kind: Annotated[
            str,
            Path(
                description="person, verdict, plan or policy",
                json_schema_extra={"enum": list(KINDS)},
            ),
        ],
    ) -> Response:
        """The JSON Schema of a person record, a verdict, a plan or a policy file under the
        baseline policy (as `kzmig schema KIND`)."""
        found = schema_bytes.get(kind)
        if found is None:
            raise ServiceError("not_found", "no such schema", [("kind", f"one of {', '.join(KINDS)}")])
        return _json(found)

    @app.post(
        "/v1/check", summary="Check a person", response_model=Verdict, responses=evaluating, tags=["evaluate"]
    )
    async def check(request: CheckRequest) -> Response:
        """The verdict on one person on a date (default: today in Kazakhstan), exactly as
        `kzmig check --format json` writes it."""

        def job(cancelled: threading.Event) -> bytes:
            evaluator = store.evaluator(request.policy_version)
            verdict = _library_errors(lambda: evaluator.evaluate(request.person, request.on))
            return json_bytes(verdict.model_dump(mode="json"))

        return _json(await runner.run(job))

    @app.post(
        "/v1/explain",
        summary="Check a person, with the text",
        response_model=ExplainResponse,
        responses=evaluating,
        tags=["evaluate"],
    )
    async def explain(request: CheckRequest) -> Response:
        """The verdict and the text a caseworker reads (as `kzmig check` prints it)."""

        def job(cancelled: threading.Event) -> bytes:
            evaluator = store.evaluator(request.policy_version)
            verdict = _library_errors(lambda: evaluator.evaluate(request.person, request.on))
            return json_bytes({"text": render_text(verdict), "verdict": verdict.model_dump(mode="json")})

        return _json(await runner.run(job))

    @app.post("/v1/plan", summary="Plan a stay", response_model=Plan, responses=evaluating, tags=["evaluate"])
    async def plan(request: PlanRequest) -> Response:
        """How long the person may stay entering on `enter`, and the earliest entry for a stay
        of `days` days (as `kzmig plan --format json`)."""

        def job(cancelled: threading.Event) -> bytes:
            evaluator = store.evaluator(request.policy_version)
            found = _library_errors(lambda: plan_with(evaluator, request.person, request.enter, request.days))
            return json_bytes(found.model_dump(mode="json"))

        return _json(await runner.run(job))

    @app.post(
        "/v1/amendments",
        summary="Load an amendment",
        response_model=AmendmentInfo,
        responses=errors(422, 503, 504),
        tags=["policy"],
    )
    async def amend(request: AmendmentRequest) -> AmendmentInfo:
        """Load an amendment (YAML, format kzmig/policy/2) over the baseline; its `version`
        names it in later requests. A broken amendment is refused with every problem, each
        with its line and YAML path."""

        def job(cancelled: threading.Event) -> AmendmentInfo:
            try:
                return store.amend(request.text, request.name).info
            except PolicyError as error:
                raise _amendment_error(error, base_dir) from None

        return await runner.run(job)

    @app.post(
        "/v1/compare",
        summary="Compare under an amendment",
        response_model=CompareResponse,
        responses=evaluating,
        tags=["analysis"],
    )
    async def compare(request: CompareRequest) -> Response:
        """Each person under the baseline and under an amended policy: the figures that
        differ, or an error record in the person's place (never a person left out)."""

        def job(cancelled: threading.Event) -> bytes:
            amended = store.evaluator(request.policy_version)
            return _compare(store.baseline, amended, request, cancelled)

        return _json(await runner.run(job))

    _install_openapi(app, settings, schemas["person"])
    return app


def app_from_environment() -> FastAPI:
    """The application with the settings of the ``KZMIG_SERVICE_*`` variables: the factory each
    worker process of ``kzmig serve --workers N`` calls. The baseline is read back from
    kzmig's cache of loaded policies (``KZMIG_CACHE_DIR``), where ``kzmig serve`` kept it."""
    return create_app(Settings.from_environment(), policy_cache=PolicyCache.default())


def _compare(
    baseline: Evaluator, amended: Evaluator, request: CompareRequest, cancelled: threading.Event
) -> bytes:
    on: dt.date = request.on if request.on is not None else today(baseline.policy)
    records: list[dict[str, Any]] = []
    failures: dict[str, int] = {}
    for index, person in enumerate(request.persons):
        if cancelled.is_set():
            raise _Abandoned
        try:
            difference = compare_verdicts(baseline, amended, person, on)
            records.append({"record": index, **difference.to_json()})
        except KzmigError as error:
            found = record_error(error, ("persons", index))
            records.append({"record": index, "person_id": _person_id(person), "error": found})
        except Exception as error:  # noqa: BLE001 - one person's bug must not drop the others
            kind = type(error).__name__
            failures[kind] = failures.get(kind, 0) + 1
            internal = {"kind": "internal", "message": f"internal error ({kind})", "problems": []}
            records.append({"record": index, "person_id": _person_id(person), "error": internal})
    if failures:
        logger.error("internal errors in POST /v1/compare: %s", failures)
    return json_bytes(
        {
            "baseline": {"name": baseline.policy.name, "version": baseline.policy.version},
            "amended": {"name": amended.policy.name, "version": amended.policy.version},
            "on": on.isoformat(),
            "records": records,
        }
    )


def _amendment_error(error: PolicyError, base_dir: str) -> ServiceError:
    """A broken amendment: every problem, with the server's own directory left out."""

    def clean(text: str) -> str:
        return text.replace(base_dir + "/", "").replace(base_dir, FilePath(base_dir).name)

    problems = [(clean(problem.where), clean(problem.message)) for problem in error.problems]
    return ServiceError("policy", "the amendment cannot be loaded over the baseline policy", problems)


def _validation_problems(error: RequestValidationError, json_body: bool) -> list[tuple[str, str]]:
    """FastAPI's validation errors as problems at their place in the body (``person``,
    ``on``, ``persons[2]``), without the values given."""
    problems = []
    for item in error.errors():
        loc = tuple(item.get("loc", ()))
        if loc and loc[0] in ("body", "path", "query", "header", "cookie"):
            loc = loc[1:]
        kind = item.get("type", "")
        message = str(item.get("msg", "not valid"))
        if kind == "json_invalid":
            detail = (item.get("ctx") or {}).get("error")
            at = f" at character {loc[0]}" if loc and isinstance(loc[0], int) else ""
            problems.append(("body", f"not valid JSON{at}" + (f": {detail}" if detail else "")))
            continue
        if not loc and not json_body:
            problems.append(("body", "send a JSON object with Content-Type: application/json"))
            continue
        if kind == "extra_forbidden":
            message = "unknown field"
        elif message.startswith("Value error, "):
            message = message[len("Value error, ") :]
        parts = tuple(part for part in loc if isinstance(part, str | int))
        problems.append((format_path(parts) or "body", message))
    return problems


# OpenAPI ---------------------------------------------------------------------------------


def _install_openapi(app: FastAPI, settings: Settings, person: dict[str, Any]) -> None:
    """The OpenAPI description, generated from the models, with the person schema of the
    baseline policy where a request carries a person, and the bearer scheme when a token is set."""

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is not None:
            return app.openapi_schema
        document = get_openapi(
            title=app.title, version=app.version, description=app.description, routes=app.routes
        )
        components = document.setdefault("components", {})
        found = components.setdefault("schemas", {})
        found.update(_person_components(person))
        _replace_marks(document)
        _drop_default_validation_errors(document)
        if settings.token is not None:
            components.setdefault("securitySchemes", {})["bearer"] = {
                "type": "http",
                "scheme": "bearer",
                "description": "The token the service was started with (KZMIG_SERVICE_TOKEN).",
            }
            for path, operations in document.get("paths", {}).items():
                if path in OPEN_PATHS:
                    continue
                for operation in operations.values():
                    operation["security"] = [{"bearer": []}]
        app.openapi_schema = document
        return document

    app.openapi = openapi  # type: ignore[method-assign]


def _person_components(person: dict[str, Any]) -> dict[str, Any]:
    """The person schema as OpenAPI components: ``Person`` and ``Person<Def>`` for its parts."""
    document = deepcopy(person)
    document.pop("$schema", None)
    definitions = document.pop("$defs", {})
    names = {name: f"Person{name}" for name in definitions}

    def rewrite(node: Any) -> Any:
        if isinstance(node, dict):
            reference = node.get("$ref")
            if isinstance(reference, str) and reference.startswith("#/$defs/"):
                node = {**node, "$ref": f"#/components/schemas/{names[reference[len('#/$defs/') :]]}"}
            return {key: rewrite(value) for key, value in node.items()}
        if isinstance(node, list):
            return [rewrite(value) for value in node]
        return node

    components = {"Person": rewrite(document)}
    components.update({names[name]: rewrite(found) for name, found in definitions.items()})
    return components


def _drop_default_validation_errors(document: dict[str, Any]) -> None:
    """FastAPI describes a 422 of its own shape on routes that declare none (a path parameter
    that cannot fail); the service never answers it."""
    default = "#/components/schemas/HTTPValidationError"
    for operations in document.get("paths", {}).values():
        for operation in operations.values():
            responses = operation.get("responses", {})
            found = responses.get("422", {}).get("content", {}).get("application/json", {})
            if found.get("schema", {}).get("$ref") == default:
                del responses["422"]
    schemas = document.get("components", {}).get("schemas", {})
    for name in ("HTTPValidationError", "ValidationError"):
        schemas.pop(name, None)


def _replace_marks(node: Any) -> None:
    """Each schema marked as a person becomes a reference to ``Person``."""
    if isinstance(node, dict):
        for key, value in list(node.items()):
            if isinstance(value, dict) and value.get(PERSON_MARK):
                replaced: dict[str, Any] = {"$ref": "#/components/schemas/Person"}
                if "description" in value:
                    replaced["description"] = value["description"]
                node[key] = replaced
            else:
                _replace_marks(value)
    elif isinstance(node, list):
        for index, value in enumerate(node):
            if isinstance(value, dict) and value.get(PERSON_MARK):
                node[index] = {"$ref": "#/components/schemas/Person"}
            else:
                _replace_marks(value)
