"""The recipe of docs/testing-docs.md, copied into a sample project, works.

The files are taken as the page shows them: every fence with a ``title=``
in the page's "Copy it into your project" section is written to that path
(an ``--8<--`` include as the included file). The sample project gets the
pages of ``tests/samples/recipe/docs/``, and pytest runs there in a
subprocess, as a reader runs it.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from tests.sybil_fences import ROOT, fenced_blocks

PAGE = ROOT / "docs" / "testing-docs.md"
SAMPLE_DOCS = Path(__file__).parent / "samples" / "recipe" / "docs"


def recipe_files() -> dict[str, str]:
    """File name to content, for every titled fence of the recipe section."""
    text = PAGE.read_text(encoding="utf-8")
    start = text.index("## Copy it into your project")
    end = text.index("\n## ", start + 1)
    files: dict[str, str] = {}
    for block in fenced_blocks(text, ROOT):
        title = re.search(r'title="([^"]+)"', block.info)
        if start <= block.start < end and title:
            assert title.group(1) not in files, f"{title.group(1)} shown twice"
            files[title.group(1)] = block.source
    if "touch tests/__init__.py" in text[start:end]:
        files["tests/__init__.py"] = ""
    return files


@pytest.fixture(scope="module")
def sample_run(tmp_path_factory: pytest.TempPathFactory) -> str:
    project = tmp_path_factory.mktemp("project")
    for name, content in recipe_files().items():
        (project / name).parent.mkdir(parents=True, exist_ok=True)
        (project / name).write_text(content, encoding="utf-8")
    shutil.copytree(SAMPLE_DOCS, project / "docs")
    env = {
        k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "PYTEST_ADDOPTS")
    }
    env["NO_MKDOCS_2_WARNING"] = "1"
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "pytest",
            "-rA",
            "-p",
            "no:cacheprovider",
            "--continue-on-collection-errors",
            "docs",
            "tests/test_docs_pages.py",
        ],
        cwd=project,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert result.returncode == 1, result.stdout + result.stderr
    return result.stdout


def test_recipe_has_its_files() -> None:
    files = recipe_files()
    assert set(files) == {
        "conftest.py",
        "mkdocs.yml",
        "tests/__init__.py",
        "tests/sybil_fences.py",
        "tests/docs_render.py",
        "tests/docs_guard.py",
        "tests/test_docs_pages.py",
    }
    assert len(files["conftest.py"].splitlines()) <= 12, "the conftest is a few lines"


def test_good_blocks_pass(sample_run: str) -> None:
    passed = re.findall(r"^PASSED docs/index\.md::line:(\d+)", sample_run, re.MULTILINE)
    assert passed == ["3", "10", "16"], sample_run


def test_wrong_output_fails_at_its_line(sample_run: str) -> None:
    assert "PASSED docs/failing.md::line:10,column:5" in sample_run, sample_run
    assert "FAILED docs/failing.md::line:12,column:5" in sample_run, sample_run
    assert "Expected:\n    4\nGot:\n    3" in sample_run


def test_escaped_block_is_reported(sample_run: str) -> None:
    assert (
        "PASSED tests/test_docs_pages.py::test_page_has_no_escaped_snippet[docs/index.md]"
        in sample_run
    )
    failed = "FAILED tests/test_docs_pages.py::test_page_has_no_escaped_snippet[docs/escaped.md]"
    assert failed in sample_run, sample_run
    assert (
        "docs/escaped.md:8: rendered block 'language-ipython' is not run by Sybil"
        in sample_run
    )


def test_skip_without_reason_is_reported(sample_run: str) -> None:
    assert "ERROR docs/no-reason.md" in sample_run, sample_run
    assert "'<!-- skip: next -->' has no reason" in sample_run
    assert not re.search(r"^(PASSED|SKIPPED).*no-reason", sample_run, re.MULTILINE)
