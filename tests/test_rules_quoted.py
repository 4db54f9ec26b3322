"""The phrases below, where a page or a docstring states a threshold of the
planner in words, hold the number of :mod:`im2col._rules` (or of the
strategies' ``_base``): a rule that changes fails here until the text
follows it. A new phrase of that kind belongs in ``QUOTES``."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from im2col import _rules
from im2col._strategies import _base

ROOT = Path(__file__).resolve().parents[1]

#: file: the phrases it states, with each threshold in braces
QUOTES = {
    "docs/backward.md": ["at least {FULL_PIXELS} output pixels per image"],
    "docs/strip.md": [
        "images of at least {SMALL_IMAGE} output pixels whose kernel is at least"
        " {ROWS_KERNEL} rows tall",
        "at most {ROWS_FILTERS} filters per group",
    ],
    "src/im2col/_conv.py": [
        "at least {WINOGRAD_CHANNELS} channels and filters per group and"
        " {WINOGRAD_PIXELS} output pixels per image",
        "a kernel at least {ROWS_KERNEL} rows tall with at most {ROWS_FILTERS} filters"
        " per group",
        "at least {WINDOW_ROWS_DEPTH} channels per group times kernel columns",
    ],
    "docs/notebooks/speed.py": [
        "products of at least {BLOCKED_DEPTH} rows and {BLOCKED_PIXELS} pixels",
        "a float32 product of at most {small_gemm_side}^3 multiply-adds",
        "a kernel at least {ROWS_KERNEL} rows tall (taller than the stride) and at"
        " most {ROWS_FILTERS} filters per group",
        "(`C/groups*kw` at least {WINDOW_ROWS_DEPTH})",
        "picked for products at least {WINDOW_ROWS_DEPTH} deep",
    ],
    "src/im2col/_conv_backward.py": [
        "at least {FULL_PIXELS} output pixels per image",
        "at least {WINDOW_ROWS_DEPTH} channels per group",
    ],
}


def _words(path: str) -> str:
    """The file's text with comment marks and line breaks turned into single spaces."""
    text = (ROOT / path).read_text()
    return re.sub(r"\s+", " ", re.sub(r"^\s*#\s?", "", text, flags=re.MULTILINE))


@pytest.mark.parametrize(("path", "phrase"), [(p, q) for p, qs in QUOTES.items() for q in qs])
def test_the_text_states_the_rule(path: str, phrase: str) -> None:
    values = {name: getattr(module, name) for module in (_rules, _base)
              for name in dir(module) if name.isupper()}
    values["small_gemm_side"] = round(_base.SMALL_GEMM ** (1 / 3))
    assert values["small_gemm_side"] ** 3 == _base.SMALL_GEMM
    assert phrase.format(**values) in _words(path)
