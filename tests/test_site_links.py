"""Every link inside the built site leads somewhere.

Over every HTML page of the strict build (the notebook pages included), each
internal ``href`` or ``src`` names a file of the site, and each ``#fragment``,
the table of contents' links included, is an ``id`` (or ``name``) of the page
it points into; each entry of a page's table of contents reads as its heading
does. MkDocs checks the links of Markdown pages, not those of the notebook
pages (a ``../page/`` written in a notebook is served one folder deeper than
in Markdown), nor the table of contents a notebook's headings make (there a
heading's inline code is dropped, and its link misses the heading's ``id``).

Links off the site's host are not followed (the site makes no request off its
own host; the browser tests check that), and the search index is no page.
"""

from __future__ import annotations

import posixpath
from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import unquote, urljoin, urlsplit

import pytest

#: Attributes that hold a URL the browser follows or loads.
URL_ATTRIBUTES = ("href", "src")
#: Schemes of URLs that name no file.
NO_FILE = ("data", "mailto", "javascript", "blob", "tel")
#: Files not walked: the search index is data, and vendored files are not
#: the site's own pages.
SKIPPED = ("search/", "assets/vendor/")
HEADINGS = ("h1", "h2", "h3", "h4", "h5", "h6")
#: Classes of the permalink a heading ends with ("¶"), Markdown's and
#: mkdocs-jupyter's.
PERMALINKS = {"headerlink", "anchor-link"}
#: Classes of the headings of the API reference, whose table of contents
#: names each object without its module and kind, as mkdocstrings does.
NAMED_BY_API = {"doc-heading"}


class Page(HTMLParser):
    """The ids, the linked URLs, the headings and the table of contents of
    one HTML page."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.ids: set[str] = set()
        self.urls: list[str] = []
        self.canonical: str | None = None
        self.headings: dict[str, str] = {}      # id -> text (not the API's)
        self.api_headings: set[str] = set()     # ids of the API's headings
        self.toc: list[tuple[str, str]] = []    # (href, text) of its entries
        self._heading: tuple[str, str, list[str]] | None = None   # tag, id, text
        self._toc_entry: tuple[str, list[str]] | None = None      # href, text
        self._permalink = 0                     # depth inside a heading's permalink

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        values = {name: value for name, value in attrs if value is not None}
        classes = set(values.get("class", "").split())
        for name in ("id", "name") if tag == "a" else ("id",):
            if name in values:
                self.ids.add(values[name])
        if tag == "link" and values.get("rel") == "canonical":
            self.canonical = values.get("href")
            return
        self.urls += [values[name] for name in URL_ATTRIBUTES if name in values]
        if tag in HEADINGS and "id" in values:
            if classes & NAMED_BY_API:
                self.api_headings.add(values["id"])
            else:
                self._heading = (tag, values["id"], [])
        elif self._heading and tag == "a" and classes & PERMALINKS:
            self._permalink = 1
        elif self._permalink:
            self._permalink += 1
        if (tag == "a" and "md-nav__link" in classes
                and values.get("href", "").startswith("#")):
            self._toc_entry = (values["href"], [])

    def handle_endtag(self, tag: str) -> None:
        if self._permalink:
            self._permalink -= 1
        elif self._heading and tag == self._heading[0]:
            _, ident, text = self._heading
            self.headings[ident] = " ".join("".join(text).split())
            self._heading = None
        if self._toc_entry and tag == "a":
            href, text = self._toc_entry
            self.toc.append((href, " ".join("".join(text).split())))
            self._toc_entry = None

    def handle_data(self, data: str) -> None:
        if self._heading and not self._permalink:
            self._heading[2].append(data)
        if self._toc_entry:
            self._toc_entry[1].append(data)


def parse(path: Path) -> Page:
    page = Page()
    page.feed(path.read_text(encoding="utf-8"))
    page.close()
    return page


@pytest.fixture(scope="module")
def pages(built_site: Path) -> dict[str, Page]:
    """Every HTML page of the built site, by its path from the site's root."""
    found = {p.relative_to(built_site).as_posix(): p for p in built_site.rglob("*.html")}
    return {name: parse(path) for name, path in sorted(found.items())
            if not name.startswith(SKIPPED)}


