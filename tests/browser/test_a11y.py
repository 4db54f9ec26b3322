"""Readable by everyone: axe-core finds no WCAG 2 A/AA violation on any page.

axe-core (pinned in tests/browser/package.json, installed by ``make axe`` into
tests/browser/node_modules, never loaded by the site itself) is injected into
every built page, once with the light scheme and once with the dark one
(Playwright's ``color_scheme`` emulates ``prefers-color-scheme``, which
Material's palette follows). Folded blocks are opened and every content tab is
shown first, so that the code a reader unfolds is checked too; the search box
is checked with its results open.

On failure the test prints each violation: page, rule, selector and, for
contrast, the colours and ratios axe measured. The full results are written to
test-artifacts/axe-<scheme>.json.
"""

from __future__ import annotations

import json
import urllib.parse
from pathlib import Path
from typing import Any

import pytest

from tests.browser.conftest import ARTIFACTS, PageLog
from tests.browser.test_search import search

pytestmark = pytest.mark.browser

AXE = Path(__file__).resolve().parent / "node_modules" / "axe-core" / "axe.min.js"
#: WCAG 2.0 and 2.1, levels A and AA.
TAGS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]
#: A query whose results hold marked words in headings, text and code.
SEARCHED = "stride"

#: Open every <details> and show every content tab, as a reader unfolds them.
UNFOLD = """() => {
    document.querySelectorAll("details").forEach(d => { d.open = true; });
    const style = document.createElement("style");
    style.textContent = ".tabbed-set > .tabbed-content > .tabbed-block "
        + "{ display: block !important; }";
    document.head.appendChild(style);
    window.dispatchEvent(new Event("resize"));  // what was hidden is laid out now
}"""

RUN_AXE = """async (tags) => {
    const results = await axe.run(document, {
        runOnly: {type: "tag", values: tags}, resultTypes: ["violations"]});
    return results.violations.map(v => ({
        rule: v.id, impact: v.impact, help: v.help,
        nodes: v.nodes.map(n => ({
            target: n.target.join(" "),
            html: n.html.slice(0, 160),
            data: [...n.any, ...n.all, ...n.none].map(c => c.data).filter(d => d),
        })),
    }));
}"""


@pytest.fixture(scope="session")
def axe_source() -> str:
    if not AXE.exists():
        pytest.fail(
            f"{AXE} not found: the accessibility tests need axe-core from npm. "
            "Install it with `make axe` (npm ci in tests/browser)."
        )
    return AXE.read_text(encoding="utf-8")


def describe(node: dict[str, Any]) -> str:
    """The selector and, for contrast, what axe measured."""
    extra = []
    for data in node["data"]:
        if isinstance(data, dict) and "contrastRatio" in data:
            extra.append(
                f"{data.get('fgColor')} on {data.get('bgColor')}: "
                f"{data['contrastRatio']}:1, needs {data.get('expectedContrastRatio')}"
            )
    return node["target"] + (f" ({'; '.join(extra)})" if extra else "")


def audit(browser: Any, site_url: str, pages: list[str], scheme: str,
          axe_source: str) -> tuple[list[dict[str, Any]], list[str]]:
    """Run axe on every page in one scheme; return the violations and page problems."""
    context = browser.new_context(viewport={"width": 1280, "height": 900},
                                  color_scheme=scheme, base_url=site_url)
    page = context.new_page()
    log = PageLog()
    log.attach(page)
    found = []
    try:
        for path in pages:
            page.goto(urllib.parse.urljoin(site_url, path), wait_until="networkidle")
            actual = page.evaluate(
                "document.body.getAttribute('data-md-color-scheme')")
            expected = "slate" if scheme == "dark" else "default"
            assert actual == expected, f"{path}: {scheme} emulated, page shows {actual}"
            page.evaluate(UNFOLD)
            page.wait_for_timeout(400)  # focusable-scroll.js looks again after 200 ms
            page.evaluate(axe_source)
            for violation in page.evaluate(RUN_AXE, TAGS):
                found.append({"page": path or "/", **violation})
        page.goto(site_url, wait_until="networkidle")
        search(page, SEARCHED)
        page.evaluate(axe_source)
        for violation in page.evaluate(RUN_AXE, TAGS):
            found.append({"page": f"/ (search results for {SEARCHED!r})", **violation})
    finally:
        context.close()
    return found, log.take()


@pytest.mark.parametrize("scheme", ["light", "dark"])
def test_no_wcag_violation(browser: Any, site_url: str, site_pages: list[str],
                           axe_source: str, scheme: str) -> None:
    """axe-core's WCAG 2.0/2.1 A and AA rules pass on every page."""
    violations, problems = audit(browser, site_url, site_pages, scheme, axe_source)
    ARTIFACTS.mkdir(exist_ok=True)
    (ARTIFACTS / f"axe-{scheme}.json").write_text(json.dumps(violations, indent=1))
    assert not problems, "\n".join(problems)
    lines = [
        f"{v['page']}: {v['rule']} ({v['impact']}, {v['help']}): {describe(node)}"
        for v in violations for node in v["nodes"]
    ]
    assert not lines, (
        f"{len(lines)} WCAG violations in the {scheme} scheme over "
        f"{len({v['page'] for v in violations})} pages:\n" + "\n".join(lines)
    )
