"""The guard against the known escape cases and the fences it must accept.

Each case is a page under ``tests/samples/``: ``escape/`` pages say, in a
``<!-- guard says: ... -->`` comment, what the guard must report;
``accept/`` pages say, in ``<!-- examples: N -->``, how many examples the
parser must collect, and the guard must report nothing.
"""

from __future__ import annotations

import re
import unittest
from pathlib import Path

import pytest

from tests.docs_guard import check_file, check_text
from tests.docs_render import ROOT
from tests.sybil_fences import count_examples, parse_markdown

SAMPLES = Path(__file__).parent / "samples"
ESCAPES = sorted((SAMPLES / "escape").glob("*.md"))
ACCEPTED = sorted((SAMPLES / "accept").glob("*.md"))


def _comment(path: Path, key: str) -> str:
    match = re.search(rf"<!-- {key}: (.*?) -->", path.read_text(encoding="utf-8"))
    assert match, f"{path.name} has no <!-- {key}: ... --> comment"
    return match.group(1)


def _messages(path: Path) -> str:
    return "\n".join(map(str, check_file(path)))


def test_samples_exist() -> None:
    assert len(ESCAPES) >= 15
    assert len(ACCEPTED) >= 14


@pytest.mark.parametrize("sample", ESCAPES, ids=lambda p: p.stem)
def test_guard_catches_escape(sample: Path) -> None:
    messages = _messages(sample)
    expected = _comment(sample, "guard says")
    assert expected in messages, f"guard missed {sample.name}; it said:\n{messages}"


@pytest.mark.parametrize("sample", ACCEPTED, ids=lambda p: p.stem)
def test_guard_accepts(sample: Path) -> None:
    messages = _messages(sample)
    assert not messages, f"{sample.name} should be collected; the guard said:\n{messages}"
    text = sample.read_text(encoding="utf-8")
    assert count_examples(text, ROOT) == int(_comment(sample, "examples"))


@pytest.mark.parametrize("sample", ACCEPTED, ids=lambda p: p.stem)
def test_accepted_samples_run(sample: Path) -> None:
    """What the guard accepts is really executed, and passes."""
    document = parse_markdown(sample.read_text(encoding="utf-8"), str(sample), ROOT)
    ran = 0
    for example in document.examples():
        try:
            example.evaluate()
        except unittest.SkipTest:
            continue
        ran += 1
    assert ran >= 1


def test_problem_lines_point_at_the_page() -> None:
    fence = "```"
    text = f"# T\n\n{fence}python\nx = 1\n{fence}\n\nText.\n\n    >>> x + 1\n    2\n"
    problems = check_text(text, "demo.md")
    assert (problems[0].line, problems[0].message) == (9, "'>>>' outside a fence that Sybil runs")
    assert str(problems[0]).startswith("demo.md:9: ")