@pytest.fixture(scope="module")
def site_url(pages: dict[str, Page]) -> str:
    """The address the site is built for (its home page's canonical link)."""
    url = pages["index.html"].canonical
    assert url, "the home page has no canonical link"
    return url


def target(page: str, url: str, site_url: str) -> tuple[str, str] | None:
    """The file (a path from the site's root) and the fragment that a link
    on ``page`` points to; None for a link off the site or to no file."""
    parts = urlsplit(url)
    site = urlsplit(site_url)
    if parts.scheme in NO_FILE:
        return None
    if parts.scheme or parts.netloc:
        if (parts.scheme or site.scheme, parts.netloc) != (site.scheme, site.netloc):
            return None                                   # off the site's host
        url = urlsplit(url)._replace(scheme="", netloc="").geturl()
    if url.startswith("/"):                               # from the host's root
        root = site.path.rstrip("/") + "/"
        if not (url + "/").startswith(root):
            return (url, parts.fragment)                  # outside the site: broken
        url = "/" + url[len(root):]
    path = unquote(urlsplit(urljoin("/" + page, url)).path)
    if path.endswith("/") or path.endswith("/."):
        path += "/index.html"
    path = posixpath.normpath(path).lstrip("/")
    return path, unquote(parts.fragment)


def links(pages: dict[str, Page], site_url: str) -> list[tuple[str, str, str, str]]:
    """(page, the URL as written, its file, its fragment) of every internal link."""
    out = []
    for name, page in pages.items():
        for url in page.urls:
            found = target(name, url, site_url)
            if found is not None:
                out.append((name, url, *found))
    return out


def test_the_walk_sees_the_pages_and_their_links(
    pages: dict[str, Page], site_url: str
) -> None:
    assert {"index.html", "404.html", "notebooks/speed/index.html",
            "notebooks/memory/index.html", "notebooks/winograd/index.html",
            "notebooks/diagrams/index.html"} <= set(pages)
    assert target("notebooks/speed/index.html", "../strip/", site_url) == (
        "notebooks/strip/index.html", "")
    assert target("notebooks/speed/index.html", "../../strip/#x", site_url) == (
        "strip/index.html", "x")
    assert target("a/index.html", "https://numpy.org/doc/", site_url) is None
    found = links(pages, site_url)
    assert len(found) > 1000, "too few links: is the parser reading the pages?"
    notebook = [f for f in found if f[0] == "notebooks/speed/index.html" and f[3]]
    assert notebook, "no link with a fragment found on a notebook page"


def test_every_internal_link_names_a_file_of_the_site(
    built_site: Path, pages: dict[str, Page], site_url: str
) -> None:
    broken = sorted({f"{page}: {url} -> {path}"
                     for page, url, path, _ in links(pages, site_url)
                     if not (built_site / path).is_file()})
    assert not broken, "links to no file of the built site:\n" + "\n".join(broken)


def test_every_fragment_is_an_id_of_its_page(
    built_site: Path, pages: dict[str, Page], site_url: str
) -> None:
    broken = set()
    for page, url, path, fragment in links(pages, site_url):
        if not fragment or path not in pages:
            continue          # no fragment, not an HTML page, or no file (the test above)
        if fragment not in pages[path].ids:
            broken.add(f"{page}: {url} (no id {fragment!r} in {path})")
    assert not broken, "links to an anchor that does not exist:\n" + "\n".join(sorted(broken))


def test_every_table_of_contents_entry_reads_as_its_heading(pages: dict[str, Page]) -> None:
    checked, wrong = 0, set()
    for name, page in pages.items():
        for href, text in page.toc:
            ident = unquote(href[1:])
            if ident in page.api_headings:
                continue
            checked += 1
            heading = page.headings.get(ident)
            if heading is None and text not in page.headings.values():
                wrong.add(f"{name}: {href} reads {text!r}, the text of no heading")
            elif heading is not None and text != heading:
                wrong.add(f"{name}: {href} reads {text!r}, its heading {heading!r}")
    assert checked > 100, "too few table-of-contents entries found"
    assert not wrong, "table-of-contents entries unlike their headings:\n" + "\n".join(
        sorted(wrong))
