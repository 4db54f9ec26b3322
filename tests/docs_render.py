"""Render a Markdown page as the MkDocs site does and list its code blocks.

The page is converted by python-markdown with the ``markdown_extensions`` of
``mkdocs.yml`` (loaded with MkDocs's own config loader, next to this folder's
parent). With ``pygments_lang_class: true`` every highlighted block carries
its language as a class (``language-python``, ``language-pycon``, ...), which
is what the guard (``docs_guard.py``) reads.
"""

from __future__ import annotations

import functools
import os
import re
from dataclasses import dataclass, field
from html.parser import HTMLParser
from pathlib import Path

import markdown
from mkdocs.config import load_config
from mkdocs.config.defaults import MkDocsConfig
from mkdocs.structure.files import get_files
from pygments.lexers import get_lexer_by_name
from pygments.util import ClassNotFound

from tests.sybil_fences import ROOT

VOID_TAGS = frozenset(
    {"area", "br", "col", "embed", "hr", "img", "input", "link", "meta", "source", "wbr"}
)


@functools.cache
def mkdocs_config() -> MkDocsConfig:
    """The validated mkdocs.yml, as ``mkdocs build`` sees it."""
    os.environ.setdefault("NO_MKDOCS_2_WARNING", "1")
    return load_config(str(ROOT / "mkdocs.yml"))


def nav_pages() -> dict[str, str]:
    """Every page of mkdocs.yml's ``nav``, by its path under docs/, with its nav title."""
    pages: dict[str, str] = {}

    def walk(item: object, title: str = "") -> None:
        if isinstance(item, list):
            for entry in item:
                walk(entry)
        elif isinstance(item, dict):
            for key, value in item.items():
                walk(value, key)
        elif isinstance(item, str):
            pages[item] = title

    walk(mkdocs_config().nav)
    return pages


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
        lexer = get_lexer_by_name(name).name  # "Python", "Python console session", ...
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


