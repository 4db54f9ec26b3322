"""Found by a reader's words: the site's own search box finds the answering page.

Each phrasing of tests/browser/search_cases.py is typed into Material's search
box (the real UI: focus the input, type key by key, wait for the results) on
one page kept open for the module; the page that answers it must be among the
first three results. A case whose page does not exist yet is skipped.
"""

from __future__ import annotations

import urllib.parse
from collections.abc import Iterator
from typing import Any

import pytest

from tests.browser.conftest import ROOT, PageLog
from tests.browser.search_cases import SEARCH_CASES, SearchCase

pytestmark = pytest.mark.browser

TOP = 3
INPUT = "input.md-search__input"

#: The result list once Material's search worker has answered the query typed.
RESULTS = """(query) => {
    const input = document.querySelector("input.md-search__input");
    const meta = document.querySelector(".md-search-result__meta");
    if (input.value !== query || !meta || !/match/i.test(meta.textContent)) return null;
    // One item per page: its first link is the page (or its best section).
    const items = [...document.querySelectorAll(".md-search-result__list > .md-search-result__item")];
    return {meta: meta.textContent.trim(), results: items.map(item => {
        const a = item.querySelector("a.md-search-result__link");
        return {href: a.href, title: a.querySelector("h1, h2")?.textContent.trim()};
    })};
}"""


@pytest.fixture(scope="module")
def search_page(browser: Any, site_url: str) -> Iterator[tuple[Any, PageLog]]:
    """The home page, its search index loaded."""
    context = browser.new_context(viewport={"width": 1280, "height": 900}, base_url=site_url)
    page = context.new_page()
    log = PageLog()
    log.attach(page)
    page.goto(site_url, wait_until="networkidle")
    try:
        yield page, log
    finally:
        context.close()


def search(page: Any, query: str) -> dict[str, Any]:
    """Type ``query`` into the search box as a reader does; return what it lists."""
    box = page.locator(INPUT)
    box.click()
    box.fill("")
    box.press_sequentially(query, delay=20)
    previous = None
    # The list is redrawn as each key arrives: read it until it stops changing.
    for _ in range(50):
        handle = page.wait_for_function(RESULTS, arg=query, timeout=10_000)
        found = handle.json_value()
        if found == previous:
            return found
        previous = found
        page.wait_for_timeout(150)
    raise AssertionError(f"the results for {query!r} never settled")


def page_of(href: str, site_url: str) -> str:
    path = urllib.parse.urlsplit(href).path
    return path.removeprefix(urllib.parse.urlsplit(site_url).path)


@pytest.mark.parametrize("case", [
    pytest.param(case, id=case.id, marks=[pytest.mark.xfail(reason=case.known_miss)]
                 if case.known_miss else [])
    for case in SEARCH_CASES])
def test_search_finds_the_answer(case: SearchCase, search_page: tuple[Any, PageLog],
                                 site_url: str) -> None:
    """The answering page is among the first three results of the reader's words."""
    if not (ROOT / "docs" / case.source).exists():
        pytest.skip(f"docs/{case.source} does not exist yet; this case passes once it does")
    page, log = search_page
    found = search(page, case.query)
    pages = [page_of(r["href"], site_url) for r in found["results"]]
    top = [f"{p or '/'} ({r['title']})" for p, r in zip(pages, found["results"], strict=True)][:TOP]
    assert case.page in pages[:TOP], (
        f"search for {case.query!r} ({found['meta']}): expected {case.page} "
        f"among the first {TOP}, got {top}")
    assert not log.take()


def test_there_are_enough_phrasings() -> None:
    """At least 30 phrasings, each once, each expecting a page of the site."""
    queries = [case.query.lower() for case in SEARCH_CASES]
    assert len(queries) >= 30
    assert len(set(queries)) == len(queries)
    nav = (ROOT / "mkdocs.yml").read_text(encoding="utf-8")
    pending = {"pooling.md", "run.md"}
    unknown = [c.source for c in SEARCH_CASES if c.source not in nav and c.source not in pending]
    assert not unknown, unknown
