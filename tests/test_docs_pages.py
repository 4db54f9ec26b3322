"""The guard over the real pages: no Python on the site escapes the Sybil run."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.docs_guard import check_file
from tests.docs_render import ROOT, mkdocs_config, nav_pages, site_pages


@pytest.mark.parametrize("page", sorted(site_pages()), ids=lambda p: p.relative_to(ROOT).as_posix())
def test_page_has_no_escaped_snippet(page: Path) -> None:
    problems = check_file(page)
    assert not problems, "\n".join(map(str, problems))


def test_site_has_pages() -> None:
    pages = site_pages()
    assert pages, "mkdocs finds no Markdown page under docs/"
    assert all(p.suffix == ".md" for p in pages)


def test_nav_pages_exist() -> None:
    """Every Markdown page in the nav exists (a missing page is not guarded)."""
    docs = Path(mkdocs_config().docs_dir)
    missing = [page for page in nav_pages()
               if page.endswith(".md") and not (docs / page).is_file()]
    assert not missing, f"pages in the nav but not in docs/: {missing}"


def test_home_page_lists_every_page_by_its_nav_title() -> None:
    """The home page's "Every page" list links every page of the nav (but
    itself), with the title the nav gives it."""
    import re

    config = mkdocs_config()
    pages = {page: title for page, title in nav_pages().items() if page != "index.md"}
    text = (Path(config.docs_dir) / "index.md").read_text().split("## Every page", 1)[1]
    listed = {path: re.sub(r"\\(.)", r"\1", title)
              for title, path in re.findall(r"\[((?:[^\]\\]|\\.)+)\]\(([^)#]+)\)", text)}
    assert {p: listed.get(p) for p in pages} == pages
