"""MkDocs hook: the package and every page as downloads, and how to run them.

At every build:

- a wheel of ``src/`` is built with PyPA ``build`` (from a copy of the
  sources, so the checkout gets no ``build/`` or ``*.egg-info``) and served
  as ``download/<wheel file name>``;
- every page is written as a Jupyter notebook, ``download/<page>.ipynb``: a
  Markdown page by ``page_notebook.py``, a jupytext notebook page
  (``docs/notebooks/*.py``) by jupytext, without outputs;
- every page gets a note with the install line (``pip install`` of the wheel's
  address under ``site_url``, then what the page needs) and the link to its
  notebook; ``docs/run.md`` gets the line and the table of every page's needs
  in place of its ``<!-- install-line -->`` and ``<!-- page-needs -->`` (and the
  Python and NumPy it is built with in place of ``<!-- built-with -->``), and
  any other page its own line in place of an ``<!-- install-line -->``.

What a page needs besides NumPy and im2col is written in one place,
``extra.page_needs`` of ``mkdocs.yml``: distribution names, pinned here to the
versions the site is built (and its notebooks tested) with, or ``checkout``
for a page that imports the repository's own code. The note is excluded from
the site's search index (``data-search-exclude``): the run page answers
"how do I install it".
"""

from __future__ import annotations

import importlib.metadata
import platform
import posixpath
import re
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path
from urllib.parse import urljoin

import jupytext
import markdown
import nbformat
from mkdocs.config.defaults import MkDocsConfig
from mkdocs.exceptions import PluginError
from mkdocs.structure.files import File, Files
from mkdocs.structure.pages import Page
from mkdocs.utils.meta import get_data
from page_notebook import Link, markdown_cells_links, notebook, page_notebook

ROOT = Path(__file__).resolve().parent.parent
DOWNLOADS = "download"
CHECKOUT = "checkout"
RUN_PAGE = "run.md"
ABSOLUTE = re.compile(r"^(?:[a-z][a-z0-9+.-]*:|/|#)", re.IGNORECASE)
H2 = re.compile(r"<h2[\s>]")

_wheel: dict[str, bytes] = {}  # file name -> contents, built once per build


def on_pre_build(config: MkDocsConfig) -> None:
    """Build the wheel of ``src/``."""
    _wheel.clear()
    name, contents = build_wheel()
    _wheel[name] = contents


def build_wheel() -> tuple[str, bytes]:
    """Build a wheel of the package from a copy of its sources; (name, bytes)."""
    with tempfile.TemporaryDirectory() as tmp:
        source, out = Path(tmp, "source"), Path(tmp, "dist")
        shutil.copytree(
            ROOT / "src", source / "src",
            ignore=shutil.ignore_patterns("__pycache__", "*.egg-info"),
        )
        for name in ("pyproject.toml", "README.md"):
            shutil.copy2(ROOT / name, source / name)
        command = [sys.executable, "-m", "build", "--wheel", "--no-isolation",
                   "--outdir", str(out), str(source)]
        proc = subprocess.run(command, capture_output=True, text=True, check=False)
        wheels = sorted(out.glob("*.whl"))
        if proc.returncode != 0 or len(wheels) != 1:
            raise PluginError(f"building the wheel failed:\n{proc.stdout}\n{proc.stderr}")
        return wheels[0].name, wheels[0].read_bytes()


def wheel_url(config: MkDocsConfig) -> str:
    """Return the address of the wheel on the built site."""
    if not config.site_url:
        raise PluginError("site_url is not set: the install line needs the site's address")
    (name,) = _wheel
    return f"{config.site_url}{DOWNLOADS}/{name}"


def needs(config: MkDocsConfig, src_uri: str) -> list[str]:
    """Return what the page needs besides NumPy and im2col (``extra.page_needs``)."""
    return list(config.extra.get("page_needs", {}).get(src_uri, []))


