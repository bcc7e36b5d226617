"""The suite's own cache directory: every command and library call it runs keeps loaded
policies and the working-day calendar there (``KZMIG_CACHE_DIR``), never in the home directory
of whoever runs the tests, and the directory is removed at the end. And a fixture for the tests
of that cache: ``no_policy_reading``. And, when ``KZMIG_TEST_EXAMPLES`` asks for a share of
the property tests' examples (``budget``), the same share of hypothesis's default for the tests
that name no number."""

from __future__ import annotations

import os
import shutil
import tempfile
from collections.abc import Callable

import pytest
from budget import SHARE, examples
from hypothesis import settings

if SHARE < 1:
    settings.register_profile("kzmig-share", max_examples=examples(settings.default.max_examples))
    settings.load_profile("kzmig-share")


def pytest_configure(config: pytest.Config) -> None:
    directory = tempfile.mkdtemp(prefix="kzmig-test-cache-")
    config.add_cleanup(lambda: shutil.rmtree(directory, ignore_errors=True))
    os.environ["KZMIG_CACHE_DIR"] = directory


@pytest.fixture
def no_policy_reading(monkeypatch: pytest.MonkeyPatch) -> Callable[[], None]:
    """Call it, and from then on reading a policy file fails the test: a load must come from
    kzmig's cache of loaded policies."""

    def refuse(*args: object, **kwargs: object) -> None:
        raise AssertionError("the policy was read from its files, not from the cache")

    def start() -> None:
        monkeypatch.setattr("rules.policy.reading.read_policy_file", refuse)

    return start
