"""The policies a service evaluates under: the baseline, and amendments loaded over it.

The baseline is compiled once, when the application is built. ``POST /v1/amendments`` loads an
amendment over it (:func:`rules.load_policy` with an :class:`rules.AmendmentText`: plain data
only, bounded) and keeps the compiled evaluator under the amended policy's version, the
``kept_policies`` most recently used ones; a request names it by ``policy_version``.

Several workers are several processes: an amendment one of them loaded is unknown to the
others. With an ``amendment_dir`` (``kzmig serve --workers N`` makes one), each amendment is
also written there, as ``<version>.yaml`` (its text) and ``<version>.json`` (its description),
and a worker that does not know a version looks for it there, loads it, and checks that it
gives the same version. The directory keeps the most recent ``4 * kept_policies``.
"""

from __future__ import annotations

import logging
import os
import re
import tempfile
import threading
from collections import OrderedDict
from dataclasses import dataclass
from pathlib import Path

from rules.engine.evaluator import Evaluator
from rules.errors import PolicyError
from rules.policy.cache import PolicyCache
from rules.policy.loader import AmendmentText, Policy, load_policy
from rules.service.errors import ServiceError
from rules.service.models import AmendmentInfo, PolicyInfo, ProgrammeInfo
from rules.service.settings import Settings

__all__ = ["DEFAULT_AMENDMENT_NAME", "Loaded", "PolicyStore", "policy_info"]

logger = logging.getLogger(__name__)

#: The name an amendment's problems are reported under when the request gives none.
DEFAULT_AMENDMENT_NAME = "<amendment>"
_VERSION = re.compile(r"^[0-9a-f]{1,64}$")


def programmes_of(policy: Policy) -> list[ProgrammeInfo]:
    return [
        ProgrammeInfo(name=name, title=programme.title, statuses=list(programme.precedence))
        for name, programme in policy.programmes.items()
    ]


def policy_info(policy: Policy) -> PolicyInfo:
    return PolicyInfo(
        name=policy.name, version=policy.version, title=policy.title, programmes=programmes_of(policy)
    )


@dataclass(frozen=True)
class Loaded:
    """An amended policy, compiled, and how it is described."""

    evaluator: Evaluator
    info: AmendmentInfo


