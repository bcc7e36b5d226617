"""A cache of loaded policies on disk, so that a command started afresh (``kzmig check``) does
not read, check and assemble the same YAML files again.

Loading the shipped policy takes most of a one-person check's time once Python has started:
parsing ten YAML files, validating every item, checking names, types and gaps across files.
The result depends only on the files' bytes (with the amendments', in order) and on the code
that reads them, so it is kept under a key made of exactly those:

* the cache's own format and kzmig's version, the Python version;
* the size and modification time of every module of the ``rules`` and ``models`` packages,
  so an edited checkout never reads a policy assembled by other code;
* the policy directory's path, each file's path within it and its bytes; each amendment's name
  and bytes (or text).

A changed byte in any file or amendment is a different key, so a stale entry is never read;
an entry is only written for a policy that loaded without problems (a broken policy is read,
and reported, every time).

An entry is a pickle, read back with an unpickler that constructs nothing but the policy's own
classes (the dataclasses and models of :mod:`rules.policy` and :mod:`models.policy`) and dates:
a file planted in the cache directory cannot make loading it run code. An entry that cannot be
read -- cut short, of another format, refused -- is treated as absent and written anew; a
directory that cannot be written is not an error either (the policy is loaded as without a
cache). The directory keeps its :data:`KEPT` most recently used entries.

Where: kzmig's cache directory (:mod:`rules.cache`; ``KZMIG_CACHE_DIR=off`` turns it off). The
command line uses it; a library caller passes ``cache=PolicyCache.default()`` (or a directory
of its own) to :func:`~rules.policy.loader.load_policy`.
"""

from __future__ import annotations

import functools
import hashlib
import importlib
import io
import os
import pickle
import sys
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from rules.cache import cache_directory, write_atomically
from rules.policy.documents import DocumentError, read_bytes
from rules.policy.loaded import Policy
from rules.version import __version__

__all__ = ["KEPT", "PolicyCache"]

#: The format of an entry: a new number when the way entries are written changes.
FORMAT = b"kzmig-policy-cache/1"
#: How many entries the directory keeps (the most recently used).
KEPT = 16
#: The largest entry read back (the shipped policy's is under 1 MB).
MAX_ENTRY_BYTES = 64 * 1024 * 1024
#: The modules whose classes an entry may construct (with ``datetime``'s dates).
_MODULES = ("models.policy", "rules.policy.")
_DATETIME = frozenset({"date", "datetime", "time", "timedelta", "timezone"})


class _PolicyUnpickler(pickle.Unpickler):
    """Constructs only classes defined in the policy's own modules, and dates."""

    def find_class(self, module: str, name: str) -> Any:
        if module == "datetime" and name in _DATETIME:
            return super().find_class(module, name)
        if module == _MODULES[0] or (
            module.startswith(_MODULES[1]) and all(part.isidentifier() for part in module.split("."))
        ):
            try:
                loaded = importlib.import_module(module)  # one of kzmig's own modules
            except ImportError:
                loaded = None
            found = getattr(loaded, "__dict__", {}).get(name) if loaded is not None else None
            if isinstance(found, type) and found.__module__ == module:
                return found
        raise pickle.UnpicklingError(f"{module}.{name} is not a class of a policy")


@functools.cache
def _code_fingerprint() -> bytes:
    """Size and modification time of every module of the ``rules`` and ``models`` packages
    (looked at once per process)."""
    digest = hashlib.sha256()
    for package in ("rules", "models"):
        loaded = sys.modules.get(package)
        for root in getattr(loaded, "__path__", ()):
            for folder, folders, files in os.walk(root):
                folders[:] = sorted(name for name in folders if name != "__pycache__")
                for name in sorted(files):
                    if name.endswith(".py"):
                        try:
                            found = os.stat(os.path.join(folder, name))
                        except OSError:
                            continue
                        digest.update(f"{folder}/{name}:{found.st_size}:{found.st_mtime_ns}\n".encode())
    return digest.digest()


class PolicyCache:
    """Loaded policies kept as files in ``directory`` (see the module's text)."""

    def __init__(self, directory: Path | str) -> None:
        self.directory = Path(directory)

    @classmethod
    def default(cls) -> PolicyCache | None:
        """The cache in kzmig's cache directory (:func:`rules.cache.cache_directory`);
        ``None`` when that is turned off."""
        directory = cache_directory()
        return cls(directory) if directory is not None else None

    def key(self, base: Path, files: Iterable[tuple[str, bytes]]) -> str:
        """The key of a policy read from directory ``base``: ``files`` are (name, content) in
        the order the loader reads them, the baseline's files then each amendment."""
        digest = hashlib.sha256(FORMAT + b"\0" + __version__.encode() + b"\0" + sys.version.encode())
        digest.update(_code_fingerprint() + str(base).encode() + b"\0")
        for name, content in files:
            digest.update(name.encode() + b"\0" + str(len(content)).encode() + b"\0" + content)
        return digest.hexdigest()

    def _path(self, key: str) -> Path:
        return self.directory / f"policy-{key[:40]}.pickle"

    def get(self, key: str) -> Policy | None:
        """The policy kept under ``key``; ``None`` when there is none or it cannot be read."""
        path = self._path(key)
        try:  # a regular file only: a FIFO or a device planted in its place is never opened
            content = read_bytes(path, MAX_ENTRY_BYTES)
        except DocumentError:
            return None
        if not content.startswith(FORMAT + b"\n" + key.encode() + b"\n"):
            return None
        body = content[len(FORMAT) + len(key) + 2 :]
        try:
            found = _PolicyUnpickler(io.BytesIO(body)).load()
        except Exception:  # noqa: BLE001 - any entry that does not read back is simply absent
            return None
        if not isinstance(found, Policy):
            return None
        try:
            os.utime(path)  # recently used: kept longer
        except OSError:
            pass
        return found

    def put(self, key: str, policy: Policy) -> None:
        """Keep ``policy`` under ``key``; silently nothing when the directory cannot be written."""
        try:
            body = pickle.dumps(policy, protocol=pickle.HIGHEST_PROTOCOL)
        except (pickle.PicklingError, TypeError, AttributeError):
            return  # a policy holding something that does not pickle is simply not kept
        if write_atomically(
            self.directory, self._path(key).name, FORMAT + b"\n" + key.encode() + b"\n" + body
        ):
            self._prune()

    def _prune(self) -> None:
        entries: list[tuple[float, Path]] = []
        for path in self.directory.glob("policy-*.pickle"):
            try:
                entries.append((path.stat().st_mtime, path))
            except OSError:
                continue
        entries.sort(reverse=True)
        for _, path in entries[KEPT:]:
            try:
                path.unlink(missing_ok=True)
            except OSError:
                continue
