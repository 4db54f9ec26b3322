"""Sybil parsers that collect every Python-like fence a Material page can render.

Stock ``sybil.parsers.markdown.PythonCodeBlockParser`` (Sybil 10.1) collects a
fence only when its info string is exactly ``python``. MkDocs Material pages
also use ``py``, ``python3``, ``pycon``, attributes such as ``title="x.py"``,
``{ .python .annotate }`` and fences indented inside admonitions, details
and content tabs; Sybil skips all of those without a word. The parsers here
collect them, run ``>>>`` sessions as doctests, and refuse a skip directive
that gives no reason.

The fence scanner follows CommonMark's rule that nothing opens inside an open
fence, so a ``python`` fence shown inside a ````` ````markdown ````` example
is source text, not code to run (the stock lexer runs it).
"""

from __future__ import annotations

import doctest
import re
import textwrap
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass

from sybil import Document, Example, Region
from sybil.evaluators.doctest import DocTestEvaluator
from sybil.evaluators.python import PythonEvaluator
from sybil.parsers.abstract import DocTestStringParser
from sybil.parsers.markdown import ClearNamespaceParser, SkipParser
from sybil.region import Lexeme

#: Doctest flags used for every doctest on the site and in docstrings.
DOCTEST_FLAGS = doctest.ELLIPSIS | doctest.NORMALIZE_WHITESPACE

#: Fence languages that are run as plain Python (body not starting with ``>>>``)
#: or as a doctest (body starting with ``>>>``). Matched case-insensitively.
PYTHON_LANGUAGES = frozenset({"python", "py", "python3", "py3"})
#: Fence languages that are always run as doctests.
CONSOLE_LANGUAGES = frozenset({"pycon", "python-console"})
RUNNABLE_LANGUAGES = PYTHON_LANGUAGES | CONSOLE_LANGUAGES

# An opening or closing fence: optional blockquote/list/indent prefix, three or
# more backticks or tildes, then the info string (empty on a closing fence).
FENCE = re.compile(
    r"^(?P<prefix>(?:[ \t]*>)+[ \t]*|[ \t]*(?:[-*+]|\d+[.)])[ \t]+|[ \t]*)"
    r"(?P<fence>`{3,}|~{3,})(?P<info>[^\n]*)$",
    re.MULTILINE,
)
SNIPPET_LINE = re.compile(r"""^[ \t]*-{1,}8<-{1,}[ \t]+(["'])(?P<name>[^"']+)\1[ \t]*$""")


@dataclass(frozen=True)
class FencedBlock:
    """One fenced code block of a Markdown document, any language."""

    start: int  #: offset of the opening fence line in the document text
    end: int  #: offset just after the closing fence (or end of text)
    line: int  #: 1-based line number of the opening fence
    prefix: str  #: indentation/blockquote prefix of the opening fence
    info: str  #: the info string, stripped
    language: str  #: first word of the info string (or first ``.class``), lower case
    source: str  #: the body with the prefix removed and dedented

    @property
    def runnable(self) -> bool:
        """Whether this site's parser executes the block."""
        return self.language in RUNNABLE_LANGUAGES

    @property
    def is_doctest(self) -> bool:
        """``pycon`` blocks and bodies starting with ``>>>`` run as doctests."""
        return self.language in CONSOLE_LANGUAGES or self.source.lstrip().startswith(">>>")

    @property
    def is_snippet_include(self) -> bool:
        """The body only includes files with pymdownx.snippets (``--8<-- "f"``)."""
        lines = [ln for ln in self.source.splitlines() if ln.strip()]
        return bool(lines) and all(SNIPPET_LINE.match(ln) for ln in lines)


def fence_language(info: str) -> str:
    """Return the language named by a fence info string, lower case.

    >>> fence_language('python title="x.py" linenums="1"')
    'python'
    >>> fence_language("{ .PyCon .annotate }")
    'pycon'
    >>> fence_language("")
    ''
    """
    info = info.strip()
    if info.startswith("{"):
        match = re.match(r"\{\s*\.([^\s}]+)", info)
        return match.group(1).lower() if match else ""
    match = re.match(r"[^\s{]+", info)
    return match.group(0).lower() if match else ""


def _strip_prefix(body: str, prefix_length: int) -> str:
    lines = body.splitlines(keepends=True)
    stripped = []
    for line in lines:
        head, rest = line[:prefix_length], line[prefix_length:]
        # Only remove whitespace or blockquote markers; keep text that is
        # less indented than the fence (CommonMark removes what it can).
        if head.strip(" \t>"):
            rest = line.lstrip(" \t")
        stripped.append(rest if rest else ("\n" if line.endswith("\n") else ""))
    return textwrap.dedent("".join(stripped))


def _closes(candidate: re.Match[str], opening: re.Match[str]) -> bool:
    fence, opened = candidate.group("fence"), opening.group("fence")
    return (
        fence[0] == opened[0]
        and len(fence) >= len(opened)
        and not candidate.group("info").strip()
        and len(candidate.group("prefix")) == len(opening.group("prefix"))
    )


def fenced_blocks(text: str) -> list[FencedBlock]:
    """Every fenced code block of ``text``, whatever its language.

    Nothing opens inside an open fence (CommonMark); an unclosed fence runs
    to the end of the text.
    """
    blocks: list[FencedBlock] = []
    opening: re.Match[str] | None = None
    for match in FENCE.finditer(text):
        if opening is None:
            if match.group("fence")[0] == "`" and "`" in match.group("info"):
                continue  # not a fence: backtick info strings cannot hold backticks
            opening = match
        elif _closes(match, opening):
            blocks.append(_block(text, opening, match))
            opening = None
    if opening is not None:
        blocks.append(_block(text, opening, None))
    return blocks


