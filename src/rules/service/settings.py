"""The settings of the HTTP service: from arguments, else environment variables, else defaults.

Each setting has an environment variable, so that the processes uvicorn starts for several
workers (which import the application by name) read the same settings as the parent::

    KZMIG_SERVICE_HOST              127.0.0.1
    KZMIG_SERVICE_PORT              8000
    KZMIG_SERVICE_WORKERS           1
    KZMIG_SERVICE_TOKEN             (none: no authentication)
    KZMIG_SERVICE_MAX_BODY_BYTES    1048576
    KZMIG_SERVICE_TIMEOUT_SECONDS   10
    KZMIG_SERVICE_POLICY_DIR        (the shipped baseline, or $KZMIG_POLICY_DIR)
    KZMIG_SERVICE_AMENDMENTS        amendment files applied to the baseline, separated by os.pathsep
    KZMIG_SERVICE_KEPT_POLICIES     16 amended policies kept compiled
    KZMIG_SERVICE_AMENDMENT_DIR     a directory the workers share amendments through
    KZMIG_SERVICE_MAX_PENDING       64 evaluations running or waiting at once (timed-out ones included)

An argument given (not ``None``) wins over its variable. A value that cannot be read is a
:class:`ValueError` naming the variable; the token is never shown.
"""

from __future__ import annotations

import math
import os
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TypeVar

__all__ = ["ENVIRONMENT", "Settings"]

#: The environment variable of each setting.
ENVIRONMENT = {
    "host": "KZMIG_SERVICE_HOST",
    "port": "KZMIG_SERVICE_PORT",
    "workers": "KZMIG_SERVICE_WORKERS",
    "token": "KZMIG_SERVICE_TOKEN",
    "max_body_bytes": "KZMIG_SERVICE_MAX_BODY_BYTES",
    "timeout_seconds": "KZMIG_SERVICE_TIMEOUT_SECONDS",
    "policy_dir": "KZMIG_SERVICE_POLICY_DIR",
    "amendments": "KZMIG_SERVICE_AMENDMENTS",
    "kept_policies": "KZMIG_SERVICE_KEPT_POLICIES",
    "amendment_dir": "KZMIG_SERVICE_AMENDMENT_DIR",
    "max_pending": "KZMIG_SERVICE_MAX_PENDING",
}

_T = TypeVar("_T")


