"""The built site in Chromium: clean page loads, copy buttons, math, plots.

One walk visits every page once (the ``site_walk`` fixture) and records what
the tests below check, so the whole site costs one page load per page.
"""

from __future__ import annotations

import doctest
import re
import subprocess
import sys
import urllib.parse
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from tests.browser.conftest import ARTIFACTS, ROOT, PageLog

pytestmark = pytest.mark.browser

#: A doctest prompt at the start of a line.
PROMPT = re.compile(r"^\s*(?:>>>|\.\.\.)(?: |$)")
#: Text that shows a notebook printed a figure instead of drawing it.
FIGURE_REPR = re.compile(r"<(?:Figure|matplotlib\.[\w.]+) (?:size|object)")

#: Open the <details> and select the content tab that hold an element.
REVEAL = """(node) => {
    for (; node; node = node.parentElement) {
        if (node.tagName === "DETAILS") node.open = true;
        if (node.classList.contains("tabbed-block")) {
            const k = [...node.parentElement.children].indexOf(node);
            const input = node.closest(".tabbed-set").querySelectorAll(":scope > input")[k];
            if (input && !input.checked) input.click();
        }
    }
}"""

#: What each block's copy button puts on the clipboard, clicked from the page's
#: own script: Material's clipboard handler runs as for a reader's click, 20
#: times faster than one Playwright click per block. (The explorer page's
#: test below clicks with Playwright, as a reader does.)
COPY_ALL = """async () => {
    const reveal = REVEAL;
    const out = [];
    for (const block of document.querySelectorAll("article div.highlight")) {
        const button = block.querySelector("button.md-code__button[data-md-type=copy]");
        if (!button) continue;
        reveal(block);
        await navigator.clipboard.writeText("(nothing copied)");
        button.click();
        out.push({language: block.className, text: block.querySelector("pre > code").textContent,
                  clipboard: await navigator.clipboard.readText()});
    }
    return out;
}""".replace("REVEAL", REVEAL)

#: Math, headings, explorer and images of the page, once fonts have loaded.
INSPECT = """async () => {
    await document.fonts.ready;
    const spans = document.querySelectorAll(".arithmatex");
    return {
        h1: document.querySelectorAll("article h1").length,
        explorers: document.querySelectorAll(".sx-form").length,
        math: spans.length,
        math_rendered: [...spans].filter(s => s.querySelector(".katex")).length,
        math_errors: document.querySelectorAll(".katex-error").length,
        katex_fonts: [...document.fonts].filter(
            f => f.family.includes("KaTeX") && f.status === "loaded").length,
        images: [...document.querySelectorAll("article img")].map(img => ({
            src: img.currentSrc.slice(0, 40), complete: img.complete,
            width: img.naturalWidth})),
        text: document.querySelector("article").innerText,
    };
}"""


@dataclass
class Visit:
    """What one page showed and did."""

    path: str
    problems: list[str]
    facts: dict[str, Any]
    copies: list[dict[str, str]] = field(default_factory=list)


@pytest.fixture(scope="module")
def site_walk(browser: Any, site_url: str, site_pages: list[str]) -> Iterator[dict[str, Visit]]:
    """Visit every page once: load it, inspect it, click its copy buttons."""
    context = browser.new_context(viewport={"width": 1280, "height": 900}, base_url=site_url)
    context.grant_permissions(["clipboard-read", "clipboard-write"],
                              origin=site_url.rstrip("/"))
    page = context.new_page()
    log = PageLog()
    log.attach(page)
    visits = {}
    try:
        for path in site_pages:
            page.goto(urllib.parse.urljoin(site_url, path), wait_until="networkidle")
            facts = page.evaluate(INSPECT)
            copies = page.evaluate(COPY_ALL)
            visits[path] = Visit(path, log.take(), facts, copies)
        yield visits
    finally:
        context.close()


def session_source(text: str) -> str:
    """The code of a ``>>>`` session as Python's doctest module reads it."""
    examples = doctest.DocTestParser().get_examples(text)
    return "".join(example.source for example in examples)


def normalise(code: str) -> list[str]:
    """Lines without trailing spaces, blank lines dropped."""
    return [line.rstrip() for line in code.splitlines() if line.strip()]


def is_session(block: dict[str, str]) -> bool:
    return "language-pycon" in block["language"] or block["text"].lstrip().startswith(">>>")


def test_every_page_loads_without_errors(site_walk: dict[str, Visit]) -> None:
    """No console error, page error, failed request or request off 127.0.0.1."""
    problems = [f"{v.path or '/'}: {p}" for v in site_walk.values() for p in v.problems]
    assert not problems, "\n".join(problems)
    without_h1 = [v.path for v in site_walk.values()
                  if v.path != "404.html" and v.facts["h1"] != 1]
    assert not without_h1, f"pages without exactly one <h1>: {without_h1}"