def install_line(config: MkDocsConfig, src_uri: str | None = None) -> str:
    """Return the ``pip install`` line of the wheel and of the page's needs, pinned."""
    packages = [_pinned(name) for name in needs(config, src_uri or "") if name != CHECKOUT]
    return " ".join(["pip install", wheel_url(config), *packages])


def _pinned(name: str) -> str:
    try:
        version = importlib.metadata.version(name)
    except importlib.metadata.PackageNotFoundError:
        raise PluginError(f"extra.page_needs names {name!r}, which is not installed") from None
    return f"{name}=={version.split('+')[0]}"  # 2.13.0+cpu: pip's 2.13.0 is the same


def notebook_uri(src_uri: str) -> str:
    """Return where the notebook of a page is in the site."""
    return f"{DOWNLOADS}/{posixpath.splitext(src_uri)[0]}.ipynb"


def note(config: MkDocsConfig, src_uri: str, notebook_link: str | None, run_link: str) -> str:
    """Return the Markdown of the note: install line, what else, links."""
    lines = [_bash(install_line(config, src_uri)), ""]
    if CHECKOUT in needs(config, src_uri):
        lines += ["This page also imports the repository's own code: run it from the "
                  "root folder of a clone of the repository.", ""]
    links = []
    if notebook_link is not None:
        name = posixpath.basename(notebook_link)
        links.append(f'[Download this page as a notebook]({notebook_link}){{ download="{name}" }}')
    links.append(f"[How do I run this code myself?]({run_link})")
    return "\n".join([*lines, " · ".join(links)])


def on_files(files: Files, config: MkDocsConfig) -> Files:
    """Add the wheel and every page's notebook to the site."""
    pages = list(files.documentation_pages())
    unknown = set(config.extra.get("page_needs", {})) - {file.src_uri for file in pages}
    if unknown:
        raise PluginError(f"extra.page_needs names pages that do not exist: {sorted(unknown)}")
    ((name, contents),) = _wheel.items()
    files.append(File.generated(config, f"{DOWNLOADS}/{name}", content=contents))
    run = files.get_file_from_path(RUN_PAGE)
    run_url = urljoin(config.site_url or "", run.url if run else "")
    for file in pages:
        link = _absolute_link(file, files, config)
        intro = ("**Run this notebook yourself:** install the package from the site "
                 "and what this page needs, then run the cells in order.\n\n"
                 + note(config, file.src_uri, None, run_url))
        if file.src_uri.endswith(".md"):
            text, _ = get_data(Path(file.abs_src_path).read_text(encoding="utf-8"))  # type: ignore[arg-type]
            nb = page_notebook(fill_markers(text, config, file.src_uri), link, intro)
        else:
            nb = _jupytext_notebook(Path(file.abs_src_path), link, intro)  # type: ignore[arg-type]
        files.append(File.generated(config, notebook_uri(file.src_uri), content=nbformat.writes(nb)))
    return files


def _jupytext_notebook(path: Path, link: Link, intro: str) -> nbformat.NotebookNode:
    nb = jupytext.read(path)
    nb.metadata.pop("jupytext", None)
    markdown_cells_links(nb, link)
    return notebook(nb.cells, intro)


def _absolute_link(file: File, files: Files, config: MkDocsConfig) -> Link:
    """Return a function that makes a page's relative links absolute (for its notebook)."""
    site = config.site_url or ""
    page_url = urljoin(site, file.url)

    def link(href: str) -> str:
        if ABSOLUTE.match(href):
            return href
        path, hash_, anchor = href.partition("#")
        if file.src_uri.endswith(".md") and path:
            target = files.get_file_from_path(
                posixpath.normpath(posixpath.join(posixpath.dirname(file.src_uri), path)))
            if target is not None:
                return urljoin(site, target.url) + hash_ + anchor
        return urljoin(page_url, href)

    return link


def nav_titles(items: object) -> dict[str, str]:
    """Return each page's title in the ``nav`` of mkdocs.yml (its question), by src_uri."""
    titles: dict[str, str] = {}
    for item in items if isinstance(items, list) else []:
        for title, value in item.items() if isinstance(item, dict) else []:
            if isinstance(value, str):
                titles[value] = title
            else:
                titles.update(nav_titles(value))
    return titles


