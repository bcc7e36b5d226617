"""Pure ASGI middleware of the service: the last line of defence, the token, the body limit.

In order, outermost first:

* :class:`CatchAll` answers any exception that escaped the routes with the structured 500,
  and logs only the exception's type, the method and the route's template: never the body,
  the message (it may quote a record), a traceback or its local variables. It does not re-raise,
  so that the server does not log a traceback either.
* :class:`BearerAuth` refuses a request without ``Authorization: Bearer <token>`` (compared in
  constant time) before its body is read, except on the open paths (health, API description).
* :class:`BodyLimit` refuses a body larger than the limit with 413: at once when
  ``Content-Length`` says so, else as soon as the bytes received pass it; it reads no more.
  A body within the limit is held and handed to the application whole.
"""

from __future__ import annotations

import hmac
import logging
from collections.abc import Iterable

from starlette.datastructures import Headers
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from rules.service.errors import error_response

__all__ = ["BearerAuth", "BodyLimit", "CatchAll", "route_of"]

logger = logging.getLogger(__name__)


def route_of(scope: Scope) -> str:
    """The template of the route a request matched (``/v1/check``), never its raw path."""
    route = scope.get("route")
    path = getattr(route, "path", None)
    return path if isinstance(path, str) else "(no route)"


class CatchAll:
    """Any exception becomes the structured 500; only its type and the route are logged."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = False

        async def watched(message: Message) -> None:
            nonlocal started
            if message["type"] == "http.response.start":
                started = True
            await send(message)

        try:
            await self.app(scope, receive, watched)
        except Exception as error:  # noqa: BLE001 - the last line of defence for personal data
            kind = type(error).__name__
            logger.error("internal error (%s) in %s %s", kind, scope.get("method", "?"), route_of(scope))
            if not started:
                response = error_response(
                    "internal", f"internal error ({kind}); this is a bug in kzmig, and it was logged"
                )
                await response(scope, receive, send)


class BearerAuth:
    """``Authorization: Bearer <token>`` on every path but the open ones; 401 otherwise."""

    def __init__(self, app: ASGIApp, token: str, open_paths: Iterable[str]) -> None:
        self.app = app
        self._token = token.encode()
        self._open = frozenset(open_paths)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or self._path(scope) in self._open:
            await self.app(scope, receive, send)
            return
        scheme, _, credentials = Headers(scope=scope).get("authorization", "").partition(" ")
        given = credentials.strip().encode("utf-8", "replace")
        if scheme.lower() == "bearer" and hmac.compare_digest(given, self._token):
            await self.app(scope, receive, send)
            return
        message = "a bearer token is required" if not credentials else "the bearer token is not valid"
        response = error_response(
            "unauthorized",
            message,
            [("Authorization", "send the header Authorization: Bearer <token>")],
            headers={"WWW-Authenticate": "Bearer"},
        )
        await response(scope, receive, send)

    @staticmethod
    def _path(scope: Scope) -> str:
        path: str = scope.get("path", "")
        root: str = scope.get("root_path", "")
        return path[len(root) :] if root and path.startswith(root) else path


class BodyLimit:
    """Refuse a request body larger than ``max_bytes`` with 413, reading no more than that."""

    def __init__(self, app: ASGIApp, max_bytes: int) -> None:
        self.app = app
        self.max_bytes = max_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        declared = Headers(scope=scope).get("content-length")
        if declared is not None and declared.strip().isdigit() and int(declared) > self.max_bytes:
            await self._refuse(scope, receive, send)
            return
        chunks: list[bytes] = []
        size = 0
        while True:
            message = await receive()
            if message["type"] == "http.disconnect":
                return  # the client left: nobody to answer
            if message["type"] != "http.request":
                continue
            chunk: bytes = message.get("body", b"")
            size += len(chunk)
            if size > self.max_bytes:
                await self._refuse(scope, receive, send)
                return
            chunks.append(chunk)
            if not message.get("more_body", False):
                break
        body = b"".join(chunks)
        delivered = False

        async def replay() -> Message:
            nonlocal delivered
            if not delivered:
                delivered = True
                return {"type": "http.request", "body": body, "more_body": False}
            return await receive()

        await self.app(scope, replay, send)

    async def _refuse(self, scope: Scope, receive: Receive, send: Send) -> None:
        response = error_response(
            "too_large",
            f"the request body is larger than {self.max_bytes:,} bytes",
            [("body", f"at most {self.max_bytes:,} bytes (split a large comparison into several requests)")],
            headers={"Connection": "close"},
        )
        await response(scope, receive, send)
