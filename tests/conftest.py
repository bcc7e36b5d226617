"""The suite's own cache directory: every command and library call it runs keeps loaded
policies and the working-day calendar there (``KZMIG_CACHE_DIR``), never in the home directory
of whoever runs the tests, and the directory is removed at the end."""

from __future__ import annotations

import os
import shutil
import tempfile

import pytest


def pytest_configure(config: pytest.Config) -> None:
    directory = tempfile.mkdtemp(prefix="kzmig-test-cache-")
    config.add_cleanup(lambda: shutil.rmtree(directory, ignore_errors=True))
    os.environ["KZMIG_CACHE_DIR"] = directory
