"""The fence parsers: what they run, in which namespace, at which line."""

from __future__ import annotations

from pathlib import Path

import pytest
from sybil import Document, Sybil
from sybil.example import SybilFailure
from sybil.parsers.markdown import PythonCodeBlockParser
from sybil.parsers.markdown.lexers import RawFencedCodeBlockLexer
from sybil.testing import check_lexer, check_parser

from tests.docs_render import ROOT
from tests.sybil_fences import (
    ANY_INFO,
    PythonFenceParser,
    count_examples,
    fenced_blocks,
    markdown_parsers,
    parse_markdown,
)

FENCE = "```"
ACCEPTED = sorted((Path(__file__).parent / "samples" / "accept").glob("*.md"))


def test_lexer_keeps_the_whole_info_string() -> None:
    text = f'!!! note\n\n    {FENCE}python title="a.py"\n    x = 1\n    {FENCE}\n'
    check_lexer(
        RawFencedCodeBlockLexer(info_pattern=ANY_INFO),
        text,
        text[len("!!! note\n\n") : -1],  # from the indent to the closing fence
        {"info": 'python title="a.py"', "source": "x = 1\n"},
    )


def test_one_fence_runs() -> None:
    document = check_parser(PythonFenceParser(ROOT), f'{FENCE}py title="a.py"\nx = 6 * 7\n{FENCE}\n')
    assert document.namespace["x"] == 42


def test_blocks_run_in_order_in_one_namespace() -> None:
    text = (
        f"!!! note\n\n    {FENCE}python\n    x = 1\n    {FENCE}\n\n"
        f'=== "Tab"\n\n    {FENCE}pycon\n    >>> y = x + 1\n    {FENCE}\n\n'
        f"{FENCE}pycon\n>>> (x, y)\n(1, 2)\n{FENCE}\n"
    )
    document = parse_markdown(text, "page.md")
    for example in document.examples():
        example.evaluate()
    assert document.namespace["y"] == 2


def test_fence_shown_inside_a_longer_fence_is_text() -> None:
    text = f"````markdown\n{FENCE}python\nraise SystemExit\n{FENCE}\n````\n"
    assert [b.language for b in fenced_blocks(text)] == ["markdown"]
    assert count_examples(text) == 0


def test_failing_doctest_fails() -> None:
    (example,) = parse_markdown(f"{FENCE}pycon\n>>> 1 + 1\n3\n{FENCE}\n", "p.md").examples()
    with pytest.raises(SybilFailure, match="Expected:"):
        example.evaluate()


def test_doctest_line_in_an_indented_fence() -> None:
    """Each ``>>>`` is reported at its own line, also inside an admonition."""
    session = "".join(f"    >>> v{i} = {i}\n" for i in range(6)) + "    >>> 1 + 1\n    3\n"
    text = f"# T\n\n!!! note\n\n    {FENCE}pycon\n{session}    {FENCE}\n"
    examples = list(parse_markdown(text, "p.md").examples())
    assert [e.line for e in examples] == list(range(6, 13))
    assert text.splitlines()[examples[-1].line - 1] == "    >>> 1 + 1"


def test_included_file_runs() -> None:
    text = f'{FENCE}python\n--8<-- "tests/samples/included.py"\n{FENCE}\n'
    document = check_parser(PythonFenceParser(ROOT), text)
    assert document.namespace["included"] == "ran"


def test_missing_include_is_an_error() -> None:
    with pytest.raises(ValueError, match="no such file"):
        parse_markdown(f'{FENCE}python\n--8<-- "nowhere.py"\n{FENCE}\n', "p.md", ROOT)


def test_skip_without_reason_is_an_error() -> None:
    with pytest.raises(ValueError, match="has no reason"):
        parse_markdown(f"<!-- skip: next -->\n{FENCE}python\nx = 1\n{FENCE}\n", "p.md")


def test_clear_namespace() -> None:
    text = (
        f"{FENCE}python\nx = 1\n{FENCE}\n\n<!-- clear-namespace -->\n\n"
        f"{FENCE}pycon\n>>> 'x' in globals()\nFalse\n{FENCE}\n"
    )
    for example in parse_markdown(text, "p.md").examples():
        example.evaluate()


def test_stock_sybil_misses_what_we_collect() -> None:
    """Why the parser exists: stock Sybil 10.1 runs fewer of the accepted fences."""
    text = "\n".join(p.read_text(encoding="utf-8") for p in ACCEPTED)
    stock = list(PythonCodeBlockParser()(Document(text, "page.md")))
    assert len(stock) < count_examples(text, ROOT)


def test_sybil_reads_a_page_with_these_parsers(tmp_path: Path) -> None:
    page = tmp_path / "page.md"
    page.write_text(f"# T\n\n{FENCE}pycon\n>>> 2 * 21\n42\n{FENCE}\n", encoding="utf-8")
    sybil = Sybil(parsers=markdown_parsers(ROOT), path=str(tmp_path), patterns=["*.md"])
    (example,) = sybil.parse(page).examples()
    example.evaluate()


def test_readme_has_no_escaped_snippet() -> None:
    """This site's conftest.py also runs README.md, so the guard checks it too."""
    from tests.docs_guard import check_file

    problems = check_file(ROOT / "README.md")
    assert not problems, "\n".join(map(str, problems))


def test_conftest_collects_every_page_readme_and_source() -> None:
    """The Sybils of the root conftest.py see every file they should, and no other."""
    import conftest
    from tests.docs_render import site_pages

    for page in site_pages():
        assert conftest.docs_examples.should_parse(page), page
    assert conftest.readme_examples.should_parse(ROOT / "README.md")
    assert not conftest.readme_examples.should_parse(ROOT / "docs" / "sub" / "README.md")
    sources = sorted((ROOT / "src" / "im2col").glob("*.py"))
    assert sources
    assert all(conftest.docstring_examples.should_parse(p) for p in sources)
    assert not conftest.docs_examples.should_parse(ROOT / "docs" / "notebooks" / "x.py")


def test_docstring_examples_of_the_recipe_files_run() -> None:
    import doctest

    from tests import docs_render, sybil_fences

    for module in (sybil_fences, docs_render):
        result = doctest.testmod(module, optionflags=sybil_fences.DOCTEST_FLAGS)
        assert result.attempted > 0, module.__name__
        assert result.failed == 0, module.__name__
