"""The one-line edit of ``cs231n/fast_layers.py`` as students make it: on a
file without a final newline, and in a notebook kernel running
``%autoreload 2`` (what the cs231n page tells them about both)."""

from __future__ import annotations

import importlib
import sys
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest

from im2col import conv2d

LINE = "from im2col.cs231n import *"
# the assignment's shape of fast_layers.py, its last line without a newline
ORIGINAL = (
    "def conv_forward_strides(x, w, b, conv_param):\n"
    "    raise NameError(\"name 'col2im_6d_cython' is not defined\")\n"
    "conv_forward_fast = conv_forward_strides"
)
LAYER_UTILS = (
    "from .fast_layers import *\n"
    "def conv_relu_forward(x, w, b, conv_param):\n"
    "    a, conv_cache = conv_forward_fast(x, w, b, conv_param)\n"
    "    return a.clip(min=0), conv_cache\n"
)


@pytest.fixture
def assignment(tmp_path: Path) -> Iterator[Path]:
    """A stand-in assignment root on ``sys.path``, removed afterwards."""
    pkg = tmp_path / "cs231n"
    pkg.mkdir()
    (pkg / "__init__.py").write_text("")
    (pkg / "fast_layers.py").write_text(ORIGINAL)
    (pkg / "layer_utils.py").write_text(LAYER_UTILS)
    sys.path.insert(0, str(tmp_path))
    yield pkg
    sys.path.remove(str(tmp_path))
    for name in [m for m in sys.modules if m == "cs231n" or m.startswith("cs231n.")]:
        del sys.modules[name]


def test_echo_joins_the_line_to_a_last_line_without_newline(assignment: Path) -> None:
    """``echo LINE >> fast_layers.py`` appends no newline before the line;
    ``printf '\\nLINE\\n' >>`` does."""
    source = (assignment / "fast_layers.py").read_text()
    with pytest.raises(SyntaxError):
        compile(source + LINE + "\n", "fast_layers.py", "exec")        # echo
    compile(source + "\n" + LINE + "\n", "fast_layers.py", "exec")     # printf


def test_autoreload_without_a_restart_fails_and_a_restart_works(assignment: Path) -> None:
    """IPython's autoreload patches the functions layer_utils already holds
    with this package's code but keeps fast_layers' names: a NameError. A
    fresh import (a restarted kernel) gets the replacements."""
    autoreload = pytest.importorskip("IPython.extensions.autoreload")
    layer_utils = importlib.import_module("cs231n.layer_utils")
    rng = np.random.default_rng(0)
    x, w, b = rng.normal(size=(2, 3, 6, 6)), rng.normal(size=(4, 3, 3, 3)), np.zeros(4)
    conv_param = {"stride": 1, "pad": 1}
    with pytest.raises(NameError, match="col2im_6d_cython"):   # before the edit
        layer_utils.conv_relu_forward(x, w, b, conv_param)
    path = assignment / "fast_layers.py"
    path.write_text(path.read_text() + "\n" + LINE + "\n")
    autoreload.superreload(sys.modules["cs231n.fast_layers"])   # what %autoreload 2 does
    with pytest.raises(NameError, match="name 'forward' is not defined"):
        layer_utils.conv_relu_forward(x, w, b, conv_param)
    for name in ("cs231n.layer_utils", "cs231n.fast_layers", "cs231n"):
        del sys.modules[name]                                   # the restart
    layer_utils = importlib.import_module("cs231n.layer_utils")
    out, _ = layer_utils.conv_relu_forward(x, w, b, conv_param)
    np.testing.assert_allclose(out, conv2d(x, w, b, padding=1).clip(min=0))
