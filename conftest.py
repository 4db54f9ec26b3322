"""Run every Python snippet of the site, the README and the docstrings with Sybil.

- docs/**/*.md and README.md: every ``python``/``py``/``python3``/``pycon``
  fence, with or without Material attributes, nested in admonitions, details
  and content tabs (parsers in tests/sybil_fences.py). One namespace per page,
  blocks run in order, nothing injected.
- src/**/*.py: the ``>>>`` examples of the numpydoc docstrings.
- Doctests use ELLIPSIS | NORMALIZE_WHITESPACE, set here explicitly.

At the end of a run, the number of examples per document is printed.
"""

from __future__ import annotations

from collections import Counter
from pathlib import Path

import pytest
from sybil import Sybil
from sybil.integration.pytest import SybilItem
from sybil.parsers.rest import DocTestParser
from sybil.sybil import SybilCollection
from tests.sybil_fences import DOCTEST_FLAGS, markdown_parsers

ROOT = Path(__file__).resolve().parent

docs_examples = Sybil(
    parsers=markdown_parsers(),
    path="docs",
    # "*.md" matches at any depth; "docs/**/*.md" would miss docs/index.md.
    patterns=["*.md"],
)
readme_examples = Sybil(
    parsers=markdown_parsers(),
    path=".",
    patterns=["README.md"],
    excludes=["*/README.md"],  # only the top-level README
)
docstring_examples = Sybil(
    parsers=[DocTestParser(optionflags=DOCTEST_FLAGS)],
    path="src",
    patterns=["*.py"],
)

pytest_collect_file = SybilCollection(
    [docs_examples, readme_examples, docstring_examples]
).pytest()


class _ExampleCounts:
    """Count Sybil examples per document and print them after the run."""

    def __init__(self, rootpath: Path) -> None:
        self.rootpath = rootpath
        self.documents: dict[str, Counter[str]] = {}
        self.document_of: dict[str, str] = {}

    def _name(self, path: Path) -> str:
        try:
            return path.relative_to(self.rootpath).as_posix()
        except ValueError:
            return str(path)

    @pytest.hookimpl(trylast=True)
    def pytest_collection_modifyitems(self, items: list[pytest.Item]) -> None:
        for item in items:
            if isinstance(item, SybilItem):
                name = self._name(item.path)
                self.document_of[item.nodeid] = name
                self.documents.setdefault(name, Counter())["collected"] += 1

    def pytest_runtest_logreport(self, report: pytest.TestReport) -> None:
        name = self.document_of.get(report.nodeid)
        if name is None:
            return
        counts = self.documents[name]
        if report.when == "call" or (report.when == "setup" and not report.passed):
            counts[report.outcome] += 1

    def pytest_terminal_summary(self, terminalreporter: pytest.TerminalReporter) -> None:
        if not self.documents or terminalreporter.config.option.collectonly:
            return
        write = terminalreporter.write_line
        terminalreporter.write_sep("-", "Sybil examples per document")
        total: Counter[str] = Counter()
        width = max(len(name) for name in self.documents)
        for name in sorted(self.documents):
            counts = self.documents[name]
            total.update(counts)
            write(f"{name:<{width}}  {_describe(counts)}")
        write(f"{'total':<{width}}  {_describe(total)}")


def _describe(counts: Counter[str]) -> str:
    parts = [f"{counts['collected']} examples", f"{counts['passed']} passed"]
    parts += [f"{counts[k]} {k}" for k in ("failed", "skipped") if counts[k]]
    return ", ".join(parts)


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[None]):  # type: ignore[no-untyped-def]
    """Report a skipped example at its line in the document, not inside pytest."""
    report = yield
    if isinstance(item, SybilItem) and report.skipped and isinstance(report.longrepr, tuple):
        _, _, reason = report.longrepr
        report.longrepr = (str(item.path), item.example.line, reason)
    return report


def pytest_configure(config: pytest.Config) -> None:
    config.pluginmanager.register(_ExampleCounts(config.rootpath), "sybil-example-counts")
