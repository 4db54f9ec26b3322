"""Sybil parsers that run every Python-like fence a Material page can render.

Stock ``sybil.parsers.markdown.PythonCodeBlockParser`` (Sybil 10.1) runs a
fence only when its info string is exactly ``python``. Material pages also
use ``py``, ``python3``, ``pycon``, attributes such as ``title="x.py"`` and
fences indented in admonitions, details and content tabs. Here Sybil's own
``RawFencedCodeBlockLexer`` finds the fences (any info string); what Sybil
does not do is added on top:

- a fence shown inside a longer fence (a ````` ````markdown ````` example) is
  source text, not code, and is not run (the stock lexer runs it);
- ``pycon`` bodies and bodies starting with ``>>>`` run as doctests, with
  line numbers counted in the page even when the fence is indented;
- a fence whose body only includes files with pymdownx.snippets
  (``--8<-- "path"``) runs the included files, which the reader sees;
- a skip directive must give a reason.
"""

from __future__ import annotations

import doctest
import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path

from sybil import Document, Example, Region
from sybil.evaluators.doctest import DocTestEvaluator
from sybil.evaluators.python import PythonEvaluator
from sybil.parsers.abstract import DocTestStringParser
from sybil.parsers.markdown import ClearNamespaceParser, SkipParser
from sybil.parsers.markdown.lexers import FENCE, RawFencedCodeBlockLexer
from sybil.region import Lexeme

#: Doctest flags for every doctest on the site and in docstrings.
DOCTEST_FLAGS = doctest.ELLIPSIS | doctest.NORMALIZE_WHITESPACE
#: Languages run as Python, or as a doctest when the body starts with ``>>>``.
PYTHON_LANGUAGES = frozenset({"python", "py", "python3", "py3"})
#: Languages always run as doctests.
CONSOLE_LANGUAGES = frozenset({"pycon", "python-console"})
RUNNABLE_LANGUAGES = PYTHON_LANGUAGES | CONSOLE_LANGUAGES

#: The project root, the folder holding ``tests/``: mkdocs runs there, and
#: pymdownx.snippets' ``base_path: ["."]`` reads ``--8<--`` files from it.
ROOT = Path(__file__).resolve().parent.parent
#: Any info string: the lexer then returns every fence, whatever its language.
ANY_INFO = re.compile(r"(?P<info>[^\n]*)\n")
SNIPPET_LINE = re.compile(r"""^[ \t]*-+8<-+[ \t]+(["'])(?P<name>[^"']+)\1[ \t]*$""")


def fence_language(info: str) -> str:
    """Return the language named by a fence info string, lower case.

    >>> fence_language('python title="x.py" linenums="1"')
    'python'
    >>> fence_language("{ .PyCon .annotate }")
    'pycon'
    >>> fence_language("")
    ''
    """
    match = re.match(r"\s*(?:\{\s*\.)?([^\s{}]+)", info)
    return match.group(1).lower() if match else ""


@dataclass(frozen=True)
class FencedBlock:
    """One fenced code block of a Markdown document, any language."""

    start: int  #: offset of the opening fence line
    end: int  #: offset just after the closing fence (or end of text)
    line: int  #: 1-based line number of the opening fence
    prefix: str  #: what precedes the fence on its line (indent, ``>``, list marker)
    info: str  #: the info string, stripped
    language: str  #: see :func:`fence_language`
    source: str  #: the body, prefix removed and dedented
    includes: tuple[str, ...] = ()  #: files a snippets-only body includes

    @property
    def runnable(self) -> bool:
        """Whether these parsers run the block."""
        return self.language in RUNNABLE_LANGUAGES

    @property
    def is_doctest(self) -> bool:
        """``pycon`` blocks and bodies starting with ``>>>`` run as doctests."""
        return self.language in CONSOLE_LANGUAGES or self.source.lstrip().startswith(">>>")


def _includes(body: str) -> tuple[str, ...]:
    lines = [line for line in body.splitlines() if line.strip()]
    matches = [SNIPPET_LINE.match(line) for line in lines]
    if not lines or not all(matches):
        return ()
    return tuple(m.group("name") for m in matches if m)


def fenced_blocks(text: str, base_path: Path | None = None) -> list[FencedBlock]:
    """Every fenced code block of ``text`` that is not inside another fence.

    With ``base_path``, a body made only of ``--8<-- "file"`` lines is
    replaced by the files, read relative to ``base_path`` as pymdownx.snippets
    does with ``check_paths: true`` (a missing file is an error).
    """
    document = Document(text, "<text>")
    regions = sorted(
        RawFencedCodeBlockLexer(info_pattern=ANY_INFO)(document), key=lambda r: r.start
    )
    blocks: list[FencedBlock] = []
    for region in regions:
        if blocks and region.start < blocks[-1].end:
            continue  # shown inside a longer fence: text, not code
        opening = FENCE.match(text, region.start)
        assert opening is not None  # the lexer found a fence here
        info = region.lexemes["info"].strip()
        body = str(region.lexemes["source"])
        includes = _includes(body)
        if includes and base_path is not None:
            body = "".join(_read(base_path, name) for name in includes)
        blocks.append(
            FencedBlock(
                start=region.start,
                end=region.end,
                line=text.count("\n", 0, region.start) + 1,
                prefix=opening.group("prefix"),
                info=info,
                language=fence_language(info),
                source=body,
                includes=includes,
            )
        )
    return blocks