class PolicyStore:
    """The baseline evaluator and the amended ones kept; thread-safe."""

    def __init__(self, settings: Settings, cache: PolicyCache | None = None) -> None:
        """``cache``: where the baseline is kept once loaded (``kzmig serve`` passes kzmig's
        cache, so that each worker process reads it back instead of loading its files)."""
        self._directory = settings.policy_dir
        self._amendments = settings.amendments
        self.baseline = Evaluator(load_policy(settings.policy_dir, settings.amendments, cache=cache))
        self._size = settings.kept_policies
        self._kept: OrderedDict[str, Loaded] = OrderedDict()
        self._lock = threading.Lock()
        self._shared = settings.amendment_dir

    @property
    def baseline_policy(self) -> Policy:
        return self.baseline.policy

    def evaluator(self, version: str | None) -> Evaluator:
        """The evaluator of ``version`` (``None``: the baseline); ``not_found`` when no
        amendment of that version is kept. May load from the shared directory: call it off the
        event loop."""
        if version is None or version == self.baseline.policy.version:
            return self.baseline
        with self._lock:
            found = self._kept.get(version)
            if found is not None:
                self._kept.move_to_end(version)
                return found.evaluator
        shared = self._from_shared(version)
        if shared is not None:
            return shared.evaluator
        raise ServiceError(
            "not_found",
            f"no policy of version {version!r} is loaded",
            [
                (
                    "policy_version",
                    f"not the baseline ({self.baseline.policy.version}) nor an amendment kept: load "
                    f"it with POST /v1/amendments (the {self._size} most recently used are kept)",
                )
            ],
        )

    def amend(self, text: str, name: str | None) -> Loaded:
        """Load ``text`` as an amendment over the baseline and keep it. Raises
        :class:`PolicyError` with every problem, each with its line and YAML path."""
        source = name or DEFAULT_AMENDMENT_NAME
        loaded = self._load(text, source)
        self._keep(loaded)
        self._share(loaded, text)
        return loaded

    def amendments(self) -> list[AmendmentInfo]:
        """The amended policies that can be named, most recently used first: those of the
        shared directory when there is one, else those this process keeps."""
        if self._shared is not None:
            return self._shared_infos()
        with self._lock:
            return [loaded.info for loaded in reversed(self._kept.values())]

    def _load(self, text: str, source: str) -> Loaded:
        policy = load_policy(self._directory, [*self._amendments, AmendmentText(text, source)])
        evaluator = Evaluator(policy)
        info = AmendmentInfo(
            name=policy.name,
            version=policy.version,
            title=_title(text, source),
            source=source,
            programmes=programmes_of(policy),
        )
        return Loaded(evaluator, info)

    def _keep(self, loaded: Loaded) -> None:
        with self._lock:
            self._kept[loaded.info.version] = loaded
            self._kept.move_to_end(loaded.info.version)
            while len(self._kept) > self._size:
                self._kept.popitem(last=False)

    # The shared directory ------------------------------------------------------------------

    def _share(self, loaded: Loaded, text: str) -> None:
        if self._shared is None:
            return
        version = loaded.info.version
        try:
            self._shared.mkdir(parents=True, exist_ok=True)
            _write(self._shared / f"{version}.yaml", text.encode())
            _write(self._shared / f"{version}.json", loaded.info.model_dump_json().encode())
            self._prune()
        except OSError as error:
            # The amendment still works in this process; other workers will not find it.
            logger.warning("amendment %s not shared with other workers (%s)", version, type(error).__name__)

    def _from_shared(self, version: str) -> Loaded | None:
        if self._shared is None or not _VERSION.match(version):
            return None
        text_path, info_path = self._shared / f"{version}.yaml", self._shared / f"{version}.json"
        try:
            text = text_path.read_text(encoding="utf-8")
            info = AmendmentInfo.model_validate_json(info_path.read_bytes())
        except (OSError, ValueError):
            return None
        try:
            loaded = self._load(text, info.source)
        except PolicyError:
            return None
        if loaded.info.version != version:  # another baseline wrote it: not this version here
            return None
        self._keep(loaded)
        try:
            os.utime(info_path)
        except OSError:
            pass
        return loaded

    def _shared_infos(self) -> list[AmendmentInfo]:
        assert self._shared is not None
        infos: list[tuple[float, AmendmentInfo]] = []
        for path in _infos(self._shared):
            try:
                infos.append((path.stat().st_mtime, AmendmentInfo.model_validate_json(path.read_bytes())))
            except (OSError, ValueError):
                continue
        baseline = self.baseline.policy.name
        return [info for _, info in sorted(infos, key=lambda item: -item[0]) if info.name == baseline]

    def _prune(self) -> None:
        assert self._shared is not None
        keep = 4 * self._size
        found: list[tuple[float, Path]] = []
        for path in _infos(self._shared):
            try:
                found.append((path.stat().st_mtime, path))
            except OSError:
                continue
        found.sort(reverse=True)
        for _, path in found[keep:]:
            for stale in (path, path.with_suffix(".yaml")):
                try:
                    stale.unlink()
                except OSError:
                    pass


def _infos(directory: Path) -> list[Path]:
    try:
        return [path for path in directory.glob("*.json") if _VERSION.match(path.stem)]
    except OSError:
        return []


def _write(path: Path, content: bytes) -> None:
    """Write ``content`` so that a reader sees the old file or the whole new one."""
    handle, temporary = tempfile.mkstemp(dir=path.parent, prefix=".tmp-")
    try:
        with os.fdopen(handle, "wb") as stream:
            stream.write(content)
        os.replace(temporary, path)
    except BaseException:
        try:
            os.unlink(temporary)
        except OSError:
            pass
        raise


def _title(text: str, source: str) -> str | None:
    """The amendment's own ``title`` (read with the library's safe reader)."""
    return AmendmentText(text, source).title
