"""Guard: no Python on the site escapes the Sybil run.

Each page of the site (and README.md) is rendered with python-markdown and
the ``markdown_extensions`` of mkdocs.yml, exactly as MkDocs configures them
(``pygments_lang_class: true`` puts ``language-python``, ``language-pycon``, ...
on every highlighted block). The guard then fails when

- a rendered block highlighted as Python (any pygments Python lexer: python,
  py, pycon, ipython, sage, pyi, ...) is not one of the fences Sybil runs;
- a fence Sybil runs is not rendered as a code block (hidden code);
- ``>>>`` appears outside a fence Sybil runs: in the Markdown source at the
  start of a line, or in the rendered text (inline code excepted);
- a skip directive has no reason, or a page cannot be parsed;
- an ``invisible-code-block`` directive is used (hidden code);
- a page under docs/ collects zero examples.

A fence whose body is only a pymdownx.snippets include (``--8<-- "file"``) is
compared with the included file; it must be preceded by a skip directive
with a reason, or Sybil runs the ``--8<--`` line and fails.

The functions are importable (``from tests.test_docs_guard import
check_text``) and are tested below against the known escape cases.
"""

from __future__ import annotations

import functools
import os
import re
from collections import Counter
from dataclasses import dataclass, field
from html.parser import HTMLParser
from pathlib import Path

import markdown
import pytest
from mkdocs.config import load_config
from mkdocs.config.defaults import MkDocsConfig
from mkdocs.structure.files import get_files
from pygments.lexers import get_lexer_by_name
from pygments.util import ClassNotFound
from sybil.evaluators.doctest import DocTestEvaluator
from sybil.evaluators.python import PythonEvaluator

from tests.sybil_fences import (
    SNIPPET_LINE,
    FencedBlock,
    fenced_blocks,
    parse_markdown,
)

ROOT = Path(__file__).resolve().parent.parent

EXAMPLE_EVALUATORS = (PythonEvaluator, DocTestEvaluator)
PROMPT_LINE = re.compile(r"^[ \t>]*>>>", re.MULTILINE)
INVISIBLE_CODE = re.compile(r"^[ \t]*<!--+\s*invisible-code(?:-block)?\b", re.MULTILINE)
VOID_TAGS = frozenset({"area", "br", "col", "embed", "hr", "img", "input", "link", "meta", "source", "wbr"})


@dataclass(frozen=True)
class Problem:
    """One way a snippet escapes the test run."""

    path: str
    line: int | None
    message: str

    def __str__(self) -> str:
        where = f"{self.path}:{self.line}" if self.line else self.path
        return f"{where}: {self.message}"


# -- rendering ---------------------------------------------------------------


@functools.cache
def mkdocs_config() -> MkDocsConfig:
    """The validated mkdocs.yml, as ``mkdocs build`` sees it."""
    os.environ.setdefault("NO_MKDOCS_2_WARNING", "1")
    return load_config(str(ROOT / "mkdocs.yml"))


def markdown_renderer() -> markdown.Markdown:
    """A python-markdown instance with mkdocs.yml's extensions and settings."""
    config = mkdocs_config()
    extension_configs = {name: dict(conf) for name, conf in config.mdx_configs.items()}
    snippets = extension_configs.setdefault("pymdownx.snippets", {})
    # mkdocs runs from the repository root; make the guard independent of cwd.
    base = snippets.get("base_path", ["."])
    base = [base] if isinstance(base, str) else base
    snippets["base_path"] = [str((ROOT / b).resolve()) for b in base]
    return markdown.Markdown(
        extensions=list(config.markdown_extensions), extension_configs=extension_configs
    )


def render(text: str) -> str:
    """Render Markdown ``text`` to HTML the way the site does (minus plugins)."""
    return markdown_renderer().convert(text)