def _read(base_path: Path, name: str) -> str:
    path = base_path / name
    if not path.is_file():
        raise ValueError(f"--8<-- {name!r}: no such file under {base_path}")
    return path.read_text(encoding="utf-8")


def _inside_fence(position: int, blocks: Iterable[FencedBlock]) -> bool:
    return any(block.start <= position < block.end for block in blocks)


class UnrunnableBlock:
    """Evaluator of a block labelled as a console session that has no prompt."""

    def __init__(self, message: str) -> None:
        self.message = message

    def __call__(self, example: Example) -> str:
        return self.message


def run_included_files(example: Example) -> None:
    """Run the files a fence includes in the page's namespace, each as itself.

    Tracebacks name the file and its own lines, and ``__file__`` is the
    file's path while it runs (then restored).
    """
    namespace = example.namespace
    for path in example.parsed:
        code = compile(path.read_text(encoding="utf-8"), str(path), "exec", dont_inherit=True)
        saved = namespace.get("__file__")
        namespace["__file__"] = str(path)
        try:
            exec(code, namespace)
        finally:
            namespace.pop("__builtins__", None)
            if saved is None:
                del namespace["__file__"]
            else:
                namespace["__file__"] = saved


class PythonFenceParser:
    """Run every Python-like fence: plain code, ``>>>`` sessions and ``pycon``.

    Parameters
    ----------
    base_path
        Folder that ``--8<-- "file"`` names are relative to; the project root
        by default.
    doctest_optionflags
        Flags for the doctests; ELLIPSIS and NORMALIZE_WHITESPACE by default.
    """

    def __init__(self, base_path: Path = ROOT, doctest_optionflags: int = DOCTEST_FLAGS) -> None:
        self.base_path = Path(base_path)
        self.doctest_parser = DocTestStringParser(DocTestEvaluator(doctest_optionflags))
        self.python_evaluator = PythonEvaluator()

    def blocks(self, text: str) -> list[FencedBlock]:
        """The fences of ``text`` that this parser runs."""
        return [b for b in fenced_blocks(text, self.base_path) if b.runnable]

    def __call__(self, document: Document) -> Iterator[Region]:
        line_starts = [0] + [m.end() for m in re.finditer("\n", document.text)]
        for block in self.blocks(document.text):
            yield from self.regions(document, block, line_starts)

    def regions(
        self, document: Document, block: FencedBlock, line_starts: list[int]
    ) -> Iterator[Region]:
        """The examples of one fenced block."""
        if block.includes and not block.is_doctest:
            paths = tuple(self.base_path / name for name in block.includes)
            yield Region(block.start, block.end, paths, run_included_files)
            return
        if not block.is_doctest:
            lexeme = Lexeme(block.source, offset=0, line_offset=0)
            yield Region(block.start, block.end, lexeme, self.python_evaluator)
            return
        found = False
        for number, region in enumerate(self.doctest_parser(block.source, document.path)):
            found = True
            if block.includes:  # no page line to point at: the fence's line
                region.start, region.end = block.start + number, block.start + number + 1
            else:
                region.start = _to_page(block, region.start, line_starts)
                region.end = _to_page(block, region.end, line_starts)
            yield region
        if not found:
            message = (
                f"a {block.language!r} block at line {block.line} has no '>>> ' prompt, "
                "so nothing would run; write a doctest session or label it python"
            )
            yield Region(block.start, block.end, None, UnrunnableBlock(message))


def _to_page(block: FencedBlock, offset: int, line_starts: list[int]) -> int:
    """Map an offset in the de-indented body to the page, line by line.

    Sybil's ``Region.adjust`` adds the body's start to such an offset, which
    puts examples of an indented fence on an earlier line.
    """
    line = block.source.count("\n", 0, offset)
    column = offset - (block.source.rfind("\n", 0, offset) + 1)
    index = min(block.line + line, len(line_starts) - 1)  # block.line: first body line
    return min(line_starts[index] + len(block.prefix) + column, block.end)


class ReasonedSkipParser(SkipParser):
    """Sybil's skip directive, but ``skip: next`` and ``skip: start`` need a reason.

    Stock Sybil reports the example after a bare ``<!-- skip: next -->`` as
    passed although it never ran; here that is an error. Directives shown
    inside fences (as examples of the syntax) are ignored.
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
    """``<!-- clear-namespace -->``, ignoring occurrences shown inside fences."""

    def __call__(self, document: Document) -> Iterable[Region]:
        fences = fenced_blocks(document.text)
        for region in super().__call__(document):
            if not _inside_fence(region.start, fences):
                yield region


def markdown_parsers(base_path: Path = ROOT) -> list[object]:
    """The parsers for every Markdown page; includes are read under ``base_path``."""
    return [PythonFenceParser(base_path), ReasonedSkipParser(), FenceAwareClearNamespaceParser()]


def parse_markdown(text: str, path: str = "<string>", base_path: Path = ROOT) -> Document:
    """Parse Markdown ``text`` with these parsers, as Sybil does for a file."""
    document = Document(text, path)
    for parser in markdown_parsers(base_path):
        for region in parser(document):  # type: ignore[operator]
            document.add(region)
    return document


def count_examples(text: str, base_path: Path = ROOT) -> int:
    """How many examples :class:`PythonFenceParser` finds in ``text``."""
    return len(list(PythonFenceParser(base_path)(Document(text, "<string>"))))