def test_explorer_only_on_its_page(site_walk: dict[str, Visit]) -> None:
    """explorer.js fills its container and leaves every other page alone."""
    counts = {path: v.facts["explorers"] for path, v in site_walk.items()}
    assert counts.pop("explorer/") == 1
    assert not any(counts.values()), counts


def test_copy_buttons_copy_runnable_code(site_walk: dict[str, Visit]) -> None:
    """Sessions copy the code doctest runs (no prompts, no output); others copy as is."""
    sessions, wrong = 0, []
    for visit in site_walk.values():
        for block in visit.copies:
            if not is_session(block):
                if block["clipboard"] != block["text"].rstrip():
                    wrong.append((visit.path, "plain block changed", block))
                continue
            sessions += 1
            clip = block["clipboard"]
            if any(PROMPT.match(line) for line in clip.splitlines()) or (
                normalise(clip) != normalise(session_source(block["text"]))
            ):
                wrong.append((visit.path, "session", block))
    assert sessions, "no >>> block found on the site"
    assert not wrong, "\n\n".join(map(repr, wrong))


def test_copy_button_click_on_the_explorer_page(open_page: Any) -> None:
    """Real clicks on the explorer page's blocks; the copied code runs in order.

    Its first block is plain Python, the others ``pycon`` sessions: pasted
    one after the other into a fresh interpreter, they run.
    """
    page, log = open_page("explorer/", clipboard=True)
    # the page's own blocks, not the install note's bash line
    blocks = page.locator(
        "article div.highlight:not(.run-note div.highlight):has(button[data-md-type=copy])")
    copied = []
    for k in range(blocks.count()):
        block = blocks.nth(k)
        page.evaluate("navigator.clipboard.writeText('(nothing copied)')")
        block.locator("button.md-code__button[data-md-type=copy]").click()
        copied.append({
            "language": block.get_attribute("class") or "",
            "text": block.locator("pre > code").text_content() or "",
            "clipboard": page.evaluate("navigator.clipboard.readText()"),
        })
    kinds = ["language-pycon" in b["language"] for b in copied]
    assert len(kinds) > 2, copied
    assert not kinds[0], "the first block of the page is plain python"
    assert all(kinds[1:]), "the other blocks are pycon sessions"
    assert copied[0]["clipboard"] == copied[0]["text"].rstrip()
    for block in copied[1:]:
        assert normalise(block["clipboard"]) == normalise(session_source(block["text"])), block
    script = "\n".join(b["clipboard"] for b in copied) + "\n"
    ARTIFACTS.mkdir(exist_ok=True)
    (ARTIFACTS / "explorer-copied.py").write_text(script)
    proc = subprocess.run([sys.executable, "-c", script], cwd=ROOT, capture_output=True,
                          text=True, timeout=60)
    assert proc.returncode == 0, f"the copied code does not run:\n{proc.stderr}"
    log.assert_clean()


def test_math_renders(site_walk: dict[str, Visit]) -> None:
    """Every arithmatex span becomes KaTeX, with no error and KaTeX's fonts."""
    with_math = {path: v.facts for path, v in site_walk.items() if v.facts["math"]}
    assert "explorer/" in with_math, sorted(site_walk)
    for path, facts in with_math.items():
        assert facts["math_rendered"] == facts["math"], (path, facts)
        assert facts["math_errors"] == 0, (path, facts)
        assert facts["katex_fonts"] > 0, (path, facts)


def test_notebook_plots_are_images(site_walk: dict[str, Visit]) -> None:
    """Each notebook that plots shows its figures as loaded <img> elements."""
    notebooks = sorted((ROOT / "docs" / "notebooks").glob("*.py"))
    assert notebooks, "no notebook in docs/notebooks"
    for notebook in notebooks:
        path = f"notebooks/{notebook.stem}/"
        assert path in site_walk, f"{notebook.name} was not built as {path}"
        facts = site_walk[path].facts
        if "plt." in notebook.read_text(encoding="utf-8"):
            assert facts["images"], f"{path}: the notebook plots but the page has no <img>"
        broken = [img for img in facts["images"] if not img["complete"] or img["width"] == 0]
        assert not broken, (path, broken)
        assert not FIGURE_REPR.search(facts["text"]), (
            f"{path} prints a figure object instead of drawing it")


def test_walk_saw_every_page(site_walk: dict[str, Visit], site_dir: Path) -> None:
    """The walk covered each page of the sitemap."""
    sitemap = (site_dir / "sitemap.xml").read_text(encoding="utf-8")
    locs = re.findall(r"<loc>([^<]+)</loc>", sitemap)
    assert locs
    paths = {urllib.parse.urlsplit(loc).path.lstrip("/") for loc in locs}
    assert paths <= set(site_walk), sorted(paths - set(site_walk))
