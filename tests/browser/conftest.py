"""Fixtures of the browser tests: the built site on 127.0.0.1 and one Chromium.

- ``site_url``: the ``built_site`` fixture's directory (tests/conftest.py,
  ``mkdocs build --strict``) served by ``http.server`` on a free port of
  127.0.0.1, in a thread, for the whole session.
- ``browser``: Debian's Chromium (``/usr/bin/chromium``) through Playwright's
  sync API, one per session. Missing Chromium is a failure, not a skip:
  ``make test`` installs it (Makefile target ``chromium``).
- ``open_page``: a new browser context and page with a :class:`PageLog` that
  records console errors, page errors, failed requests (including HTTP
  errors) and every request that leaves 127.0.0.1.
- ``explorer_cases``: the case table from the package (tests/browser/cases.py),
  also written to test-artifacts/explorer-cases.json.
"""

from __future__ import annotations

import functools
import http.server
import json
import shutil
import threading
import urllib.parse
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from tests.browser.cases import explorer_cases as make_explorer_cases

ROOT = Path(__file__).resolve().parents[2]
ARTIFACTS = ROOT / "test-artifacts"
CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic",
    "--disable-background-networking", "--disable-component-update",
    "--disable-sync", "--no-first-run",
]
#: URL schemes that never touch the network.
LOCAL_SCHEMES = {"data", "blob", "about"}
HOST = "127.0.0.1"


class _QuietHandler(http.server.SimpleHTTPRequestHandler):
    """Static files, without a log line per request."""

    def log_message(self, format: str, *args: Any) -> None:
        pass


@pytest.fixture(scope="session")
def artifacts() -> Path:
    ARTIFACTS.mkdir(exist_ok=True)
    return ARTIFACTS


@pytest.fixture(scope="session")
def site_dir(built_site: Path) -> Path:
    """The strictly built site (tests/conftest.py builds it once per session)."""
    return built_site


@pytest.fixture(scope="session")
def site_url(site_dir: Path) -> Iterator[str]:
    handler = functools.partial(_QuietHandler, directory=str(site_dir))
    server = http.server.ThreadingHTTPServer((HOST, 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://{HOST}:{server.server_address[1]}/"
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)


@pytest.fixture(scope="session")
def browser() -> Iterator[Any]:
    if not CHROMIUM.exists():
        found = shutil.which("chromium")
        pytest.fail(
            f"{CHROMIUM} not found{f' (there is {found})' if found else ''}: the "
            "browser tests need Debian's chromium and do not skip without it. "
            "Install it with `make chromium` (apt-get install -y chromium)."
        )
    try:
        from playwright.sync_api import sync_playwright
    except ImportError as exc:  # pragma: no cover - the browser extra is missing
        pytest.fail(f"playwright is not installed ({exc}): pip install -e '.[browser]'")
    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(
            executable_path=str(CHROMIUM), args=CHROMIUM_ARGS
        )
        try:
            yield chromium
        finally:
            chromium.close()


@dataclass
class PageLog:
    """Everything a page did wrong, collected from Playwright's events."""

    console_errors: list[str] = field(default_factory=list)
    page_errors: list[str] = field(default_factory=list)
    failed_requests: list[str] = field(default_factory=list)
    off_host: list[str] = field(default_factory=list)

    def attach(self, page: Any) -> None:
        page.on("console", self._console)
        page.on("pageerror", lambda exc: self.page_errors.append(f"{page.url}: {exc}"))
        page.on("request", self._request)
        page.on(
            "requestfailed",
            lambda r: self.failed_requests.append(f"{r.url}: {r.failure}"),
        )
        page.on("response", self._response)

    def _console(self, msg: Any) -> None:
        if msg.type == "error":
            self.console_errors.append(f"{msg.location.get('url', '')}: {msg.text}")

    def _request(self, request: Any) -> None:
        parts = urllib.parse.urlsplit(request.url)
        if parts.scheme not in LOCAL_SCHEMES and parts.hostname != HOST:
            self.off_host.append(request.url)

    def _response(self, response: Any) -> None:
        if response.status >= 400:
            self.failed_requests.append(f"{response.url}: HTTP {response.status}")

    def problems(self) -> list[str]:
        return (
            [f"console error: {m}" for m in self.console_errors]
            + [f"page error: {m}" for m in self.page_errors]
            + [f"failed request: {m}" for m in self.failed_requests]
            + [f"request off {HOST}: {m}" for m in self.off_host]
        )

    def take(self) -> list[str]:
        """Return the problems recorded so far and forget them."""
        problems = self.problems()
        for found in (self.console_errors, self.page_errors, self.failed_requests,
                      self.off_host):
            found.clear()
        return problems

    def assert_clean(self) -> None:
        problems = self.problems()
        assert not problems, "\n".join(problems)


OpenPage = Callable[..., tuple[Any, PageLog]]


@pytest.fixture
def open_page(browser: Any, site_url: str) -> Iterator[OpenPage]:
    """Return ``open(path, width=, height=, color_scheme=, clipboard=, **options)``.

    It opens ``path`` (relative to the site root; None opens nothing) in a
    fresh context (``options`` go to ``browser.new_context``) and returns the
    page and its :class:`PageLog`. Contexts close at teardown.
    """
    contexts: list[Any] = []

    def open_(
        path: str = "", *, width: int = 1280, height: int = 900,
        color_scheme: str = "light", clipboard: bool = False,
        wait_until: str = "load", **options: Any,
    ) -> tuple[Any, PageLog]:
        context = browser.new_context(
            viewport={"width": width, "height": height},
            color_scheme=color_scheme, base_url=site_url, **options,
        )
        contexts.append(context)
        if clipboard:
            context.grant_permissions(
                ["clipboard-read", "clipboard-write"], origin=site_url.rstrip("/")
            )
        page = context.new_page()
        log = PageLog()
        log.attach(page)
        if path is not None:
            page.goto(urllib.parse.urljoin(site_url, path), wait_until=wait_until)
        return page, log

    yield open_
    for context in contexts:
        context.close()


@pytest.fixture(scope="session")
def site_pages(site_dir: Path) -> list[str]:
    """Paths (relative URLs) of every HTML page of the built site."""
    pages = []
    for html in sorted(site_dir.rglob("*.html")):
        rel = html.relative_to(site_dir).as_posix()
        pages.append(rel.removesuffix("index.html"))
    assert "" in pages, pages
    assert "explorer/" in pages, pages
    return pages


@pytest.fixture(scope="session")
def explorer_cases(artifacts: Path) -> list[dict[str, Any]]:
    """The explorer's case table, generated from the package in this run."""
    cases = make_explorer_cases()
    (artifacts / "explorer-cases.json").write_text(json.dumps(cases, indent=1))
    return cases
