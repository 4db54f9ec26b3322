"""Fixtures shared by the test suite."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from im2col import _conv

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture(scope="session")
def built_site(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Build the site once per session with ``mkdocs build --strict``.

    Notebooks are executed (errors fail the build); the test that uses this
    fixture first is the strict-build check, the browser tests reuse it.
    """
    out = tmp_path_factory.mktemp("site")
    env = {**os.environ, "NO_MKDOCS_2_WARNING": "1"}
    proc = subprocess.run(
        [sys.executable, "-m", "mkdocs", "build", "--strict", "-d", str(out)],
        cwd=ROOT, env=env, capture_output=True, text=True, timeout=900,
    )
    if proc.returncode != 0:
        pytest.fail(f"mkdocs build --strict failed:\n{proc.stdout}\n{proc.stderr}")
    return out


@pytest.fixture(scope="session", autouse=True)
def threads_for_tiny_calls() -> Iterator[None]:
    """Give even the tests' tiny convolutions worker threads (by default a
    call needs ``WORK_PER_WORKER`` multiply-adds per worker), so that every
    property test runs the threaded path as well as the strategies."""
    before = _conv.WORK_PER_WORKER
    _conv.WORK_PER_WORKER = 1
    yield
    _conv.WORK_PER_WORKER = before