def site_pages() -> list[Path]:
    """Every Markdown page MkDocs builds from docs/ (honours ``exclude_docs``)."""
    config = mkdocs_config()
    return [
        Path(f.abs_src_path)
        for f in get_files(config)
        if f.is_documentation_page() and not f.inclusion.is_excluded() and f.abs_src_path
    ]


def is_python_like(language: str) -> bool:
    """Whether a fence language is highlighted as Python (code or console).

    >>> [is_python_like(x) for x in ("python", "PyCon", "ipython3", "sage", "bash", "pytb")]
    [True, True, True, True, False, False]
    """
    name = language.lower()
    try:
        lexer = type(get_lexer_by_name(name)).__name__
    except ClassNotFound:
        return bool(re.match(r"(i?py|python)", name))
    return ("Python" in lexer or "NumPy" in lexer) and "Traceback" not in lexer


@dataclass
class RenderedBlock:
    """A highlighted code block of the rendered HTML."""

    language: str
    text: str


@dataclass
class RenderedPage:
    """Code blocks and the remaining text of a rendered page."""

    blocks: list[RenderedBlock] = field(default_factory=list)
    plain_pre: list[str] = field(default_factory=list)
    outside: list[str] = field(default_factory=list)


class _CodeBlockExtractor(HTMLParser):
    """Split rendered HTML into highlighted blocks, plain <pre> and other text."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.page = RenderedPage()
        self.stack: list[str] = []
        self.block: tuple[int, str, list[str]] | None = None  # depth, language, parts
        self.pre: tuple[int, list[str]] | None = None
        self.ignore_depth: int | None = None  # line numbers, filename titles
        self.inline_code_depth: int | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in VOID_TAGS:
            return
        classes = (dict(attrs).get("class") or "").split()
        depth = len(self.stack)
        self.stack.append(tag)
        if self.ignore_depth is None and (
            "linenos" in classes or "filename" in classes or "linenodiv" in classes
        ):
            self.ignore_depth = depth
        language = next((c[len("language-") :] for c in classes if c.startswith("language-")), None)
        if self.block is None and tag in ("div", "pre") and language is not None:
            self.block = (depth, language, [])
        elif self.block is None and self.pre is None and tag == "pre":
            self.pre = (depth, [])
        elif (
            tag == "code"
            and self.block is None
            and self.pre is None
            and self.inline_code_depth is None
        ):
            self.inline_code_depth = depth

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        pass  # void elements carry no text

    def handle_endtag(self, tag: str) -> None:
        if tag in VOID_TAGS or tag not in self.stack:
            return
        while self.stack:
            popped = self.stack.pop()
            depth = len(self.stack)
            if self.ignore_depth == depth:
                self.ignore_depth = None
            if self.inline_code_depth == depth:
                self.inline_code_depth = None
            if self.block is not None and self.block[0] == depth:
                self.page.blocks.append(RenderedBlock(self.block[1], "".join(self.block[2])))
                self.block = None
            if self.pre is not None and self.pre[0] == depth:
                self.page.plain_pre.append("".join(self.pre[1]))
                self.pre = None
            if popped == tag:
                break

    def handle_data(self, data: str) -> None:
        if self.ignore_depth is not None:
            return
        if self.block is not None:
            self.block[2].append(data)
        elif self.pre is not None:
            self.pre[1].append(data)
        elif self.inline_code_depth is None:
            self.page.outside.append(data)


def rendered_code(html: str) -> RenderedPage:
    """Extract the code blocks and the other text of rendered HTML."""
    parser = _CodeBlockExtractor()
    parser.feed(html)
    parser.close()
    return parser.page


def normalize(code: str) -> str:
    """Code text compared line by line, trailing spaces and outer blank lines dropped."""
    lines = [line.rstrip() for line in code.splitlines()]
    while lines and not lines[0]:
        lines.pop(0)
    while lines and not lines[-1]:
        lines.pop()
    return "\n".join(lines)


def expected_rendering(block: FencedBlock) -> str:
    """What a collected fence looks like on the page (snippet includes expanded)."""
    if not block.is_snippet_include:
        return normalize(block.source)
    parts = []
    for line in block.source.splitlines():
        match = SNIPPET_LINE.match(line)
        if match:
            included = ROOT / match.group("name")
            parts.append(included.read_text(encoding="utf-8") if included.is_file() else line)
    return normalize("\n".join(parts))


# -- the checks --------------------------------------------------------------


def _line_of(text: str, position: int) -> int:
    return text.count("\n", 0, position) + 1


def _locate(text: str, code: str) -> int | None:
    """Line of ``text`` where the first line of ``code`` appears, if any."""
    first = next((ln.strip() for ln in code.splitlines() if ln.strip()), None)
    if first is None:
        return None
    for number, line in enumerate(text.splitlines(), start=1):
        if line.strip() == first:
            return number
    return None


def _first_line(code: str) -> str:
    first = next((ln for ln in code.splitlines() if ln.strip()), "")
    return first.strip()[:60]


def check_text(text: str, name: str, *, require_examples: bool = True) -> list[Problem]:
    """Every way the snippets of one Markdown document escape Sybil.

    Parameters
    ----------
    text
        The Markdown source.
    name
        The path reported in problems (also used as the Sybil document path).
    require_examples
        Fail when the document has no example at all (true for docs pages).
    """
    problems: list[Problem] = []

    def problem(message: str, line: int | None = None) -> None:
        problems.append(Problem(name, line, message))

    # 1. Sybil's own view: parse errors (skip without reason, overlaps) and counts.
    try:
        document = parse_markdown(text, name)
    except ValueError as error:
        problem(f"Sybil cannot parse the page: {error}")
        document = None
    fences = fenced_blocks(text)
    runnable = [b for b in fences if b.runnable]
    if (
        document is not None
        and require_examples
        and all(_is_directive(region) for _, region in document.regions)
    ):
        problem(
            "no example is collected from this page (every page must run code; "
            "if this file is not meant to be a page, exclude it with "
            "exclude_docs in mkdocs.yml)"
        )

    for block in runnable:
        if block.is_doctest and not PROMPT_LINE.search(block.source):
            problem(f"{block.language!r} block has no '>>>' prompt: nothing would run", block.line)
        if not block.is_doctest and re.search(r"^\s*>>>", block.source, re.MULTILINE):
            problem(
                "block mixes code and '>>>' prompts; start the body with '>>>' "
                "to make it a doctest",
                block.line,
            )

    # 2. The Markdown source: prompts outside run fences, hidden code.
    for match in PROMPT_LINE.finditer(text):
        if not any(b.start <= match.start() < b.end for b in runnable):
            problem("'>>>' outside a fence that Sybil runs", _line_of(text, match.start()))
    for match in INVISIBLE_CODE.finditer(text):
        if not any(b.start <= match.start() < b.end for b in fences):
            problem(
                "invisible-code-block hides code from the reader; show it in a fence",
                _line_of(text, match.start()),
            )

    # 3. The rendered page: every Python-like block must be a collected fence.
    try:
        page = rendered_code(render(text))
    except Exception as error:  # a page that does not render cannot be checked
        problem(f"rendering failed: {type(error).__name__}: {error}")
        return problems
    expected = Counter(expected_rendering(b) for b in runnable)
    for rendered in page.blocks:
        code = normalize(rendered.text)
        if expected[code] > 0:
            expected[code] -= 1
            continue
        if is_python_like(rendered.language):
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
        code = expected_rendering(block)
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


def _is_directive(region: object) -> bool:
    evaluator = getattr(region, "evaluator", None)
    return not isinstance(evaluator, EXAMPLE_EVALUATORS) and type(evaluator).__name__ != (
        "_FailingEvaluator"
    )


def check_file(path: Path, *, require_examples: bool = True) -> list[Problem]:
    """:func:`check_text` for a file, reported relative to the repository root."""
    try:
        name = path.resolve().relative_to(ROOT).as_posix()
    except ValueError:
        name = str(path)
    return check_text(path.read_text(encoding="utf-8"), name, require_examples=require_examples)


def count_examples(text: str) -> int:
    """How many Sybil examples a Markdown document has (skip directives excluded)."""
    document = parse_markdown(text)
    return sum(1 for _, region in document.regions if not _is_directive(region))


# -- the guard on the real pages --------------------------------------------


def _page_ids() -> list[Path]:
    try:
        return sorted(site_pages())
    except Exception:  # pragma: no cover - reported by test_site_pages_found
        return []


@pytest.mark.parametrize(
    "page", _page_ids(), ids=lambda p: p.relative_to(ROOT).as_posix()
)
def test_docs_page_has_no_escaped_snippet(page: Path) -> None:
    problems = check_file(page)
    assert not problems, "\n".join(map(str, problems))


def test_readme_has_no_escaped_snippet() -> None:
    problems = check_file(ROOT / "README.md")
    assert not problems, "\n".join(map(str, problems))


def test_site_pages_found() -> None:
    pages = site_pages()
    assert pages, "mkdocs finds no Markdown page under docs/"
    assert all(p.suffix == ".md" for p in pages)


def test_nav_pages_exist() -> None:
    """Every Markdown page in the nav exists (a missing page is not guarded)."""
    config = mkdocs_config()
    missing: list[str] = []

    def walk(items: object) -> None:
        if isinstance(items, list):
            for item in items:
                walk(item)
        elif isinstance(items, dict):
            for value in items.values():
                walk(value)
        elif (
            isinstance(items, str)
            and items.endswith(".md")
            and not (Path(config.docs_dir) / items).is_file()
        ):
            missing.append(items)

    walk(config.nav)
    assert not missing, f"pages in the nav but not in docs/: {missing}"


# -- the guard itself, against the known escape cases -----------------------

FENCE = "```"


def _write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "page.md"
    path.write_text(text, encoding="utf-8")
    return path


def _messages(tmp_path: Path, text: str) -> str:
    return "\n".join(map(str, check_file(_write(tmp_path, text))))


CAUGHT = {
    "indented code block with >>>": (
        "# T\n\n```python\nx = 1\n```\n\nSome text.\n\n    >>> 1 + 1\n    2\n",
        "'>>>' outside a fence",
    ),
    "bare fence with >>>": (
        f"# T\n\n{FENCE}python\nx = 1\n{FENCE}\n\n{FENCE}\n>>> 1 + 1\n2\n{FENCE}\n",
        "'>>>' in a rendered 'language-text' block",
    ),
    "text fence with >>>": (
        f"# T\n\n{FENCE}python\nx = 1\n{FENCE}\n\n{FENCE}text\n>>> 1 + 1\n2\n{FENCE}\n",
        "'>>>' outside a fence",
    ),
    "ipython fence": (
        f"# T\n\n{FENCE}python\nx = 1\n{FENCE}\n\n{FENCE}ipython\nx = 2\n{FENCE}\n",
        "'language-ipython' is not run by Sybil",
    ),
    "sage fence (highlighted as Python)": (
        f"# T\n\n{FENCE}python\nx = 1\n{FENCE}\n\n{FENCE}sage\nx = 2\n{FENCE}\n",
        "'language-sage' is not run by Sybil",
    ),
    "skip without a reason": (
        f"# T\n\n<!-- skip: next -->\n{FENCE}python\nx = 1\n{FENCE}\n",
        "has no reason",
    ),
    "skip start without a reason": (
        f"# T\n\n<!-- skip: start -->\n{FENCE}python\nx = 1\n{FENCE}\n<!-- skip: end -->\n",
        "has no reason",
    ),
    "page without examples": ("# T\n\nJust prose.\n", "no example is collected"),
    "prompt in a blockquote": (
        f"# T\n\n{FENCE}python\nx = 1\n{FENCE}\n\n> >>> 1 + 1\n> 2\n",
        "'>>>' outside a fence",
    ),
    "prompt in a tab, not fenced": (
        f'# T\n\n{FENCE}python\nx = 1\n{FENCE}\n\n=== "Tab"\n\n    >>> 1 + 1\n',
        "'>>>' outside a fence",
    ),
    "prompt in prose": (
        f"# T\n\n{FENCE}python\nx = 1\n{FENCE}\n\nType 1 + 1 after >>> and see.\n",
        "'>>>' in the rendered text",
    ),
    "python fence hidden in an HTML comment": (
        f"# T\n\n{FENCE}python\nx = 1\n{FENCE}\n\n<!--\n{FENCE}python\ny = 2\n{FENCE}\n-->\n",
        "not rendered as a code block",
    ),
    "invisible code block": (
        f"# T\n\n<!-- invisible-code-block: python\nx = 1\n-->\n\n{FENCE}python\nx\n{FENCE}\n",
        "invisible-code-block hides code",
    ),
    "pycon without prompt": (
        f"# T\n\n{FENCE}pycon\nx = 1\n{FENCE}\n",
        "has no '>>>' prompt",
    ),
    "comment before prompts": (
        f"# T\n\n{FENCE}python\n# setup\n>>> 1 + 1\n2\n{FENCE}\n",
        "mixes code and '>>>' prompts",
    ),
    "fence indented as a code block at top level": (
        f"# T\n\n{FENCE}python\nx = 1\n{FENCE}\n\nText.\n\n    {FENCE}python\n    y = 2\n    {FENCE}\n",
        "not rendered as a code block",
    ),
}


@pytest.mark.parametrize("case", sorted(CAUGHT))
def test_guard_catches_escape(tmp_path: Path, case: str) -> None:
    text, expected = CAUGHT[case]
    messages = _messages(tmp_path, text)
    assert expected in messages, f"guard missed {case!r}; it said:\n{messages}"


COLLECTED = {
    "python3 with title": (f'{FENCE}python3 title="x.py"\nx = 1\n{FENCE}\n', 1),
    "py with linenums and hl_lines": (
        f'{FENCE}py linenums="1" hl_lines="2"\nx = 1\ny = x + 1\n{FENCE}\n',
        1,
    ),
    "attribute list": (f"{FENCE} {{ .python .annotate }}\nx = 1  # (1)!\n{FENCE}\n", 1),
    "tilde pycon": ("~~~pycon\n>>> 1 + 1\n2\n>>> 2 * 3\n6\n~~~\n", 2),
    "upper-case language": (f"{FENCE}Python\nx = 1\n{FENCE}\n", 1),
    "leading space in info string": (f"{FENCE} python\nx = 1\n{FENCE}\n", 1),
    "doctest in a python fence after blank lines": (
        f"{FENCE}python\n\n>>> 1 + 1\n2\n{FENCE}\n",
        1,
    ),
    "fence in an admonition": (
        f"!!! note\n\n    {FENCE}python\n    x = 1\n    {FENCE}\n",
        1,
    ),
    "fence in collapsible details": (
        f'??? details "More"\n\n    {FENCE}pycon\n    >>> 1 + 1\n    2\n    {FENCE}\n',
        1,
    ),
    "fences in content tabs": (
        f'=== "One"\n\n    {FENCE}python\n    x = 1\n    {FENCE}\n\n'
        f'=== "Two"\n\n    {FENCE}py\n    y = 2\n    {FENCE}\n',
        2,
    ),
    "fence in a tab in an admonition": (
        f'!!! example\n\n    === "One"\n\n        {FENCE}python\n        x = 1\n        {FENCE}\n',
        1,
    ),
    "skip with a reason": (
        f'<!-- skip: next "needs a GPU" -->\n{FENCE}python\nimport cupy\n{FENCE}\n\n'
        f"{FENCE}python\nx = 1\n{FENCE}\n",
        2,
    ),
    "python fence shown inside a markdown fence": (
        f"````markdown\n{FENCE}python\nnot_run = 1\n{FENCE}\n````\n\n{FENCE}python\nx = 1\n{FENCE}\n",
        1,
    ),
    "inline code with a prompt": (
        f"The prompt is `>>>`.\n\n{FENCE}python\nx = 1\n{FENCE}\n",
        1,
    ),
}


@pytest.mark.parametrize("case", sorted(COLLECTED))
def test_guard_accepts_collected_fence(tmp_path: Path, case: str) -> None:
    body, examples = COLLECTED[case]
    text = f"# T\n\n{body}"
    messages = _messages(tmp_path, text)
    assert not messages, f"{case!r} should be collected; the guard said:\n{messages}"
    assert count_examples(text) == examples


def test_collected_fences_run(tmp_path: Path) -> None:
    """The fences the guard accepts are really executed, in one namespace."""
    text = "".join(body for body, _ in COLLECTED.values() if "cupy" not in body)
    text += f"\n{FENCE}pycon\n>>> (x, y)\n(1, 2)\n{FENCE}\n"
    document = parse_markdown(text, str(tmp_path / "page.md"))
    examples = list(document.examples())
    for example in examples:
        example.evaluate()
    assert document.namespace["y"] == 2


def test_failing_doctest_fails(tmp_path: Path) -> None:
    from sybil.example import SybilFailure

    text = f"# T\n\n{FENCE}pycon\n>>> 1 + 1\n3\n{FENCE}\n"
    (example,) = parse_markdown(text, str(tmp_path / "page.md")).examples()
    with pytest.raises(SybilFailure, match="Expected:"):
        example.evaluate()


def test_snippet_include_is_compared_with_the_file(tmp_path: Path) -> None:
    text = (
        "# T\n\n"
        '<!-- skip: next "shown, not run: pytest loads it" -->\n'
        f'{FENCE}python\n--8<-- "conftest.py"\n{FENCE}\n\n'
        f"{FENCE}python\nx = 1\n{FENCE}\n"
    )
    assert _messages(tmp_path, text) == ""


def test_stock_sybil_misses_what_we_collect() -> None:
    """The reason for the custom parser: stock Sybil 10.1 skips these fences."""
    from sybil import Document
    from sybil.parsers.markdown import PythonCodeBlockParser

    bodies = [body for body, _ in COLLECTED.values()]
    text = "# T\n\n" + "\n".join(bodies)
    stock = list(PythonCodeBlockParser()(Document(text, "page.md")))
    ours = count_examples(text)
    assert len(stock) < ours


def test_clear_namespace_is_supported(tmp_path: Path) -> None:
    text = (
        f"# T\n\n{FENCE}python\nx = 1\n{FENCE}\n\n<!-- clear-namespace -->\n\n"
        f"{FENCE}pycon\n>>> 'x' in globals()\nFalse\n{FENCE}\n"
    )
    assert _messages(tmp_path, text) == ""
    document = parse_markdown(text, str(tmp_path / "page.md"))
    for example in document.examples():
        example.evaluate()


def test_conftest_collects_every_page_readme_and_source() -> None:
    """The Sybils of the root conftest.py see every file they should, and no other."""
    import conftest

    for page in site_pages():
        assert conftest.docs_examples.should_parse(page), page
    assert conftest.readme_examples.should_parse(ROOT / "README.md")
    assert not conftest.readme_examples.should_parse(ROOT / "docs" / "sub" / "README.md")
    sources = sorted((ROOT / "src" / "im2col").glob("*.py"))
    assert sources
    assert all(conftest.docstring_examples.should_parse(p) for p in sources)
    assert not conftest.docs_examples.should_parse(ROOT / "docs" / "notebooks" / "x.py")
