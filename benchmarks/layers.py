"""The layers ``benchmarks.ideas`` and ``benchmarks.backward`` time, and their arrays.

S1 to S5 are the harness's shapes (``benchmarks.methods.SHAPES``); the
others are a first layer of ImageNet size, a 5x5, a 1x1, a 4-group and a
dilated layer.
"""

from __future__ import annotations

from typing import TypedDict

import numpy as np

F32 = np.float32

#: name: (x shape, w shape, stride, padding, groups, dilation)
LAYERS: dict[str, tuple[tuple[int, ...], tuple[int, ...], int, int, int, int]] = {
    "S1": ((50, 3, 32, 32), (32, 3, 7, 7), 1, 3, 1, 1),
    "S2": ((100, 3, 31, 31), (25, 3, 3, 3), 2, 1, 1, 1),
    "S3": ((32, 64, 56, 56), (64, 64, 3, 3), 1, 1, 1, 1),
    "S4": ((32, 256, 14, 14), (256, 256, 3, 3), 1, 1, 1, 1),
    "S5": ((16, 64, 112, 112), (128, 64, 3, 3), 2, 1, 1, 1),
    "stem 7x7/2": ((16, 3, 224, 224), (64, 3, 7, 7), 2, 3, 1, 1),
    "5x5": ((32, 32, 28, 28), (64, 32, 5, 5), 1, 2, 1, 1),
    "1x1": ((32, 256, 28, 28), (128, 256, 1, 1), 1, 0, 1, 1),
    "4 groups": ((32, 128, 28, 28), (128, 32, 3, 3), 1, 1, 4, 1),
    "dilation 2": ((32, 64, 28, 28), (64, 64, 3, 3), 1, 2, 1, 2),
}


class Options(TypedDict):
    """``conv2d``'s keyword arguments that set a layer's geometry."""

    stride: int
    padding: int
    groups: int
    dilation: int


def options(name: str) -> Options:
    """``conv2d``'s keyword arguments for layer ``name``: stride, padding, groups, dilation."""
    _, _, s, p, g, d = LAYERS[name]
    return {"stride": s, "padding": p, "groups": g, "dilation": d}


def arrays(name: str, key: int = 0) -> tuple[np.ndarray, ...]:
    """Standard normal float32 ``x``, ``w`` and ``b`` of layer ``name``."""
    xs, ws, _, _, _, _ = LAYERS[name]
    rng = np.random.default_rng(key)
    return (rng.standard_normal(xs, dtype=F32), rng.standard_normal(ws, dtype=F32),
            rng.standard_normal(ws[0], dtype=F32))
