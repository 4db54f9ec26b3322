"""Fixtures and the Hypothesis profile shared by the test suite.

The ``im2col`` profile is registered and loaded here, so every test file
runs with it, alone or with the others: no deadline (the machine is shared
and busy), derandomized (every run tries the same examples, so a failure
reproduces), no example database written into the tree. Set
``HYPOTHESIS_PROFILE=random`` to explore with fresh seeds.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from hypothesis import HealthCheck, settings

ROOT = Path(__file__).resolve().parent.parent

settings.register_profile(
    "im2col", deadline=None, derandomize=True, database=None,
    suppress_health_check=[HealthCheck.too_slow], print_blob=True,
)
settings.register_profile(
    "random", deadline=None, derandomize=False, database=None,
    suppress_health_check=[HealthCheck.too_slow], print_blob=True,
)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "im2col"))


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