def on_page_markdown(markdown_text: str, page: Page, config: MkDocsConfig, files: Files) -> str:
    """Fill the page's markers (:func:`fill_markers`)."""
    return fill_markers(markdown_text, config, page.file.src_uri)


def fill_markers(markdown_text: str, config: MkDocsConfig, src_uri: str) -> str:
    """Fill the markers of docs/run.md, or another page's install line."""
    if src_uri == RUN_PAGE:
        return run_page(markdown_text, config)
    return _fill(markdown_text, "install-line", _bash(install_line(config, src_uri)))[0]


def _bash(line: str) -> str:
    """``line`` as a fenced bash block."""
    return "\n".join(["```bash", line, "```"])


def _fill(markdown_text: str, marker: str, text: str) -> tuple[str, int]:
    """Put ``text`` in place of each ``<!-- marker -->`` line, at its indent; and how many."""
    pattern = re.compile(rf"^([ \t]*)<!-- {marker} -->[ \t]*$", re.MULTILINE)
    return pattern.subn(
        lambda match: "\n".join(match.group(1) + row for row in text.splitlines()),
        markdown_text)


def run_page(markdown_text: str, config: MkDocsConfig) -> str:
    """Fill docs/run.md's install line, table of every page's needs and build versions."""
    line = _bash(install_line(config))
    rows = ["| Page | Install also | Notebook |", "|---|---|---|"]
    for src_uri, title in nav_titles(config.nav).items():
        also = [f"`{_pinned(n)}`" for n in needs(config, src_uri) if n != CHECKOUT]
        if CHECKOUT in needs(config, src_uri):
            also.append("a clone of the repository")
        nb = notebook_uri(src_uri)
        rows.append(f"| [{title}]({src_uri}) | {', '.join(also) or 'nothing'} "
                    f"| [{posixpath.relpath(nb, DOWNLOADS)}]({nb}) |")
    built = (f"Python {platform.python_version()} and NumPy "
             f"{importlib.metadata.version('numpy')}")
    for marker, text in (("install-line", line), ("page-needs", "\n".join(rows)),
                         ("built-with", built)):
        markdown_text, found = _fill(markdown_text, marker, text)
        if not found:
            raise PluginError(f"{RUN_PAGE} has no <!-- {marker} --> line")
    return markdown_text


def on_page_content(html: str, page: Page, config: MkDocsConfig, files: Files) -> str:
    """Put the note on the page, at the end of its opening section.

    A notebook page has no front matter: its search ``boost`` (Material's
    ``search: boost:``) comes from ``extra.search_boost`` in mkdocs.yml.
    """
    boost = (config.extra.get("search_boost") or {}).get(page.file.src_uri)
    if boost is not None:
        page.meta["search"] = {**(page.meta.get("search") or {}), "boost": boost}
    nb = files.get_file_from_path(notebook_uri(page.file.src_uri))
    run = files.get_file_from_path(RUN_PAGE)
    text = note(
        config, page.file.src_uri,
        nb.url_relative_to(page.file) if nb else None,
        run.url_relative_to(page.file) if run else RUN_PAGE,
    )
    body = "\n".join("    " + line if line else "" for line in text.splitlines())
    # No line anchors: their ids would repeat those of the page's own blocks.
    highlight = {**config.mdx_configs.get("pymdownx.highlight", {}), "anchor_linenums": False}
    rendered = markdown.markdown(
        f'!!! info "Run this page yourself"\n\n{body}\n',
        extensions=config.markdown_extensions,
        extension_configs={**config.mdx_configs, "pymdownx.highlight": highlight},
    )
    # A <section>, not a <div>: Material's search index compares elements by
    # tag, so the first inner </div> would end the exclusion.
    block = f'<section class="run-note" id="run-this-page" data-search-exclude>\n{rendered}\n</section>\n'
    match = H2.search(html)
    return html[:match.start()] + block + html[match.start():] if match else html + block
