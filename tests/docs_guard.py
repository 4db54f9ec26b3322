"""Guard: no Python on a page escapes the Sybil run.

Each page is rendered the way the site renders it (``docs_render.py``) and
compared with the fences that ``sybil_fences.PythonFenceParser`` runs.
:func:`check_text` reports

- a rendered block highlighted as Python (any Pygments Python lexer:
  ``python``, ``pycon``, ``ipython``, ``sage``, ``pyi``, ...) that is not a
  fence Sybil runs;
- a fence Sybil runs that is not rendered as a code block (hidden code);
- ``>>>`` outside a fence Sybil runs: at the start of a Markdown line, or in
  the rendered text (inline code excepted);
- a ``pycon`` block without a prompt, a ``python`` block mixing code and
  prompts, an ``invisible-code-block`` (hidden code);
- a skip directive without a reason, a page Sybil cannot parse;
- a page that runs no example at all.
"""

from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

from tests.docs_render import ROOT, is_python_like, normalize, render, rendered_code
from tests.sybil_fences import count_examples, fenced_blocks, parse_markdown

PROMPT_LINE = re.compile(r"^[ \t>]*>>>", re.MULTILINE)
INVISIBLE_CODE = re.compile(r"^[ \t]*<!--+\s*invisible-code(?:-block)?\b", re.MULTILINE)


@dataclass(frozen=True)
class Problem:
    """One way a snippet escapes the test run."""

    path: str
    line: int | None
    message: str

    def __str__(self) -> str:
        where = f"{self.path}:{self.line}" if self.line else self.path
        return f"{where}: {self.message}"


def _line_of(text: str, position: int) -> int:
    return text.count("\n", 0, position) + 1


def _locate(text: str, code: str) -> int | None:
    """Line of ``text`` where the first line of ``code`` appears, if any."""
    first = next((ln.strip() for ln in code.splitlines() if ln.strip()), None)
    for number, line in enumerate(text.splitlines(), start=1):
        if first is not None and line.strip() == first:
            return number
    return None


def _first_line(code: str) -> str:
    return next((ln for ln in code.splitlines() if ln.strip()), "").strip()[:60]


def check_text(
    text: str, name: str, *, require_examples: bool = True, base_path: Path = ROOT
) -> list[Problem]:
    """Every way the snippets of one Markdown document escape Sybil.

    Parameters
    ----------
    text
        The Markdown source.
    name
        The path reported in problems.
    require_examples
        Report a document that runs no example (true for docs pages).
    base_path
        The folder ``--8<--`` includes are read from (mkdocs' ``base_path``).
    """
    problems: list[Problem] = []

    def problem(message: str, line: int | None = None) -> None:
        problems.append(Problem(name, line, message))

    try:  # Sybil's own view: skips without a reason, overlaps, missing includes
        parse_markdown(text, name, base_path)
        fences = fenced_blocks(text, base_path)
    except ValueError as error:
        problem(f"Sybil cannot parse the page: {error}")
        fences = fenced_blocks(text)
    runnable = [b for b in fences if b.runnable]
    if require_examples and not problems and count_examples(text, base_path) == 0:
        problem(
            "no example is collected from this page (every page must run code; "
            "a file that is not a page belongs in exclude_docs in mkdocs.yml)"
        )
    for block in runnable:
        if block.is_doctest and not PROMPT_LINE.search(block.source):
            problem(f"{block.language!r} block has no '>>>' prompt: nothing would run", block.line)
        if not (block.is_doctest or block.includes) and PROMPT_LINE.search(block.source):
            problem(
                "block mixes code and '>>>' prompts; start the body with '>>>' "
                "to make it a doctest",
                block.line,
            )

    # The Markdown source: prompts outside run fences, hidden code.
    for match in PROMPT_LINE.finditer(text):
        if not any(b.start <= match.start() < b.end for b in runnable):
            problem("'>>>' outside a fence that Sybil runs", _line_of(text, match.start()))
    for match in INVISIBLE_CODE.finditer(text):
        if not any(b.start <= match.start() < b.end for b in fences):
            problem(
                "invisible-code-block hides code from the reader; show it in a fence",
                _line_of(text, match.start()),
            )

    # The rendered page: every Python-like block must be a fence Sybil runs.
    try:
        page = rendered_code(render(text))
    except Exception as error:  # a page that does not render cannot be checked
        problem(f"rendering failed: {type(error).__name__}: {error}")
        return problems
    expected = Counter(normalize(b.source) for b in runnable)
    for rendered in page.blocks:
        code = normalize(rendered.text)
        if expected[code] > 0:
            expected[code] -= 1
        elif is_python_like(rendered.language):
            problem(
                f"rendered block 'language-{rendered.language}' is not run by Sybil "
                f"(first line: {_first_line(code)!r}); label the fence python or pycon",
                _locate(text, code),
            )
        elif ">>>" in code:
            problem(
                f"'>>>' in a rendered 'language-{rendered.language}' block that Sybil "
                f"does not run (first line: {_first_line(code)!r})",
                _locate(text, code),
            )
    for block in runnable:
        code = normalize(block.source)
        if expected[code] > 0:
            expected[code] -= 1
            problem(
                "fence is run by Sybil but not rendered as a code block "
                "(hidden or mis-indented code)",
                block.line,
            )
    for code in page.plain_pre:
        if ">>>" in code:
            problem(
                f"'>>>' in an unhighlighted code block (first line: {_first_line(code)!r})",
                _locate(text, code),
            )
    outside = "".join(page.outside)
    if ">>>" in outside:
        index = outside.index(">>>")
        problem(f"'>>>' in the rendered text: {outside[max(0, index - 30) : index + 30]!r}")
    return problems


def check_file(path: Path, *, require_examples: bool = True) -> list[Problem]:
    """:func:`check_text` for a file, reported relative to the project root."""
    try:
        name = path.resolve().relative_to(ROOT).as_posix()
    except ValueError:
        name = str(path)
    return check_text(path.read_text(encoding="utf-8"), name, require_examples=require_examples)
