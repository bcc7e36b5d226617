"""``kzmig serve``: run the HTTP service under uvicorn.

:func:`serve` takes plain arguments; the command line wires its options to them. ``None``
means "from the environment variable, else the default" (see :mod:`rules.service.settings`).
It binds 127.0.0.1 unless told otherwise, and warns on standard error when it is told to
listen on another address without a token. With ``workers`` > 1 uvicorn starts that many
processes, each importing :func:`rules.service.app.app_from_environment` and compiling its own
policy; the settings reach them as environment variables, and a temporary directory lets an
amendment loaded by one worker be used through the others.

Exit codes as the rest of kzmig: 2 for settings that cannot be used, 3 for a broken policy.
The access log (uvicorn's) holds the client address, method, path and status only: every
record travels in a request body, never in the path or the query string.
"""

from __future__ import annotations

import copy
import ipaddress
import os
import shutil
import sys
import tempfile
from collections.abc import Sequence
from pathlib import Path
from typing import Any

__all__ = ["log_config", "serve"]

EXIT_USAGE, EXIT_POLICY = 2, 3


def serve(
    host: str | None = None,
    port: int | None = None,
    workers: int | None = None,
    token: str | None = None,
    max_body_bytes: int | None = None,
    timeout_seconds: float | None = None,
    policy_dir: Path | str | None = None,
    amendments: Sequence[Path | str] | None = None,
) -> None:
    """Serve the kzmig HTTP API until interrupted (Ctrl-C or SIGTERM)."""
    import uvicorn

    from rules.errors import PolicyError
    from rules.policy.cache import PolicyCache
    from rules.policy.loader import load_policy
    from rules.service.app import create_app
    from rules.service.settings import Settings
    from rules.service.transport import HTTP_PROTOCOL

    try:
        settings = Settings.from_environment(
            host=host,
            port=port,
            workers=workers,
            token=token,
            max_body_bytes=max_body_bytes,
            timeout_seconds=timeout_seconds,
            policy_dir=policy_dir,
            amendments=amendments,
        )
    except ValueError as error:
        print(f"kzmig: {error}", file=sys.stderr)
        raise SystemExit(EXIT_USAGE) from None
    if settings.token is None and not _loopback(settings.host):
        print(
            f"kzmig: warning: serving on {settings.host} without a token: anyone who can reach "
            "this address may send records and amendments. Set --token (or KZMIG_SERVICE_TOKEN), "
            "and put TLS in front of the service.",
            file=sys.stderr,
        )
    common: dict[str, Any] = {
        "host": settings.host,
        "port": settings.port,
        "log_config": log_config(),
        "access_log": True,
        "server_header": False,
        "timeout_graceful_shutdown": 5,
        "http": HTTP_PROTOCOL,  # TCP_NODELAY on every connection (see rules.service.transport)
    }
    if settings.workers == 1:
        try:
            app = create_app(settings, policy_cache=PolicyCache.default())
        except PolicyError as error:
            print(f"kzmig: {error.describe()}", file=sys.stderr)
            raise SystemExit(EXIT_POLICY) from None
        uvicorn.run(app, **common)
        return

    try:  # each worker loads the policy again; a broken one stops the server here, once
        load_policy(settings.policy_dir, settings.amendments, cache=PolicyCache.default())
    except PolicyError as error:
        print(f"kzmig: {error.describe()}", file=sys.stderr)
        raise SystemExit(EXIT_POLICY) from None
    made = None
    if settings.amendment_dir is None:
        made = Path(tempfile.mkdtemp(prefix="kzmig-amendments-"))
        settings = Settings.from_environment(
            environ=settings.environment(), token=settings.token, amendment_dir=made
        )
    os.environ.update(settings.environment())
    try:
        uvicorn.run(
            "rules.service.app:app_from_environment", factory=True, workers=settings.workers, **common
        )
    finally:
        if made is not None:
            shutil.rmtree(made, ignore_errors=True)


def log_config() -> dict[str, Any]:
    """uvicorn's logging, with the service's own loggers (``rules.service``) beside it."""
    from uvicorn.config import LOGGING_CONFIG

    config = copy.deepcopy(LOGGING_CONFIG)
    config["loggers"]["rules.service"] = {"handlers": ["default"], "level": "INFO", "propagate": False}
    return config


def _loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False