def _block(text: str, opening: re.Match[str], closing: re.Match[str] | None) -> FencedBlock:
    body_start = min(opening.end() + 1, len(text))
    body_end = closing.start() if closing is not None else len(text)
    end = closing.end() if closing is not None else len(text)
    info = opening.group("info").strip()
    return FencedBlock(
        start=opening.start(),
        end=end,
        line=text.count("\n", 0, opening.start()) + 1,
        prefix=opening.group("prefix"),
        info=info,
        language=fence_language(info),
        source=_strip_prefix(text[body_start:body_end], len(opening.group("prefix"))),
    )


def _inside_fence(position: int, blocks: Sequence[FencedBlock]) -> bool:
    return any(block.start <= position < block.end for block in blocks)


class _FailingEvaluator:
    """Evaluator for a block that cannot be run as written: always fails."""

    def __init__(self, message: str) -> None:
        self.message = message

    def __call__(self, example: Example) -> str:
        return self.message


class PythonFenceParser:
    """Collect every Python-like fence: plain code, ``>>>`` sessions and ``pycon``.

    Parameters
    ----------
    doctest_optionflags
        Flags for the doctests; ELLIPSIS and NORMALIZE_WHITESPACE by default.
    """

    def __init__(self, doctest_optionflags: int = DOCTEST_FLAGS) -> None:
        self.doctest_parser = DocTestStringParser(DocTestEvaluator(doctest_optionflags))
        self.python_evaluator = PythonEvaluator()

    def blocks(self, document: Document) -> list[FencedBlock]:
        """The fences of ``document`` that this parser runs."""
        return [block for block in fenced_blocks(document.text) if block.runnable]

    def __call__(self, document: Document) -> Iterable[Region]:
        line_starts = [0] + [m.end() for m in re.finditer("\n", document.text)]
        for block in self.blocks(document):
            yield from self.regions(document, block, line_starts)

    def regions(
        self, document: Document, block: FencedBlock, line_starts: list[int]
    ) -> Iterator[Region]:
        """Regions (examples) for one fenced block."""
        if not block.is_doctest:
            yield Region(
                block.start,
                block.end,
                Lexeme(block.source, offset=0, line_offset=0),
                self.python_evaluator,
            )
            return
        # Map offsets in the stripped body back to the document line by line,
        # so that reported line numbers are right for indented fences too.
        first_body_line = block.line  # 0-based index of the line after the fence
        found = False
        for region in self.doctest_parser(block.source, document.path):
            found = True
            region.start = self._to_document(block, region.start, first_body_line, line_starts)
            region.end = self._to_document(block, region.end, first_body_line, line_starts)
            yield region
        if not found:
            yield Region(
                block.start,
                block.end,
                None,
                _FailingEvaluator(
                    f"a {block.language!r} block at line {block.line} has no '>>> ' "
                    "prompt, so it would not run; write it as a doctest session "
                    "or label it python"
                ),
            )

    @staticmethod
    def _to_document(
        block: FencedBlock, offset: int, first_body_line: int, line_starts: list[int]
    ) -> int:
        source = block.source
        line = source.count("\n", 0, offset)
        column = offset - (source.rfind("\n", 0, offset) + 1)
        index = min(first_body_line + line, len(line_starts) - 1)
        start = line_starts[index]
        return min(start + column, block.end)


class ReasonedSkipParser(SkipParser):
    """Sybil's markdown skip directive, but ``skip: next``/``skip: start`` need a reason.

    Stock Sybil reports an example after a bare ``<!-- skip: next -->`` as
    PASSED although it never ran. Here that is a collection error. Directives
    shown inside fenced blocks (as examples of the syntax) are ignored.
    """

    def __call__(self, document: Document) -> Iterable[Region]:
        fences = fenced_blocks(document.text)
        for region in super().__call__(document):
            if _inside_fence(region.start, fences):
                continue
            action, reason = region.parsed
            if action in ("start", "next") and not (reason and reason.strip()):
                line = document.text.count("\n", 0, region.start) + 1
                raise ValueError(
                    f"{document.path}, line {line}: '<!-- skip: {action} -->' has no "
                    f'reason; write <!-- skip: {action} "why it cannot run" -->'
                )
            yield region


class FenceAwareClearNamespaceParser(ClearNamespaceParser):
    """``<!-- clear-namespace -->``, ignoring occurrences inside fenced blocks."""

    def __call__(self, document: Document) -> Iterable[Region]:
        fences = fenced_blocks(document.text)
        for region in super().__call__(document):
            if not _inside_fence(region.start, fences):
                yield region


def markdown_parsers() -> list[object]:
    """The parsers this site uses for every Markdown page."""
    return [PythonFenceParser(), ReasonedSkipParser(), FenceAwareClearNamespaceParser()]


def parse_markdown(text: str, path: str = "<string>") -> Document:
    """Parse Markdown ``text`` with the site's parsers, as Sybil does for a file."""
    document = Document(text, path)
    for parser in markdown_parsers():
        for region in parser(document):  # type: ignore[operator]
            document.add(region)
    return document