@dataclass(frozen=True)
class Settings:
    """What the service needs to run. Build it with :meth:`from_environment`; the defaults
    suit one process on the local machine."""

    host: str = "127.0.0.1"
    port: int = 8000
    workers: int = 1
    #: The bearer token every route but the health check and the API description needs.
    token: str | None = field(default=None, repr=False)
    #: The largest request body accepted, in bytes.
    max_body_bytes: int = 1024 * 1024
    #: How long one request may evaluate before it is answered with a timeout.
    timeout_seconds: float = 10.0
    #: The baseline policy directory (``None``: the shipped one, or ``$KZMIG_POLICY_DIR``).
    policy_dir: Path | None = None
    #: Amendment files applied to the baseline itself, in order (as ``kzmig check --amend``).
    amendments: tuple[Path, ...] = ()
    #: How many amended policies (``POST /v1/amendments``) stay compiled, least recently used
    #: first out.
    kept_policies: int = 16
    #: A directory shared by the workers of one server: an amendment loaded by one worker is
    #: found by the others. ``None``: each process keeps its own.
    amendment_dir: Path | None = None
    #: Evaluations running at once, including those whose request already timed out (a thread
    #: cannot be stopped); beyond it a request is refused with 503 at once.
    max_pending: int = 64

    def __post_init__(self) -> None:
        problems = []
        if not 0 <= self.port <= 65535:
            problems.append(f"port {self.port} is not from 0 to 65535")
        if self.workers < 1:
            problems.append(f"workers must be at least 1, not {self.workers}")
        if self.max_body_bytes < 1:
            problems.append(f"max_body_bytes must be at least 1, not {self.max_body_bytes}")
        if not 0 < self.timeout_seconds < math.inf:
            problems.append(
                f"timeout_seconds must be a number of seconds above 0, not {self.timeout_seconds}"
            )
        if self.kept_policies < 1:
            problems.append(f"kept_policies must be at least 1, not {self.kept_policies}")
        if self.max_pending < 1:
            problems.append(f"max_pending must be at least 1, not {self.max_pending}")
        if self.token is not None and (not self.token or any(c.isspace() for c in self.token)):
            problems.append("the token must be a non-empty string without spaces")
        if problems:
            raise ValueError("; ".join(problems))

    @classmethod
    def from_environment(
        cls,
        *,
        environ: Mapping[str, str] | None = None,
        host: str | None = None,
        port: int | None = None,
        workers: int | None = None,
        token: str | None = None,
        max_body_bytes: int | None = None,
        timeout_seconds: float | None = None,
        policy_dir: Path | str | None = None,
        amendments: Sequence[Path | str] | None = None,
        kept_policies: int | None = None,
        amendment_dir: Path | str | None = None,
        max_pending: int | None = None,
    ) -> Settings:
        """The settings from the arguments given, else from ``environ`` (default
        ``os.environ``), else the defaults."""
        env = os.environ if environ is None else environ
        default = cls()

        def pick(name: str, given: _T | None, parse: Callable[[str], _T], fallback: _T) -> _T:
            if given is not None:
                return given
            raw = env.get(ENVIRONMENT[name], "").strip()
            if not raw:
                return fallback
            try:
                return parse(raw)
            except ValueError:
                shown = "(hidden)" if name == "token" else repr(raw)
                raise ValueError(f"{ENVIRONMENT[name]}={shown} is not a valid {name}") from None

        chosen_amendments = (
            tuple(Path(path) for path in amendments)
            if amendments is not None
            else pick("amendments", None, _paths, default.amendments)
        )
        return cls(
            host=pick("host", host, str, default.host),
            port=pick("port", port, int, default.port),
            workers=pick("workers", workers, int, default.workers),
            token=pick("token", token or None, str, default.token),
            max_body_bytes=pick("max_body_bytes", max_body_bytes, int, default.max_body_bytes),
            timeout_seconds=pick("timeout_seconds", timeout_seconds, float, default.timeout_seconds),
            policy_dir=_path(pick("policy_dir", policy_dir, Path, default.policy_dir)),
            amendments=chosen_amendments,
            kept_policies=pick("kept_policies", kept_policies, int, default.kept_policies),
            amendment_dir=_path(pick("amendment_dir", amendment_dir, Path, default.amendment_dir)),
            max_pending=pick("max_pending", max_pending, int, default.max_pending),
        )

    def environment(self) -> dict[str, str]:
        """These settings as environment variables: what a worker process reads them from."""
        values: dict[str, str] = {
            ENVIRONMENT["host"]: self.host,
            ENVIRONMENT["port"]: str(self.port),
            ENVIRONMENT["workers"]: str(self.workers),
            ENVIRONMENT["max_body_bytes"]: str(self.max_body_bytes),
            ENVIRONMENT["timeout_seconds"]: repr(self.timeout_seconds),
            ENVIRONMENT["amendments"]: os.pathsep.join(str(path) for path in self.amendments),
            ENVIRONMENT["kept_policies"]: str(self.kept_policies),
            ENVIRONMENT["max_pending"]: str(self.max_pending),
            ENVIRONMENT["token"]: self.token or "",
            ENVIRONMENT["policy_dir"]: "" if self.policy_dir is None else str(self.policy_dir),
            ENVIRONMENT["amendment_dir"]: "" if self.amendment_dir is None else str(self.amendment_dir),
        }
        return values


def _paths(raw: str) -> tuple[Path, ...]:
    return tuple(Path(part) for part in raw.split(os.pathsep) if part)


def _path(value: Path | str | None) -> Path | None:
    return None if value is None else Path(value)
