"""The product speaks a reader's language: no word of our own for cs231n's code.

cs231n's function is "cs231n's ``conv_forward_strides``" or "cs231n's strided
layer" on every page, in every docstring, in the README and in the benchmarks
and their saved results (which the speed page shows).
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
PRODUCT = ["README.md", "mkdocs.yml", "docs", "src", "benchmarks", "hooks"]
SUFFIXES = {".md", ".py", ".yml", ".json", ".js", ".css", ".html", ".toml", ".txt"}
#: Words readers do not know for cs231n's code (case-insensitive).
BANNED = re.compile(r"seed", re.IGNORECASE)


def product_files() -> list[Path]:
    files = []
    for name in PRODUCT:
        path = ROOT / name
        found = [path] if path.is_file() else sorted(path.rglob("*"))
        files += [p for p in found if p.is_file() and p.suffix in SUFFIXES
                  and "vendor" not in p.parts and "__pycache__" not in p.parts]
    return files


def test_the_product_has_files_to_check() -> None:
    names = {p.relative_to(ROOT).as_posix() for p in product_files()}
    assert {"README.md", "docs/index.md", "src/im2col/_view.py",
            "benchmarks/results/results.json"} <= names


@pytest.mark.parametrize("path", product_files(), ids=lambda p: p.relative_to(ROOT).as_posix())
def test_no_word_of_our_own_for_cs231n_code(path: Path) -> None:
    lines = path.read_text(encoding="utf-8").splitlines()
    hits = [f"{path.relative_to(ROOT)}:{k}: {line.strip()}"
            for k, line in enumerate(lines, 1) if BANNED.search(line)]
    assert not hits, "say cs231n's code or cs231n's strided layer:\n" + "\n".join(hits)
