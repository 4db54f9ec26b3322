"""The site builds strictly, and the API reference covers the whole public API."""

from __future__ import annotations

import inspect
import re
from pathlib import Path

import griffe
import pytest

import im2col
import im2col.cs231n
from tests.docs_render import nav_pages

ROOT = Path(__file__).resolve().parent.parent
API_PAGE = ROOT / "docs" / "api.md"
DIRECTIVE = re.compile(r"^:::[ \t]+([\w.]+)[ \t]*$", re.MULTILINE)


def public_names() -> set[str]:
    """Dotted names the API reference must document."""
    return {f"im2col.{name}" for name in im2col.__all__} | {"im2col.cs231n"}


def documented_names() -> set[str]:
    """Dotted names of the ``::: name`` mkdocstrings directives of docs/api.md."""
    return set(DIRECTIVE.findall(API_PAGE.read_text(encoding="utf-8")))


# -- (a) the strict build ----------------------------------------------------


def test_strict_build_produces_the_pages(built_site: Path) -> None:
    expected = [
        "index.html",
        "api/index.html",
        "testing-docs/index.html",
        "notebooks/diagrams/index.html",
        "notebooks/memory/index.html",
        "notebooks/speed/index.html",
        "notebooks/winograd/index.html",
        "search/search_index.json",
    ]
    missing = [name for name in expected if not (built_site / name).is_file()]
    assert not missing, f"missing from the built site: {missing}"


def test_api_page_renders_every_object(built_site: Path) -> None:
    html = (built_site / "api" / "index.html").read_text(encoding="utf-8")
    missing = sorted(name for name in public_names() if f'id="{name}"' not in html)
    assert not missing, f"mkdocstrings rendered no heading for {missing}"


IMG = re.compile(r"<img\b[^>]*>")
ALT = re.compile(r'\balt="([^"]*)"')


def test_every_figure_has_a_description(built_site: Path) -> None:
    """Each notebook figure is an SVG image with alt text of its own, never
    nbconvert's placeholder ("No description has been provided ...")."""
    pages = sorted((built_site / "notebooks").glob("*/index.html"))
    assert pages
    for page in pages:
        html = page.read_text(encoding="utf-8")
        images = IMG.findall(html)
        assert images, f"{page}: no figure"
        for img in images:
            alt = ALT.search(img)
            assert alt, f"{page}: no alt: {img[:120]}"
            assert len(alt.group(1)) >= 40, f"{page}: alt too short: {img[:120]}"
            assert "No description" not in alt.group(1), page
            assert 'src="data:image/svg+xml;base64,' in img, f"{page}: not SVG: {img[:120]}"


def test_testing_page_includes_the_conftest(built_site: Path) -> None:
    html = (built_site / "testing-docs" / "index.html").read_text(encoding="utf-8")
    assert "pytest_collect_file" in html, "the --8<-- include of conftest.py is missing"


NOTEBOOKS = sorted((ROOT / "docs" / "notebooks").glob("*.py"))


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_a_notebook_page_opens_with_its_question(path: Path) -> None:
    """As every page does: its H1 is the question it answers, the nav names
    it so, and a short answer comes first."""
    first = path.read_text(encoding="utf-8").split("# %% [markdown]\n", 1)[1]
    lines = [line.removeprefix("#").removeprefix(" ")
             for line in first.split("\n# %%", 1)[0].splitlines()]
    title = lines[0].removeprefix("# ")
    assert lines[0].startswith("# "), f"{path.name}: no title first: {lines[0]!r}"
    assert title.endswith("?"), f"{path.name}: the title is not a question: {title!r}"
    opening = "\n".join(lines[1:3])
    assert opening.startswith("\n**Short answer.**"), (
        f"{path.name}: no **Short answer.** under the title: {opening!r}")
    nav = nav_pages()
    assert nav.get(f"notebooks/{path.name}") == title, (
        f"{path.name}: the nav names it {nav.get(f'notebooks/{path.name}')!r}, not {title!r}")


# -- (b) the API reference -------------------------------------------------------


def test_api_page_documents_all_public_names() -> None:
    documented, public = documented_names(), public_names()
    assert not public - documented, f"not in docs/api.md: {sorted(public - documented)}"
    assert not documented - public, f"in docs/api.md but not public: {sorted(documented - public)}"


def _public_objects() -> list[tuple[str, object]]:
    objects: list[tuple[str, object]] = [
        (f"im2col.{name}", getattr(im2col, name)) for name in im2col.__all__
    ]
    cs231n_names = getattr(im2col.cs231n, "__all__", None) or [
        name
        for name, value in vars(im2col.cs231n).items()
        if not name.startswith("_")
        and inspect.isfunction(value)
        and value.__module__ == im2col.cs231n.__name__
    ]
    objects += [(f"im2col.cs231n.{n}", getattr(im2col.cs231n, n)) for n in cs231n_names]
    return objects


@pytest.fixture(scope="module")
def griffe_package() -> griffe.Module:
    """The package as mkdocstrings sees it (griffe, numpy docstring style)."""
    return griffe.load("im2col", search_paths=[str(ROOT / "src")], docstring_parser="numpy")


@pytest.mark.parametrize(
    ("name", "obj"), _public_objects(), ids=[name for name, _ in _public_objects()]
)
def test_numpydoc_docstring_with_examples(
    griffe_package: griffe.Module, name: str, obj: object
) -> None:
    member = griffe_package[name.removeprefix("im2col.")]
    assert member.docstring is not None, f"{name} has no docstring"
    sections = member.docstring.parse("numpy")
    kinds = [section.kind.value for section in sections]
    assert kinds, f"{name}: empty docstring"
    assert kinds[0] == "text", f"{name}: the docstring must open with a summary"
    examples = "\n".join(str(s.value) for s in sections if s.kind.value == "examples")
    assert examples, f"{name}: no numpydoc 'Examples' section (found {kinds})"
    takes_arguments = callable(obj) and not inspect.isclass(obj) and bool(
        inspect.signature(obj).parameters  # type: ignore[arg-type]
    )
    if takes_arguments:
        assert "parameters" in kinds, f"{name}: no numpydoc 'Parameters' section"
        assert "Traceback (most recent call last):" in examples, (
            f"{name}: the Examples section shows no failure case (a call that "
            "raises, with its Traceback)"
        )


def test_module_docstring_of_cs231n_has_examples(griffe_package: griffe.Module) -> None:
    module = griffe_package["cs231n"]
    assert module.docstring is not None
    kinds = [s.kind.value for s in module.docstring.parse("numpy")]
    assert "examples" in kinds
