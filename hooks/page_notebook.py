r"""A Markdown page of this site as a Jupyter notebook (nbformat 4).

The code cells are the blocks the site's tests run, in the order they run:
``tests/sybil_fences.py`` decides which fences those are, as it does for
Sybil. A plain Python block becomes one cell as it is; a doctest session
(``pycon``, or a body starting with ``>>>``) becomes its code without prompts
or outputs, one cell per shown result, so that running the cell shows what
the page shows; an example that expects an exception gets a cell of its own
tagged ``raises-exception``. A block after a ``skip`` directive is shown, not
run, so it stays in the prose.

The prose becomes Markdown cells: Material's admonitions, details and tabs
become bold titles, ``--8<--`` includes are resolved, ``\(...\)`` math
becomes ``$...$`` (what Jupyter renders), and relative links are made
absolute by the ``link`` function the caller gives.
"""

from __future__ import annotations

import doctest
import re
import sys
from collections.abc import Callable
from pathlib import Path

import nbformat
from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
try:
    from tests.sybil_fences import SNIPPET_LINE, FencedBlock, fenced_blocks
finally:
    sys.path.remove(str(ROOT))

SKIP_NEXT = re.compile(r"<!--\s*skip:\s*next\b[^>]*-->\s*\Z")
DIRECTIVE = re.compile(r"^<!--\s*(skip|clear-namespace)\b.*-->$")
CLEAR_NAMESPACE = re.compile(r"<!--\s*clear-namespace\s*-->")
# !!! note "Title", ??? note "Title", ???+ note, === "Tab"
CONTAINER = re.compile(r'^(?:!!!|\?\?\?\+?)\s+([\w-]+)(?:\s+[^"]*?)?(?:\s*"([^"]*)")?\s*$')
TAB = re.compile(r'^===\+?\s+"([^"]*)"\s*$')
MKDOCSTRINGS = re.compile(r"^:::\s+(\S+)\s*$")
LINK = re.compile(r"\]\(([^)\s]+)\)")
DISPLAY_MATH = re.compile(r"^\\[\[\]]$", re.MULTILINE)  # a line that is only "\[" or "\]"
INLINE_CODE = re.compile(r"(`+).+?\1", re.DOTALL)

Link = Callable[[str], str]


def page_notebook(text: str, link: Link, intro: str) -> nbformat.NotebookNode:
    """Return the notebook of one page's Markdown ``text`` (without front matter).

    ``intro`` is a Markdown cell put right after the page's title.
    """
    cells: list[nbformat.NotebookNode] = []
    prose: list[str] = []

    def flush() -> None:
        body = "\n".join(part for part in prose if part.strip()).strip()
        if body:
            cells.append(new_markdown_cell(body))
        prose.clear()

    position = 0
    for block in fenced_blocks(text, ROOT):  # --8<-- includes resolved
        before = text[position:block.start]
        position = block.end
        if CLEAR_NAMESPACE.search(before):
            flush()
            cells.append(new_code_cell("%reset -f"))
        prose.append(_prose(before, link))
        if block.runnable and not SKIP_NEXT.search(before):
            flush()
            cells.extend(_code_cells(block))
        else:
            prose.append(_fence(block))
    prose.append(_prose(text[position:], link))
    flush()
    return notebook(cells, intro)


def notebook(cells: list[nbformat.NotebookNode], intro: str) -> nbformat.NotebookNode:
    """Return a Python 3 notebook of ``cells``, with ``intro`` after the title line.

    Cell ids are numbered, so that the same page gives the same file.
    """
    if cells and cells[0].cell_type == "markdown" and cells[0].source.startswith("# "):
        title, _, rest = cells[0].source.partition("\n")
        cells[0:1] = [new_markdown_cell(title), *([new_markdown_cell(rest.strip())] if rest.strip() else [])]
        cells.insert(1, new_markdown_cell(intro))
    else:
        cells.insert(0, new_markdown_cell(intro))
    for number, cell in enumerate(cells):
        cell.id = f"cell-{number}"
    return new_notebook(
        cells=cells,
        metadata={
            "kernelspec": {"display_name": "Python 3", "language": "python", "name": "python3"},
            "language_info": {"name": "python"},
        },
    )


def _code_cells(block: FencedBlock) -> list[nbformat.NotebookNode]:
    source = block.source
    if len(block.includes) == 1 and "__file__" in source:
        # an included file that finds its folder: say where it lives, as
        # Sybil does while it runs the file (the page needs the checkout)
        source = f"__file__ = {block.includes[0]!r}\n" + source
    if not block.is_doctest:
        return [new_code_cell(source.strip("\n"))]
    cells = []
    pending: list[str] = []
    for example in doctest.DocTestParser().get_examples(source):
        if example.exc_msg is not None:
            if pending:
                cells.append(new_code_cell("".join(pending).strip("\n")))
                pending = []
            cell = new_code_cell(example.source.strip("\n"))
            cell.metadata["tags"] = ["raises-exception"]
            cells.append(cell)
            continue
        pending.append(example.source)
        if example.want:
            cells.append(new_code_cell("".join(pending).strip("\n")))
            pending = []
    if pending:
        cells.append(new_code_cell("".join(pending).strip("\n")))
    return cells


def _read(name: str) -> str:
    path = ROOT / name
    if not path.is_file():
        raise FileNotFoundError(f"--8<-- includes {name!r}, which does not exist")
    return path.read_text(encoding="utf-8")


def _fence(block: FencedBlock) -> str:
    """Return a fence shown, not run, dedented out of its container."""
    body = block.source
    longest = max((len(run) for run in re.findall(r"^\s*(`{3,})", body, re.MULTILINE)), default=2)
    fence = "`" * max(3, longest + 1)
    return f"{fence}{block.info}\n{body.rstrip()}\n{fence}\n"


def _prose(text: str, link: Link) -> str:
    lines = []
    for raw in text.splitlines():
        line = raw.strip()
        if DIRECTIVE.match(line):
            continue
        if snippet := SNIPPET_LINE.match(raw):
            lines.append(_read(snippet.group("name")))
        elif match := CONTAINER.match(line):
            lines.extend([f"**{match.group(2) or match.group(1).capitalize()}**", ""])
        elif match := TAB.match(line):
            lines.extend([f"**{match.group(1)}**", ""])
        elif match := MKDOCSTRINGS.match(line):
            name = match.group(1)
            lines.append(f"*The reference of `{name}` is on the site's API page; "
                         f"in Python: `help({name})`.*")
        else:
            lines.append(line)
    return _outside_code("\n".join(lines), lambda part: _math(_links(part, link)))


def _outside_code(text: str, change: Callable[[str], str]) -> str:
    parts, position = [], 0
    for match in INLINE_CODE.finditer(text):
        parts += [change(text[position:match.start()]), match.group(0)]
        position = match.end()
    return "".join([*parts, change(text[position:])])


def _math(text: str) -> str:
    text = DISPLAY_MATH.sub("$$", text)
    return text.replace("\\(", "$").replace("\\)", "$")


def _links(text: str, link: Link) -> str:
    return LINK.sub(lambda match: f"]({link(match.group(1))})", text)


def markdown_cells_links(nb: nbformat.NotebookNode, link: Link) -> None:
    """Make the relative links of ``nb``'s Markdown cells absolute, in place."""
    for cell in nb.cells:
        if cell.cell_type == "markdown":
            cell.source = _outside_code(cell.source, lambda part: _links(part, link))
